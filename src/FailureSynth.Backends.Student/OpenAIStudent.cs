using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FailureSynth.Imaging;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Contracts;
using FailureSynth.Serving;
using FailureSynth.TinyVlm;
using FailureSynth.World.Questions;

namespace FailureSynth.Backends;

/// <summary>The student endpoint refused a request or sent a reply that cannot be read.</summary>
public sealed class StudentEndpointException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>
/// A vision model behind an OpenAI-compatible chat endpoint as the student (<c>student.backend: openai</c>): vLLM,
/// Ollama, TGI, or <c>failuresynth serve student</c>. Each question is one request: the image as a PNG data URI and
/// the question text. In reasoning mode the step questions are asked in turn, each phrased from the answers so far,
/// and the final answer is composed from them, as TinyVLM answers. Probabilities are exp of the reply's
/// log-probabilities: a step's is the joint probability of its generated tokens (the sum of their log-probabilities).
/// </summary>
public sealed class OpenAIStudent(ModelEndpoint endpoint, int topLogprobs = 20, HttpMessageHandler? transport = null) : IStudent, IDisposable
{
    private readonly HttpClient _http = EndpointHandler.Client(endpoint, transport);
    private readonly Uri _completions = new(endpoint.Endpoint.ToString().TrimEnd('/') + "/chat/completions");
    private readonly string? _key = endpoint.ApiKey();

    /// <summary>The served model's id: prediction caches are keyed by it.</summary>
    public string ModelVersion => endpoint.Model;

    public async Task<IReadOnlyList<StudentReply>> AnswerAsync(IReadOnlyList<StudentQuery> queries, StudentMode mode, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queries);
        var replies = new StudentReply[queries.Count];
        await Parallel.ForAsync(0, queries.Count, new ParallelOptions { MaxDegreeOfParallelism = endpoint.MaxConcurrency, CancellationToken = cancellationToken },
            async (i, ct) => replies[i] = await AnswerAsync(queries[i], mode, ct).ConfigureAwait(false)).ConfigureAwait(false);
        return replies;
    }

    private async Task<StudentReply> AnswerAsync(StudentQuery q, StudentMode mode, CancellationToken cancellationToken)
    {
        var image = q.Image ?? (q.ImagePath is { } path ? PngDecoder.DecodeFile(path)
            : throw new ArgumentException($"Query {q.SampleId}: no image (neither pixels nor a path).", nameof(q)));
        string dataUri = "data:image/png;base64," + Convert.ToBase64String(PngEncoder.Encode(image));
        var direct = await AskAsync(dataUri, q.Question, cancellationToken).ConfigureAwait(false);
        var candidates = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var (token, logprob) in direct.Top) candidates.TryAdd(token, logprob);
        if (mode == StudentMode.Direct) return new StudentReply(q.SampleId, direct.Answer, OpenAIWire.Exp(direct.Logprob), [], candidates);

        var program = q.Program ?? throw new ArgumentException($"Query {q.SampleId}: reasoning mode needs the question's program to phrase its steps.", nameof(q));
        var steps = new List<StepAnswer>();
        int count = Reasoning.StepCount(program);
        for (int k = 1; k <= count; k++)
        {
            string stepQuestion = Reasoning.StepQuestion(program, k, [.. steps.Select(s => s.Answer)]);
            var step = await AskAsync(dataUri, stepQuestion, cancellationToken).ConfigureAwait(false);
            steps.Add(new StepAnswer(k, stepQuestion, step.Answer, OpenAIWire.Exp(step.Logprob)));
        }
        string answer = steps.Count == 0 ? direct.Answer
            : Reasoning.TryComposeAnswer(program, [.. steps.Select(s => s.Answer)], out var composed, out _) ? TinyVlmStudent.ChoiceLetter(q.Question, composed) ?? composed
            : steps[^1].Answer;
        // The probability of the final answer under the direct question; 0 when it is not among the top alternatives.
        double probability = candidates.TryGetValue(answer, out double lp) ? OpenAIWire.Exp(lp) : 0;
        return new StudentReply(q.SampleId, answer, probability, steps, candidates);
    }

    private sealed record ServedAnswer(string Answer, double Logprob, IReadOnlyList<(string Token, double Logprob)> Top);

    private async Task<ServedAnswer> AskAsync(string dataUri, string question, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["model"] = endpoint.Model,
            ["messages"] = new JsonArray(new JsonObject
            {
                ["role"] = "user",
                ["content"] = new JsonArray(
                    new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = dataUri } },
                    new JsonObject { ["type"] = "text", ["text"] = question }),
            }),
            ["temperature"] = 0,
            ["max_tokens"] = 16,
            ["logprobs"] = true,
            ["top_logprobs"] = topLogprobs,
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, _completions) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        if (_key is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _key);
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new StudentEndpointException($"The student endpoint {_completions} answered HTTP {(int)response.StatusCode}: {SemanticKernelTeacher.ErrorMessage(text) ?? "no error message"}");
        return Read(text);
    }

    /// <summary>The answer text, its log-probability (sum over generated tokens) and the first token's alternatives.</summary>
    private ServedAnswer Read(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var choice = doc.RootElement.GetProperty("choices")[0];
            string content = Normalize(choice.GetProperty("message").GetProperty("content").GetString() ?? "");
            if (content.Length == 0) throw new StudentEndpointException($"The student endpoint {_completions} sent an empty answer.");
            if (!choice.TryGetProperty("logprobs", out var lp) || lp.ValueKind != JsonValueKind.Object || !lp.TryGetProperty("content", out var tokens) || tokens.ValueKind != JsonValueKind.Array || tokens.GetArrayLength() == 0)
                throw new StudentEndpointException($"The student endpoint {_completions} sent no log-probabilities; serve the model with logprobs enabled (vLLM: --max-logprobs >= {topLogprobs}).");
            double sum = 0;
            foreach (var t in tokens.EnumerateArray()) sum += t.GetProperty("logprob").GetDouble();
            var top = new List<(string, double)>();
            if (tokens[0].TryGetProperty("top_logprobs", out var alternatives) && alternatives.ValueKind == JsonValueKind.Array)
                foreach (var a in alternatives.EnumerateArray()) top.Add((Normalize(a.GetProperty("token").GetString() ?? ""), a.GetProperty("logprob").GetDouble()));
            return new ServedAnswer(content, sum, top);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException or FormatException)
        {
            throw new StudentEndpointException($"The student endpoint {_completions} sent a reply that is not a chat completion: {TeacherReplies.Clip(e.Message, 160)}", e);
        }
    }

    /// <summary>An answer as ShapesWorld words: trimmed, without a final full stop, lower case except a one-letter choice.</summary>
    internal static string Normalize(string text)
    {
        string s = text.Trim().TrimEnd('.').Trim();
        return s.Length == 1 ? s : s.ToLowerInvariant();
    }

    public void Dispose() => _http.Dispose();
}
