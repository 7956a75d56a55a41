namespace FailureSynth.Tensors;

/// <summary>
/// How operands of numpy-style broadcasting map onto the output: the output's dimensions with size-1
/// dimensions dropped and compatible neighbours merged, and each operand's element stride per
/// dimension (0 where it is broadcast). Index 0 of <see cref="Strides"/> is the contiguous output.
/// </summary>
internal sealed class BroadcastPlan
{
    private BroadcastPlan(int[] dims, int[][] strides, int count)
    {
        Dims = dims;
        Strides = strides;
        Count = count;
        Inner = dims[^1];
        Rows = Inner == 0 ? 0 : count / Inner;
    }

    public int[] Dims { get; }

    public int[][] Strides { get; }

    public int Count { get; }

    /// <summary>Length of the innermost (merged) dimension.</summary>
    public int Inner { get; }

    /// <summary>Number of innermost rows.</summary>
    public int Rows { get; }

    /// <summary>The broadcast result shape of two shapes, or an error naming both.</summary>
    public static int[] ResultShape(ReadOnlySpan<int> a, ReadOnlySpan<int> b, string operation)
    {
        var rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (var i = 0; i < rank; i++)
        {
            var da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            var db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1)
            {
                throw new ArgumentException($"{operation}: shapes {Tensor.ShapeText(a)} and {Tensor.ShapeText(b)} cannot be broadcast (dimension {i} is {da} vs {db}; sizes must match or be 1).");
            }

            result[i] = da == 1 ? db : da;
        }

        return result;
    }

    /// <summary>Plans iteration over <paramref name="output"/> for the given operand shapes (right-aligned, each broadcastable to it).</summary>
    public static BroadcastPlan Create(int[] output, params int[][] operands)
    {
        var rank = output.Length;
        var all = new int[operands.Length + 1][];
        all[0] = Tensor.ContiguousStrides(output);
        for (var o = 0; o < operands.Length; o++)
        {
            var shape = operands[o];
            var own = Tensor.ContiguousStrides(shape);
            var aligned = new int[rank];
            for (var d = 0; d < rank; d++)
            {
                var od = d - (rank - shape.Length);
                aligned[d] = od < 0 || shape[od] == 1 ? 0 : own[od];
            }

            all[o + 1] = aligned;
        }

        var dims = new List<int>(rank);
        var merged = new List<int>[all.Length];
        for (var o = 0; o < all.Length; o++)
        {
            merged[o] = new List<int>(rank);
        }

        for (var d = 0; d < rank; d++)
        {
            if (output[d] == 1)
            {
                continue;
            }

            var canMerge = dims.Count > 0;
            for (var o = 0; canMerge && o < all.Length; o++)
            {
                canMerge = merged[o][^1] == all[o][d] * output[d];
            }

            if (canMerge)
            {
                dims[^1] *= output[d];
                for (var o = 0; o < all.Length; o++)
                {
                    merged[o][^1] = all[o][d];
                }
            }
            else
            {
                dims.Add(output[d]);
                for (var o = 0; o < all.Length; o++)
                {
                    merged[o].Add(all[o][d]);
                }
            }
        }

        if (dims.Count == 0)
        {
            dims.Add(1);
            for (var o = 0; o < all.Length; o++)
            {
                merged[o].Add(0);
            }

            merged[0][0] = 1;
        }

        return new BroadcastPlan([.. dims], [.. merged.Select(m => m.ToArray())], Tensor.CountOf(output));
    }

    /// <summary>Element offset of innermost row <paramref name="row"/> in operand <paramref name="operand"/> (0 is the output).</summary>
    public int RowOffset(int row, int operand)
    {
        var strides = Strides[operand];
        var position = 0;
        for (var d = Dims.Length - 2; d >= 0 && row > 0; d--)
        {
            position += row % Dims[d] * strides[d];
            row /= Dims[d];
        }

        return position;
    }

    /// <summary>Innermost stride of an operand: 1 when it runs along the row, 0 when broadcast.</summary>
    public int InnerStride(int operand) => Strides[operand][^1];
}
