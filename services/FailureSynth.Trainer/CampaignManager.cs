using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using FailureSynth.Backends;
using FailureSynth.Events;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Messaging;

namespace FailureSynth.Trainer;

[JsonConverter(typeof(JsonStringEnumConverter<CampaignState>))]
public enum CampaignState { Queued, Running, Completed, Failed, Cancelled }

/// <summary>Progress of one stage of one iteration ("iteration 1, evaluate: 512 of 1500").</summary>
public sealed record StageStatus(int Iteration, string Stage, long Done, long Total, string? Note);

/// <summary>What the API says about a campaign; also kept as <c>campaign-status.json</c> in its folder.</summary>
public sealed record CampaignStatus(
    string Id,
    string Name,
    CampaignState State,
    DateTimeOffset CreatedAt,
    DateTimeOffset? FinishedAt,
    StageStatus? Current,
    IReadOnlyList<StageStatus> Stages,
    string? Error,
    double? BaseTestAccuracy,
    double? FinalTestAccuracy,
    string? DatasetManifestSha256,
    int? DatasetSamples)
{
    [JsonIgnore]
    public bool Finished => State is CampaignState.Completed or CampaignState.Failed or CampaignState.Cancelled;
}

/// <summary>A campaign the API refused, with the reason for the client.</summary>
public sealed class CampaignRequestException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>
/// Starts, tracks and cancels campaigns. Each runs in its folder <c>{data root}/campaigns/{id}</c> through
/// <see cref="CampaignRunner"/> with the services as workers; one campaign trains at a time (the others wait,
/// queued). Status is written to the folder, so a restarted Trainer lists past campaigns and resumes the ones
/// that were running (finished stages are not redone).
/// </summary>
public sealed partial class CampaignManager(IEventBus bus, ReplyRouter router, DataRoot root, IConfiguration configuration, ILogger<CampaignManager> logger, ServiceBackends? backends = null)
{
    // Hosts that register none (tests of the API alone) get the configuration's, which is embedded unless it says otherwise.
    private ServiceBackends Backends { get; } = backends ?? ServiceBackends.From(configuration);

    public const string StatusFile = "campaign-status.json";
    public const string ConfigFile = "campaign.yaml";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private readonly ConcurrentDictionary<string, Entry> _campaigns = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _slot = new(1, 1);
    private readonly Lock _idGate = new();
    private long _counter;

    public string CampaignsRoot { get; } = root.Resolve("campaigns");

    /// <summary>
    /// The folder a campaign's relative paths (student.checkpoint, student.cache) resolve against and must stay inside:
    /// the data root, or the folder the operator names in FailureSynth:ConfigRoot.
    /// </summary>
    private string ConfigRoot => configuration["FailureSynth:ConfigRoot"] is { Length: > 0 } r ? Path.GetFullPath(r) : root.Path;

    private CampaignApiOptions Options => _options ??= CampaignApiOptions.From(configuration);
    private CampaignApiOptions? _options;

    private TimeSpan Stall => TimeSpan.FromSeconds(configuration.GetValue("FailureSynth:ReplyTimeoutSeconds", 600));

    /// <summary>Proposals per synthesis message (<see cref="BusWorkers.BatchSizeKey"/>); the dataset does not depend on it.</summary>
    private int BatchSize => SynthesisBench.BatchSizeFrom(configuration);

    public static bool IsValidId(string id) => IdText().IsMatch(id);

    public IReadOnlyList<CampaignStatus> List() => [.. _campaigns.Values.Select(e => e.Status).OrderBy(s => s.CreatedAt).ThenBy(s => s.Id, StringComparer.Ordinal)];

    public CampaignStatus? Get(string id) => _campaigns.TryGetValue(id, out var e) ? e.Status : null;

    public string Folder(string id) => Path.Combine(CampaignsRoot, id);

    /// <summary>Validates the YAML and starts the campaign; throws <see cref="CampaignRequestException"/> (400) on a bad config.</summary>
    public CampaignStatus Start(string yaml)
    {
        CampaignConfig config;
        try
        {
            config = CampaignConfig.Parse(yaml, "the request body", profileFiles: false);
        }
        catch (CampaignConfigException e)
        {
            throw new CampaignRequestException(400, e.Message);
        }
        // A caller is not this machine's user: no path outside the data root, no budget over the server's limits.
        // The services answer with the deployment's backends (Backends:Teacher, Backends:Student): a campaign asking for others is refused, not silently changed.
        var problems = CommandTrainerProblems(config).Concat(config.ConfinedPathProblems(ConfigRoot)).Concat(Options.Limits.Problems(config, " on this server")).Concat(Backends.Mismatches(config)).ToList();
        if (problems.Count > 0) throw new CampaignRequestException(400, "the request body: " + string.Join("; ", problems));
        int active = _campaigns.Values.Count(e => !e.Status.Finished);
        if (active >= Options.ActiveCampaigns)
            throw new CampaignRequestException(429, $"{active} campaigns are queued or running, the limit on this server is {Options.ActiveCampaigns}; retry when one finishes");
        string id;
        lock (_idGate)
        {
            string slug = SlugText().Replace(config.Name.ToLowerInvariant(), "-").Trim('-');
            if (slug.Length == 0) slug = "campaign";
            if (slug.Length > 40) slug = slug[..40];
            do
            {
                string stamp = DateTimeOffset.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
                string nonce = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{yaml}\n{stamp}\n{++_counter}\n{Environment.ProcessId}")))[..6];
                id = $"{slug}-{stamp}-{nonce}";
            }
            while (Directory.Exists(Folder(id)));
        }
        Directory.CreateDirectory(Folder(id));
        File.WriteAllText(Path.Combine(Folder(id), ConfigFile), yaml);
        var entry = new Entry(id, config, new CampaignStatus(id, config.Name, CampaignState.Queued, DateTimeOffset.UtcNow, null, null, [], null, null, null, null, null));
        _campaigns[id] = entry;
        Save(entry);
        Launch(entry);
        return entry.Status;
    }

    /// <summary>
    /// trainer.backend: command runs a program named in the config: a caller over HTTP is not this machine's user, so the
    /// campaign API never runs one (docs/trainer-command.md). The CLI runs it, on the user's own machine.
    /// </summary>
    public static IEnumerable<string> CommandTrainerProblems(CampaignConfig config)
    {
        if (config.Trainer is { IsCommand: true })
            yield return "trainer.backend 'command' is refused by the campaign API: the server does not run programs a request names. " +
                "Run this campaign with the CLI on your own machine (failuresynth campaign run --config <file> --out <folder>), or leave trainer out to train with the embedded trainer";
    }

    /// <summary>Asks a queued or running campaign to stop; false when it already finished.</summary>
    public bool Cancel(string id)
    {
        if (!_campaigns.TryGetValue(id, out var e)) throw new CampaignRequestException(404, $"No campaign '{id}'.");
        if (e.Status.Finished) return false;
        e.Cancellation.Cancel();
        return true;
    }

    /// <summary>Loads the campaigns in the data root; those a previous run left queued or running start again (and resume).</summary>
    public void LoadAndResume()
    {
        if (!Directory.Exists(CampaignsRoot)) return;
        foreach (string dir in Directory.EnumerateDirectories(CampaignsRoot).Order(StringComparer.Ordinal))
        {
            string id = Path.GetFileName(dir);
            string statusPath = Path.Combine(dir, StatusFile);
            if (!IsValidId(id) || !File.Exists(statusPath)) continue;
            try
            {
                var status = JsonSerializer.Deserialize<CampaignStatus>(File.ReadAllText(statusPath), Json)!;
                var config = CampaignConfig.Parse(File.ReadAllText(Path.Combine(dir, ConfigFile)), Path.Combine(dir, ConfigFile), profileFiles: false);
                var entry = new Entry(id, config, status);
                _campaigns[id] = entry;
                if (!status.Finished && CommandTrainerProblems(config).FirstOrDefault() is { } refused)
                {
                    // A folder from before the API refused command trainers (or written by hand) is not resumed: it would run the command.
                    Finish(entry, CampaignState.Failed, refused, null);
                }
                else if (!status.Finished)
                {
                    LogResuming(logger, id, status.State);
                    entry.Status = status with { State = CampaignState.Queued };
                    Launch(entry);
                }
            }
            catch (Exception e) when (e is JsonException or IOException or CampaignConfigException)
            {
                LogUnreadable(logger, dir, e.Message);
            }
        }
    }

    private void Launch(Entry entry) => entry.Run = Task.Run(() => RunAsync(entry));

    private async Task RunAsync(Entry entry)
    {
        // Every log line of the campaign's work, in this service, names it.
        using var scope = logger.BeginScope(new Dictionary<string, object?> { ["CampaignId"] = entry.Id });
        var token = entry.Cancellation.Token;
        try
        {
            await _slot.WaitAsync(token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Finish(entry, CampaignState.Cancelled, "cancelled while queued", null);
            return;
        }
        try
        {
            string dir = Folder(entry.Id);
            int session = NextSession(dir);
            entry.Status = entry.Status with { State = CampaignState.Running };
            Save(entry);
            LogStarting(logger, entry.Id, session, dir);
            var runner = new CampaignRunner(entry.Config, dir, ConfigRoot)
            {
                CampaignId = entry.Id,
                Workers = (_, _, _) => new BusWorkers(bus, router, root, entry.Id, session, entry.Config, Stall, BatchSize),
                // Named in the dataset's provenance; the stage work itself runs in the services.
                Teacher = Backends.Teacher,
            };
            runner.Note += note => LogNote(logger, entry.Id, note);
            var progress = new Progress(entry, this);
            var result = await runner.RunAsync(progress, token).ConfigureAwait(false);
            var r = result.Report;
            entry.Status = entry.Status with
            {
                BaseTestAccuracy = r.BaseTestAccuracy,
                FinalTestAccuracy = r.FinalTestAccuracy,
                DatasetManifestSha256 = r.DatasetManifestSha256,
                DatasetSamples = r.DatasetSamples,
            };
            Finish(entry, CampaignState.Completed, null, null);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            Finish(entry, CampaignState.Cancelled, "cancelled", null);
        }
        catch (Exception e)
        {
            Finish(entry, CampaignState.Failed, $"{e.GetType().Name}: {WithoutServerPaths(e.Message)}", e);
        }
        finally
        {
            _slot.Release();
        }
    }

    private void Finish(Entry entry, CampaignState state, string? error, Exception? exception)
    {
        entry.Status = entry.Status with { State = state, Error = error, FinishedAt = DateTimeOffset.UtcNow };
        Save(entry);
        if (exception is not null) LogFailed(logger, exception, entry.Id);
        else LogFinished(logger, entry.Id, state);
    }

    // The status is served to callers: the server's own folders stay in its log.
    private string WithoutServerPaths(string message) =>
        message.Replace(CampaignsRoot + Path.DirectorySeparatorChar, "campaigns/", StringComparison.Ordinal).Replace(ConfigRoot, "<data root>", StringComparison.Ordinal).Replace(root.Path, "<data root>", StringComparison.Ordinal);

    private static int NextSession(string dir)
    {
        string path = Path.Combine(dir, "trainer-sessions");
        int session = File.Exists(path) && int.TryParse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture, out int n) ? n + 1 : 1;
        File.WriteAllText(path, session.ToString(CultureInfo.InvariantCulture));
        return session;
    }

    private void Save(Entry entry)
    {
        lock (entry)
        {
            string path = Path.Combine(Folder(entry.Id), StatusFile);
            string temporary = path + ".tmp";
            File.WriteAllText(temporary, JsonSerializer.Serialize(entry.Status, Json));
            File.Move(temporary, path, overwrite: true);
        }
    }

    private sealed class Entry(string id, CampaignConfig config, CampaignStatus status)
    {
        public string Id { get; } = id;
        public CampaignConfig Config { get; } = config;
        public CampaignStatus Status { get; set; } = status;
        public CancellationTokenSource Cancellation { get; } = new();
        public Task? Run { get; set; }
    }

    // Keeps the latest state of every stage; the file is rewritten at most once a second, and when a stage ends.
    private sealed class Progress(Entry entry, CampaignManager manager) : IProgress<CampaignProgress>
    {
        private long _lastSaveTicks;

        public void Report(CampaignProgress value)
        {
            var stage = new StageStatus(value.Iteration, value.Stage, value.Done, value.Total, value.Message);
            bool ended = value.Message is "done" or "resumed";
            lock (entry)
            {
                var stages = entry.Status.Stages.Where(s => s.Iteration != stage.Iteration || s.Stage != stage.Stage).Append(stage).ToList();
                entry.Status = entry.Status with { Current = stage, Stages = stages };
            }
            long now = DateTime.UtcNow.Ticks;
            if (ended || now - Interlocked.Read(ref _lastSaveTicks) > TimeSpan.TicksPerSecond)
            {
                Interlocked.Exchange(ref _lastSaveTicks, now);
                manager.Save(entry);
            }
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,100}$")]
    private static partial Regex IdText();

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex SlugText();

    [LoggerMessage(Level = LogLevel.Information, Message = "Campaign {Id}: starting (trainer session {Session}) in {Folder}")]
    private static partial void LogStarting(ILogger logger, string id, int session, string folder);

    [LoggerMessage(Level = LogLevel.Information, Message = "Campaign {Id}: {Note}")]
    private static partial void LogNote(ILogger logger, string id, string note);

    [LoggerMessage(Level = LogLevel.Information, Message = "Campaign {Id}: {State}")]
    private static partial void LogFinished(ILogger logger, string id, CampaignState state);

    [LoggerMessage(Level = LogLevel.Error, Message = "Campaign {Id} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, string id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Campaign {Id} was {State} when the Trainer stopped; resuming it")]
    private static partial void LogResuming(ILogger logger, string id, CampaignState state);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipping campaign folder {Folder}: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string folder, string reason);
}
