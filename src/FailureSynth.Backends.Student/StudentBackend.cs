using FailureSynth.Loop.Campaigns;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FailureSynth.Backends;

/// <summary>
/// The served student the Student service asks (<c>Backends:Student</c> of <see cref="ServiceBackends"/>), or null: the
/// embedded TinyVLM of each request's checkpoint. Made once per service, as the teacher is.
/// </summary>
public sealed class StudentBackend(ServiceBackends backends) : IDisposable
{
    public OpenAIStudent? Student { get; } = backends.StudentEndpoint is { } endpoint ? new OpenAIStudent(endpoint) : null;

    public void Dispose() => Student?.Dispose();
}

/// <summary>A campaign checked against the deployment's backends (the Trainer service).</summary>
public static class CampaignBackendCheck
{
    /// <summary>
    /// Why <paramref name="config"/> cannot run on this deployment: its services answer with the backends configured here, so a
    /// campaign asking for others (another backend, endpoint or model) would silently get these. Empty when they agree.
    /// </summary>
    public static IReadOnlyList<string> Mismatches(this ServiceBackends backends, CampaignConfig config)
    {
        ArgumentNullException.ThrowIfNull(backends);
        ArgumentNullException.ThrowIfNull(config);
        var problems = new List<string>();
        Compare("teacher", config.Teacher.Remote(), backends.TeacherEndpoint, problems);
        Compare("student", config.Student.Remote(), backends.StudentEndpoint, problems);
        if (config.Images?.Remote() is not null)
            problems.Add("images.backend openai runs in-process only (failuresynth campaign run): the services do not carry generated images between them yet");
        return problems;
    }

    private static void Compare(string role, ModelEndpoint? asked, ModelEndpoint? served, List<string> problems)
    {
        static string Name(ModelEndpoint? e) => e is null ? "embedded" : $"{e.Backend} at {e.Endpoint} (model {e.Model})";
        if (asked?.Backend != served?.Backend || asked?.Endpoint != served?.Endpoint || asked?.Model != served?.Model)
            problems.Add($"{role}: the campaign asks for {Name(asked)}, but this deployment's services use {Name(served)} (configuration {ServiceBackends.SectionName}:{char.ToUpperInvariant(role[0])}{role[1..]})");
    }
}

/// <summary>Registers <see cref="ServiceBackends"/> and the <see cref="StudentBackend"/> made from it, for the Student service.</summary>
public static class StudentBackendRegistration
{
    public static IServiceCollection AddStudentBackend(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddServiceBackends(configuration);
        services.AddSingleton(sp => new StudentBackend(sp.GetRequiredService<ServiceBackends>()));
        return services;
    }
}
