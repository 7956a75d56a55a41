using System.Globalization;

namespace FailureSynth.Reporting.Tests;

public sealed class StatsTests
{
    [Fact]
    public void Mean_and_sample_sd_match_the_hand_computed_values()
    {
        // mean 2.5; squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5; sample variance 5 / 3.
        var summary = Stats.MeanAndSd([1, 2, 3, 4]);
        Assert.Equal(2.5, summary.Mean, 12);
        Assert.Equal(Math.Sqrt(5.0 / 3.0), summary.Sd, 12);
        Assert.Equal(4, summary.Count);
    }

    [Fact]
    public void A_single_run_has_zero_sd()
    {
        Assert.Equal(new SampleSummary(0.634, 0, 1), Stats.MeanAndSd([0.634]));
    }

    [Fact]
    public void Sd_stays_accurate_far_from_zero()
    {
        // Naive sum-of-squares would lose every digit here.
        var summary = Stats.MeanAndSd([1e9 + 1, 1e9 + 2, 1e9 + 3]);
        Assert.Equal(1e9 + 2, summary.Mean, 6);
        Assert.Equal(1.0, summary.Sd, 9);
    }

    [Fact]
    public void Nothing_to_summarise_or_a_non_finite_run_is_rejected()
    {
        Assert.Contains("at least one run", Assert.Throws<ArgumentException>(() => Stats.MeanAndSd([])).Message);
        Assert.Contains("value 2 is NaN", Assert.Throws<ArgumentException>(() => Stats.MeanAndSd([0.5, 0.6, double.NaN])).Message);
    }

    [Theory]
    [InlineData(63.42, 1.2, 1, "63.4 ± 1.2")]
    [InlineData(63.45, 1.25, 1, "63.5 ± 1.3")]
    [InlineData(0.6342, 0.0118, 3, "0.634 ± 0.012")]
    [InlineData(12.0, 0.0, 0, "12 ± 0")]
    [InlineData(-0.01, 0.0, 1, "0.0 ± 0.0")]
    [InlineData(-3.26, 0.5, 1, "-3.3 ± 0.5")]
    public void Formats_mean_plus_minus_sd(double mean, double sd, int decimals, string expected)
    {
        Assert.Equal(expected, Stats.Format(mean, sd, decimals));
    }

    [Fact]
    public void Formatting_ignores_the_current_culture()
    {
        var commaDecimals = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        commaDecimals.NumberFormat.NumberDecimalSeparator = ",";
        var previous = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = commaDecimals;
            // mean 63.4, sd = sqrt(2 * 1.2² / 1) = 1.697
            Assert.Equal("63.4 ± 1.7", Stats.Format(Stats.MeanAndSd([62.2, 64.6]), 1));
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public void Format_rejects_what_is_not_a_mean_and_sd()
    {
        Assert.Throws<ArgumentException>(() => Stats.Format(double.NaN, 1, 1));
        Assert.Throws<ArgumentException>(() => Stats.Format(1, -0.1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Stats.Format(1, 0.1, -1));
    }

    [Fact]
    public void Accuracy_difference_standard_error_is_the_binomial_one_on_the_shared_questions()
    {
        // 60 % then 50 % on 24 questions: sqrt((0.24 + 0.25) / 24) = sqrt(0.0204166...) = 0.142887...
        Assert.Equal(0.142887, Stats.AccuracyDifferenceStandardError(0.6, 0.5, 24), 6);
        // Certain results have no sampling error; more questions shrink it by the square root.
        Assert.Equal(0, Stats.AccuracyDifferenceStandardError(1, 0, 10));
        Assert.Equal(Stats.AccuracyDifferenceStandardError(0.7, 0.6, 10) / 2, Stats.AccuracyDifferenceStandardError(0.7, 0.6, 40), 12);
    }

    [Fact]
    public void Accuracy_difference_standard_error_rejects_what_is_not_an_accuracy()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Stats.AccuracyDifferenceStandardError(1.2, 0.5, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => Stats.AccuracyDifferenceStandardError(0.5, double.NaN, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => Stats.AccuracyDifferenceStandardError(0.5, 0.5, 0));
    }
}
