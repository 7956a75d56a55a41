namespace FailureSynth.Reporting;

/// <summary>One named line of a <see cref="LineChart"/>: a value per x label, null where there is none.</summary>
public sealed record LineSeries(string Name, IReadOnlyList<double?> Values);

/// <summary>
/// A line chart over categorical x labels (e.g. iterations), such as accuracy per skill per
/// iteration. Highlighted series are drawn in palette colours and listed in the legend in
/// the order given; the others are drawn thin and grey underneath, for context.
/// </summary>
public sealed record LineChart(string Title, IReadOnlyList<string> XLabels, IReadOnlyList<LineSeries> Series)
{
    /// <summary>Text along the y axis, e.g. "accuracy"; empty for none.</summary>
    public string YAxisLabel { get; init; } = "";

    /// <summary>Text under the x axis, e.g. "iteration"; empty for none.</summary>
    public string XAxisLabel { get; init; } = "";

    /// <summary>
    /// Names of the series to draw in colour, most important first (this order sets colours and
    /// legend order); null highlights every series in the order of <see cref="Series"/>.
    /// </summary>
    public IReadOnlyList<string>? Highlighted { get; init; }

    /// <summary>How many series the legend names; the rest are summarised in one "+k more" entry.</summary>
    public int MaxLegendEntries { get; init; } = 10;

    /// <summary>
    /// The y axis covers at least this range (rounded out to nice ticks, and widened if values
    /// fall outside). When neither bound is set and all values lie in [0, 1], the axis is 0..1,
    /// so accuracy charts of different campaigns compare at a glance.
    /// </summary>
    public double? YMin { get; init; }

    /// <inheritdoc cref="YMin"/>
    public double? YMax { get; init; }
}
