using System.Globalization;
using System.Xml.Linq;
using static FailureSynth.Reporting.Tests.ChartXml;

namespace FailureSynth.Reporting.Tests;

public sealed class BarChartTests
{
    private static BarChart FailuresPerSkill(int rows) => new("Failures per skill",
        Enumerable.Range(0, rows).Select(i => BarRow.Single($"skill/{i}", 100 - 7 * i)).ToList())
    { ValueAxisLabel = "failures", Decimals = 0 };

    private static BarChart BeforeAfter() => new("Accuracy before and after",
        [
            new BarRow("count/color=cyan/n>=5", [0.41, 0.63], [0.02, 0.03]),
            new BarRow("relation/left-of", [0.55, 0.52], [0.01, null]),
            new BarRow("shape", [0.90, 0.91]),
            new BarRow("material & <size>", [0.70, 0.72], [0.00, 0.05]),
        ])
    { SeriesNames = ["before", "after"], ValueAxisLabel = "accuracy (mean ± sd)" };

    /// <summary>Reads a value back from the drawing, using the value axis's own gridlines and tick labels.</summary>
    private static Func<double, double> ValueAtX(XDocument svg)
    {
        var gridX = ByClass(svg, "line", "gridline").Select(l => Number(l, "x1")).ToList();
        var ticks = ByClass(svg, "text", "tick-label").Select(t => double.Parse(t.Value, CultureInfo.InvariantCulture)).ToList();
        return x => ticks[0] + (x - gridX[0]) / (gridX[^1] - gridX[0]) * (ticks[^1] - ticks[0]);
    }

    [Fact]
    public void Same_input_renders_identical_bytes()
    {
        Assert.Equal(SvgChart.Bars(BeforeAfter()), SvgChart.Bars(BeforeAfter()));
        Assert.Equal(SvgChart.Bars(FailuresPerSkill(9)), SvgChart.Bars(FailuresPerSkill(9)));
    }

    [Fact]
    public void Draws_one_rect_per_bar_in_the_order_given()
    {
        var svg = Parse(SvgChart.Bars(FailuresPerSkill(6)));
        var bars = ByClass(svg, "rect", "bar");
        Assert.Equal(6, bars.Count);
        var labels = ByClass(svg, "text", "row-label");
        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"skill/{i}"), labels.Select(l => l.Value));
        Assert.True(labels.Zip(labels.Skip(1)).All(pair => Number(pair.First, "y") < Number(pair.Second, "y")), "rows are not top to bottom in input order");
        Assert.Equal(["100", "93", "86", "79", "72", "65"], ByClass(svg, "text", "value-label").Select(t => t.Value));
        Assert.Empty(ByClass(svg, "g", "legend"));
        Assert.All(bars, b => Assert.Equal(Palette.OkabeIto[0], (string)b.Attribute("fill")!));
        AssertTextFitsViewBox(svg);
    }

    [Fact]
    public void Bar_lengths_are_proportional_to_the_values()
    {
        var svg = Parse(SvgChart.Bars(FailuresPerSkill(5)));
        var valueAt = ValueAtX(svg);
        var bars = ByClass(svg, "rect", "bar");
        double zero = Number(Assert.Single(ByClass(svg, "line", "axis")), "x1");
        Assert.Equal(0, valueAt(zero), 6);
        for (int i = 0; i < bars.Count; i++)
        {
            Assert.Equal(zero, Number(bars[i], "x"), 2);
            Assert.Equal(100 - 7 * i, valueAt(Number(bars[i], "x") + Number(bars[i], "width")), 1);
        }
    }

    [Fact]
    public void The_chart_grows_with_the_number_of_bars_and_the_longest_label()
    {
        double Height(BarChart chart) => ViewBoxSize(Parse(SvgChart.Bars(chart))).Height;
        Assert.True(Height(FailuresPerSkill(10)) > Height(FailuresPerSkill(5)));
        Assert.True(Height(FailuresPerSkill(74)) > Height(FailuresPerSkill(10)));
        // Evenly: each row adds the same height.
        Assert.Equal(Height(FailuresPerSkill(10)) - Height(FailuresPerSkill(5)), Height(FailuresPerSkill(15)) - Height(FailuresPerSkill(10)), 2);

        var shortLabels = new BarChart("f", [BarRow.Single("count", 3)]);
        var longLabels = new BarChart("f", [BarRow.Single("count/color=cyan/shape=cylinder/material=metal/n>=5", 3)]);
        var wide = Parse(SvgChart.Bars(longLabels));
        Assert.True(ViewBoxSize(wide).Width > ViewBoxSize(Parse(SvgChart.Bars(shortLabels))).Width);
        AssertTextFitsViewBox(wide);
        AssertTextFitsViewBox(Parse(SvgChart.Bars(FailuresPerSkill(74))));
    }

    [Fact]
    public void Grouped_series_get_a_bar_each_a_colour_each_and_a_legend()
    {
        var svg = Parse(SvgChart.Bars(BeforeAfter()));
        var bars = ByClass(svg, "rect", "bar");
        Assert.Equal(8, bars.Count);
        Assert.Equal(["before", "after"], ByClass(svg, "g", "legend-entry").Select(e => e.Element(Svg + "text")!.Value));
        Assert.Equal(2, ByClass(svg, "rect", "swatch").Count);
        Assert.Equal(Enumerable.Repeat(new[] { Palette.OkabeIto[0], Palette.OkabeIto[1] }, 4).SelectMany(c => c),
            bars.Select(b => (string)b.Attribute("fill")!));
        // The two bars of a row sit one under the other, between this row's label and the next.
        Assert.True(Number(bars[0], "y") < Number(bars[1], "y"));
        Assert.True(Number(bars[1], "y") + Number(bars[1], "height") <= Number(bars[2], "y"));
        Assert.Equal("count/color=cyan/n>=5 · after: 0.63 ± 0.03", bars[1].Element(Svg + "title")!.Value);
        AssertTextFitsViewBox(svg);
    }

    [Fact]
    public void Error_whiskers_span_mean_plus_and_minus_sd()
    {
        var svg = Parse(SvgChart.Bars(BeforeAfter()));
        var whiskers = ByClass(svg, "path", "whisker");
        Assert.Equal(5, whiskers.Count); // six errors given, one of them null
        var valueAt = ValueAtX(svg);
        var first = (string)whiskers[0].Attribute("d")!;
        var xs = first.Split('M', StringSplitOptions.RemoveEmptyEntries)[0].Split('H');
        double from = double.Parse(xs[0].Split(',')[0], CultureInfo.InvariantCulture);
        double to = double.Parse(xs[1], CultureInfo.InvariantCulture);
        Assert.Equal(0.39, valueAt(from), 2);
        Assert.Equal(0.43, valueAt(to), 2);
        Assert.Equal(["0.41 ± 0.02", "0.63 ± 0.03", "0.55 ± 0.01", "0.52", "0.90", "0.91", "0.70 ± 0.00", "0.72 ± 0.05"],
            ByClass(svg, "text", "value-label").Select(t => t.Value));
    }

    [Fact]
    public void Negative_values_extend_left_of_zero()
    {
        var chart = new BarChart("accuracy change", [BarRow.Single("count", 0.25), BarRow.Single("relation", -0.125)]) { Decimals = 3 };
        var svg = Parse(SvgChart.Bars(chart));
        double zero = Number(Assert.Single(ByClass(svg, "line", "axis")), "x1");
        var bars = ByClass(svg, "rect", "bar");
        Assert.Equal(zero, Number(bars[0], "x"), 2);
        Assert.Equal(zero, Number(bars[1], "x") + Number(bars[1], "width"), 2);
        var valueAt = ValueAtX(svg);
        Assert.Equal(-0.125, valueAt(Number(bars[1], "x")), 3);
        var labels = ByClass(svg, "text", "value-label");
        Assert.Equal(["0.250", "-0.125"], labels.Select(l => l.Value));
        Assert.Equal("end", (string)labels[1].Attribute("text-anchor")!);
        Assert.True(Number(labels[1], "x") < Number(bars[1], "x"));
        AssertTextFitsViewBox(svg);
    }

    [Fact]
    public void Labels_with_markup_characters_are_escaped()
    {
        var chart = new BarChart("rejections <by reason> & skill", [BarRow.Single("count/color=cyan/n>=5", 3), BarRow.Single("a<b & \"c\"", 1)]);
        string markup = SvgChart.Bars(chart);
        var svg = Parse(markup);
        Assert.Equal(["count/color=cyan/n>=5", "a<b & \"c\""], ByClass(svg, "text", "row-label").Select(t => t.Value));
        Assert.Equal("rejections <by reason> & skill", ByClass(svg, "text", "chart-title")[0].Value);
        Assert.Contains("n&gt;=5", markup);
    }

    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "+Infinity")]
    public void Non_finite_values_are_rejected_naming_bar_and_series(double bad, string shown)
    {
        var chart = BeforeAfter() with { Rows = [new BarRow("relation/left-of", [0.5, bad])] };
        var error = Assert.Throws<ArgumentException>(() => SvgChart.Bars(chart));
        Assert.Contains("bar \"relation/left-of\" (series \"after\") value is " + shown, error.Message);
        Assert.Equal("chart", error.ParamName);

        var single = new BarChart("failures", [BarRow.Single("count", 2), BarRow.Single("shape", bad)]);
        Assert.Contains("bar \"shape\" value is " + shown, Assert.Throws<ArgumentException>(() => SvgChart.Bars(single)).Message);
    }

    [Fact]
    public void Bad_errors_and_mismatched_rows_are_rejected_with_the_reason()
    {
        var infiniteError = new BarChart("arms", [BarRow.Single("targeted", 0.6, double.PositiveInfinity)]);
        Assert.Contains("bar \"targeted\" error is +Infinity", Assert.Throws<ArgumentException>(() => SvgChart.Bars(infiniteError)).Message);

        var negativeError = new BarChart("arms", [BarRow.Single("random", 0.6, -0.1)]);
        Assert.Contains("bar \"random\" error is -0.1", Assert.Throws<ArgumentException>(() => SvgChart.Bars(negativeError)).Message);

        var missingValue = BeforeAfter() with { Rows = [BarRow.Single("shape", 0.9)] };
        Assert.Contains("bar \"shape\" has 1 values but the chart has 2 series (before, after)",
            Assert.Throws<ArgumentException>(() => SvgChart.Bars(missingValue)).Message);

        var badDecimals = FailuresPerSkill(2) with { Decimals = 9 };
        Assert.Contains("Decimals is 9", Assert.Throws<ArgumentException>(() => SvgChart.Bars(badDecimals)).Message);
    }

    [Fact]
    public void A_chart_without_rows_says_no_data()
    {
        var svg = Parse(SvgChart.Bars(new BarChart("Rejection reasons", [])));
        Assert.Equal("no data", Assert.Single(ByClass(svg, "text", "no-data")).Value);
        Assert.Empty(ByClass(svg, "rect", "bar"));
    }

    [Fact]
    public void All_zero_values_still_get_a_readable_axis()
    {
        var svg = Parse(SvgChart.Bars(new BarChart("failures", [BarRow.Single("count", 0), BarRow.Single("shape", 0)]) { Decimals = 0 }));
        var ticks = ByClass(svg, "text", "tick-label").Select(t => t.Value).ToList();
        Assert.Equal("0.0", ticks[0]);
        Assert.Equal("1.0", ticks[^1]);
        Assert.All(ByClass(svg, "rect", "bar"), b => Assert.Equal(0, Number(b, "width")));
    }
}
