namespace FailureSynth.Tensors;

/// <summary>Runs child modules one after another; children are named "0", "1", ... like PyTorch's nn.Sequential.</summary>
public sealed class Sequential : Module<Tensor, Tensor>
{
    private readonly List<Module<Tensor, Tensor>> layers = [];

    /// <summary>Creates the chain from <paramref name="modules"/> in order.</summary>
    public Sequential(ComputeContext context, params Module<Tensor, Tensor>[] modules)
        : base(context)
    {
        foreach (var module in modules)
        {
            layers.Add(RegisterModule(layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module));
        }
    }

    /// <summary>The chained modules.</summary>
    public IReadOnlyList<Module<Tensor, Tensor>> Layers => layers;

    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
    {
        var x = input;
        foreach (var layer in layers)
        {
            x = layer.Forward(x);
        }

        return x;
    }
}

/// <summary>ReLU as a module, for <see cref="Sequential"/>.</summary>
public sealed class Relu(ComputeContext context) : Module<Tensor, Tensor>(context)
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => input.Relu();
}

/// <summary>GELU as a module (exact erf form unless <paramref name="tanhApproximation"/>), for <see cref="Sequential"/>.</summary>
public sealed class Gelu(ComputeContext context, bool tanhApproximation = false) : Module<Tensor, Tensor>(context)
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => input.Gelu(tanhApproximation);
}

/// <summary>Max pooling as a module, for <see cref="Sequential"/>.</summary>
public sealed class MaxPool2d(ComputeContext context, int kernel, int? stride = null, int padding = 0) : Module<Tensor, Tensor>(context)
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => input.MaxPool2d(kernel, stride, padding);
}

/// <summary>Average pooling as a module, for <see cref="Sequential"/>.</summary>
public sealed class AvgPool2d(ComputeContext context, int kernel, int? stride = null, int padding = 0) : Module<Tensor, Tensor>(context)
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => input.AvgPool2d(kernel, stride, padding);
}

/// <summary>Flattens all axes from <paramref name="startDim"/> on: [B, C, H, W] -> [B, C*H*W].</summary>
public sealed class Flatten(ComputeContext context, int startDim = 1) : Module<Tensor, Tensor>(context)
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => input.Flatten(startDim);
}

/// <summary>
/// Dropout as a module: active only in training mode, where each call draws a fresh mask seed from its
/// own generator, so a run is reproducible from the generator's seed.
/// </summary>
public sealed class Dropout(ComputeContext context, float probability, SplitMix64 rng) : Module<Tensor, Tensor>(context)
{
    /// <summary>Probability of zeroing an element.</summary>
    public float Probability { get; } = probability is >= 0f and < 1f
        ? probability
        : throw new ArgumentOutOfRangeException(nameof(probability), probability, "Dropout probability must be in [0, 1).");

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) =>
        Training && Probability > 0f ? input.Dropout(Probability, rng.NextUInt64()) : input;
}
