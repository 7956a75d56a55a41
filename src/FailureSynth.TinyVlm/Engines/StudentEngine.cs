using FailureSynth.TinyVlm.Model;
using FailureSynth.TinyVlm.Training;

namespace FailureSynth.TinyVlm.Engines;

/// <summary>A batch of images encoded once by an engine; questions about them are answered against the encoding.</summary>
public interface IEncodedImages : IDisposable
{
    /// <summary>
    /// Answer log-probabilities, row-major [questions, answers]; question p is about image
    /// <paramref name="imageOfQuestion"/>[p] (image p when null).
    /// </summary>
    float[] LogProbabilities(int[]? imageOfQuestion, QuestionBatch questions);
}

/// <summary>
/// Where a TinyVLM's arithmetic runs. The weights always live in the student's <see cref="TinyVlmModel"/> (the checkpoint's
/// source of truth); an engine other than the managed one mirrors them before each pass and writes them back after training,
/// so one safetensors checkpoint serves every engine.
/// </summary>
public interface IStudentEngine
{
    /// <summary>"managed" or "torchsharp".</summary>
    string Name { get; }

    /// <summary>"cpu" or "cuda".</summary>
    string Device { get; }

    /// <summary>Encodes <paramref name="count"/> images (planes [count, 3, S, S] in <paramref name="pixels"/>) with <paramref name="model"/>'s weights, in evaluation mode.</summary>
    IEncodedImages Encode(TinyVlmModel model, float[] pixels, int count);

    /// <summary>Trains <paramref name="student"/> in place; the same contract as <see cref="StudentTrainer.Train"/>.</summary>
    TrainingResult Train(TinyVlmStudent student, IReadOnlyList<StudentExample> examples, TrainingOptions options, IProgress<TrainingProgress>? progress,
        CancellationToken cancellationToken, IReadOnlyList<bool>? anchored);
}

/// <summary>Our own engine (FailureSynth.Tensors), on the CPU.</summary>
public sealed class ManagedStudentEngine : IStudentEngine
{
    /// <summary>The one instance: the engine holds no state of its own.</summary>
    public static ManagedStudentEngine Instance { get; } = new();

    private ManagedStudentEngine()
    {
    }

    /// <inheritdoc />
    public string Name => StudentEngines.Managed;

    /// <inheritdoc />
    public string Device => "cpu";

    /// <inheritdoc />
    public IEncodedImages Encode(TinyVlmModel model, float[] pixels, int count) => new ManagedEncodedImages(model, pixels, count);

    /// <inheritdoc />
    public TrainingResult Train(TinyVlmStudent student, IReadOnlyList<StudentExample> examples, TrainingOptions options, IProgress<TrainingProgress>? progress,
        CancellationToken cancellationToken, IReadOnlyList<bool>? anchored) =>
        StudentTrainer.TrainManaged(student, examples, options, progress, cancellationToken, anchored);

    private sealed class ManagedEncodedImages : IEncodedImages
    {
        private readonly TinyVlmModel model;
        private readonly IDisposable noGrad;
        private readonly IDisposable scope;
        private readonly Tensors.Tensor features;

        public ManagedEncodedImages(TinyVlmModel model, float[] pixels, int count)
        {
            this.model = model;
            var context = model.Context;
            var size = model.Config.ImageSize;
            model.Eval();
            noGrad = context.NoGrad();
            scope = context.RecyclingScope();
            features = model.EncodeImages(context.FromArray(pixels.AsSpan(0, count * 3 * size * size), count, 3, size, size));
        }

        public float[] LogProbabilities(int[]? imageOfQuestion, QuestionBatch questions) =>
            model.AnswerLogProbabilities(features, imageOfQuestion, questions).ToArray();

        public void Dispose()
        {
            scope.Dispose();
            noGrad.Dispose();
        }
    }
}

/// <summary>
/// Chooses an engine by name. The TorchSharp engine lives in FailureSynth.TinyVlm.Torch (it brings libtorch, 0.6 GB), so only
/// the processes that reference it (the CLI, the Student and Trainer services) register it; every other service stays free of it.
/// </summary>
public static class StudentEngines
{
    /// <summary>Name of our own engine.</summary>
    public const string Managed = "managed";

    /// <summary>Name of the TorchSharp (libtorch) engine.</summary>
    public const string TorchSharp = "torchsharp";

    private static readonly Lock Gate = new();
    private static Func<string, int, IStudentEngine>? torchSharpFactory;
    private static IStudentEngine current = ManagedStudentEngine.Instance;

    /// <summary>Engine names accepted by <see cref="Create"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = [Managed, TorchSharp];

    /// <summary>Device names accepted by <see cref="Create"/>.</summary>
    public static IReadOnlyList<string> Devices { get; } = ["auto", "cpu", "cuda"];

    /// <summary>
    /// The engine new students use (see <see cref="TinyVlmStudent.Engine"/>): the managed one unless a process configured
    /// another at startup (the Student and Trainer services' <c>Student:Engine</c> setting, the CLI's --engine).
    /// </summary>
    public static IStudentEngine Current
    {
        get { lock (Gate) return current; }
        set { lock (Gate) current = value ?? throw new ArgumentNullException(nameof(value)); }
    }

    /// <summary>Makes the TorchSharp engine available; <paramref name="factory"/> takes a device name and a thread count.</summary>
    public static void RegisterTorchSharp(Func<string, int, IStudentEngine> factory)
    {
        lock (Gate) torchSharpFactory = factory ?? throw new ArgumentNullException(nameof(factory));
    }

    /// <summary>The engine <paramref name="engine"/> on <paramref name="device"/> (auto, cpu or cuda) with <paramref name="threads"/> CPU threads; errors name what is wrong.</summary>
    public static IStudentEngine Create(string engine, string device, int threads)
    {
        if (!Devices.Contains(device)) throw new ArgumentException($"Unknown device '{device}'; use one of {string.Join(", ", Devices)}.");
        switch (engine)
        {
            case Managed:
                if (device == "cuda") throw new ArgumentException("The managed engine runs on the CPU only; use --engine torchsharp (a build with -p:TorchSharpNative=cuda) for --device cuda.");
                return ManagedStudentEngine.Instance;
            case TorchSharp:
                Func<string, int, IStudentEngine>? factory;
                lock (Gate) factory = torchSharpFactory;
                if (factory is null)
                    throw new InvalidOperationException("This program was built without the TorchSharp engine (FailureSynth.TinyVlm.Torch is not referenced); use the managed engine, or run the CLI, Student or Trainer service.");
                return factory(device, threads);
            default:
                throw new ArgumentException($"Unknown engine '{engine}'; use one of {string.Join(", ", Names)}.");
        }
    }
}
