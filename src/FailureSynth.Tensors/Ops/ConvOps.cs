using System.Buffers;
using System.Numerics.Tensors;

namespace FailureSynth.Tensors;

/// <summary>2-D convolution (NCHW) by im2col and GEMM, forward and backward.</summary>
public sealed partial class Tensor
{
    // Backward sums weight gradients over images in this many fixed groups (then in group order),
    // so the result does not depend on the thread count.
    private const int ConvGradientGroups = 16;

    /// <summary>
    /// Convolution of x [B, Cin, H, W] with weight [Cout, Cin, kh, kw] and optional bias [Cout]:
    /// -> [B, Cout, Ho, Wo], Ho = (H + 2*padding - kh) / stride + 1 (zero padding, cross-correlation as in PyTorch).
    /// </summary>
    public Tensor Conv2d(Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0)
    {
        if (Rank != 4 || weight.Rank != 4 || weight.shape[1] != shape[1])
        {
            throw new ArgumentException($"Conv2d: input must be [B, Cin, H, W] and weight [Cout, Cin, kh, kw] with the same Cin, got {ShapeText(shape)} and {ShapeText(weight.shape)}.");
        }

        if (stride < 1 || padding < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(stride), $"Conv2d: stride must be >= 1 and padding >= 0, got stride {stride}, padding {padding}.");
        }

        int batch = shape[0], cout = weight.shape[0];
        var geo = new ConvGeometry(shape[1], shape[2], shape[3], weight.shape[2], weight.shape[3], stride, padding);
        if (geo.OutHeight < 1 || geo.OutWidth < 1)
        {
            throw new ArgumentException($"Conv2d: a {geo.KernelH}x{geo.KernelW} kernel with padding {padding} does not fit input {ShapeText(shape)}.");
        }

        if (bias is not null && (bias.Rank != 1 || bias.shape[0] != cout))
        {
            throw new ArgumentException($"Conv2d: bias must be [{cout}], got {ShapeText(bias.shape)}.", nameof(bias));
        }

        var x = Contiguous();
        var w = weight.Contiguous();
        var b = bias?.Contiguous();
        int imageSize = geo.Channels * geo.Height * geo.Width, cols = geo.ColumnCols, depth = geo.ColumnRows;
        var y = NewLike([batch, cout, geo.OutHeight, geo.OutWidth]);
        var ctx = Context;
        var perImageParallel = batch >= ctx.Threads && ctx.Threads > 1;

        void ForwardImages(int start, int end, IGemm gemm)
        {
            var columns = geo.IsPointwise ? null : ArrayPool<float>.Shared.Rent(depth * cols);
            try
            {
                for (var i = start; i < end; i++)
                {
                    var image = x.storage.AsSpan(x.offset + i * imageSize, imageSize);
                    ReadOnlySpan<float> col = image;
                    if (columns is not null)
                    {
                        Im2Col.Expand(geo, image, columns);
                        col = columns.AsSpan(0, depth * cols);
                    }

                    var output = y.storage.AsSpan(i * cout * cols, cout * cols);
                    // [Cout, Cin*kh*kw] x [Cin*kh*kw, Ho*Wo] -> [Cout, Ho*Wo], straight into the output image.
                    if (b is not null && gemm is ManagedGemm managed)
                    {
                        managed.SgemmWithBias(false, false, cout, cols, depth, 1f, w.Data, depth, col, cols, b.Data, biasPerRow: true, output, cols);
                        continue;
                    }

                    if (b is not null)
                    {
                        for (var o = 0; o < cout; o++)
                        {
                            output.Slice(o * cols, cols).Fill(b.storage[b.offset + o]);
                        }
                    }

                    gemm.Sgemm(false, false, cout, cols, depth, 1f, w.Data, depth, col, cols, b is null ? 0f : 1f, output, cols);
                }
            }
            finally
            {
                if (columns is not null)
                {
                    ArrayPool<float>.Shared.Return(columns);
                }
            }
        }

        if (perImageParallel)
        {
            ctx.For(batch, 2L * cout * cols * depth, (start, end) => ForwardImages(start, end, ctx.SerialGemm));
        }
        else
        {
            ForwardImages(0, batch, ctx.Gemm);
        }

        Tensor[] inputs = b is null ? [x, w] : [x, w, b];
        y.Record(inputs, g =>
        {
            var groups = Math.Min(batch, ConvGradientGroups);
            var partialWeightGrads = w.RequiresGrad ? new float[groups][] : null;
            // A new input gradient is written image by image (a pointwise GEMM with beta 0, or zeroing
            // the image's slice right before col2im adds into it, while it is in cache).
            var overwriteX = false;
            var gx = x.RequiresGrad ? x.GradArrayForWrite(out overwriteX) : null;
            ctx.For(groups, 4L * cout * cols * depth * batch / groups, (startGroup, endGroup) =>
            {
                var columns = ArrayPool<float>.Shared.Rent(depth * cols);
                try
                {
                    for (var group = startGroup; group < endGroup; group++)
                    {
                        var firstImage = (int)((long)batch * group / groups);
                        var endImage = (int)((long)batch * (group + 1) / groups);
                        float[]? partial = null;
                        if (partialWeightGrads is not null)
                        {
                            partial = partialWeightGrads[group] = ArrayPool<float>.Shared.Rent(cout * depth);
                            Array.Clear(partial, 0, cout * depth);
                        }

                        for (var i = firstImage; i < endImage; i++)
                        {
                            ConvBackwardImage(geo, x, w, g, gx, overwriteX, partial, columns, i, ctx.SerialGemm);
                        }
                    }
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(columns);
                }
            });

            if (partialWeightGrads is not null)
            {
                // Group sums added in group order: the same result for any thread count.
                var size = cout * depth;
                w.AccumulateGrad(partialWeightGrads[0].AsSpan(0, size));
                var gw = w.GradBuffer();
                for (var group = 1; group < partialWeightGrads.Length; group++)
                {
                    TensorPrimitives.Add(gw, partialWeightGrads[group].AsSpan(0, size), gw);
                }

                foreach (var partial in partialWeightGrads)
                {
                    ArrayPool<float>.Shared.Return(partial);
                }
            }

            if (b is not null && b.RequiresGrad)
            {
                var gb = b.GradBuffer();
                for (var i = 0; i < batch; i++)
                {
                    for (var o = 0; o < cout; o++)
                    {
                        gb[o] += TensorPrimitives.Sum(g.AsSpan((i * cout + o) * cols, cols));
                    }
                }
            }
        });
        return y;
    }

    /// <summary>One image's share of the convolution backward: weight gradient into <paramref name="partialWeightGrad"/>, input gradient into <paramref name="gx"/>.</summary>
    private static void ConvBackwardImage(
        in ConvGeometry geo, Tensor x, Tensor w, float[] g, float[]? gx, bool overwriteX, float[]? partialWeightGrad,
        float[] columns, int image, IGemm gemm)
    {
        int cout = w.shape[0], cols = geo.ColumnCols, depth = geo.ColumnRows;
        var imageSize = geo.Channels * geo.Height * geo.Width;
        var gy = g.AsSpan(image * cout * cols, cout * cols);
        var input = x.storage.AsSpan(x.offset + image * imageSize, imageSize);
        if (partialWeightGrad is not null)
        {
            ReadOnlySpan<float> col = input;
            if (!geo.IsPointwise)
            {
                Im2Col.Expand(geo, input, columns);
                col = columns.AsSpan(0, depth * cols);
            }

            // dW [Cout, depth] += dY [Cout, cols] x col^T [cols, depth]
            gemm.Sgemm(false, true, cout, depth, cols, 1f, gy, cols, col, cols, 1f, partialWeightGrad, depth);
        }

        if (gx is not null)
        {
            var gxImage = gx.AsSpan(image * imageSize, imageSize);
            if (geo.IsPointwise)
            {
                // dX [Cin, HW] += W^T [Cin, Cout] x dY [Cout, HW]
                gemm.Sgemm(true, false, depth, cols, cout, 1f, w.Data, depth, gy, cols, overwriteX ? 0f : 1f, gxImage, cols);
            }
            else
            {
                var dcol = columns.AsSpan(0, depth * cols);
                gemm.Sgemm(true, false, depth, cols, cout, 1f, w.Data, depth, gy, cols, 0f, dcol, cols);
                if (overwriteX)
                {
                    gxImage.Clear();
                }

                Im2Col.AccumulateBack(geo, dcol, gxImage);
            }
        }
    }
}
