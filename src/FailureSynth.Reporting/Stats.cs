using System.Globalization;

namespace FailureSynth.Reporting;

/// <summary>The mean and sample standard deviation of a set of runs (e.g. one arm over seeds).</summary>
public readonly record struct SampleSummary(double Mean, double Sd, int Count);

/// <summary>The summary statistics experiment reports print as "mean ± sd" over seeds.</summary>
public static class Stats
{
    /// <summary>Mean and sample standard deviation (n − 1 in the denominator; 0 for a single value).</summary>
    public static SampleSummary MeanAndSd(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
            throw new ArgumentException("no values to summarise; the mean and sd need at least one run (check that the experiment produced results).", nameof(values));
        for (int i = 0; i < values.Count; i++)
            if (!double.IsFinite(values[i]))
                throw new ArgumentException($"value {i} is {values[i]}; every run must have a finite result to be summarised.", nameof(values));

        // Two passes: subtracting the mean first keeps the variance accurate for values far from 0.
        double sum = 0;
        foreach (double value in values) sum += value;
        double mean = sum / values.Count;
        if (values.Count == 1) return new SampleSummary(mean, 0, 1);
        double squares = 0;
        foreach (double value in values) squares += (value - mean) * (value - mean);
        return new SampleSummary(mean, Math.Sqrt(squares / (values.Count - 1)), values.Count);
    }

    /// <summary>
    /// Standard error of the difference between two accuracies measured on the same <paramref name="count"/> test
    /// questions, treating each as a binomial estimate: sqrt((before (1 - before) + after (1 - after)) / count).
    /// It ignores that the questions are shared (which would make it smaller), so a difference beyond two of these
    /// is beyond the test set's noise.
    /// </summary>
    public static double AccuracyDifferenceStandardError(double before, double after, int count)
    {
        if (!(before is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(before), before, "an accuracy is between 0 and 1.");
        if (!(after is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(after), after, "an accuracy is between 0 and 1.");
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "the accuracies need at least one test question.");
        return Math.Sqrt((before * (1 - before) + after * (1 - after)) / count);
    }

    /// <summary>"63.4 ± 1.2": both numbers with the given decimals, invariant culture, never "-0.0".</summary>
    public static string Format(double mean, double sd, int decimals = 1)
    {
        if (decimals is < 0 or > 15) throw new ArgumentOutOfRangeException(nameof(decimals), decimals, "decimals must be between 0 and 15.");
        if (!double.IsFinite(mean)) throw new ArgumentException($"mean is {mean}; only finite numbers can be reported.", nameof(mean));
        if (!double.IsFinite(sd) || sd < 0) throw new ArgumentException($"sd is {sd}; a standard deviation is a finite number of 0 or more.", nameof(sd));
        return $"{Fixed(mean, decimals)} ± {Fixed(sd, decimals)}";
    }

    /// <inheritdoc cref="Format(double, double, int)"/>
    public static string Format(SampleSummary summary, int decimals = 1) => Format(summary.Mean, summary.Sd, decimals);

    private static string Fixed(double value, int decimals)
    {
        double rounded = Math.Round(value, decimals, MidpointRounding.AwayFromZero);
        if (rounded == 0) rounded = 0;
        return rounded.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }
}
