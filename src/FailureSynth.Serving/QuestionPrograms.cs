using System.Text.Json;
using System.Text.Json.Nodes;
using FailureSynth.World;
using FailureSynth.World.Questions;

namespace FailureSynth.Serving;

/// <summary>
/// The served teacher's memory of ShapesWorld questions it is asked about as text only (campaigns on dataset files send no
/// program): question text -> program, read from the <c>provenance.jsonl</c> that <c>failuresynth world generate</c> writes
/// beside every layout. An LLM teacher reads the text; the embedded teacher reasons over programs, so this is how the
/// offline double answers such questions (<c>serve teacher --programs</c>). Texts it does not know stay without a program.
/// </summary>
public sealed class QuestionPrograms
{
    private readonly Dictionary<string, QuestionProgram> _byText = new(StringComparer.Ordinal);

    public int Count => _byText.Count;

    /// <summary>Reads every <c>provenance.jsonl</c> given (a file, or a folder holding one).</summary>
    public static QuestionPrograms Load(IEnumerable<string> paths)
    {
        var index = new QuestionPrograms();
        foreach (string given in paths)
        {
            string file = Directory.Exists(given) ? Path.Combine(given, "provenance.jsonl") : given;
            if (!File.Exists(file)) throw new FileNotFoundException($"--programs: no provenance file at {file} (failuresynth world generate writes provenance.jsonl beside every layout).", file);
            int line = 0;
            foreach (string text in File.ReadLines(file))
            {
                line++;
                if (text.Length == 0) continue;
                try
                {
                    var o = JsonNode.Parse(text) as JsonObject ?? throw new InvalidDataException("not a JSON object");
                    string question = o["question"]?.GetValue<string>() ?? throw new InvalidDataException("no \"question\"");
                    if (o["provenance"]?["program"] is not { } p) continue;
                    var program = p.Deserialize<QuestionProgram>(WorldJson.Options) ?? throw new InvalidDataException("a null program");
                    index._byText[question.Trim()] = program;
                    index._byText.TryAdd(FirstLine(question), program);
                }
                catch (Exception e) when (e is JsonException or InvalidOperationException or InvalidDataException or NotSupportedException)
                {
                    throw new InvalidDataException($"--programs: {file} line {line}: {e.Message}", e);
                }
            }
        }
        return index;
    }

    /// <summary>
    /// The program of a question text: the text itself, or its question line (a campaign prefixes "Context: ..." and
    /// appends "A. option" lines for multiple-choice questions).
    /// </summary>
    public QuestionProgram? Find(string text)
    {
        string t = text.Trim();
        if (_byText.TryGetValue(t, out var p)) return p;
        var lines = t.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("Context:", StringComparison.Ordinal)).ToList();
        return lines.Count > 0 && _byText.TryGetValue(lines[0], out p) ? p : null;
    }

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();
}
