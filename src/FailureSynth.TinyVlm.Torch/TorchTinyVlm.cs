using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FailureSynth.TinyVlm.Torch;

/// <summary>
/// TinyVLM in TorchSharp, layer for layer the network of <see cref="Model.TinyVlmModel"/> (and of the PyTorch reference
/// bench/torch/tinyvlm_bench.py): the same tensor names and layouts, so a FailureSynth checkpoint's tensors load by name.
/// </summary>
public sealed class TorchTinyVlm : nn.Module<Tensor, Tensor>
{
    /// <summary>Builds the layers (their initial weights are overwritten by <see cref="TorchWeights.CopyFrom"/>).</summary>
    public TorchTinyVlm(TinyVlmConfig config)
        : base("tinyvlm")
    {
        config.Validate();
        Config = config;
        Image = new TorchImageEncoder(config);
        Question = new TorchQuestionEncoder(config);
        Fusion = new TorchFilmFusion(config, config.Conv3Channels + 2);
        Reader = new TorchGridReader(config);
        Head = new TorchAnswerHead(config);
        register_module("image", Image);
        register_module("question", Question);
        register_module("fusion", Fusion);
        register_module("reader", Reader);
        register_module("head", Head);
    }

    /// <summary>The architecture.</summary>
    public TinyVlmConfig Config { get; }

    /// <summary>Image branch.</summary>
    public TorchImageEncoder Image { get; }

    /// <summary>Question branch.</summary>
    public TorchQuestionEncoder Question { get; }

    /// <summary>FiLM fusion.</summary>
    public TorchFilmFusion Fusion { get; }

    /// <summary>Grid reader.</summary>
    public TorchGridReader Reader { get; }

    /// <summary>Answer head.</summary>
    public TorchAnswerHead Head { get; }

    /// <summary>Images [B, 3, S, S] -> feature grids [B, C3 + 2, S/8, S/8].</summary>
    public override Tensor forward(Tensor images) => Image.forward(images);

    /// <summary>Answer logits [P, answers]; question p is about image <paramref name="imageOfQuestion"/>[p] (image p when null).</summary>
    public Tensor AnswerLogits(Tensor features, Tensor? imageOfQuestion, Tensor tokens, Tensor valid)
    {
        var q = Question.Forward(tokens, valid);
        var (cells, pooled) = Fusion.Forward(features, imageOfQuestion, q);
        var read = Reader.Forward(q, cells);
        return Head.forward(cat([pooled, read, q], 1));
    }
}

/// <summary>CoordConv image encoder (see <see cref="Model.ImageEncoder"/>).</summary>
public sealed class TorchImageEncoder : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1, conv2, conv3;
    private readonly BatchNorm2d bn1, bn2, bn3;
    private readonly int imageSize;

    /// <summary>Creates the layers.</summary>
    public TorchImageEncoder(TinyVlmConfig c)
        : base("image")
    {
        imageSize = c.ImageSize;
        conv1 = nn.Conv2d(5, c.Conv1Channels, 3, stride: 1, padding: 1);
        conv2 = nn.Conv2d(c.Conv1Channels, c.Conv2Channels, 3, stride: 2, padding: 1);
        conv3 = nn.Conv2d(c.Conv2Channels, c.Conv3Channels, 3, stride: 2, padding: 1);
        bn1 = nn.BatchNorm2d(c.Conv1Channels, eps: TinyVlmConfig.LayerNormEps, momentum: 0.1);
        bn2 = nn.BatchNorm2d(c.Conv2Channels, eps: TinyVlmConfig.LayerNormEps, momentum: 0.1);
        bn3 = nn.BatchNorm2d(c.Conv3Channels, eps: TinyVlmConfig.LayerNormEps, momentum: 0.1);
        register_module("conv1", conv1);
        register_module("conv2", conv2);
        register_module("conv3", conv3);
        register_module("bn1", bn1);
        register_module("bn2", bn2);
        register_module("bn3", bn3);
    }

    /// <summary>Images [B, 3, S, S] -> [B, C3 + 2, S/8, S/8].</summary>
    public override Tensor forward(Tensor images)
    {
        var batch = images.shape[0];
        var x = cat([images, Coordinates(batch, imageSize, images.device)], 1);
        x = F.max_pool2d(F.relu(bn1.forward(conv1.forward(x))), 2);
        x = F.relu(bn2.forward(conv2.forward(x)));
        x = F.relu(bn3.forward(conv3.forward(x)));
        return cat([x, Coordinates(batch, imageSize / 8, images.device)], 1);
    }

    /// <summary>[B, 2, n, n]: column then row, from -1 to +1, computed exactly as the managed engine does (float arithmetic on the host).</summary>
    public static Tensor Coordinates(long batch, int size, Device device)
    {
        var plane = size * size;
        var values = new float[2 * plane];
        for (var y = 0; y < size; y++)
        {
            for (var x = 0; x < size; x++)
            {
                values[y * size + x] = size == 1 ? 0f : -1f + 2f * x / (size - 1);
                values[plane + y * size + x] = size == 1 ? 0f : -1f + 2f * y / (size - 1);
            }
        }

        return tensor(values, [1, 2, size, size], device: device).expand(batch, 2, size, size);
    }
}

/// <summary>Transformer question encoder with a masked mean over real tokens (see <see cref="Model.QuestionEncoder"/>).</summary>
public sealed class TorchQuestionEncoder : nn.Module
{
    private readonly Embedding tokenEmbedding, positionEmbedding;
    private readonly List<TorchTransformerLayer> layers = [];
    private readonly LayerNorm norm;

    /// <summary>Creates the layers.</summary>
    public TorchQuestionEncoder(TinyVlmConfig c)
        : base("question")
    {
        tokenEmbedding = nn.Embedding(c.TokenCount, c.ModelWidth);
        positionEmbedding = nn.Embedding(c.MaxTokens, c.ModelWidth);
        register_module("token_embedding", tokenEmbedding);
        register_module("position_embedding", positionEmbedding);
        for (var i = 0; i < c.Layers; i++)
        {
            var layer = new TorchTransformerLayer(c);
            layers.Add(layer);
            register_module($"layer{i}", layer);
        }

        norm = nn.LayerNorm(c.ModelWidth, eps: TinyVlmConfig.LayerNormEps);
        register_module("norm", norm);
    }

    /// <summary>Token ids [P, L] (int64) and mask [P, L] (bool) -> [P, D].</summary>
    public Tensor Forward(Tensor tokens, Tensor valid)
    {
        var length = tokens.shape[1];
        var x = tokenEmbedding.forward(tokens) + positionEmbedding.forward(arange(length, dtype: ScalarType.Int64, device: tokens.device));
        foreach (var layer in layers) x = layer.Forward(x, valid);
        x = norm.forward(x);
        var mask = valid.to_type(ScalarType.Float32);
        return (x * mask.unsqueeze(-1)).sum(1) * (1.0f / mask.sum(1).clamp_min(1)).unsqueeze(-1);
    }
}

/// <summary>Multi-head self-attention with a key mask.</summary>
public sealed class TorchAttention : nn.Module
{
    private readonly Linear query, key, value, output;
    private readonly int heads;

    /// <summary>Creates the projections.</summary>
    public TorchAttention(int width, int heads)
        : base("attention")
    {
        this.heads = heads;
        query = nn.Linear(width, width);
        key = nn.Linear(width, width);
        value = nn.Linear(width, width);
        output = nn.Linear(width, width);
        register_module("q_proj", query);
        register_module("k_proj", key);
        register_module("v_proj", value);
        register_module("out_proj", output);
    }

    /// <summary>[P, T, D] with mask [P, T] -> [P, T, D]; padding keys are never attended.</summary>
    public Tensor Forward(Tensor x, Tensor valid)
    {
        long p = x.shape[0], t = x.shape[1], d = x.shape[2], dh = d / heads;
        Tensor Split(Tensor y) => y.view(p, t, heads, dh).transpose(1, 2);
        var q = Split(query.forward(x));
        var k = Split(key.forward(x));
        var v = Split(value.forward(x));
        var scores = q.matmul(k.transpose(-1, -2)) / MathF.Sqrt(dh);
        scores = scores.masked_fill(valid.logical_not().unsqueeze(1).unsqueeze(1), float.NegativeInfinity);
        var attended = scores.softmax(-1).matmul(v);
        return output.forward(attended.transpose(1, 2).reshape(p, t, d));
    }
}

/// <summary>Pre-norm transformer layer with exact GELU.</summary>
public sealed class TorchTransformerLayer : nn.Module
{
    private readonly LayerNorm norm1, norm2;
    private readonly TorchAttention attention;
    private readonly Linear ff1, ff2;

    /// <summary>Creates the layer.</summary>
    public TorchTransformerLayer(TinyVlmConfig c)
        : base("layer")
    {
        norm1 = nn.LayerNorm(c.ModelWidth, eps: TinyVlmConfig.LayerNormEps);
        attention = new TorchAttention(c.ModelWidth, c.Heads);
        norm2 = nn.LayerNorm(c.ModelWidth, eps: TinyVlmConfig.LayerNormEps);
        ff1 = nn.Linear(c.ModelWidth, c.FeedForward);
        ff2 = nn.Linear(c.FeedForward, c.ModelWidth);
        register_module("norm1", norm1);
        register_module("attention", attention);
        register_module("norm2", norm2);
        register_module("ff1", ff1);
        register_module("ff2", ff2);
    }

    /// <summary>[P, L, D] -> [P, L, D].</summary>
    public Tensor Forward(Tensor x, Tensor valid)
    {
        x = x + attention.Forward(norm1.forward(x), valid);
        return x + ff2.forward(F.gelu(ff1.forward(norm2.forward(x))));
    }
}

/// <summary>FiLM fusion (see <see cref="Model.FilmFusion"/>).</summary>
public sealed class TorchFilmFusion : nn.Module
{
    private readonly Conv2d conv, mix;
    private readonly Linear gamma, beta;
    private readonly BatchNorm2d bn;

    /// <summary>Creates the layers.</summary>
    public TorchFilmFusion(TinyVlmConfig c, int channels)
        : base("fusion")
    {
        conv = nn.Conv2d(channels, c.FusionChannels, 3, stride: 1, padding: 1);
        gamma = nn.Linear(c.ModelWidth, c.FusionChannels);
        beta = nn.Linear(c.ModelWidth, c.FusionChannels);
        bn = nn.BatchNorm2d(c.FusionChannels, eps: TinyVlmConfig.LayerNormEps, momentum: 0.1);
        mix = nn.Conv2d(c.FusionChannels, c.FusionChannels, 1);
        register_module("conv", conv);
        register_module("gamma", gamma);
        register_module("beta", beta);
        register_module("bn", bn);
        register_module("mix", mix);
    }

    /// <summary>Grids [B, C, F, F], questions [P, D] -> cells [P, F*F, CF] and their sum over cells / F [P, CF].</summary>
    public (Tensor Cells, Tensor Pooled) Forward(Tensor grid, Tensor? imageOfQuestion, Tensor q)
    {
        // The convolution does not depend on the question: once per image, then gathered per question.
        var h = bn.forward(conv.forward(grid));
        if (imageOfQuestion is not null) h = h.index_select(0, imageOfQuestion);
        var g = (gamma.forward(q) + 1f).unsqueeze(-1).unsqueeze(-1);
        var b = beta.forward(q).unsqueeze(-1).unsqueeze(-1);
        var modulated = F.relu(mix.forward(F.relu(h * g + b))).flatten(2); // [P, CF, F*F]
        return (modulated.transpose(1, 2), modulated.sum(2) * (1f / grid.shape[2]));
    }
}

/// <summary>Question-made query slots attending over the fused grid (see <see cref="Model.GridReader"/>).</summary>
public sealed class TorchGridReader : nn.Module
{
    private readonly LayerNorm cellNorm;
    private readonly Linear query, key, value, output;
    private readonly int heads, slots;

    /// <summary>Creates the layers.</summary>
    public TorchGridReader(TinyVlmConfig c)
        : base("reader")
    {
        heads = c.Heads;
        slots = c.ReaderSlots;
        cellNorm = nn.LayerNorm(c.FusionChannels, eps: TinyVlmConfig.LayerNormEps);
        query = nn.Linear(c.ModelWidth, c.ReaderSlots * c.ModelWidth);
        key = nn.Linear(c.FusionChannels, c.ModelWidth);
        value = nn.Linear(c.FusionChannels, c.ModelWidth);
        output = nn.Linear(c.ModelWidth, c.ModelWidth);
        register_module("cell_norm", cellNorm);
        register_module("q_proj", query);
        register_module("k_proj", key);
        register_module("v_proj", value);
        register_module("out_proj", output);
    }

    /// <summary>question [P, D], cells [P, N, CF] -> [P, slots * D].</summary>
    public Tensor Forward(Tensor question, Tensor cells)
    {
        long p = question.shape[0], d = question.shape[1], n = cells.shape[1], dh = d / heads;
        var memory = cellNorm.forward(cells);
        var q = query.forward(question).view(p, slots, heads, dh).transpose(1, 2);
        var k = key.forward(memory).view(p, n, heads, dh).transpose(1, 2);
        var v = value.forward(memory).view(p, n, heads, dh).transpose(1, 2);
        var attended = (q.matmul(k.transpose(-1, -2)) / MathF.Sqrt(dh)).softmax(-1).matmul(v);
        return output.forward(attended.transpose(1, 2).reshape(p, slots, d)).reshape(p, slots * d);
    }
}

/// <summary>MLP answer head.</summary>
public sealed class TorchAnswerHead : nn.Module<Tensor, Tensor>
{
    private readonly Linear hidden, output;

    /// <summary>Creates the layers.</summary>
    public TorchAnswerHead(TinyVlmConfig c)
        : base("head")
    {
        hidden = nn.Linear(c.FusionChannels + (c.ReaderSlots + 1) * c.ModelWidth, c.HeadHidden);
        output = nn.Linear(c.HeadHidden, c.AnswerCount);
        register_module("hidden", hidden);
        register_module("output", output);
    }

    /// <summary>[P, features] -> logits [P, answers].</summary>
    public override Tensor forward(Tensor features) => output.forward(F.relu(hidden.forward(features)));
}

/// <summary>The training-only scene probe (see <see cref="Training.SceneProbe"/>): per-cell shape, colour and size heads.</summary>
public sealed class TorchSceneProbe : nn.Module
{
    private readonly Linear shape, color, size;

    /// <summary>Creates the heads over <paramref name="channels"/> features per cell.</summary>
    public TorchSceneProbe(int channels)
        : base("probe")
    {
        shape = nn.Linear(channels, Training.SceneTargets.ShapeClasses);
        color = nn.Linear(channels, Training.SceneTargets.ColorClasses);
        size = nn.Linear(channels, Training.SceneTargets.SizeClasses);
        register_module("shape", shape);
        register_module("color", color);
        register_module("size", size);
    }

    /// <summary>Sum of the three mean cross-entropies of the grid [B, C, F, F] against per-cell targets (int64, -100 ignored).</summary>
    public Tensor Loss(Tensor features, Tensor shapes, Tensor colors, Tensor sizes)
    {
        long batch = features.shape[0], channels = features.shape[1], cells = features.shape[2] * features.shape[3];
        var rows = features.reshape(batch, channels, cells).transpose(1, 2).reshape(batch * cells, channels);
        return F.cross_entropy(shape.forward(rows), shapes, ignore_index: Training.SceneTargets.Ignored)
            + F.cross_entropy(color.forward(rows), colors, ignore_index: Training.SceneTargets.Ignored)
            + F.cross_entropy(size.forward(rows), sizes, ignore_index: Training.SceneTargets.Ignored);
    }
}
