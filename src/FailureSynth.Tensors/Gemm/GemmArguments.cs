namespace FailureSynth.Tensors;

/// <summary>Argument checks shared by every <see cref="IGemm"/> backend, so a bad call fails the same way on each.</summary>
internal static class GemmArguments
{
    public static void Validate(
        bool transA, bool transB, int m, int n, int k,
        int aLength, int lda, int bLength, int ldb, int cLength, int ldc)
    {
        if (m < 0 || n < 0 || k < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(m), $"Sgemm sizes must be non-negative, got m={m}, n={n}, k={k}.");
        }

        // Row-major storage: rows x cols, with the leading dimension at least cols.
        Check("A", transA ? k : m, transA ? m : k, aLength, lda);
        Check("B", transB ? n : k, transB ? k : n, bLength, ldb);
        Check("C", m, n, cLength, ldc);
    }

    private static void Check(string name, int rows, int cols, int length, int ld)
    {
        if (ld < Math.Max(1, cols))
        {
            throw new ArgumentException($"Sgemm: leading dimension of {name} is {ld} but its stored rows have {cols} columns; pass ld >= {Math.Max(1, cols)}.");
        }

        if (rows == 0 || cols == 0)
        {
            return;
        }

        var needed = (long)(rows - 1) * ld + cols;
        if (needed > length)
        {
            throw new ArgumentException($"Sgemm: {name} is {rows}x{cols} with leading dimension {ld}, which needs {needed} elements, but its span holds {length}.");
        }
    }
}
