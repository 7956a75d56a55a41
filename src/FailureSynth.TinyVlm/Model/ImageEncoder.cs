using FailureSynth.Tensors;

namespace FailureSynth.TinyVlm.Model;

/// <summary>
/// The CNN that turns an image into a grid of features: conv3x3 → BN → ReLU → maxpool 2 → conv3x3 stride 2 →
/// BN → ReLU → conv3x3 stride 2 → BN → ReLU, with two coordinate channels (CoordConv) appended at the input
/// and at the output grid so that later layers can tell left from right and top from bottom. Batch norm
/// keeps the small objects' signal from fading on the mostly blank canvas.
/// </summary>
public sealed class ImageEncoder : Module<Tensor, Tensor>
{
    private readonly TinyVlmConfig config;

    /// <summary>Creates the encoder's layers, drawing their initial weights from <paramref name="rng"/>.</summary>
    public ImageEncoder(ComputeContext context, TinyVlmConfig config, SplitMix64 rng)
        : base(context)
    {
        this.config = config;
        Conv1 = RegisterModule("conv1", new Conv2d(context, 3 + 2, config.Conv1Channels, 3, rng, stride: 1, padding: 1));
        Conv2 = RegisterModule("conv2", new Conv2d(context, config.Conv1Channels, config.Conv2Channels, 3, rng, stride: 2, padding: 1));
        Conv3 = RegisterModule("conv3", new Conv2d(context, config.Conv2Channels, config.Conv3Channels, 3, rng, stride: 2, padding: 1));
        Norm1 = RegisterModule("bn1", new BatchNorm2d(context, config.Conv1Channels));
        Norm2 = RegisterModule("bn2", new BatchNorm2d(context, config.Conv2Channels));
        Norm3 = RegisterModule("bn3", new BatchNorm2d(context, config.Conv3Channels));
    }

    /// <summary>Full-resolution convolution over RGB plus coordinates.</summary>
    public Conv2d Conv1 { get; }

    /// <summary>First stride-2 convolution.</summary>
    public Conv2d Conv2 { get; }

    /// <summary>Second stride-2 convolution, giving the feature grid.</summary>
    public Conv2d Conv3 { get; }

    /// <summary>Batch norm after the first convolution.</summary>
    public BatchNorm2d Norm1 { get; }

    /// <summary>Batch norm after the second convolution.</summary>
    public BatchNorm2d Norm2 { get; }

    /// <summary>Batch norm after the third convolution.</summary>
    public BatchNorm2d Norm3 { get; }

    /// <summary>Channels of the output: the last convolution's plus the two coordinates.</summary>
    public int OutputChannels => config.Conv3Channels + 2;

    /// <summary>Images [B, 3, S, S] (values in [-1, 1]) -> features [B, C3 + 2, S/8, S/8].</summary>
    public override Tensor Forward(Tensor images)
    {
        var batch = images.Size(0);
        // [B, 3, S, S] -> [B, 5, S, S]
        var x = Tensor.Concat([images, Coordinates(Context, batch, config.ImageSize)], 1);
        x = Norm1.Forward(Conv1.Forward(x)).Relu().MaxPool2d(2); // [B, C1, S/2, S/2]
        x = Norm2.Forward(Conv2.Forward(x)).Relu(); // [B, C2, S/4, S/4]
        x = Norm3.Forward(Conv3.Forward(x)).Relu(); // [B, C3, S/8, S/8]
        return Tensor.Concat([x, Coordinates(Context, batch, config.FeatureSize)], 1);
    }

    /// <summary>
    /// Two constant channels [B, 2, n, n]: channel 0 the column and channel 1 the row, each running
    /// linearly from -1 (left, top) to +1 (right, bottom).
    /// </summary>
    public static Tensor Coordinates(ComputeContext context, int batch, int size)
    {
        var plane = size * size;
        var values = new float[batch * 2 * plane];
        for (var y = 0; y < size; y++)
        {
            for (var x = 0; x < size; x++)
            {
                values[y * size + x] = size == 1 ? 0f : -1f + 2f * x / (size - 1);
                values[plane + y * size + x] = size == 1 ? 0f : -1f + 2f * y / (size - 1);
            }
        }

        for (var b = 1; b < batch; b++)
        {
            values.AsSpan(0, 2 * plane).CopyTo(values.AsSpan(b * 2 * plane, 2 * plane));
        }

        return context.FromArray(values, batch, 2, size, size);
    }
}
