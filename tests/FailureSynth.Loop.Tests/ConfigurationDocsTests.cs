using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using FailureSynth.Loop.Campaigns;
using YamlDotNet.Serialization.NamingConventions;

namespace FailureSynth.Loop.Tests;

/// <summary>docs/configuration.md against the config classes, and the config errors a user sees.</summary>
public sealed partial class ConfigurationDocsTests
{
    [Fact]
    public void Every_campaign_key_is_documented_with_its_type_and_default()
    {
        var rows = DocumentedRows(File.ReadAllText(Path.Combine(CampaignConfigTests.RepoRoot(), "docs", "configuration.md")));
        var keys = KeysOf(typeof(CampaignConfig), new CampaignConfig(), "").ToList();
        Assert.True(keys.Count > 30, $"only {keys.Count} keys found by reflection");
        var problems = new List<string>();
        foreach (var (path, type, value) in keys)
        {
            if (!rows.TryGetValue(path, out var row)) { problems.Add($"`{path}` is not documented"); continue; }
            if (row.Type != TypeName(type)) problems.Add($"`{path}`: documented type '{row.Type}', the code's is '{TypeName(type)}'");
            if (row.Default != DefaultText(type, value)) problems.Add($"`{path}`: documented default '{row.Default}', the code's is '{DefaultText(type, value)}'");
            if (row.Meaning.Length < 10) problems.Add($"`{path}`: no meaning given");
        }
        foreach (string documented in rows.Keys.Except(keys.Select(k => k.Path))) problems.Add($"`{documented}` is documented but is no key of the config");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void The_documentation_check_notices_a_missing_key_and_a_wrong_default()
    {
        string doc = File.ReadAllText(Path.Combine(CampaignConfigTests.RepoRoot(), "docs", "configuration.md"));
        var rows = DocumentedRows(doc.Replace("| `budget.samples` | int | 1000 |", "| `budget.samples` | int | 999 |", StringComparison.Ordinal));
        Assert.Equal("999", rows["budget.samples"].Default);
        Assert.False(DocumentedRows(doc.Replace("`pool.b`", "`pool.bee`", StringComparison.Ordinal)).ContainsKey("pool.b"));
    }

    [Fact]
    public void A_misspelt_key_is_named_by_its_yaml_path_with_a_suggestion()
    {
        string message = Assert.Throws<CampaignConfigException>(() => CampaignConfig.Parse("name: x\nbudget:\n  sampels: 10\n", "bad.yaml")).Message;
        Assert.Equal("bad.yaml: line 3, column 3: unknown key 'budget.sampels'; did you mean 'budget.samples'?", message);
        Assert.Contains("did you mean 'iterations'?", Assert.Throws<CampaignConfigException>(() => CampaignConfig.Parse("iteratons: 3\n", "bad.yaml")).Message);
        // A key in the wrong section is pointed to the section that has it.
        Assert.Contains("unknown key 'samples'; did you mean 'budget.samples'?", Assert.Throws<CampaignConfigException>(() => CampaignConfig.Parse("samples: 3\n", "bad.yaml")).Message);
        // Nothing near: the section's keys are listed.
        string none = Assert.Throws<CampaignConfigException>(() => CampaignConfig.Parse("locate: { zzzzzz: 1 }\n", "bad.yaml")).Message;
        Assert.Contains("unknown key 'locate.zzzzzz' (keys of 'locate': method, bias, delta, lambda)", none);
        Assert.Equal(message.Count(c => c == '\''), 2 * (message.Count(c => c == '\'') / 2));
    }

    [Fact]
    public void A_value_of_the_wrong_type_names_the_key_and_the_type_expected()
    {
        string message = Assert.Throws<CampaignConfigException>(() => CampaignConfig.Parse("seed: seven\n", "bad.yaml")).Message;
        Assert.Equal("bad.yaml: line 1, column 7: 'seed' must be a whole number (long), got 'seven'", message);
        string several = Assert.Throws<CampaignConfigException>(() => CampaignConfig.Parse(
            "budget: { samples: many, learning_rate: fast }\nstudent: { base: 3 }\ndiagnose: perhaps\nlocate: [1, 2]\n", "bad.yaml")).Message;
        foreach (string part in new[] { "'budget.samples' must be a whole number (int), got 'many'", "'budget.learning_rate' must be a number, got 'fast'",
                     "'student.base' must be a mapping of keys (profile, count, seed), got '3'", "'diagnose' must be true or false, got 'perhaps'", "'locate' must be a mapping" })
            Assert.Contains(part, several);
    }

    [Fact]
    public void The_demo_and_a_document_with_every_key_pass_the_shape_check()
    {
        Assert.Empty(CampaignConfigKeys.Check(File.ReadAllText(Path.Combine(CampaignConfigTests.RepoRoot(), "campaigns", "demo.yaml"))));
        Assert.Empty(CampaignConfigKeys.Check("student: { checkpoint: ~ }\nbudget: { freeze_norm: true, keep_start: 0.1 }\n"));
        Assert.Empty(CampaignConfigKeys.Check(""));
    }

    private sealed record Row(string Type, string Default, string Meaning);

    private static Dictionary<string, Row> DocumentedRows(string markdown)
    {
        var rows = new Dictionary<string, Row>(StringComparer.Ordinal);
        foreach (Match m in RowPattern().Matches(markdown)) rows[m.Groups["key"].Value] = new Row(m.Groups["type"].Value.Trim(), m.Groups["default"].Value.Trim(), m.Groups["meaning"].Value.Trim());
        return rows;
    }

    // Reflection over the config classes, independent of CampaignConfigKeys: public settable properties, sections are
    // the classes of the config's namespace.
    private static IEnumerable<(string Path, Type Type, object? Value)> KeysOf(Type type, object instance, string prefix)
    {
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            string path = prefix + UnderscoredNamingConvention.Instance.Apply(p.Name);
            object? value = p.GetValue(instance);
            if (p.PropertyType.IsClass && p.PropertyType != typeof(string) && p.PropertyType.Namespace == typeof(CampaignConfig).Namespace)
                foreach (var inner in KeysOf(p.PropertyType, value ?? Activator.CreateInstance(p.PropertyType)!, path + ".")) yield return inner; // an optional section: its keys with a fresh section's defaults
            else
                yield return (path, Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType, value);
        }
    }

    private static string TypeName(Type t) =>
        t == typeof(string) ? "string" : t == typeof(int) ? "int" : t == typeof(long) ? "long" : t == typeof(double) ? "number" : t == typeof(bool) ? "bool" : t == typeof(List<string>) ? "list of strings" : t.Name;

    private static string DefaultText(Type type, object? value) => value switch
    {
        null when type == typeof(bool) => "false",
        null => "none",
        bool b => b ? "true" : "false",
        double d => d.ToString("0.######", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "none",
    };

    [GeneratedRegex(@"^\| `(?<key>[a-z0-9_.]+)` \| (?<type>[^|]+) \| (?<default>[^|]+) \| (?<meaning>[^\n]+) \|$", RegexOptions.Multiline)]
    private static partial Regex RowPattern();
}
