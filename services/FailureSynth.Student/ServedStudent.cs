using FailureSynth.Loop.Student;
using FailureSynth.Serving;
using FailureSynth.TinyVlm;

namespace FailureSynth.Student;

/// <summary>
/// The Student service's OpenAI-compatible endpoint (<c>GET /v1/models</c>, <c>POST /v1/chat/completions</c>), the same
/// protocol as <c>failuresynth serve student</c>: mapped when <c>Student:ServeCheckpoint</c> (environment
/// <c>Student__ServeCheckpoint</c>) names a checkpoint, so any OpenAI client can query the served student.
/// </summary>
public static class ServedStudent
{
    public static WebApplication MapServedStudent(this WebApplication app)
    {
        if (app.Configuration["Student:ServeCheckpoint"] is not { Length: > 0 } path) return app;
        if (!File.Exists(path)) throw new FileNotFoundException($"Student:ServeCheckpoint names '{path}', which does not exist.", path);
        var student = EmbeddedStudent.Of(TinyVlmStudent.Load(path, StudentCompute.CreateContext(Environment.ProcessorCount)));
        app.MapOpenAIModel(new StudentChatModel(student.Model, student.ModelVersion));
        return app;
    }
}
