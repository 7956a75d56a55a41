using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FailureSynth.Tensors;
using FailureSynth.TinyVlm.Model;
using FailureSynth.TinyVlm.Training;

namespace FailureSynth.TinyVlm.Reference;

/// <summary>
/// One batch of model inputs as both engines consume it: images, the question tokens with their mask,
/// the image each question is about, and the answer targets.
/// </summary>
/// <param name="Images">[ImageCount, 3, S, S] pixel planes in [-1, 1].</param>
/// <param name="ImageCount">Number of images.</param>
/// <param name="ImageSize">Image side S.</param>
/// <param name="Questions">Token ids, padded, with the mask of real tokens.</param>
/// <param name="ImageOfQuestion">For each question, the index of its image.</param>
/// <param name="Targets">For each question, the answer class (-100 to ignore).</param>
public sealed record ModelInputs(float[] Images, int ImageCount, int ImageSize, QuestionBatch Questions, int[] ImageOfQuestion, int[] Targets)
{
    /// <summary>
    /// The inputs of one training batch: every image of <paramref name="examples"/> and every question about it
    /// (the whole question, then its reasoning steps), as the trainer builds them.
    /// </summary>
    public static ModelInputs FromExamples(TinyVlmStudent student, IReadOnlyList<StudentExample> examples)
    {
        var size = student.Model.Config.ImageSize;
        var plane = 3 * size * size;
        var images = new float[examples.Count * plane];
        var questions = new List<int[]>();
        var imageOfQuestion = new List<int>();
        var targets = new List<int>();
        for (var i = 0; i < examples.Count; i++)
        {
            var example = examples[i];
            StudentExamples.WritePlanes(example.Image, images.AsSpan(i * plane, plane));
            foreach (var (question, answer) in example.Steps.Select(s => (s.Question, s.Answer)).Prepend((example.Question, example.Answer)))
            {
                questions.Add(student.Tokens.Encode(question, student.Model.Config.MaxTokens));
                imageOfQuestion.Add(i);
                var id = student.Answers.IdOf(answer);
                targets.Add(id >= 0 ? id : -100);
            }
        }

        return new ModelInputs(images, examples.Count, size, QuestionBatch.From(questions), [.. imageOfQuestion], [.. targets]);
    }

    /// <summary>Our engine's logits for these inputs, row-major [questions, answers] (evaluation mode, no gradients).</summary>
    public float[] Logits(TinyVlmModel model)
    {
        model.Eval();
        var context = model.Context;
        using var noGrad = context.NoGrad();
        var features = model.EncodeImages(context.FromArray(Images, ImageCount, 3, ImageSize, ImageSize));
        return model.AnswerLogits(features, ImageOfQuestion, Questions).ToArray();
    }

    /// <summary>Writes the inputs as a safetensors file (integers stored as exact float32 values).</summary>
    public void Write(string path)
    {
        var count = Questions.Count;
        var length = Questions.Length;
        Safetensors.Write(path,
        [
            new SafetensorsTensor("images", [ImageCount, 3, ImageSize, ImageSize], Images),
            new SafetensorsTensor("tokens", [count, length], [.. Questions.TokenIds.Select(t => (float)t)]),
            new SafetensorsTensor("valid", [count, length], [.. Questions.Valid.Select(v => v ? 1f : 0f)]),
            new SafetensorsTensor("image_of_question", [count], [.. ImageOfQuestion.Select(i => (float)i)]),
            new SafetensorsTensor("targets", [count], [.. Targets.Select(t => (float)t)]),
        ]);
    }
}

/// <summary>What the PyTorch reference computed and measured.</summary>
/// <param name="TorchVersion">torch.__version__.</param>
/// <param name="Threads">torch.get_num_threads() during the run.</param>
/// <param name="Logits">Logits for the inputs, row-major [questions, answers].</param>
/// <param name="TrainStepMs">Timed training steps in milliseconds (empty when not asked).</param>
/// <param name="InferSamplesPerSecond">Images per second of direct-question inference, or null.</param>
public sealed record TorchRun(string TorchVersion, int Threads, float[] Logits, IReadOnlyList<double> TrainStepMs, double? InferSamplesPerSecond);

/// <summary>
/// Runs bench/torch/tinyvlm_bench.py, the PyTorch reference implementation of TinyVLM, with Debian's
/// /usr/bin/python3 and python3-torch. Used only to check and time our engine, never at run time.
/// </summary>
public static class TorchReference
{
    /// <summary>The interpreter that has python3-torch (the pyenv python on PATH does not).</summary>
    public const string Python = "/usr/bin/python3";

    /// <summary>The script, relative to the repository root.</summary>
    public static readonly string ScriptPath = Path.Combine("bench", "torch", "tinyvlm_bench.py");

    private const string InstallHint = "run `sudo bash eng/install-prereqs.sh --with-torch` (installs Debian's python3-torch)";

    /// <summary>The repository root above <paramref name="start"/> (the folder holding FailureSynth.sln), or null.</summary>
    public static string? FindRepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FailureSynth.sln"))) return dir.FullName;
        }

        return null;
    }

    /// <summary>Throws with install instructions unless /usr/bin/python3 can import torch.</summary>
    public static string CheckAvailable()
    {
        if (!File.Exists(Python))
            throw new InvalidOperationException($"PyTorch reference: {Python} does not exist; {InstallHint}.");
        var (code, output, error) = Execute(["-c", "import torch; print(torch.__version__)"], TimeSpan.FromMinutes(2));
        if (code != 0)
            throw new InvalidOperationException($"PyTorch reference: {Python} cannot import torch ({error.Trim()}); {InstallHint}.");
        return output.Trim();
    }

    /// <summary>
    /// Runs the reference on <paramref name="checkpoint"/> and <paramref name="inputs"/> (safetensors files)
    /// with <paramref name="threads"/> torch threads, timing training steps and inference if repeats are given.
    /// </summary>
    public static TorchRun Run(string repositoryRoot, string checkpoint, string inputs, int threads, int trainRepeats = 0, int inferRepeats = 0, float learningRate = 3e-3f)
    {
        CheckAvailable();
        var script = Path.Combine(repositoryRoot, ScriptPath);
        if (!File.Exists(script)) throw new FileNotFoundException($"PyTorch reference script '{script}' is missing; run from a FailureSynth checkout.", script);
        var inv = CultureInfo.InvariantCulture;
        var (code, output, error) = Execute(
        [
            script, "--checkpoint", checkpoint, "--inputs", inputs, "--threads", threads.ToString(inv),
            "--train-repeats", trainRepeats.ToString(inv), "--infer-repeats", inferRepeats.ToString(inv), "--lr", learningRate.ToString("R", inv),
        ], TimeSpan.FromMinutes(10));
        if (code != 0) throw new InvalidOperationException($"PyTorch reference failed (exit {code}): {error.Trim()}");
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        var logits = root.GetProperty("logits").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
        var train = root.TryGetProperty("train_step_ms", out var t) ? t.EnumerateArray().Select(v => v.GetDouble()).ToArray() : [];
        double? infer = root.TryGetProperty("infer_samples_per_s", out var s) ? s.GetDouble() : null;
        return new TorchRun(root.GetProperty("torch_version").GetString() ?? "", root.GetProperty("threads").GetInt32(), logits, train, infer);
    }

    private static (int Code, string Output, string Error) Execute(IReadOnlyList<string> arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Python}; {InstallHint}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The PyTorch reference did not finish within {timeout.TotalMinutes:F0} minutes.");
        }

        return (process.ExitCode, output.Result, error.Result);
    }
}
