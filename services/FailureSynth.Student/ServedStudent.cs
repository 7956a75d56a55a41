using FailureSynth.ApiSecurity;
using FailureSynth.Loop.Student;
using FailureSynth.Serving;
using FailureSynth.TinyVlm;

namespace FailureSynth.Student;

/// <summary>
/// The Student service's OpenAI-compatible endpoint (<c>GET /v1/models</c>, <c>POST /v1/chat/completions</c>), the same
/// protocol as <c>failuresynth serve student</c>: mapped when <c>Student:ServeCheckpoint</c> (environment
/// <c>Student__ServeCheckpoint</c>) names a checkpoint, so any OpenAI client can query the served student. It has the
/// served models' defences (docs/security.md): the API key <c>Student:ServeApiKey</c> (or one made up and printed once
/// on the console), request, rate and concurrency limits, security headers, errors in OpenAI's shape.
/// </summary>
public static class ServedStudent
{
    public const string CheckpointKey = "Student:ServeCheckpoint";
    public const string ApiKeyKey = "Student:ServeApiKey";

    /// <summary>Registers the defences' services; a no-op unless a checkpoint is to be served.</summary>
    public static WebApplicationBuilder AddServedStudent(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Configuration[CheckpointKey] is { Length: > 0 }) builder.Services.AddServedModelSecurity(new ServeLimits());
        return builder;
    }

    public static WebApplication MapServedStudent(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.Configuration[CheckpointKey] is not { Length: > 0 } path) return app;
        if (!File.Exists(path)) throw new FileNotFoundException($"{CheckpointKey} names '{path}', which does not exist.", path);
        // Never through ILogger: logs leave the process over OTLP.
        var key = new ApiKey(ApiKey.FromConfiguration(app.Configuration, ApiKeyKey, "served student API", "set Student__ServeApiKey to choose one", Console.Out));
        var student = EmbeddedStudent.Of(TinyVlmStudent.Load(path, StudentCompute.CreateContext(Environment.ProcessorCount)));
        app.UseServedModelSecurity();
        app.MapOpenAIModel(new StudentChatModel(student.Model, student.ModelVersion), new ServeLimits(), key);
        return app;
    }
}
