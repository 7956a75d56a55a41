using System.Numerics.Tensors;

namespace FailureSynth.Tensors;

/// <summary>Reductions: sum and mean over all elements or one axis, and arg-max for predictions.</summary>
public sealed partial class Tensor
{
    /// <summary>Sum of all elements, as a scalar tensor of shape [].</summary>
    public Tensor Sum()
    {
        var x = Contiguous();
        var y = NewLike([]);
        y.storage[0] = TensorPrimitives.Sum(x.Data);
        y.Record([x], g =>
        {
            var gx = x.GradArrayForWrite(out var overwrite);
            if (overwrite)
            {
                gx.AsSpan().Fill(g[0]);
            }
            else
            {
                TensorPrimitives.Add(gx, g[0], gx);
            }
        });
        return y;
    }

    /// <summary>Mean of all elements, as a scalar tensor of shape [].</summary>
    public Tensor Mean() => Sum().Scale(1f / Math.Max(1, ElementCount));

    /// <summary>Sum over <paramref name="axis"/>: [A, N, B] -> [A, B] (or [A, 1, B] with <paramref name="keepDim"/>).</summary>
    public Tensor Sum(int axis, bool keepDim = false)
    {
        var x = Contiguous();
        var ax = NormalizeAxis(axis, Rank, nameof(axis));
        var outer = CountOf(shape.AsSpan(0, ax));
        var length = shape[ax];
        var inner = CountOf(shape.AsSpan(ax + 1));
        int[] outShape = keepDim ? [.. shape[..ax], 1, .. shape[(ax + 1)..]] : [.. shape[..ax], .. shape[(ax + 1)..]];
        var y = NewLike(outShape);
        x.Context.For(outer, (long)length * inner, (start, end) =>
        {
            for (var o = start; o < end; o++)
            {
                var src = x.storage.AsSpan(x.offset + o * length * inner, length * inner);
                var dst = y.storage.AsSpan(o * inner, inner);
                if (inner == 1)
                {
                    dst[0] = TensorPrimitives.Sum(src);
                    continue;
                }

                // Rows added in order, so each output element's sum is the same for any thread count.
                dst.Clear();
                for (var a = 0; a < length; a++)
                {
                    TensorPrimitives.Add(dst, src.Slice(a * inner, inner), dst);
                }
            }
        });
        y.Record([x], g =>
        {
            var gx = x.GradArrayForWrite(out var overwrite);
            for (var o = 0; o < outer; o++)
            {
                var go = g.AsSpan(o * inner, inner);
                if (inner == 1)
                {
                    var row = gx.AsSpan(o * length, length);
                    if (overwrite)
                    {
                        row.Fill(go[0]);
                    }
                    else
                    {
                        TensorPrimitives.Add(row, go[0], row);
                    }

                    continue;
                }

                for (var a = 0; a < length; a++)
                {
                    var row = gx.AsSpan((o * length + a) * inner, inner);
                    if (overwrite)
                    {
                        go.CopyTo(row);
                    }
                    else
                    {
                        TensorPrimitives.Add(row, go, row);
                    }
                }
            }
        });
        return y;
    }

    /// <summary>Mean over <paramref name="axis"/>: [A, N, B] -> [A, B] (or [A, 1, B] with <paramref name="keepDim"/>).</summary>
    public Tensor Mean(int axis, bool keepDim = false) =>
        Sum(axis, keepDim).Scale(1f / Math.Max(1, shape[NormalizeAxis(axis, Rank, nameof(axis))]));

    /// <summary>Index of the largest value along the last axis for every row (first index on ties); not differentiable.</summary>
    public int[] ArgMax()
    {
        var x = Contiguous();
        var length = shape.Length == 0 ? 1 : shape[^1];
        var rows = length == 0 ? 0 : ElementCount / length;
        var result = new int[rows];
        for (var r = 0; r < rows; r++)
        {
            result[r] = TensorPrimitives.IndexOfMax(x.Data.Slice(r * length, length));
        }

        return result;
    }
}
