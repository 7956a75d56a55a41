using System.Globalization;
using System.Text.Json;

namespace FailureSynth.Datasets;

/// <summary>
/// Where a LLaMA-Factory dataset keeps each part of a record: the formatting, the column names and the message tags
/// of a <c>dataset_info.json</c> entry. The defaults are the ones LLaMA-Factory documents for an entry that leaves a
/// key out (data/README.md): alpaca columns instruction/input/output, sharegpt column conversations with tags
/// from/value/human/gpt.
/// </summary>
internal sealed record LlamaFactoryLayout(
    string Formatting = LlamaFactoryLayout.Alpaca,
    string Prompt = "instruction",
    string Query = "input",
    string Response = "output",
    string? History = null,
    string Messages = "conversations",
    string? Images = null,
    string RoleTag = "from",
    string ContentTag = "value",
    string UserTag = "human",
    string AssistantTag = "gpt",
    string SystemTag = "system",
    string ObservationTag = "observation",
    string FunctionTag = "function_call")
{
    public const string Alpaca = "alpaca";
    public const string ShareGpt = "sharegpt";

    /// <summary>How messages name the format: "LLaMA-Factory alpaca" or "LLaMA-Factory sharegpt".</summary>
    public string FormatName => "LLaMA-Factory " + Formatting;
}

/// <summary>One dataset of a <c>dataset_info.json</c>: its name, its local file and how the file is laid out.</summary>
internal sealed record LlamaFactoryEntry(string Name, string File, LlamaFactoryLayout Layout);

/// <summary>
/// Reads LLaMA-Factory's own dataset formats: alpaca (<c>instruction</c>, <c>input</c>, <c>output</c>, optional
/// <c>history</c>) and sharegpt (a message list with role and content tags), as a .json array or as .jsonl, with an
/// optional image list. A record becomes one sample per user/assistant pair. LLaMA-Factory itself drops a malformed
/// record with a log line; here it is refused with its record and field, so that nothing is lost without a word.
/// </summary>
internal static class LlamaFactoryReader
{
    public const string FormatOfInfo = "LLaMA-Factory dataset_info.json";

    private static readonly string[] HubKeys = ["hf_hub_url", "ms_hub_url", "script_url", "cloud_file_name"];

    /// <summary>Reads the entries of a dataset_info.json; their files are relative to its folder (LLaMA-Factory's dataset_dir).</summary>
    public static List<LlamaFactoryEntry> ReadInfo(string path)
    {
        using var document = JsonFiles.Parse(path);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new DatasetFormatException(path, null, null,
                $"expected an object of dataset entries ({{\"name\": {{\"file_name\", \"formatting\", \"columns\", \"tags\"}}, ...}}), found {JsonFiles.Describe(root.ValueKind)}");
        var folder = Path.GetDirectoryName(path)!;
        var entries = new List<LlamaFactoryEntry>();
        var index = 0;
        foreach (var property in root.EnumerateObject())
        {
            var scope = new RecordScope(path, $"entry {index.ToString(CultureInfo.InvariantCulture)}", index) { IdLabel = "name" }.WithId(property.Name);
            if (entries.Any(e => e.Name == property.Name))
                throw scope.Fail(null, $"the dataset name {JsonFiles.Quote(property.Name)} appears twice; keep one entry per name");
            var entry = scope.RequireObject(property.Value, null);
            foreach (var hub in HubKeys)
            {
                if (entry.TryGetProperty(hub, out var remote) && remote.ValueKind != JsonValueKind.Null)
                    throw scope.Fail(hub, "names a dataset that is not a local file; FailureSynth reads local files only, so download the data and name it in \"file_name\"");
            }

            var fileName = scope.RequireString(entry, "file_name");
            var file = Path.GetFullPath(Path.Combine(folder, fileName));
            if (Directory.Exists(file))
                throw scope.Fail("file_name", $"{JsonFiles.Quote(fileName)} is a folder; FailureSynth reads one .json or .jsonl file per entry, so name the file");
            if (!File.Exists(file))
                throw scope.Fail("file_name", $"{JsonFiles.Quote(fileName)} not found at {file}; file_name is relative to the folder of dataset_info.json");
            if (!file.EndsWith(".json", StringComparison.OrdinalIgnoreCase) && !file.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
                throw scope.Fail("file_name", $"{JsonFiles.Quote(fileName)} is not a .json or .jsonl file; FailureSynth reads LLaMA-Factory's JSON and JSONL files (not csv, parquet or arrow)");

            var formatting = scope.OptionalString(entry, "formatting", allowEmpty: false) ?? LlamaFactoryLayout.Alpaca;
            if (formatting is not (LlamaFactoryLayout.Alpaca or LlamaFactoryLayout.ShareGpt))
                throw scope.Fail("formatting", $"{JsonFiles.Quote(formatting)}; LLaMA-Factory knows \"alpaca\" and \"sharegpt\"");
            if (entry.TryGetProperty("ranking", out var ranking) && ranking.ValueKind == JsonValueKind.True)
                throw scope.Fail("ranking", "true: a preference dataset (chosen/rejected answers) has no single gold answer to evaluate against; use a supervised dataset");

            var columns = Mapping(scope, entry, "columns");
            var tags = Mapping(scope, entry, "tags");
            var layout = new LlamaFactoryLayout(formatting);
            layout = layout with
            {
                Prompt = columns.GetValueOrDefault("prompt", layout.Prompt),
                Query = columns.GetValueOrDefault("query", layout.Query),
                Response = columns.GetValueOrDefault("response", layout.Response),
                History = columns.GetValueOrDefault("history"),
                Messages = columns.GetValueOrDefault("messages", layout.Messages),
                Images = columns.GetValueOrDefault("images"),
                RoleTag = tags.GetValueOrDefault("role_tag", layout.RoleTag),
                ContentTag = tags.GetValueOrDefault("content_tag", layout.ContentTag),
                UserTag = tags.GetValueOrDefault("user_tag", layout.UserTag),
                AssistantTag = tags.GetValueOrDefault("assistant_tag", layout.AssistantTag),
                SystemTag = tags.GetValueOrDefault("system_tag", layout.SystemTag),
                ObservationTag = tags.GetValueOrDefault("observation_tag", layout.ObservationTag),
                FunctionTag = tags.GetValueOrDefault("function_tag", layout.FunctionTag),
            };
            entries.Add(new LlamaFactoryEntry(property.Name, file, layout));
            index++;
        }

        if (entries.Count == 0)
            throw new DatasetFormatException(path, null, null, "no dataset entries (the object is empty); add an entry naming the data file");
        return entries;
    }

    private static Dictionary<string, string> Mapping(RecordScope scope, JsonElement entry, string name)
    {
        var mapping = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!entry.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return mapping;
        if (value.ValueKind != JsonValueKind.Object)
            throw scope.Fail(name, $"expected an object of names, found {JsonFiles.Describe(value.ValueKind)}");
        foreach (var item in value.EnumerateObject())
            mapping[item.Name] = scope.AsString(item.Value, name + "." + item.Name);
        return mapping;
    }

    /// <summary>
    /// Reads a data file. With <paramref name="layout"/> null (a file without its dataset_info.json) the layout is
    /// taken from the first record: a message list makes it sharegpt, with role/content tags when its first message
    /// has a "role"; otherwise alpaca; "images" and (alpaca) "history" fields are read where records have them.
    /// </summary>
    public static List<VqaSample> Read(string path, LlamaFactoryLayout? layout, ImageResolver images, List<string> warnings)
    {
        var samples = new List<VqaSample>();
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        var jsonl = path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase);
        int count = 0, multiTurn = 0, withoutId = 0;
        try
        {
            foreach (var (scope, record) in Records(path, jsonl))
            {
                layout ??= Infer(record);
                var id = ReadId(scope, record);
                if (id is null)
                {
                    id = (jsonl ? "line-" : "record-") + (jsonl ? scope.Line!.Value : scope.Index!.Value).ToString(CultureInfo.InvariantCulture);
                    withoutId++;
                }

                var named = scope.WithId(id);
                var image = ReadImage(named, record, layout);
                if (image is not null) images.Check(named, layout.Images!, image);
                var pairs = layout.Formatting == LlamaFactoryLayout.ShareGpt ? ReadMessages(named, record, layout) : ReadAlpaca(named, record, layout);
                CheckImageTokens(named, pairs, image, layout);
                if (pairs.Count > 1) multiTurn++;
                for (var turn = 0; turn < pairs.Count; turn++)
                {
                    var sampleId = pairs.Count == 1 ? id : id + "#" + (turn + 1).ToString(CultureInfo.InvariantCulture);
                    if (!ids.TryAdd(sampleId, named.Label))
                        throw named.Fail("id", $"sample id {JsonFiles.Quote(sampleId)} is already used by {ids[sampleId]} (multi-turn records get ids \"{{id}}#{{turn}}\"); ids must be unique, so rename one of them");
                    samples.Add(new VqaSample(sampleId, image, Strip(pairs[turn].Question), pairs[turn].Answer, Source: "llamafactory"));
                }

                count++;
            }
        }
        catch (DatasetFormatException e) when (layout is not null)
        {
            throw e.WithFormat(layout.FormatName);
        }

        if (count == 0)
            throw new DatasetFormatException(path, null, null, jsonl
                ? "empty: no records, only blank lines; a LLaMA-Factory JSONL file holds one record per line"
                : "empty: the array has no records", format: layout?.FormatName ?? "LLaMA-Factory");
        var name = Path.GetFileName(path);
        if (withoutId > 0)
            warnings.Add($"{name}: {withoutId} of {count} records have no \"id\" (LLaMA-Factory does not use one); their samples are named \"{(jsonl ? "line-{line}" : "record-{index}")}\"");
        if (multiTurn > 0)
            warnings.Add($"{name}: {multiTurn} multi-turn records were split into one sample per user/assistant pair (ids \"{{id}}#{{turn}}\")");
        return samples;
    }

    private static IEnumerable<(RecordScope Scope, JsonElement Record)> Records(string path, bool jsonl)
    {
        if (jsonl)
        {
            foreach (var (number, text) in JsonFiles.Lines(path, JsonFiles.ReadAll(path)))
            {
                using var line = JsonFiles.ParseLine(path, text, number);
                var scope = new RecordScope(path, $"line {number.ToString(CultureInfo.InvariantCulture)}", Line: number);
                yield return (scope, scope.RequireObject(line.RootElement, null));
            }

            yield break;
        }

        using var document = JsonFiles.Parse(path);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Array)
            throw new DatasetFormatException(path, null, null,
                $"expected a top-level array of records, found {JsonFiles.Describe(root.ValueKind)}; a LLaMA-Factory .json file is [ {{...}}, ... ] (one record per line is .jsonl)",
                format: "LLaMA-Factory");
        var index = 0;
        foreach (var element in root.EnumerateArray())
        {
            var scope = new RecordScope(path, $"record {index.ToString(CultureInfo.InvariantCulture)}", index);
            yield return (scope, scope.RequireObject(element, null));
            index++;
        }
    }

    private static LlamaFactoryLayout Infer(JsonElement record)
    {
        // Without dataset_info.json, the usual column names are read wherever a record has them.
        var messages = record.TryGetProperty("messages", out _) ? "messages" : record.TryGetProperty("conversations", out _) ? "conversations" : null;
        if (messages is null)
            return new LlamaFactoryLayout(LlamaFactoryLayout.Alpaca, Images: "images", History: "history");
        var layout = new LlamaFactoryLayout(LlamaFactoryLayout.ShareGpt, Messages: messages, Images: "images");
        var list = record.GetProperty(messages);
        var openAiStyle = list.ValueKind == JsonValueKind.Array && list.GetArrayLength() > 0
            && list[0].ValueKind == JsonValueKind.Object && list[0].TryGetProperty("role", out _);
        return openAiStyle
            ? layout with { RoleTag = "role", ContentTag = "content", UserTag = "user", AssistantTag = "assistant" }
            : layout;
    }

    private static string? ReadId(RecordScope scope, JsonElement record)
    {
        if (!record.TryGetProperty("id", out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _)) return value.GetRawText();
        return scope.AsString(value, "id");
    }

    private static string? ReadImage(RecordScope scope, JsonElement record, LlamaFactoryLayout layout)
    {
        if (layout.Images is null || !record.TryGetProperty(layout.Images, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind == JsonValueKind.String) return scope.AsString(value, layout.Images);
        if (value.ValueKind != JsonValueKind.Array)
            throw scope.Fail(layout.Images, $"expected a list of image paths, found {JsonFiles.Describe(value.ValueKind)}");
        var count = value.GetArrayLength();
        if (count > 1)
            throw scope.Fail(layout.Images, $"{count} images in one record; FailureSynth samples have one image, so split the record into one record per image");
        return count == 0 ? null : scope.AsString(value[0], RecordScope.Indexed(layout.Images, 0));
    }

    /// <summary>Sharegpt: an optional system message first, then user and assistant messages in turn.</summary>
    private static List<(string Question, string Answer, string Field)> ReadMessages(RecordScope scope, JsonElement record, LlamaFactoryLayout layout)
    {
        var list = scope.RequireArray(record, layout.Messages);
        var count = list.GetArrayLength();
        var pairs = new List<(string, string, string)>(count / 2);
        var start = 0;
        if (count > 0)
        {
            var head = scope.RequireObject(list[0], RecordScope.Indexed(layout.Messages, 0));
            if (head.TryGetProperty(layout.RoleTag, out var role) && role.ValueKind == JsonValueKind.String && role.ValueEquals(layout.SystemTag))
                start = 1;
        }

        if (count - start == 0)
            throw scope.Fail(layout.Messages, $"no {layout.UserTag}/{layout.AssistantTag} messages; a record needs at least one question and its answer");
        string? question = null, questionField = null;
        for (var position = start; position < count; position++)
        {
            var at = RecordScope.Indexed(layout.Messages, position);
            var message = scope.RequireObject(list[position], at);
            var isUser = (position - start) % 2 == 0;
            var expected = isUser ? layout.UserTag : layout.AssistantTag;
            var role = scope.RequireString(message, layout.RoleTag, at + "." + layout.RoleTag);
            if ((role == layout.ObservationTag || role == layout.FunctionTag) && role != expected)
                throw scope.Fail(at + "." + layout.RoleTag,
                    $"{JsonFiles.Quote(role)} is a tool-use turn; FailureSynth reads question and answer conversations only, so leave tool-use records out");
            if (!string.Equals(role, expected, StringComparison.Ordinal))
                throw scope.Fail(at + "." + layout.RoleTag,
                    $"expected {JsonFiles.Quote(expected)}, found {JsonFiles.Quote(role)}; after an optional {JsonFiles.Quote(layout.SystemTag)} message, messages alternate {layout.UserTag}, {layout.AssistantTag}, ... (the tags come from dataset_info.json's \"tags\")");
            var content = scope.RequireString(message, layout.ContentTag, at + "." + layout.ContentTag);
            if (isUser)
            {
                question = content;
                questionField = at + "." + layout.ContentTag;
            }
            else
            {
                pairs.Add((question!, content, questionField!));
                question = null;
            }
        }

        if (question is not null)
            throw scope.Fail(RecordScope.Indexed(layout.Messages, count - 1),
                $"a {JsonFiles.Quote(layout.UserTag)} message without an answer at the end of the conversation; add the {layout.AssistantTag} message or remove the question");
        return pairs;
    }

    /// <summary>Alpaca: the question is instruction and input joined by a line break; history holds earlier [question, answer] pairs.</summary>
    private static List<(string Question, string Answer, string Field)> ReadAlpaca(RecordScope scope, JsonElement record, LlamaFactoryLayout layout)
    {
        var pairs = new List<(string, string, string)>();
        if (layout.History is not null && record.TryGetProperty(layout.History, out var history) && history.ValueKind != JsonValueKind.Null)
        {
            if (history.ValueKind != JsonValueKind.Array)
                throw scope.Fail(layout.History, $"expected a list of [question, answer] pairs, found {JsonFiles.Describe(history.ValueKind)}");
            var turn = 0;
            foreach (var pair in history.EnumerateArray())
            {
                var at = RecordScope.Indexed(layout.History, turn++);
                if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2)
                    throw scope.Fail(at, $"expected a [question, answer] pair of two strings, found {JsonFiles.Describe(pair.ValueKind)}{(pair.ValueKind == JsonValueKind.Array ? $" of {pair.GetArrayLength()}" : "")}");
                pairs.Add((scope.AsString(pair[0], at + "[0]"), scope.AsString(pair[1], at + "[1]"), at + "[0]"));
            }
        }

        var prompt = scope.OptionalString(record, layout.Prompt) ?? "";
        var query = scope.OptionalString(record, layout.Query) ?? "";
        var question = string.IsNullOrWhiteSpace(query) ? prompt : string.IsNullOrWhiteSpace(prompt) ? query : prompt + "\n" + query;
        if (string.IsNullOrWhiteSpace(question))
            throw scope.Fail(layout.Prompt, $"missing or empty, and so is {JsonFiles.Quote(layout.Query)}; the question goes in {JsonFiles.Quote(layout.Prompt)}");
        if (record.TryGetProperty(layout.Response, out var response) && response.ValueKind == JsonValueKind.Array)
            throw scope.Fail(layout.Response, "a list of answers (a preference record); FailureSynth needs one gold answer, as a string");
        var answer = scope.RequireString(record, layout.Response);
        pairs.Add((question, answer, layout.Prompt));
        return pairs;
    }

    /// <summary>LLaMA-Factory requires as many image tokens in the questions as the record has images.</summary>
    private static void CheckImageTokens(RecordScope scope, List<(string Question, string Answer, string Field)> pairs, string? image, LlamaFactoryLayout layout)
    {
        var tokens = 0;
        string? firstField = null;
        foreach (var (question, answer, field) in pairs)
        {
            if (answer.Contains(LlavaReader.ImageToken, StringComparison.Ordinal))
                throw scope.Fail(null, $"an answer contains \"{LlavaReader.ImageToken}\"; the image token belongs in the question the image goes with");
            var here = Occurrences(question);
            if (here > 0) firstField ??= field;
            tokens += here;
            if (Strip(question).Length == 0)
                throw scope.Fail(field, $"no question text besides \"{LlavaReader.ImageToken}\"; add the question");
        }

        var expected = image is null ? 0 : 1;
        if (tokens == expected) return;
        throw image is null
            ? scope.Fail(firstField, $"contains \"{LlavaReader.ImageToken}\" but the record has no image{(layout.Images is null ? " (no \"images\" column is mapped)" : "")}; add the image or remove the token")
            : scope.Fail(tokens == 0 ? pairs[0].Field : firstField,
                $"{tokens} \"{LlavaReader.ImageToken}\" tokens for 1 image; LLaMA-Factory needs exactly one token per image, so put one \"{LlavaReader.ImageToken}\" in the question it belongs to");
    }

    private static int Occurrences(string text)
    {
        var count = 0;
        for (var at = text.IndexOf(LlavaReader.ImageToken, StringComparison.Ordinal); at >= 0; at = text.IndexOf(LlavaReader.ImageToken, at + 1, StringComparison.Ordinal))
            count++;
        return count;
    }

    private static string Strip(string question) => question.Replace(LlavaReader.ImageToken, "", StringComparison.Ordinal).Trim();
}
