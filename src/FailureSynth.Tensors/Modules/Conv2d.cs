namespace FailureSynth.Tensors;

/// <summary>2-D convolution layer over NCHW images, initialised like PyTorch's nn.Conv2d.</summary>
public sealed class Conv2d : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer; weight [out, in, k, k] and bias [out] are drawn from U(-1/sqrt(in*k*k), +) in that order.</summary>
    public Conv2d(ComputeContext context, int inChannels, int outChannels, int kernelSize, SplitMix64 rng, int stride = 1, int padding = 0, bool bias = true)
        : base(context)
    {
        if (inChannels < 1 || outChannels < 1 || kernelSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(kernelSize), $"Conv2d needs positive channel counts and kernel size, got in={inChannels}, out={outChannels}, kernel={kernelSize}.");
        }

        Stride = stride;
        Padding = padding;
        var bound = 1f / MathF.Sqrt(inChannels * kernelSize * kernelSize);
        Weight = RegisterParameter("weight", context.RandomUniform(rng, -bound, bound, outChannels, inChannels, kernelSize, kernelSize));
        Bias = bias ? RegisterParameter("bias", context.RandomUniform(rng, -bound, bound, outChannels)) : null;
    }

    /// <summary>Step between windows.</summary>
    public int Stride { get; }

    /// <summary>Zero padding on each side.</summary>
    public int Padding { get; }

    /// <summary>[out, in, k, k].</summary>
    public Tensor Weight { get; }

    /// <summary>[out], or null without bias.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => input.Conv2d(Weight, Bias, Stride, Padding);
}
