using System.Numerics.Tensors;

namespace FailureSynth.Tensors;

/// <summary>Shape operations: reshape, transpose/permute views, contiguous copies, concatenation and slicing.</summary>
public sealed partial class Tensor
{
    /// <summary>A contiguous tensor with the same values: this tensor itself when already contiguous, otherwise a copy.</summary>
    public Tensor Contiguous()
    {
        // Every operation starts here, so a recycled tensor is caught before its memory is read.
        ThrowIfReleased();
        if (IsContiguous)
        {
            return this;
        }

        var y = NewLike(shape);
        StridedCopy.Gather(storage.AsSpan(offset), shape, strides, y.Data, accumulate: false);
        var x = this;
        // Gradients are stored in logical order, so the copy's gradient passes straight through.
        y.Record([x], g => x.AccumulateGrad(g));
        return y;
    }

    /// <summary>The same elements with a new shape (one size may be -1 to infer it); a view when contiguous.</summary>
    public Tensor Reshape(params int[] newShape)
    {
        var target = ResolveShape(newShape);
        var source = Contiguous();
        var y = source.View(target, ContiguousStrides(target), source.offset);
        y.Record([source], g => source.AccumulateGrad(g));
        return y;
    }

    /// <summary>Merges dimensions <paramref name="startDim"/>..end into one: [B, C, H, W] -> [B, C*H*W] for startDim 1.</summary>
    public Tensor Flatten(int startDim = 1)
    {
        var start = NormalizeAxis(startDim, Rank, nameof(startDim));
        var kept = shape[..start];
        return Reshape([.. kept, CountOf(shape.AsSpan(start))]);
    }

    /// <summary>A view with dimensions <paramref name="dim0"/> and <paramref name="dim1"/> swapped.</summary>
    public Tensor Transpose(int dim0, int dim1)
    {
        var order = new int[Rank];
        for (var d = 0; d < Rank; d++)
        {
            order[d] = d;
        }

        var a = NormalizeAxis(dim0, Rank, nameof(dim0));
        var b = NormalizeAxis(dim1, Rank, nameof(dim1));
        (order[a], order[b]) = (order[b], order[a]);
        return Permute(order);
    }

    /// <summary>A view whose dimension i is this tensor's dimension order[i]: [B, T, H, D] -> [B, H, T, D] for (0, 2, 1, 3).</summary>
    public Tensor Permute(params int[] order)
    {
        if (order.Length != Rank)
        {
            throw new ArgumentException($"Permute needs {Rank} axes for shape {ShapeText(shape)}, got {order.Length}.", nameof(order));
        }

        var seen = new bool[Rank];
        var newShape = new int[Rank];
        var newStrides = new int[Rank];
        for (var i = 0; i < Rank; i++)
        {
            var axis = NormalizeAxis(order[i], Rank, nameof(order));
            if (seen[axis])
            {
                throw new ArgumentException($"Permute order [{string.Join(", ", order)}] repeats axis {axis}; name each axis once.", nameof(order));
            }

            seen[axis] = true;
            newShape[i] = shape[axis];
            newStrides[i] = strides[axis];
        }

        var x = this;
        var y = View(newShape, newStrides, offset);
        y.Record([x], g =>
        {
            // The gradient g is contiguous in the permuted shape; read it back in x's order.
            var gStrides = ContiguousStrides(newShape);
            var inverse = new int[x.Rank];
            for (var i = 0; i < x.Rank; i++)
            {
                inverse[NormalizeAxis(order[i], x.Rank, nameof(order))] = gStrides[i];
            }

            var gx = x.GradArrayForWrite(out var overwrite);
            StridedCopy.Gather(g, x.shape, inverse, gx, accumulate: !overwrite);
        });
        return y;
    }

    /// <summary>Inserts a size-1 dimension at <paramref name="dim"/>.</summary>
    public Tensor Unsqueeze(int dim)
    {
        var at = NormalizeAxis(dim, Rank + 1, nameof(dim));
        return Reshape([.. shape[..at], 1, .. shape[at..]]);
    }

    /// <summary>Elements [start, start + length) along <paramref name="axis"/>, as a new contiguous tensor.</summary>
    public Tensor Slice(int axis, int start, int length)
    {
        var ax = NormalizeAxis(axis, Rank, nameof(axis));
        if (start < 0 || length < 0 || start + length > shape[ax])
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"Slice [{start}, {start + length}) does not fit axis {ax} of size {shape[ax]} in tensor {ShapeText(shape)}.");
        }

        var newShape = (int[])shape.Clone();
        newShape[ax] = length;
        var viewOffset = offset + start * strides[ax];
        var y = NewLike(newShape);
        StridedCopy.Gather(storage.AsSpan(viewOffset), newShape, strides, y.Data, accumulate: false);
        var x = this;
        y.Record([x], g =>
        {
            var xStrides = ContiguousStrides(x.shape);
            StridedCopy.Scatter(g, newShape, xStrides, x.GradBuffer()[(start * xStrides[ax])..], accumulate: true);
        });
        return y;
    }

    /// <summary>Joins tensors along <paramref name="axis"/>; all other sizes must match.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> tensors, int axis)
    {
        if (tensors.Count == 0)
        {
            throw new ArgumentException("Concat needs at least one tensor.", nameof(tensors));
        }

        var first = tensors[0];
        var ax = NormalizeAxis(axis, first.Rank, nameof(axis));
        var total = 0;
        foreach (var t in tensors)
        {
            var compatible = t.Rank == first.Rank;
            for (var d = 0; compatible && d < t.Rank; d++)
            {
                compatible = d == ax || t.shape[d] == first.shape[d];
            }

            if (!compatible)
            {
                throw new ArgumentException($"Concat along axis {ax}: tensor {ShapeText(t.shape)} does not match {ShapeText(first.shape)} outside that axis.", nameof(tensors));
            }

            total += t.shape[ax];
        }

        var outShape = (int[])first.shape.Clone();
        outShape[ax] = total;
        var y = first.NewLike(outShape);
        var yStrides = ContiguousStrides(outShape);
        var inputs = new Tensor[tensors.Count];
        var at = 0;
        for (var i = 0; i < tensors.Count; i++)
        {
            var part = tensors[i].Contiguous();
            inputs[i] = part;
            StridedCopy.Scatter(part.Data, part.shape, yStrides, y.Data[(at * yStrides[ax])..], accumulate: false);
            at += part.shape[ax];
        }

        y.Record(inputs, g =>
        {
            var position = 0;
            foreach (var part in inputs)
            {
                if (part.RequiresGrad)
                {
                    var windowStrides = ContiguousStrides(outShape);
                    var gp = part.GradArrayForWrite(out var overwrite);
                    StridedCopy.Gather(g.AsSpan(position * windowStrides[ax]), part.shape, windowStrides, gp, accumulate: !overwrite);
                }

                position += part.shape[ax];
            }
        });
        return y;
    }

    private int[] ResolveShape(int[] newShape)
    {
        var inferred = -1;
        var known = 1;
        for (var d = 0; d < newShape.Length; d++)
        {
            if (newShape[d] == -1 && inferred < 0)
            {
                inferred = d;
            }
            else if (newShape[d] < 0)
            {
                throw new ArgumentException($"Reshape target {ShapeText(newShape)} may contain one -1 and otherwise sizes >= 0.", nameof(newShape));
            }
            else
            {
                known *= newShape[d];
            }
        }

        var result = (int[])newShape.Clone();
        if (inferred >= 0)
        {
            if (known == 0 || ElementCount % known != 0)
            {
                throw new ArgumentException($"Cannot reshape {ShapeText(shape)} ({ElementCount} elements) to {ShapeText(newShape)}: the -1 size cannot be inferred.", nameof(newShape));
            }

            result[inferred] = ElementCount / known;
        }

        if (CountOf(result) != ElementCount)
        {
            throw new ArgumentException($"Cannot reshape {ShapeText(shape)} ({ElementCount} elements) to {ShapeText(newShape)} ({CountOf(result)} elements).", nameof(newShape));
        }

        return result;
    }
}
