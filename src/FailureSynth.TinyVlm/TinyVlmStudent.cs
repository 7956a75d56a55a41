using System.Text.Json;
using FailureSynth.Tensors;
using FailureSynth.TinyVlm.Engines;
using FailureSynth.TinyVlm.Inference;
using FailureSynth.TinyVlm.Model;
using FailureSynth.TinyVlm.Training;
using FailureSynth.TinyVlm.Vocabulary;
using FailureSynth.World;
using FailureSynth.World.Questions;

namespace FailureSynth.TinyVlm;

/// <summary>
/// A TinyVLM with its vocabularies: answers questions about images (directly or by reasoning step by step)
/// and saves to, or loads from, a safetensors checkpoint whose metadata holds everything needed to rebuild it.
/// </summary>
public sealed class TinyVlmStudent
{
    /// <summary>Metadata key of the training settings (JSON).</summary>
    public const string TrainingKey = "training";

    /// <summary>Metadata key naming the format.</summary>
    public const string FormatKey = "format";

    /// <summary>
    /// Value of <see cref="FormatKey"/>. Version 2: the fusion convolution runs once per image (version 1 ran it per
    /// question, with batch statistics over questions), so version-1 weights do not carry over.
    /// </summary>
    public const string FormatName = "failuresynth-tinyvlm/2";

    private const string FormatPrefix = "failuresynth-tinyvlm/";

    /// <summary>Images encoded per inference pass.</summary>
    private const int InferenceBatch = 128;

    private TinyVlmStudent(TinyVlmModel model, TokenVocabulary tokens, AnswerVocabulary answers, IReadOnlyDictionary<string, string> metadata)
    {
        Model = model;
        Tokens = tokens;
        Answers = answers;
        Metadata = metadata;
    }

    /// <summary>The network.</summary>
    public TinyVlmModel Model { get; }

    /// <summary>Question tokens.</summary>
    public TokenVocabulary Tokens { get; }

    /// <summary>Answer classes; <see cref="StudentAnswer.LogProbabilities"/> follow this order.</summary>
    public AnswerVocabulary Answers { get; }

    /// <summary>
    /// The engine that answers and trains (the process's <see cref="StudentEngines.Current"/> when the student was made).
    /// The weights stay in <see cref="Model"/> whichever engine runs them.
    /// </summary>
    public IStudentEngine Engine { get; set; } = StudentEngines.Current;

    /// <summary>Metadata of the checkpoint this student was loaded from (or will be saved with, besides architecture and vocabularies).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; private set; }

    /// <summary>A freshly initialised student for <paramref name="tokens"/>, weights drawn from <paramref name="seed"/>.</summary>
    public static TinyVlmStudent Create(ComputeContext context, TokenVocabulary tokens, ulong seed, TinyVlmConfig? config = null)
    {
        var answers = AnswerVocabulary.ShapesWorld;
        var architecture = config ?? TinyVlmConfig.Default(tokens.Count, answers.Count);
        if (architecture.TokenCount != tokens.Count || architecture.AnswerCount != answers.Count)
            throw new ArgumentException($"The architecture expects {architecture.TokenCount} tokens and {architecture.AnswerCount} answers but the vocabularies have {tokens.Count} and {answers.Count}.", nameof(config));
        return new TinyVlmStudent(new TinyVlmModel(context, architecture, seed), tokens, answers, new Dictionary<string, string>());
    }

    /// <summary>Loads a checkpoint written by <see cref="Save"/>; errors name the file and what is wrong with it.</summary>
    public static TinyVlmStudent Load(string path, ComputeContext context)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"Student checkpoint '{path}' does not exist; train one with `failuresynth student train --out {path}`.", path);
        return FromFile(Safetensors.Read(path), context, path);
    }

    /// <summary>Loads a checkpoint from its bytes (see <see cref="Serialize"/>); <paramref name="source"/> names it in errors.</summary>
    public static TinyVlmStudent FromBytes(ReadOnlySpan<byte> bytes, ComputeContext context, string source) =>
        FromFile(Safetensors.Deserialize(bytes, source), context, source);

    private static TinyVlmStudent FromFile(SafetensorsFile file, ComputeContext context, string path)
    {
        if (file.Metadata.TryGetValue(FormatKey, out var format) && format != FormatName && format.StartsWith(FormatPrefix, StringComparison.Ordinal))
            throw new InvalidDataException($"'{path}' is a TinyVLM checkpoint of format \"{format}\", written by an older FailureSynth; this one reads \"{FormatName}\" (the fusion changed). Train it again with `failuresynth student train`.");
        if (format != FormatName)
            throw new InvalidDataException($"'{path}' is not a TinyVLM checkpoint (its metadata has no \"{FormatKey}\": \"{FormatName}\"); pass a file written by `failuresynth student train`.");
        var config = TinyVlmConfig.FromJson(Require(file.Metadata, Checkpoint.ArchitectureKey, path), path);
        var (tokens, answers) = ReadVocabularies(Require(file.Metadata, Checkpoint.VocabulariesKey, path), path);
        if (tokens.Count != config.TokenCount || answers.Count != config.AnswerCount)
            throw new InvalidDataException($"{path}: the vocabularies ({tokens.Count} tokens, {answers.Count} answers) do not match the architecture ({config.TokenCount}, {config.AnswerCount}).");
        var model = new TinyVlmModel(context, config, 0);
        Checkpoint.Apply(file, model, path);
        model.Eval();
        return new TinyVlmStudent(model, tokens, answers, file.Metadata);
    }

    /// <summary>
    /// The checkpoint bytes: the model's tensors plus metadata (format, architecture, vocabularies and
    /// <paramref name="metadata"/>, e.g. the training-data hash). Identical weights give identical bytes.
    /// </summary>
    public byte[] Serialize(IReadOnlyDictionary<string, string>? metadata = null) =>
        Checkpoint.Serialize(Model, BuildMetadata(metadata));

    /// <summary>Writes the checkpoint (see <see cref="Serialize"/>) to <paramref name="path"/>.</summary>
    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        File.WriteAllBytes(path, Serialize(metadata));
    }

    /// <summary>Answers a generated ShapesWorld sample (rendered at the model's image size).</summary>
    public StudentAnswer Answer(WorldSample sample, AnswerMode mode) =>
        Answer(StudentExample.FromWorldSample(sample, Model.Config.ImageSize), mode);

    /// <summary>Answers one question about one image.</summary>
    public StudentAnswer Answer(StudentExample example, AnswerMode mode) => AnswerAll([example], mode)[0];

    /// <summary>
    /// Answers many questions, encoding each batch of images once. In reasoning mode each step is asked of
    /// every example that has it, in step order, so step k can quote the student's answers to steps before k.
    /// </summary>
    public IReadOnlyList<StudentAnswer> AnswerAll(IReadOnlyList<StudentExample> examples, AnswerMode mode, IProgress<int>? progress = null)
    {
        var results = new StudentAnswer[examples.Count];
        var size = Model.Config.ImageSize;
        var plane = 3 * size * size;
        foreach (var example in examples)
        {
            if (example.Image.Width != size || example.Image.Height != size)
                throw new ArgumentException($"Example '{example.Id}' has a {example.Image.Width}x{example.Image.Height} image but the student takes {size}x{size}.", nameof(examples));
        }

        for (var start = 0; start < examples.Count; start += InferenceBatch)
        {
            var count = Math.Min(InferenceBatch, examples.Count - start);
            var pixels = new float[count * plane];
            for (var i = 0; i < count; i++)
            {
                StudentExamples.WritePlanes(examples[start + i].Image, pixels.AsSpan(i * plane, plane));
            }

            using var features = Engine.Encode(Model, pixels, count);
            var direct = Ask(features, null, [.. Enumerable.Range(0, count).Select(i => examples[start + i].Question)]);
            if (mode == AnswerMode.Direct)
            {
                for (var i = 0; i < count; i++)
                {
                    var (answer, probability) = Best(direct[i]);
                    results[start + i] = new StudentAnswer(answer, probability, direct[i], mode, [], false);
                }
            }
            else
            {
                var rationales = Reason(features, examples, start, count);
                for (var i = 0; i < count; i++)
                {
                    var example = examples[start + i];
                    var steps = rationales[i];
                    var (answer, composed) = Compose(example, steps, direct[i]);
                    var id = Answers.IdOf(answer);
                    var probability = id >= 0 ? MathF.Exp(direct[i][id]) : 0f;
                    results[start + i] = new StudentAnswer(answer, probability, direct[i], mode, steps, composed);
                }
            }

            progress?.Report(start + count);
        }

        return results;
    }

    /// <summary>The step questions of every example, asked step by step; later questions quote earlier answers when the program is known.</summary>
    private List<StudentStep>[] Reason(IEncodedImages features, IReadOnlyList<StudentExample> examples, int start, int count)
    {
        var rationales = new List<StudentStep>[count];
        var stepCounts = new int[count];
        for (var i = 0; i < count; i++)
        {
            rationales[i] = [];
            var example = examples[start + i];
            stepCounts[i] = example.Program is { } program ? World.Questions.Reasoning.StepCount(program) : example.Steps.Count;
        }

        for (var k = 1; k <= stepCounts.DefaultIfEmpty(0).Max(); k++)
        {
            var asked = new List<int>();
            var questions = new List<string>();
            for (var i = 0; i < count; i++)
            {
                if (stepCounts[i] < k) continue;
                var example = examples[start + i];
                asked.Add(i);
                questions.Add(example.Program is { } program
                    ? World.Questions.Reasoning.StepQuestion(program, k, [.. rationales[i].Select(s => s.Answer)])
                    : example.Steps[k - 1].Question);
            }

            var logProbabilities = Ask(features, [.. asked], questions);
            for (var j = 0; j < asked.Count; j++)
            {
                var (answer, probability) = Best(logProbabilities[j]);
                rationales[asked[j]].Add(new StudentStep(k, questions[j], answer, probability, logProbabilities[j]));
            }
        }

        return rationales;
    }

    private (string Answer, bool Composed) Compose(StudentExample example, List<StudentStep> steps, float[] direct)
    {
        if (steps.Count == 0) return (Best(direct).Answer, false);
        if (example.Program is { } program
            && World.Questions.Reasoning.TryComposeAnswer(program, [.. steps.Select(s => s.Answer)], out var composed, out _))
        {
            // A choice-form question is answered with the letter of the composed value.
            return (ChoiceLetter(example.Question, composed) ?? composed, true);
        }

        return (steps[^1].Answer, false);
    }

    /// <summary>The letter of the option whose text is <paramref name="value"/> in a choice-form question ("A. red" lines), or null for open questions.</summary>
    public static string? ChoiceLetter(string question, string value)
    {
        foreach (var line in question.Split('\n'))
        {
            var text = line.Trim();
            if (text.Length > 3 && char.IsAsciiLetterUpper(text[0]) && text[1] == '.' && text[2..].Trim() == value) return text[..1];
        }

        return null;
    }

    private float[][] Ask(IEncodedImages features, int[]? imageOfQuestion, IReadOnlyList<string> questions)
    {
        var batch = QuestionBatch.From([.. questions.Select(q => Tokens.Encode(q, Model.Config.MaxTokens))]);
        var flat = features.LogProbabilities(imageOfQuestion, batch);
        var classes = Answers.Count;
        var rows = new float[questions.Count][];
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = flat.AsSpan(i * classes, classes).ToArray();
        }

        return rows;
    }

    private (string Answer, float Probability) Best(float[] logProbabilities)
    {
        var best = 0;
        for (var c = 1; c < logProbabilities.Length; c++)
        {
            if (logProbabilities[c] > logProbabilities[best]) best = c;
        }

        return (Answers.Answers[best], MathF.Exp(logProbabilities[best]));
    }

    private Dictionary<string, string> BuildMetadata(IReadOnlyDictionary<string, string>? extra)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in Metadata) metadata[key] = value;
        foreach (var (key, value) in extra ?? new Dictionary<string, string>()) metadata[key] = value;
        metadata[FormatKey] = FormatName;
        metadata[Checkpoint.ArchitectureKey] = Model.Config.ToJson();
        metadata[Checkpoint.VocabulariesKey] = JsonSerializer.Serialize(new Dictionary<string, IReadOnlyList<string>>
        {
            ["answers"] = Answers.Answers,
            ["tokens"] = Tokens.Tokens,
        });
        return metadata;
    }

    /// <summary>Replaces the metadata saved with the checkpoint besides architecture and vocabularies.</summary>
    public void SetMetadata(IReadOnlyDictionary<string, string> metadata) => Metadata = metadata;

    private static (TokenVocabulary Tokens, AnswerVocabulary Answers) ReadVocabularies(string json, string path)
    {
        try
        {
            var vocabularies = JsonSerializer.Deserialize<Dictionary<string, string[]>>(json)
                               ?? throw new InvalidDataException($"{path}: the vocabularies metadata is empty.");
            if (!vocabularies.TryGetValue("tokens", out var tokens) || !vocabularies.TryGetValue("answers", out var answers))
                throw new InvalidDataException($"{path}: the vocabularies metadata needs \"tokens\" and \"answers\" lists.");
            return (new TokenVocabulary(tokens), new AnswerVocabulary(answers));
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: the vocabularies metadata is not valid ({e.Message}).", e);
        }
    }

    private static string Require(IReadOnlyDictionary<string, string> metadata, string key, string path) =>
        metadata.TryGetValue(key, out var value)
            ? value
            : throw new InvalidDataException($"{path}: the checkpoint metadata lacks \"{key}\"; it was not written by `failuresynth student train`.");
}
