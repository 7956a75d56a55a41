using System.Globalization;
using System.Text.RegularExpressions;
using FailureSynth.World.Scenes;

namespace FailureSynth.World.Tests;

/// <summary>
/// An independent reader of ShapesWorld wording for the tests: parses noun phrases such as
/// "large red circles" and answers atomic reasoning-step questions straight from their text
/// and the scene, without using the library's executor.
/// </summary>
internal static partial class SceneText
{
    private static readonly string[] Sizes = ["small", "large"];
    private static readonly string[] Colors = ["red", "orange", "yellow", "green", "cyan", "blue", "purple", "gray"];
    private static readonly string[] Shapes = ["circle", "square", "triangle", "diamond"];

    /// <summary>An object description: null attributes match anything.</summary>
    public sealed record Description(ObjectShape? Shape, ObjectColor? Color, ObjectSize? Size, bool Plural)
    {
        public bool Matches(SceneObject o) =>
            (Shape is null || o.Shape == Shape) && (Color is null || o.Color == Color) && (Size is null || o.Size == Size);

        public int CountIn(Scene scene) => scene.Objects.Count(Matches);
    }

    /// <summary>Parses "[size] [colour] noun" where noun is a shape or "object", singular or plural; null when the words are no such phrase.</summary>
    public static Description? ParsePhrase(IReadOnlyList<string> words)
    {
        int i = 0;
        ObjectSize? size = null;
        ObjectColor? color = null;
        if (i < words.Count && Array.IndexOf(Sizes, words[i]) is var s and >= 0) { size = (ObjectSize)s; i++; }
        if (i < words.Count && Array.IndexOf(Colors, words[i]) is var c and >= 0) { color = (ObjectColor)c; i++; }
        if (i != words.Count - 1) return null;
        string noun = words[i];
        bool plural = noun.EndsWith('s');
        string singular = plural ? noun[..^1] : noun;
        if (singular == "object") return new Description(null, color, size, plural);
        int shape = Array.IndexOf(Shapes, singular);
        return shape < 0 ? null : new Description((ObjectShape)shape, color, size, plural);
    }

    public static Description ParsePhrase(string phrase) =>
        ParsePhrase(phrase.Split(' ')) ?? throw new FormatException($"'{phrase}' is not an object description");

    /// <summary>Every singular "the X" object reference in a text, e.g. "the large red circle".</summary>
    public static IReadOnlyList<Description> DefiniteReferences(string text)
    {
        var found = new List<Description>();
        string[] words = WordPattern().Matches(text).Select(m => m.Value).ToArray();
        for (int i = 0; i < words.Length; i++)
        {
            if (!words[i].Equals("the", StringComparison.OrdinalIgnoreCase)) continue;
            for (int len = 3; len >= 1; len--)
            {
                if (i + len >= words.Length) continue;
                if (ParsePhrase(words[(i + 1)..(i + 1 + len)]) is { Plural: false } d)
                {
                    found.Add(d);
                    break;
                }
            }
        }
        return found;
    }

    /// <summary>The answer to an atomic reasoning-step question, recomputed from the scene; null when the question is not one of the atomic forms.</summary>
    public static string? AnswerStep(string question, Scene scene)
    {
        Match m;
        if ((m = HowMany().Match(question)).Success)
            return ParsePhrase(m.Groups[1].Value).CountIn(scene).ToString(CultureInfo.InvariantCulture);
        if ((m = WhatAttribute().Match(question)).Success)
        {
            SceneObject o = Single(m.Groups[2].Value, scene);
            return m.Groups[1].Value switch
            {
                "colour" => Colors[(int)o.Color],
                "shape" => Shapes[(int)o.Shape],
                _ => Sizes[(int)o.Size],
            };
        }
        if ((m = Position().Match(question)).Success)
        {
            SceneObject o = Single(m.Groups[2].Value, scene);
            double coordinate = m.Groups[1].Value == "left" ? o.X : o.Y;
            return ((int)Math.Floor(coordinate * 20 + 0.5)).ToString(CultureInfo.InvariantCulture);
        }
        if ((m = NumberRelation().Match(question)).Success)
        {
            int a = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            int b = int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
            bool holds = m.Groups[2].Value switch { "greater than" => a > b, "less than" => a < b, _ => a == b };
            return holds ? "yes" : "no";
        }
        if ((m = Plus().Match(question)).Success)
            return (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) + int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)).ToString(CultureInfo.InvariantCulture);
        if ((m = Difference().Match(question)).Success)
            return Math.Abs(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) - int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)).ToString(CultureInfo.InvariantCulture);
        if ((m = SameWords().Match(question)).Success)
            return m.Groups[1].Value == m.Groups[2].Value ? "yes" : "no";
        return null;
    }

    private static SceneObject Single(string phrase, Scene scene)
    {
        Description d = ParsePhrase(phrase);
        var matches = scene.Objects.Where(d.Matches).ToList();
        Assert.True(matches.Count == 1, $"'the {phrase}' matches {matches.Count} objects");
        return matches[0];
    }

    [GeneratedRegex(@"[A-Za-z]+")]
    private static partial Regex WordPattern();

    [GeneratedRegex(@"^How many ([a-z ]+) are there\?$")]
    private static partial Regex HowMany();

    [GeneratedRegex(@"^What (colour|shape|size) is the ([a-z ]+)\?$")]
    private static partial Regex WhatAttribute();

    [GeneratedRegex(@"^How far from the (left|top) edge is the ([a-z ]+), on a scale from 0 to 20\?$")]
    private static partial Regex Position();

    [GeneratedRegex(@"^Is (\d+) (greater than|less than|equal to) (\d+)\?$")]
    private static partial Regex NumberRelation();

    [GeneratedRegex(@"^What is (\d+) plus (\d+)\?$")]
    private static partial Regex Plus();

    [GeneratedRegex(@"^What is the difference between (\d+) and (\d+)\?$")]
    private static partial Regex Difference();

    [GeneratedRegex(@"^Are ([a-z]+) and ([a-z]+) the same (colour|shape|size)\?$")]
    private static partial Regex SameWords();
}
