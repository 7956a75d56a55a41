using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace FailureSynth.Trainer.Tests;

/// <summary>
/// One test per defence of the campaign API (OWASP API Security Top 10, 2023; docs/security.md), each sending the
/// request that proves the refusal.
/// </summary>
public sealed class CampaignApiSecurityTests
{
    private const string Valid = "name: probe\niterations: 1\nvalidation: { count: 100 }\ntest: { count: 100 }\n";

    private static async Task<(HttpStatusCode Status, string Detail, HttpResponseMessage Response)> Send(ApiHost host, HttpRequestMessage request)
    {
        var response = await host.Http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();
        string detail = body;
        if (response.Content.Headers.ContentType?.MediaType == "application/problem+json")
            detail = JsonDocument.Parse(body).RootElement.TryGetProperty("detail", out var d) ? d.GetString() ?? "" : "";
        return (response.StatusCode, detail, response);
    }

    [Theory]
    [InlineData("student: { checkpoint: /etc/passwd }", "student.checkpoint", "absolute")]
    [InlineData("student: { cache: /tmp/elsewhere }", "student.cache", "absolute")]
    [InlineData("student: { checkpoint: ../../home/user/model.safetensors }", "student.checkpoint", "'..'")]
    [InlineData("student: { cache: out/../../../tmp }", "student.cache", "'..'")]
    [InlineData("student: { cache: '~/cache' }", "student.cache", "absolute")]
    public async Task Campaign_path_outside_the_data_root_is_refused_naming_the_key(string student, string key, string reason)
    {
        await using var host = await ApiHost.StartAsync();
        var (status, detail, _) = await Send(host, host.PostYaml(Valid + student + "\n"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(key, detail, StringComparison.Ordinal);
        Assert.Contains(reason, detail, StringComparison.Ordinal);
        Assert.DoesNotContain(host.Root, detail, StringComparison.Ordinal);
        Assert.Empty(host.CampaignFolders());
    }

    [Fact]
    public void Cli_campaign_keeps_absolute_paths()
    {
        var config = FailureSynth.Loop.Campaigns.CampaignConfig.Parse(Valid + "student: { checkpoint: /srv/models/start.safetensors, cache: /var/cache/fs }\n", "test.yaml");
        Assert.Equal("/srv/models/start.safetensors", config.Student.Checkpoint);
        Assert.Equal(2, config.ConfinedPathProblems("/data").Count);
    }

    [Theory]
    [InlineData("budget: { samples: 150000 }", "budget.samples is 150000, over the limit of 20000 on this server")]
    [InlineData("budget: { samples: 2000000000 }", "budget.samples is 2000000000, over the limit of 200000")]
    [InlineData("budget: { failures: 50000 }", "budget.failures is 50000, over the limit of 10000 on this server")]
    [InlineData("budget: { train_steps: 100000 }", "budget.train_steps is 100000, over the limit of 20000 on this server")]
    [InlineData("prescription: retrieve\npool: { count: 900000 }", "pool.count is 900000, over the limit of 200000 on this server")]
    [InlineData("iterations: 15", "iterations is 15, over the limit of 10 on this server")]
    [InlineData("test: { count: 999999 }", "test.count is 999999, over the limit of 50000 on this server")]
    [InlineData("student: { base: { count: 600000 } }", "student.base.count is 600000, over the limit of 50000 on this server")]
    [InlineData("student: { base_steps: 150000 }", "student.base_steps is 150000, over the limit of 20000 on this server")]
    [InlineData("teacher: { prior_samples: 900000 }", "teacher.prior_samples is 900000, over the limit of 100000 on this server")]
    [InlineData("threads: 500", "threads is 500, over the limit of 64 on this server")]
    public async Task Campaign_over_a_server_limit_is_refused_with_the_limit(string yaml, string expected)
    {
        await using var host = await ApiHost.StartAsync();
        // Later keys replace earlier ones only within a mapping, so the probe's own keys come after.
        string body = yaml.StartsWith("test:", StringComparison.Ordinal) ? "name: probe\n" + yaml + "\n" : Valid + yaml + "\n";
        var (status, detail, _) = await Send(host, host.PostYaml(body));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(expected, detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_limits_come_from_configuration()
    {
        await using var host = await ApiHost.StartAsync(new Dictionary<string, string?> { ["FailureSynth:Limits:Samples"] = "500" });
        var (status, detail, _) = await Send(host, host.PostYaml(Valid + "budget: { samples: 501 }\n"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("budget.samples is 501, over the limit of 500 on this server", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Body_larger_than_the_campaign_limit_is_refused_with_413()
    {
        await using var host = await ApiHost.StartAsync();
        string big = Valid + "# " + new string('x', CampaignApi.MaxConfigBytes) + "\n";
        var (status, detail, _) = await Send(host, host.PostYaml(big));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Contains($"larger than {CampaignApi.MaxConfigBytes} bytes", detail, StringComparison.Ordinal);

        // Without a Content-Length (chunked), the body is cut at the limit while it is read.
        var chunked = host.Request(HttpMethod.Post, "/campaigns", content: new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big))));
        chunked.Content!.Headers.ContentType = new("application/yaml");
        chunked.Headers.TransferEncodingChunked = true;
        (status, detail, _) = await Send(host, chunked);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
    }

    [Fact]
    public async Task Body_over_the_server_request_limit_is_cut_by_kestrel()
    {
        await using var host = await ApiHost.StartAsync(new Dictionary<string, string?> { ["FailureSynth:Api:MaxRequestBodyBytes"] = "1000" });
        // Under the campaign endpoint's own 64 KiB, over the server's 1,000 bytes: Kestrel stops reading it.
        var (status, detail, _) = await Send(host, host.PostYaml(Valid + "# " + new string('x', 5000) + "\n"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("the request body is larger than 1000 bytes, this server's limit", detail);
        Assert.Empty(host.CampaignFolders());
    }

    [Fact]
    public async Task Requests_over_the_per_client_rate_are_refused_with_429_and_retry_after()
    {
        await using var host = await ApiHost.StartAsync(new Dictionary<string, string?> { ["FailureSynth:Api:PermitsPerMinute"] = "5" });
        for (int i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.OK, (await Send(host, host.Request(HttpMethod.Get, "/campaigns"))).Status);
        // Wrong keys count too: guessing keys is rate limited like everything else.
        var (status, detail, response) = await Send(host, host.Request(HttpMethod.Get, "/campaigns", key: "guess-0000000000000000"));
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Contains("more than 5 requests a minute", detail, StringComparison.Ordinal);
        Assert.True(response.Headers.RetryAfter is not null, "429 without Retry-After");
    }

    [Fact]
    public async Task Requests_over_the_concurrency_limit_are_refused_while_an_upload_is_in_flight()
    {
        await using var host = await ApiHost.StartAsync(new Dictionary<string, string?> { ["FailureSynth:Api:ConcurrentRequests"] = "1" });
        using var slow = new TcpClient();
        await slow.ConnectAsync(host.Address.Host, host.Address.Port);
        var stream = slow.GetStream();
        // Headers and half the body: the request holds its permit while the server waits for the rest.
        string head = $"POST /campaigns HTTP/1.1\r\nHost: {host.Address.Authority}\r\n{CampaignApi.ApiKeyHeader}: {ApiHost.Key}\r\nContent-Type: application/yaml\r\nContent-Length: 200\r\n\r\nname: slow\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.FlushAsync();

        HttpStatusCode status = HttpStatusCode.OK;
        string detail = "";
        for (int attempt = 0; attempt < 100 && status != HttpStatusCode.TooManyRequests; attempt++)
        {
            (status, detail, _) = await Send(host, host.Request(HttpMethod.Get, "/campaigns"));
            if (status != HttpStatusCode.TooManyRequests) await Task.Delay(50);
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Contains("already answering 1 requests", detail, StringComparison.Ordinal);

        slow.Close();
        // The permit comes back when the slow request ends.
        for (int attempt = 0; attempt < 100 && status != HttpStatusCode.OK; attempt++)
        {
            await Task.Delay(50);
            (status, _, _) = await Send(host, host.Request(HttpMethod.Get, "/campaigns"));
        }
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task Campaign_beyond_the_active_campaign_limit_is_refused_after_validation()
    {
        await using var host = await ApiHost.StartAsync(new Dictionary<string, string?> { ["FailureSynth:Api:ActiveCampaigns"] = "0" });
        var (status, detail, _) = await Send(host, host.PostYaml(Valid));
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Contains("the limit on this server is 0", detail, StringComparison.Ordinal);
        // An invalid campaign still gets its own reason first.
        (status, _, _) = await Send(host, host.PostYaml("iterations: 0\n"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    [Fact]
    public async Task Generated_api_key_is_printed_once_to_the_console_and_never_logged()
    {
        var configuration = new ConfigurationBuilder().Build();
        using var console = new StringWriter();
        string key = CampaignApiKey.FromConfiguration(configuration, console);
        Assert.Equal(32, key.Length);
        Assert.Single(console.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries), line => line.Contains(key, StringComparison.Ordinal));

        await using var host = await ApiHost.StartAsync(new Dictionary<string, string?> { [CampaignApiKey.ConfigurationKey] = key });
        Assert.Equal(HttpStatusCode.OK, (await Send(host, host.Request(HttpMethod.Get, "/campaigns", key: key))).Status);
        string wrong = "wrong-" + key;
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(host, host.Request(HttpMethod.Get, "/campaigns", key: wrong))).Status);
        var refused = host.Request(HttpMethod.Post, "/campaigns", key: key, content: new StringContent("iterations: 0\n", Encoding.UTF8, "application/yaml"));
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(host, refused)).Status);
        Assert.NotEmpty(host.Logs.Lines);
        Assert.DoesNotContain(host.Logs.Lines, line => line.Contains(key, StringComparison.Ordinal) || line.Contains(ApiHost.Key, StringComparison.Ordinal));
    }

    [Fact]
    public void Configured_api_key_shorter_than_16_characters_is_refused()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [CampaignApiKey.ConfigurationKey] = "short" }).Build();
        var e = Assert.Throws<InvalidOperationException>(() => CampaignApiKey.FromConfiguration(configuration, TextWriter.Null));
        Assert.Contains("at least 16", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_keys_of_any_length_get_the_same_answer()
    {
        await using var host = await ApiHost.StartAsync();
        var answers = new HashSet<string>();
        foreach (string wrong in new[] { "x", ApiHost.Key[..^1], ApiHost.Key + "x", ApiHost.Key.ToUpperInvariant(), new string('k', 4000) })
        {
            var (status, detail, _) = await Send(host, host.Request(HttpMethod.Get, "/campaigns", key: wrong));
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            answers.Add(detail);
        }
        Assert.Single(answers);
        var (missing, _, _) = await Send(host, host.Request(HttpMethod.Get, "/campaigns", key: null));
        Assert.Equal(HttpStatusCode.Unauthorized, missing);
    }

    [Theory]
    [InlineData("/campaigns", ApiHost.Key)]
    [InlineData("/campaigns", null)]
    [InlineData("/campaigns/no-such-campaign", ApiHost.Key)]
    public async Task Api_answers_carry_security_headers(string path, string? key)
    {
        await using var host = await ApiHost.StartAsync();
        var (_, _, response) = await Send(host, host.Request(HttpMethod.Get, path, key));
        Assert.Equal("nosniff", string.Join(",", response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("DENY", string.Join(",", response.Headers.GetValues("X-Frame-Options")));
        Assert.Equal("no-referrer", string.Join(",", response.Headers.GetValues("Referrer-Policy")));
        Assert.Contains("frame-ancestors 'none'", string.Join(",", response.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
        Assert.True(response.Headers.CacheControl?.NoStore, "API answer without Cache-Control: no-store");
        Assert.False(response.Headers.Contains("Server"), "the Server header names the web server");
    }

    [Fact]
    public async Task Server_error_is_problem_details_without_stack_trace_or_path()
    {
        const string id = "broken-20260101-000000-abcdef";
        // A completed campaign whose dataset folder was deleted: downloading it fails inside the server.
        await using var host = await ApiHost.StartAsync(environment: "Development", prepare: root =>
        {
            string dir = Path.Combine(root, "campaigns", id);
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, CampaignManager.ConfigFile), Valid);
            var status = new CampaignStatus(id, "broken", CampaignState.Completed, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null, [], null, null, null, null, null);
            File.WriteAllText(Path.Combine(dir, CampaignManager.StatusFile), JsonSerializer.Serialize(status, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
        });
        var response = await host.Http.SendAsync(host.Request(HttpMethod.Get, $"/campaigns/{id}/dataset"));
        string body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain(host.Root, body, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", body, StringComparison.Ordinal);
        Assert.Equal("nosniff", string.Join(",", response.Headers.GetValues("X-Content-Type-Options")));

        // A missing report is the campaign's state, answered as such, without the server's folder.
        var (status404, detail, _) = await Send(host, host.Request(HttpMethod.Get, $"/campaigns/{id}/report"));
        Assert.Equal(HttpStatusCode.NotFound, status404);
        Assert.Equal($"campaign {id} has no report.md", detail);
    }

    [Theory]
    [InlineData("...\nb")]
    [InlineData("!![")]
    public async Task Yaml_the_reader_library_chokes_on_is_a_400_not_a_server_error(string yaml)
    {
        await using var host = await ApiHost.StartAsync();
        var (status, detail, _) = await Send(host, host.PostYaml(yaml));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("not valid YAML", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Failed_campaign_status_names_no_server_folder()
    {
        await using var host = await ApiHost.StartAsync();
        // Accepted (a relative path), then fails at once: the checkpoint is not there. Tiny splits keep it cheap.
        string yaml = "name: missing\nthreads: 1\niterations: 1\nstudent: { checkpoint: models/missing.safetensors, base: { count: 1 } }\n" +
            "validation: { count: 1 }\ntest: { count: 1 }\nteacher: { prior_samples: 100 }\n";
        var (status, _, response) = await Send(host, host.PostYaml(yaml));
        Assert.Equal(HttpStatusCode.Created, status);
        string location = response.Headers.Location!.OriginalString;
        JsonElement campaign = default;
        for (int attempt = 0; attempt < 600; attempt++)
        {
            campaign = JsonDocument.Parse(await (await host.Http.SendAsync(host.Request(HttpMethod.Get, location))).Content.ReadAsStringAsync()).RootElement;
            if (campaign.GetProperty("state").GetString() is "Failed" or "Completed" or "Cancelled") break;
            await Task.Delay(100);
        }
        Assert.Equal("Failed", campaign.GetProperty("state").GetString());
        string error = campaign.GetProperty("error").GetString()!;
        Assert.Contains("student.checkpoint 'models/missing.safetensors' does not exist", error, StringComparison.Ordinal);
        Assert.Contains("<data root>", error, StringComparison.Ordinal);
        Assert.DoesNotContain(host.Root, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_query_value_is_problem_details_without_details()
    {
        await using var host = await ApiHost.StartAsync();
        var response = await host.Http.SendAsync(host.Request(HttpMethod.Post, "/bench/synthesis?proposals=lots"));
        string body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
    }
}
