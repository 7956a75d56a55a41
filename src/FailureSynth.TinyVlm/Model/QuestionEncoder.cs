using FailureSynth.Tensors;

namespace FailureSynth.TinyVlm.Model;

/// <summary>Token ids of a batch of questions padded to one length, with the mask of real tokens.</summary>
/// <param name="TokenIds">[Count * Length] ids, padding id 0 after each question's tokens.</param>
/// <param name="Length">Tokens per row (the longest question of the batch).</param>
/// <param name="Valid">[Count * Length] flags, true on real tokens.</param>
public sealed record QuestionBatch(int[] TokenIds, int Length, bool[] Valid)
{
    /// <summary>Number of questions.</summary>
    public int Count => Length == 0 ? 0 : TokenIds.Length / Length;

    /// <summary>Pads <paramref name="questions"/> (token ids each) into one batch.</summary>
    public static QuestionBatch From(IReadOnlyList<int[]> questions)
    {
        var length = 1;
        foreach (var q in questions) length = Math.Max(length, q.Length);
        var ids = new int[questions.Count * length];
        var valid = new bool[questions.Count * length];
        for (var i = 0; i < questions.Count; i++)
        {
            questions[i].CopyTo(ids, i * length);
            valid.AsSpan(i * length, questions[i].Length).Fill(true);
        }

        return new QuestionBatch(ids, length, valid);
    }
}

/// <summary>
/// Encodes questions into one vector each: token plus learned position embeddings, pre-norm transformer
/// layers and a final layer norm give one state per token; the vector is their mean over the real
/// (non-padding) tokens.
/// </summary>
public sealed class QuestionEncoder : Module
{
    private readonly TinyVlmConfig config;
    private readonly List<TransformerLayer> layers = [];

    /// <summary>Creates the encoder's layers, drawing their initial weights from <paramref name="rng"/>.</summary>
    public QuestionEncoder(ComputeContext context, TinyVlmConfig config, SplitMix64 rng)
        : base(context)
    {
        this.config = config;
        TokenEmbedding = RegisterModule("token_embedding", new Embedding(context, config.TokenCount, config.ModelWidth, rng));
        PositionEmbedding = RegisterModule("position_embedding", new Embedding(context, config.MaxTokens, config.ModelWidth, rng));
        for (var i = 0; i < config.Layers; i++)
        {
            layers.Add(RegisterModule($"layer{i}", new TransformerLayer(context, config, rng)));
        }

        Norm = RegisterModule("norm", new LayerNorm(context, config.ModelWidth, TinyVlmConfig.LayerNormEps));
    }

    /// <summary>[tokens, width] token vectors.</summary>
    public Embedding TokenEmbedding { get; }

    /// <summary>[max tokens, width] position vectors.</summary>
    public Embedding PositionEmbedding { get; }

    /// <summary>The transformer layers, in order.</summary>
    public IReadOnlyList<TransformerLayer> Layers => layers;

    /// <summary>Final layer norm before pooling.</summary>
    public LayerNorm Norm { get; }

    /// <summary>Questions -> the mean of their token states over real tokens [P, width].</summary>
    public Tensor Forward(QuestionBatch questions, Func<Linear, Tensor, Tensor> project)
    {
        int count = questions.Count, length = questions.Length;
        var positions = new int[length];
        for (var i = 0; i < length; i++) positions[i] = i;
        // [P, L, D] + [L, D]
        var x = TokenEmbedding.Forward(questions.TokenIds, count, length) + PositionEmbedding.Forward(positions, length);
        foreach (var layer in layers)
        {
            x = layer.Forward(x, questions.Valid, project);
        }

        return MaskedMean(Norm.Forward(x), questions);
    }

    /// <summary>Mean of token states [P, L, D] over each question's real tokens -> [P, D].</summary>
    private static Tensor MaskedMean(Tensor x, QuestionBatch questions)
    {
        int count = questions.Count, length = questions.Length;
        var mask = new float[count * length];
        var inverseCounts = new float[count];
        for (var p = 0; p < count; p++)
        {
            var real = 0;
            for (var t = 0; t < length; t++)
            {
                if (!questions.Valid[p * length + t]) continue;
                mask[p * length + t] = 1f;
                real++;
            }

            inverseCounts[p] = 1f / Math.Max(1, real);
        }

        // [P, L, D] * [P, L, 1] summed over L -> [P, D], times 1 / real tokens
        var summed = (x * x.Context.FromArray(mask, count, length, 1)).Sum(1);
        return summed * x.Context.FromArray(inverseCounts, count, 1);
    }
}

/// <summary>One pre-norm transformer encoder layer: x + attention(norm(x)), then x + MLP(norm(x)) with exact GELU.</summary>
public sealed class TransformerLayer : Module
{
    private readonly int heads;

    /// <summary>Creates the layer, drawing its initial weights from <paramref name="rng"/>.</summary>
    public TransformerLayer(ComputeContext context, TinyVlmConfig config, SplitMix64 rng)
        : base(context)
    {
        heads = config.Heads;
        Norm1 = RegisterModule("norm1", new LayerNorm(context, config.ModelWidth, TinyVlmConfig.LayerNormEps));
        Attention = RegisterModule("attention", new MultiHeadAttention(context, config.ModelWidth, config.Heads, rng));
        Norm2 = RegisterModule("norm2", new LayerNorm(context, config.ModelWidth, TinyVlmConfig.LayerNormEps));
        FeedForward1 = RegisterModule("ff1", new Linear(context, config.ModelWidth, config.FeedForward, rng));
        FeedForward2 = RegisterModule("ff2", new Linear(context, config.FeedForward, config.ModelWidth, rng));
    }

    /// <summary>Norm before attention.</summary>
    public LayerNorm Norm1 { get; }

    /// <summary>Self-attention over the question's tokens.</summary>
    public MultiHeadAttention Attention { get; }

    /// <summary>Norm before the feed-forward block.</summary>
    public LayerNorm Norm2 { get; }

    /// <summary>Feed-forward expansion.</summary>
    public Linear FeedForward1 { get; }

    /// <summary>Feed-forward projection back to the model width.</summary>
    public Linear FeedForward2 { get; }

    /// <summary>[P, L, D] -> [P, L, D]; padding keys (valid = false) are never attended.</summary>
    public Tensor Forward(Tensor x, bool[] valid, Func<Linear, Tensor, Tensor> project)
    {
        var h = Norm1.Forward(x);
        var q = project(Attention.Query, h);
        var k = project(Attention.Key, h);
        var v = project(Attention.Value, h);
        x = x + project(Attention.Output, Tensor.Attention(q, k, v, heads, valid));
        var f = project(FeedForward2, project(FeedForward1, Norm2.Forward(x)).Gelu());
        return x + f;
    }
}
