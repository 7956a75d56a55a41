using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FailureSynth.Loop.Common;
using FailureSynth.Loop.Contracts;
using FailureSynth.Loop.Teacher;

namespace FailureSynth.Serving;

/// <summary>What a served model says to one request: the assistant's text and, per generated token, its log-probability with alternatives.</summary>
public sealed record ChatAnswer(string Content, IReadOnlyList<TokenLogprob> Tokens, int PromptTokens);

/// <summary>A model answering OpenAI chat-completion requests.</summary>
public interface IChatModel
{
    /// <summary>The id clients name in <c>model</c>, listed by <c>GET /v1/models</c>.</summary>
    string Id { get; }

    Task<ChatAnswer> CompleteAsync(ChatRequest request, CancellationToken cancellationToken);
}

/// <summary>
/// The embedded teacher as an OpenAI-compatible chat model. It answers FailureSynth's teacher prompts (the task is the
/// <c>```json</c> block of the user message, see <see cref="TeacherTasks"/>): scores as one label token per candidate
/// with log-probabilities, diagnoses, proposals and verdicts as JSON text, exactly what the embedded teacher computes.
/// Given <paramref name="pictures"/> (the memory of a served ShapesWorld image model), about half its proposals (by id)
/// carry an image description in <see cref="SceneDescriptions"/>' form instead of the scene; it judges such a proposal's
/// picture against the described scene and reads answers off the pictures that image model drew.
/// </summary>
/// <remarks>
/// Given <paramref name="programs"/>, a question sent as text only (a campaign on dataset files) gets the program of the
/// same text from that index; asked without a rationale, the double diagnoses the question's last step (its answer).
/// </remarks>
public sealed class TeacherChatModel(EmbeddedTeacher teacher, DrawnPictures? pictures = null, QuestionPrograms? programs = null) : IChatModel
{
    public string Id => teacher.Name;

    private TeacherQuestion Known(TeacherQuestion q) =>
        q.Program is null && programs?.Find(q.Text) is { } program ? q with { Program = program, Family = q.Family ?? World.Questions.QuestionKeys.Of(program.Family) } : q;

    public async Task<ChatAnswer> CompleteAsync(ChatRequest request, CancellationToken cancellationToken)
    {
        var task = TeacherTasks.Extract(request.UserText);
        int prompt = OpenAIWire.EstimateTokens(request.UserText) + OpenAIWire.EstimateTokens(request.SystemPrompt ?? "");
        string kind = "task";
        try
        {
            // Inside the try: a "task" that is not a string threw InvalidOperationException, a 500 (found by fuzzing, serve-body).
            kind = task["task"]?.GetValue<string>() ?? throw ChatRequest.Invalid("The task block has no \"task\" field.", "messages");
            switch (kind)
            {
                case TeacherTasks.Score:
                    return ScoreAnswers(task, request, prompt);
                case TeacherTasks.Diagnose:
                {
                    var f = task["failure"]!.AsObject();
                    var failure = new Failure(f["id"]!.GetValue<string>(), f["sample_id"]!.GetValue<string>(), Known(TeacherTasks.ReadQuestion(f["question"])),
                        f["gold"]!.GetValue<string>(), f["predicted"]!.GetValue<string>(), TeacherTasks.ReadSteps(f["steps"]), []);
                    var s = task["located_step"]!.AsObject();
                    var step = new LocatedStep(s["index"]!.GetValue<int>(), s["question"]!.GetValue<string>(), s["answer"]!.GetValue<string>(), "served", false);
                    // No rationale (the question was asked directly): the step at fault is the one that gives the answer.
                    if (failure.Steps.Count == 0 && failure.Question.Program is { } whole)
                        step = step with { Index = World.Questions.Reasoning.StepCount(whole) };
                    var d = await teacher.DiagnoseSkillAsync(failure, step, cancellationToken).ConfigureAwait(false);
                    return Json(new DiagnosisReply(d.Text, d.SkillKey), prompt);
                }
                case TeacherTasks.Propose:
                {
                    long seed = request.Seed ?? throw ChatRequest.Invalid("A propose request needs a seed: the served teacher's proposals are a function of it.", "seed");
                    var skill = task["skill"]!.AsObject();
                    int n = task["n"]!.GetValue<int>();
                    if (n is < 0 or > 4096) throw ChatRequest.Invalid($"task.n must be 0..4096 (got {n}).", "messages");
                    var proposals = await teacher.ProposeAsync(new SkillDiagnosis(skill["text"]!.GetValue<string>(), skill["skill_key"]?.GetValue<string>()), null, n, seed, cancellationToken).ConfigureAwait(false);
                    if (pictures is not null)
                        proposals = [.. proposals.Select(p => p.Scene is { } scene && (StableHash.Seed("described", p.Id) & 1) == 0
                            ? p with { Scene = null, ImageDescription = SceneDescriptions.Describe(scene) } : p)];
                    var reply = new JsonObject { ["proposals"] = new JsonArray([.. proposals.Select(p => (JsonNode)TeacherTasks.Proposal(p))]) };
                    return Text(reply.ToJsonString(OpenAIWire.Options), prompt);
                }
                case TeacherTasks.Judge:
                {
                    var images = request.Images;
                    if (images.Count != 1) throw ChatRequest.Invalid($"A judge request must carry exactly one image; it carries {images.Count}.", "messages");
                    var proposal = TeacherTasks.ReadProposal(task["proposal"]);
                    // A described proposal is judged as the picture of the scene its description states (the embedded judge
                    // checks each promised object's colour at its place in the picture).
                    if (proposal.Scene is null && proposal.ImageDescription is { } description)
                        proposal = SceneDescriptions.TryParse(description, out var described, out _) ? proposal with { Scene = described } : proposal;
                    var verdict = await teacher.JudgeAsync(proposal, images[0], cancellationToken).ConfigureAwait(false);
                    return Json(new JudgeReply(verdict.Score, verdict.Reason), prompt);
                }
                case TeacherTasks.Describe:
                {
                    string text = await teacher.DescribeRequiredSkillAsync(Known(TeacherTasks.ReadQuestion(task["question"])), task["answer"]?.GetValue<string>(), cancellationToken).ConfigureAwait(false);
                    return Text(text, prompt);
                }
                case TeacherTasks.ReadAnswer:
                {
                    var images = request.Images;
                    if (images.Count != 1) throw ChatRequest.Invalid($"A read_answer request must carry exactly one image; it carries {images.Count}.", "messages");
                    if (pictures is null) throw ChatRequest.Invalid("This served teacher reads only pictures its own image model drew (serve teacher --image-descriptions).", "messages");
                    var question = TeacherTasks.ReadQuestion(task["question"]);
                    // Reads what it can: a picture it drew, with a question whose program it is given; else it says it cannot tell.
                    string answer = pictures.Find(images[0]) is { } scene && question.Program is { } program ? World.Questions.ProgramExecutor.Execute(program, scene) : "cannot tell";
                    return Json(new ReadAnswerReply(answer), prompt);
                }
                case TeacherTasks.MatchAnswer:
                {
                    var m = await teacher.MatchAnswerAsync(Known(TeacherTasks.ReadQuestion(task["question"])), task["reference"]!.GetValue<string>(), task["answer"]!.GetValue<string>(), cancellationToken).ConfigureAwait(false);
                    return Json(new MatchReply(m.Same, m.Reason), prompt);
                }
                default:
                    throw ChatRequest.Invalid($"Unknown task '{ChatRequest.Clip(kind)}' (known: {TeacherTasks.Score}, {TeacherTasks.Diagnose}, {TeacherTasks.Propose}, {TeacherTasks.Judge}, {TeacherTasks.Describe}, {TeacherTasks.ReadAnswer}, {TeacherTasks.MatchAnswer}).", "messages");
            }
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException or JsonException or KeyNotFoundException or NotSupportedException)
        {
            // A field missing or of the wrong type in the task block (NotSupportedException: a question program without
            // its "family" discriminator, found by fuzzing, serve-body).
            throw ChatRequest.Invalid($"The {kind} task block is malformed: {e.Message}", "messages");
        }
        catch (ArgumentException e)
        {
            throw ChatRequest.Invalid($"The embedded teacher cannot answer this {kind} task: {e.Message}", "messages");
        }
    }

    private ChatAnswer ScoreAnswers(JsonObject task, ChatRequest request, int prompt)
    {
        var candidates = task["candidates"]!.AsArray().Select(c => (Label: c!["label"]!.GetValue<string>(), Answer: c["answer"]!.GetValue<string>())).ToList();
        if (candidates.Count is 0 or > TeacherTasks.MaxCandidates) throw ChatRequest.Invalid($"A score task needs 1..{TeacherTasks.MaxCandidates} candidates (got {candidates.Count}).", "messages");
        var prior = task["prior"] is JsonObject p ? new BiasedPrior(p["answer"]!.GetValue<string>(), p["probability"]!.GetValue<double>()) : null;
        var scores = teacher.Score(Known(TeacherTasks.ReadQuestion(task["question"])), [.. candidates.Select(c => c.Answer)], TeacherTasks.ReadSteps(task["steps"]), prior);
        var order = Enumerable.Range(0, candidates.Count).OrderByDescending(i => scores[i]).ThenBy(i => i).ToList();
        var top = order.Take(request.TopLogprobs).Select(i => new TopLogprob(candidates[i].Label, OpenAIWire.Log(scores[i]), OpenAIWire.Utf8(candidates[i].Label))).ToList();
        int best = order[0];
        var token = new TokenLogprob(candidates[best].Label, OpenAIWire.Log(scores[best]), OpenAIWire.Utf8(candidates[best].Label), top);
        return new ChatAnswer(candidates[best].Label, [token], prompt);
    }

    private static ChatAnswer Json<T>(T reply, int prompt) => Text(JsonSerializer.Serialize(reply, OpenAIWire.Options), prompt);

    private static ChatAnswer Text(string content, int prompt) => new(content, [], prompt);
}
