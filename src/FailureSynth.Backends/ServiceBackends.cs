using System.Globalization;
using FailureSynth.Caching;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Common;
using FailureSynth.Loop.Contracts;
using FailureSynth.Loop.Teacher;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FailureSynth.Backends;

/// <summary>
/// The loop's <see cref="ICallCache"/> on our Redis cache, for the services: every Semantic Kernel teacher call is cached
/// under <c>fs:teacher-calls:</c> by its key (a hash of the endpoint, the model, the function and the rendered prompt
/// and settings, see <see cref="SemanticKernelTeacher"/>), shared by every replica. The Caching library does not know
/// the loop; this adapter is where the two meet. Redis failures are misses, as everywhere in the cache.
/// </summary>
public sealed class RedisTeacherCallCache(RedisCallCache cache, TimeSpan? defaultTtl = null) : ICallCache
{
    public const string Prefix = "fs:teacher-calls:";

    /// <summary>How long a cached teacher reply lives unless told otherwise (a campaign's worth, and then some).</summary>
    public static readonly TimeSpan DefaultTtl = TimeSpan.FromDays(7);

    public RedisTeacherCallCache(IDatabase database, ILogger? logger = null)
        : this(new RedisCallCache(database, Prefix, logger))
    {
    }

    public Task<T?> GetAsync<T>(string key, CancellationToken cancellationToken = default) => cache.GetAsync<T>(key, cancellationToken);

    public Task<bool> SetAsync<T>(string key, T value, TimeSpan? ttl = null, CancellationToken cancellationToken = default) =>
        cache.SetAsync(key, value, ttl ?? defaultTtl ?? DefaultTtl, cancellationToken);
}

/// <summary>
/// The remote backends a deployment's services use, from the configuration section <c>Backends</c>: <c>Backends:Teacher</c>
/// (the Teacher and QualityFilter services) and <c>Backends:Student</c> (the Student service), each with a campaign
/// file's per-role keys (<c>backend</c>, <c>endpoint</c>, <c>model</c>, <c>api_key_env</c>, <c>timeout_s</c>,
/// <c>max_concurrency</c>) and checked with the same rules. Absent: embedded, as before. Every service checks the whole
/// section, so a bad key stops any of them; this class makes only the teacher. The served student
/// (<c>StudentBackend</c>) and the Trainer's check of a campaign against these backends (<c>Mismatches</c>) are in
/// FailureSynth.Backends.Student, which the services that run no student do not reference.
/// </summary>
public sealed class ServiceBackends : IDisposable
{
    public const string SectionName = "Backends";
    private static readonly string[] Keys = ["backend", "endpoint", "model", "api_key_env", "timeout_s", "max_concurrency"];

    private ServiceBackends(ModelEndpoint? teacher, ModelEndpoint? student, ICallCache? cache)
    {
        TeacherEndpoint = teacher;
        StudentEndpoint = student;
        Teacher = teacher is null ? null : new SemanticKernelTeacher(teacher, cache);
    }

    public ModelEndpoint? TeacherEndpoint { get; }
    public ModelEndpoint? StudentEndpoint { get; }

    /// <summary>The Semantic Kernel teacher every teacher call of this service goes to, or null: the embedded teacher of each request.</summary>
    public SemanticKernelTeacher? Teacher { get; }

    /// <summary>The backends <paramref name="configuration"/> names; every bad key is refused at once, naming it (<c>Backends:Teacher:endpoint</c> ...).</summary>
    public static ServiceBackends From(IConfiguration configuration, ICallCache? teacherCache = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var problems = new List<string>();
        var teacher = Read(configuration.GetSection(SectionName + ":Teacher"), SectionName + ":Teacher", ["embedded", "semantic-kernel"], problems);
        var student = Read(configuration.GetSection(SectionName + ":Student"), SectionName + ":Student", ["embedded", "openai"], problems);
        foreach (var role in configuration.GetSection(SectionName).GetChildren())
            if (role.Key is not ("Teacher" or "teacher" or "Student" or "student"))
                problems.Add($"unknown section '{SectionName}:{role.Key}' (known: {SectionName}:Teacher, {SectionName}:Student)");
        if (problems.Count > 0)
            throw new CampaignConfigException("Service configuration: " + string.Join("; ", problems) + " (docs/backends.md, 'The services')");
        return new ServiceBackends(teacher, student, teacherCache);
    }

    private static ModelEndpoint? Read(IConfigurationSection section, string role, string[] backends, List<string> problems)
    {
        if (!section.Exists()) return null;
        foreach (var child in section.GetChildren())
            if (!Keys.Contains(child.Key, StringComparer.OrdinalIgnoreCase)) problems.Add($"unknown key '{role}:{child.Key}' (known: {string.Join(", ", Keys)}; an API key goes in the environment variable api_key_env names)");
        string? Text(string key) => section[key] is { Length: > 0 } v ? v : null;
        double? timeout = null;
        int? concurrency = null;
        if (Text("timeout_s") is { } t)
        {
            if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)) timeout = d;
            else problems.Add($"{role}.timeout_s '{t}' is not a number");
        }
        if (Text("max_concurrency") is { } c)
        {
            if (int.TryParse(c, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n)) concurrency = n;
            else problems.Add($"{role}.max_concurrency '{c}' is not an integer");
        }
        int before = problems.Count;
        ModelEndpoint.Check(role, backends, Text("backend"), Text("endpoint"), Text("model"), Text("api_key_env"), timeout, concurrency, problems);
        return problems.Count > before ? null : ModelEndpoint.From(role, Text("backend"), Text("endpoint"), Text("model"), Text("api_key_env"), timeout, concurrency);
    }

    public void Dispose() => Teacher?.Dispose();
}

/// <summary>
/// The teacher a service answers a request with: the deployment's remote teacher (<see cref="ServiceBackends.Teacher"/>)
/// when one is configured, else the embedded teacher of the request's settings (made only then: it costs seconds).
/// </summary>
public sealed class TeacherSource(ServiceBackends backends, Func<EmbeddedTeacherOptions, ITeacher> embedded)
{
    public ITeacher Get(EmbeddedTeacherOptions options) => backends.Teacher ?? embedded(options);
}

/// <summary>Registers <see cref="ServiceBackends"/> (teacher calls cached in the service's Redis when it has one) for a service.</summary>
public static class ServiceBackendsRegistration
{
    public static IServiceCollection AddServiceBackends(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(sp => ServiceBackends.From(configuration, sp.GetService<IConnectionMultiplexer>() is { } redis
            ? new RedisTeacherCallCache(redis.GetDatabase(), sp.GetService<ILoggerFactory>()?.CreateLogger("FailureSynth.Backends.TeacherCalls"))
            : null));
        return services;
    }
}
