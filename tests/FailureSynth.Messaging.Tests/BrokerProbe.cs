using System.Diagnostics;
using RabbitMQ.Client;

namespace FailureSynth.Messaging.Tests;

/// <summary>A plain AMQP client for looking into queues and publishing by hand, as an operator or a buggy producer would.</summary>
public sealed class BrokerProbe : IAsyncDisposable
{
    private readonly IConnection _connection;
    private readonly IChannel _channel;

    private BrokerProbe(IConnection connection, IChannel channel)
    {
        _connection = connection;
        _channel = channel;
    }

    public static async Task<BrokerProbe> ConnectAsync(string connectionString)
    {
        var factory = new ConnectionFactory { Uri = new Uri(connectionString), AutomaticRecoveryEnabled = false };
        IConnection connection = await factory.CreateConnectionAsync();
        IChannel channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        return new BrokerProbe(connection, channel);
    }

    public IChannel Channel => _channel;

    public static async Task<bool> CanConnectAsync(string connectionString)
    {
        try
        {
            await using BrokerProbe probe = await ConnectAsync(connectionString);
            return true;
        }
        catch (RabbitMQ.Client.Exceptions.BrokerUnreachableException)
        {
            return false;
        }
    }

    public async Task PublishRawAsync(string exchange, string routingKey, byte[] body, IDictionary<string, object?> headers, string messageId) =>
        await _channel.BasicPublishAsync(exchange, routingKey, mandatory: false,
            new BasicProperties { MessageId = messageId, ContentType = "application/json", DeliveryMode = DeliveryModes.Persistent, Headers = headers }, body);

    public async Task<uint> MessageCountAsync(string queue) => (await _channel.QueueDeclarePassiveAsync(queue)).MessageCount;

    /// <summary>Waits until the queue holds <paramref name="count"/> ready messages, then takes them all off it.</summary>
    public async Task<IReadOnlyList<BasicGetResult>> TakeAsync(string queue, int count, TimeSpan timeout)
    {
        await Eventually.HoldsAsync(async () => await MessageCountAsync(queue) >= count, timeout, $"{count} message(s) in {queue}");
        var taken = new List<BasicGetResult>();
        while (await _channel.BasicGetAsync(queue, autoAck: true) is { } message) taken.Add(message);
        return taken;
    }

    public async ValueTask DisposeAsync()
    {
        await _channel.CloseAsync();
        await _connection.CloseAsync();
        _channel.Dispose();
        _connection.Dispose();
    }
}

/// <summary>Polls a condition until it holds, failing the test with what was awaited.</summary>
public static class Eventually
{
    public static async Task HoldsAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var elapsed = Stopwatch.StartNew();
        while (!await condition())
        {
            if (elapsed.Elapsed > timeout) Assert.Fail($"Timed out after {timeout.TotalSeconds:0} s waiting for {what}.");
            await Task.Delay(25);
        }
    }

    public static Task HoldsAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        HoldsAsync(() => Task.FromResult(condition()), timeout, what);
}
