using System.Numerics.Tensors;

namespace FailureSynth.Tensors;

/// <summary>Softmax, log-softmax and softmax cross-entropy over the last axis, numerically stable (max subtracted).</summary>
public sealed partial class Tensor
{
    /// <summary>Softmax over the last axis.</summary>
    public Tensor Softmax()
    {
        var x = Contiguous();
        var (rows, classes) = x.RowsOfLastAxis("Softmax");
        var y = NewLike(shape);
        Context.For(rows, classes * 4L, (start, end) =>
        {
            for (var r = start; r < end; r++)
            {
                SoftmaxRow(x.storage.AsSpan(x.offset + r * classes, classes), y.storage.AsSpan(r * classes, classes));
            }
        });
        y.Record([x], g =>
        {
            var gx = x.GradArrayForWrite(out var overwrite);
            Context.For(rows, classes * 3L, (start, end) =>
            {
                for (var r = start; r < end; r++)
                {
                    // dx = y * (g - <g, y>)
                    var yr = y.storage.AsSpan(r * classes, classes);
                    var gr = g.AsSpan(r * classes, classes);
                    var dot = TensorPrimitives.Dot(gr, yr);
                    var gxr = gx.AsSpan(r * classes, classes);
                    for (var c = 0; c < classes; c++)
                    {
                        var value = yr[c] * (gr[c] - dot);
                        gxr[c] = overwrite ? value : gxr[c] + value;
                    }
                }
            });
        });
        return y;
    }

    /// <summary>Log-softmax over the last axis: x - logsumexp(x).</summary>
    public Tensor LogSoftmax()
    {
        var x = Contiguous();
        var (rows, classes) = x.RowsOfLastAxis("LogSoftmax");
        var y = NewLike(shape);
        Context.For(rows, classes * 4L, (start, end) =>
        {
            for (var r = start; r < end; r++)
            {
                var xr = x.storage.AsSpan(x.offset + r * classes, classes);
                TensorPrimitives.Subtract(xr, LogSumExp(xr), y.storage.AsSpan(r * classes, classes));
            }
        });
        y.Record([x], g =>
        {
            var gx = x.GradArrayForWrite(out var overwrite);
            Context.For(rows, classes * 3L, (start, end) =>
            {
                for (var r = start; r < end; r++)
                {
                    // dx = g - softmax * sum(g)
                    var yr = y.storage.AsSpan(r * classes, classes);
                    var gr = g.AsSpan(r * classes, classes);
                    var total = TensorPrimitives.Sum(gr);
                    var gxr = gx.AsSpan(r * classes, classes);
                    for (var c = 0; c < classes; c++)
                    {
                        var value = gr[c] - MathF.Exp(yr[c]) * total;
                        gxr[c] = overwrite ? value : gxr[c] + value;
                    }
                }
            });
        });
        return y;
    }

    /// <summary>
    /// Mean softmax cross-entropy of logits [..., C] (class axis last, leading axes flattened to rows)
    /// against integer targets, one per row. Rows whose target is <paramref name="ignoreIndex"/> are
    /// skipped and not counted; if every row is ignored the loss is 0 (PyTorch gives NaN).
    /// </summary>
    public Tensor CrossEntropy(ReadOnlySpan<int> targets, int ignoreIndex = -100)
    {
        var x = Contiguous();
        var (rows, classes) = x.RowsOfLastAxis("CrossEntropy");
        if (targets.Length != rows)
        {
            throw new ArgumentException($"CrossEntropy: logits {ShapeText(shape)} have {rows} rows but {targets.Length} targets were given; pass one target per row.", nameof(targets));
        }

        var labels = targets.ToArray();
        var counted = new bool[rows];
        for (var r = 0; r < rows; r++)
        {
            if (labels[r] == ignoreIndex)
            {
                continue;
            }

            if ((uint)labels[r] >= (uint)classes)
            {
                throw new ArgumentOutOfRangeException(nameof(targets), labels[r], $"CrossEntropy: target {labels[r]} of row {r} is not a class index in [0, {classes}) nor the ignore index {ignoreIndex}.");
            }

            counted[r] = true;
        }

        return x.MeanOfCountedRows(rows, classes, counted, classes * 4L,
            (r, xr, logZ) => logZ - xr[labels[r]],
            (r, pr, scale, gxr) =>
            {
                // d loss / d logits = (softmax - onehot) / counted
                TensorPrimitives.MultiplyAdd(pr, scale, gxr, gxr);
                gxr[labels[r]] -= scale;
            });
    }

    /// <summary>
    /// Mean Kullback-Leibler divergence KL(q || softmax(x)) of logits [..., C] from target distributions q given
    /// row by row (rows x C values, class axis last): the distillation loss that keeps a model's answers close
    /// to those of another model. A row whose targets are all zero has no target: it is skipped and not counted
    /// (if no row has one, the loss is 0). Targets must be finite, non-negative and sum to 1 per row (within 1e-3).
    /// The gradient with respect to the logits is (softmax(x) - q) / counted rows.
    /// </summary>
    public Tensor KlDivergence(ReadOnlySpan<float> targets)
    {
        var x = Contiguous();
        var (rows, classes) = x.RowsOfLastAxis("KlDivergence");
        if (targets.Length != rows * classes)
        {
            throw new ArgumentException($"KlDivergence: logits {ShapeText(shape)} need {rows} x {classes} = {rows * classes} target probabilities but {targets.Length} were given.", nameof(targets));
        }

        var q = targets.ToArray();
        var counted = new bool[rows];
        for (var r = 0; r < rows; r++)
        {
            var sum = 0.0;
            for (var c = 0; c < classes; c++)
            {
                var value = q[r * classes + c];
                if (!float.IsFinite(value) || value < 0)
                {
                    throw new ArgumentOutOfRangeException(nameof(targets), value, $"KlDivergence: target probability of row {r}, class {c} is {value}; targets must be finite and non-negative.");
                }

                sum += value;
            }

            if (sum == 0)
            {
                continue;
            }

            if (Math.Abs(sum - 1) > 1e-3)
            {
                throw new ArgumentException($"KlDivergence: the target probabilities of row {r} sum to {sum:0.######}, not 1 (a row of zeros means no target).", nameof(targets));
            }

            counted[r] = true;
        }

        return x.MeanOfCountedRows(rows, classes, counted, classes * 6L,
            (r, xr, logZ) =>
            {
                var qr = q.AsSpan(r * classes, classes);
                var loss = 0.0;
                for (var c = 0; c < classes; c++)
                {
                    if (qr[c] > 0)
                    {
                        loss += qr[c] * (Math.Log(qr[c]) - (xr[c] - logZ));
                    }
                }

                return loss;
            },
            (r, pr, scale, gxr) =>
            {
                // d loss / d logits = (softmax - q) / counted
                var qr = q.AsSpan(r * classes, classes);
                for (var c = 0; c < classes; c++)
                {
                    gxr[c] += scale * (pr[c] - qr[c]);
                }
            });
    }

    /// <summary>A row's loss from its logits and their log-sum-exp.</summary>
    private delegate double RowLoss(int row, ReadOnlySpan<float> logits, float logSumExp);

    /// <summary>Adds a row's share of the logits' gradient, given its softmax and the upstream gradient over the counted rows.</summary>
    private delegate void RowGradient(int row, ReadOnlySpan<float> probabilities, float scale, Span<float> gradient);

    /// <summary>
    /// The mean of a per-row loss of logits [rows, classes] over the <paramref name="counted"/> rows (0 when there are
    /// none; the others are skipped), whose gradient needs each counted row's softmax: the shared body of
    /// <see cref="CrossEntropy"/> and <see cref="KlDivergence"/>. Row losses are summed in row order, so the loss does
    /// not depend on the thread count.
    /// </summary>
    private Tensor MeanOfCountedRows(int rows, int classes, bool[] counted, long costPerRow, RowLoss loss, RowGradient gradient)
    {
        var countedRows = counted.Count(c => c);
        var probabilities = Scratch(rows * classes);
        var rowLoss = new double[rows];
        Context.For(rows, costPerRow, (start, end) =>
        {
            for (var r = start; r < end; r++)
            {
                if (!counted[r])
                {
                    continue;
                }

                var xr = storage.AsSpan(offset + r * classes, classes);
                rowLoss[r] = loss(r, xr, LogSumExp(xr));
                SoftmaxRow(xr, probabilities.AsSpan(r * classes, classes));
            }
        });

        var total = 0.0;
        foreach (var value in rowLoss)
        {
            total += value;
        }

        var y = NewLike([]);
        y.storage[0] = countedRows == 0 ? 0f : (float)(total / countedRows);
        y.Record([this], g =>
        {
            // Reached but contributing nothing: the input still gets a (zero) gradient.
            var gx = GradArray();
            if (countedRows == 0)
            {
                return;
            }

            var scale = g[0] / countedRows;
            Context.For(rows, classes * 2L, (start, end) =>
            {
                for (var r = start; r < end; r++)
                {
                    if (counted[r])
                    {
                        gradient(r, probabilities.AsSpan(r * classes, classes), scale, gx.AsSpan(r * classes, classes));
                    }
                }
            });
        });
        return y;
    }

    private (int Rows, int Classes) RowsOfLastAxis(string operation)
    {
        if (Rank == 0 || shape[^1] == 0)
        {
            throw new ArgumentException($"{operation} needs a tensor whose last axis (the classes) is non-empty, got {ShapeText(shape)}.");
        }

        return (ElementCount / shape[^1], shape[^1]);
    }

    private static void SoftmaxRow(ReadOnlySpan<float> x, Span<float> y)
    {
        var max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, y);
        TensorPrimitives.Exp(y, y);
        TensorPrimitives.Multiply(y, 1f / TensorPrimitives.Sum(y), y);
    }

    private static float LogSumExp(ReadOnlySpan<float> x)
    {
        var max = TensorPrimitives.Max(x);
        var sum = 0.0;
        for (var i = 0; i < x.Length; i++)
        {
            sum += MathF.Exp(x[i] - max);
        }

        return max + (float)Math.Log(sum);
    }
}
