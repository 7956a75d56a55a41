using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace FailureSynth.Cli.Tests;

/// <summary><c>failuresynth serve teacher</c> as a process: it prints its address, lists its model and answers in OpenAI's shapes.</summary>
public sealed class ServeCommandTests
{
    [Fact]
    public async Task Serve_teacher_listens_on_loopback_lists_its_model_and_refuses_other_models_in_OpenAIs_error_shape()
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "failuresynth.dll");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "exec", dll, "serve", "teacher", "--port", "0", "--prior-samples", "200" }) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        try
        {
            var line = process.StandardOutput.ReadLineAsync();
            Assert.True(await Task.WhenAny(line, Task.Delay(TimeSpan.FromSeconds(60))) == line, "serve teacher printed nothing within 60 s");
            string banner = (await line) ?? throw new InvalidOperationException("serve teacher exited: " + await process.StandardError.ReadToEndAsync());
            Assert.StartsWith("Serving model 'embedded-teacher/seed=17/trust=0.97/noise=0.05/prior=200' at http://127.0.0.1:", banner, StringComparison.Ordinal);
            string baseUrl = banner.Split(" at ")[1].Split(' ')[0];
            Assert.EndsWith("/v1", baseUrl, StringComparison.Ordinal);

            // No --api-key-env: a random key, printed once on the next line (never logged), and required from then on.
            string keyLine = (await process.StandardOutput.ReadLineAsync())!;
            var match = System.Text.RegularExpressions.Regex.Match(keyLine, "this run's API key is ([0-9a-f]{32}) ");
            Assert.True(match.Success, "no key line: " + keyLine);
            string key = match.Groups[1].Value;

            using var http = new HttpClient();
            using (var refused = await http.GetAsync(baseUrl + "/models"))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
                Assert.Equal("missing_api_key", JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>());
            }
            http.DefaultRequestHeaders.Authorization = new("Bearer", key);
            var models = JsonNode.Parse(await http.GetStringAsync(baseUrl + "/models"))!;
            Assert.Equal("embedded-teacher/seed=17/trust=0.97/noise=0.05/prior=200", models["data"]![0]!["id"]!.GetValue<string>());
            var body = """{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}]}""";
            using var response = await http.PostAsync(baseUrl + "/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
            Assert.Equal(("model_not_found", "model", "invalid_request_error"), (error["code"]!.GetValue<string>(), error["param"]!.GetValue<string>(), error["type"]!.GetValue<string>()));
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        // Everything else the process wrote (its log on stderr included) holds no key line.
        string rest = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        Assert.DoesNotContain("API key is", rest, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_refuses_a_key_variable_that_is_unset_or_short()
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "failuresynth.dll");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        foreach (var (value, expected) in new[] { ((string?)null, "which is not set"), ("short", "use at least 16") })
        {
            var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string a in new[] { "exec", dll, "serve", "teacher", "--port", "0", "--prior-samples", "100", "--api-key-env", "FS_SERVE_TEST_KEY" }) start.ArgumentList.Add(a);
            start.Environment["FS_SERVE_TEST_KEY"] = value;
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            string error = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.NotEqual(0, process.ExitCode);
            Assert.Contains(expected, await output + error, StringComparison.Ordinal);
            Assert.DoesNotContain("Serving model", await output, StringComparison.Ordinal);
        }
    }
}
