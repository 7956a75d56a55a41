using System.Globalization;
using System.Text.Json;

namespace FailureSynth.Datasets;

/// <summary>
/// Reads the official VQA v2 layout: a questions file and an annotations file joined by <c>question_id</c>.
/// The answer is <c>multiple_choice_answer</c>, the family is <c>answer_type</c>, and the image path follows the
/// COCO naming <c>{data_subtype}/COCO_{data_subtype}_{image_id:D12}.jpg</c> (abstract scenes:
/// <c>{data_subtype}/abstract_v002_{data_subtype}_{image_id:D12}.png</c>).
/// </summary>
internal static class VqaV2Reader
{
    private const int OfficialAnswerCount = 10;

    private sealed record Question(int Index, long QuestionId, long ImageId, string Text);

    public static List<VqaSample> Read(string questionsPath, string annotationsPath, ImageResolver images, List<string> warnings)
    {
        Dictionary<long, Question> questions;
        List<long> order;
        string subtype;
        string dataType;
        using (var document = JsonFiles.Parse(questionsPath))
            (questions, order, subtype, dataType) = ReadQuestions(questionsPath, document.RootElement);

        using var annotationsDocument = JsonFiles.Parse(annotationsPath);
        var root = annotationsDocument.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new DatasetFormatException(annotationsPath, null, null,
                $"expected a VQA v2 annotations object {{\"info\", \"license\", \"data_subtype\", \"annotations\": [...]}}, found {JsonFiles.Describe(root.ValueKind)}");
        var annotationsSubtype = OptionalFileString(annotationsPath, root, "data_subtype");
        if (annotationsSubtype is not null && !string.Equals(annotationsSubtype, subtype, StringComparison.Ordinal))
            throw new DatasetFormatException(annotationsPath, null, "data_subtype",
                $"{JsonFiles.Quote(annotationsSubtype)} but the questions file {Path.GetFileName(questionsPath)} is {JsonFiles.Quote(subtype)}; pair the questions with the annotations of the same split");
        var annotations = RequireFileArray(annotationsPath, root, "annotations");

        var answered = new Dictionary<long, (int Index, VqaSample Sample)>(questions.Count);
        int index = 0, unusualAnswerCounts = 0;
        long firstUnusual = 0;
        foreach (var element in annotations.EnumerateArray())
        {
            var scope = new RecordScope(annotationsPath, $"annotation {index.ToString(CultureInfo.InvariantCulture)}", index) { IdLabel = "question_id", QuoteId = false };
            scope.RequireObject(element, null);
            var questionId = scope.RequireInteger(element, "question_id");
            scope = scope.WithId(questionId.ToString(CultureInfo.InvariantCulture));
            if (!questions.TryGetValue(questionId, out var question))
                throw scope.Fail("question_id",
                    $"question_id {questionId} has an annotation but no question in {Path.GetFileName(questionsPath)}; the two files must come from the same release and split");
            if (answered.TryGetValue(questionId, out var earlier))
                throw scope.Fail("question_id",
                    $"second annotation for question_id {questionId} (annotation {earlier.Index} already answers it); every question has exactly one annotation");

            var imageId = scope.RequireInteger(element, "image_id");
            if (imageId != question.ImageId)
                throw scope.Fail("image_id",
                    $"{imageId} but question {question.Index} (question_id {questionId}) is about image {question.ImageId}; the files do not belong together");
            var answer = scope.RequireString(element, "multiple_choice_answer");
            var answerType = scope.OptionalString(element, "answer_type", allowEmpty: false);
            scope.OptionalString(element, "question_type");
            var allAnswers = ReadAnswers(scope, element);
            if (allAnswers.Count != OfficialAnswerCount && unusualAnswerCounts++ == 0) firstUnusual = questionId;

            var image = ImagePath(dataType, subtype, question.ImageId);
            var sample = new VqaSample(
                questionId.ToString(CultureInfo.InvariantCulture), image, question.Text, answer,
                Family: answerType, Split: subtype, Source: "vqav2", AllAnswers: allAnswers);
            answered.Add(questionId, (index, sample));
            index++;
        }

        var samples = new List<VqaSample>(order.Count);
        foreach (var questionId in order)
        {
            if (!answered.TryGetValue(questionId, out var entry))
            {
                var question = questions[questionId];
                throw new DatasetFormatException(questionsPath,
                    $"question {question.Index} (question_id {questionId})", "question_id",
                    $"question_id {questionId} has no annotation in {Path.GetFileName(annotationsPath)}; every question needs exactly one (test-split questions have no public answers and cannot be loaded as a labelled set)",
                    question.Index, questionId.ToString(CultureInfo.InvariantCulture));
            }

            var asked = questions[questionId];
            var scope = new RecordScope(questionsPath, $"question {asked.Index.ToString(CultureInfo.InvariantCulture)}", asked.Index, entry.Sample.Id)
            {
                IdLabel = "question_id",
                QuoteId = false,
            };
            images.Check(scope, "image_id", entry.Sample.Image!);
            samples.Add(entry.Sample);
        }

        if (unusualAnswerCounts > 0)
            warnings.Add($"{Path.GetFileName(annotationsPath)}: {unusualAnswerCounts} annotations do not have the official {OfficialAnswerCount} answers (first: question_id {firstUnusual})");
        return samples;
    }

    private static (Dictionary<long, Question>, List<long>, string Subtype, string DataType) ReadQuestions(string path, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new DatasetFormatException(path, null, null,
                $"expected a VQA v2 questions object {{\"info\", \"task_type\", \"data_type\", \"data_subtype\", \"license\", \"questions\": [...]}}, found {JsonFiles.Describe(root.ValueKind)}");
        var subtype = OptionalFileString(path, root, "data_subtype")
            ?? throw new DatasetFormatException(path, null, "data_subtype",
                "missing; the official questions file names its split there (e.g. \"train2014\"), and the image paths are built from it");
        var dataType = OptionalFileString(path, root, "data_type") ?? "mscoco";
        var list = RequireFileArray(path, root, "questions");

        var questions = new Dictionary<long, Question>(list.GetArrayLength());
        var order = new List<long>(list.GetArrayLength());
        var index = 0;
        foreach (var element in list.EnumerateArray())
        {
            var scope = new RecordScope(path, $"question {index.ToString(CultureInfo.InvariantCulture)}", index) { IdLabel = "question_id", QuoteId = false };
            scope.RequireObject(element, null);
            var questionId = scope.RequireInteger(element, "question_id");
            scope = scope.WithId(questionId.ToString(CultureInfo.InvariantCulture));
            if (questions.TryGetValue(questionId, out var earlier))
                throw scope.Fail("question_id", $"duplicate question_id {questionId}, already used by question {earlier.Index}; question ids must be unique");
            var imageId = scope.RequireInteger(element, "image_id");
            var text = scope.RequireString(element, "question");
            questions.Add(questionId, new Question(index, questionId, imageId, text));
            order.Add(questionId);
            index++;
        }

        return (questions, order, subtype, dataType);
    }

    private static List<string> ReadAnswers(RecordScope scope, JsonElement annotation)
    {
        var list = scope.RequireArray(annotation, "answers");
        if (list.GetArrayLength() == 0)
            throw scope.Fail("answers", $"empty; the official annotations hold {OfficialAnswerCount} human answers per question");
        var answers = new List<string>(list.GetArrayLength());
        var i = 0;
        foreach (var item in list.EnumerateArray())
        {
            var at = RecordScope.Indexed("answers", i++);
            scope.RequireObject(item, at);
            // Annotators sometimes answered with an empty string; it is a real vote, so it stays.
            answers.Add(scope.RequireString(item, "answer", at + ".answer", allowEmpty: true));
            if (item.TryGetProperty("answer_confidence", out var confidence))
                scope.AsString(confidence, at + ".answer_confidence");
            if (item.TryGetProperty("answer_id", out var answerId))
                scope.AsInteger(answerId, at + ".answer_id");
        }

        return answers;
    }

    /// <summary>Relative image path of a VQA v2 image, following the file names of the official image archives.</summary>
    public static string ImagePath(string dataType, string subtype, long imageId)
    {
        var number = imageId.ToString("D12", CultureInfo.InvariantCulture);
        return dataType.StartsWith("abstract", StringComparison.Ordinal)
            ? $"{subtype}/{dataType}_{subtype}_{number}.png"
            : $"{subtype}/COCO_{subtype}_{number}.jpg";
    }

    private static string? OptionalFileString(string path, JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
            throw new DatasetFormatException(path, null, name, $"expected a non-empty string, found {JsonFiles.Describe(value.ValueKind)}");
        return value.GetString();
    }

    private static JsonElement RequireFileArray(string path, JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value))
            throw new DatasetFormatException(path, null, name,
                $"missing; this is not a VQA v2 {name} file, or it is truncated");
        if (value.ValueKind != JsonValueKind.Array)
            throw new DatasetFormatException(path, null, name, $"expected an array, found {JsonFiles.Describe(value.ValueKind)}");
        return value;
    }
}
