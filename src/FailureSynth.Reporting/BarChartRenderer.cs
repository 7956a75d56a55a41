using System.Globalization;

namespace FailureSynth.Reporting;

/// <summary>Lays out and draws a <see cref="BarChart"/>; see <see cref="SvgChart.Bars"/>.</summary>
internal static class BarChartRenderer
{
    private const double Margin = ChartFrame.Margin;
    private const double PlotWidth = 480;
    private const double MinInnerWidth = 160;
    private const double SingleBarHeight = 18;
    private const double GroupedBarHeight = 14;
    private const double BarGap = 2;
    private const double RowGap = 10;
    private const double LegendRowHeight = 18;
    private const double SwatchSize = 12;
    private const double WhiskerCap = 0.6;
    private const int MaxDecimals = 6;

    /// <summary>One bar ready to draw: where it sits in the chart and the text at its end.</summary>
    private sealed record Bar(int Row, int Series, double Value, double? Error, string Text);

    public static string Render(BarChart chart)
    {
        Validate(chart);
        if (chart.Rows.Count == 0) return ChartFrame.NoData(chart.Title);

        int seriesCount = Math.Max(1, chart.SeriesNames.Count);
        var bars = new List<Bar>();
        for (int r = 0; r < chart.Rows.Count; r++)
            for (int s = 0; s < seriesCount; s++)
            {
                double value = chart.Rows[r].Values[s];
                double? error = chart.Rows[r].Errors?[s];
                string text = error is { } e ? $"{Format(value, chart.Decimals)} ± {Format(e, chart.Decimals)}" : Format(value, chart.Decimals);
                bars.Add(new Bar(r, s, value, error, text));
            }

        // Zero is the bars' base, so the axis always includes it; whiskers must fit too.
        double low = Math.Min(0, bars.Min(b => b.Value - (b.Error ?? 0)));
        double high = Math.Max(0, bars.Max(b => b.Value + (b.Error ?? 0)));
        low = Math.Min(low, chart.ValueMin ?? low);
        high = Math.Max(high, chart.ValueMax ?? high);
        var scale = AxisScale.Covering(low, high);

        // Value labels sit outside the bar ends, so the plot keeps room for them on each side.
        double padRight = bars.Where(b => b.Value >= 0).Select(b => ChartText.Width(b.Text, ChartText.SmallFontSize) + 6).DefaultIfEmpty(0).Max();
        double padLeft = bars.Where(b => b.Value < 0).Select(b => ChartText.Width(b.Text, ChartText.SmallFontSize) + 6).DefaultIfEmpty(0).Max();
        double plotWidth = Math.Max(PlotWidth, padLeft + padRight + MinInnerWidth);

        double labelColumn = chart.Rows.Max(r => ChartText.Width(r.Label)) + 10;
        double plotLeft = Margin + labelColumn;
        double plotRight = plotLeft + plotWidth;
        double contentWidth = plotRight + Margin;

        // Legend entries flow left to right under the title and wrap at the chart's width.
        var legend = new List<(double X, double Y, string Name, string Color)>();
        double legendBottom = ChartFrame.BelowTitle;
        if (chart.SeriesNames.Count > 1)
        {
            double widestEntry = chart.SeriesNames.Max(n => SwatchSize + 6 + ChartText.Width(n));
            contentWidth = Math.Max(contentWidth, widestEntry + 2 * Margin);
            double x = Margin, y = ChartFrame.BelowTitle;
            for (int s = 0; s < chart.SeriesNames.Count; s++)
            {
                double entryWidth = SwatchSize + 6 + ChartText.Width(chart.SeriesNames[s]);
                if (x > Margin && x + entryWidth > contentWidth - Margin)
                {
                    x = Margin;
                    y += LegendRowHeight;
                }
                legend.Add((x, y, chart.SeriesNames[s], Palette.Color(s)));
                x += entryWidth + 18;
            }
            legendBottom = y + LegendRowHeight + 4;
        }

        double barHeight = seriesCount == 1 ? SingleBarHeight : GroupedBarHeight;
        double groupHeight = seriesCount * barHeight + (seriesCount - 1) * BarGap;
        double rowPitch = groupHeight + RowGap;
        double plotTop = legendBottom;
        double plotBottom = plotTop + chart.Rows.Count * rowPitch;
        double width = Math.Max(contentWidth, ChartFrame.TitleWidth(chart.Title));
        double height = plotBottom + (chart.ValueAxisLabel.Length == 0 ? 22 : 40) + Margin;

        double X(double value) => scale.Map(value, plotLeft + padLeft, plotRight - padRight);
        double BarTop(Bar bar) => plotTop + RowGap / 2 + bar.Row * rowPitch + bar.Series * (barHeight + BarGap);

        var svg = new SvgBuilder(width, height, chart.Title);
        ChartFrame.Title(svg, chart.Title);

        if (legend.Count > 0)
        {
            svg.Open("g", ("class", "legend"));
            foreach (var entry in legend)
            {
                svg.Open("g", ("class", "legend-entry"));
                svg.Empty("rect", ("class", "swatch"), ("x", entry.X), ("y", entry.Y + (LegendRowHeight - SwatchSize) / 2),
                    ("width", SwatchSize), ("height", SwatchSize), ("fill", entry.Color));
                svg.Text("text", entry.Name, ("x", entry.X + SwatchSize + 6), ("y", entry.Y + LegendRowHeight / 2 + ChartText.CenterBaseline()),
                    ("fill", Palette.Ink));
                svg.Close();
            }
            svg.Close();
        }

        svg.Open("g", ("class", "axes"));
        foreach (double tick in scale.Ticks)
        {
            double x = X(tick);
            svg.Empty("line", ("class", "gridline"), ("x1", x), ("y1", plotTop), ("x2", x), ("y2", plotBottom), ("stroke", Palette.Grid));
            svg.Text("text", scale.Label(tick), ("class", "tick-label"), ("x", x), ("y", plotBottom + 16), ("text-anchor", "middle"),
                ("fill", Palette.Axis));
        }
        svg.Empty("line", ("class", "axis"), ("x1", X(0)), ("y1", plotTop), ("x2", X(0)), ("y2", plotBottom), ("stroke", Palette.Axis));
        if (chart.ValueAxisLabel.Length > 0)
            svg.Text("text", chart.ValueAxisLabel, ("class", "axis-label"), ("x", (plotLeft + plotRight) / 2), ("y", plotBottom + 34),
                ("text-anchor", "middle"), ("fill", Palette.Ink));
        svg.Close();

        svg.Open("g", ("class", "bars"));
        for (int r = 0; r < chart.Rows.Count; r++)
        {
            double middle = plotTop + RowGap / 2 + r * rowPitch + groupHeight / 2;
            svg.Text("text", chart.Rows[r].Label, ("class", "row-label"), ("x", plotLeft - 8), ("y", middle + ChartText.CenterBaseline()),
                ("text-anchor", "end"), ("fill", Palette.Ink));
        }
        foreach (var bar in bars)
        {
            double top = BarTop(bar), middle = top + barHeight / 2;
            double zero = X(0), end = X(bar.Value);
            string tooltip = chart.SeriesNames.Count == 0
                ? $"{chart.Rows[bar.Row].Label}: {bar.Text}"
                : $"{chart.Rows[bar.Row].Label} · {chart.SeriesNames[bar.Series]}: {bar.Text}";
            svg.WithTooltip("rect", tooltip, ("class", "bar"), ("x", Math.Min(zero, end)), ("y", top), ("width", Math.Abs(end - zero)),
                ("height", barHeight), ("fill", Palette.Color(bar.Series)));

            double labelX;
            if (bar.Error is { } error)
            {
                double from = X(bar.Value - error), to = X(bar.Value + error), cap = barHeight * WhiskerCap / 2;
                string n(double v) => SvgBuilder.Number(v);
                svg.Empty("path", ("class", "whisker"),
                    ("d", $"M{n(from)},{n(middle)}H{n(to)}M{n(from)},{n(middle - cap)}V{n(middle + cap)}M{n(to)},{n(middle - cap)}V{n(middle + cap)}"),
                    ("stroke", Palette.Ink), ("stroke-width", 1.2), ("fill", "none"));
                labelX = bar.Value >= 0 ? Math.Max(end, to) + 4 : Math.Min(end, from) - 4;
            }
            else
            {
                labelX = bar.Value >= 0 ? end + 4 : end - 4;
            }
            svg.Text("text", bar.Text, ("class", "value-label"), ("x", labelX), ("y", middle + ChartText.CenterBaseline(ChartText.SmallFontSize)),
                ("text-anchor", bar.Value >= 0 ? "start" : "end"), ("font-size", ChartText.SmallFontSize), ("fill", Palette.Ink));
        }
        svg.Close();

        return svg.Finish();
    }

    private static string Format(double value, int decimals)
    {
        double rounded = Math.Round(value, decimals, MidpointRounding.AwayFromZero);
        if (rounded == 0) rounded = 0; // no "-0.00"
        return rounded.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    private static void Validate(BarChart chart)
    {
        ArgumentNullException.ThrowIfNull(chart);
        if (chart.Title is null) throw new ArgumentException("the bar chart's Title is null; pass a title (or \"\" for none).", nameof(chart));
        string where = $"bar chart \"{chart.Title}\"";
        if (chart.Rows is null) throw new ArgumentException($"{where}: Rows is null; pass an empty list for a chart with no data.", nameof(chart));
        if (chart.SeriesNames is null) throw new ArgumentException($"{where}: SeriesNames is null; pass an empty list for one unnamed series.", nameof(chart));
        if (chart.ValueAxisLabel is null) throw new ArgumentException($"{where}: ValueAxisLabel is null; pass \"\" for no label.", nameof(chart));
        if (chart.Decimals is < 0 or > MaxDecimals)
            throw new ArgumentException($"{where}: Decimals is {chart.Decimals}; it must be between 0 and {MaxDecimals}.", nameof(chart));
        ChartFrame.RequireRange(chart.ValueMin, chart.ValueMax, $"{where} ValueMin", $"{where} ValueMax");

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int s = 0; s < chart.SeriesNames.Count; s++)
        {
            string name = chart.SeriesNames[s];
            if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException($"{where}: series {s} has no name; every series needs one for the legend.", nameof(chart));
            if (!names.Add(name)) throw new ArgumentException($"{where}: two series are named \"{name}\"; series names must be unique.", nameof(chart));
        }

        int seriesCount = Math.Max(1, chart.SeriesNames.Count);
        string seriesList = chart.SeriesNames.Count == 0 ? "one unnamed series" : $"{seriesCount} series ({string.Join(", ", chart.SeriesNames)})";
        for (int r = 0; r < chart.Rows.Count; r++)
        {
            var row = chart.Rows[r];
            if (row is null) throw new ArgumentException($"{where}: row {r} is null.", nameof(chart));
            if (row.Label is null) throw new ArgumentException($"{where}: row {r} has a null label; pass \"\" for an unlabelled bar.", nameof(chart));
            string bar = $"{where}: bar \"{row.Label}\"";
            if (row.Values is null || row.Values.Count != seriesCount)
                throw new ArgumentException($"{bar} has {row.Values?.Count ?? 0} values but the chart has {seriesList}; give one value per series.", nameof(chart));
            if (row.Errors is not null && row.Errors.Count != seriesCount)
                throw new ArgumentException($"{bar} has {row.Errors.Count} errors but the chart has {seriesList}; give one error (or null) per series, or no Errors list.", nameof(chart));
            for (int s = 0; s < seriesCount; s++)
            {
                string which = chart.SeriesNames.Count == 0 ? bar : $"{bar} (series \"{chart.SeriesNames[s]}\")";
                ChartFrame.RequireFinite(row.Values[s], $"{which} value", "fix the computation that produced it, or leave the bar out.");
                if (row.Errors?[s] is { } error)
                {
                    ChartFrame.RequireFinite(error, $"{which} error", "pass null for a bar without a whisker.");
                    if (error < 0) throw new ArgumentException($"{which} error is {error}; an error (e.g. one sd) must be 0 or more.", nameof(chart));
                }
            }
        }
    }
}
