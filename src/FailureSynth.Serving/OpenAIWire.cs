using System.Text.Json;
using System.Text.Json.Serialization;

namespace FailureSynth.Serving;

/// <summary>
/// The JSON of OpenAI's chat-completions protocol as FailureSynth reads and writes it (snake_case). Log-probabilities are
/// doubles written in System.Text.Json's shortest round-trip form, so they cross the wire at full precision.
/// </summary>
public static class OpenAIWire
{
    /// <summary>OpenAI's stand-in for log(0): JSON has no infinity.</summary>
    public const double LogZero = -9999.0;

    public static JsonSerializerOptions Options { get; } = Create();

    /// <summary>log(p), with <see cref="LogZero"/> for p = 0.</summary>
    public static double Log(double p) => p > 0 ? Math.Log(p) : LogZero;

    /// <summary>exp(log p), reading <see cref="LogZero"/> or less as exactly 0.</summary>
    public static double Exp(double logProbability) => logProbability <= LogZero ? 0 : Math.Exp(logProbability);

    /// <summary>A token's bytes, as a log-probability entry carries them.</summary>
    internal static IReadOnlyList<int> Utf8(string text) => [.. System.Text.Encoding.UTF8.GetBytes(text).Select(b => (int)b)];

    /// <summary>A rough token count (4 characters a token) for the usage block; real servers count with their tokenizer.</summary>
    internal static int EstimateTokens(string text) => Math.Max(1, (text.Length + 3) / 4);

    private static JsonSerializerOptions Create()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        o.MakeReadOnly(populateMissingResolver: true);
        return o;
    }
}

/// <summary>A chat completion (non-streaming), as the server answers it.</summary>
public sealed record ChatCompletion(string Id, string Object, long Created, string Model, IReadOnlyList<ChatChoice> Choices, ChatUsage Usage);

public sealed record ChatChoice(int Index, ChatMessage Message, ChatLogprobs? Logprobs, string FinishReason);

public sealed record ChatMessage(string Role, string Content);

public sealed record ChatLogprobs(IReadOnlyList<TokenLogprob> Content);

public sealed record TokenLogprob(string Token, double Logprob, IReadOnlyList<int>? Bytes, IReadOnlyList<TopLogprob> TopLogprobs);

public sealed record TopLogprob(string Token, double Logprob, IReadOnlyList<int>? Bytes);

public sealed record ChatUsage(int PromptTokens, int CompletionTokens, int TotalTokens);

/// <summary><c>GET /v1/models</c>.</summary>
public sealed record ModelList(string Object, IReadOnlyList<ModelCard> Data);

public sealed record ModelCard(string Id, string Object, long Created, string OwnedBy);

/// <summary>OpenAI's error body: <c>{"error":{"message","type","param","code"}}</c>.</summary>
public sealed record ErrorBody(ErrorDetail Error);

public sealed record ErrorDetail(
    string Message,
    string Type,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Param,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Code);

/// <summary>An <c>/v1/images/generations</c> reply.</summary>
public sealed record ImagesResponse(long Created, IReadOnlyList<ImageDatum> Data);

public sealed record ImageDatum(string? B64Json, string? Url, string? RevisedPrompt);

/// <summary>A request the server refuses, answered in OpenAI's error shape with <see cref="Status"/>.</summary>
public sealed class OpenAIRequestException(int status, string message, string type = "invalid_request_error", string? param = null, string? code = null) : Exception(message)
{
    public int Status { get; } = status;
    public string Type { get; } = type;
    public string? Param { get; } = param;
    public string? Code { get; } = code;

    public ErrorBody Body => new(new ErrorDetail(Message, Type, Param, Code));
}
