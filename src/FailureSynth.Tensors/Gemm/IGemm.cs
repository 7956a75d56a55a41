namespace FailureSynth.Tensors;

/// <summary>
/// Row-major single-precision matrix product C = alpha * op(A) * op(B) + beta * C, with BLAS semantics:
/// op(X) is X or its transpose, A is m x k after op, B is k x n after op, and beta = 0 never reads C.
/// </summary>
public interface IGemm
{
    /// <summary>Short description of the backend, e.g. "openblas 0.3.21 (Haswell), 2 threads".</summary>
    string Name { get; }

    /// <summary>The number of threads one call may use.</summary>
    int Threads { get; }

    /// <summary>Computes C = alpha * op(A) * op(B) + beta * C on row-major storage with leading dimensions lda, ldb, ldc.</summary>
    void Sgemm(
        bool transA, bool transB, int m, int n, int k,
        float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb,
        float beta, Span<float> c, int ldc);
}
