using System.Runtime.CompilerServices;
using FailureSynth.TinyVlm.Engines;
using FailureSynth.TinyVlm.Model;
using FailureSynth.TinyVlm.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FailureSynth.TinyVlm.Torch;

/// <summary>
/// The TorchSharp engine: TinyVLM's forward and training passes in libtorch, on the CPU or a CUDA GPU. Each managed model gets a
/// TorchSharp mirror, refreshed from the managed weights before every pass (a few hundred thousand floats: far below the cost
/// of the pass), so weights changed by training, interpolation or loading are always the ones answered with.
/// </summary>
public sealed class TorchStudentEngine : IStudentEngine
{
    private readonly ConditionalWeakTable<TinyVlmModel, Mirror> mirrors = new();

    /// <summary>Loads libtorch (a clear error when it cannot), resolves <paramref name="device"/> and sets libtorch's CPU threads.</summary>
    public TorchStudentEngine(string device, int threads)
    {
        if (threads < 1) throw new ArgumentException($"threads must be at least 1 (got {threads}).", nameof(threads));
        TorchDevice = TorchRuntime.Resolve(device);
        Threads = threads;
        // One process-wide setting in libtorch: the last engine made decides it.
        torch.set_num_threads(threads);
    }

    /// <summary>Makes the engine available to <see cref="StudentEngines.Create"/> in this process.</summary>
    public static void Register() => StudentEngines.RegisterTorchSharp((device, threads) => new TorchStudentEngine(device, threads));

    /// <inheritdoc />
    public string Name => StudentEngines.TorchSharp;

    /// <inheritdoc />
    public string Device => TorchDevice.type == DeviceType.CUDA ? "cuda" : "cpu";

    /// <summary>The libtorch device.</summary>
    public torch.Device TorchDevice { get; }

    /// <summary>libtorch's intra-op CPU threads.</summary>
    public int Threads { get; }

    /// <inheritdoc />
    public IEncodedImages Encode(TinyVlmModel model, float[] pixels, int count)
    {
        var mirror = mirrors.GetValue(model, m => new Mirror(new TorchTinyVlm(m.Config).to(TorchDevice)));
        mirror.Gate.Wait();
        try
        {
            return new TorchEncodedImages(mirror, model, pixels, count, TorchDevice);
        }
        catch
        {
            mirror.Gate.Release();
            throw;
        }
    }

    /// <summary>Logits [questions, answers] of <paramref name="inputs"/> (evaluation mode, no gradients): what parity compares.</summary>
    public float[] Logits(TinyVlmModel model, Reference.ModelInputs inputs)
    {
        using var encoded = (TorchEncodedImages)Encode(model, inputs.Images, inputs.ImageCount);
        return encoded.Logits(inputs.ImageOfQuestion, inputs.Questions);
    }

    /// <summary>Inference as the benchmark times it: one direct question per image (the first asked about it), no gradients.</summary>
    public float[] Infer(TinyVlmModel model, Reference.ModelInputs inputs)
    {
        var first = new int[inputs.ImageCount];
        var seen = new bool[inputs.ImageCount];
        for (var q = 0; q < inputs.ImageOfQuestion.Length; q++)
        {
            var image = inputs.ImageOfQuestion[q];
            if (seen[image]) continue;
            seen[image] = true;
            first[image] = q;
        }

        var length = inputs.Questions.Length;
        var ids = new int[inputs.ImageCount * length];
        var valid = new bool[inputs.ImageCount * length];
        for (var i = 0; i < first.Length; i++)
        {
            Array.Copy(inputs.Questions.TokenIds, first[i] * length, ids, i * length, length);
            Array.Copy(inputs.Questions.Valid, first[i] * length, valid, i * length, length);
        }

        using var encoded = (TorchEncodedImages)Encode(model, inputs.Images, inputs.ImageCount);
        return encoded.Logits(null, new QuestionBatch(ids, length, valid));
    }

    /// <summary>
    /// One training step as the benchmark times it (forward, cross-entropy, backward, AdamW with weight decay 0.01 on every
    /// parameter, as the PyTorch reference's step), on a copy of <paramref name="model"/>'s weights.
    /// </summary>
    public TorchTrainStep TrainStep(TinyVlmModel model, Reference.ModelInputs inputs, float learningRate) => new(this, model, inputs, learningRate);

    /// <inheritdoc />
    public TrainingResult Train(TinyVlmStudent student, IReadOnlyList<StudentExample> examples, TrainingOptions options, IProgress<TrainingProgress>? progress,
        CancellationToken cancellationToken, IReadOnlyList<bool>? anchored) =>
        TorchStudentTrainer.Train(this, student, examples, options, progress, cancellationToken, anchored);

    private sealed class Mirror(TorchTinyVlm network)
    {
        public TorchTinyVlm Network { get; } = network;

        /// <summary>One pass at a time per model: the refresh writes the mirror's weights.</summary>
        public SemaphoreSlim Gate { get; } = new(1, 1);
    }

    private sealed class TorchEncodedImages : IEncodedImages
    {
        private readonly Mirror mirror;
        private readonly DisposeScope scope;
        private readonly IDisposable noGrad;
        private readonly Tensor features;
        private readonly torch.Device device;
        private bool disposed;

        public TorchEncodedImages(Mirror mirror, TinyVlmModel model, float[] pixels, int count, torch.Device device)
        {
            this.mirror = mirror;
            this.device = device;
            scope = torch.NewDisposeScope();
            noGrad = torch.no_grad();
            TorchWeights.CopyFrom(mirror.Network, model);
            mirror.Network.eval();
            var size = model.Config.ImageSize;
            var length = count * 3 * size * size;
            var images = torch.tensor(pixels.Length == length ? pixels : pixels[..length], [count, 3, size, size]).to(device);
            features = mirror.Network.forward(images);
        }

        public float[] LogProbabilities(int[]? imageOfQuestion, QuestionBatch questions) => Answer(imageOfQuestion, questions, logSoftmax: true);

        public float[] Logits(int[]? imageOfQuestion, QuestionBatch questions) => Answer(imageOfQuestion, questions, logSoftmax: false);

        private float[] Answer(int[]? imageOfQuestion, QuestionBatch questions, bool logSoftmax)
        {
            var (tokens, valid) = TorchInputs.Questions(questions, device);
            var index = imageOfQuestion is null ? null : TorchInputs.Indices(imageOfQuestion, device);
            var logits = mirror.Network.AnswerLogits(features, index, tokens, valid);
            using var host = (logSoftmax ? logits.log_softmax(1) : logits).cpu();
            return host.data<float>().ToArray();
        }

        public void Dispose()
        {
            if (disposed) return;
            disposed = true;
            noGrad.Dispose();
            scope.Dispose();
            mirror.Gate.Release();
        }
    }
}

/// <summary>A repeatable training step on one fixed batch (see <see cref="TorchStudentEngine.TrainStep"/>).</summary>
public sealed class TorchTrainStep : IDisposable
{
    private readonly TorchTinyVlm network;
    private readonly torch.optim.Optimizer optimizer;
    private readonly Tensor images, tokens, valid, imageOfQuestion, targets;

    internal TorchTrainStep(TorchStudentEngine engine, TinyVlmModel model, Reference.ModelInputs inputs, float learningRate)
    {
        var device = engine.TorchDevice;
        network = new TorchTinyVlm(model.Config);
        TorchWeights.CopyFrom(network, model);
        network.to(device);
        network.train();
        optimizer = torch.optim.AdamW(network.parameters(), lr: learningRate, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.01);
        var size = inputs.ImageSize;
        images = torch.tensor(inputs.Images, [inputs.ImageCount, 3, size, size]).to(device);
        (tokens, valid) = TorchInputs.Questions(inputs.Questions, device);
        imageOfQuestion = TorchInputs.Indices(inputs.ImageOfQuestion, device);
        targets = TorchInputs.Indices(inputs.Targets, device);
    }

    /// <summary>Runs one step; returns when the device has finished it (the loss is read back).</summary>
    public void Run()
    {
        using var scope = torch.NewDisposeScope();
        optimizer.zero_grad();
        var loss = TorchSharp.torch.nn.functional.cross_entropy(network.AnswerLogits(network.forward(images), imageOfQuestion, tokens, valid), targets, ignore_index: StudentTrainer.IgnoredAnswer);
        loss.backward();
        optimizer.step();
        _ = loss.item<float>();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        optimizer.Dispose();
        network.Dispose();
        foreach (var t in new[] { images, tokens, valid, imageOfQuestion, targets }) t.Dispose();
    }
}

/// <summary>Host arrays to libtorch tensors on a device.</summary>
internal static class TorchInputs
{
    public static (Tensor Tokens, Tensor Valid) Questions(QuestionBatch questions, torch.Device device)
    {
        long count = questions.Count, length = questions.Length;
        var tokens = torch.tensor(questions.TokenIds.Select(t => (long)t).ToArray(), [count, length]).to(device);
        var valid = torch.tensor(questions.Valid, [count, length]).to(device);
        return (tokens, valid);
    }

    public static Tensor Indices(IReadOnlyList<int> values, torch.Device device) =>
        torch.tensor(values.Select(v => (long)v).ToArray(), [values.Count]).to(device);

    public static Tensor Indices(ReadOnlySpan<int> values, torch.Device device)
    {
        var longs = new long[values.Length];
        for (var i = 0; i < longs.Length; i++) longs[i] = values[i];
        return torch.tensor(longs, [longs.Length]).to(device);
    }
}

/// <summary>How a process picks its students' engine from configuration (the Student and Trainer services).</summary>
public static class StudentEngineSetup
{
    /// <summary>Configuration key of the engine name (managed or torchsharp; environment: Student__Engine).</summary>
    public const string EngineKey = "Student:Engine";

    /// <summary>Configuration key of the device (auto, cpu or cuda; environment: Student__Device).</summary>
    public const string DeviceKey = "Student:Device";

    /// <summary>
    /// Registers the TorchSharp engine and makes <paramref name="engine"/> on <paramref name="device"/> (defaults: managed, auto)
    /// the engine of every student this process loads or creates. A wrong name, or a TorchSharp engine whose libtorch does
    /// not load, fails here, at startup, with the reason.
    /// </summary>
    public static Engines.IStudentEngine Configure(string? engine, string? device, int threads)
    {
        TorchStudentEngine.Register();
        var chosen = Engines.StudentEngines.Create(string.IsNullOrWhiteSpace(engine) ? Engines.StudentEngines.Managed : engine.Trim(),
            string.IsNullOrWhiteSpace(device) ? "auto" : device.Trim(), threads);
        Engines.StudentEngines.Current = chosen;
        return chosen;
    }
}
