using FailureSynth.Events;
using FailureSynth.Loop.Stages;
using FailureSynth.TinyVlm;
using FailureSynth.TinyVlm.Inference;

namespace FailureSynth.Student;

/// <summary>
/// The checkpoints this replica has loaded, by model version: a request naming a newly promoted checkpoint loads
/// it without a restart. The bytes must hash to the version the request names, or the request is refused. Each loaded
/// model has a batcher, so concurrent evaluation requests for it share forward passes on its engine (Student:Engine).
/// </summary>
public sealed class StudentModels(DataRoot root, ILogger<StudentModels> logger)
{
    private const int Kept = 2;
    private readonly Lock _gate = new();
    private readonly List<(string Version, int Threads, StudentAnswerBatcher Batcher)> _loaded = [];

    public (TinyVlmStudent Model, string Version) Get(string checkpointPath, string version, int threads)
    {
        var batcher = Batcher(checkpointPath, version, threads);
        return (batcher.Student, version);
    }

    /// <summary>The batcher of model <paramref name="version"/> (loaded on first use).</summary>
    public StudentAnswerBatcher Batcher(string checkpointPath, string version, int threads)
    {
        lock (_gate)
        {
            foreach (var entry in _loaded)
                if (entry.Version == version && entry.Threads == threads) return entry.Batcher;
        }
        string path = root.Resolve(checkpointPath);
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint {checkpointPath} of model {version} is not in the data root ({path}).", path);
        byte[] bytes = File.ReadAllBytes(path);
        string actual = StudentTraining.Version(bytes);
        if (actual != version) throw new InvalidDataException($"Checkpoint {checkpointPath} is model {actual}, not the {version} the request names.");
        var model = TinyVlmStudent.FromBytes(bytes, StudentCompute.CreateContext(threads), path);
        logger.LogInformation("Loaded student model {Version} from {Path} ({Threads} threads, engine {Engine} on {Device})", version, checkpointPath, threads, model.Engine.Name, model.Engine.Device);
        var batcher = new StudentAnswerBatcher(model);
        lock (_gate)
        {
            // Two requests may have loaded the same model at once: keep the first, so they share one batcher.
            foreach (var entry in _loaded)
                if (entry.Version == version && entry.Threads == threads) return entry.Batcher;
            _loaded.Insert(0, (version, threads, batcher));
            if (_loaded.Count > Kept) _loaded.RemoveAt(_loaded.Count - 1);
        }
        return batcher;
    }
}
