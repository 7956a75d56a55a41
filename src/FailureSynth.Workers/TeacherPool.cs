using System.Collections.Concurrent;
using FailureSynth.Loop.Teacher;

namespace FailureSynth.Workers;

/// <summary>
/// Embedded teachers by settings: building one samples its prior (a second or two), so a worker keeps the ones
/// its requests asked for. Requests carry the settings, so workers need no campaign state.
/// </summary>
public sealed class TeacherPool
{
    private readonly ConcurrentDictionary<EmbeddedTeacherOptions, Lazy<EmbeddedTeacher>> _teachers = new();

    public EmbeddedTeacher Get(EmbeddedTeacherOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return _teachers.GetOrAdd(options, o => new Lazy<EmbeddedTeacher>(() => new EmbeddedTeacher(o))).Value;
    }
}
