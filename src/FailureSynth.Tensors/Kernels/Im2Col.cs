namespace FailureSynth.Tensors;

/// <summary>Geometry of a 2-D convolution or pooling window over one NCHW image.</summary>
internal readonly record struct ConvGeometry(int Channels, int Height, int Width, int KernelH, int KernelW, int Stride, int Padding)
{
    public int OutHeight => (Height + 2 * Padding - KernelH) / Stride + 1;

    public int OutWidth => (Width + 2 * Padding - KernelW) / Stride + 1;

    public int ColumnRows => Channels * KernelH * KernelW;

    public int ColumnCols => OutHeight * OutWidth;

    /// <summary>True when the image itself is its column matrix (1x1 kernel, stride 1, no padding).</summary>
    public bool IsPointwise => KernelH == 1 && KernelW == 1 && Stride == 1 && Padding == 0;
}

/// <summary>im2col and col2im for one image: [C, H, W] &lt;-&gt; columns [C*kh*kw, Ho*Wo].</summary>
internal static class Im2Col
{
    /// <summary>Writes the column matrix of <paramref name="image"/>: row (c, ki, kj), column (oh, ow); padding reads as zero.</summary>
    public static void Expand(in ConvGeometry g, ReadOnlySpan<float> image, Span<float> columns)
    {
        int outH = g.OutHeight, outW = g.OutWidth, plane = g.Height * g.Width;
        var row = 0;
        for (var c = 0; c < g.Channels; c++)
        {
            var channel = image.Slice(c * plane, plane);
            for (var ki = 0; ki < g.KernelH; ki++)
            {
                for (var kj = 0; kj < g.KernelW; kj++, row++)
                {
                    var dst = columns.Slice(row * outH * outW, outH * outW);
                    // Output columns ow whose input column iw = ow*s - p + kj lies inside the image.
                    var (first, last) = ValidRange(outW, g.Stride, kj - g.Padding, g.Width);
                    for (var oh = 0; oh < outH; oh++)
                    {
                        var ih = oh * g.Stride - g.Padding + ki;
                        var dstRow = dst.Slice(oh * outW, outW);
                        if ((uint)ih >= (uint)g.Height || first >= last)
                        {
                            dstRow.Clear();
                            continue;
                        }

                        dstRow[..first].Clear();
                        dstRow[last..].Clear();
                        var src = channel.Slice(ih * g.Width);
                        var iw = first * g.Stride - g.Padding + kj;
                        if (g.Stride == 1)
                        {
                            src.Slice(iw, last - first).CopyTo(dstRow[first..last]);
                        }
                        else
                        {
                            for (var ow = first; ow < last; ow++, iw += g.Stride)
                            {
                                dstRow[ow] = src[iw];
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Adds the column matrix back onto the image it was expanded from (the adjoint of <see cref="Expand"/>).</summary>
    public static void AccumulateBack(in ConvGeometry g, ReadOnlySpan<float> columns, Span<float> image)
    {
        int outH = g.OutHeight, outW = g.OutWidth, plane = g.Height * g.Width;
        var row = 0;
        for (var c = 0; c < g.Channels; c++)
        {
            var channel = image.Slice(c * plane, plane);
            for (var ki = 0; ki < g.KernelH; ki++)
            {
                for (var kj = 0; kj < g.KernelW; kj++, row++)
                {
                    var src = columns.Slice(row * outH * outW, outH * outW);
                    var (first, last) = ValidRange(outW, g.Stride, kj - g.Padding, g.Width);
                    if (first >= last)
                    {
                        continue;
                    }

                    for (var oh = 0; oh < outH; oh++)
                    {
                        var ih = oh * g.Stride - g.Padding + ki;
                        if ((uint)ih >= (uint)g.Height)
                        {
                            continue;
                        }

                        var srcRow = src.Slice(oh * outW, outW);
                        var dst = channel.Slice(ih * g.Width);
                        var iw = first * g.Stride - g.Padding + kj;
                        if (g.Stride == 1)
                        {
                            var d = dst.Slice(iw, last - first);
                            System.Numerics.Tensors.TensorPrimitives.Add(d, srcRow[first..last], d);
                        }
                        else
                        {
                            for (var ow = first; ow < last; ow++, iw += g.Stride)
                            {
                                dst[iw] += srcRow[ow];
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>The half-open range of output positions o in [0, outSize) with 0 &lt;= o*stride + shift &lt; inSize.</summary>
    public static (int First, int Last) ValidRange(int outSize, int stride, int shift, int inSize)
    {
        var first = shift >= 0 ? 0 : (-shift + stride - 1) / stride;
        var last = inSize - shift <= 0 ? 0 : Math.Min(outSize, (inSize - shift - 1) / stride + 1);
        return (Math.Min(first, outSize), Math.Max(Math.Min(first, outSize), last));
    }
}
