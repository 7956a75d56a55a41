using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;
using FailureSynth.World.Skills;

namespace FailureSynth.World.Tests;

public class ProfileFileTests
{
    [Fact]
    public void A_written_built_in_profile_reads_back_to_the_same_weights_and_samples()
    {
        foreach (string name in Profiles.Names)
        {
            Profile original = Profiles.Get(name);
            Profile read = ProfileFile.Parse(ProfileFile.Write(original), $"{name}.yaml");
            Assert.Equal(ProfileFile.Write(original), ProfileFile.Write(read));
            Assert.Equal(original.Colors.Entries, read.Colors.Entries);
            Assert.Equal(original.Relations.Entries, read.Relations.Entries);
            Assert.Equal(original.MaxNoiseAmplitude, read.MaxNoiseAmplitude);
            var a = new WorldGenerator(original);
            var b = new WorldGenerator(read);
            for (int i = 0; i < 40; i++)
                Assert.Equal(WorldJson.Serialize(a.Generate(5, i)), WorldJson.Serialize(b.Generate(5, i)));
        }
    }

    [Fact]
    public void A_key_left_out_weighs_one_and_defaults_follow_balanced()
    {
        Profile p = ProfileFile.Parse("name: vertical\nfamilies: { exist: 0, count: 0, query: 0, compare: 0, same: 0, arith: 0 }\nrelations: { left: 0, right: 0 }\n", "vertical.yaml");
        Assert.Equal(1.0, p.Families.Probability(QuestionFamily.Relate));
        Assert.Equal(0.5, p.Relations.Probability(SpatialRelation.Above));
        Assert.Equal(1.0, p.Colors.Weight(ObjectColor.Cyan));
        Assert.Equal(Profiles.Balanced.MaxObjects, p.MaxObjects);
        var sample = new WorldGenerator(p).Generate(3, 0);
        Assert.Equal("relate", sample.Family);
        Assert.Contains(sample.Skills, s => s is "relate/above" or "relate/below");
    }

    [Theory]
    [InlineData("name: x\ncolours: { red: 1 }\n", "line 2: unknown key 'colours'")]
    [InlineData("name: x\ncolors: { red: -1 }\n", "'colors.red' must be a non-negative number (got '-1')")]
    [InlineData("name: x\ncolors: { pink: 1 }\n", "unknown key 'colors.pink' (known: red, orange")]
    [InlineData("name: x\ncounts: { 5: 2 }\n", "unknown key 'counts.5' (known: 0, 1-2, 3-4, 5+)")]
    [InlineData("name: x\nrelations: { left: 0, right: 0, above: 0, below: 0 }\n", "every weight of 'relations' is zero")]
    [InlineData("description: no name\n", "'name' is missing")]
    [InlineData("name: x\nnoise: { min: 0.2, max: 0.1 }\n", "noise amplitude range 0.2..0.1")]
    [InlineData("name: x\nmax_objects: 2.5\n", "'max_objects' must be a whole number (got '2.5')")]
    [InlineData("name: x\nyes_probability: 1.5\n", "yes probability 1.5 must lie within 0..1")]
    [InlineData("name: x\nfamilies: [exist]\n", "'families' must be a mapping")]
    [InlineData("name: [x\n", "mine.yaml: line 2, column 1: ")]
    public void A_bad_profile_file_is_refused_with_the_file_and_key_named(string yaml, string expected)
    {
        var ex = Assert.Throws<ProfileFileException>(() => ProfileFile.Parse(yaml, "mine.yaml"));
        Assert.StartsWith("mine.yaml: ", ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Resolve_takes_a_built_in_name_or_a_file_and_names_a_missing_file()
    {
        Assert.Same(Profiles.BaseSkewed, Profiles.Resolve("base-skewed"));
        string path = Path.Combine(Path.GetTempPath(), $"profile-{Guid.NewGuid():N}.yaml");
        try
        {
            File.WriteAllText(path, "name: mine\nshapes: { diamond: 0.1 }\n");
            Assert.Equal(0.1, Profiles.Resolve(path).Shapes.Weight(ObjectShape.Diamond));
            Assert.StartsWith("file:", Profiles.Fingerprint(path));
            Assert.Equal("balanced", Profiles.Fingerprint("balanced"));
        }
        finally { File.Delete(path); }
        var ex = Assert.Throws<ProfileFileException>(() => Profiles.Resolve(path));
        Assert.Contains("does not exist", ex.Message);
    }
}
