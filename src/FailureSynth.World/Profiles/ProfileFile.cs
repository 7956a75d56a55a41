using System.Globalization;
using System.Text;
using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;
using FailureSynth.World.Skills;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace FailureSynth.World;

/// <summary>
/// User-defined sampling profiles as YAML files with the fields of the built-in ones (<see cref="Write"/> prints a
/// profile in that format, <see cref="Read"/> reads it back to the same profile). A weight map may leave keys out:
/// a key left out weighs 1, so a file names only what it changes. Errors name the file, the line and the YAML path.
/// </summary>
public static class ProfileFile
{
    private static readonly string[] TopKeys =
    [
        "name", "description", "families", "colors", "shapes", "counts", "relations", "query_attributes", "same_attributes",
        "comparisons", "arith_operations", "min_objects", "max_objects", "noise", "yes_probability",
    ];

    /// <summary>Keys of the <c>counts</c> map: the count buckets of the answer of count and arith questions.</summary>
    public static string CountKey(CountBucket bucket) => bucket switch
    {
        CountBucket.Zero => "0",
        CountBucket.OneToTwo => "1-2",
        CountBucket.ThreeToFour => "3-4",
        CountBucket.FiveOrMore => "5+",
        _ => throw new ArgumentOutOfRangeException(nameof(bucket), bucket, "unknown count bucket"),
    };

    /// <summary>True when <paramref name="nameOrPath"/> names a file rather than a built-in profile.</summary>
    public static bool IsPath(string nameOrPath) => !Profiles.Names.Contains(nameOrPath);

    /// <summary>Reads and validates a profile file; a bad file gives a <see cref="ProfileFileException"/> naming the file, line and key.</summary>
    public static Profile Read(string path)
    {
        if (!File.Exists(path))
            throw new ProfileFileException($"Profile file '{path}' does not exist; `failuresynth world profiles --export base-skewed` prints one to start from.");
        return Parse(File.ReadAllText(path), path);
    }

    public static Profile Parse(string yaml, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new ProfileFileException($"{source}: line {e.Start.Line}, column {e.Start.Column}: {(e.InnerException ?? e).Message.TrimEnd('.')}.");
        }
        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new ProfileFileException($"{source}: a profile file is one YAML mapping (name, description, families, colors, ...).");

        var problems = new List<string>();
        var seen = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in root.Children)
        {
            string key = ((keyNode as YamlScalarNode)?.Value) ?? "";
            if (!TopKeys.Contains(key)) problems.Add($"{At(keyNode)}: unknown key '{key}' (known: {string.Join(", ", TopKeys)})");
            else if (!seen.TryAdd(key, value)) problems.Add($"{At(keyNode)}: '{key}' is given twice");
        }

        string name = Text(seen, "name", problems, required: true) ?? "";
        if (name.Length > 0 && name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
            problems.Add($"name '{name}' must be letters, digits, '-', '_' or '.' (it names samples and datasets)");
        string description = Text(seen, "description", problems, required: false) ?? "";
        var families = Weights<QuestionFamily>(seen, "families", QuestionKeys.Of, problems);
        var colors = Weights<ObjectColor>(seen, "colors", c => c.ToString().ToLowerInvariant(), problems);
        var shapes = Weights<ObjectShape>(seen, "shapes", s => s.ToString().ToLowerInvariant(), problems);
        var counts = Weights<CountBucket>(seen, "counts", CountKey, problems);
        var relations = Weights<SpatialRelation>(seen, "relations", QuestionKeys.Of, problems);
        var queryAttributes = Weights<ObjectAttribute>(seen, "query_attributes", QuestionKeys.Of, problems);
        var sameAttributes = Weights<ObjectAttribute>(seen, "same_attributes", QuestionKeys.Of, problems);
        var comparisons = Weights<CountComparison>(seen, "comparisons", QuestionKeys.Of, problems);
        var arith = Weights<ArithOperation>(seen, "arith_operations", QuestionKeys.Of, problems);
        int minObjects = (int)Number(seen, "min_objects", problems, Profiles.Balanced.MinObjects, integer: true);
        int maxObjects = (int)Number(seen, "max_objects", problems, Profiles.Balanced.MaxObjects, integer: true);
        double noiseMin = Profiles.Balanced.MinNoiseAmplitude, noiseMax = Profiles.Balanced.MaxNoiseAmplitude;
        if (seen.TryGetValue("noise", out var noiseNode))
        {
            if (noiseNode is not YamlMappingNode noise) problems.Add($"{At(noiseNode)}: noise must be a mapping {{min, max}}");
            else
            {
                var parts = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
                foreach (var (k, v) in noise.Children)
                {
                    string nk = (k as YamlScalarNode)?.Value ?? "";
                    if (nk is not ("min" or "max")) problems.Add($"{At(k)}: unknown key 'noise.{nk}' (known: min, max)");
                    else parts[nk] = v;
                }
                noiseMin = Number(parts, "min", problems, noiseMin, integer: false, prefix: "noise.");
                noiseMax = Number(parts, "max", problems, noiseMax, integer: false, prefix: "noise.");
            }
        }
        double yes = Number(seen, "yes_probability", problems, Profiles.Balanced.YesProbability, integer: false);
        if (problems.Count > 0) throw new ProfileFileException($"{source}: " + string.Join("; ", problems) + ".");

        var profile = new Profile(name, description, families!, colors!, shapes!, counts!, relations!, queryAttributes!, sameAttributes!,
            comparisons!, arith!, minObjects, maxObjects, noiseMin, noiseMax, yes);
        try
        {
            profile.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ProfileFileException($"{source}: {e.Message}");
        }
        return profile;
    }

    /// <summary>The profile as a profile file; <see cref="Read"/> of the text gives a profile that samples identically.</summary>
    public static string Write(Profile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.Append("# A ShapesWorld sampling profile (`failuresynth world profiles --export NAME` prints the built-in ones).\n");
        text.Append("# Weights are relative and non-negative; a key left out of a map weighs 1.\n");
        text.Append(inv, $"name: {profile.Name}\n");
        text.Append(inv, $"description: {Quote(profile.Description)}\n");
        Map(text, "families", profile.Families, QuestionKeys.Of);
        Map(text, "colors", profile.Colors, c => c.ToString().ToLowerInvariant());
        Map(text, "shapes", profile.Shapes, s => s.ToString().ToLowerInvariant());
        Map(text, "counts", profile.Counts, CountKey);
        Map(text, "relations", profile.Relations, QuestionKeys.Of);
        Map(text, "query_attributes", profile.QueryAttributes, QuestionKeys.Of);
        Map(text, "same_attributes", profile.SameAttributes, QuestionKeys.Of);
        Map(text, "comparisons", profile.Comparisons, QuestionKeys.Of);
        Map(text, "arith_operations", profile.ArithOperations, QuestionKeys.Of);
        text.Append(inv, $"min_objects: {profile.MinObjects}\n");
        text.Append(inv, $"max_objects: {profile.MaxObjects}\n");
        text.Append(inv, $"noise: {{ min: {R(profile.MinNoiseAmplitude)}, max: {R(profile.MaxNoiseAmplitude)} }}\n");
        text.Append(inv, $"yes_probability: {R(profile.YesProbability)}\n");
        return text.ToString();
    }

    private static void Map<T>(StringBuilder text, string key, WeightTable<T> table, Func<T, string> name) where T : struct, Enum
    {
        text.Append(key).Append(": { ");
        text.AppendJoin(", ", table.Entries.Select(e => $"{Quote(name(e.Value))}: {R(e.Weight)}"));
        text.Append(" }\n");
    }

    // Shortest text that parses back to the same double, so a written profile samples exactly like the original.
    private static string R(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Quote(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static string At(YamlNode node) => string.Create(CultureInfo.InvariantCulture, $"line {node.Start.Line}");

    private static string? Text(Dictionary<string, YamlNode> seen, string key, List<string> problems, bool required)
    {
        if (!seen.TryGetValue(key, out var node))
        {
            if (required) problems.Add($"'{key}' is missing");
            return null;
        }
        if (node is YamlScalarNode { Value: { } value } && (value.Length > 0 || !required)) return value;
        problems.Add($"{At(node)}: '{key}' must be a non-empty text");
        return null;
    }

    private static double Number(Dictionary<string, YamlNode> seen, string key, List<string> problems, double fallback, bool integer, string prefix = "")
    {
        if (!seen.TryGetValue(key, out var node)) return fallback;
        if (node is YamlScalarNode { Value: { } text } &&
            double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value) &&
            (!integer || (value == Math.Floor(value) && Math.Abs(value) < int.MaxValue)))
            return value;
        problems.Add($"{At(node)}: '{prefix}{key}' must be {(integer ? "a whole number" : "a number")} (got '{(node as YamlScalarNode)?.Value ?? node.NodeType.ToString()}')");
        return fallback;
    }

    private static WeightTable<T>? Weights<T>(Dictionary<string, YamlNode> seen, string key, Func<T, string> name, List<string> problems) where T : struct, Enum
    {
        var values = Enum.GetValues<T>();
        var weights = values.ToDictionary(v => v, _ => 1.0);
        if (seen.TryGetValue(key, out var node))
        {
            if (node is not YamlMappingNode map)
            {
                problems.Add($"{At(node)}: '{key}' must be a mapping of {string.Join(", ", values.Select(name))} to weights");
                return null;
            }
            int before = problems.Count;
            var given = new HashSet<T>();
            foreach (var (k, v) in map.Children)
            {
                string entry = (k as YamlScalarNode)?.Value ?? "";
                int i = Array.FindIndex(values, x => name(x) == entry);
                if (i < 0)
                {
                    problems.Add($"{At(k)}: unknown key '{key}.{entry}' (known: {string.Join(", ", values.Select(name))})");
                    continue;
                }
                if (!given.Add(values[i])) { problems.Add($"{At(k)}: '{key}.{entry}' is given twice"); continue; }
                if (v is YamlScalarNode { Value: { } text } && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double w) && double.IsFinite(w) && w >= 0)
                    weights[values[i]] = w;
                else
                    problems.Add($"{At(v)}: '{key}.{entry}' must be a non-negative number (got '{(v as YamlScalarNode)?.Value ?? v.NodeType.ToString()}')");
            }
            if (problems.Count > before) return null;
            if (weights.Values.Sum() <= 0)
            {
                problems.Add($"{At(node)}: every weight of '{key}' is zero; at least one must be positive");
                return null;
            }
        }
        return WeightTable<T>.Of([.. values.Select(v => (v, weights[v]))]);
    }
}

/// <summary>A profile file that cannot be used; the message names the file, the line and the key.</summary>
public sealed class ProfileFileException(string message) : Exception(message);
