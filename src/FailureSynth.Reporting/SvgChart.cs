namespace FailureSynth.Reporting;

/// <summary>
/// Renders chart data as standalone SVG documents: plain records in, markup out, with the
/// same bytes for the same input. Invalid data (NaN, infinities, mismatched lengths) is
/// rejected with an <see cref="ArgumentException"/> that names the series or bar; a chart with
/// nothing to draw renders a "no data" message.
/// </summary>
public static class SvgChart
{
    /// <summary>A line chart: one line per series over the x labels, with axis, grid and legend.</summary>
    public static string Lines(LineChart chart) => LineChartRenderer.Render(chart);

    /// <summary>A horizontal bar chart: a group of bars per row, values (± error) at the bar ends.</summary>
    public static string Bars(BarChart chart) => BarChartRenderer.Render(chart);
}
