using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Filter;

namespace FailureSynth.Loop.Telemetry;

/// <summary>
/// What a campaign tells an operator while it runs: the <c>FailureSynth</c> meter (failures, proposals, filter
/// verdicts, stage durations, test accuracy) and the <c>FailureSynth</c> spans (campaign, iteration, stage).
/// Both are no-ops until a listener (OpenTelemetry in the services, a test's listener) subscribes.
/// </summary>
public static class CampaignTelemetry
{
    /// <summary>The name of the meter and of the activity source (what ServiceDefaults subscribes to).</summary>
    public const string Name = "FailureSynth";

    public const string CampaignIdTag = "failuresynth.campaign.id";
    public const string CampaignTag = "failuresynth.campaign";
    public const string IterationTag = "failuresynth.iteration";
    public const string StageTag = "failuresynth.stage";
    public const string ReasonTag = "failuresynth.reason";
    public const string ResumedTag = "failuresynth.resumed";
    public const string PromotedTag = "failuresynth.promoted";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    private static readonly Counter<long> FailuresCollected = Meter.CreateCounter<long>("failuresynth.failures.collected", "{failure}",
        "Wrong answers of the student on the validation split, per iteration.");

    private static readonly Counter<long> FailuresLocated = Meter.CreateCounter<long>("failuresynth.failures.located", "{failure}",
        "Failures whose first wrong reasoning step the teacher located, per iteration.");

    private static readonly Counter<long> Proposals = Meter.CreateCounter<long>("failuresynth.proposals", "{proposal}",
        "Samples proposed (synthesised or retrieved) for the prescribe stage.");

    private static readonly Counter<long> SamplesAccepted = Meter.CreateCounter<long>("failuresynth.samples.accepted", "{sample}",
        "Samples the quality filter accepted that went into the training data.");

    private static readonly Counter<long> SamplesRejected = Meter.CreateCounter<long>("failuresynth.samples.rejected", "{sample}",
        "Samples the quality filter rejected, by reason (schema, wrong_answer, judge_score, duplicate, skill_cap).");

    private static readonly Histogram<double> StageDuration = Meter.CreateHistogram<double>("failuresynth.stage.duration", "s",
        "Wall time of a campaign stage that ran (resumed stages are not counted).");

    private static readonly Gauge<double> TestAccuracy = Meter.CreateGauge<double>("failuresynth.test.accuracy", "1",
        "Accuracy on the test split: the base student at iteration 0, then the student fine-tuned in each iteration.");

    /// <summary>The span of a whole campaign: a new trace, linked to whatever started it (an API request, say).</summary>
    public static Activity? StartCampaign(string campaignId, string name)
    {
        var activity = StartRoot($"campaign {name}");
        activity?.SetTag(CampaignIdTag, campaignId);
        activity?.SetTag(CampaignTag, name);
        return activity;
    }

    /// <summary>An iteration's span, a child of the campaign's.</summary>
    public static Activity? StartIteration(string campaignId, string name, int iteration)
    {
        var activity = Source.StartActivity($"iteration {iteration.ToString(CultureInfo.InvariantCulture)}");
        activity?.SetTag(CampaignIdTag, campaignId);
        activity?.SetTag(CampaignTag, name);
        activity?.SetTag(IterationTag, iteration);
        return activity;
    }

    /// <summary>
    /// A stage's span. It starts a trace of its own, linked to its iteration, so that one stage is one trace with
    /// every message the services exchanged for it: a whole campaign in one trace would hold tens of thousands of
    /// spans and could only be read once the campaign ended.
    /// </summary>
    public static Activity? StartStage(string campaignId, string name, int iteration, string stage)
    {
        var activity = StartRoot($"{stage} (iteration {iteration.ToString(CultureInfo.InvariantCulture)})");
        activity?.SetTag(CampaignIdTag, campaignId);
        activity?.SetTag(CampaignTag, name);
        activity?.SetTag(IterationTag, iteration);
        activity?.SetTag(StageTag, stage);
        return activity;
    }

    /// <summary>
    /// Starts a span with no parent, linked to the current one. A default parent context means "the current activity"
    /// to <see cref="ActivitySource"/>, so the current one is cleared first; the new span then becomes current, and
    /// when it stops the current activity is null. Call it from an async method of its own so the caller keeps its
    /// current activity.
    /// </summary>
    private static Activity? StartRoot(string name)
    {
        var owner = Activity.Current;
        var links = owner is null ? null : new[] { new ActivityLink(owner.Context) };
        Activity.Current = null;
        var activity = Source.StartActivity(ActivityKind.Internal, parentContext: default, links: links, name: name);
        if (activity is null) Activity.Current = owner;
        return activity;
    }

    public static void StageRan(string campaign, string stage, TimeSpan duration) =>
        StageDuration.Record(duration.TotalSeconds, new(CampaignTag, campaign), new(StageTag, stage));

    public static void Evaluated(string campaign, int iteration, EvaluateOutput output) =>
        FailuresCollected.Add(output.Failures.Count, new(CampaignTag, campaign), new(IterationTag, iteration));

    public static void Located(string campaign, int iteration, LocateOutput output) =>
        FailuresLocated.Add(output.Located.Count, new(CampaignTag, campaign), new(IterationTag, iteration));

    public static void Prescribed(string campaign, int iteration, PrescribeOutput output)
    {
        var c = new KeyValuePair<string, object?>(CampaignTag, campaign);
        var i = new KeyValuePair<string, object?>(IterationTag, iteration);
        Proposals.Add(output.Proposed, c, i);
        SamplesAccepted.Add(output.Accepted.Count, c, i);
        foreach (var group in output.Verdicts.Where(v => !v.Accepted).GroupBy(v => v.Reason))
            SamplesRejected.Add(group.Count(), c, i, new(ReasonTag, ReasonName(group.Key)));
    }

    public static void Measured(string campaign, int iteration, MeasureOutput output)
    {
        var c = new KeyValuePair<string, object?>(CampaignTag, campaign);
        if (iteration == 1) TestAccuracy.Record(output.Measurement.Before, c, new(IterationTag, 0));
        TestAccuracy.Record(output.Measurement.After, c, new(IterationTag, iteration), new(PromotedTag, output.Measurement.Promoted));
    }

    /// <summary>The reason as a tag value: snake_case, as OpenTelemetry attribute values are written.</summary>
    public static string ReasonName(FilterReason reason) => JsonNamingPolicy.SnakeCaseLower.ConvertName(reason.ToString());
}
