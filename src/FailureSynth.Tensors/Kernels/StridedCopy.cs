using System.Numerics.Tensors;

namespace FailureSynth.Tensors;

/// <summary>Copies between a strided view and a contiguous buffer of the same logical shape (views, transposes, slices).</summary>
internal static class StridedCopy
{
    /// <summary>dst (contiguous, row-major <paramref name="shape"/>) = or += the view of <paramref name="src"/> with <paramref name="strides"/>.</summary>
    public static void Gather(ReadOnlySpan<float> src, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, Span<float> dst, bool accumulate)
    {
        var (dims, viewStrides) = Coalesce(shape, strides);
        var inner = dims[^1];
        var innerStride = viewStrides[^1];
        var rows = dst.Length / Math.Max(1, inner);
        Span<int> index = stackalloc int[dims.Length];
        var srcRow = 0;
        for (var row = 0; row < rows; row++)
        {
            var d = dst.Slice(row * inner, inner);
            if (innerStride == 1)
            {
                var s = src.Slice(srcRow, inner);
                if (accumulate)
                {
                    TensorPrimitives.Add(d, s, d);
                }
                else
                {
                    s.CopyTo(d);
                }
            }
            else
            {
                for (var j = 0; j < inner; j++)
                {
                    var value = src[srcRow + j * innerStride];
                    d[j] = accumulate ? d[j] + value : value;
                }
            }

            srcRow = Advance(index, dims, viewStrides, srcRow);
        }
    }

    /// <summary>The view of <paramref name="dst"/> with <paramref name="strides"/> = or += <paramref name="src"/> (contiguous, row-major <paramref name="shape"/>).</summary>
    public static void Scatter(ReadOnlySpan<float> src, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, Span<float> dst, bool accumulate)
    {
        var (dims, viewStrides) = Coalesce(shape, strides);
        var inner = dims[^1];
        var innerStride = viewStrides[^1];
        var rows = src.Length / Math.Max(1, inner);
        Span<int> index = stackalloc int[dims.Length];
        var dstRow = 0;
        for (var row = 0; row < rows; row++)
        {
            var s = src.Slice(row * inner, inner);
            if (innerStride == 1)
            {
                var d = dst.Slice(dstRow, inner);
                if (accumulate)
                {
                    TensorPrimitives.Add(d, s, d);
                }
                else
                {
                    s.CopyTo(d);
                }
            }
            else
            {
                for (var j = 0; j < inner; j++)
                {
                    ref var target = ref dst[dstRow + j * innerStride];
                    target = accumulate ? target + s[j] : s[j];
                }
            }

            dstRow = Advance(index, dims, viewStrides, dstRow);
        }
    }

    /// <summary>Moves the outer index (all dimensions but the last) one row on; returns the new row's element offset.</summary>
    private static int Advance(Span<int> index, int[] dims, int[] strides, int position)
    {
        for (var d = dims.Length - 2; d >= 0; d--)
        {
            index[d]++;
            position += strides[d];
            if (index[d] < dims[d])
            {
                return position;
            }

            position -= index[d] * strides[d];
            index[d] = 0;
        }

        return position;
    }

    /// <summary>Drops size-1 dimensions and merges neighbours that are contiguous with each other in the view.</summary>
    private static (int[] Dims, int[] Strides) Coalesce(ReadOnlySpan<int> shape, ReadOnlySpan<int> strides)
    {
        var dims = new List<int>(shape.Length);
        var steps = new List<int>(shape.Length);
        for (var d = 0; d < shape.Length; d++)
        {
            if (shape[d] == 1)
            {
                continue;
            }

            if (dims.Count > 0 && steps[^1] == strides[d] * shape[d])
            {
                dims[^1] *= shape[d];
                steps[^1] = strides[d];
            }
            else
            {
                dims.Add(shape[d]);
                steps.Add(strides[d]);
            }
        }

        if (dims.Count == 0)
        {
            dims.Add(1);
            steps.Add(1);
        }

        return ([.. dims], [.. steps]);
    }
}
