using FailureSynth.Imaging;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Contracts;
using FailureSynth.Loop.Teacher;
using FailureSynth.Serving;
using FailureSynth.Tests.Aspire;
using FailureSynth.World.Rendering;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace FailureSynth.Backends.Tests;

/// <summary>The AppHost's own Redis (a real redis-server process), started once for the tests that need it.</summary>
public sealed class RedisInfrastructureFixture : IAsyncLifetime
{
    public AppHostInfrastructure Infrastructure { get; } = new();

    public Task InitializeAsync() => Infrastructure.InitializeAsync();

    public Task DisposeAsync() => Infrastructure.DisposeAsync();
}

/// <summary>
/// The services' backends: the Backends configuration section, the teacher each request gets, and every Semantic Kernel
/// teacher call cached in Redis by endpoint, model and prompt, shared between replicas (separate connections).
/// </summary>
public sealed class ServiceBackendsTests(RedisInfrastructureFixture redis) : IClassFixture<RedisInfrastructureFixture>
{
    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    private static ServiceBackends Replica(IConfiguration configuration, IConnectionMultiplexer? connection)
    {
        var services = new ServiceCollection();
        if (connection is not null) services.AddSingleton(connection);
        services.AddServiceBackends(configuration);
        return services.BuildServiceProvider().GetRequiredService<ServiceBackends>();
    }

    /// <summary>The Student service's registration: the same section, and the served student made from it.</summary>
    private static StudentBackend StudentReplica(IConfiguration configuration)
    {
        var services = new ServiceCollection();
        services.AddStudentBackend(configuration);
        return services.BuildServiceProvider().GetRequiredService<StudentBackend>();
    }

    [Fact]
    public async Task Teacher_calls_of_the_services_are_cached_in_redis_by_endpoint_model_and_prompt()
    {
        var embedded = new EmbeddedTeacher(new EmbeddedTeacherOptions(PriorSamples: 3000));
        await using WebApplication server = await OpenAIEndpoints.StartAsync(new TeacherChatModel(embedded), 0);
        var address = OpenAIEndpoints.BaseAddress(server);
        string url = address + "v1";
        // The same server under another name: another endpoint, so other cache keys.
        string other = $"http://localhost:{address.Port}/v1";
        IConfiguration For(string endpoint) => Configuration(("Backends:Teacher:backend", "semantic-kernel"), ("Backends:Teacher:endpoint", endpoint), ("Backends:Teacher:model", embedded.Name));

        var proposal = (await embedded.ProposeAsync(new SkillDiagnosis("query colour", "query/color=red"), null, 1, 5, default))[0];
        RgbImage image = SceneRasterizer.Render(proposal.Scene!, 64);
        var question = new TeacherQuestion(proposal.Question, null, proposal.Program);
        string prefix = RedisTeacherCallCache.Prefix + "*";
        await using var first = await ConnectAsync();
        var redisServer = first.GetServer(first.GetEndPoints()[0]);
        int Keys() => redisServer.Keys(pattern: prefix).Count();
        int before = Keys();

        using var a = Replica(For(url), first);
        var judged = await a.Teacher!.JudgeAsync(proposal, image, default);
        string described = await a.Teacher.DescribeRequiredSkillAsync(question, proposal.Answer, default);
        Assert.All(a.Teacher.Log.Calls, c => Assert.Equal("ok", c.Outcome));
        Assert.Equal(before + 2, Keys());

        // Another replica, its own connection: both calls come from Redis, the same replies.
        await using var second = await ConnectAsync();
        using var b = Replica(For(url), second);
        Assert.Equal(judged, await b.Teacher!.JudgeAsync(proposal, image, default));
        Assert.Equal(described, await b.Teacher.DescribeRequiredSkillAsync(question, proposal.Answer, default));
        Assert.All(b.Teacher.Log.Calls, c => Assert.Equal("cached", c.Outcome));
        Assert.Equal(before + 2, Keys());

        // Another endpoint URL is another key: the call goes to the server and is cached beside the first.
        using var c = Replica(For(other), second);
        Assert.Equal(judged, await c.Teacher!.JudgeAsync(proposal, image, default));
        Assert.Equal("ok", Assert.Single(c.Teacher.Log.Calls).Outcome);
        Assert.Equal(before + 3, Keys());
        foreach (var key in redisServer.Keys(pattern: prefix).Take(50))
            Assert.True(await first.GetDatabase().KeyTimeToLiveAsync(key) > TimeSpan.FromDays(6), $"{key} expires within 6 days");
    }

    // The test's own connections wait longer than the client's 5 s default: the whole suite runs beside this test on
    // two cores, and a starved test host is not what this test is about (CI once timed out a PTTL here).
    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        var options = ConfigurationOptions.Parse(redis.Infrastructure.CacheConnectionString);
        options.SyncTimeout = options.AsyncTimeout = 30_000;
        return await ConnectionMultiplexer.ConnectAsync(options);
    }

    [Fact]
    public void Services_use_the_configured_teacher_else_each_request_s_embedded_teacher()
    {
        int made = 0;
        ITeacher Embedded(EmbeddedTeacherOptions o) { made++; return new EmbeddedTeacher(o with { PriorSamples = 100 }); }
        using var none = Replica(Configuration(), null);
        Assert.Null(none.Teacher);
        Assert.Null(none.StudentEndpoint);
        using (var embeddedStudent = StudentReplica(Configuration())) Assert.Null(embeddedStudent.Student);
        Assert.IsType<EmbeddedTeacher>(new TeacherSource(none, Embedded).Get(new EmbeddedTeacherOptions()));
        Assert.Equal(1, made);

        var both = Configuration(("Backends:Teacher:backend", "semantic-kernel"), ("Backends:Teacher:endpoint", "http://127.0.0.1:9/v1"), ("Backends:Teacher:model", "m"),
            ("Backends:Teacher:timeout_s", "30"), ("Backends:Teacher:max_concurrency", "3"),
            ("Backends:Student:backend", "openai"), ("Backends:Student:endpoint", "http://127.0.0.1:9/v1"), ("Backends:Student:model", "tinyvlm-x"));
        using var remote = Replica(both, null);
        Assert.Same(remote.Teacher, new TeacherSource(remote, Embedded).Get(new EmbeddedTeacherOptions()));
        Assert.Equal(1, made);
        Assert.Equal((TimeSpan.FromSeconds(30), 3), (remote.TeacherEndpoint!.Timeout, remote.TeacherEndpoint.MaxConcurrency));
        Assert.Equal("tinyvlm-x", remote.StudentEndpoint!.Model);
        using (var servedStudent = StudentReplica(both)) Assert.Equal("tinyvlm-x", servedStudent.Student!.ModelVersion);

        // A campaign asking the Trainer for other backends than the deployment's is refused, naming both.
        var embeddedCampaign = CampaignConfig.Parse("student: { checkpoint: x.safetensors }", "c.yaml");
        var mismatches = remote.Mismatches(embeddedCampaign);
        Assert.Contains(mismatches, m => m.StartsWith("teacher: the campaign asks for embedded, but this deployment's services use semantic-kernel", StringComparison.Ordinal));
        Assert.Contains(mismatches, m => m.StartsWith("student: the campaign asks for embedded", StringComparison.Ordinal));
        Assert.Empty(none.Mismatches(embeddedCampaign));
    }

    [Theory]
    [InlineData("Backends:Teacher:api_key", "sk-abc", "unknown key 'Backends:Teacher:api_key'")]
    [InlineData("Backends:Teacher:backend", "semantic-kernel", "Backends:Teacher.endpoint is missing")]
    [InlineData("Backends:Student:backend", "gpt", "Backends:Student.backend 'gpt' must be one of embedded, openai")]
    [InlineData("Backends:Teacher:max_concurrency", "lots", "Backends:Teacher.max_concurrency 'lots' is not an integer")]
    [InlineData("Backends:Images:backend", "openai", "unknown section 'Backends:Images'")]
    public void A_bad_backends_section_is_refused_naming_the_key(string key, string value, string expected)
    {
        var e = Assert.Throws<CampaignConfigException>(() => Replica(Configuration((key, value)), null));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-abc", e.Message, StringComparison.Ordinal);
        // The Student service's registration checks the same whole section (a Teacher key included), as every service does.
        var s = Assert.Throws<CampaignConfigException>(() => StudentReplica(Configuration((key, value))));
        Assert.Equal(e.Message, s.Message);
    }
}
