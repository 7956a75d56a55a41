namespace FailureSynth.Tensors;

/// <summary>Layer normalisation over the last axis with learnable scale (ones) and shift (zeros).</summary>
public sealed class LayerNorm : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer for inputs whose last axis has <paramref name="features"/> elements.</summary>
    public LayerNorm(ComputeContext context, int features, float eps = 1e-5f, bool elementwiseAffine = true)
        : base(context)
    {
        Eps = eps;
        Weight = elementwiseAffine ? RegisterParameter("weight", context.Ones(features)) : null;
        Bias = elementwiseAffine ? RegisterParameter("bias", context.Zeros(features)) : null;
    }

    /// <summary>Added to the variance before the square root.</summary>
    public float Eps { get; }

    /// <summary>[features] scale, or null without affine transform.</summary>
    public Tensor? Weight { get; }

    /// <summary>[features] shift, or null without affine transform.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => input.LayerNorm(Weight, Bias, Eps);
}

/// <summary>Batch normalisation over the channels of NCHW tensors, with running statistics saved as buffers.</summary>
public sealed class BatchNorm2d : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer for <paramref name="channels"/> channels (PyTorch defaults: momentum 0.1, eps 1e-5).</summary>
    public BatchNorm2d(ComputeContext context, int channels, float momentum = 0.1f, float eps = 1e-5f)
        : base(context)
    {
        Momentum = momentum;
        Eps = eps;
        Weight = RegisterParameter("weight", context.Ones(channels));
        Bias = RegisterParameter("bias", context.Zeros(channels));
        RunningMean = RegisterBuffer("running_mean", context.Zeros(channels));
        RunningVar = RegisterBuffer("running_var", context.Ones(channels));
    }

    /// <summary>Weight of the newest batch in the running statistics.</summary>
    public float Momentum { get; }

    /// <summary>Added to the variance before the square root.</summary>
    public float Eps { get; }

    /// <summary>[C] scale.</summary>
    public Tensor Weight { get; }

    /// <summary>[C] shift.</summary>
    public Tensor Bias { get; }

    /// <summary>[C] running mean (buffer).</summary>
    public Tensor RunningMean { get; }

    /// <summary>[C] running unbiased variance (buffer).</summary>
    public Tensor RunningVar { get; }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => input.BatchNorm2d(Weight, Bias, RunningMean, RunningVar, Training, Momentum, Eps);
}
