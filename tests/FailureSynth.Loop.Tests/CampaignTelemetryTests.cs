using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Telemetry;

namespace FailureSynth.Loop.Tests;

/// <summary>One measurement of a FailureSynth instrument, with its tags.</summary>
public sealed record Recorded(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags);

/// <summary>
/// A tiny two-iteration campaign run once with a meter and an activity listener attached, then rerun into the same
/// folder (everything resumed). Only this campaign's measurements and spans are kept: other tests run campaigns at
/// the same time, under other names and ids.
/// </summary>
public sealed class TelemetryCampaignFixture : IAsyncLifetime
{
    public const string CampaignName = "telemetry-probe";

    private readonly SmallStudentFixture _student = new();

    public string CampaignId { get; } = "telemetry-" + Guid.NewGuid().ToString("N")[..8];
    public string Output => Path.Combine(_student.Root, "campaign");
    public List<Recorded> FirstRun { get; private set; } = [];
    public List<Recorded> ResumedRun { get; private set; } = [];
    public List<Activity> Spans { get; } = [];

    private string Yaml => $$"""
        name: {{CampaignName}}
        seed: 4
        threads: 2
        iterations: 2
        student: { checkpoint: {{_student.Checkpoint}} }
        validation: { profile: balanced, count: 120, seed: 101 }
        test: { profile: balanced, count: 150, seed: 2 }
        budget: { failures: 30, samples: 40, train_steps: 4 }
        teacher: { prior_samples: 3000 }
        """;

    public async Task InitializeAsync()
    {
        var stopped = new ConcurrentQueue<Activity>();
        using (var spans = new ActivityListener
        {
            ShouldListenTo = source => source.Name == CampaignTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        })
        {
            ActivitySource.AddActivityListener(spans);
            FirstRun = await RunRecordingAsync();
        }
        Spans.AddRange(stopped.Where(a => Equals(a.GetTagItem(CampaignTelemetry.CampaignIdTag), CampaignId)));
        ResumedRun = await RunRecordingAsync();
    }

    private async Task<List<Recorded>> RunRecordingAsync()
    {
        var recorded = new ConcurrentQueue<Recorded>();
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == CampaignTelemetry.Name) listener.EnableMeasurementEvents(instrument);
            },
        };
        void Keep(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var map = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var (key, tag) in tags) map[key] = tag;
            if (Equals(map.GetValueOrDefault(CampaignTelemetry.CampaignTag), CampaignName)) recorded.Enqueue(new Recorded(instrument.Name, value, map));
        }
        meters.SetMeasurementEventCallback<long>((i, v, t, _) => Keep(i, v, t));
        meters.SetMeasurementEventCallback<double>((i, v, t, _) => Keep(i, v, t));
        meters.Start();
        await new CampaignRunner(CampaignConfig.Parse(Yaml, "telemetry.yaml"), Output) { CampaignId = CampaignId }.RunAsync(null, default);
        return [.. recorded];
    }

    public T Stage<T>(int iteration, string stage) => CampaignJson.Read<T>(Path.Combine(Output, $"iter-{iteration}", stage + ".json"));

    public Task DisposeAsync()
    {
        _student.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class CampaignTelemetryTests(TelemetryCampaignFixture run) : IClassFixture<TelemetryCampaignFixture>
{
    private static double Sum(IEnumerable<Recorded> recorded, string instrument, int iteration, string? reason = null) =>
        recorded.Where(r => r.Instrument == instrument && Equals(r.Tags.GetValueOrDefault(CampaignTelemetry.IterationTag), iteration)
            && (reason is null || Equals(r.Tags.GetValueOrDefault(CampaignTelemetry.ReasonTag), reason))).Sum(r => r.Value);

    [Fact]
    public void The_meter_counts_each_iterations_failures_proposals_and_filter_verdicts_as_the_stage_files_record_them()
    {
        for (int k = 1; k <= 2; k++)
        {
            var evaluated = run.Stage<EvaluateOutput>(k, CampaignStages.Evaluate);
            var located = run.Stage<LocateOutput>(k, CampaignStages.Locate);
            var prescribed = run.Stage<PrescribeOutput>(k, CampaignStages.Prescribe);
            Assert.True(evaluated.Failures.Count > 0, $"iteration {k} found no failures: the test would prove nothing");
            Assert.Equal(evaluated.Failures.Count, Sum(run.FirstRun, "failuresynth.failures.collected", k));
            Assert.Equal(located.Located.Count, Sum(run.FirstRun, "failuresynth.failures.located", k));
            Assert.Equal(prescribed.Proposed, Sum(run.FirstRun, "failuresynth.proposals", k));
            Assert.Equal(prescribed.Accepted.Count, Sum(run.FirstRun, "failuresynth.samples.accepted", k));
            var rejected = prescribed.Verdicts.Where(v => !v.Accepted).GroupBy(v => CampaignTelemetry.ReasonName(v.Reason)).ToList();
            Assert.NotEmpty(rejected);
            foreach (var group in rejected)
                Assert.Equal(group.Count(), Sum(run.FirstRun, "failuresynth.samples.rejected", k, group.Key));
            Assert.Equal(rejected.Sum(g => g.Count()), Sum(run.FirstRun, "failuresynth.samples.rejected", k));
        }
    }

    [Fact]
    public void Every_stage_that_ran_records_its_duration_once_and_a_resumed_run_counts_nothing_again()
    {
        var durations = run.FirstRun.Where(r => r.Instrument == "failuresynth.stage.duration").ToList();
        Assert.Equal(CampaignStages.All.Length * 2, durations.Count);
        foreach (string stage in CampaignStages.All)
            Assert.Equal(2, durations.Count(d => Equals(d.Tags[CampaignTelemetry.StageTag], stage)));
        Assert.All(durations, d => Assert.True(d.Value > 0, $"{d.Tags[CampaignTelemetry.StageTag]} took {d.Value} s"));

        // Every stage was resumed from its file: no counter moves, only the accuracy gauge is reported again.
        Assert.Equal(["failuresynth.test.accuracy"], run.ResumedRun.Select(r => r.Instrument).Distinct());
    }

    [Fact]
    public void The_accuracy_gauge_reports_the_base_student_then_each_fine_tuned_one_on_the_test_split()
    {
        var first = run.Stage<MeasureOutput>(1, CampaignStages.Measure).Measurement;
        var second = run.Stage<MeasureOutput>(2, CampaignStages.Measure).Measurement;
        foreach (var recorded in new[] { run.FirstRun, run.ResumedRun })
        {
            var gauge = recorded.Where(r => r.Instrument == "failuresynth.test.accuracy")
                .ToDictionary(r => (int)r.Tags[CampaignTelemetry.IterationTag]!, r => r);
            Assert.Equal([0, 1, 2], gauge.Keys.Order());
            Assert.Equal(first.Before, gauge[0].Value);
            Assert.Equal(first.After, gauge[1].Value);
            Assert.Equal(second.After, gauge[2].Value);
            Assert.Equal(second.Promoted, gauge[2].Tags[CampaignTelemetry.PromotedTag]);
        }
    }

    [Fact]
    public void Spans_nest_campaign_then_iterations_and_each_stage_is_a_trace_of_its_own_linked_to_its_iteration()
    {
        var campaign = Assert.Single(run.Spans, s => s.OperationName == $"campaign {TelemetryCampaignFixture.CampaignName}");
        Assert.Equal(default, campaign.ParentSpanId);

        var iterations = run.Spans.Where(s => s.OperationName.StartsWith("iteration ", StringComparison.Ordinal)).OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal(["iteration 1", "iteration 2"], iterations.Select(s => s.OperationName));
        Assert.All(iterations, i => Assert.Equal((campaign.TraceId, campaign.SpanId), (i.TraceId, i.ParentSpanId)));

        var stages = run.Spans.Where(s => s.GetTagItem(CampaignTelemetry.StageTag) is not null).ToList();
        foreach (var iteration in iterations)
        {
            int k = (int)iteration.GetTagItem(CampaignTelemetry.IterationTag)!;
            var own = stages.Where(s => Equals(s.GetTagItem(CampaignTelemetry.IterationTag), k)).OrderBy(s => s.StartTimeUtc).ToList();
            Assert.Equal(CampaignStages.All, own.Select(s => (string)s.GetTagItem(CampaignTelemetry.StageTag)!));
            foreach (var stage in own)
            {
                Assert.Equal(default, stage.ParentSpanId);
                Assert.NotEqual(campaign.TraceId, stage.TraceId);
                Assert.Equal(iteration.Context.SpanId, Assert.Single(stage.Links).Context.SpanId);
                Assert.True(stage.StartTimeUtc >= iteration.StartTimeUtc && stage.StartTimeUtc + stage.Duration <= iteration.StartTimeUtc + iteration.Duration);
            }
        }
        // The base student (taken from the checkpoint here) is a stage of the campaign itself.
        var baseStage = Assert.Single(stages, s => Equals(s.GetTagItem(CampaignTelemetry.StageTag), "base"));
        Assert.Equal(campaign.SpanId, Assert.Single(baseStage.Links).Context.SpanId);
        Assert.All(run.Spans, s => Assert.Equal(run.CampaignId, s.GetTagItem(CampaignTelemetry.CampaignIdTag)));
        Assert.Equal(1 + 2 + 1 + 2 * CampaignStages.All.Length, run.Spans.Count);
    }
}
