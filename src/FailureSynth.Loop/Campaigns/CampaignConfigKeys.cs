using System.Globalization;
using System.Reflection;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization.NamingConventions;

namespace FailureSynth.Loop.Campaigns;

/// <summary>
/// The keys a campaign file may hold, read from the config classes, and a check of a YAML document against them.
/// It runs before deserialisation so that a problem is named by its YAML path (<c>budget.sampels</c>) and line, a
/// misspelt key gets the nearest known one as a suggestion, and a value of the wrong type names its key and the type
/// expected; the deserialiser would name a C# type instead, stop at the first problem, or not name the key at all.
/// </summary>
public static class CampaignConfigKeys
{
    /// <summary>One key of a campaign file: its YAML path (<c>budget.samples</c>), the property behind it and its value type.</summary>
    public sealed record Key(string Path, PropertyInfo Property)
    {
        public Type ValueType => Nullable.GetUnderlyingType(Property.PropertyType) ?? Property.PropertyType;
    }

    /// <summary>Every leaf key of a campaign file, in declaration order.</summary>
    public static IReadOnlyList<Key> All { get; } = [.. Leaves(typeof(CampaignConfig), "")];

    /// <summary>A section of the config (<c>budget</c>, <c>student.base</c>): a class of its own rather than a value.</summary>
    public static bool IsSection(Type type) => type.IsClass && type != typeof(string) && type.Namespace == typeof(CampaignConfig).Namespace;

    /// <summary>The YAML name of a property: snake_case, as the deserialiser reads it.</summary>
    public static string YamlName(PropertyInfo property) => UnderscoredNamingConvention.Instance.Apply(property.Name);

    /// <summary>Settable properties of a section, the keys a YAML mapping of that section may hold.</summary>
    public static IEnumerable<PropertyInfo> Settable(Type section) =>
        section.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.GetSetMethod() is not null);

    /// <summary>
    /// Every problem of shape in <paramref name="yaml"/> (unknown keys, sections that are not mappings, values that do not
    /// fit their key's type), each prefixed with its line and column. Empty when the document fits; malformed YAML is left
    /// to the deserialiser, whose message already names the line.
    /// </summary>
    public static IReadOnlyList<string> Check(string yaml)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException)
        {
            return [];
        }
        var problems = new List<string>();
        if (stream.Documents.Count == 0) return problems;
        var root = stream.Documents[0].RootNode;
        if (root is YamlScalarNode { Value: null or "" or "~" or "null" }) return problems;
        if (root is not YamlMappingNode mapping)
        {
            problems.Add($"{At(root)}the campaign file must be a mapping of keys (name: demo, budget: {{ samples: 1000 }}, ...)");
            return problems;
        }
        CheckSection(mapping, typeof(CampaignConfig), "", problems);
        return problems;
    }

    private static void CheckSection(YamlMappingNode mapping, Type section, string prefix, List<string> problems)
    {
        var properties = Settable(section).ToDictionary(YamlName, StringComparer.Ordinal);
        foreach (var (keyNode, value) in mapping.Children)
        {
            string key = keyNode is YamlScalarNode s ? s.Value ?? "" : keyNode.ToString();
            string path = prefix + key;
            if (!properties.TryGetValue(key, out var property))
            {
                problems.Add($"{At(keyNode)}unknown key '{path}'{Suggestion(path, prefix, properties.Keys)}");
                continue;
            }
            var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (IsSection(type))
            {
                if (value is YamlMappingNode inner) CheckSection(inner, type, path + ".", problems);
                else problems.Add($"{At(value)}'{path}' must be a mapping of keys ({string.Join(", ", Settable(type).Select(YamlName))}), got {Describe(value)}");
                continue;
            }
            if (type == typeof(List<string>))
            {
                // An argv list: a sequence of plain values (a mapping or a nested list is no argument).
                if (value is YamlSequenceNode sequence)
                {
                    foreach (var item in sequence.Children.Where(c => c is not YamlScalarNode))
                        problems.Add($"{At(item)}'{path}' must be {TypeText(type)}; an item is {Describe(item)}");
                }
                else if (!(value is YamlScalarNode { Style: ScalarStyle.Plain, Value: "" or "~" or "null" }))
                {
                    problems.Add($"{At(value)}'{path}' must be {TypeText(type)}, got {Describe(value)}");
                }
                continue;
            }
            if (value is not YamlScalarNode scalar)
            {
                problems.Add($"{At(value)}'{path}' must be {TypeText(type)}, got {Describe(value)}");
                continue;
            }
            if (!Fits(scalar, type, property.PropertyType))
                problems.Add($"{At(value)}'{path}' must be {TypeText(type)}, got '{scalar.Value}'");
        }
    }

    // A misspelt key: the nearest key of the same section, or a key of that name in another section (samples -> budget.samples).
    private static string Suggestion(string path, string prefix, IEnumerable<string> siblings)
    {
        string key = path[prefix.Length..];
        var near = siblings.Select(k => (Key: k, Distance: Distance(key, k))).Where(c => c.Distance <= Math.Max(2, key.Length / 3))
            .OrderBy(c => c.Distance).ThenBy(c => c.Key, StringComparer.Ordinal).Select(c => prefix + c.Key).FirstOrDefault();
        near ??= All.Select(k => k.Path).Where(p => p.EndsWith("." + key, StringComparison.Ordinal) || p == key).Order(StringComparer.Ordinal).FirstOrDefault();
        if (near is not null) return $"; did you mean '{near}'?";
        string section = prefix.Length == 0 ? "the top level" : $"'{prefix.TrimEnd('.')}'";
        return $" (keys of {section}: {string.Join(", ", siblings)})";
    }

    private static bool Fits(YamlScalarNode scalar, Type type, Type declared)
    {
        string text = scalar.Value ?? "";
        bool isNull = scalar.Style == ScalarStyle.Plain && text is "" or "~" or "null" or "Null" or "NULL";
        if (isNull) return !declared.IsValueType || Nullable.GetUnderlyingType(declared) is not null;
        var inv = CultureInfo.InvariantCulture;
        if (type == typeof(string)) return true;
        if (type == typeof(int)) return int.TryParse(text, NumberStyles.Integer, inv, out _);
        if (type == typeof(long)) return long.TryParse(text, NumberStyles.Integer, inv, out _);
        if (type == typeof(double)) return double.TryParse(text, NumberStyles.Float, inv, out _);
        if (type == typeof(bool)) return text.ToLowerInvariant() is "true" or "false" or "yes" or "no" or "on" or "off" or "y" or "n";
        return true;
    }

    /// <summary>How a value type is named to the user.</summary>
    public static string TypeText(Type type) =>
        type == typeof(int) ? "a whole number (int)" :
        type == typeof(long) ? "a whole number (long)" :
        type == typeof(double) ? "a number" :
        type == typeof(bool) ? "true or false" :
        type == typeof(string) ? "text" :
        type == typeof(List<string>) ? "a list of text ([program, arg, ...])" : type.Name;

    private static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode s => $"'{s.Value}'",
        _ => "something else",
    };

    private static string At(YamlNode node) => string.Create(CultureInfo.InvariantCulture, $"line {node.Start.Line}, column {node.Start.Column}: ");

    private static IEnumerable<Key> Leaves(Type section, string prefix)
    {
        foreach (var property in Settable(section))
        {
            string path = prefix + YamlName(property);
            if (IsSection(property.PropertyType))
            {
                foreach (var leaf in Leaves(property.PropertyType, path + ".")) yield return leaf;
            }
            else
            {
                yield return new Key(path, property);
            }
        }
    }

    // Levenshtein distance, for suggestions between short keys.
    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
