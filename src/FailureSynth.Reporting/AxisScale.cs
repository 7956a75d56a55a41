using System.Globalization;

namespace FailureSynth.Reporting;

/// <summary>
/// A numeric axis rounded out to "nice" ticks (1, 2 or 5 times a power of ten), about five
/// of them, with labels that carry just enough decimals to tell the ticks apart.
/// </summary>
internal sealed record AxisScale(double Min, double Max, double Step, int Decimals)
{
    private const int TargetTickCount = 5;
    private const int MaxDecimals = 6;

    public static AxisScale Covering(double low, double high)
    {
        if (!(low <= high)) throw new InvalidOperationException($"internal layout error: axis range {low}..{high}.");
        if (low == high)
        {
            // One distinct value: centre it in a range of its own magnitude (or 0..1 around zero).
            double half = low == 0 ? 0.5 : Math.Abs(low) / 2;
            (low, high) = low == 0 ? (0, 1) : (low - half, high + half);
        }
        double span = high - low;
        if (!double.IsFinite(span))
            throw new ArgumentException($"the values span {low} to {high}, too wide a range to draw on one axis; rescale the values (e.g. to thousands) or chart them separately.");

        double raw = span / TargetTickCount;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double normalised = raw / magnitude;
        double step = normalised switch
        {
            < 1.5 => 1,
            < 3 => 2,
            < 7 => 5,
            _ => 10,
        } * magnitude;
        double min = Math.Floor(low / step) * step;
        double max = Math.Ceiling(high / step) * step;
        if (!double.IsFinite(min) || !double.IsFinite(max))
            throw new ArgumentException($"the values span {low} to {high}, too close to the largest representable number to draw; rescale the values (e.g. to thousands).");
        int decimals = Math.Clamp(-(int)Math.Floor(Math.Log10(step) + 1e-9), 0, MaxDecimals);
        return new AxisScale(min, max, step, decimals);
    }

    public int TickCount => (int)Math.Round((Max - Min) / Step) + 1;

    public IEnumerable<double> Ticks => Enumerable.Range(0, TickCount).Select(i => Min + i * Step);

    public string Label(double tick)
    {
        double rounded = Math.Round(tick, Decimals, MidpointRounding.AwayFromZero);
        if (rounded == 0) rounded = 0; // no "-0"
        return rounded.ToString("F" + Decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    /// <summary>Maps a value in [Min, Max] linearly onto [from, to] (pixels; to may be below from).</summary>
    public double Map(double value, double from, double to) => from + (value - Min) / (Max - Min) * (to - from);
}
