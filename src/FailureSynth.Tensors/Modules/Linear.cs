namespace FailureSynth.Tensors;

/// <summary>Fully connected layer y = x W^T + b: [..., in] -> [..., out], initialised like PyTorch's nn.Linear.</summary>
public sealed class Linear : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer; weight and bias are drawn from U(-1/sqrt(in), 1/sqrt(in)) in that order.</summary>
    public Linear(ComputeContext context, int inFeatures, int outFeatures, SplitMix64 rng, bool bias = true)
        : base(context)
    {
        if (inFeatures < 1 || outFeatures < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(inFeatures), $"Linear needs positive sizes, got in={inFeatures}, out={outFeatures}.");
        }

        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        var bound = 1f / MathF.Sqrt(inFeatures);
        Weight = RegisterParameter("weight", context.RandomUniform(rng, -bound, bound, outFeatures, inFeatures));
        Bias = bias ? RegisterParameter("bias", context.RandomUniform(rng, -bound, bound, outFeatures)) : null;
    }

    /// <summary>Input width.</summary>
    public int InFeatures { get; }

    /// <summary>Output width.</summary>
    public int OutFeatures { get; }

    /// <summary>[out, in].</summary>
    public Tensor Weight { get; }

    /// <summary>[out], or null without bias.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => input.Linear(Weight, Bias);
}
