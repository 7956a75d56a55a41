using System.Globalization;
using System.Text.Json;

namespace FailureSynth.Datasets;

/// <summary>
/// Reads LLaVA instruction JSON. A record with several human/gpt pairs becomes one sample per pair, with ids
/// <c>{id}#1</c>, <c>{id}#2</c>, ...; a record with one pair keeps its id unchanged, so FailureSynth's own files
/// round-trip. What is accepted follows LLaVA's own training code: it never reads <c>id</c> (a record without one is
/// named <c>record-{index}</c>), it skips a first turn that is not the human's, and it moves the image token of
/// whichever human turn holds it to the front of that turn, so one human turn (any one) carries it.
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
                $"expected a top-level array of LLaVA records, found {JsonFiles.Describe(root.ValueKind)}; a LLaVA instruction file is [ {{\"image\", \"conversations\"}}, ... ] (\"id\" optional)");

        var samples = new List<VqaSample>(root.GetArrayLength());
        var recordIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var sampleIds = new Dictionary<string, int>(StringComparer.Ordinal);
        int index = 0, textOnly = 0, multiTurn = 0, withoutId = 0, leadingGpt = 0;
        foreach (var element in root.EnumerateArray())
        {
            var scope = new RecordScope(path, $"record {index.ToString(CultureInfo.InvariantCulture)}", index);
            scope.RequireObject(element, null);
            var id = ReadId(scope, element);
            if (id is null)
            {
                id = "record-" + index.ToString(CultureInfo.InvariantCulture);
                withoutId++;
            }

            scope = scope.WithId(id);
            if (recordIds.TryGetValue(id, out var first))
                throw scope.Fail("id", $"duplicate id {JsonFiles.Quote(id)}, already used by record {first}; ids must be unique: rename or remove one of the two records");
            recordIds.Add(id, index);

            var image = ReadImage(scope, element);
            if (image is null) textOnly++;
            else images.Check(scope, "image", image);

            var pairs = ReadConversations(scope, element, image is not null, out var skippedLeading);
            if (skippedLeading) leadingGpt++;
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
        if (withoutId > 0)
            warnings.Add($"{Path.GetFileName(path)}: {withoutId} of {index} records have no \"id\" (LLaVA's training never reads it); their samples are named \"record-{{index}}\"");
        if (leadingGpt > 0)
            warnings.Add($"{Path.GetFileName(path)}: {leadingGpt} records start with a gpt turn, which LLaVA's training drops; it was dropped here too");
        if (multiTurn > 0)
            warnings.Add($"{Path.GetFileName(path)}: {multiTurn} multi-turn records were split into one sample per human/gpt pair (ids \"{{id}}#{{turn}}\")");
        return samples;
    }

    private static string? ReadId(RecordScope scope, JsonElement record)
    {
        if (!record.TryGetProperty("id", out var value) || value.ValueKind == JsonValueKind.Null) return null;
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

    private static List<(string Question, string Answer)> ReadConversations(RecordScope scope, JsonElement record, bool hasImage, out bool skippedLeading)
    {
        var turns = scope.RequireArray(record, "conversations");
        var count = turns.GetArrayLength();
        if (count == 0)
            throw scope.Fail("conversations", "empty; a record needs at least one human turn and one gpt turn");

        // LLaVA's preprocessing drops a first turn that is not the human's, then asserts strict alternation.
        skippedLeading = false;
        var first = scope.RequireObject(turns[0], "conversations[0]");
        if (first.TryGetProperty("from", out var firstFrom) && firstFrom.ValueKind == JsonValueKind.String && firstFrom.ValueEquals("gpt"))
            skippedLeading = true;
        var start = skippedLeading ? 1 : 0;

        var pairs = new List<(string, string)>(count / 2);
        string? question = null;
        string? tokenTurn = null;
        string? firstHuman = null;
        for (var position = start; position < count; position++)
        {
            var at = RecordScope.Indexed("conversations", position);
            var turn = scope.RequireObject(turns[position], at);
            var isHuman = (position - start) % 2 == 0;
            var expected = isHuman ? "human" : "gpt";
            var from = scope.RequireString(turn, "from", at + ".from");
            if (!string.Equals(from, expected, StringComparison.Ordinal))
                throw scope.Fail(at + ".from", $"expected \"{expected}\", found {JsonFiles.Quote(from)}; after an optional leading gpt turn, turns must alternate human, gpt, human, gpt, ...");
            var value = scope.RequireString(turn, "value", at + ".value");
            var hasToken = value.Contains(ImageToken, StringComparison.Ordinal);

            if (!isHuman)
            {
                if (hasToken)
                    throw scope.Fail(at + ".value", $"a gpt turn contains \"{ImageToken}\"; the image token belongs in the human turn that asks about the image");
                pairs.Add((question!, value));
                question = null;
                continue;
            }

            firstHuman ??= at + ".value";
            if (hasToken)
            {
                if (!hasImage)
                    throw scope.Fail(at + ".value", $"contains \"{ImageToken}\" but the record has no \"image\"; add the image or remove the token");
                // LLaVA turns each human turn that holds the token into one image slot; a record has one image.
                if (tokenTurn is not null)
                    throw scope.Fail(at + ".value", $"a second human turn with \"{ImageToken}\" (the first is {tokenTurn}); the record has one image, so keep the token in one turn only");
                tokenTurn = at;
            }

            question = value.Replace(ImageToken, "", StringComparison.Ordinal).Trim();
            if (question.Length == 0)
                throw scope.Fail(at + ".value", $"no question text besides \"{ImageToken}\"; add the question");
        }

        if (question is not null)
            throw scope.Fail(RecordScope.Indexed("conversations", count - 1),
                "a human turn without a gpt reply at the end of the conversation; add the answer or remove the question");
        if (pairs.Count == 0)
            throw scope.Fail("conversations", "only a gpt turn; a record needs at least one human turn and one gpt turn");
        if (hasImage && tokenTurn is null)
            throw scope.Fail(firstHuman, $"no human turn contains \"{ImageToken}\" although the record has an image; add \"{ImageToken}\\n\" before the question it belongs to");
        return pairs;
    }
}
