namespace FailureSynth.Reporting;

/// <summary>Layout and pieces shared by every chart kind: margins, the title and the "no data" document.</summary>
internal static class ChartFrame
{
    public const double Margin = 16;
    public const double TitleBaseline = Margin + ChartText.TitleFontSize;
    public const double BelowTitle = TitleBaseline + 14;

    private const double NoDataWidth = 480;
    private const double NoDataHeight = 140;

    public static double TitleWidth(string title) => title.Length == 0 ? 0 : ChartText.Width(title, ChartText.TitleFontSize) + 2 * Margin;

    public static void Title(SvgBuilder svg, string title)
    {
        if (title.Length == 0) return;
        svg.Text("text", title,
            ("class", "chart-title"), ("x", Margin), ("y", TitleBaseline),
            ("font-size", ChartText.TitleFontSize), ("font-weight", "bold"), ("fill", Palette.Ink));
    }

    /// <summary>The whole document for a chart that has nothing to draw.</summary>
    public static string NoData(string title)
    {
        double width = Math.Max(NoDataWidth, TitleWidth(title));
        var svg = new SvgBuilder(width, NoDataHeight, title.Length == 0 ? "no data" : title);
        Title(svg, title);
        svg.Text("text", "no data",
            ("class", "no-data"), ("x", width / 2), ("y", (BelowTitle + NoDataHeight) / 2),
            ("text-anchor", "middle"), ("fill", Palette.Axis), ("font-style", "italic"));
        return svg.Finish();
    }

    /// <summary>Rejects a value that cannot be drawn, naming where it came from.</summary>
    public static void RequireFinite(double value, string where, string remedy)
    {
        if (double.IsFinite(value)) return;
        string what = double.IsNaN(value) ? "NaN" : value > 0 ? "+Infinity" : "-Infinity";
        throw new ArgumentException($"{where} is {what}; {remedy}", "chart");
    }

    public static void RequireRange(double? min, double? max, string minName, string maxName)
    {
        if (min is { } low) RequireFinite(low, minName, "give a finite bound or leave it null.");
        if (max is { } high) RequireFinite(high, maxName, "give a finite bound or leave it null.");
        if (min is { } a && max is { } b && !(a < b))
            throw new ArgumentException($"{minName} ({a}) must be below {maxName} ({b}); swap them or leave one null.", "chart");
    }
}
