using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using FailureSynth.Datasets;
using FailureSynth.Events;
using FailureSynth.Imaging;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Contracts;
using FailureSynth.Loop.Filter;
using FailureSynth.Loop.Stages;
using FailureSynth.Loop.Teacher;
using FailureSynth.Messaging;
using FailureSynth.World.Rendering;
using FailureSynth.World.Skills;

namespace FailureSynth.Trainer;

/// <summary>Another synthesis bench is running on this Trainer.</summary>
public sealed class SynthesisBenchBusyException() : InvalidOperationException("a synthesis bench is already running on this Trainer; wait for it to finish");

/// <summary>What one synthesis throughput run measured.</summary>
/// <param name="Window">Proposals per request (one skill, one seed); <paramref name="Windows"/> requests in all, at most <see cref="SynthesisBench.InFlight"/> at a time.</param>
/// <param name="Dataset">The dataset folder the accepted samples were written to (null when the run wrote none).</param>
/// <param name="DatasetSha256">Its manifest's <c>dataset_sha256</c>: equal for the two modes when they decided and wrote the same.</param>
public sealed record SynthesisBenchResult(string Mode, int Skills, int Proposals, int Checked, int Passed, double Seconds, double SamplesPerSecond,
    int BatchSize, int WorkMs, int Window = 0, int Windows = 0, string? Dataset = null, string? DatasetSha256 = null);

/// <summary>
/// Synthesis throughput: the same work (proposals for the first skills of the taxonomy, fixed seeds) through
/// propose -> render -> check, either over the services (whatever replicas run) or in this process. With a
/// <c>workMs</c> above zero every sample also costs that much CPU in rendering and again in checking (a stand-in
/// for an image model or an LLM judge), in both modes.
/// <para>
/// The work streams: each skill's proposals are asked for in windows of <c>window</c> (one request, its own seed), at
/// most <see cref="InFlight"/> windows are out at a time, and each finished window is handed on in request order
/// (and, with <c>write</c>, its accepted samples written to a dataset) before the next one is asked for. So the
/// memory of every stage is bounded by the windows in flight, not by the size of the run. Both modes ask for the same
/// windows, so their datasets are byte-identical when the services decide as the in-process pipeline does.
/// </para>
/// </summary>
public sealed partial class SynthesisBench(IEventBus bus, ReplyRouter router, DataRoot root, IConfiguration configuration, ILogger<SynthesisBench> logger)
{
    public const int Skills = 16;

    /// <summary>Default proposals per request.</summary>
    public const int DefaultWindow = 256;

    /// <summary>The largest window a caller may ask for.</summary>
    public const int MaxWindow = 100_000;

    /// <summary>Requests out at a time: the bound on proposals, images and checks held anywhere is InFlight x window.</summary>
    public const int InFlight = 16;

    /// <summary>The folder under the data root where <c>write</c> puts each mode's dataset (replaced by the next run of that mode).</summary>
    public const string DatasetFolder = "bench-datasets";

    /// <summary>The configured proposals per message (<see cref="BusWorkers.BatchSizeKey"/>), validated.</summary>
    public static int BatchSizeFrom(IConfiguration configuration)
    {
        int size = configuration.GetValue(BusWorkers.BatchSizeKey, SynthesisBatches.DefaultSize);
        return size is >= 1 and <= SynthesisBatches.MaxSize ? size
            : throw new InvalidOperationException($"{BusWorkers.BatchSizeKey} is {size}: proposals per synthesis message must be from 1 to {SynthesisBatches.MaxSize} (default {SynthesisBatches.DefaultSize}).");
    }

    /// <summary>The requests of a run, in the order they are asked for and written: round by round, skill by skill.</summary>
    public static IReadOnlyList<(int Skill, int Count, long Seed)> Windows(int proposals, int window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        int each = Math.Max(1, proposals / Skills);
        var windows = new List<(int, int, long)>();
        for (int round = 0; round * window < each; round++)
            for (int skill = 0; skill < Skills; skill++)
                windows.Add((skill, Math.Min(window, each - round * window), 1000 + skill + (long)Skills * round));
        return windows;
    }

    // One run at a time: two runs would share the cores they measure, and the dataset folder of their mode.
    private readonly SemaphoreSlim _running = new(1, 1);

    /// <summary>Measures one run; throws <see cref="SynthesisBenchBusyException"/> while another is going.</summary>
    public async Task<SynthesisBenchResult> RunAsync(string mode, int proposals, int? batchSize, int workMs, int? window, bool write, CancellationToken cancellationToken)
    {
        if (!_running.Wait(0)) throw new SynthesisBenchBusyException();
        try
        {
            return await MeasureAsync(mode, proposals, batchSize, workMs, window, write, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _running.Release();
        }
    }

    private async Task<SynthesisBenchResult> MeasureAsync(string mode, int proposals, int? batchSize, int workMs, int? window, bool write, CancellationToken cancellationToken)
    {
        var config = new CampaignConfig { Name = "bench-synthesis" };
        var options = config.Teacher.ToOptions();
        var skills = SkillTaxonomy.All.Take(Skills).ToList();
        int batch = batchSize ?? BatchSizeFrom(configuration);
        var windows = Windows(proposals, window ?? DefaultWindow);
        IProposalPipeline pipeline;
        if (mode == "services")
            pipeline = new BusWorkers(bus, router, root, "bench-" + Guid.NewGuid().ToString("N")[..12], 1, config, TimeSpan.FromMinutes(5), batch, workMs);
        else
        {
            var teacher = new EmbeddedTeacher(options);
            pipeline = new LocalProposalPipeline(teacher, new QualityFilter(teacher, config.Filter.ToOptions()));
        }
        int total = windows.Sum(w => w.Count);
        string? folder = write ? root.Resolve(DatasetFolder + "/" + mode) : null;
        var watch = Stopwatch.StartNew();
        using var writer = folder is null ? null : new DatasetWriter(folder, "failuresynth_bench_synthesis", new DatasetWriterOptions(Overwrite: true));
        int done = 0, passed = 0, step = Math.Max(1, total / 10), nextReport = step;
        var pending = new Queue<(int Skill, long Seed, Task<IReadOnlyList<ProposalCheck>> Checks)>();
        async Task HandOnOldest()
        {
            var (skill, seed, task) = pending.Dequeue();
            var checks = await task.ConfigureAwait(false);
            // In-process, the same fixed cost per sample as the renderer and the filter pay over the bus, on every core.
            if (mode != "services" && workMs > 0)
                await Task.Run(() => Parallel.For(0, checks.Count, new ParallelOptions { CancellationToken = cancellationToken }, _ => SynthesisBatches.SpendCpu(2 * workMs)),
                    cancellationToken).ConfigureAwait(false);
            foreach (var check in checks)
            {
                if (check.Rejected is not null) continue;
                passed++;
                writer?.Add(Record(check, skills[skill].Key, seed));
            }
            done += checks.Count;
            if (done >= nextReport && done < total)
            {
                LogProgress(logger, mode, done, total, watch.Elapsed.TotalSeconds);
                nextReport += step;
            }
        }
        foreach (var (skill, count, seed) in windows)
        {
            if (pending.Count == InFlight) await HandOnOldest().ConfigureAwait(false);
            pending.Enqueue((skill, seed, pipeline.ProposeAndCheckAsync(new SkillDiagnosis(TeacherSkills.SkillText(skills[skill].Key), skills[skill].Key), count, seed, cancellationToken)));
        }
        while (pending.Count > 0) await HandOnOldest().ConfigureAwait(false);
        var manifest = writer?.Complete();
        double seconds = watch.Elapsed.TotalSeconds;
        return new SynthesisBenchResult(mode, skills.Count, total, done, passed, Math.Round(seconds, 2),
            Math.Round(done / Math.Max(seconds, 1e-9), 1), mode == "services" ? batch : 0, workMs, window ?? DefaultWindow, windows.Count,
            folder is null ? null : Path.GetRelativePath(root.Path, folder), manifest?.DatasetSha256);
    }

    /// <summary>
    /// An accepted check as a dataset sample. The picture is the PNG ImageSynth stored (through the services) or the
    /// same encoding of the filter's rendering (in-process), so equal decisions give byte-identical datasets.
    /// </summary>
    private DatasetRecord Record(ProposalCheck check, string skill, long seed)
    {
        var p = check.Proposal;
        byte[] png = check.ImageFile is { } file ? File.ReadAllBytes(root.Resolve(file))
            : PngEncoder.Encode(check.Image ?? SceneRasterizer.Render(p.Scene ?? throw new InvalidDataException($"Proposal {p.Id} passed the filter with neither a picture nor a scene."),
                SceneRasterizer.DefaultSize), PngEncoderOptions.Transit);
        var sample = new VqaSample(p.Id, DatasetLayout.ImagePath(p.Id), p.Question, check.VerifiedAnswer ?? p.Answer,
            Family: p.Program is null ? null : World.Questions.QuestionKeys.Of(p.Program.Family), Skills: [skill], Source: "synthesised");
        var provenance = new JsonObject
        {
            ["generator"] = "failuresynth-bench-synthesis",
            ["skill"] = skill,
            ["seed"] = seed,
            ["judge_score"] = check.Judge?.Score,
        };
        return new DatasetRecord(sample, png, provenance);
    }

    public static string Describe(SynthesisBenchResult r) => string.Create(CultureInfo.InvariantCulture,
        $"{r.Mode}: {r.Checked} proposals checked ({r.Passed} passed) in {r.Seconds:0.00} s = {r.SamplesPerSecond:0.0} samples/s");

    [LoggerMessage(Level = LogLevel.Information, Message = "Synthesis bench ({Mode}): {Done} of {Total} proposals checked after {Seconds:0} s")]
    private static partial void LogProgress(ILogger logger, string mode, int done, int total, double seconds);
}
