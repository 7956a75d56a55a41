using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using FailureSynth.Loop.Contracts;
using FailureSynth.World;
using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;

namespace FailureSynth.Serving;

/// <summary>
/// The data of each teacher call, as the prompt templates carry it: one JSON object in a fenced <c>```json</c> block of the
/// user message (a model reads it as data; the served embedded teacher parses it). Teacher-written text that travels on to a
/// later call (a diagnosis, a proposal) only ever appears inside such a JSON string, never as template text, so it cannot
/// become an instruction.
/// </summary>
public static class TeacherTasks
{
    public const string Score = "score_answers";
    public const string Diagnose = "diagnose_skill";
    public const string Propose = "propose";
    public const string Judge = "judge";
    public const string Describe = "describe_skill";
    public const string ReadAnswer = "read_answer";
    public const string MatchAnswer = "match_answer";

    public static JsonSerializerOptions Options => OpenAIWire.Options;

    /// <summary>The task object inside the last <c>```json</c> block of <paramref name="userText"/>.</summary>
    public static JsonObject Extract(string userText)
    {
        const string Fence = "```json";
        int start = userText.LastIndexOf(Fence, StringComparison.Ordinal);
        int end = start < 0 ? -1 : userText.IndexOf("```", start + Fence.Length, StringComparison.Ordinal);
        if (start < 0 || end < 0)
            throw ChatRequest.Invalid("The user message holds no ```json task block; this served teacher answers FailureSynth's teacher prompts only.", "messages");
        try
        {
            return JsonNode.Parse(userText[(start + Fence.Length)..end], documentOptions: new JsonDocumentOptions { MaxDepth = 32, AllowDuplicateProperties = false }) as JsonObject
                ?? throw ChatRequest.Invalid("The ```json task block must hold a JSON object.", "messages");
        }
        catch (JsonException e) { throw ChatRequest.Invalid($"The ```json task block is not valid JSON: {e.Message}", "messages"); }
    }

    public static JsonObject Question(TeacherQuestion q) => new()
    {
        ["text"] = q.Text,
        ["family"] = q.Family,
        ["program"] = q.Program is null ? null : JsonSerializer.SerializeToNode(q.Program, WorldJson.Options),
        ["choices"] = q.Choices is null ? null : new JsonArray([.. q.Choices.Select(c => (JsonNode)JsonValue.Create(c))]),
    };

    public static TeacherQuestion ReadQuestion(JsonNode? node)
    {
        var o = node as JsonObject ?? throw ChatRequest.Invalid("task.question must be an object.", "messages");
        return new TeacherQuestion(
            o["text"]?.GetValue<string>() ?? throw ChatRequest.Invalid("task.question.text is missing.", "messages"),
            o["family"]?.GetValue<string>(),
            o["program"] is { } p ? p.Deserialize<QuestionProgram>(WorldJson.Options) : null,
            o["choices"] is JsonArray c ? [.. c.Select(x => x!.GetValue<string>())] : null);
    }

    /// <summary>Steps with full-precision confidences (the embedded teacher may read them).</summary>
    public static JsonArray Steps(IEnumerable<StepAnswer> steps) =>
        new([.. steps.Select(s => (JsonNode)new JsonObject { ["index"] = s.Index, ["question"] = s.Question, ["answer"] = s.Answer, ["confidence"] = s.Probability })]);

    public static IReadOnlyList<StepAnswer> ReadSteps(JsonNode? node) =>
        node is JsonArray a ? [.. a.Select(s => new StepAnswer(s!["index"]!.GetValue<int>(), s["question"]!.GetValue<string>(), s["answer"]!.GetValue<string>(), s["confidence"]!.GetValue<double>()))] : [];

    /// <summary>A proposal as JSON: the shape the propose call's schema asks for and the judge call carries.</summary>
    public static JsonObject Proposal(SampleProposal p) => new()
    {
        ["id"] = p.Id,
        ["skill_key"] = p.SkillKey,
        ["scene"] = p.Scene is null ? null : JsonSerializer.SerializeToNode(p.Scene, WorldJson.Options),
        ["image_description"] = p.ImageDescription,
        ["question"] = p.Question,
        ["answer"] = p.Answer,
        ["rationale"] = new JsonArray([.. p.Rationale.Select(r => (JsonNode)JsonValue.Create(r))]),
        ["program"] = p.Program is null ? null : JsonSerializer.SerializeToNode(p.Program, WorldJson.Options),
    };

    /// <summary>A proposal read back without checks (the served teacher's own input; the client validates replies strictly elsewhere).</summary>
    public static SampleProposal ReadProposal(JsonNode? node)
    {
        var o = node as JsonObject ?? throw ChatRequest.Invalid("task.proposal must be an object.", "messages");
        return new SampleProposal(
            o["id"]!.GetValue<string>(),
            o["skill_key"]?.GetValue<string>(),
            o["scene"] is { } s ? s.Deserialize<Scene>(WorldJson.Options) : null,
            o["image_description"]?.GetValue<string>(),
            o["question"]!.GetValue<string>(),
            o["answer"]!.GetValue<string>(),
            o["rationale"] is JsonArray r ? [.. r.Select(x => x!.GetValue<string>())] : [],
            o["program"] is { } p ? p.Deserialize<QuestionProgram>(WorldJson.Options) : null);
    }

    /// <summary>The label of candidate <paramref name="index"/> in a score prompt: A, B, ... (one token each, see ScoreAnswers).</summary>
    public static string Label(int index) => ((char)('A' + index)).ToString();

    public const int MaxCandidates = 20;
}

/// <summary>The diagnose call's structured reply.</summary>
public sealed record DiagnosisReply([property: JsonRequired] string Text, string? SkillKey);

/// <summary>The read-answer call's structured reply: the answer the teacher reads off a picture.</summary>
public sealed record ReadAnswerReply([property: JsonRequired] string Answer);

/// <summary>The match-answer call's structured reply.</summary>
public sealed record MatchReply([property: JsonRequired] bool Same, [property: JsonRequired] string Reason);

/// <summary>The judge call's structured reply.</summary>
public sealed record JudgeReply([property: JsonRequired] int Score, [property: JsonRequired] string Reason);
