using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using FailureSynth.Loop.Contracts;
using FailureSynth.World;
using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;
using FailureSynth.World.Skills;

namespace FailureSynth.Backends;

/// <summary>
/// Strict reading of the teacher's structured replies. Semantic Kernel returns whatever text the model sent, schema or
/// not, so every reply is checked here: JSON shape (no unknown fields, required fields, types), sizes, and allowed values
/// (skill keys of the taxonomy, scene specs ShapesWorld can render, ids that cannot be paths). The reply's text is only
/// ever data: it never names a file, runs, or becomes template text.
/// </summary>
public static partial class TeacherReplies
{
    public const int MaxTextChars = 1000;
    public const int MaxAnswerChars = 64;
    public const int MaxRationaleSteps = 16;
    public const int MaxDescriptionChars = 2000;

    private static readonly JsonSerializerOptions Strict = CreateStrict();

    [GeneratedRegex("^prop-[0-9a-f]{16}$", RegexOptions.CultureInvariant)]
    private static partial Regex ProposalId();

    /// <summary>The diagnosis in a reply, or the reason it is refused.</summary>
    public static (SkillDiagnosis? Diagnosis, string? Problem) Diagnosis(string content)
    {
        if (Object(content, ["text", "skill_key"], out var o) is { } problem) return (null, problem);
        if (Text(o!, "text", MaxTextChars, required: true, out string? text) is { } p1) return (null, p1);
        if (SkillKey(o!, out string? key) is { } p2) return (null, p2);
        return (new SkillDiagnosis(text!, key), null);
    }

    /// <summary>The judge's verdict in a reply, or the reason it is refused.</summary>
    public static (JudgeVerdict? Verdict, string? Problem) Verdict(string content)
    {
        if (Object(content, ["score", "reason"], out var o) is { } problem) return (null, problem);
        if (o!["score"] is not JsonValue s || s.GetValueKind() != JsonValueKind.Number || !s.TryGetValue(out int score))
            return (null, "score must be an integer");
        if (score is < 1 or > 3) return (null, $"score {score} is outside 1..3");
        if (Text(o, "reason", MaxTextChars, required: true, out string? reason) is { } p) return (null, p);
        return (new JudgeVerdict(score, reason!), null);
    }

    /// <summary>The judgement of an answer against a reference in a reply, or the reason it is refused.</summary>
    public static (AnswerMatch? Match, string? Problem) Match(string content)
    {
        if (Object(content, ["same", "reason"], out var o) is { } problem) return (null, problem);
        if (o!["same"] is not JsonValue v || v.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False)) return (null, "same must be true or false");
        if (Text(o, "reason", MaxTextChars, required: true, out string? reason) is { } p) return (null, p);
        return (new AnswerMatch(v.GetValue<bool>(), reason!), null);
    }

    public static string MatchSchema() => new JsonObject
    {
        ["type"] = "object",
        ["properties"] = new JsonObject { ["same"] = new JsonObject { ["type"] = "boolean" }, ["reason"] = new JsonObject { ["type"] = "string" } },
        ["required"] = new JsonArray("same", "reason"),
        ["additionalProperties"] = false,
    }.ToJsonString();

    /// <summary>The answer read off a picture in a reply, or the reason it is refused.</summary>
    public static (string? Answer, string? Problem) Reading(string content)
    {
        if (Object(content, ["answer"], out var o) is { } problem) return (null, problem);
        if (Text(o!, "answer", MaxAnswerChars, required: true, out string? answer) is { } p) return (null, p);
        return (answer!.Trim(), null);
    }

    /// <summary>
    /// The proposals of a reply. A reply of the wrong shape is refused as a whole (<c>Problem</c>); a well-formed reply
    /// keeps its valid proposals and lists each dropped one with its reason.
    /// </summary>
    public static (IReadOnlyList<SampleProposal> Proposals, IReadOnlyList<string> Dropped, string? Problem) Proposals(string content, int asked, bool acceptImageDescriptions)
    {
        if (Object(content, ["proposals"], out var o) is { } problem) return ([], [], problem);
        if (o!["proposals"] is not JsonArray items) return ([], [], "proposals must be an array");
        if (items.Count > asked) return ([], [], $"{items.Count} proposals where {asked} were asked for");
        var proposals = new List<SampleProposal>();
        var dropped = new List<string>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < items.Count; i++)
        {
            var (proposal, reason) = Proposal(items[i], acceptImageDescriptions);
            if (proposal is not null && !ids.Add(proposal.Id))
            {
                reason = $"id '{proposal.Id}' repeats an earlier proposal";
                proposal = null;
            }
            if (proposal is null) dropped.Add($"proposals[{i}]: {reason}");
            else proposals.Add(proposal);
        }
        return (proposals, dropped, null);
    }

    private static (SampleProposal? Proposal, string? Reason) Proposal(JsonNode? node, bool acceptImageDescriptions)
    {
        if (node is not JsonObject o) return (null, "not an object");
        string[] allowed = ["id", "skill_key", "scene", "image_description", "question", "answer", "rationale", "program"];
        if (o.Select(p => p.Key).FirstOrDefault(k => !allowed.Contains(k)) is { } unknown) return (null, $"unknown field '{Clip(unknown)}'");
        if (Text(o, "id", 21, required: true, out string? id) is { } p0) return (null, p0);
        // Ids name image files of the dataset: only this exact form is taken, so no reply can name a path.
        if (!ProposalId().IsMatch(id!)) return (null, $"id '{Clip(id!)}' must be 'prop-' and 16 lowercase hex digits");
        if (SkillKey(o, out string? key) is { } p1) return (null, p1);
        if (Text(o, "question", MaxTextChars, required: true, out string? question) is { } p2) return (null, p2);
        if (Text(o, "answer", MaxAnswerChars, required: true, out string? answer) is { } p3) return (null, p3);
        if (Text(o, "image_description", MaxDescriptionChars, required: false, out string? description) is { } p4) return (null, p4);
        var rationale = new List<string>();
        if (o["rationale"] is JsonArray steps)
        {
            if (steps.Count > MaxRationaleSteps) return (null, $"rationale has {steps.Count} steps (at most {MaxRationaleSteps})");
            foreach (var step in steps)
            {
                if (step is not JsonValue v || v.GetValueKind() != JsonValueKind.String) return (null, "rationale must be an array of strings");
                string s = v.GetValue<string>();
                if (s.Length > MaxTextChars || HasControl(s)) return (null, $"a rationale step is longer than {MaxTextChars} characters or holds control characters");
                rationale.Add(s);
            }
        }
        else if (o["rationale"] is not null) return (null, "rationale must be an array of strings");
        Scene? scene = null;
        if (o["scene"] is { } sceneNode)
        {
            try { scene = sceneNode.Deserialize<Scene>(Strict); }
            catch (JsonException e) { return (null, $"scene is not a ShapesWorld scene spec: {Clip(e.Message, 160)}"); }
            if (SceneProblem(scene) is { } sp) return (null, "scene: " + sp);
        }
        QuestionProgram? program = null;
        if (o["program"] is { } programNode)
        {
            try { program = programNode.Deserialize<QuestionProgram>(Strict); }
            catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException) { return (null, $"program is not a ShapesWorld question program: {Clip(e.Message, 160)}"); }
        }
        if (scene is null && description is null) return (null, "neither a scene nor an image_description");
        if (scene is not null && description is not null) return (null, "both a scene and an image_description; give one");
        if (description is not null && !acceptImageDescriptions) return (null, "an image_description, but no image endpoint is configured (images.backend: openai)");
        return (new SampleProposal(id!, key, scene, description, question!, answer!, rationale, program), null);
    }

    /// <summary>Why ShapesWorld cannot render the scene as specified, or null.</summary>
    public static string? SceneProblem(Scene? scene)
    {
        if (scene?.Objects is null) return "no objects";
        if (scene.Objects.Count is 0 or > Scene.MaxObjects) return $"{scene.Objects.Count} objects (1..{Scene.MaxObjects})";
        if (!double.IsFinite(scene.NoiseAmplitude) || scene.NoiseAmplitude is < 0 or > 1) return "noiseAmplitude must be in [0, 1]";
        foreach (var obj in scene.Objects)
        {
            if (obj is null) return "a null object";
            if (!Enum.IsDefined(obj.Shape) || !Enum.IsDefined(obj.Color) || !Enum.IsDefined(obj.Size)) return "an object with an unknown shape, colour or size";
            if (!double.IsFinite(obj.X) || !double.IsFinite(obj.Y) || obj.X is < 0 or > 1 || obj.Y is < 0 or > 1)
                return string.Create(CultureInfo.InvariantCulture, $"object at ({obj.X}, {obj.Y}) outside the unit square");
        }
        return SceneSampler.FindLayoutProblems(scene) is { Count: > 0 } layout ? "layout: " + layout[0] : null;
    }

    private static string? Object(string content, string[] allowed, out JsonObject? o)
    {
        o = null;
        JsonNode? node;
        // A field named twice is refused here: JsonObject would throw ArgumentException on it later (found by fuzzing, teacher-reply).
        try { node = JsonNode.Parse(content, documentOptions: new JsonDocumentOptions { MaxDepth = 24, AllowDuplicateProperties = false }); }
        catch (JsonException e) { return $"not valid JSON ({Clip(e.Message, 120)})"; }
        if (node is not JsonObject obj) return "not a JSON object";
        if (obj.Select(p => p.Key).FirstOrDefault(k => !allowed.Contains(k)) is { } unknown) return $"unknown field '{Clip(unknown)}'";
        if (allowed.FirstOrDefault(k => !obj.ContainsKey(k) && k is not ("skill_key")) is { } missing) return $"field '{missing}' is missing";
        o = obj;
        return null;
    }

    private static string? Text(JsonObject o, string name, int max, bool required, out string? text)
    {
        text = null;
        var node = o[name];
        if (node is null) return required ? $"{name} is missing" : null;
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.String) return $"{name} must be a string";
        string s = v.GetValue<string>();
        if (required && string.IsNullOrWhiteSpace(s)) return $"{name} is empty";
        if (s.Length > max) return $"{name} has {s.Length} characters (at most {max})";
        if (HasControl(s)) return $"{name} holds control characters";
        text = s;
        return null;
    }

    private static string? SkillKey(JsonObject o, out string? key)
    {
        key = null;
        var node = o["skill_key"];
        if (node is null) return null;
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.String) return "skill_key must be a string or null";
        string s = v.GetValue<string>();
        if (!SkillTaxonomy.Contains(s)) return $"skill_key '{Clip(s)}' is not in the skill taxonomy";
        key = s;
        return null;
    }

    private static bool HasControl(string s) => s.Any(c => char.IsControl(c) && c is not ('\n' or '\t'));

    public static string Clip(string s, int max = 60) => s.Length <= max ? s : s[..max] + "...";

    private static JsonSerializerOptions CreateStrict()
    {
        var o = new JsonSerializerOptions(WorldJson.Options)
        {
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            AllowOutOfOrderMetadataProperties = true,
            MaxDepth = 24,
        };
        o.MakeReadOnly(populateMissingResolver: true);
        return o;
    }

    /// <summary>The JSON schema sent as response_format for a diagnosis (strict: OpenAI then only samples conforming text).</summary>
    public static string DiagnosisSchema() => new JsonObject
    {
        ["type"] = "object",
        ["properties"] = new JsonObject
        {
            ["text"] = new JsonObject { ["type"] = "string" },
            ["skill_key"] = new JsonObject { ["type"] = new JsonArray("string", "null"), ["enum"] = new JsonArray([.. SkillTaxonomy.All.Select(s => (JsonNode?)JsonValue.Create(s.Key)), null]) },
        },
        ["required"] = new JsonArray("text", "skill_key"),
        ["additionalProperties"] = false,
    }.ToJsonString();

    public static string ReadingSchema() => new JsonObject
    {
        ["type"] = "object",
        ["properties"] = new JsonObject { ["answer"] = new JsonObject { ["type"] = "string" } },
        ["required"] = new JsonArray("answer"),
        ["additionalProperties"] = false,
    }.ToJsonString();

    public static string VerdictSchema() => new JsonObject
    {
        ["type"] = "object",
        ["properties"] = new JsonObject
        {
            ["score"] = new JsonObject { ["type"] = "integer", ["enum"] = new JsonArray(1, 2, 3) },
            ["reason"] = new JsonObject { ["type"] = "string" },
        },
        ["required"] = new JsonArray("score", "reason"),
        ["additionalProperties"] = false,
    }.ToJsonString();

    /// <summary>The proposals schema. Not strict: a question program is polymorphic (its "family" picks the fields), which strict mode cannot state; we check it ourselves.</summary>
    public static string ProposalsSchema()
    {
        static JsonObject Enum<T>() where T : struct, Enum => new() { ["type"] = "string", ["enum"] = new JsonArray([.. System.Enum.GetNames<T>().Select(n => (JsonNode?)JsonValue.Create(n))]) };
        var sceneObject = new JsonObject
        {
            ["type"] = "object",
            ["properties"] = new JsonObject { ["shape"] = Enum<ObjectShape>(), ["color"] = Enum<ObjectColor>(), ["size"] = Enum<ObjectSize>(), ["x"] = new JsonObject { ["type"] = "number" }, ["y"] = new JsonObject { ["type"] = "number" } },
            ["required"] = new JsonArray("shape", "color", "size", "x", "y"),
            ["additionalProperties"] = false,
        };
        var proposal = new JsonObject
        {
            ["type"] = "object",
            ["properties"] = new JsonObject
            {
                ["id"] = new JsonObject { ["type"] = "string", ["pattern"] = "^prop-[0-9a-f]{16}$" },
                ["skill_key"] = new JsonObject { ["type"] = new JsonArray("string", "null") },
                ["scene"] = new JsonObject { ["type"] = new JsonArray("object", "null"), ["properties"] = new JsonObject { ["objects"] = new JsonObject { ["type"] = "array", ["items"] = sceneObject } } },
                ["image_description"] = new JsonObject { ["type"] = new JsonArray("string", "null") },
                ["question"] = new JsonObject { ["type"] = "string" },
                ["answer"] = new JsonObject { ["type"] = "string" },
                ["rationale"] = new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "string" } },
                ["program"] = new JsonObject { ["type"] = new JsonArray("object", "null") },
            },
            ["required"] = new JsonArray("id", "question", "answer"),
            ["additionalProperties"] = false,
        };
        return new JsonObject
        {
            ["type"] = "object",
            ["properties"] = new JsonObject { ["proposals"] = new JsonObject { ["type"] = "array", ["items"] = proposal } },
            ["required"] = new JsonArray("proposals"),
            ["additionalProperties"] = false,
        }.ToJsonString();
    }
}
