using System.Globalization;
using System.Text;
using RabbitMQ.Client;

namespace FailureSynth.AppHost;

/// <summary>
/// A fault injected on purpose while a campaign runs, to show the system absorbs it: <c>--fault STAGE=ACTION</c>,
/// STAGE being a stage name (iteration 1) or <c>K:stage</c>; the action runs once, as soon as the campaign is
/// seen in that stage or a later one (its status is polled four times a second, so a short stage may be seen
/// only after it ended). Actions: <c>kill:SERVICE</c> (SIGKILL of its first replica; the restart policy brings it back), <c>flush:cache</c> (Redis FLUSHALL),
/// <c>restart:messaging</c> (Aspire's restart command on the broker), <c>poison:SERVICE</c>
/// (a malformed message published by hand to an event type the service consumes).
/// </summary>
public sealed record Fault(int Iteration, string Stage, string Action, string Target)
{
    private static readonly string[] Stages = ["evaluate", "locate", "diagnose", "prescribe", "train", "measure"];

    // The event type each service consumes first: where a poison message is sent.
    private static readonly Dictionary<string, string> ConsumedEvent = new(StringComparer.Ordinal)
    {
        ["student"] = "EvaluationRequested",
        ["teacher"] = "FailureCollected",
        ["imagesynth"] = "SampleBatchProposed",
        ["qualityfilter"] = "SampleBatchRendered",
        ["trainer"] = "SampleBatchChecked",
    };

    public bool Done { get; set; }

    /// <summary>Whether the campaign, now at <paramref name="iteration"/> and <paramref name="stage"/>, has reached the fault's stage.</summary>
    public bool IsDue(int iteration, string stage)
    {
        // "base" comes before iteration 1; "pool" and "dataset" belong to no iteration's stages.
        if (stage == "dataset") return true;
        int index = Array.IndexOf(Stages, stage);
        if (index < 0) return iteration > Iteration;
        return iteration > Iteration || (iteration == Iteration && index >= Array.IndexOf(Stages, Stage));
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Action}:{Target} during iteration {Iteration} {Stage}");

    public static Fault Parse(string spec)
    {
        string[] sides = spec.Split('=', 2);
        if (sides.Length != 2) throw new ArgumentException($"--fault '{spec}' must be STAGE=ACTION, e.g. prescribe=kill:teacher.");
        string[] when = sides[0].Split(':');
        int iteration = 1;
        string stage = when[^1];
        if (when.Length == 2 && (!int.TryParse(when[0], NumberStyles.None, CultureInfo.InvariantCulture, out iteration) || iteration < 1))
            throw new ArgumentException($"--fault '{spec}': the iteration before ':' must be a whole number from 1.");
        if (when.Length > 2 || !Stages.Contains(stage)) throw new ArgumentException($"--fault '{spec}': the stage must be one of {string.Join(", ", Stages)} (optionally K:stage).");
        string[] action = sides[1].Split(':');
        bool valid = action.Length == 2 && action[0] switch
        {
            "kill" or "poison" => AppHostCommand.Services.Contains(action[1]),
            "flush" => action[1] == "cache",
            "restart" => action[1] == "messaging",
            _ => false,
        };
        if (!valid) throw new ArgumentException($"--fault '{spec}': the action must be kill:SERVICE, poison:SERVICE, flush:cache or restart:messaging (services: {string.Join(", ", AppHostCommand.Services)}).");
        return new Fault(iteration, stage, action[0], action[1]);
    }

    public async Task InjectAsync(DistributedApplication app, CancellationToken cancellationToken)
    {
        switch (Action)
        {
            case "kill":
                int pid = await app.ProcessIdAsync(Target, cancellationToken);
                Console.WriteLine($"[fault] kill -9 {Target} (pid {pid}); the AppHost's restart policy brings it back");
                System.Diagnostics.Process.GetProcessById(pid).Kill(entireProcessTree: false);
                break;
            case "flush":
                await using (var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(await app.ConnectionStringAsync("cache", cancellationToken) + ",allowAdmin=true"))
                {
                    foreach (var server in redis.GetServers()) await server.FlushAllDatabasesAsync();
                }
                Console.WriteLine("[fault] Redis FLUSHALL");
                break;
            case "restart":
                Console.WriteLine("[fault] restarting the broker with Aspire's restart command");
                await app.RestartResourceAsync(Target, cancellationToken);
                break;
            case "poison":
                string type = ConsumedEvent[Target];
                var factory = new ConnectionFactory { Uri = new Uri(await app.ConnectionStringAsync("messaging", cancellationToken)) };
                await using (var connection = await factory.CreateConnectionAsync(cancellationToken))
                await using (var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken))
                {
                    var properties = new BasicProperties
                    {
                        MessageId = "poison-" + Target,
                        Type = type,
                        ContentType = "application/json",
                        DeliveryMode = DeliveryModes.Persistent,
                        Headers = new Dictionary<string, object?> { ["event-type"] = type },
                    };
                    // Valid JSON, wrong content: an empty request id, a negative index, and no failure to work on.
                    byte[] body = Encoding.UTF8.GetBytes("{\"id\":\"poison-" + Target + "\",\"campaignId\":\"by-hand\",\"requestId\":\"\",\"index\":-1}");
                    await channel.BasicPublishAsync("failuresynth", type, mandatory: false, properties, body, cancellationToken);
                }
                Console.WriteLine($"[fault] published a malformed {type} by hand (consumed by {Target})");
                break;
        }
    }
}

/// <summary>After a run: messages left in the services' queues and in their dead-letter queues, with the reasons.</summary>
public static class QueueReport
{
    public static async Task<long> PrintAsync(DistributedApplication app, CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory { Uri = new Uri(await app.ConnectionStringAsync("messaging", cancellationToken)) };
        await using var connection = await factory.CreateConnectionAsync(cancellationToken);
        long dead = 0, left = 0;
        foreach (string service in AppHostCommand.Services)
        {
            left += await CountAsync(connection, $"failuresynth.{service}", cancellationToken);
            string deadQueue = $"failuresynth.{service}.dead";
            long n = await CountAsync(connection, deadQueue, cancellationToken);
            dead += n;
            if (n == 0) continue;
            await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
            for (int i = 0; i < Math.Min(n, 3); i++)
            {
                var message = await channel.BasicGetAsync(deadQueue, autoAck: false, cancellationToken);
                if (message is null) break;
                string reason = message.BasicProperties.Headers?.TryGetValue("x-failure-reason", out object? r) == true && r is byte[] b ? Encoding.UTF8.GetString(b) : "(no reason)";
                Console.WriteLine($"[queues] {deadQueue}: {message.BasicProperties.Type} {message.BasicProperties.MessageId}: {reason}");
            }
            // Leave them there (unacknowledged messages go back on close), for an SRE to look at.
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[queues] messages left in service queues: {left}; dead-lettered: {dead}"));
        return dead;
    }

    private static async Task<long> CountAsync(IConnection connection, string queue, CancellationToken cancellationToken)
    {
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue, cancellationToken)).MessageCount;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            return 0; // never declared: the service has no subscriptions of that kind
        }
    }
}
