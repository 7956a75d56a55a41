using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using FailureSynth.Imaging;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Common;
using FailureSynth.Loop.Contracts;
using FailureSynth.Serving;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.Connectors.OpenAI;

namespace FailureSynth.Backends;

/// <summary>The teacher endpoint refused a request (bad model, key, or request) or never gave a usable score: the run cannot go on.</summary>
public sealed class TeacherEndpointException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>
/// The teacher as Semantic Kernel prompt functions sent to an OpenAI-compatible chat endpoint (<c>teacher.backend:
/// semantic-kernel</c>). Each <see cref="ITeacher"/> call renders one template of <c>Prompts/</c>, whose data is the
/// call's task as JSON (<see cref="TeacherTasks"/>). Scores come from the log-probabilities of the answer labels,
/// diagnoses, proposals and verdicts from JSON-schema replies that <see cref="TeacherReplies"/> checks strictly; a reply
/// that fails is asked for again up to <see cref="ReplyAttempts"/> times, then recorded as a rejection with its reason
/// (<see cref="Log"/>). Transport retries, timeouts and the concurrency limit are <see cref="EndpointHandler"/>'s.
/// Calls are cached by endpoint, model and a hash of the rendered prompt and settings.
/// </summary>
public sealed partial class SemanticKernelTeacher : ITeacher, IImageReader, IAnswerJudge, IDisposable
{
    /// <summary>Replies asked for per call before a bad one is recorded as a rejection.</summary>
    public const int ReplyAttempts = 3;

    private static readonly string[] FunctionNames = ["score-answers", "diagnose-skill", "propose", "judge", "describe-skill", "read-answer", "match-answer"];
    private readonly ModelEndpoint _endpoint;
    private readonly ICallCache? _cache;
    private readonly HttpClient _http;
    private readonly Kernel _kernel;
    private readonly Dictionary<string, (KernelFunction Function, PromptTemplateConfig Config)> _functions = new(StringComparer.Ordinal);
    private readonly KernelPromptTemplateFactory _templates = new();

    public SemanticKernelTeacher(ModelEndpoint endpoint, ICallCache? cache = null, HttpMessageHandler? transport = null, Func<TimeSpan, CancellationToken, Task>? sleep = null)
    {
        _endpoint = endpoint ?? throw new ArgumentNullException(nameof(endpoint));
        _cache = cache;
        _http = EndpointHandler.Client(endpoint, transport, sleep);
        var builder = Kernel.CreateBuilder();
        // A key is always sent; servers without authentication ignore it.
        builder.AddOpenAIChatCompletion(endpoint.Model, endpoint.Endpoint, endpoint.ApiKey() ?? "none", httpClient: _http);
        _kernel = builder.Build();
        foreach (string name in FunctionNames)
        {
            var config = new PromptTemplateConfig(PromptTemplate(name)) { Name = name.Replace('-', '_'), TemplateFormat = PromptTemplateConfig.SemanticKernelTemplateFormat };
            _functions[name] = (_kernel.CreateFunctionFromPrompt(config, _templates), config);
        }
    }

    /// <summary>The model id: the teacher named in dataset provenance (as the embedded teacher's name is).</summary>
    public string Name => _endpoint.Model;

    public TeacherCallLog Log { get; } = new();

    /// <summary>Whether proposals may carry a free-form image_description (only when an image endpoint renders them).</summary>
    public bool AcceptImageDescriptions { get; init; }

    /// <summary>The text of a prompt template file (Prompts/NAME.prompt, embedded in the assembly).</summary>
    public static string PromptTemplate(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"FailureSynth.Backends.Prompts.{name}.prompt")
            ?? throw new InvalidOperationException($"The prompt template {name}.prompt is not embedded in {Assembly.GetExecutingAssembly().GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>
    /// Each candidate gets a capital-letter label in the prompt and the model answers with one label, so every candidate
    /// is a single token however many tokens its own text takes (multi-token answers are never scored token by token).
    /// A candidate's probability is exp(log p) of its label as the first generated token, summed over alternatives that
    /// differ only by surrounding whitespace (" A"); a label missing from the top alternatives scores 0 (it is less likely
    /// than every listed token). Scores are not renormalised: mass on other tokens stays out, as the embedded teacher's
    /// scores need not sum to 1 either.
    /// </summary>
    public async Task<IReadOnlyList<double>> ScoreAnswersAsync(TeacherQuestion question, IReadOnlyList<string> candidates, IReadOnlyList<StepAnswer> stepsSoFar, BiasedPrior? prior, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(question);
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(stepsSoFar);
        if (candidates.Count is 0 or > TeacherTasks.MaxCandidates)
            throw new ArgumentException($"The teacher scores 1..{TeacherTasks.MaxCandidates} candidates per call (OpenAI's top_logprobs limit); got {candidates.Count}.", nameof(candidates));
        var labels = Enumerable.Range(0, candidates.Count).Select(TeacherTasks.Label).ToList();
        var task = new JsonObject
        {
            ["task"] = TeacherTasks.Score,
            ["question"] = TeacherTasks.Question(question),
            ["steps"] = TeacherTasks.Steps(stepsSoFar),
            ["prior"] = prior is null ? null : new JsonObject { ["answer"] = prior.Answer, ["probability"] = prior.Probability },
            ["candidates"] = new JsonArray([.. candidates.Select((c, i) => (JsonNode)new JsonObject { ["label"] = labels[i], ["answer"] = c })]),
        };
        var settings = new OpenAIPromptExecutionSettings { Logprobs = true, TopLogprobs = candidates.Count, MaxTokens = 1, Temperature = 0 };
        var reply = await CallAsync("score-answers", task, settings, null,
            r => r.Alternatives is { Count: > 0 } alternatives && alternatives.Any(a => labels.Contains(a.Token.Trim(), StringComparer.Ordinal)) ? null
                : "the reply carries no log-probabilities for any candidate label (does the endpoint support logprobs and top_logprobs?)",
            cancellationToken).ConfigureAwait(false);
        if (reply.Value is not { } scored)
            throw new TeacherEndpointException($"The teacher at {_endpoint.Endpoint} gave no usable scores after {ReplyAttempts} replies: {reply.Reason}");
        return [.. labels.Select(label => scored.Alternatives!.Where(a => a.Token.Trim() == label).Sum(a => OpenAIWire.Exp(a.Logprob)))];
    }

    public async Task<SkillDiagnosis> DiagnoseSkillAsync(Failure failure, LocatedStep step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(failure);
        ArgumentNullException.ThrowIfNull(step);
        var task = new JsonObject
        {
            ["task"] = TeacherTasks.Diagnose,
            ["failure"] = new JsonObject
            {
                ["id"] = failure.Id,
                ["sample_id"] = failure.SampleId,
                ["question"] = TeacherTasks.Question(failure.Question),
                ["gold"] = failure.Gold,
                ["predicted"] = failure.Predicted,
                ["steps"] = TeacherTasks.Steps(failure.Steps),
            },
            ["located_step"] = new JsonObject { ["index"] = step.Index, ["question"] = step.Question, ["answer"] = step.Answer },
        };
        var settings = Structured("skill_diagnosis", TeacherReplies.DiagnosisSchema(), strict: true);
        SkillDiagnosis? diagnosis = null;
        var reply = await CallAsync("diagnose-skill", task, settings, null, r => (diagnosis = TeacherReplies.Diagnosis(r.Content).Diagnosis) is null ? TeacherReplies.Diagnosis(r.Content).Problem : null, cancellationToken).ConfigureAwait(false);
        // A rejected diagnosis falls back to the located step's own question as the skill text (the no-diagnose
        // ablation's query): the student's and the world's words, never the rejected reply's.
        return reply.Value is null ? new SkillDiagnosis($"the skill the question '{step.Question}' needs", null) : diagnosis!;
    }

    public async Task<IReadOnlyList<SampleProposal>> ProposeAsync(SkillDiagnosis skill, Failure? failure, int n, long seed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(skill);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (n == 0) return [];
        var task = new JsonObject
        {
            ["task"] = TeacherTasks.Propose,
            ["skill"] = new JsonObject { ["text"] = skill.Text, ["skill_key"] = skill.SkillKey },
            ["n"] = n,
        };
        var settings = Structured("sample_proposals", TeacherReplies.ProposalsSchema(), strict: false);
        settings.Seed = seed;
        IReadOnlyList<SampleProposal> proposals = [];
        IReadOnlyList<string> dropped = [];
        var reply = await CallAsync("propose", task, settings, null, r =>
        {
            var (p, d, problem) = TeacherReplies.Proposals(r.Content, n, AcceptImageDescriptions);
            (proposals, dropped) = (p, d);
            return problem;
        }, cancellationToken, () => dropped.Count == 0 ? null : $"{dropped.Count} proposal(s) dropped: {string.Join("; ", dropped.Take(5))}").ConfigureAwait(false);
        return reply.Value is null ? [] : proposals;
    }

    public async Task<JudgeVerdict> JudgeAsync(SampleProposal sample, RgbImage image, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(image);
        var task = new JsonObject { ["task"] = TeacherTasks.Judge, ["proposal"] = TeacherTasks.Proposal(sample) };
        string dataUri = "data:image/png;base64," + Convert.ToBase64String(PngEncoder.Encode(image));
        var settings = Structured("judge_verdict", TeacherReplies.VerdictSchema(), strict: true);
        JudgeVerdict? verdict = null;
        var reply = await CallAsync("judge", task, settings, dataUri, r => (verdict = TeacherReplies.Verdict(r.Content).Verdict) is null ? TeacherReplies.Verdict(r.Content).Problem : null, cancellationToken).ConfigureAwait(false);
        // A rejected verdict scores 1: the filter then refuses the sample, with the reason.
        return reply.Value is null ? new JudgeVerdict(1, $"the judge's reply was rejected after {ReplyAttempts} attempts: {reply.Reason}") : verdict!;
    }

    /// <summary>
    /// The answer check of a sample drawn from a description: the teacher answers the question from the picture, without
    /// being told the proposed answer (so it cannot just agree). Structured reply, checked like the others.
    /// </summary>
    public async Task<ImageReading> ReadAnswerAsync(TeacherQuestion question, RgbImage image, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(question);
        ArgumentNullException.ThrowIfNull(image);
        var task = new JsonObject { ["task"] = TeacherTasks.ReadAnswer, ["question"] = TeacherTasks.Question(question) };
        string dataUri = "data:image/png;base64," + Convert.ToBase64String(PngEncoder.Encode(image));
        string? answer = null;
        var reply = await CallAsync("read-answer", task, Structured("image_answer", TeacherReplies.ReadingSchema(), strict: true), dataUri,
            r => (answer = TeacherReplies.Reading(r.Content).Answer) is null ? TeacherReplies.Reading(r.Content).Problem : null, cancellationToken).ConfigureAwait(false);
        return reply.Value is null ? new ImageReading(null, $"the reply was rejected after {ReplyAttempts} attempts: {reply.Reason}") : new ImageReading(answer, null);
    }

    /// <summary>Whether a free-text answer means the same as the reference (text only; structured reply, checked like the others).</summary>
    public async Task<AnswerMatch> MatchAnswerAsync(TeacherQuestion question, string reference, string answer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(question);
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(answer);
        var task = new JsonObject { ["task"] = TeacherTasks.MatchAnswer, ["question"] = TeacherTasks.Question(question), ["reference"] = reference, ["answer"] = answer };
        AnswerMatch? match = null;
        var reply = await CallAsync("match-answer", task, Structured("answer_match", TeacherReplies.MatchSchema(), strict: true), null,
            r => (match = TeacherReplies.Match(r.Content).Match) is null ? TeacherReplies.Match(r.Content).Problem : null, cancellationToken).ConfigureAwait(false);
        // A rejected judgement counts the answer as wrong, with the reason (never as right on a reply we could not read).
        return reply.Value is null ? new AnswerMatch(false, "no judgement", $"the reply was rejected after {ReplyAttempts} attempts: {reply.Reason}") : match!;
    }

    public async Task<string> DescribeRequiredSkillAsync(TeacherQuestion question, string? answer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(question);
        var task = new JsonObject { ["task"] = TeacherTasks.Describe, ["question"] = TeacherTasks.Question(question), ["answer"] = answer };
        var reply = await CallAsync("describe-skill", task, new OpenAIPromptExecutionSettings { Temperature = 0 }, null,
            r => string.IsNullOrWhiteSpace(r.Content) ? "an empty reply" : r.Content.Length > TeacherReplies.MaxDescriptionChars ? $"a reply of {r.Content.Length} characters (at most {TeacherReplies.MaxDescriptionChars})" : null,
            cancellationToken).ConfigureAwait(false);
        // The skill text only feeds a BM25 index; a rejected one falls back to the question itself.
        return reply.Value?.Content.Trim() ?? question.Text;
    }

    public void Dispose() => _http.Dispose();

    private static OpenAIPromptExecutionSettings Structured(string name, string schema, bool strict) => new()
    {
        Temperature = 0,
        ResponseFormat = OpenAI.Chat.ChatResponseFormat.CreateJsonSchemaFormat(name, BinaryData.FromString(schema), jsonSchemaIsStrict: strict),
    };

    /// <summary>
    /// One prompt function call: render, look up the cache, else invoke (transport retries below), read and validate the
    /// reply, asking again up to <see cref="ReplyAttempts"/> times. The result is the valid reply, or null with the last reason.
    /// </summary>
    private async Task<(TeacherReply? Value, string? Reason)> CallAsync(string name, JsonObject task, OpenAIPromptExecutionSettings settings, string? image,
        Func<TeacherReply, string?> validate, CancellationToken cancellationToken, Func<string?>? note = null)
    {
        var (function, config) = _functions[name];
        var arguments = new KernelArguments(settings) { ["task"] = task.ToJsonString(OpenAIWire.Options) };
        if (image is not null) arguments["image"] = image;
        string rendered = await _templates.Create(config).RenderAsync(_kernel, arguments, cancellationToken).ConfigureAwait(false);
        string settingsKey = JsonSerializer.Serialize(new { settings.Logprobs, settings.TopLogprobs, settings.MaxTokens, settings.Temperature, settings.Seed, Format = settings.ResponseFormat?.ToString() });
        string promptHash = StableHash.Hex(rendered);
        string key = StableHash.Hex("teacher-call", _endpoint.Endpoint.ToString(), _endpoint.Model, name, promptHash, settingsKey);

        if (_cache is not null && await _cache.GetAsync<TeacherReply>(key, cancellationToken).ConfigureAwait(false) is { } cached && validate(cached) is null)
        {
            Log.Add(new TeacherCall(name, promptHash, "cached", 0, 0, 0, 0, note?.Invoke()));
            return (cached, null);
        }

        string? reason = null;
        int http = 0, prompt = 0, completion = 0;
        for (int attempt = 1; attempt <= ReplyAttempts; attempt++)
        {
            var exchange = new EndpointExchange();
            EndpointHandler.Current = exchange;
            TeacherReply reply;
            try
            {
                var result = await _kernel.InvokeAsync(function, arguments, cancellationToken).ConfigureAwait(false);
                reply = TeacherReply.Read(result.GetValue<string>() ?? "", exchange.Body);
            }
            catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                http += exchange.Attempts;
                if (Refused(e) is { } refusal)
                {
                    Log.Add(new TeacherCall(name, promptHash, "failed", http, attempt, prompt, completion, refusal));
                    throw new TeacherEndpointException($"The teacher endpoint {_endpoint.Endpoint} refused the {name} call: {refusal}", e);
                }
                reason = Describe(e);
                continue;
            }
            finally
            {
                EndpointHandler.Current = null;
            }
            http += exchange.Attempts;
            prompt += reply.PromptTokens;
            completion += reply.CompletionTokens;
            reason = validate(reply);
            if (reason is null)
            {
                if (_cache is not null) await _cache.SetAsync(key, reply, null, cancellationToken).ConfigureAwait(false);
                Log.Add(new TeacherCall(name, promptHash, "ok", http, attempt, prompt, completion, note?.Invoke()));
                return (reply, null);
            }
        }
        Log.Add(new TeacherCall(name, promptHash, "rejected", http, ReplyAttempts, prompt, completion, reason));
        return (null, reason);
    }

    /// <summary>The refusal of a request that asking again cannot fix (4xx other than 429), or null.</summary>
    private static string? Refused(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
            if (x is HttpOperationException { StatusCode: { } status } h && (int)status is >= 400 and < 500 and not 429)
                return $"HTTP {(int)status}: {ErrorMessage(h.ResponseContent) ?? h.Message}";
        return null;
    }

    /// <summary>Why a reply could not be read, from the innermost exception that says (truncated JSON, timeout, 5xx...).</summary>
    private static string Describe(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            switch (x)
            {
                case ReplyTooLargeException or EndpointTimeoutException: return x.Message;
                case JsonException: return "the reply is not valid JSON (truncated or malformed)";
                case HttpOperationException { StatusCode: { } status } h: return $"HTTP {(int)status}: {ErrorMessage(h.ResponseContent) ?? "no error message"}";
            }
        }
        var inner = e;
        while (inner.InnerException is not null) inner = inner.InnerException;
        return TeacherReplies.Clip($"{inner.GetType().Name}: {inner.Message}", 200);
    }

    /// <summary>error.message of an OpenAI error body, clipped; null when the body is not one.</summary>
    internal static string? ErrorMessage(string? body)
    {
        if (string.IsNullOrEmpty(body)) return null;
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            // OpenAI and newer vLLM: {"error":{"message":...}}; older vLLM: {"object":"error","message":...}.
            var holder = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object ? error : root;
            return holder.ValueKind == JsonValueKind.Object && holder.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String
                ? TeacherReplies.Clip(RedactKeys(m.GetString()!), 300) : null;
        }
        catch (JsonException) { return null; }
    }

    /// <summary>Providers echo a masked key in 401 messages ("sk-abc1****wxyz"); even masked, keys stay out of our messages and logs.</summary>
    internal static string RedactKeys(string message) => KeyLike().Replace(message, "[key redacted]");

    [System.Text.RegularExpressions.GeneratedRegex(@"\b(sk|pk|rk|key)-[A-Za-z0-9*_\-.]{4,}", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex KeyLike();
}

/// <summary>One alternative for the first generated token, with its log-probability at double precision.</summary>
public sealed record TokenAlternative(string Token, double Logprob);

/// <summary>What the teacher replied: the text, the first token's alternatives (when logprobs were asked) and the token counts.</summary>
public sealed record TeacherReply(string Content, IReadOnlyList<TokenAlternative>? Alternatives, int PromptTokens, int CompletionTokens)
{
    /// <summary>
    /// Reads the log-probabilities and usage from the raw body (the OpenAI SDK types log-probabilities as float; the
    /// body carries doubles); the text is Semantic Kernel's.
    /// </summary>
    public static TeacherReply Read(string content, byte[]? body)
    {
        List<TokenAlternative>? alternatives = null;
        int prompt = 0, completion = 0;
        if (body is not null)
        {
            // JsonDocument checks UTF-8 only when a string is read (InvalidOperationException): refuse it as the malformed body it is.
            if (!System.Text.Unicode.Utf8.IsValid(body)) throw new JsonException("The reply body is not valid UTF-8.");
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            // A model's body is untrusted: every element's kind is checked before it is read (a wrong kind threw
            // InvalidOperationException, a negative count was kept; found by fuzzing, teacher-reply).
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                prompt = TokenCount(usage, "prompt_tokens");
                completion = TokenCount(usage, "completion_tokens");
            }
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0
                && choices[0].ValueKind == JsonValueKind.Object && choices[0].TryGetProperty("logprobs", out var lp) && lp.ValueKind == JsonValueKind.Object
                && lp.TryGetProperty("content", out var tokens) && tokens.ValueKind == JsonValueKind.Array && tokens.GetArrayLength() > 0
                && tokens[0].ValueKind == JsonValueKind.Object && tokens[0].TryGetProperty("top_logprobs", out var top) && top.ValueKind == JsonValueKind.Array)
            {
                alternatives = [];
                foreach (var t in top.EnumerateArray())
                    if (t.ValueKind == JsonValueKind.Object && t.TryGetProperty("token", out var tok) && tok.ValueKind == JsonValueKind.String
                        && t.TryGetProperty("logprob", out var l) && l.ValueKind == JsonValueKind.Number && l.TryGetDouble(out double value) && double.IsFinite(value))
                        alternatives.Add(new TokenAlternative(tok.GetString()!, value));
            }
        }
        return new TeacherReply(content, alternatives, prompt, completion);
    }

    /// <summary>A usage count: a non-negative integer, else 0 (the count only feeds the call log).</summary>
    private static int TokenCount(JsonElement usage, string name) =>
        usage.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n) && n >= 0 ? n : 0;
}
