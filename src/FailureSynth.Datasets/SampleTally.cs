namespace FailureSynth.Datasets;

/// <summary>What a dataset writer counts as it writes: samples, and samples per family and per skill, for manifest.json.</summary>
internal sealed class SampleTally
{
    private readonly SortedDictionary<string, int> families = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, int> skills = new(StringComparer.Ordinal);

    public int Count { get; private set; }

    /// <summary>Counts one written sample (each of its skills once).</summary>
    public void Add(VqaSample sample)
    {
        if (sample.Family is not null) families[sample.Family] = families.GetValueOrDefault(sample.Family) + 1;
        foreach (var skill in (sample.Skills ?? []).Distinct(StringComparer.Ordinal))
            skills[skill] = skills.GetValueOrDefault(skill) + 1;
        Count++;
    }

    public DatasetManifest Manifest(string directory, string name) => DatasetManifest.Build(directory, name, Count, families, skills);
}
