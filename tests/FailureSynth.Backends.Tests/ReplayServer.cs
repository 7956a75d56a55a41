using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FailureSynth.Backends.Tests;

/// <summary>One scripted reply: status, body, headers, and an optional delay before answering (to test timeouts).</summary>
public sealed record Recorded(int Status, string Body, IReadOnlyList<(string Name, string Value)>? Headers = null, TimeSpan? Delay = null)
{
    public static Recorded File(string name, int status = 200, params (string, string)[] headers) =>
        new(status, System.IO.File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Recorded", name)), headers);

    /// <summary>An OpenAI chat completion whose assistant text is <paramref name="content"/> (a structured reply, hostile or not).</summary>
    public static Recorded Chat(string content) => new(200, new JsonObject
    {
        ["id"] = "chatcmpl-replay",
        ["object"] = "chat.completion",
        ["created"] = 1733500000,
        ["model"] = "gpt-4o-2024-08-06",
        ["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = content, ["refusal"] = null },
            ["logprobs"] = null,
            ["finish_reason"] = "stop",
        }),
        ["usage"] = new JsonObject { ["prompt_tokens"] = 100, ["completion_tokens"] = 20, ["total_tokens"] = 120 },
        ["system_fingerprint"] = "fp_replay",
    }.ToJsonString());
}

/// <summary>
/// A loopback HTTP server that replays scripted replies in a provider's wire format and records every request it got.
/// Request i gets <c>script(i, path)</c>.
/// </summary>
public sealed class ReplayServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ReplayServer(WebApplication app) => _app = app;

    public ConcurrentQueue<(string Path, string Body, string? Authorization)> Requests { get; } = new();

    /// <summary>The base URL with /v1, as a config's endpoint names it.</summary>
    public string Endpoint => _app.Urls.First() + "/v1";

    public static async Task<ReplayServer> StartAsync(Func<int, string, Recorded> script)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Critical);
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new ReplayServer(app);
        int count = -1;
        app.Run(async http =>
        {
            using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
            string body = await reader.ReadToEndAsync();
            server.Requests.Enqueue((http.Request.Path.Value ?? "", body, http.Request.Headers.Authorization.FirstOrDefault()));
            var reply = script(Interlocked.Increment(ref count), http.Request.Path.Value ?? "");
            if (reply.Delay is { } delay)
            {
                try { await Task.Delay(delay, http.RequestAborted); }
                catch (OperationCanceledException) { return; }
            }
            http.Response.StatusCode = reply.Status;
            foreach (var (name, value) in reply.Headers ?? []) http.Response.Headers[name] = value;
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(reply.Body);
        });
        await app.StartAsync();
        return server;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
