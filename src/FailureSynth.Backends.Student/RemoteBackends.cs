using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Common;
using FailureSynth.Loop.Contracts;

namespace FailureSynth.Backends;

/// <summary>The remote backends a campaign config asks for (null where the role stays embedded).</summary>
public sealed class RemoteBackends : IDisposable
{
    private RemoteBackends(SemanticKernelTeacher? teacher, OpenAIStudent? student, OpenAIImageSynth? images, ServedStudentEndpoint? served)
    {
        Teacher = teacher;
        Student = student;
        Images = images;
        Served = served;
    }

    public SemanticKernelTeacher? Teacher { get; }
    public OpenAIStudent? Student { get; }
    public OpenAIImageSynth? Images { get; }
    /// <summary>The served student that loads new weights (student.reload), or null.</summary>
    public ServedStudentEndpoint? Served { get; }

    public static RemoteBackends For(CampaignConfig config, ICallCache? cache = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var teacher = config.Teacher.Remote() is { } t ? new SemanticKernelTeacher(t, cache) { AcceptImageDescriptions = config.Images?.Backend == "openai" } : null;
        var student = config.Student.Remote() is { } s ? new OpenAIStudent(s) : null;
        var images = config.Images?.Remote() is { } i ? new OpenAIImageSynth(i) : null;
        var served = config.Student.Reload is not null && config.Student.Remote() is { } r ? new ServedStudentEndpoint(r) : null;
        return new RemoteBackends(teacher, student, images, served);
    }

    /// <summary>The runner with these backends in place.</summary>
    public CampaignRunner Runner(CampaignConfig config, string output, string? configDirectory = null) =>
        new(config, output, configDirectory) { Teacher = Teacher, Student = Student is null ? null : _ => Student, Images = Images, ServedStudent = Served };

    /// <summary>Writes the teacher's call log (teacher-calls.jsonl) beside the report; returns its path, or null without a remote teacher.</summary>
    public string? WriteCallLog(string output)
    {
        if (Teacher is null) return null;
        string path = Path.Combine(output, "teacher-calls.jsonl");
        Teacher.Log.WriteJsonLines(path);
        return path;
    }

    public void Dispose()
    {
        Teacher?.Dispose();
        Student?.Dispose();
        Images?.Dispose();
        Served?.Dispose();
    }
}
