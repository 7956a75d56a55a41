using System.Numerics.Tensors;

namespace FailureSynth.Tensors;

/// <summary>Activation functions: ReLU, GELU (exact erf or tanh approximation), tanh and sigmoid.</summary>
public sealed partial class Tensor
{
    private const int ElementBlock = 16_384;

    private delegate void SpanMap(ReadOnlySpan<float> input, Span<float> output);

    private delegate void SpanBackward(ReadOnlySpan<float> saved, ReadOnlySpan<float> outputGrad, Span<float> inputGrad, bool overwrite);

    /// <summary>y = max(x, 0); the gradient at exactly 0 is 0, as in PyTorch.</summary>
    public Tensor Relu()
    {
        var x = Contiguous();
        var y = NewLike(shape);
        MapParallel(x, y, static (input, output) => TensorPrimitives.Max(input, 0f, output));
        y.Record([x], g => BackwardParallel(x, x.storage, x.offset, g, ActivationKernels.ReluBackward));
        return y;
    }

    /// <summary>
    /// GELU. By default the exact form x * Phi(x) with Phi the normal CDF via erf (PyTorch's nn.GELU()
    /// default); with <paramref name="tanhApproximation"/> the tanh form (PyTorch's approximate='tanh').
    /// </summary>
    public Tensor Gelu(bool tanhApproximation = false)
    {
        var x = Contiguous();
        var y = NewLike(shape);
        if (tanhApproximation)
        {
            MapParallel(x, y, static (input, output) => ActivationKernels.GeluTanh(input, output));
            y.Record([x], g => BackwardParallel(x, x.storage, x.offset, g, ActivationKernels.GeluTanhBackward));
        }
        else
        {
            MapParallel(x, y, static (input, output) => ActivationKernels.GeluErf(input, output));
            y.Record([x], g => BackwardParallel(x, x.storage, x.offset, g, ActivationKernels.GeluErfBackward));
        }

        return y;
    }

    /// <summary>y = tanh(x).</summary>
    public Tensor Tanh()
    {
        var x = Contiguous();
        var y = NewLike(shape);
        MapParallel(x, y, static (input, output) => TensorPrimitives.Tanh(input, output));
        y.Record([x], g => BackwardParallel(x, y.storage, 0, g, ActivationKernels.TanhBackward));
        return y;
    }

    /// <summary>y = 1 / (1 + exp(-x)).</summary>
    public Tensor Sigmoid()
    {
        var x = Contiguous();
        var y = NewLike(shape);
        MapParallel(x, y, static (input, output) => TensorPrimitives.Sigmoid(input, output));
        y.Record([x], g => BackwardParallel(x, y.storage, 0, g, ActivationKernels.SigmoidBackward));
        return y;
    }

    /// <summary>Applies an element-wise map in contiguous blocks, one block per worker at a time.</summary>
    private static void MapParallel(Tensor x, Tensor y, SpanMap map)
    {
        var count = x.ElementCount;
        var blocks = (count + ElementBlock - 1) / ElementBlock;
        x.Context.For(blocks, ElementBlock, (start, end) =>
        {
            var from = start * ElementBlock;
            var to = Math.Min(count, end * ElementBlock);
            map(x.storage.AsSpan(x.offset + from, to - from), y.storage.AsSpan(from, to - from));
        });
    }

    /// <summary>Runs an element-wise backward kernel over blocks, assigning into a new gradient or adding to an existing one.</summary>
    private static void BackwardParallel(Tensor x, float[] saved, int savedOffset, float[] g, SpanBackward kernel)
    {
        var gx = x.GradArrayForWrite(out var overwrite);
        var count = x.ElementCount;
        var blocks = (count + ElementBlock - 1) / ElementBlock;
        x.Context.For(blocks, ElementBlock, (start, end) =>
        {
            var from = start * ElementBlock;
            var length = Math.Min(count, end * ElementBlock) - from;
            kernel(saved.AsSpan(savedOffset + from, length), g.AsSpan(from, length), gx.AsSpan(from, length), overwrite);
        });
    }
}
