using System.Text.Json;
using FailureSynth.Serving;

namespace FailureSynth.Backends;

/// <summary>One teacher call as the report lists it: which function, the prompt's hash, tokens, attempts and how it ended.</summary>
/// <param name="Outcome">ok, cached, rejected (the reply failed validation within the budget: <paramref name="Reason"/> says why) or failed (the endpoint refused the request).</param>
/// <param name="HttpAttempts">HTTP requests sent (retries of 429/5xx/timeouts included).</param>
/// <param name="ReplyAttempts">Replies asked for (a reply that fails validation is asked for again, up to the budget).</param>
public sealed record TeacherCall(string Function, string PromptSha256, string Outcome, int HttpAttempts, int ReplyAttempts, int PromptTokens, int CompletionTokens, string? Reason);

/// <summary>Per function: calls, how they ended and tokens spent.</summary>
public sealed record TeacherCallSummary(string Function, int Calls, int Cached, int Rejected, int Failed, long PromptTokens, long CompletionTokens);

/// <summary>The calls a remote teacher made in a run (thread-safe). Never holds a key or a header: only hashes, counts and reasons.</summary>
public sealed class TeacherCallLog
{
    private readonly List<TeacherCall> _calls = [];
    private readonly Lock _gate = new();

    public void Add(TeacherCall call)
    {
        lock (_gate) _calls.Add(call);
    }

    public IReadOnlyList<TeacherCall> Calls
    {
        get { lock (_gate) return [.. _calls]; }
    }

    public IReadOnlyList<TeacherCallSummary> Summary() => [.. Calls.GroupBy(c => c.Function, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
        .Select(g => new TeacherCallSummary(g.Key, g.Count(), g.Count(c => c.Outcome == "cached"), g.Count(c => c.Outcome == "rejected"), g.Count(c => c.Outcome == "failed"),
            g.Sum(c => (long)c.PromptTokens), g.Sum(c => (long)c.CompletionTokens)))];

    /// <summary>Writes one JSON line per call, in the order the calls finished.</summary>
    public void WriteJsonLines(string path)
    {
        using var writer = new StreamWriter(path);
        foreach (var call in Calls) writer.WriteLine(JsonSerializer.Serialize(call, OpenAIWire.Options));
    }
}
