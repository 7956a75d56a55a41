namespace FailureSynth.Reporting;

/// <summary>
/// Text sizes and the width estimate the layouts reserve room with: no font is measured, so
/// a character is taken as 0.6 font sizes wide, a fair upper bound for sans-serif Latin text.
/// </summary>
internal static class ChartText
{
    public const double FontSize = 12;
    public const double TitleFontSize = 16;
    public const double SmallFontSize = 11;
    public const double CharWidthPerFontSize = 0.6;

    public static double Width(string text, double fontSize = FontSize) =>
        text.Length * CharWidthPerFontSize * fontSize;

    /// <summary>Offset from a line's vertical centre to the baseline that centres the text on it.</summary>
    public static double CenterBaseline(double fontSize = FontSize) => 0.35 * fontSize;
}
