using System.Globalization;
using System.Text.Json;

namespace FailureSynth.Datasets;

/// <summary>
/// Reads LLaVA instruction JSON. A record with several human/gpt pairs becomes one sample per pair, with ids
/// <c>{id}#1</c>, <c>{id}#2</c>, ...; a record with one pair keeps its id unchanged, so FailureSynth's own files
/// round-trip. Only the first human turn carries the image token, so later questions stand without it.
/// </summary>
internal static class LlavaReader
{
    public const string ImageToken = "<image>";

    public static List<VqaSample> Read(string path, ImageResolver images, List<string> warnings)
    {
        using var document = JsonFiles.Parse(path);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Array)
            throw new DatasetFormatException(path, null, null,
                $"expected a top-level array of LLaVA records, found {JsonFiles.Describe(root.ValueKind)}; a LLaVA instruction file is [ {{\"id\", \"image\", \"conversations\"}}, ... ]");

        var samples = new List<VqaSample>(root.GetArrayLength());
        var recordIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var sampleIds = new Dictionary<string, int>(StringComparer.Ordinal);
        int index = 0, textOnly = 0, multiTurn = 0;
        foreach (var element in root.EnumerateArray())
        {
            var scope = new RecordScope(path, $"record {index.ToString(CultureInfo.InvariantCulture)}", index);
            scope.RequireObject(element, null);
            var id = ReadId(scope, element);
            scope = scope.WithId(id);
            if (recordIds.TryGetValue(id, out var first))
                throw scope.Fail("id", $"duplicate id {JsonFiles.Quote(id)}, already used by record {first}; ids must be unique: rename or remove one of the two records");
            recordIds.Add(id, index);

            var image = ReadImage(scope, element);
            if (image is null) textOnly++;
            else images.Check(scope, "image", image);

            var pairs = ReadConversations(scope, element, image is not null);
            if (pairs.Count > 1) multiTurn++;
            for (var turn = 0; turn < pairs.Count; turn++)
            {
                var sampleId = pairs.Count == 1 ? id : id + "#" + (turn + 1).ToString(CultureInfo.InvariantCulture);
                if (sampleIds.TryGetValue(sampleId, out var other))
                    throw scope.Fail("id", $"sample id {JsonFiles.Quote(sampleId)} collides with one from record {other} (multi-turn records get ids \"{{id}}#{{turn}}\"); rename one of the records");
                sampleIds.Add(sampleId, index);
                samples.Add(new VqaSample(sampleId, image, pairs[turn].Question, pairs[turn].Answer, Source: "llava"));
            }

            index++;
        }

        if (textOnly > 0)
            warnings.Add($"{Path.GetFileName(path)}: {textOnly} of {index} records have no image (text-only questions)");
        if (multiTurn > 0)
            warnings.Add($"{Path.GetFileName(path)}: {multiTurn} multi-turn records were split into one sample per human/gpt pair (ids \"{{id}}#{{turn}}\")");
        return samples;
    }

    private static string ReadId(RecordScope scope, JsonElement record)
    {
        var value = scope.Require(record, "id");
        // Some public LLaVA mixtures carry numeric ids; their digits are the id.
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _))
            return value.GetRawText();
        return scope.AsString(value, "id");
    }

    /// <summary>The single image: the LLaVA "image" string, or the LLaMA-Factory "images" list of one, or both agreeing.</summary>
    private static string? ReadImage(RecordScope scope, JsonElement record)
    {
        var image = scope.OptionalString(record, "image", allowEmpty: false);
        if (!record.TryGetProperty("images", out var list) || list.ValueKind == JsonValueKind.Null) return image;
        if (list.ValueKind != JsonValueKind.Array)
            throw scope.Fail("images", $"expected an array of image paths, found {JsonFiles.Describe(list.ValueKind)}");
        var count = list.GetArrayLength();
        if (count > 1)
            throw scope.Fail("images", $"{count} images in one record; FailureSynth samples have one image, so split the record into one record per image");
        if (count == 0) return image;
        var listed = scope.AsString(list[0], "images[0]");
        if (image is not null && !string.Equals(image, listed, StringComparison.Ordinal))
            throw scope.Fail("images[0]", $"{JsonFiles.Quote(listed)} differs from \"image\" {JsonFiles.Quote(image)}; both must name the same file");
        return listed;
    }

    private static List<(string Question, string Answer)> ReadConversations(RecordScope scope, JsonElement record, bool hasImage)
    {
        var turns = scope.RequireArray(record, "conversations");
        var count = turns.GetArrayLength();
        if (count == 0)
            throw scope.Fail("conversations", "empty; a record needs at least one human turn and one gpt turn");
        if (count % 2 != 0)
            throw scope.Fail(RecordScope.Indexed("conversations", count - 1),
                "a human turn without a gpt reply; turns must alternate human, gpt, human, gpt, ...");

        var pairs = new List<(string, string)>(count / 2);
        string? question = null;
        var position = 0;
        foreach (var turn in turns.EnumerateArray())
        {
            var at = RecordScope.Indexed("conversations", position);
            scope.RequireObject(turn, at);
            var expected = position % 2 == 0 ? "human" : "gpt";
            var from = scope.RequireString(turn, "from", at + ".from");
            if (!string.Equals(from, expected, StringComparison.Ordinal))
                throw scope.Fail(at + ".from", $"expected \"{expected}\", found {JsonFiles.Quote(from)}; turns must alternate human, gpt, human, gpt, ...");
            var value = scope.RequireString(turn, "value", at + ".value");

            if (position % 2 == 1)
            {
                pairs.Add((question!, value));
            }
            else
            {
                var hasToken = value.Contains(ImageToken, StringComparison.Ordinal);
                if (position == 0 && hasImage && !hasToken)
                    throw scope.Fail(at + ".value", $"the first human turn must contain \"{ImageToken}\" because the record has an image; add \"{ImageToken}\\n\" before the question");
                if (!hasImage && hasToken)
                    throw scope.Fail(at + ".value", $"contains \"{ImageToken}\" but the record has no \"image\"; add the image or remove the token");
                question = value.Replace(ImageToken, "", StringComparison.Ordinal).Trim();
                if (question.Length == 0)
                    throw scope.Fail(at + ".value", $"no question text besides \"{ImageToken}\"; add the question");
            }

            position++;
        }

        return pairs;
    }
}
