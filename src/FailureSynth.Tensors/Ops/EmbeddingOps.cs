using System.Numerics.Tensors;

namespace FailureSynth.Tensors;

/// <summary>Embedding lookup (rows of a table by integer index) and dropout.</summary>
public sealed partial class Tensor
{
    /// <summary>
    /// Rows of <paramref name="weight"/> [V, D] at <paramref name="indices"/>: -> [..indexShape, D]
    /// (indexShape defaults to [indices.Length]). The backward adds each row's gradient to its table row.
    /// </summary>
    public static Tensor Embedding(Tensor weight, ReadOnlySpan<int> indices, params int[] indexShape)
    {
        if (weight.Rank != 2)
        {
            throw new ArgumentException($"Embedding: the table must be [vocabulary, dim], got {ShapeText(weight.shape)}.", nameof(weight));
        }

        int[] lookupShape = indexShape.Length == 0 ? [indices.Length] : indexShape;
        if (CountOf(lookupShape) != indices.Length)
        {
            throw new ArgumentException($"Embedding: index shape {ShapeText(lookupShape)} holds {CountOf(lookupShape)} indices but {indices.Length} were given.", nameof(indexShape));
        }

        int vocabulary = weight.shape[0], dim = weight.shape[1];
        var ids = indices.ToArray();
        for (var i = 0; i < ids.Length; i++)
        {
            if ((uint)ids[i] >= (uint)vocabulary)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), ids[i], $"Embedding: index {ids[i]} at position {i} is outside the vocabulary [0, {vocabulary}); map unknown tokens to a reserved id first.");
            }
        }

        var w = weight.Contiguous();
        var y = w.NewLike([.. lookupShape, dim]);
        for (var i = 0; i < ids.Length; i++)
        {
            w.Data.Slice(ids[i] * dim, dim).CopyTo(y.storage.AsSpan(i * dim, dim));
        }

        y.Record([w], g =>
        {
            // In index order, so repeated ids accumulate deterministically.
            var gw = w.GradArray();
            for (var i = 0; i < ids.Length; i++)
            {
                var row = gw.AsSpan(ids[i] * dim, dim);
                TensorPrimitives.Add(row, g.AsSpan(i * dim, dim), row);
            }
        });
        return y;
    }

    /// <summary>
    /// Inverted dropout: zeroes each element with probability <paramref name="p"/> and scales the rest by
    /// 1 / (1 - p). Element i's draw is SplitMix64.At(seed, i), so the mask depends only on the seed.
    /// </summary>
    public Tensor Dropout(float p, ulong seed)
    {
        if (p is < 0f or >= 1f)
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout probability must be in [0, 1).");
        }

        if (p == 0f)
        {
            return this;
        }

        var x = Contiguous();
        var keepScale = 1f / (1f - p);
        var mask = x.Scratch(ElementCount);
        var y = NewLike(shape);
        Context.For(ElementCount, 8, (start, end) =>
        {
            for (var i = start; i < end; i++)
            {
                var u = (SplitMix64.At(seed, i) >> 40) * (1.0f / (1 << 24));
                mask[i] = u < p ? 0f : keepScale;
            }

            TensorPrimitives.Multiply(x.storage.AsSpan(x.offset + start, end - start), mask.AsSpan(start, end - start), y.storage.AsSpan(start, end - start));
        });
        y.Record([x], g =>
        {
            var gx = x.GradArrayForWrite(out var overwrite);
            ElementwiseKernels.MultiplyInto(g, mask, gx, overwrite);
        });
        return y;
    }
}
