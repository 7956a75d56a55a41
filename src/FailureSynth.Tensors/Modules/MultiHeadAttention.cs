namespace FailureSynth.Tensors;

/// <summary>Multi-head attention block: query/key/value projections, fused scaled dot-product attention, output projection.</summary>
public sealed class MultiHeadAttention : Module
{
    /// <summary>Creates the block for width <paramref name="dModel"/> split into <paramref name="heads"/> heads.</summary>
    public MultiHeadAttention(ComputeContext context, int dModel, int heads, SplitMix64 rng)
        : base(context)
    {
        if (heads < 1 || dModel % heads != 0)
        {
            throw new ArgumentException($"MultiHeadAttention: {heads} heads do not divide the width {dModel}.", nameof(heads));
        }

        Heads = heads;
        Query = RegisterModule("q_proj", new Linear(context, dModel, dModel, rng));
        Key = RegisterModule("k_proj", new Linear(context, dModel, dModel, rng));
        Value = RegisterModule("v_proj", new Linear(context, dModel, dModel, rng));
        Output = RegisterModule("out_proj", new Linear(context, dModel, dModel, rng));
    }

    /// <summary>Number of heads.</summary>
    public int Heads { get; }

    /// <summary>Query projection.</summary>
    public Linear Query { get; }

    /// <summary>Key projection.</summary>
    public Linear Key { get; }

    /// <summary>Value projection.</summary>
    public Linear Value { get; }

    /// <summary>Output projection.</summary>
    public Linear Output { get; }

    /// <summary>Self-attention over x [B, T, D] -> [B, T, D]; see <see cref="Tensor.Attention"/> for the masks.</summary>
    public Tensor Forward(Tensor x, bool[]? keyMask = null, bool causal = false) => Forward(x, x, keyMask, causal);

    /// <summary>Cross-attention of queries [B, Tq, D] over memory [B, Tk, D] -> [B, Tq, D].</summary>
    public Tensor Forward(Tensor queries, Tensor memory, bool[]? keyMask, bool causal = false)
    {
        var q = Query.Forward(queries);
        var k = Key.Forward(memory);
        var v = Value.Forward(memory);
        return Output.Forward(Tensor.Attention(q, k, v, Heads, keyMask, causal));
    }
}
