namespace FailureSynth.Reporting;

/// <summary>
/// The fixed, colour-blind-friendly series colours every chart uses, in assignment order:
/// the eight Okabe–Ito colours, ordered so that the first few contrast best on white.
/// </summary>
public static class Palette
{
    /// <summary>Okabe–Ito: blue, orange, bluish green, vermillion, reddish purple, sky blue, yellow, black.</summary>
    public static IReadOnlyList<string> OkabeIto { get; } =
        ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"];

    /// <summary>The colour of series that are drawn for context but not highlighted.</summary>
    public const string Muted = "#C4C4C4";

    /// <summary>Gridlines, axes and other chart furniture.</summary>
    internal const string Grid = "#E6E6E6";
    internal const string Axis = "#555555";
    internal const string Ink = "#222222";
    internal const string Background = "#FFFFFF";

    /// <summary>The colour of the series at <paramref name="index"/>; the palette repeats after eight.</summary>
    public static string Color(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return OkabeIto[index % OkabeIto.Count];
    }

    /// <summary>
    /// The stroke dash pattern for the series at <paramref name="index"/>: solid for the first
    /// eight, then dashed and dotted, so repeated colours stay distinguishable; null means solid.
    /// </summary>
    public static string? Dash(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return (index / OkabeIto.Count % 3) switch
        {
            0 => null,
            1 => "6 3",
            _ => "2 2",
        };
    }
}
