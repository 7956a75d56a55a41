using System.Globalization;

// In Loop.Contracts, under the campaign namespace its users already import: the remote-model backends (FailureSynth.Backends)
// read these records without reaching the campaign layer (FailureSynth.Loop) and the student model under it.
namespace FailureSynth.Loop.Campaigns;

/// <summary>
/// Where a role's model is served: an OpenAI-compatible base URL (up to and including <c>/v1</c>, e.g.
/// <c>http://127.0.0.1:8000/v1</c>), the model id, and the name of the environment variable holding its API key
/// (the key itself never appears in a config file, a report or a log).
/// </summary>
public sealed record ModelEndpoint(string Role, string Backend, Uri Endpoint, string Model, string? ApiKeyEnv, TimeSpan Timeout, int MaxConcurrency)
{
    public const double DefaultTimeoutSeconds = 120;
    public const int DefaultMaxConcurrency = 4;

    /// <summary>The API key from <see cref="ApiKeyEnv"/>, or null when none is configured; a named variable that is unset is an error naming it.</summary>
    public string? ApiKey()
    {
        if (ApiKeyEnv is null) return null;
        string? key = Environment.GetEnvironmentVariable(ApiKeyEnv);
        if (string.IsNullOrEmpty(key))
            throw new CampaignConfigException($"{Role}.api_key_env names the environment variable '{ApiKeyEnv}', which is not set; export it, or remove api_key_env for an endpoint without a key.");
        return key;
    }

    public static ModelEndpoint? From(string role, string? backend, string? endpoint, string? model, string? apiKeyEnv, double? timeoutS, int? maxConcurrency)
    {
        if (backend is null or "embedded" or "rasterizer") return null;
        return new ModelEndpoint(role, backend, new Uri(endpoint!, UriKind.Absolute), model!, apiKeyEnv,
            TimeSpan.FromSeconds(timeoutS ?? DefaultTimeoutSeconds), maxConcurrency ?? DefaultMaxConcurrency);
    }

    /// <summary>Every problem of a role's backend keys, each naming its key.</summary>
    public static void Check(string role, string[] backends, string? backend, string? endpoint, string? model, string? apiKeyEnv, double? timeoutS, int? maxConcurrency, List<string> p)
    {
        string local = backends[0];
        if (backend is not null && !backends.Contains(backend))
        {
            p.Add($"{role}.backend '{backend}' must be one of {string.Join(", ", backends)}");
            return;
        }
        if (backend is null || backend == local)
        {
            foreach (var (key, value) in new[] { ("endpoint", (object?)endpoint), ("model", model), ("api_key_env", apiKeyEnv), ("timeout_s", timeoutS), ("max_concurrency", maxConcurrency) })
                if (value is not null) p.Add($"{role}.{key} is set but {role}.backend is {local}; set {role}.backend: {backends[1]} or remove {role}.{key}");
            return;
        }
        if (string.IsNullOrWhiteSpace(endpoint)) p.Add($"{role}.endpoint is missing: the base URL of the OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1");
        else if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.UserInfo))
            p.Add($"{role}.endpoint '{endpoint}' must be an http or https URL without a query or credentials, e.g. http://127.0.0.1:8000/v1");
        if (string.IsNullOrWhiteSpace(model)) p.Add($"{role}.model is missing: the model id the server lists under GET /v1/models");
        else if (model.Length > 256 || model.Any(char.IsControl)) p.Add($"{role}.model must be at most 256 printable characters");
        if (apiKeyEnv is not null && (apiKeyEnv.Length is 0 or > 128 || !(char.IsAsciiLetter(apiKeyEnv[0]) || apiKeyEnv[0] == '_') || !apiKeyEnv.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')))
            p.Add($"{role}.api_key_env must be the NAME of an environment variable (letters, digits, '_'), never the key itself");
        if (timeoutS is { } t && !(t > 0 && t <= 3600)) p.Add($"{role}.timeout_s must be in (0, 3600] seconds (got {t.ToString(CultureInfo.InvariantCulture)})");
        if (maxConcurrency is { } m && m is < 1 or > 256) p.Add($"{role}.max_concurrency must be 1..256 (got {m})");
    }
}

/// <summary>A campaign file (or a service's backends configuration) that cannot be used; the message names the file and the key.</summary>
public sealed class CampaignConfigException(string message) : Exception(message);
