using System.Numerics.Tensors;

namespace FailureSynth.Tensors;

/// <summary>Normalisation layers: layer norm over the last axis and 2-D batch norm over NCHW channels.</summary>
public sealed partial class Tensor
{
    // Layer-norm parameter gradients are summed over rows in this many fixed groups, then in group order.
    private const int NormGradientGroups = 16;

    /// <summary>
    /// Layer normalisation over the last axis: (x - mean) / sqrt(var + eps) * weight + bias, with the
    /// biased variance as in PyTorch; weight and bias [D] are optional (no affine transform when null).
    /// </summary>
    public Tensor LayerNorm(Tensor? weight, Tensor? bias, float eps = 1e-5f)
    {
        var x = Contiguous();
        var (rows, features) = x.RowsOfLastAxis("LayerNorm");
        foreach (var (p, name) in new[] { (weight, "weight"), (bias, "bias") })
        {
            if (p is not null && (p.Rank != 1 || p.shape[0] != features))
            {
                throw new ArgumentException($"LayerNorm: {name} must be [{features}] for input {ShapeText(shape)}, got {ShapeText(p.shape)}.");
            }
        }

        var w = weight?.Contiguous();
        var b = bias?.Contiguous();
        var mean = new float[rows];
        var rstd = new float[rows];
        var y = NewLike(shape);
        Context.For(rows, features * 4L, (start, end) =>
        {
            for (var r = start; r < end; r++)
            {
                var xr = x.storage.AsSpan(x.offset + r * features, features);
                var yr = y.storage.AsSpan(r * features, features);
                var mu = TensorPrimitives.Sum(xr) / features;
                // Two passes (centre, then square) keep the variance accurate for large means.
                TensorPrimitives.Subtract(xr, mu, yr);
                var variance = TensorPrimitives.SumOfSquares(yr) / features;
                var inv = 1f / MathF.Sqrt(variance + eps);
                mean[r] = mu;
                rstd[r] = inv;
                TensorPrimitives.Multiply(yr, inv, yr);
                if (w is not null)
                {
                    TensorPrimitives.Multiply(yr, w.Data, yr);
                }

                if (b is not null)
                {
                    TensorPrimitives.Add(yr, b.Data, yr);
                }
            }
        });

        Tensor[] inputs = [x, .. w is null ? Array.Empty<Tensor>() : [w], .. b is null ? Array.Empty<Tensor>() : [b]];
        y.Record(inputs, g =>
        {
            var groups = Math.Min(rows, NormGradientGroups);
            var gw = w is { RequiresGrad: true } ? new float[groups * features] : null;
            var gb = b is { RequiresGrad: true } ? new float[groups * features] : null;
            var overwriteX = false;
            var gx = x.RequiresGrad ? x.GradArrayForWrite(out overwriteX) : null;
            Context.For(groups, 8L * features * rows / groups, (startGroup, endGroup) =>
            {
                var xhat = new float[features];
                var dxhat = new float[features];
                for (var group = startGroup; group < endGroup; group++)
                {
                    for (var r = (int)((long)rows * group / groups); r < (int)((long)rows * (group + 1) / groups); r++)
                    {
                        var xr = x.storage.AsSpan(x.offset + r * features, features);
                        var gr = g.AsSpan(r * features, features);
                        TensorPrimitives.Subtract(xr, mean[r], xhat);
                        TensorPrimitives.Multiply(xhat, rstd[r], xhat);
                        if (gw is not null)
                        {
                            var acc = gw.AsSpan(group * features, features);
                            TensorPrimitives.MultiplyAdd(gr, xhat, acc, acc);
                        }

                        if (gb is not null)
                        {
                            var acc = gb.AsSpan(group * features, features);
                            TensorPrimitives.Add(acc, gr, acc);
                        }

                        if (gx is null)
                        {
                            continue;
                        }

                        // dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
                        if (w is not null)
                        {
                            TensorPrimitives.Multiply(gr, w.Data, dxhat);
                        }
                        else
                        {
                            gr.CopyTo(dxhat);
                        }

                        var meanD = TensorPrimitives.Sum(dxhat) / features;
                        var meanDx = TensorPrimitives.Dot(dxhat, xhat) / features;
                        var inv = rstd[r];
                        ElementwiseKernels.Combine(dxhat, inv, xhat, -inv * meanDx, -inv * meanD, gx.AsSpan(r * features, features), overwriteX);
                    }
                }
            });

            AddGroupSums(gw, w, groups, features);
            AddGroupSums(gb, b, groups, features);
        });
        return y;
    }

    /// <summary>
    /// Batch normalisation of x [B, C, H, W] per channel. In training, normalises with the batch's
    /// statistics and updates the running mean and (unbiased) variance in place with
    /// <paramref name="momentum"/>, as PyTorch does; in evaluation, normalises with the running statistics.
    /// </summary>
    public Tensor BatchNorm2d(Tensor? weight, Tensor? bias, Tensor runningMean, Tensor runningVar, bool training, float momentum = 0.1f, float eps = 1e-5f)
    {
        if (Rank != 4)
        {
            throw new ArgumentException($"BatchNorm2d needs an NCHW tensor [B, C, H, W], got {ShapeText(shape)}.");
        }

        int batch = shape[0], channels = shape[1], plane = shape[2] * shape[3];
        var count = batch * plane;
        foreach (var (p, name) in new[] { (weight, "weight"), (bias, "bias"), (runningMean, "running mean"), (runningVar, "running variance") })
        {
            if (p is not null && (p.Rank != 1 || p.shape[0] != channels || !p.IsContiguous))
            {
                throw new ArgumentException($"BatchNorm2d: {name} must be a contiguous [{channels}] tensor for input {ShapeText(shape)}, got {ShapeText(p.shape)}.");
            }
        }

        if (training && count < 2)
        {
            throw new ArgumentException($"BatchNorm2d in training mode needs more than one value per channel, got input {ShapeText(shape)}; use evaluation mode or a larger batch.");
        }

        var x = Contiguous();
        var w = weight?.Contiguous();
        var b = bias?.Contiguous();
        var mean = new float[channels];
        var rstd = new float[channels];
        var y = NewLike(shape);
        Context.For(channels, count * 3L, (start, end) =>
        {
            var centred = new float[plane];
            for (var c = start; c < end; c++)
            {
                float mu, variance;
                if (training)
                {
                    // Per-plane sums in float, combined across planes in double; variance from centred values.
                    var sum = 0.0;
                    for (var i = 0; i < batch; i++)
                    {
                        sum += TensorPrimitives.Sum(x.storage.AsSpan(x.offset + (i * channels + c) * plane, plane));
                    }

                    mu = (float)(sum / count);
                    var squares = 0.0;
                    for (var i = 0; i < batch; i++)
                    {
                        TensorPrimitives.Subtract(x.storage.AsSpan(x.offset + (i * channels + c) * plane, plane), mu, centred);
                        squares += TensorPrimitives.SumOfSquares(centred);
                    }

                    variance = (float)(squares / count);
                    runningMean.storage[runningMean.offset + c] = (1f - momentum) * runningMean.storage[runningMean.offset + c] + momentum * mu;
                    runningVar.storage[runningVar.offset + c] = (1f - momentum) * runningVar.storage[runningVar.offset + c] + momentum * (float)(squares / (count - 1));
                }
                else
                {
                    mu = runningMean.storage[runningMean.offset + c];
                    variance = runningVar.storage[runningVar.offset + c];
                }

                var inv = 1f / MathF.Sqrt(variance + eps);
                mean[c] = mu;
                rstd[c] = inv;
                var scale = inv * (w?.storage[w.offset + c] ?? 1f);
                var shift = (b?.storage[b.offset + c] ?? 0f) - mu * scale;
                for (var i = 0; i < batch; i++)
                {
                    var at = (i * channels + c) * plane;
                    ElementwiseKernels.Affine(x.storage.AsSpan(x.offset + at, plane), scale, shift, y.storage.AsSpan(at, plane));
                }
            }
        });

        Tensor[] inputs = [x, .. w is null ? Array.Empty<Tensor>() : [w], .. b is null ? Array.Empty<Tensor>() : [b]];
        y.Record(inputs, g =>
        {
            var overwriteX = false;
            var gx = x.RequiresGrad ? x.GradArrayForWrite(out overwriteX) : null;
            var gw = w is { RequiresGrad: true } ? w.GradArray() : null;
            var gb = b is { RequiresGrad: true } ? b.GradArray() : null;
            Context.For(channels, count * 4L, (start, end) =>
            {
                for (var c = start; c < end; c++)
                {
                    // Per channel: sum(g) and sum(g * xhat) give the parameter gradients and the input correction.
                    double sumG = 0, sumGx = 0;
                    for (var i = 0; i < batch; i++)
                    {
                        var at = (i * channels + c) * plane;
                        var gr = g.AsSpan(at, plane);
                        sumG += TensorPrimitives.Sum(gr);
                        sumGx += TensorPrimitives.Dot(gr, x.storage.AsSpan(x.offset + at, plane));
                    }

                    // sum(g * xhat) = rstd * (sum(g * x) - mean * sum(g))
                    var sumGXhat = rstd[c] * (sumGx - mean[c] * sumG);
                    if (gw is not null)
                    {
                        gw[c] += (float)sumGXhat;
                    }

                    if (gb is not null)
                    {
                        gb[c] += (float)sumG;
                    }

                    if (gx is null)
                    {
                        continue;
                    }

                    // dx = rstd * (gamma g - mean(gamma g) - xhat * mean(gamma g xhat)), with xhat = (x - mean) * rstd,
                    // written as a g + b x + c; in evaluation mode the batch means vanish.
                    var gamma = w?.storage[w.offset + c] ?? 1f;
                    var inv = rstd[c];
                    var meanD = training ? (float)(sumG * gamma / count) : 0f;
                    var meanDx = training ? (float)(sumGXhat * gamma / count) : 0f;
                    var coefficientG = inv * gamma;
                    var coefficientX = -inv * inv * meanDx;
                    var constant = inv * (inv * meanDx * mean[c] - meanD);
                    for (var i = 0; i < batch; i++)
                    {
                        var at = (i * channels + c) * plane;
                        ElementwiseKernels.Combine(g.AsSpan(at, plane), coefficientG, x.storage.AsSpan(x.offset + at, plane), coefficientX, constant, gx.AsSpan(at, plane), overwriteX);
                    }
                }
            });
        });
        return y;
    }

    private static void AddGroupSums(float[]? partials, Tensor? parameter, int groups, int features)
    {
        if (partials is null || parameter is null)
        {
            return;
        }

        var target = parameter.GradBuffer();
        for (var group = 0; group < groups; group++)
        {
            TensorPrimitives.Add(target, partials.AsSpan(group * features, features), target);
        }
    }
}
