using System.Globalization;
using System.Text;

namespace FailureSynth.Datasets;

/// <summary>A name with how many samples have it, as listed in a <see cref="DatasetSummary"/>.</summary>
public sealed record CountEntry(string Name, int Count);

/// <summary>Length statistics of the questions, in whitespace-separated words.</summary>
public sealed record LengthStats(int Min, double Mean, int Median, int Max);

/// <summary>What <c>failuresynth dataset inspect</c> reports about a dataset that loaded and validated completely.</summary>
/// <param name="Families">Samples per family, most frequent first (all of them).</param>
/// <param name="TopSkills">The most frequent skills, most frequent first; <paramref name="DistinctSkills"/> counts all.</param>
/// <param name="TopAnswers">The most frequent answers, most frequent first; <paramref name="DistinctAnswers"/> counts all.</param>
/// <param name="ChoiceFormShare">Fraction of samples that are multiple-choice (have <see cref="VqaSample.Choices"/>).</param>
/// <param name="ImagesReferenced">Distinct image paths the samples refer to.</param>
/// <param name="ImagesMissing">How many of those are not on disk under <paramref name="ImageRoot"/>.</param>
/// <param name="DatasetSha256">For FailureSynth folders: the verified manifest hash; null for other formats.</param>
public sealed record DatasetSummary(
    string Path,
    string Format,
    int SampleCount,
    IReadOnlyList<CountEntry> Splits,
    IReadOnlyList<CountEntry> Families,
    IReadOnlyList<CountEntry> TopSkills,
    int DistinctSkills,
    IReadOnlyList<CountEntry> TopAnswers,
    int DistinctAnswers,
    LengthStats QuestionWords,
    double ChoiceFormShare,
    int ImagesReferenced,
    int ImagesMissing,
    string? ImageRoot,
    string? DatasetSha256,
    IReadOnlyList<string> Warnings)
{
    /// <summary>The summary as a plain-text report with aligned tables, for the command line.</summary>
    public string ToText()
    {
        var text = new StringBuilder();
        var facts = new List<(string, string)>
        {
            ("Dataset", Path),
            ("Format", Format),
            ("Samples", Number(SampleCount)),
        };
        if (DatasetSha256 is not null) facts.Add(("Manifest", "verified, dataset_sha256 " + DatasetSha256));
        facts.Add(("Images", $"{Number(ImagesReferenced)} referenced, {Number(ImagesMissing)} missing" + (ImageRoot is null ? "" : $" (under {ImageRoot})")));
        facts.Add(("Choice form", Percent(ChoiceFormShare)));
        facts.Add(("Question words", string.Create(CultureInfo.InvariantCulture,
            $"min {QuestionWords.Min}, mean {QuestionWords.Mean:0.0}, median {QuestionWords.Median}, max {QuestionWords.Max}")));
        var width = facts.Max(f => f.Item1.Length);
        foreach (var (label, value) in facts) text.Append(label.PadRight(width + 2)).Append(value).Append('\n');

        Table(text, "Splits", Splits, Splits.Count);
        Table(text, "Families", Families, Families.Count);
        Table(text, "Skills", TopSkills, DistinctSkills);
        Table(text, "Answers", TopAnswers, DistinctAnswers);
        if (Warnings.Count > 0)
        {
            text.Append("\nWarnings\n");
            foreach (var warning in Warnings) text.Append("  - ").Append(warning).Append('\n');
        }

        return text.ToString();
    }

    private void Table(StringBuilder text, string title, IReadOnlyList<CountEntry> entries, int distinct)
    {
        text.Append('\n').Append(title);
        if (entries.Count < distinct) text.Append(" (top ").Append(Number(entries.Count)).Append(" of ").Append(Number(distinct)).Append(')');
        text.Append('\n');
        if (entries.Count == 0)
        {
            text.Append("  (none)\n");
            return;
        }

        var nameWidth = Math.Min(48, entries.Max(e => e.Name.Length));
        var countWidth = entries.Max(e => Number(e.Count).Length);
        foreach (var entry in entries)
        {
            var name = entry.Name.Length > nameWidth ? entry.Name[..(nameWidth - 3)] + "..." : entry.Name;
            text.Append("  ").Append(name.PadRight(nameWidth))
                .Append("  ").Append(Number(entry.Count).PadLeft(countWidth))
                .Append("  ").Append(Percent(SampleCount == 0 ? 0 : (double)entry.Count / SampleCount).PadLeft(7))
                .Append('\n');
        }
    }

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Percent(double share) => (share * 100).ToString("0.0", CultureInfo.InvariantCulture) + " %";
}
