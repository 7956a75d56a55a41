namespace FailureSynth.Tensors;

/// <summary>Lookup table of learnable vectors indexed by token id, initialised N(0, 1) like PyTorch's nn.Embedding.</summary>
public sealed class Embedding : Module
{
    /// <summary>Creates a [vocabulary, dim] table.</summary>
    public Embedding(ComputeContext context, int vocabularySize, int dim, SplitMix64 rng)
        : base(context)
    {
        if (vocabularySize < 1 || dim < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(vocabularySize), $"Embedding needs a positive vocabulary size and width, got {vocabularySize} x {dim}.");
        }

        Weight = RegisterParameter("weight", context.RandomNormal(rng, 0f, 1f, vocabularySize, dim));
    }

    /// <summary>[vocabulary, dim].</summary>
    public Tensor Weight { get; }

    /// <summary>Vectors for <paramref name="ids"/>: [..shape] -> [..shape, dim] (shape defaults to [ids.Length]).</summary>
    public Tensor Forward(ReadOnlySpan<int> ids, params int[] shape) => Tensor.Embedding(Weight, ids, shape);
}
