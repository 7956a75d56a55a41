using System.Globalization;
using System.Text.Json;

namespace FailureSynth.Datasets;

/// <summary>
/// The camelCase JSON shape of a <see cref="VqaSample"/> used by JSONL files and by FailureSynth's provenance file:
/// <c>id, image, question, answer, choices, answerText, family, skills, steps, split, allAnswers, context</c>.
/// Absent optional fields are left out when writing and read back as null; unknown fields (such as the
/// provenance object) are allowed so that files can extend the shape.
/// </summary>
internal static class SampleJson
{
    public static void WriteFields(Utf8JsonWriter writer, VqaSample sample)
    {
        writer.WriteString("id", sample.Id);
        if (sample.Image is not null) writer.WriteString("image", sample.Image);
        writer.WriteString("question", sample.Question);
        writer.WriteString("answer", sample.Answer);
        WriteList(writer, "choices", sample.Choices);
        if (sample.AnswerText is not null) writer.WriteString("answerText", sample.AnswerText);
        if (sample.Family is not null) writer.WriteString("family", sample.Family);
        WriteList(writer, "skills", sample.Skills);
        if (sample.Steps is not null)
        {
            writer.WriteStartArray("steps");
            foreach (var step in sample.Steps)
            {
                writer.WriteStartObject();
                writer.WriteNumber("index", step.Index);
                writer.WriteString("question", step.Question);
                writer.WriteString("answer", step.Answer);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        if (sample.Split is not null) writer.WriteString("split", sample.Split);
        WriteList(writer, "allAnswers", sample.AllAnswers);
        if (sample.Context is not null) writer.WriteString("context", sample.Context);
    }

    private static void WriteList(Utf8JsonWriter writer, string name, IReadOnlyList<string>? values)
    {
        if (values is null) return;
        writer.WriteStartArray(name);
        foreach (var value in values) writer.WriteStringValue(value);
        writer.WriteEndArray();
    }

    public static VqaSample Read(RecordScope scope, JsonElement element, string source)
    {
        scope.RequireObject(element, null);
        var id = scope.RequireString(element, "id");
        scope = scope.WithId(id);
        var image = scope.OptionalString(element, "image", allowEmpty: false);
        var question = scope.RequireString(element, "question");
        var answer = scope.RequireString(element, "answer");
        var choices = scope.OptionalStringList(element, "choices");
        var answerText = scope.OptionalString(element, "answerText", allowEmpty: false);
        if (answerText is not null && choices is not null && !choices.Contains(answerText, StringComparer.Ordinal))
            throw scope.Fail("answerText", $"{JsonFiles.Quote(answerText)} is not one of the choices; it must be the text of the correct choice");
        var family = scope.OptionalString(element, "family", allowEmpty: false);
        var skills = scope.OptionalStringList(element, "skills");
        var steps = ReadSteps(scope, element);
        var split = scope.OptionalString(element, "split", allowEmpty: false);
        var allAnswers = ReadAllAnswers(scope, element);
        var context = scope.OptionalString(element, "context");
        return new VqaSample(id, image, question, answer, choices, answerText, family, skills, steps, split, source, allAnswers, context);
    }

    private static List<string>? ReadAllAnswers(RecordScope scope, JsonElement element)
    {
        // VQA v2 keeps empty annotator answers, so unlike other string lists empty entries are valid here.
        if (!element.TryGetProperty("allAnswers", out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Array)
            throw scope.Fail("allAnswers", $"expected an array of strings, found {JsonFiles.Describe(value.ValueKind)}");
        var list = new List<string>(value.GetArrayLength());
        foreach (var item in value.EnumerateArray())
            list.Add(scope.AsString(item, RecordScope.Indexed("allAnswers", list.Count), allowEmpty: true));
        return list;
    }

    private static List<SampleStep>? ReadSteps(RecordScope scope, JsonElement element)
    {
        if (!element.TryGetProperty("steps", out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Array)
            throw scope.Fail("steps", $"expected an array of {{\"index\", \"question\", \"answer\"}} objects, found {JsonFiles.Describe(value.ValueKind)}");
        var steps = new List<SampleStep>(value.GetArrayLength());
        foreach (var item in value.EnumerateArray())
        {
            var at = RecordScope.Indexed("steps", steps.Count);
            scope.RequireObject(item, at);
            var index = scope.RequireInteger(item, "index", at + ".index");
            if (index is < 0 or > int.MaxValue)
                throw scope.Fail(at + ".index", $"{index.ToString(CultureInfo.InvariantCulture)} is not a valid step index; use 0, 1, 2, ...");
            steps.Add(new SampleStep((int)index,
                scope.RequireString(item, "question", at + ".question"),
                scope.RequireString(item, "answer", at + ".answer")));
        }

        return steps;
    }
}
