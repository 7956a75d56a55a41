using FailureSynth.Imaging;
using FailureSynth.Loop.Contracts;
using FailureSynth.Loop.Filter;
using FailureSynth.Loop.Stages;
using FailureSynth.Loop.Teacher;
using FailureSynth.Messaging;

namespace FailureSynth.Events;

// The loop over the bus (ARCHITECTURE §4). The Trainer publishes a request and collects the replies that carry
// its RequestId; every reply has an Index, so a redelivered reply is recognised and counted once:
//   EvaluationRequested -> Student -> EvaluationAnswered
//   FailureCollected    -> Teacher -> StepLocated
//   DiagnosisRequested  -> Teacher -> SkillDiagnosed
//   SynthesisRequested  -> Teacher -> SynthesisProposed (how many) + SampleBatchProposed (many each)
//                       -> ImageSynth -> SampleBatchRendered -> QualityFilter -> SampleBatchChecked
//   (the one-sample SampleProposed/SampleRendered/SampleChecked are still handled, for messages of older senders)
// Requests carry everything the worker needs (teacher settings, locator, split), so workers hold no campaign state.

/// <summary>A validation split, as the generator makes it.</summary>
public sealed record SplitSpec(string Profile, int Count, long Seed);

/// <summary>The locator the campaign asked for.</summary>
public sealed record LocatorSpec(string Method, double Bias, double Delta, int Lambda, long Seed);

/// <summary>Evaluate validation samples [Start, Start+Count) of <see cref="Split"/> with the checkpoint at <see cref="CheckpointPath"/> (under the data root).</summary>
public sealed record EvaluationRequested : IntegrationEvent, IValidatableEvent
{
    public required string RequestId { get; init; }
    public required int Index { get; init; }
    public required string Scope { get; init; }
    public required string ModelVersion { get; init; }
    public required string CheckpointPath { get; init; }
    public required SplitSpec Split { get; init; }
    public required int Start { get; init; }
    public required int Count { get; init; }
    public required int ImageSize { get; init; }
    public required int Threads { get; init; }

    public IReadOnlyList<string> Validate() => EventChecks.Collect(c =>
    {
        c.Text(nameof(RequestId), RequestId);
        c.Text(nameof(Scope), Scope);
        c.Text(nameof(ModelVersion), ModelVersion);
        c.RelativePath(nameof(CheckpointPath), CheckpointPath);
        c.Present(nameof(Split), Split);
        if (Split is not null)
        {
            c.Text("Split.Profile", Split.Profile);
            c.Range("Split.Count", Split.Count, 1, 10_000_000);
            c.Range(nameof(Start), Start, 0, Split.Count - 1);
            c.Range(nameof(Count), Count, 1, Split.Count - Start);
        }
        c.Range(nameof(Index), Index, 0, int.MaxValue);
        c.Range(nameof(ImageSize), ImageSize, 8, 512);
        c.Range(nameof(Threads), Threads, 1, 256);
    });
}

/// <summary>The student's failures among one evaluation batch, in validation order, and how many it got right.</summary>
public sealed record EvaluationAnswered : IntegrationEvent, IValidatableEvent
{
    public required string RequestId { get; init; }
    public required int Index { get; init; }
    public required int Correct { get; init; }
    public required IReadOnlyList<Failure> Failures { get; init; }

    public IReadOnlyList<string> Validate() => EventChecks.Collect(c =>
    {
        c.Text(nameof(RequestId), RequestId);
        c.Range(nameof(Index), Index, 0, int.MaxValue);
        c.Range(nameof(Correct), Correct, 0, int.MaxValue);
        c.Items(nameof(Failures), Failures);
    });
}

/// <summary>A failure to locate the first wrong step of.</summary>
public sealed record FailureCollected : IntegrationEvent, IValidatableEvent
{
    public required string RequestId { get; init; }
    public required int Index { get; init; }
    public required Failure Failure { get; init; }
    public required EmbeddedTeacherOptions Teacher { get; init; }
    public required LocatorSpec Locator { get; init; }

    public IReadOnlyList<string> Validate() => EventChecks.Collect(c =>
    {
        c.Text(nameof(RequestId), RequestId);
        c.Range(nameof(Index), Index, 0, int.MaxValue);
        c.Failure(nameof(Failure), Failure);
        c.Teacher(nameof(Teacher), Teacher);
        c.Present(nameof(Locator), Locator);
        if (Locator is not null) c.Text("Locator.Method", Locator.Method);
    });
}

/// <summary>Where the teacher put a failure's first wrong step.</summary>
public sealed record StepLocated : IntegrationEvent, IValidatableEvent
{
    public required string RequestId { get; init; }
    public required int Index { get; init; }
    public required string FailureId { get; init; }
    public required LocatedStep Step { get; init; }

    public IReadOnlyList<string> Validate() => EventChecks.Collect(c =>
    {
        c.Text(nameof(RequestId), RequestId);
        c.Range(nameof(Index), Index, 0, int.MaxValue);
        c.Text(nameof(FailureId), FailureId);
        c.Present(nameof(Step), Step);
    });
}

/// <summary>A located failure whose missing skill the teacher is to name.</summary>
public sealed record DiagnosisRequested : IntegrationEvent, IValidatableEvent
{
    public required string RequestId { get; init; }
    public required int Index { get; init; }
    public required Failure Failure { get; init; }
    public required LocatedStep Step { get; init; }
    public required EmbeddedTeacherOptions Teacher { get; init; }

    public IReadOnlyList<string> Validate() => EventChecks.Collect(c =>
    {
        c.Text(nameof(RequestId), RequestId);
        c.Range(nameof(Index), Index, 0, int.MaxValue);
        c.Failure(nameof(Failure), Failure);
        c.Present(nameof(Step), Step);
        if (Step is not null && Failure?.Steps is { } steps) c.Range("Step.Index", Step.Index, 1, steps.Count);
        c.Teacher(nameof(Teacher), Teacher);
    });
}

/// <summary>The missing skill behind a located failure.</summary>
public sealed record SkillDiagnosed : IntegrationEvent, IValidatableEvent
{
    public required string RequestId { get; init; }
    public required int Index { get; init; }
    public required string FailureId { get; init; }
    public required SkillDiagnosis Diagnosis { get; init; }

    public IReadOnlyList<string> Validate() => EventChecks.Collect(c =>
    {
        c.Text(nameof(RequestId), RequestId);
        c.Range(nameof(Index), Index, 0, int.MaxValue);
        c.Text(nameof(FailureId), FailureId);
        c.Present(nameof(Diagnosis), Diagnosis);
        if (Diagnosis is not null) c.Text("Diagnosis.Text", Diagnosis.Text);
    });
}

/// <summary>Propose <see cref="Count"/> samples for a skill; they then go through rendering and the filter's checks.</summary>
public sealed record SynthesisRequested : IntegrationEvent, IValidatableEvent
{
    public required string RequestId { get; init; }
    public required SkillDiagnosis Skill { get; init; }
    public required int Count { get; init; }
    public required long Seed { get; init; }
    public required SampleChecking Checking { get; init; }
    /// <summary>Proposals per <see cref="SampleBatchProposed"/> message.</summary>
    public int BatchSize { get; init; } = SynthesisBatches.DefaultSize;
    /// <summary>Benchmark only: CPU milliseconds per sample in rendering and in checking (<see cref="SynthesisBatches.SpendCpu"/>).</summary>
    public int WorkMs { get; init; }

    public IReadOnlyList<string> Validate() => EventChecks.Collect(c =>
    {
        c.Text(nameof(RequestId), RequestId);
        c.Present(nameof(Skill), Skill);
        if (Skill is not null) c.Text("Skill.Text", Skill.Text);
        c.Range(nameof(Count), Count, 1, 100_000);
        c.Checking(nameof(Checking), Checking);
        c.Range(nameof(BatchSize), BatchSize, 1, SynthesisBatches.MaxSize);
        c.Range(nameof(WorkMs), WorkMs, 0, SynthesisBatches.MaxWorkMs);
    });
}

/// <summary>How proposals are proposed and checked: the teacher, the filter's settings and the image size.</summary>
public sealed record SampleChecking(EmbeddedTeacherOptions Teacher, FilterOptions Filter, int ImageSize);

/// <summary>How many proposals the teacher made for a synthesis request (each follows as a <see cref="SampleProposed"/>).</summary>
public sealed record SynthesisProposed : IntegrationEvent, IValidatableEvent
{
    public required string RequestId { get; init; }
    public required int Proposals { get; init; }

    public IReadOnlyList<string> Validate() => EventChecks.Collect(c =>
    {
        c.Text(nameof(RequestId), RequestId);
        c.Range(nameof(Proposals), Proposals, 0, 1_000_000);
    });
}

/// <summary>One proposal of the teacher, to be rendered.</summary>
public sealed record SampleProposed : IntegrationEvent, IValidatableEvent
{
    public required string RequestId { get; init; }
    public required int Index { get; init; }
    public required SampleProposal Proposal { get; init; }
    public required SampleChecking Checking { get; init; }

    public IReadOnlyList<string> Validate() => EventChecks.Collect(c =>
    {
        c.Text(nameof(RequestId), RequestId);
        c.Range(nameof(Index), Index, 0, int.MaxValue);
        c.Present(nameof(Proposal), Proposal);
        c.Checking(nameof(Checking), Checking);
    });
}

/// <summary>
/// A proposal and its rendered image: <see cref="ImagePath"/> (under the data root, named by the SHA-256 of the PNG),
/// or <see cref="RenderProblem"/> when the scene could not be rendered (the filter then rejects it).
/// </summary>
public sealed record SampleRendered : IntegrationEvent, IValidatableEvent
{
    public required string RequestId { get; init; }
    public required int Index { get; init; }
    public required SampleProposal Proposal { get; init; }
    public required SampleChecking Checking { get; init; }
    public string? ImagePath { get; init; }
    public string? RenderProblem { get; init; }

    public IReadOnlyList<string> Validate() => EventChecks.Collect(c =>
    {
        c.Text(nameof(RequestId), RequestId);
        c.Range(nameof(Index), Index, 0, int.MaxValue);
        c.Present(nameof(Proposal), Proposal);
        c.Checking(nameof(Checking), Checking);
        if (ImagePath is null && string.IsNullOrWhiteSpace(RenderProblem)) c.Problem("neither ImagePath nor RenderProblem is set");
        if (ImagePath is not null) c.RelativePath(nameof(ImagePath), ImagePath);
    });
}

/// <summary>The quality filter's per-proposal checks (schema, verified answer, judge score); the Trainer decides duplicates and caps.</summary>
public sealed record SampleChecked : IntegrationEvent, IValidatableEvent
{
    public required string RequestId { get; init; }
    public required int Index { get; init; }
    public required ProposalCheck Check { get; init; }

    public IReadOnlyList<string> Validate() => EventChecks.Collect(c =>
    {
        c.Text(nameof(RequestId), RequestId);
        c.Range(nameof(Index), Index, 0, int.MaxValue);
        c.Present(nameof(Check), Check);
        if (Check is not null) c.Present("Check.Proposal", Check.Proposal);
    });
}

/// <summary>Retrieve the top-K support-pool samples per demand (seed 002); the pool is built by the teacher on first use.</summary>
public sealed record RetrievalRequested : IntegrationEvent, IValidatableEvent
{
    public required string RequestId { get; init; }
    public required IReadOnlyList<SkillDemand> Demands { get; init; }
    public required PoolSpec Pool { get; init; }
    public required EmbeddedTeacherOptions Teacher { get; init; }

    public IReadOnlyList<string> Validate() => EventChecks.Collect(c =>
    {
        c.Text(nameof(RequestId), RequestId);
        c.Items(nameof(Demands), Demands);
        if (Demands is not null)
            for (int i = 0; i < Demands.Count; i++)
                if (Demands[i] is { } d)
                {
                    c.Text($"Demands[{i}].Query", d.Query);
                    c.Range($"Demands[{i}].Count", d.Count, 1, 1_000_000);
                }
        c.Present(nameof(Pool), Pool);
        if (Pool is not null)
        {
            c.Text("Pool.Profile", Pool.Profile);
            c.Range("Pool.Count", Pool.Count, 1, 10_000_000);
            if (!(Pool.K1 >= 0) || !(Pool.B is >= 0 and <= 1)) c.Problem("Pool.K1 must be >= 0 and Pool.B within 0..1");
        }
        c.Teacher(nameof(Teacher), Teacher);
    });
}

/// <summary>A support pool: generated from a profile and seed, indexed with BM25 (k1, b).</summary>
public sealed record PoolSpec(string Profile, int Count, long Seed, double K1, double B);

/// <summary>The retrieved pool samples, as (pool index, demand index, BM25 score), in retrieval order.</summary>
public sealed record SamplesRetrieved : IntegrationEvent, IValidatableEvent
{
    public required string RequestId { get; init; }
    public required IReadOnlyList<RetrievedHit> Hits { get; init; }

    public IReadOnlyList<string> Validate() => EventChecks.Collect(c =>
    {
        c.Text(nameof(RequestId), RequestId);
        c.Items(nameof(Hits), Hits);
    });
}

public sealed record RetrievedHit(int PoolIndex, int DemandIndex, double Score);

// Synthesis in batches (issue 39): one message carries many proposals, so the per-message costs (a durable
// publish awaiting its confirm, an idempotency mark in Redis, an ack) are paid once per batch, not per sample.
//   SynthesisRequested -> Teacher -> SynthesisProposed + SampleBatchProposed (BatchSize proposals each)
//                      -> ImageSynth -> SampleBatchRendered -> QualityFilter -> SampleBatchChecked
// The envelope (request, checking settings, item count) is validated as a whole: a bad envelope dead-letters the
// message. Items are checked one by one (ItemProblems): a malformed item is dead-lettered alone with its reason,
// the rest of the batch goes on. Replies keep each proposal's index, so the Trainer counts a redelivered batch once.

/// <summary>Batch sizes and the benchmark's per-sample work, shared by the batch events.</summary>
public static class SynthesisBatches
{
    /// <summary>Proposals per message unless the request says otherwise: large enough that per-message costs vanish, small enough to spread over replicas.</summary>
    public const int DefaultSize = 32;
    public const int MaxSize = 1024;
    public const int MaxWorkMs = 1000;

    /// <summary>
    /// The benchmark's fixed CPU cost per sample (<c>--work-ms</c>): a busy loop standing in for heavy per-sample work
    /// (an image model, an LLM judge). Zero outside the synthesis benchmark, which is the only publisher that sets it.
    /// It counts the calling thread's CPU time, not the clock: on a loaded machine a clock-timed loop would cost less
    /// CPU than asked and make replicas look as if they scaled without cores. (Wall clock where there is no thread clock.)
    /// </summary>
    public static void SpendCpu(int milliseconds)
    {
        if (milliseconds <= 0) return;
        long budget = milliseconds * 1_000_000L;
        if (ThreadCpuNanoseconds() is { } start)
        {
            while (ThreadCpuNanoseconds() - start < budget) Thread.SpinWait(64);
            return;
        }
        long end = System.Diagnostics.Stopwatch.GetTimestamp() + milliseconds * System.Diagnostics.Stopwatch.Frequency / 1000;
        while (System.Diagnostics.Stopwatch.GetTimestamp() < end) Thread.SpinWait(64);
    }

    private static long? ThreadCpuNanoseconds()
    {
        const int ClockThreadCpuTimeId = 3; // CLOCK_THREAD_CPUTIME_ID on Linux
        if (!OperatingSystem.IsLinux()) return null;
        return ThreadClock.ClockGetTime(ClockThreadCpuTimeId, out var time) == 0 ? time.Seconds * 1_000_000_000L + time.Nanoseconds : null;
    }

    /// <summary>
    /// The most picture bytes one batch message carries inline (<see cref="InlinePicture"/>); ImageSynth stores the
    /// pictures beyond it as files and sends their paths. 4 MiB: batches of the default 32 pictures of up to 215 x 215
    /// pixels travel whole, well under the broker's message size limit.
    /// </summary>
    public const int InlinePictureBudget = 4 * 1024 * 1024;

    /// <summary>
    /// <paramref name="image"/> as a picture for the message when it fits the <paramref name="room"/> left (bytes, starting
    /// from <see cref="InlinePictureBudget"/> for each message), which it then uses up; null when it does not fit.
    /// </summary>
    public static InlinePicture? TryInline(RgbImage image, ref long room)
    {
        ArgumentNullException.ThrowIfNull(image);
        long size = InlinePicture.BytesFor(image.Width, image.Height);
        if (size > room) return null;
        room -= size;
        return InlinePicture.Of(image);
    }

    /// <summary>The problems of each item (by position in the batch): null, negative or repeated index, and what <paramref name="check"/> finds.</summary>
    public static IReadOnlyDictionary<int, string> ItemProblems<T>(IReadOnlyList<T?> items, Func<T, int> index, Action<T, EventChecks> check) where T : class
    {
        var problems = new Dictionary<int, string>();
        var seen = new HashSet<int>();
        for (int i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if (item is null) { problems[i] = $"Items[{i}] is null"; continue; }
            var found = EventChecks.Collect(c =>
            {
                c.Range("Index", index(item), 0, int.MaxValue);
                check(item, c);
            }).ToList();
            if (!seen.Add(index(item))) found.Add($"Index {index(item)} appears more than once in the batch");
            if (found.Count > 0) problems[i] = $"Items[{i}] (index {index(item)}): {string.Join("; ", found)}";
        }
        return problems;
    }

    internal static void CheckEnvelope<T>(EventChecks c, string requestId, IReadOnlyList<T?>? items, int workMs)
    {
        c.Text("RequestId", requestId);
        if (items is null) c.Problem("Items is missing");
        else c.Range("Items.Count", items.Count, 1, MaxSize);
        c.Range("WorkMs", workMs, 0, MaxWorkMs);
    }
}

/// <summary>clock_gettime(2), for the thread's CPU time.</summary>
internal static partial class ThreadClock
{
    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "clock_gettime")]
    internal static partial int ClockGetTime(int clock, out TimeSpec time);

    internal struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}

/// <summary>A proposal in a batch, with its index among the request's proposals.</summary>
public sealed record ProposedItem(int Index, SampleProposal? Proposal);

/// <summary>A batch of the teacher's proposals, to be rendered.</summary>
public sealed record SampleBatchProposed : IntegrationEvent, IValidatableEvent
{
    public required string RequestId { get; init; }
    public required IReadOnlyList<ProposedItem?> Items { get; init; }
    public required SampleChecking Checking { get; init; }
    /// <summary>Benchmark only: CPU milliseconds to spend per sample in rendering and in checking (see <see cref="SynthesisBatches.SpendCpu"/>).</summary>
    public int WorkMs { get; init; }

    public IReadOnlyList<string> Validate() => EventChecks.Collect(c =>
    {
        SynthesisBatches.CheckEnvelope(c, RequestId, Items, WorkMs);
        c.Checking(nameof(Checking), Checking);
    });

    public IReadOnlyDictionary<int, string> ItemProblems() =>
        SynthesisBatches.ItemProblems(Items, item => item.Index, (item, c) => c.Present("Proposal", item.Proposal));
}

/// <summary>
/// A rendered picture carried inside a batch message: its RGB bytes row by row from the top (as <see cref="RgbImage.Pixels"/>),
/// base64 in the JSON. Small pictures travel this way: no encode, no file, no decode between the stages, and no data
/// root shared between machines; larger ones go by <see cref="RenderedItem.ImagePath"/> (<see cref="SynthesisBatches.InlinePictureBudget"/>).
/// </summary>
public sealed record InlinePicture(int Width, int Height, byte[]? Rgb)
{
    public static InlinePicture Of(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return new(image.Width, image.Height, image.Pixels);
    }

    /// <summary>The picture as an image (its bytes, not copied); call it on a validated picture (<see cref="EventChecks.Picture"/>).</summary>
    public RgbImage ToImage() => new(Width, Height, Rgb ?? throw new InvalidOperationException("InlinePicture.Rgb is missing"));

    /// <summary>The bytes of RGB pixels a picture of this size carries.</summary>
    public static long BytesFor(int width, int height) => (long)width * height * RgbImage.BytesPerPixel;
}

/// <summary>
/// A proposal and its rendered image, or why it was not rendered: the picture in the message (<see cref="Picture"/>), or
/// its path (<see cref="ImagePath"/>, a PNG content-addressed under the data root) when the message had no room for it.
/// </summary>
public sealed record RenderedItem(int Index, SampleProposal? Proposal, string? ImagePath, string? RenderProblem, InlinePicture? Picture = null);

/// <summary>A batch of rendered proposals, to be checked by the quality filter.</summary>
public sealed record SampleBatchRendered : IntegrationEvent, IValidatableEvent
{
    public required string RequestId { get; init; }
    public required IReadOnlyList<RenderedItem?> Items { get; init; }
    public required SampleChecking Checking { get; init; }
    public int WorkMs { get; init; }

    public IReadOnlyList<string> Validate() => EventChecks.Collect(c =>
    {
        SynthesisBatches.CheckEnvelope(c, RequestId, Items, WorkMs);
        c.Checking(nameof(Checking), Checking);
    });

    public IReadOnlyDictionary<int, string> ItemProblems() =>
        SynthesisBatches.ItemProblems(Items, item => item.Index, (item, c) =>
        {
            c.Present("Proposal", item.Proposal);
            if (item.ImagePath is null && item.Picture is null && string.IsNullOrWhiteSpace(item.RenderProblem)) c.Problem("none of Picture, ImagePath and RenderProblem is set");
            if (item.ImagePath is not null && item.Picture is not null) c.Problem("both Picture and ImagePath are set (a rendered picture travels one way)");
            if (item.ImagePath is not null) c.RelativePath("ImagePath", item.ImagePath);
            if (item.Picture is not null) c.Picture("Picture", item.Picture);
        });
}

/// <summary>
/// The filter's check of one proposal, and, when it passed, the rendered picture it checked: in the message
/// (<see cref="Picture"/>) or content-addressed under the data root (<see cref="ImagePath"/>), as ImageSynth sent it.
/// Both null when nothing was rendered, the check failed, or the sender predates the fields.
/// </summary>
public sealed record CheckedItem(int Index, ProposalCheck? Check, string? ImagePath = null, InlinePicture? Picture = null);

/// <summary>A batch of checked proposals, for the Trainer's decisions (duplicates, caps).</summary>
public sealed record SampleBatchChecked : IntegrationEvent, IValidatableEvent
{
    public required string RequestId { get; init; }
    public required IReadOnlyList<CheckedItem?> Items { get; init; }

    public IReadOnlyList<string> Validate() => EventChecks.Collect(c => SynthesisBatches.CheckEnvelope(c, RequestId, Items, 0));

    public IReadOnlyDictionary<int, string> ItemProblems() =>
        SynthesisBatches.ItemProblems(Items, item => item.Index, (item, c) =>
        {
            c.Present("Check", item.Check);
            if (item.Check is not null) c.Present("Check.Proposal", item.Check.Proposal);
            if (item.ImagePath is not null && item.Picture is not null) c.Problem("both Picture and ImagePath are set (a rendered picture travels one way)");
            if (item.ImagePath is not null) c.RelativePath("ImagePath", item.ImagePath);
            if (item.Picture is not null) c.Picture("Picture", item.Picture);
        });
}
