using System.Globalization;

namespace FailureSynth.AppHost;

/// <summary>
/// The share of traces the services record and export (<c>FailureSynth:TraceSampling</c>, or the variable
/// <c>FailureSynth__TraceSampling</c>). Aspire runs every project with <c>OTEL_TRACES_SAMPLER=always_on</c>, so the
/// dashboard ingests a trace for every message; at a few thousand samples a second that is a sixth of the system's CPU
/// (docs/throughput.md). A share below 1 sets <c>parentbased_traceidratio</c>: a trace's first span decides for the
/// whole trace (a campaign stage, or an HTTP request), so what is kept is kept whole. Metrics and logs are unchanged.
/// </summary>
public static class TraceSampling
{
    public const string SettingKey = "FailureSynth:TraceSampling";

    /// <summary>The share (0 &lt; share &lt;= 1), or null when the setting is absent (every trace, Aspire's default).</summary>
    public static double? Parse(string? setting)
    {
        if (string.IsNullOrWhiteSpace(setting)) return null;
        if (!double.TryParse(setting, NumberStyles.Float, CultureInfo.InvariantCulture, out double share) || !(share > 0 && share <= 1))
            throw new ArgumentException($"{SettingKey} must be a number above 0 and at most 1, the share of traces kept (got '{setting}').");
        return share;
    }

    /// <summary>Sets the OpenTelemetry sampler variables of a service when a share was chosen.</summary>
    public static IResourceBuilder<ProjectResource> WithTraceSampling(this IResourceBuilder<ProjectResource> service, double? share) =>
        share is not { } s
            ? service
            : service.WithEnvironment("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
                .WithEnvironment("OTEL_TRACES_SAMPLER_ARG", s.ToString("R", CultureInfo.InvariantCulture));
}
