using System.Globalization;
using System.Text;

namespace FailureSynth.Reporting;

/// <summary>Lays out and draws a <see cref="LineChart"/>; see <see cref="SvgChart.Lines"/>.</summary>
internal static class LineChartRenderer
{
    private const double Margin = ChartFrame.Margin;
    private const double PlotHeight = 300;
    private const double MinPlotWidth = 360;
    private const double MaxPlotWidth = 960;
    private const double PreferredPointSpacing = 48;
    private const double LegendRowHeight = 18;
    private const double LegendSwatchWidth = 22;
    private const double HighlightedStroke = 2;
    private const double MutedStroke = 1;
    private const double MarkerRadius = 2.5;

    /// <summary>A series ready to draw: its values, and its colour and dash when highlighted.</summary>
    private sealed record Styled(LineSeries Series, bool Highlighted, string Color, string? Dash);

    public static string Render(LineChart chart)
    {
        Validate(chart);
        int pointCount = chart.XLabels.Count;
        var values = chart.Series.SelectMany(s => s.Values).OfType<double>().ToList();
        if (pointCount == 0 || values.Count == 0) return ChartFrame.NoData(chart.Title);

        var styled = Style(chart);
        var legend = styled.Where(s => s.Highlighted).Take(chart.MaxLegendEntries).ToList();
        int unlisted = chart.Series.Count - legend.Count;
        bool unlistedAllMuted = styled.Skip(legend.Count).All(s => !s.Highlighted);
        string? moreText = unlisted == 0 ? null
            : string.Create(CultureInfo.InvariantCulture, $"+{unlisted} more{(unlistedAllMuted ? " (grey)" : "")}");

        // y axis: 0..1 for accuracy-like data unless the caller sets a range.
        double low = values.Min(), high = values.Max();
        if (chart.YMin is null && chart.YMax is null && low >= 0 && high <= 1) (low, high) = (0, 1);
        low = Math.Min(low, chart.YMin ?? low);
        high = Math.Max(high, chart.YMax ?? high);
        var scale = AxisScale.Covering(low, high);
        double tickLabelWidth = scale.Ticks.Max(t => ChartText.Width(scale.Label(t)));

        // x axis: one band per label; show every k-th label so neighbours do not overlap.
        double plotWidth = Math.Clamp(pointCount * PreferredPointSpacing, MinPlotWidth, MaxPlotWidth);
        double band = plotWidth / pointCount;
        double widestXLabel = chart.XLabels.Max(l => ChartText.Width(l));
        int labelEvery = Math.Max(1, (int)Math.Ceiling((widestXLabel + 8) / band));
        int lastShown = (pointCount - 1) / labelEvery * labelEvery;
        double firstOverhang = Math.Max(0, ChartText.Width(chart.XLabels[0]) / 2 - band / 2);
        double lastOverhang = Math.Max(0, ChartText.Width(chart.XLabels[lastShown]) / 2 - band * (pointCount - lastShown) + band / 2);

        double yAxisLabelSpace = chart.YAxisLabel.Length == 0 ? 0 : ChartText.FontSize + 10;
        double plotLeft = Margin + Math.Max(yAxisLabelSpace + tickLabelWidth + 6, firstOverhang);
        double plotRight = plotLeft + plotWidth;
        double plotTop = ChartFrame.BelowTitle + 4;
        double plotBottom = plotTop + PlotHeight;
        double legendLeft = plotRight + Math.Max(20, lastOverhang + 8);
        double legendWidth = LegendSwatchWidth + 6 + legend.Select(s => s.Series.Name).Append(moreText ?? "")
            .Max(text => ChartText.Width(text));
        int legendRows = legend.Count + (moreText is null ? 0 : 1);
        double axisBottom = plotBottom + (chart.XAxisLabel.Length == 0 ? 26 : 44);
        double width = Math.Max(legendLeft + legendWidth + Margin, ChartFrame.TitleWidth(chart.Title));
        double height = Math.Max(axisBottom, plotTop + legendRows * LegendRowHeight) + Margin;

        double X(int index) => plotLeft + (index + 0.5) * band;
        double Y(double value) => scale.Map(value, plotBottom, plotTop);

        var svg = new SvgBuilder(width, height, chart.Title);
        ChartFrame.Title(svg, chart.Title);

        svg.Open("g", ("class", "axes"));
        foreach (double tick in scale.Ticks)
        {
            double y = Y(tick);
            svg.Empty("line", ("class", "gridline"), ("x1", plotLeft), ("y1", y), ("x2", plotRight), ("y2", y), ("stroke", Palette.Grid));
            svg.Text("text", scale.Label(tick), ("class", "tick-label"), ("x", plotLeft - 6), ("y", y + ChartText.CenterBaseline()),
                ("text-anchor", "end"), ("fill", Palette.Axis));
        }
        svg.Empty("line", ("class", "axis"), ("x1", plotLeft), ("y1", plotTop), ("x2", plotLeft), ("y2", plotBottom), ("stroke", Palette.Axis));
        svg.Empty("line", ("class", "axis"), ("x1", plotLeft), ("y1", plotBottom), ("x2", plotRight), ("y2", plotBottom), ("stroke", Palette.Axis));
        for (int i = 0; i < pointCount; i++)
        {
            svg.Empty("line", ("class", "tick"), ("x1", X(i)), ("y1", plotBottom), ("x2", X(i)), ("y2", plotBottom + 4), ("stroke", Palette.Axis));
            if (i % labelEvery == 0)
                svg.Text("text", chart.XLabels[i], ("class", "x-label"), ("x", X(i)), ("y", plotBottom + 18),
                    ("text-anchor", "middle"), ("fill", Palette.Axis));
        }
        if (chart.YAxisLabel.Length > 0)
        {
            double x = Margin + ChartText.FontSize * 0.85, y = (plotTop + plotBottom) / 2;
            svg.Text("text", chart.YAxisLabel, ("class", "axis-label"), ("x", x), ("y", y), ("text-anchor", "middle"),
                ("transform", $"rotate(-90 {SvgBuilder.Number(x)} {SvgBuilder.Number(y)})"), ("fill", Palette.Ink));
        }
        if (chart.XAxisLabel.Length > 0)
            svg.Text("text", chart.XAxisLabel, ("class", "axis-label"), ("x", (plotLeft + plotRight) / 2), ("y", plotBottom + 38),
                ("text-anchor", "middle"), ("fill", Palette.Ink));
        svg.Close();

        // Muted context lines first, then highlighted ones with the most important on top.
        svg.Open("g", ("class", "series-layer"), ("fill", "none"), ("stroke-linejoin", "round"), ("stroke-linecap", "round"));
        var drawOrder = styled.Where(s => !s.Highlighted).Concat(styled.Where(s => s.Highlighted).Reverse());
        foreach (var line in drawOrder)
        {
            string? path = PathData(line.Series.Values, X, Y);
            if (path is null) continue;
            if (line.Dash is { } dash)
                svg.WithTooltip("path", line.Series.Name, ("class", "series"), ("data-series", line.Series.Name), ("d", path),
                    ("stroke", line.Color), ("stroke-width", HighlightedStroke), ("stroke-dasharray", dash));
            else
                svg.WithTooltip("path", line.Series.Name, ("class", "series"), ("data-series", line.Series.Name), ("d", path),
                    ("stroke", line.Color), ("stroke-width", line.Highlighted ? HighlightedStroke : MutedStroke));
        }
        foreach (var line in styled.Where(s => s.Highlighted).Reverse())
        {
            for (int i = 0; i < pointCount; i++)
            {
                if (line.Series.Values[i] is not { } value) continue;
                svg.WithTooltip("circle",
                    string.Create(CultureInfo.InvariantCulture, $"{line.Series.Name} @ {chart.XLabels[i]}: {scale.Label(value)}"),
                    ("class", "marker"), ("cx", X(i)), ("cy", Y(value)), ("r", MarkerRadius), ("fill", line.Color), ("stroke", "none"));
            }
        }
        svg.Close();

        svg.Open("g", ("class", "legend"));
        for (int row = 0; row < legend.Count; row++)
            LegendEntry(svg, "legend-entry", legendLeft, plotTop + row * LegendRowHeight, legend[row].Series.Name,
                legend[row].Color, legend[row].Dash, HighlightedStroke);
        if (moreText is not null)
            LegendEntry(svg, "legend-more", legendLeft, plotTop + legend.Count * LegendRowHeight, moreText,
                Palette.Muted, null, unlistedAllMuted ? MutedStroke : HighlightedStroke);
        svg.Close();

        return svg.Finish();
    }

    private static void LegendEntry(SvgBuilder svg, string kind, double left, double top, string text, string color, string? dash, double stroke)
    {
        double middle = top + LegendRowHeight / 2;
        svg.Open("g", ("class", kind));
        if (dash is null)
            svg.Empty("line", ("x1", left), ("y1", middle), ("x2", left + LegendSwatchWidth), ("y2", middle), ("stroke", color), ("stroke-width", stroke));
        else
            svg.Empty("line", ("x1", left), ("y1", middle), ("x2", left + LegendSwatchWidth), ("y2", middle), ("stroke", color), ("stroke-width", stroke),
                ("stroke-dasharray", dash));
        svg.Text("text", text, ("x", left + LegendSwatchWidth + 6), ("y", middle + ChartText.CenterBaseline()), ("fill", Palette.Ink));
        svg.Close();
    }

    /// <summary>
    /// Path data through the present points; a missing value breaks the line, and a point with
    /// no present neighbour becomes a zero-length segment that the round line cap shows as a dot.
    /// </summary>
    private static string? PathData(IReadOnlyList<double?> values, Func<int, double> x, Func<double, double> y)
    {
        var d = new StringBuilder();
        bool inRun = false;
        for (int i = 0; i < values.Count; i++)
        {
            if (values[i] is not { } value)
            {
                inRun = false;
                continue;
            }
            d.Append(inRun ? 'L' : 'M').Append(SvgBuilder.Number(x(i))).Append(',').Append(SvgBuilder.Number(y(value)));
            bool nextPresent = i + 1 < values.Count && values[i + 1] is not null;
            if (!inRun && !nextPresent) d.Append("h0");
            inRun = true;
        }
        return d.Length == 0 ? null : d.ToString();
    }

    /// <summary>Colours the highlighted series in importance order; everything else is muted.</summary>
    private static List<Styled> Style(LineChart chart)
    {
        var byName = chart.Series.ToDictionary(s => s.Name, StringComparer.Ordinal);
        IReadOnlyList<string> highlighted = chart.Highlighted ?? chart.Series.Select(s => s.Name).ToList();
        var chosen = new HashSet<string>(highlighted, StringComparer.Ordinal);
        var styled = highlighted.Select((name, rank) => new Styled(byName[name], true, Palette.Color(rank), Palette.Dash(rank))).ToList();
        styled.AddRange(chart.Series.Where(s => !chosen.Contains(s.Name)).Select(s => new Styled(s, false, Palette.Muted, null)));
        return styled;
    }

    private static void Validate(LineChart chart)
    {
        ArgumentNullException.ThrowIfNull(chart);
        if (chart.Title is null) throw new ArgumentException("the line chart's Title is null; pass a title (or \"\" for none).", nameof(chart));
        if (chart.YAxisLabel is null || chart.XAxisLabel is null)
            throw new ArgumentException($"line chart \"{chart.Title}\": an axis label is null; pass \"\" for no label.", nameof(chart));
        if (chart.XLabels is null) throw new ArgumentException($"line chart \"{chart.Title}\": XLabels is null; pass one label per x position (e.g. iterations).", nameof(chart));
        if (chart.Series is null) throw new ArgumentException($"line chart \"{chart.Title}\": Series is null; pass an empty list for a chart with no data.", nameof(chart));
        if (chart.MaxLegendEntries < 0)
            throw new ArgumentException($"line chart \"{chart.Title}\": MaxLegendEntries is {chart.MaxLegendEntries}; it must be 0 or more.", nameof(chart));
        for (int i = 0; i < chart.XLabels.Count; i++)
            if (chart.XLabels[i] is null) throw new ArgumentException($"line chart \"{chart.Title}\": x label {i} is null; give every x position a label.", nameof(chart));
        ChartFrame.RequireRange(chart.YMin, chart.YMax, $"line chart \"{chart.Title}\" YMin", $"line chart \"{chart.Title}\" YMax");

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int s = 0; s < chart.Series.Count; s++)
        {
            var series = chart.Series[s];
            if (series is null) throw new ArgumentException($"line chart \"{chart.Title}\": series {s} is null.", nameof(chart));
            if (string.IsNullOrWhiteSpace(series.Name))
                throw new ArgumentException($"line chart \"{chart.Title}\": series {s} has no name; every series needs one for the legend.", nameof(chart));
            if (!names.Add(series.Name))
                throw new ArgumentException($"line chart \"{chart.Title}\": two series are named \"{series.Name}\"; series names must be unique.", nameof(chart));
            if (series.Values is null)
                throw new ArgumentException($"line chart \"{chart.Title}\": series \"{series.Name}\" has no Values list; pass one value (or null) per x label.", nameof(chart));
            if (series.Values.Count != chart.XLabels.Count)
                throw new ArgumentException(
                    $"line chart \"{chart.Title}\": series \"{series.Name}\" has {series.Values.Count} values but the chart has {chart.XLabels.Count} x labels; give one value per label, null where it is missing.",
                    nameof(chart));
            for (int i = 0; i < series.Values.Count; i++)
                if (series.Values[i] is { } value)
                    ChartFrame.RequireFinite(value, $"line chart \"{chart.Title}\": series \"{series.Name}\" at x label \"{chart.XLabels[i]}\" (index {i})",
                        "pass null for a missing value, or fix the computation that produced it.");
        }

        if (chart.Highlighted is null) return;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string name in chart.Highlighted)
        {
            if (name is null || !names.Contains(name))
                throw new ArgumentException($"line chart \"{chart.Title}\": highlighted series \"{name}\" is not one of the chart's series; highlight only names that appear in Series.", nameof(chart));
            if (!seen.Add(name))
                throw new ArgumentException($"line chart \"{chart.Title}\": series \"{name}\" is highlighted twice; list each name once.", nameof(chart));
        }
    }
}
