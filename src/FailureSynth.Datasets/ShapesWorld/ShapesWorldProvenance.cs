using System.Globalization;
using System.Text.Json;
using FailureSynth.World;
using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;

namespace FailureSynth.Datasets.ShapesWorld;

/// <summary>
/// Reads back the ShapesWorld samples behind an export from its <c>provenance.jsonl</c>, in any layout
/// (<see cref="ShapesWorldFormat"/>), keyed by the id the layout's reader gives each question: the sample id in a
/// FailureSynth folder, the question_id in VQA v2 files, the pid in ScienceQA files. With it, anything that must know a
/// question's scene and program (an exact teacher, for instance) can take an exported split as external data.
/// </summary>
public static class ShapesWorldProvenance
{
    /// <summary>Loads every sample of <paramref name="path"/>: an export folder, or its provenance.jsonl.</summary>
    /// <exception cref="DatasetFormatException">The file is missing, or a line lacks or garbles a field a sample needs.</exception>
    public static IReadOnlyDictionary<string, WorldSample> Load(string path)
    {
        var full = Path.GetFullPath(path);
        var file = Directory.Exists(full) ? Path.Combine(full, DatasetLayout.ProvenanceFile) : full;
        if (!File.Exists(file))
            throw new DatasetFormatException(file, null, null,
                $"not found; every `world generate` export writes {DatasetLayout.ProvenanceFile} beside its files, so point at an export folder");

        var samples = new Dictionary<string, WorldSample>(StringComparer.Ordinal);
        try
        {
            foreach (var (lineNumber, text) in JsonFiles.Lines(file, JsonFiles.ReadAll(file)))
            {
                using var document = JsonFiles.ParseLine(file, text, lineNumber);
                var scope = new RecordScope(file, $"line {lineNumber.ToString(CultureInfo.InvariantCulture)}", Line: lineNumber);
                var sample = SampleJson.Read(scope, document.RootElement, "shapesworld");
                scope = scope.WithId(sample.Id);
                if (samples.ContainsKey(sample.Id))
                    throw scope.Fail("id", $"duplicate id {JsonFiles.Quote(sample.Id)}; every question of an export has its own id");
                samples.Add(sample.Id, ReadSample(scope, sample, scope.Require(document.RootElement, "provenance")));
            }
        }
        catch (DatasetFormatException e)
        {
            throw e.WithFormat("ShapesWorld provenance");
        }

        return samples;
    }

    private static WorldSample ReadSample(RecordScope scope, VqaSample sample, JsonElement provenance)
    {
        scope.RequireObject(provenance, "provenance");
        var generator = scope.RequireString(provenance, "generator", "provenance.generator");
        if (generator != "shapesworld")
            throw scope.Fail("provenance.generator", $"{JsonFiles.Quote(generator)}; only ShapesWorld samples carry a scene and a program");
        var form = scope.RequireString(provenance, "form", "provenance.form") switch
        {
            "open" => QuestionForm.Open,
            "choice" => QuestionForm.Choice,
            var other => throw scope.Fail("provenance.form", $"{JsonFiles.Quote(other)} is not \"open\" or \"choice\""),
        };
        var index = scope.RequireInteger(provenance, "index", "provenance.index");
        if (index is < 0 or > int.MaxValue) throw scope.Fail("provenance.index", $"{index} is not a sample index");
        string question = sample.Question;
        // ScienceQA files keep the stem and the options apart; the world's choice question carries both.
        if (form == QuestionForm.Choice && sample.Choices is { } choices && !question.EndsWith(MultipleChoice.Format("", choices), StringComparison.Ordinal))
            question = MultipleChoice.Format(question, choices);

        return new WorldSample(
            Id: scope.OptionalString(provenance, "sample_id", "provenance.sample_id", allowEmpty: false) ?? sample.Id,
            Family: sample.Family ?? throw scope.Fail("family", "missing; a ShapesWorld sample always has its family"),
            Form: form,
            Scene: Spec<Scene>(scope, provenance, "scene"),
            Program: Spec<QuestionProgram>(scope, provenance, "program"),
            Question: question,
            Answer: sample.Answer,
            AnswerText: sample.AnswerText,
            Choices: sample.Choices,
            Steps: Spec<List<ReasoningStep>>(scope, provenance, "steps"),
            Skills: sample.Skills ?? [],
            Seed: scope.RequireInteger(provenance, "seed", "provenance.seed"),
            Index: (int)index,
            Profile: scope.RequireString(provenance, "profile", "provenance.profile"));
    }

    private static T Spec<T>(RecordScope scope, JsonElement provenance, string name)
    {
        var value = scope.Require(provenance, name, "provenance." + name);
        try
        {
            return value.Deserialize<T>(WorldJson.Options)
                ?? throw scope.Fail("provenance." + name, "null; the export wrote it, so the file was edited");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException)
        {
            throw scope.Fail("provenance." + name, $"is not a ShapesWorld {name} ({e.Message}); regenerate the export");
        }
    }
}
