using FailureSynth.Tensors;

namespace FailureSynth.TinyVlm.Model;

/// <summary>
/// The TinyVLM network: <see cref="ImageEncoder"/> features, <see cref="QuestionEncoder"/> vector, FiLM fusion (the question scales and shifts each channel of a convolution over the image
/// grid) summed over the grid (sums count), a <see cref="GridReader"/> whose question-made query slots attend
/// to the fused grid cells (reading the attributes and positions of the objects described), and an MLP
/// answer head over the answer vocabulary.
/// Images are encoded once and shared by every question asked about them.
/// </summary>
public sealed class TinyVlmModel : Module
{
    private readonly Dictionary<Linear, LoraLinear> adapters = new(ReferenceEqualityComparer.Instance);

    /// <summary>Builds the network with initial weights drawn from a generator seeded by <paramref name="seed"/>.</summary>
    public TinyVlmModel(ComputeContext context, TinyVlmConfig config, ulong seed)
        : base(context)
    {
        config.Validate();
        Config = config;
        var rng = new SplitMix64(seed);
        Image = RegisterModule("image", new ImageEncoder(context, config, rng));
        Question = RegisterModule("question", new QuestionEncoder(context, config, rng));
        Fusion = RegisterModule("fusion", new FilmFusion(context, config, Image.OutputChannels, rng));
        Reader = RegisterModule("reader", new GridReader(context, config, rng));
        Head = RegisterModule("head", new AnswerHead(context, config, rng));
    }

    /// <summary>The architecture.</summary>
    public TinyVlmConfig Config { get; }

    /// <summary>Image branch.</summary>
    public ImageEncoder Image { get; }

    /// <summary>Question branch.</summary>
    public QuestionEncoder Question { get; }

    /// <summary>FiLM fusion of the two.</summary>
    public FilmFusion Fusion { get; }

    /// <summary>Question-made query slots attending over the fused grid.</summary>
    public GridReader Reader { get; }

    /// <summary>Answer classifier.</summary>
    public AnswerHead Head { get; }

    /// <summary>Whether LoRA adapters are attached (see <see cref="AttachLora"/>).</summary>
    public bool HasAdapters => adapters.Count > 0;

    /// <summary>Images [B, 3, S, S] -> feature grids [B, C, S/8, S/8].</summary>
    public Tensor EncodeImages(Tensor images) => Image.Forward(images);

    /// <summary>
    /// Answer logits [P, answers] for P questions; question p is about image <paramref name="imageOfQuestion"/>[p]
    /// of <paramref name="features"/> (null when question p is about image p).
    /// </summary>
    public Tensor AnswerLogits(Tensor features, int[]? imageOfQuestion, QuestionBatch questions)
    {
        if (imageOfQuestion is null && features.Size(0) != questions.Count)
        {
            throw new ArgumentException($"{questions.Count} questions were asked about {features.Size(0)} images; pass the image of each question.", nameof(imageOfQuestion));
        }

        var q = Question.Forward(questions, Project);
        var (fused, pooled) = Fusion.Forward(features, imageOfQuestion, q, Project);
        var read = Reader.Forward(q, fused, Project);
        return Head.Forward(Tensor.Concat([pooled, read, q], 1), Project);
    }

    /// <summary>Log-probabilities [P, answers] (log-softmax of <see cref="AnswerLogits"/>).</summary>
    public Tensor AnswerLogProbabilities(Tensor features, int[]? imageOfQuestion, QuestionBatch questions) =>
        AnswerLogits(features, imageOfQuestion, questions).LogSoftmax();

    /// <summary>
    /// Freezes every weight and attaches rank-<paramref name="rank"/> LoRA adapters to the linear layers
    /// (attention, feed-forward, FiLM and head); returns the adapter parameters to train.
    /// </summary>
    public IReadOnlyList<Tensor> AttachLora(int rank, float alpha, ulong seed)
    {
        if (HasAdapters) throw new InvalidOperationException("LoRA adapters are already attached to this model.");
        SetRequiresGrad(false);
        var rng = new SplitMix64(seed);
        var trainable = new List<Tensor>();
        foreach (var linear in LinearLayers())
        {
            var adapter = new LoraLinear(linear, Math.Min(rank, Math.Min(linear.InFeatures, linear.OutFeatures)), alpha, rng);
            adapters.Add(linear, adapter);
            trainable.Add(adapter.A);
            trainable.Add(adapter.B);
        }

        return trainable;
    }

    /// <summary>Folds every adapter into its base weight and removes it, so the model saves as a plain TinyVLM.</summary>
    public void MergeLora()
    {
        foreach (var linear in LinearLayers())
        {
            if (adapters.Remove(linear, out var adapter)) adapter.Merge();
        }

        SetRequiresGrad(true);
    }

    private IEnumerable<Linear> LinearLayers()
    {
        foreach (var layer in Question.Layers)
        {
            yield return layer.Attention.Query;
            yield return layer.Attention.Key;
            yield return layer.Attention.Value;
            yield return layer.Attention.Output;
            yield return layer.FeedForward1;
            yield return layer.FeedForward2;
        }

        yield return Reader.Query;
        yield return Reader.Key;
        yield return Reader.Value;
        yield return Reader.Output;

        yield return Fusion.Gamma;
        yield return Fusion.Beta;
        yield return Head.Hidden;
        yield return Head.Output;
    }

    private Tensor Project(Linear layer, Tensor x) =>
        adapters.TryGetValue(layer, out var adapter) ? adapter.Forward(x) : layer.Forward(x);
}

/// <summary>
/// FiLM fusion: a 3x3 convolution over the image grid, batch-normalised, whose channels the question scales
/// by (1 + gamma) and shifts by beta, then ReLU, a 1x1 mixing convolution and ReLU; returned per cell and
/// summed over the grid.
/// </summary>
public sealed class FilmFusion : Module
{
    /// <summary>Creates the fusion layers, drawing their initial weights from <paramref name="rng"/>.</summary>
    public FilmFusion(ComputeContext context, TinyVlmConfig config, int inputChannels, SplitMix64 rng)
        : base(context)
    {
        Conv = RegisterModule("conv", new Conv2d(context, inputChannels, config.FusionChannels, 3, rng, stride: 1, padding: 1));
        Gamma = RegisterModule("gamma", new Linear(context, config.ModelWidth, config.FusionChannels, rng));
        Beta = RegisterModule("beta", new Linear(context, config.ModelWidth, config.FusionChannels, rng));
        Norm = RegisterModule("bn", new BatchNorm2d(context, config.FusionChannels));
        Mix = RegisterModule("mix", new Conv2d(context, config.FusionChannels, config.FusionChannels, 1, rng));
    }

    /// <summary>Convolution over the image grid.</summary>
    public Conv2d Conv { get; }

    /// <summary>Question -> per-channel scale offset.</summary>
    public Linear Gamma { get; }

    /// <summary>Question -> per-channel shift.</summary>
    public Linear Beta { get; }

    /// <summary>Batch norm of the convolution, before the question modulates it.</summary>
    public BatchNorm2d Norm { get; }

    /// <summary>1x1 convolution after the modulation: mixes the gated channels so a cell can require several properties at once (red and circle).</summary>
    public Conv2d Mix { get; }

    /// <summary>
    /// Image grids [B, C, F, F] and questions [P, D] -> fused grid [P, F*F, CF] (one row per cell) and its sum over
    /// cells / F [P, CF]. Question p is about image <paramref name="imageOfQuestion"/>[p] (image p when null). The
    /// convolution and its batch norm do not depend on the question, so they run once per image and their output
    /// is gathered per question: several questions are asked about each image.
    /// </summary>
    public (Tensor Cells, Tensor Pooled) Forward(Tensor grid, int[]? imageOfQuestion, Tensor question, Func<Linear, Tensor, Tensor> project)
    {
        int count = question.Size(0), channels = Conv.Weight.Size(0), side = grid.Size(2), cells = side * grid.Size(3);
        var h = Norm.Forward(Conv.Forward(grid)); // [B, CF, F, F]
        if (imageOfQuestion is not null)
        {
            // [B, CF*F*F] rows picked per question -> [P, CF, F, F]
            h = Tensor.Embedding(h.Reshape(h.Size(0), -1), imageOfQuestion).Reshape(count, channels, side, grid.Size(3));
        }

        var gamma = (project(Gamma, question) + 1f).Reshape(count, channels, 1, 1);
        var beta = project(Beta, question).Reshape(count, channels, 1, 1);
        var modulated = Mix.Forward((h * gamma + beta).Relu()).Relu().Reshape(count, channels, cells); // [P, CF, F*F]
        // Summed (not averaged) so counts stay linear in the number of matching cells; scaled by 1/F so the
        // head's input does not grow with the grid.
        return (modulated.Transpose(1, 2).Contiguous(), modulated.Sum(2) * (1f / side));
    }
}

/// <summary>
/// Reads the fused grid: the question vector proposes a few query slots (one per object a question may
/// describe) that attend over the grid cells (multi-head cross-attention, keys and values projected from
/// the layer-normed cells, which carry the coordinates), so each slot reads the attributes and position of
/// the cell that best matches all of its description: [P, D] and [P, F*F, CF] -> [P, slots * D].
/// </summary>
public sealed class GridReader : Module
{
    private readonly int heads;
    private readonly int slots;

    /// <summary>Creates the reader, drawing its initial weights from <paramref name="rng"/>.</summary>
    public GridReader(ComputeContext context, TinyVlmConfig config, SplitMix64 rng)
        : base(context)
    {
        heads = config.Heads;
        slots = config.ReaderSlots;
        CellNorm = RegisterModule("cell_norm", new LayerNorm(context, config.FusionChannels, TinyVlmConfig.LayerNormEps));
        Query = RegisterModule("q_proj", new Linear(context, config.ModelWidth, config.ReaderSlots * config.ModelWidth, rng));
        Key = RegisterModule("k_proj", new Linear(context, config.FusionChannels, config.ModelWidth, rng));
        Value = RegisterModule("v_proj", new Linear(context, config.FusionChannels, config.ModelWidth, rng));
        Output = RegisterModule("out_proj", new Linear(context, config.ModelWidth, config.ModelWidth, rng));
    }

    /// <summary>Norm of each grid cell before the key and value projections.</summary>
    public LayerNorm CellNorm { get; }

    /// <summary>Question vector -> one query per slot.</summary>
    public Linear Query { get; }

    /// <summary>Cell -> key.</summary>
    public Linear Key { get; }

    /// <summary>Cell -> value.</summary>
    public Linear Value { get; }

    /// <summary>Attended values -> output.</summary>
    public Linear Output { get; }

    /// <summary>question [P, D], cells [P, F*F, CF] -> [P, slots * D].</summary>
    public Tensor Forward(Tensor question, Tensor cells, Func<Linear, Tensor, Tensor> project)
    {
        int count = question.Size(0), width = question.Size(1);
        var memory = CellNorm.Forward(cells);
        var queries = project(Query, question).Reshape(count, slots, width); // [P, S, D]
        var attended = Tensor.Attention(queries, project(Key, memory), project(Value, memory), heads);
        return project(Output, attended).Reshape(count, slots * width);
    }
}

/// <summary>The answer classifier: [pooled grid, read slots, question vector] -> hidden ReLU layer -> logits over answers.</summary>
public sealed class AnswerHead : Module
{
    /// <summary>Creates the head, drawing its initial weights from <paramref name="rng"/>.</summary>
    public AnswerHead(ComputeContext context, TinyVlmConfig config, SplitMix64 rng)
        : base(context)
    {
        Hidden = RegisterModule("hidden", new Linear(context, config.FusionChannels + (config.ReaderSlots + 1) * config.ModelWidth, config.HeadHidden, rng));
        Output = RegisterModule("output", new Linear(context, config.HeadHidden, config.AnswerCount, rng));
    }

    /// <summary>Hidden layer.</summary>
    public Linear Hidden { get; }

    /// <summary>Logit layer.</summary>
    public Linear Output { get; }

    /// <summary>[pooled grid, read slots, question] [P, CF + (slots + 1) D] -> logits [P, answers].</summary>
    public Tensor Forward(Tensor features, Func<Linear, Tensor, Tensor> project) =>
        project(Output, project(Hidden, features).Relu());
}
