namespace FailureSynth.Reporting;

/// <summary>
/// One labelled group of horizontal bars: one value per series of the chart (a single value
/// when the chart has one series), each with an optional error (e.g. one sd) drawn as a whisker.
/// </summary>
public sealed record BarRow(string Label, IReadOnlyList<double> Values, IReadOnlyList<double?>? Errors = null)
{
    /// <summary>A row of a single-series chart.</summary>
    public static BarRow Single(string label, double value, double? error = null) =>
        new(label, [value], error is null ? null : [error]);
}

/// <summary>
/// A horizontal bar chart with labels on the left and values at the bar ends, drawn in the
/// order given: failures per skill, rejection reasons, or arms compared as mean ± sd. With
/// several <see cref="SeriesNames"/> (e.g. "before" and "after") each row holds one bar per series.
/// </summary>
public sealed record BarChart(string Title, IReadOnlyList<BarRow> Rows)
{
    /// <summary>Names of the grouped series; empty for a chart with one unnamed series.</summary>
    public IReadOnlyList<string> SeriesNames { get; init; } = [];

    /// <summary>Text under the value axis, e.g. "failures"; empty for none.</summary>
    public string ValueAxisLabel { get; init; } = "";

    /// <summary>Decimals of the values printed at the bar ends (0 for counts).</summary>
    public int Decimals { get; init; } = 2;

    /// <summary>
    /// The value axis covers at least this range, and always zero, the bars' base; it widens to
    /// take in every value and whisker.
    /// </summary>
    public double? ValueMin { get; init; }

    /// <inheritdoc cref="ValueMin"/>
    public double? ValueMax { get; init; }
}
