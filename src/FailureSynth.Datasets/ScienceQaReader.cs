using System.Globalization;
using System.Text.Json;

namespace FailureSynth.Datasets;

/// <summary>
/// Reads the official ScienceQA layout: <c>problems.json</c> (an object keyed by problem id) checked against
/// <c>pid_splits.json</c>. The answer is the choice letter, the family is <c>subject</c> (the breakdown the
/// ScienceQA paper reports), the skill is <c>skill</c>, the context is <c>hint</c>, and the image path is
/// <c>{split}/{pid}/{image}</c> as in the official image archive.
/// </summary>
internal static class ScienceQaReader
{
    public const string ProblemsFile = "problems.json";
    public const string SplitsFile = "pid_splits.json";

    /// <summary>The folder beside problems.json that holds the official images/{split}/{pid}/image.png.</summary>
    public const string ImagesFolder = "images";

    private static readonly string[] OfficialSplits = ["train", "val", "test"];

    private static readonly string[] OptionalTextFields = ["task", "grade", "topic", "category", "lecture", "solution"];

    public static List<VqaSample> Read(string problemsPath, string splitsPath, ImageResolver images)
    {
        var samples = new List<VqaSample>();
        var byPid = new Dictionary<string, VqaSample>(StringComparer.Ordinal);
        using (var document = JsonFiles.Parse(problemsPath))
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new DatasetFormatException(problemsPath, null, null,
                    $"expected an object keyed by problem id ({{\"1\": {{\"question\", \"choices\", \"answer\", ...}}, ...}}), found {JsonFiles.Describe(root.ValueKind)}");
            foreach (var property in root.EnumerateObject())
            {
                var scope = new RecordScope(problemsPath, "problem", Id: property.Name) { IdLabel = "pid" };
                if (byPid.ContainsKey(property.Name))
                    throw scope.Fail(null, $"problem id {JsonFiles.Quote(property.Name)} appears twice in the object; keep one of them");
                var sample = ReadProblem(scope, property.Name, property.Value, images);
                byPid.Add(property.Name, sample);
                samples.Add(sample);
            }
        }

        CheckSplits(problemsPath, splitsPath, byPid);
        return samples;
    }

    private static VqaSample ReadProblem(RecordScope scope, string pid, JsonElement problem, ImageResolver images)
    {
        scope.RequireObject(problem, null);
        var question = scope.RequireString(problem, "question");
        var choiceList = scope.RequireArray(problem, "choices");
        var choices = new List<string>(choiceList.GetArrayLength());
        foreach (var choice in choiceList.EnumerateArray())
            choices.Add(scope.AsString(choice, RecordScope.Indexed("choices", choices.Count)));
        if (choices.Count < 2)
            throw scope.Fail("choices", $"{choices.Count} choice(s); a multiple-choice problem needs at least two");
        if (choices.Count > 26)
            throw scope.Fail("choices", $"{choices.Count} choices; answers are letters A-Z, so at most 26 fit");

        var answer = scope.RequireInteger(problem, "answer");
        if (answer < 0 || answer >= choices.Count)
            throw scope.Fail("answer", $"index {answer} is outside the {choices.Count} choices (valid: 0 to {choices.Count - 1}); it must point at the correct choice");

        var hint = scope.OptionalString(problem, "hint");
        var subject = scope.OptionalString(problem, "subject", allowEmpty: false);
        var skill = scope.OptionalString(problem, "skill");
        foreach (var name in OptionalTextFields) scope.OptionalString(problem, name);
        var split = scope.RequireString(problem, "split");
        var imageName = scope.OptionalString(problem, "image", allowEmpty: false);
        string? image = null;
        if (imageName is not null)
        {
            image = $"{split}/{pid}/{imageName}";
            images.Check(scope, "image", image);
        }

        var letter = ((char)('A' + answer)).ToString();
        return new VqaSample(pid, image, question, letter,
            Choices: choices, AnswerText: choices[(int)answer], Family: subject,
            Skills: string.IsNullOrWhiteSpace(skill) ? null : [skill],
            Split: split, Source: "scienceqa", Context: string.IsNullOrWhiteSpace(hint) ? null : hint);
    }

    /// <summary>
    /// Every listed pid must be a problem, and the lists named after a problem split (train, val, test) must hold
    /// exactly the problems with that split; other lists (trainval, minival, ...) only have to exist in problems.
    /// </summary>
    private static void CheckSplits(string problemsPath, string splitsPath, Dictionary<string, VqaSample> problems)
    {
        using var document = JsonFiles.Parse(splitsPath);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new DatasetFormatException(splitsPath, null, null,
                $"expected an object of pid lists ({{\"train\": [...], \"val\": [...], \"test\": [...]}}), found {JsonFiles.Describe(root.ValueKind)}");

        var splitNames = new HashSet<string>(problems.Values.Select(p => p.Split!).Concat(OfficialSplits), StringComparer.Ordinal);
        var listed = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var list in root.EnumerateObject())
        {
            if (list.Value.ValueKind != JsonValueKind.Array)
                throw new DatasetFormatException(splitsPath, null, list.Name,
                    $"expected an array of problem ids, found {JsonFiles.Describe(list.Value.ValueKind)}");
            var members = new HashSet<string>(StringComparer.Ordinal);
            var index = 0;
            foreach (var entry in list.Value.EnumerateArray())
            {
                var field = RecordScope.Indexed(list.Name, index);
                var scope = new RecordScope(splitsPath, $"split {JsonFiles.Quote(list.Name)} entry {index.ToString(CultureInfo.InvariantCulture)}", index) { IdLabel = "pid" };
                var pid = entry.ValueKind == JsonValueKind.Number && entry.TryGetInt64(out _)
                    ? entry.GetRawText()
                    : scope.AsString(entry, field);
                scope = scope.WithId(pid);
                if (!problems.TryGetValue(pid, out var problem))
                    throw scope.Fail(field, $"pid {JsonFiles.Quote(pid)} is not a problem in {ScienceQaReader.ProblemsFile}; the two files must come from the same ScienceQA release");
                if (!members.Add(pid))
                    throw scope.Fail(field, $"pid {JsonFiles.Quote(pid)} is listed twice in split {JsonFiles.Quote(list.Name)}; remove the repeat");
                if (splitNames.Contains(list.Name) && !string.Equals(problem.Split, list.Name, StringComparison.Ordinal))
                    throw new RecordScope(problemsPath, "problem", Id: pid) { IdLabel = "pid" }.Fail("split",
                        $"{JsonFiles.Quote(problem.Split!)} but {Path.GetFileName(splitsPath)} lists the problem under {JsonFiles.Quote(list.Name)}; make the two agree");
                index++;
            }

            // JSON allows a repeated key; two lists of one split would disagree about its members (found by fuzzing).
            if (!listed.TryAdd(list.Name, members))
                throw new DatasetFormatException(splitsPath, null, list.Name,
                    $"split {JsonFiles.Quote(list.Name)} appears twice in the object; keep one list per split");
        }

        foreach (var problem in problems.Values)
        {
            var scope = new RecordScope(problemsPath, "problem", Id: problem.Id) { IdLabel = "pid" };
            if (!listed.TryGetValue(problem.Split!, out var members))
                throw scope.Fail("split",
                    $"{JsonFiles.Quote(problem.Split!)} is not a list in {Path.GetFileName(splitsPath)} (it has {string.Join(", ", listed.Keys)}); use one of those splits");
            if (!members.Contains(problem.Id))
                throw scope.Fail("split",
                    $"{JsonFiles.Quote(problem.Split!)} but {Path.GetFileName(splitsPath)} does not list the problem under it; add its pid to that list");
        }
    }
}
