using System.Runtime.Intrinsics;

namespace FailureSynth.Tensors;

/// <summary>2-D pooling over NCHW tensors: max, average and global average.</summary>
public sealed partial class Tensor
{
    /// <summary>
    /// Max pooling [B, C, H, W] -> [B, C, Ho, Wo] with a square window; stride defaults to the kernel
    /// size; padding counts as -infinity (PyTorch semantics, floor output size). Ties go to the first maximum.
    /// </summary>
    public Tensor MaxPool2d(int kernel, int? stride = null, int padding = 0)
    {
        var (x, geo) = PoolSetup("MaxPool2d", kernel, stride, padding);
        int planes = shape[0] * shape[1], inPlane = geo.Height * geo.Width, outH = geo.OutHeight, outW = geo.OutWidth, outPlane = outH * outW;
        var y = NewLike([shape[0], shape[1], outH, outW]);
        Context.For(planes, (long)inPlane * kernel, (start, end) =>
        {
            var arg = new int[outPlane];
            for (var p = start; p < end; p++)
            {
                MaxPoolPlane(x.storage.AsSpan(x.offset + p * inPlane, inPlane), geo, y.storage.AsSpan(p * outPlane, outPlane), arg);
            }
        });
        y.Record([x], g =>
        {
            var gx = x.GradArrayForWrite(out var overwrite);
            // The winners are found again rather than stored: no per-output index array to keep alive.
            // Each plane belongs to one worker, so overlapping windows add in a fixed order.
            Context.For(planes, (long)inPlane * kernel, (start, end) =>
            {
                var values = new float[outPlane];
                var arg = new int[outPlane];
                for (var p = start; p < end; p++)
                {
                    MaxPoolPlane(x.storage.AsSpan(x.offset + p * inPlane, inPlane), geo, values, arg);
                    var gxPlane = gx.AsSpan(p * inPlane, inPlane);
                    var gPlane = g.AsSpan(p * outPlane, outPlane);
                    if (overwrite)
                    {
                        gxPlane.Clear();
                    }

                    for (var o = 0; o < outPlane; o++)
                    {
                        if (arg[o] >= 0)
                        {
                            gxPlane[arg[o]] += gPlane[o];
                        }
                    }
                }
            });
        });
        return y;
    }

    /// <summary>Max and first arg-max (index in the plane, -1 if the window is all padding) of every window of one plane.</summary>
    private static void MaxPoolPlane(ReadOnlySpan<float> src, in ConvGeometry geo, Span<float> dst, Span<int> arg)
    {
        int outH = geo.OutHeight, outW = geo.OutWidth, kernel = geo.KernelH;
        if (kernel == 2 && geo.Stride == 2 && geo.Padding == 0)
        {
            MaxPool2x2(src, geo.Width, outH, outW, dst, arg);
            return;
        }

        for (var oh = 0; oh < outH; oh++)
        {
            var top = oh * geo.Stride - geo.Padding;
            for (var ow = 0; ow < outW; ow++)
            {
                var left = ow * geo.Stride - geo.Padding;
                var (bestAt, best) = top >= 0 && left >= 0 && top + kernel <= geo.Height && left + kernel <= geo.Width
                    ? WindowMax(src, top * geo.Width + left, kernel, geo.Width)
                    : ClippedWindowMax(src, geo, top, left);
                dst[oh * outW + ow] = best;
                arg[oh * outW + ow] = bestAt;
            }
        }
    }

    /// <summary>
    /// Average pooling [B, C, H, W] -> [B, C, Ho, Wo] with a square window; stride defaults to the kernel
    /// size; zero padding is counted in the average (PyTorch's count_include_pad=True default).
    /// </summary>
    public Tensor AvgPool2d(int kernel, int? stride = null, int padding = 0)
    {
        var (x, geo) = PoolSetup("AvgPool2d", kernel, stride, padding);
        int planes = shape[0] * shape[1], inPlane = geo.Height * geo.Width, outH = geo.OutHeight, outW = geo.OutWidth, outPlane = outH * outW;
        var scale = 1f / (kernel * kernel);
        var y = NewLike([shape[0], shape[1], outH, outW]);
        Context.For(planes, (long)inPlane * kernel, (start, end) =>
        {
            for (var p = start; p < end; p++)
            {
                var src = x.storage.AsSpan(x.offset + p * inPlane, inPlane);
                for (var oh = 0; oh < outH; oh++)
                {
                    for (var ow = 0; ow < outW; ow++)
                    {
                        var sum = 0f;
                        var (rowStart, rowEnd, colStart, colEnd) = WindowInside(geo, oh, ow);
                        for (var ih = rowStart; ih < rowEnd; ih++)
                        {
                            for (var iw = colStart; iw < colEnd; iw++)
                            {
                                sum += src[ih * geo.Width + iw];
                            }
                        }

                        y.storage[p * outPlane + oh * outW + ow] = sum * scale;
                    }
                }
            }
        });
        y.Record([x], g =>
        {
            var gx = x.GradArray();
            Context.For(planes, outPlane * (long)kernel * kernel, (start, end) =>
            {
                for (var p = start; p < end; p++)
                {
                    var dst = gx.AsSpan(p * inPlane, inPlane);
                    for (var oh = 0; oh < outH; oh++)
                    {
                        for (var ow = 0; ow < outW; ow++)
                        {
                            var share = g[p * outPlane + oh * outW + ow] * scale;
                            var (rowStart, rowEnd, colStart, colEnd) = WindowInside(geo, oh, ow);
                            for (var ih = rowStart; ih < rowEnd; ih++)
                            {
                                for (var iw = colStart; iw < colEnd; iw++)
                                {
                                    dst[ih * geo.Width + iw] += share;
                                }
                            }
                        }
                    }
                }
            });
        });
        return y;
    }

    /// <summary>Global average pooling [B, C, H, W] -> [B, C].</summary>
    public Tensor GlobalAvgPool2d()
    {
        if (Rank != 4)
        {
            throw new ArgumentException($"GlobalAvgPool2d needs an NCHW tensor, got {ShapeText(shape)}.");
        }

        return Reshape(shape[0], shape[1], shape[2] * shape[3]).Mean(2);
    }

    private (Tensor X, ConvGeometry Geometry) PoolSetup(string operation, int kernel, int? stride, int padding)
    {
        if (Rank != 4)
        {
            throw new ArgumentException($"{operation} needs an NCHW tensor [B, C, H, W], got {ShapeText(shape)}.");
        }

        var step = stride ?? kernel;
        if (kernel < 1 || step < 1 || padding < 0 || padding * 2 > kernel)
        {
            throw new ArgumentOutOfRangeException(nameof(kernel), $"{operation}: kernel and stride must be >= 1 and padding in [0, kernel/2], got kernel {kernel}, stride {step}, padding {padding}.");
        }

        var geo = new ConvGeometry(shape[1], shape[2], shape[3], kernel, kernel, step, padding);
        if (geo.OutHeight < 1 || geo.OutWidth < 1)
        {
            throw new ArgumentException($"{operation}: a {kernel}x{kernel} window does not fit input {ShapeText(shape)} with padding {padding}.");
        }

        return (Contiguous(), geo);
    }

    /// <summary>
    /// The common 2x2, stride-2 window, eight outputs at a time with SIMD comparisons (scalar branches
    /// on random data would mispredict half the time). Strict comparisons keep the first maximum.
    /// </summary>
    private static void MaxPool2x2(ReadOnlySpan<float> plane, int width, int outH, int outW, Span<float> dst, Span<int> arg)
    {
        var vectorised = Vector256.IsHardwareAccelerated ? outW / 8 * 8 : 0;
        var deinterleave = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
        var lanes = Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14);
        for (var oh = 0; oh < outH; oh++)
        {
            var top = plane.Slice(2 * oh * width, width);
            var bottom = plane.Slice((2 * oh + 1) * width, width);
            var topAt = 2 * oh * width;
            var outRow = dst.Slice(oh * outW, outW);
            var argRow = arg.Slice(oh * outW, outW);
            for (var ow = 0; ow < vectorised; ow += 8)
            {
                // Split 16 consecutive inputs of each row into even (left) and odd (right) window columns.
                var t0 = Vector256.Shuffle(Vector256.Create(top.Slice(2 * ow, 8)), deinterleave);
                var t1 = Vector256.Shuffle(Vector256.Create(top.Slice(2 * ow + 8, 8)), deinterleave);
                var b0 = Vector256.Shuffle(Vector256.Create(bottom.Slice(2 * ow, 8)), deinterleave);
                var b1 = Vector256.Shuffle(Vector256.Create(bottom.Slice(2 * ow + 8, 8)), deinterleave);
                var a = Vector256.Create(t0.GetLower(), t1.GetLower());
                var b = Vector256.Create(t0.GetUpper(), t1.GetUpper());
                var c = Vector256.Create(b0.GetLower(), b1.GetLower());
                var d = Vector256.Create(b0.GetUpper(), b1.GetUpper());
                var rightTop = Vector256.GreaterThan(b, a);
                var upper = Vector256.ConditionalSelect(rightTop, b, a);
                var upperAt = Vector256.ConditionalSelect(rightTop.AsInt32(), Vector256<int>.One, Vector256<int>.Zero);
                var rightBottom = Vector256.GreaterThan(d, c);
                var lower = Vector256.ConditionalSelect(rightBottom, d, c);
                var lowerAt = Vector256.ConditionalSelect(rightBottom.AsInt32(), Vector256.Create(width + 1), Vector256.Create(width));
                var lowerWins = Vector256.GreaterThan(lower, upper);
                Vector256.ConditionalSelect(lowerWins, lower, upper).CopyTo(outRow.Slice(ow, 8));
                var at = Vector256.ConditionalSelect(lowerWins.AsInt32(), lowerAt, upperAt) + lanes + Vector256.Create(topAt + 2 * ow);
                at.CopyTo(argRow.Slice(ow, 8));
            }

            for (var ow = vectorised; ow < outRow.Length; ow++)
            {
                float a = top[2 * ow], b = top[2 * ow + 1], c = bottom[2 * ow], d = bottom[2 * ow + 1];
                var upper = b > a ? b : a;
                var upperAt = b > a ? 1 : 0;
                var lower = d > c ? d : c;
                var lowerAt = d > c ? width + 1 : width;
                var lowerWins = lower > upper;
                outRow[ow] = lowerWins ? lower : upper;
                argRow[ow] = topAt + 2 * ow + (lowerWins ? lowerAt : upperAt);
            }
        }
    }

    /// <summary>Position and value of the first maximum of a window that lies inside the image.</summary>
    private static (int At, float Value) WindowMax(ReadOnlySpan<float> plane, int corner, int kernel, int width)
    {
        var bestAt = corner;
        var best = plane[corner];
        for (var ki = 0; ki < kernel; ki++)
        {
            var row = plane.Slice(corner + ki * width, kernel);
            for (var kj = 0; kj < row.Length; kj++)
            {
                if (row[kj] > best)
                {
                    best = row[kj];
                    bestAt = corner + ki * width + kj;
                }
            }
        }

        return (bestAt, best);
    }

    /// <summary>Position and value of the first maximum of the part of a window inside the image (padding counts as -infinity).</summary>
    private static (int At, float Value) ClippedWindowMax(ReadOnlySpan<float> plane, in ConvGeometry geo, int top, int left)
    {
        var bestAt = -1;
        var best = float.NegativeInfinity;
        for (var ih = Math.Max(0, top); ih < Math.Min(geo.Height, top + geo.KernelH); ih++)
        {
            for (var iw = Math.Max(0, left); iw < Math.Min(geo.Width, left + geo.KernelW); iw++)
            {
                if (bestAt < 0 || plane[ih * geo.Width + iw] > best)
                {
                    best = plane[ih * geo.Width + iw];
                    bestAt = ih * geo.Width + iw;
                }
            }
        }

        return (bestAt, best);
    }

    /// <summary>The input rows [rowStart, rowEnd) and columns [colStart, colEnd) that window (oh, ow) covers inside the image.</summary>
    private static (int RowStart, int RowEnd, int ColStart, int ColEnd) WindowInside(in ConvGeometry geo, int oh, int ow)
    {
        var top = oh * geo.Stride - geo.Padding;
        var left = ow * geo.Stride - geo.Padding;
        return (Math.Max(0, top), Math.Min(geo.Height, top + geo.KernelH), Math.Max(0, left), Math.Min(geo.Width, left + geo.KernelW));
    }
}
