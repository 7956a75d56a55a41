using System.Text.Json;
using System.Text.Json.Nodes;
using FailureSynth.Datasets;

namespace FailureSynth.Datasets.Tests;

/// <summary>A temporary folder that deletes itself, so every test writes its fixture files in isolation.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fs-datasets-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public string Write(string name, JsonNode node)
    {
        var path = File(name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return path;
    }

    public string WriteText(string name, string text)
    {
        var path = File(name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder must not fail a test that already passed or failed for a real reason.
        }
    }
}

/// <summary>Small files in the official field layouts of LLaVA, VQA v2 and ScienceQA, built as mutable JSON so tests can break them.</summary>
internal static class Fixtures
{
    /// <summary>A real 1x1 red PNG.</summary>
    public static readonly byte[] TinyPng =
    [
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
        0xDE, 0x00, 0x00, 0x00, 0x0C, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0x00,
        0x00, 0x03, 0x01, 0x01, 0x00, 0xC9, 0xFE, 0x92, 0xEF, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E,
        0x44, 0xAE, 0x42, 0x60, 0x82,
    ];

    public const string VqaQuestionsName = "v2_OpenEnded_mscoco_val2014_questions.json";
    public const string VqaAnnotationsName = "v2_mscoco_val2014_annotations.json";

    /// <summary>
    /// LLaVA instruction JSON: a single-turn record with an image, a two-turn record with an image ("&lt;image&gt;"
    /// after the question, as some LLaVA data has it), and a text-only record. Writes the two images beside it.
    /// </summary>
    public static JsonArray Llava(TempFolder folder)
    {
        Directory.CreateDirectory(folder.File("coco", "train2017"));
        System.IO.File.WriteAllBytes(folder.File("coco", "train2017", "000000033471.jpg"), TinyPng);
        System.IO.File.WriteAllBytes(folder.File("coco", "train2017", "000000052846.jpg"), TinyPng);
        return new JsonArray
        {
            new JsonObject
            {
                ["id"] = "000000033471",
                ["image"] = "coco/train2017/000000033471.jpg",
                ["conversations"] = new JsonArray
                {
                    Turn("human", "<image>\nWhat are the colors of the bus in the image?"),
                    Turn("gpt", "The bus in the image is white and red."),
                },
            },
            new JsonObject
            {
                ["id"] = "000000052846",
                ["image"] = "coco/train2017/000000052846.jpg",
                ["conversations"] = new JsonArray
                {
                    Turn("human", "Where is the cat positioned in the image?\n<image>"),
                    Turn("gpt", "The cat is on top of the back of the couch."),
                    Turn("human", "What is the cat doing?"),
                    Turn("gpt", "Sleeping."),
                },
            },
            new JsonObject
            {
                ["id"] = "i6IyJda_0",
                ["conversations"] = new JsonArray
                {
                    Turn("human", "How to tell if a customer segment is well segmented?"),
                    Turn("gpt", "Check that each segment is homogeneous inside and distinct from the others."),
                },
            },
        };
    }

    public static JsonObject Turn(string from, string value) => new() { ["from"] = from, ["value"] = value };

    private static JsonObject Info() => new()
    {
        ["description"] = "This is v2.0 of the VQA dataset.",
        ["url"] = "http://visualqa.org",
        ["version"] = "2.0",
        ["year"] = 2017,
        ["contributor"] = "VQA Team",
        ["date_created"] = "2017-04-26 17:07:13",
    };

    private static JsonObject License() => new()
    {
        ["url"] = "http://creativecommons.org/licenses/by/4.0/",
        ["name"] = "Creative Commons Attribution 4.0 International License",
    };

    private static readonly (long ImageId, long QuestionId, string Question, string Answer, string QuestionType, string AnswerType, string[] Answers)[] VqaRows =
    [
        (262148, 262148000, "Where is he looking?", "down", "none of the above", "other",
            ["down", "down", "at table", "skateboard", "down", "table", "down", "down", "down", "down"]),
        (262148, 262148001, "What are the people in the background doing?", "watching", "what are the", "other",
            ["spectating", "watching", "watching", "watching", "watching", "watching", "watching", "watching", "standing", "watching"]),
        (393225, 393225000, "Is the bowl made of glass?", "no", "is the", "yes/no",
            ["no", "no", "no", "no", "yes", "no", "no", "no", "no", "no"]),
        (393225, 393225001, "How many spoons are there?", "2", "how many", "number",
            ["2", "2", "2", "3", "2", "2", "2", "2", "2", "2"]),
    ];

    /// <summary>VQA v2 questions file in the official layout (val2014, four questions about two images).</summary>
    public static JsonObject VqaQuestions() => new()
    {
        ["info"] = Info(),
        ["task_type"] = "Open-Ended",
        ["data_type"] = "mscoco",
        ["license"] = License(),
        ["data_subtype"] = "val2014",
        ["questions"] = new JsonArray(VqaRows.Select(r => (JsonNode)new JsonObject
        {
            ["image_id"] = r.ImageId,
            ["question"] = r.Question,
            ["question_id"] = r.QuestionId,
        }).ToArray()),
    };

    /// <summary>VQA v2 annotations file in the official layout, ten answers per question.</summary>
    public static JsonObject VqaAnnotations() => new()
    {
        ["info"] = Info(),
        ["license"] = License(),
        ["data_subtype"] = "val2014",
        ["annotations"] = new JsonArray(VqaRows.Select(r => (JsonNode)new JsonObject
        {
            ["question_type"] = r.QuestionType,
            ["multiple_choice_answer"] = r.Answer,
            ["answers"] = new JsonArray(r.Answers.Select((a, i) => (JsonNode)new JsonObject
            {
                ["answer"] = a,
                ["answer_confidence"] = i % 3 == 2 ? "maybe" : "yes",
                ["answer_id"] = i + 1,
            }).ToArray()),
            ["image_id"] = r.ImageId,
            ["answer_type"] = r.AnswerType,
            ["question_id"] = r.QuestionId,
        }).ToArray()),
    };

    public static (string Questions, string Annotations) WriteVqa(TempFolder folder, JsonObject? questions = null, JsonObject? annotations = null) =>
        (folder.Write(VqaQuestionsName, questions ?? VqaQuestions()), folder.Write(VqaAnnotationsName, annotations ?? VqaAnnotations()));

    /// <summary>ScienceQA problems.json in the official layout: four problems over train/val/test, one with an image.</summary>
    public static JsonObject ScienceQaProblems() => new()
    {
        ["1"] = Problem("Which figure of speech is used in this text?\nSing, O goddess, the anger of Achilles son of Peleus.",
            ["chiasmus", "apostrophe"], 1, "", null, "closed choice", "grade11", "language science", "figurative-language",
            "Literary devices", "Classify the figure of speech: anaphora, antithesis, apostrophe, assonance, chiasmus, understatement", "train"),
        ["2"] = Problem("Which tense does the sentence use?\nMona will print her name with care.",
            ["present tense", "future tense", "past tense"], 1, "", null, "closed choice", "grade2", "language science", "verbs",
            "Verb tense", "Is the sentence in the past, present, or future tense?", "val"),
        ["3"] = Problem("Which of these states is farthest north?",
            ["West Virginia", "Louisiana", "Arizona", "Oklahoma"], 0, "", "image.png", "closed choice", "grade2", "social science", "geography",
            "Geography", "Read a map: cardinal directions", "train"),
        ["4"] = Problem("Identify the question that Tom and Justin's experiment can best answer.",
            ["Do ping pong balls stop rolling along the ground sooner after being launched from a 30° angle or a 45° angle?", "Do ping pong balls travel farther when launched from a 30° angle compared to a 45° angle?"],
            1, "The passage below describes an experiment. Read the passage and then follow the instructions below.", "image.png",
            "closed choice", "grade8", "natural science", "science-and-engineering-practices", "Designing experiments",
            "Identify the experimental question", "test"),
    };

    private static JsonObject Problem(string question, string[] choices, int answer, string hint, string? image, string task,
        string grade, string subject, string topic, string category, string skill, string split) => new()
    {
        ["question"] = question,
        ["choices"] = new JsonArray(choices.Select(c => (JsonNode)JsonValue.Create(c)).ToArray()),
        ["answer"] = answer,
        ["hint"] = hint,
        ["image"] = image,
        ["task"] = task,
        ["grade"] = grade,
        ["subject"] = subject,
        ["topic"] = topic,
        ["category"] = category,
        ["skill"] = skill,
        ["lecture"] = "A lecture explaining the concept behind the question.",
        ["solution"] = "The solution walks through the reasoning.",
        ["split"] = split,
    };

    /// <summary>ScienceQA pid_splits.json: the three splits plus the derived lists the release also ships.</summary>
    public static JsonObject ScienceQaSplits() => new()
    {
        ["train"] = new JsonArray("1", "3"),
        ["val"] = new JsonArray("2"),
        ["test"] = new JsonArray("4"),
        ["trainval"] = new JsonArray("1", "3", "2"),
        ["minitrain"] = new JsonArray("1"),
        ["minival"] = new JsonArray("2"),
    };

    public static string WriteScienceQa(TempFolder folder, JsonObject? problems = null, JsonObject? splits = null)
    {
        folder.Write("pid_splits.json", splits ?? ScienceQaSplits());
        return folder.Write("problems.json", problems ?? ScienceQaProblems());
    }

    /// <summary>ShapesWorld-like samples: open and choice form, with families, skills and steps.</summary>
    public static IReadOnlyList<DatasetRecord> ShapesRecords(int count = 4)
    {
        var records = new List<DatasetRecord>();
        for (var i = 0; i < count; i++)
        {
            var id = $"sw-test-{i:D6}";
            var split = i == count - 1 ? "val" : "train";
            VqaSample sample = (i % 2) switch
            {
                0 => new VqaSample(id, null, "How many red circles are there?", (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    Family: "count", Skills: ["count", "color"], Split: split,
                    Steps: [new SampleStep(0, "Which objects are red?", "objects 1, 3"), new SampleStep(1, "Which of them are circles?", "object 3")]),
                _ => new VqaSample(id, null, "What color is the large square?\nA. red\nB. blue\nC. green\nD. yellow", "B",
                    Choices: ["red", "blue", "green", "yellow"], AnswerText: "blue", Family: "query_color", Skills: ["color", "size"], Split: split),
            };
            var provenance = new JsonObject
            {
                ["seed"] = 1000 + i,
                ["scene"] = new JsonObject { ["objects"] = 3 + i, ["background"] = "white", ["jitter"] = 0.25 },
                ["program"] = new JsonArray("scene", "filter_color[red]", "filter_shape[circle]", "count"),
            };
            records.Add(new DatasetRecord(sample, TinyPng, provenance));
        }

        return records;
    }

    public static DatasetManifest WriteDataset(string directory, IEnumerable<DatasetRecord> records, string name = "shapes_test")
    {
        using var writer = new DatasetWriter(directory, name);
        foreach (var record in records) writer.Add(record);
        return writer.Complete();
    }

    public static JsonNode Parse(string path) => JsonNode.Parse(System.IO.File.ReadAllText(path))!;
}
