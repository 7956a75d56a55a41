using System.Globalization;
using System.Xml.Linq;
using static FailureSynth.Reporting.Tests.ChartXml;

namespace FailureSynth.Reporting.Tests;

public sealed class LineChartTests
{
    private static readonly string[] Iterations = ["baseline", "iter 1", "iter 2", "iter 3"];

    private static LineChart ThreeSkills() => new("Accuracy per skill", Iterations,
        [
            new LineSeries("count", [0.40, 0.55, 0.61, 0.70]),
            new LineSeries("color", [0.80, 0.82, null, 0.85]),
            new LineSeries("relation/left-of", [0.20, 0.35, 0.50, 0.52]),
        ])
    { YAxisLabel = "accuracy", XAxisLabel = "iteration" };

    /// <summary>Many skills whose accuracies differ per skill and iteration (a fixed scramble, no randomness needed).</summary>
    private static LineChart ManySkills(int skills, IReadOnlyList<string>? highlighted)
    {
        var series = Enumerable.Range(0, skills)
            .Select(s => new LineSeries($"skill/{s:D2}", Iterations.Select((_, i) => (double?)((s * 37 + i * 11) % 101 / 100.0)).ToList()))
            .ToList();
        return new LineChart("Accuracy per skill", Iterations, series) { Highlighted = highlighted, YAxisLabel = "accuracy" };
    }

    [Fact]
    public void Same_input_renders_identical_bytes()
    {
        string first = SvgChart.Lines(ThreeSkills());
        string second = SvgChart.Lines(ThreeSkills());
        Assert.Equal(first, second);
        Assert.Equal(SvgChart.Lines(ManySkills(74, ["skill/03", "skill/40"])), SvgChart.Lines(ManySkills(74, ["skill/03", "skill/40"])));
    }

    [Fact]
    public void Output_does_not_depend_on_the_current_culture()
    {
        string invariant = SvgChart.Lines(ThreeSkills());
        var commaDecimals = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        commaDecimals.NumberFormat.NumberDecimalSeparator = ",";
        commaDecimals.NumberFormat.NegativeSign = "~";
        var previous = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = commaDecimals;
            Assert.Equal(invariant, SvgChart.Lines(ThreeSkills()));
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public void Draws_one_path_per_series_and_one_legend_entry_each()
    {
        var svg = Parse(SvgChart.Lines(ThreeSkills()));
        var paths = ByClass(svg, "path", "series");
        Assert.Equal(3, paths.Count);
        Assert.Equal(["count", "color", "relation/left-of"], paths.Select(p => (string)p.Attribute("data-series")!).Reverse());
        var legend = ByClass(svg, "g", "legend-entry");
        Assert.Equal(["count", "color", "relation/left-of"], legend.Select(e => e.Element(Svg + "text")!.Value));
        Assert.Empty(ByClass(svg, "g", "legend-more"));
        Assert.Equal(["accuracy", "iteration"], ByClass(svg, "text", "axis-label").Select(t => t.Value));
        Assert.Equal(Iterations, ByClass(svg, "text", "x-label").Select(t => t.Value));
        Assert.Equal("Accuracy per skill", svg.Root!.Element(Svg + "title")!.Value);
        // 11 present values, one marker each.
        Assert.Equal(11, ByClass(svg, "circle", "marker").Count);
        AssertTextFitsViewBox(svg);
    }

    [Fact]
    public void Highlights_a_subset_in_palette_order_and_greys_the_rest()
    {
        string[] weakest = ["skill/07", "skill/70", "skill/00", "skill/33", "skill/12", "skill/55", "skill/21", "skill/64"];
        var svg = Parse(SvgChart.Lines(ManySkills(74, weakest)));
        var paths = ByClass(svg, "path", "series");
        Assert.Equal(74, paths.Count);

        var coloured = paths.Where(p => (string)p.Attribute("stroke")! != Palette.Muted).ToList();
        Assert.Equal(weakest.Reverse(), coloured.Select(p => (string)p.Attribute("data-series")!));
        for (int rank = 0; rank < weakest.Length; rank++)
        {
            var path = coloured.Single(p => (string)p.Attribute("data-series")! == weakest[rank]);
            Assert.Equal(Palette.OkabeIto[rank], (string)path.Attribute("stroke")!);
        }
        // Context lines come first in the document, so the highlighted ones are drawn over them.
        Assert.All(paths.Take(66), p => Assert.Equal(Palette.Muted, (string)p.Attribute("stroke")!));
        Assert.All(paths.Take(66), p => Assert.True(Number(p, "stroke-width") < Number(coloured[0], "stroke-width")));

        Assert.Equal(weakest, ByClass(svg, "g", "legend-entry").Select(e => e.Element(Svg + "text")!.Value));
        Assert.Equal("+66 more (grey)", Assert.Single(ByClass(svg, "g", "legend-more")).Element(Svg + "text")!.Value);
        Assert.Equal(8 * Iterations.Length, ByClass(svg, "circle", "marker").Count);
    }

    [Fact]
    public void Legend_is_limited_to_the_first_entries_and_counts_the_rest()
    {
        var chart = ManySkills(12, null) with { MaxLegendEntries = 5 };
        var svg = Parse(SvgChart.Lines(chart));
        Assert.Equal(["skill/00", "skill/01", "skill/02", "skill/03", "skill/04"],
            ByClass(svg, "g", "legend-entry").Select(e => e.Element(Svg + "text")!.Value));
        Assert.Equal("+7 more", Assert.Single(ByClass(svg, "g", "legend-more")).Element(Svg + "text")!.Value);
        // Past the eight palette colours, series repeat a colour with a dash pattern.
        var ninth = ByClass(svg, "path", "series").Single(p => (string)p.Attribute("data-series")! == "skill/08");
        Assert.Equal(Palette.OkabeIto[0], (string)ninth.Attribute("stroke")!);
        Assert.NotNull(ninth.Attribute("stroke-dasharray"));
    }

    [Fact]
    public void Missing_values_break_the_line_and_a_lone_point_still_shows()
    {
        var chart = new LineChart("gaps", ["a", "b", "c", "d", "e"],
        [
            new LineSeries("broken", [0.1, 0.2, null, 0.4, 0.5]),
            new LineSeries("lonely", [null, null, 0.3, null, null]),
            new LineSeries("absent", [null, null, null, null, null]),
        ]);
        var svg = Parse(SvgChart.Lines(chart));
        var paths = ByClass(svg, "path", "series").ToDictionary(p => (string)p.Attribute("data-series")!);
        Assert.Equal([2, 2], PathRuns(paths["broken"]).Select(run => run.Count));
        Assert.Single(Assert.Single(PathRuns(paths["lonely"])));
        Assert.EndsWith("h0", (string)paths["lonely"].Attribute("d")!);
        Assert.Equal("round", (string)ByClass(svg, "g", "series-layer")[0].Attribute("stroke-linecap")!);
        Assert.False(paths.ContainsKey("absent"));
        Assert.Equal(3, ByClass(svg, "g", "legend-entry").Count);
    }

    [Fact]
    public void Accuracy_values_map_onto_a_zero_to_one_axis()
    {
        var chart = new LineChart("acc", ["0", "1", "2"], [new LineSeries("s", [0.0, 0.5, 1.0])]);
        var svg = Parse(SvgChart.Lines(chart));
        var ticks = ByClass(svg, "text", "tick-label").Select(t => t.Value).ToList();
        Assert.Equal(["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"], ticks);
        var gridY = ByClass(svg, "line", "gridline").Select(l => Number(l, "y1")).ToList();
        var points = Assert.Single(PathRuns(ByClass(svg, "path", "series")[0]));
        Assert.Equal(gridY[0], points[0].Y, 2);
        Assert.Equal((gridY[0] + gridY[^1]) / 2, points[1].Y, 2);
        Assert.Equal(gridY[^1], points[2].Y, 2);
        Assert.True(points[0].X < points[1].X && points[1].X < points[2].X);
    }

    [Fact]
    public void Values_outside_zero_to_one_get_an_axis_that_covers_them()
    {
        var chart = new LineChart("failures", ["0", "1", "2", "3"], [new LineSeries("count", [3, 47, -12, 20])]);
        var svg = Parse(SvgChart.Lines(chart));
        var ticks = ByClass(svg, "text", "tick-label").Select(t => double.Parse(t.Value, CultureInfo.InvariantCulture)).ToList();
        Assert.True(ticks[0] <= -12 && ticks[^1] >= 47, $"ticks {string.Join(",", ticks)} do not cover -12..47");
        Assert.InRange(ticks.Count, 4, 11);
        var gridY = ByClass(svg, "line", "gridline").Select(l => Number(l, "y1")).ToList();
        double Value(double y) => ticks[0] + (y - gridY[0]) / (gridY[^1] - gridY[0]) * (ticks[^1] - ticks[0]);
        var points = Assert.Single(PathRuns(ByClass(svg, "path", "series")[0]));
        Assert.Equal([3, 47, -12, 20], points.Select(p => Math.Round(Value(p.Y))));
    }

    [Fact]
    public void An_explicit_range_widens_the_axis_but_never_hides_values()
    {
        var chart = new LineChart("acc", ["0", "1"], [new LineSeries("s", [0.42, 0.61])]) { YMin = 0.4, YMax = 0.5 };
        var ticks = ByClass(Parse(SvgChart.Lines(chart)), "text", "tick-label").Select(t => double.Parse(t.Value, CultureInfo.InvariantCulture)).ToList();
        Assert.True(ticks[0] <= 0.4 && ticks[0] > 0.3, $"first tick {ticks[0]}");
        Assert.True(ticks[^1] >= 0.61 && ticks[^1] < 0.7, $"last tick {ticks[^1]}");
    }

    [Fact]
    public void Many_iterations_show_every_kth_label_without_overlap()
    {
        var labels = Enumerable.Range(0, 60).Select(i => $"iteration {i}").ToList();
        var chart = new LineChart("long run", labels, [new LineSeries("s", labels.Select((_, i) => (double?)(i / 60.0)).ToList())]);
        var svg = Parse(SvgChart.Lines(chart));
        var shown = ByClass(svg, "text", "x-label");
        Assert.InRange(shown.Count, 2, 59);
        Assert.Equal("iteration 0", shown[0].Value);
        for (int i = 1; i < shown.Count; i++)
        {
            double gap = Number(shown[i], "x") - Number(shown[i - 1], "x");
            double halfWidths = (shown[i].Value.Length + shown[i - 1].Value.Length) * 0.6 * 12 / 2;
            Assert.True(gap >= halfWidths, $"labels \"{shown[i - 1].Value}\" and \"{shown[i].Value}\" overlap");
        }
        Assert.Equal(60, ByClass(svg, "line", "tick").Count);
        AssertTextFitsViewBox(svg);
    }

    [Fact]
    public void Markup_in_names_and_labels_is_escaped()
    {
        const string Skill = "count/color=cyan/n>=5 & <shape>";
        var chart = new LineChart("Q&A <accuracy> \"per\" 'skill'", ["it<1>", "it&2"], [new LineSeries(Skill, [0.5, 0.6])])
        { YAxisLabel = "acc >= 0" };
        string markup = SvgChart.Lines(chart);
        var svg = Parse(markup);
        Assert.Equal(Skill, (string)ByClass(svg, "path", "series")[0].Attribute("data-series")!);
        Assert.Equal(Skill, ByClass(svg, "g", "legend-entry")[0].Element(Svg + "text")!.Value);
        Assert.Equal("Q&A <accuracy> \"per\" 'skill'", ByClass(svg, "text", "chart-title")[0].Value);
        Assert.Equal(["it<1>", "it&2"], ByClass(svg, "text", "x-label").Select(t => t.Value));
        Assert.DoesNotContain("n>=5", markup);
    }

    [Fact]
    public void Characters_xml_forbids_are_replaced_not_emitted()
    {
        var chart = new LineChart("bell\u0007 and \uD800 lone surrogate", ["x"], [new LineSeries("s\u0001", [0.5])]);
        var svg = Parse(SvgChart.Lines(chart));
        Assert.Equal("bell\uFFFD and \uFFFD lone surrogate", ByClass(svg, "text", "chart-title")[0].Value);
    }

    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "+Infinity")]
    [InlineData(double.NegativeInfinity, "-Infinity")]
    public void Non_finite_values_are_rejected_naming_series_and_label(double bad, string shown)
    {
        var chart = new LineChart("acc", ["a", "b"], [new LineSeries("fine", [0.1, 0.2]), new LineSeries("relation/above", [0.3, bad])]);
        var error = Assert.Throws<ArgumentException>(() => SvgChart.Lines(chart));
        Assert.Contains("\"relation/above\"", error.Message);
        Assert.Contains("\"b\"", error.Message);
        Assert.Contains(shown, error.Message);
        Assert.Equal("chart", error.ParamName);
    }

    [Fact]
    public void Inconsistent_charts_are_rejected_with_the_reason()
    {
        var shortSeries = new LineChart("acc", ["a", "b", "c"], [new LineSeries("count", [0.1, 0.2])]);
        Assert.Contains("\"count\" has 2 values but the chart has 3 x labels", Assert.Throws<ArgumentException>(() => SvgChart.Lines(shortSeries)).Message);

        var unknownHighlight = ThreeSkills() with { Highlighted = ["count", "shape"] };
        Assert.Contains("\"shape\" is not one of the chart's series", Assert.Throws<ArgumentException>(() => SvgChart.Lines(unknownHighlight)).Message);

        var twice = new LineChart("acc", ["a"], [new LineSeries("count", [0.1]), new LineSeries("count", [0.2])]);
        Assert.Contains("two series are named \"count\"", Assert.Throws<ArgumentException>(() => SvgChart.Lines(twice)).Message);

        var upsideDown = ThreeSkills() with { YMin = 1, YMax = 0 };
        Assert.Contains("YMin (1) must be below", Assert.Throws<ArgumentException>(() => SvgChart.Lines(upsideDown)).Message);

        var unnamed = new LineChart("acc", ["a"], [new LineSeries(" ", [0.1])]);
        Assert.Contains("series 0 has no name", Assert.Throws<ArgumentException>(() => SvgChart.Lines(unnamed)).Message);
    }

    public static TheoryData<string, LineChart> EmptyCharts => new()
    {
        { "no series", new LineChart("Accuracy per skill", ["0", "1"], []) },
        { "no x labels", new LineChart("Accuracy per skill", [], [new LineSeries("count", [])]) },
        { "only missing values", new LineChart("Accuracy per skill", ["0", "1"], [new LineSeries("count", [null, null])]) },
    };

    [Theory]
    [MemberData(nameof(EmptyCharts))]
    public void Charts_without_data_say_so(string why, LineChart chart)
    {
        var svg = Parse(SvgChart.Lines(chart));
        Assert.Equal("no data", Assert.Single(ByClass(svg, "text", "no-data")).Value);
        Assert.Equal("Accuracy per skill", ByClass(svg, "text", "chart-title")[0].Value);
        Assert.Empty(ByClass(svg, "path", "series"));
        Assert.True(ViewBoxSize(svg).Width > 0, why);
        AssertTextFitsViewBox(svg);
    }

    [Fact]
    public void Long_legend_names_widen_the_chart()
    {
        var shortNames = new LineChart("acc", ["0", "1"], [new LineSeries("count", [0.1, 0.2])]);
        var longNames = new LineChart("acc", ["0", "1"], [new LineSeries("count/color=cyan/shape=cylinder/n>=5", [0.1, 0.2])]);
        var narrow = Parse(SvgChart.Lines(shortNames));
        var wide = Parse(SvgChart.Lines(longNames));
        Assert.True(ViewBoxSize(wide).Width > ViewBoxSize(narrow).Width);
        AssertTextFitsViewBox(wide);
        Assert.Equal((string)wide.Root!.Attribute("width")!, ((string)wide.Root.Attribute("viewBox")!).Split(' ')[2]);
    }

    [Fact]
    public void A_long_last_x_label_does_not_run_into_the_legend()
    {
        var chart = new LineChart("acc", ["0", "1", "final checkpoint (promoted)"], [new LineSeries("count", [0.1, 0.2, 0.3])]);
        var svg = Parse(SvgChart.Lines(chart));
        var last = ByClass(svg, "text", "x-label")[^1];
        Assert.Equal("final checkpoint (promoted)", last.Value);
        double lastRight = Number(last, "x") + last.Value.Length * 0.6 * 12 / 2;
        double legendLeft = Number(ByClass(svg, "g", "legend-entry")[0].Element(Svg + "line")!, "x1");
        Assert.True(lastRight < legendLeft, $"the last x label ends at {lastRight}, past the legend's start {legendLeft}");
    }

    [Fact]
    public void A_legend_taller_than_the_plot_makes_the_chart_taller()
    {
        double Height(int legendEntries) =>
            ViewBoxSize(Parse(SvgChart.Lines(ManySkills(40, null) with { MaxLegendEntries = legendEntries }))).Height;
        Assert.Equal(Height(5), Height(10));
        Assert.True(Height(30) > Height(10));
        AssertTextFitsViewBox(Parse(SvgChart.Lines(ManySkills(40, null) with { MaxLegendEntries = 30 })));
    }
}
