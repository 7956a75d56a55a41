using FailureSynth.Tensors;

namespace FailureSynth.Tensors.Tests;

/// <summary>Managed and OpenBLAS GEMM against a double-precision reference, thread independence and argument errors.</summary>
public sealed class GemmTests
{
    public static TheoryData<int, int, int, bool, bool> Shapes() => new()
    {
        { 1, 1, 1, false, false },
        { 17, 33, 65, false, false },
        { 17, 33, 65, true, false },
        { 17, 33, 65, false, true },
        { 17, 33, 65, true, true },
        { 5, 300, 7, false, true },
        { 130, 70, 300, true, false },
        { 3, 2100, 4, false, false },
        { 64, 64, 64, true, true },
        // A layer's weight gradient, dW = dY^T X: small C, deep k (run on one thread whatever the thread count).
        { 64, 64, 2000, true, false },
        { 8, 128, 1100, true, false },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Managed_gemm_matches_a_double_precision_reference(int m, int n, int k, bool transA, bool transB)
    {
        foreach (var gemm in new IGemm[] { new ManagedGemm(1), new ManagedGemm(3), new ManagedGemm(2, allowVector512: false) })
        {
            AssertMatchesReference(gemm, m, n, k, transA, transB, alpha: 0.75f, beta: -0.5f);
            AssertMatchesReference(gemm, m, n, k, transA, transB, alpha: 1f, beta: 0f);
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void OpenBlas_and_managed_gemm_agree_within_tolerance(int m, int n, int k, bool transA, bool transB)
    {
        if (!OpenBlasGemm.TryCreate(2, out var blas, out _))
        {
            // Without OpenBLAS on the machine the factory must fall back to the managed kernel.
            Assert.IsType<ManagedGemm>(Gemm.Create(2));
            return;
        }

        Assert.IsType<OpenBlasGemm>(Gemm.Create(2));
        Assert.StartsWith("managed", Gemm.Create(2, preferNative: false).Name, StringComparison.Ordinal);
        AssertMatchesReference(blas, m, n, k, transA, transB, alpha: 0.75f, beta: 1f);
        var (a, b, c0) = Operands(m, n, k, transA, transB, 3);
        var cManaged = (float[])c0.Clone();
        var cBlas = (float[])c0.Clone();
        new ManagedGemm(2).Sgemm(transA, transB, m, n, k, 1.25f, a, transA ? m + 1 : k + 1, b, transB ? k + 2 : n + 2, 0.5f, cManaged, n + 3);
        blas.Sgemm(transA, transB, m, n, k, 1.25f, a, transA ? m + 1 : k + 1, b, transB ? k + 2 : n + 2, 0.5f, cBlas, n + 3);
        for (var i = 0; i < cManaged.Length; i++)
        {
            Assert.True(Math.Abs(cManaged[i] - cBlas[i]) <= 1e-4f * (1 + Math.Abs(cBlas[i])), $"element {i}: managed {cManaged[i]} vs openblas {cBlas[i]}");
        }
    }

    [Fact]
    public void Managed_gemm_gives_bit_identical_results_for_any_thread_count()
    {
        var (a, b, c0) = Operands(300, 260, 520, false, true, 9);
        float[]? first = null;
        foreach (var threads in new[] { 1, 2, 3, 5 })
        {
            var c = (float[])c0.Clone();
            new ManagedGemm(threads).Sgemm(false, true, 300, 260, 520, 1f, a, 521, b, 522, 1f, c, 263);
            first ??= c;
            Assert.Equal(first, c);
        }
    }

    [Fact]
    public void Beta_zero_overwrites_C_without_reading_it()
    {
        var a = new float[] { 1, 2, 3, 4 };
        var b = new float[] { 1, 0, 0, 1 };
        var c = new float[] { float.NaN, float.NaN, float.NaN, float.NaN };
        new ManagedGemm(1).Sgemm(false, false, 2, 2, 2, 1f, a, 2, b, 2, 0f, c, 2);
        Assert.Equal(a, c);
    }

    [Fact]
    public void K_of_zero_only_scales_C()
    {
        var c = new float[] { 2, 4 };
        new ManagedGemm(1).Sgemm(false, false, 1, 2, 0, 1f, [], 1, [], 2, 0.5f, c, 2);
        Assert.Equal(new float[] { 1, 2 }, c);
    }

    [Fact]
    public void Too_small_leading_dimension_is_reported_with_the_operand_name()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            new ManagedGemm(1).Sgemm(false, false, 2, 2, 3, 1f, new float[6], 2, new float[6], 2, 0f, new float[4], 2));
        Assert.Contains("leading dimension of A is 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Too_short_span_is_reported_with_the_needed_length()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            new ManagedGemm(1).Sgemm(false, false, 2, 2, 2, 1f, new float[4], 2, new float[3], 2, 0f, new float[4], 2));
        Assert.Contains("B is 2x2", error.Message, StringComparison.Ordinal);
    }

    private static void AssertMatchesReference(IGemm gemm, int m, int n, int k, bool transA, bool transB, float alpha, float beta)
    {
        // Leading dimensions larger than the rows, to exercise strided access.
        int lda = (transA ? m : k) + 1, ldb = (transB ? k : n) + 2, ldc = n + 3;
        var (a, b, c0) = Operands(m, n, k, transA, transB, (ulong)(m * 31 + n * 7 + k));
        var c = (float[])c0.Clone();
        gemm.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var sum = 0.0;
                for (var p = 0; p < k; p++)
                {
                    var av = transA ? a[p * lda + i] : a[i * lda + p];
                    var bv = transB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += (double)av * bv;
                }

                var expected = alpha * sum + (beta == 0f ? 0.0 : beta * (double)c0[i * ldc + j]);
                var actual = c[i * ldc + j];
                Assert.True(Math.Abs(actual - expected) <= 1e-4 * (1 + Math.Sqrt(k)), $"{gemm.Name} {m}x{n}x{k} tA={transA} tB={transB}: C[{i},{j}] = {actual}, expected {expected}");
            }

            // Padding columns beyond n must be untouched.
            for (var j = n; j < ldc && i * ldc + j < c.Length; j++)
            {
                Assert.Equal(c0[i * ldc + j], c[i * ldc + j]);
            }
        }
    }

    private static (float[] A, float[] B, float[] C) Operands(int m, int n, int k, bool transA, bool transB, ulong seed)
    {
        int lda = (transA ? m : k) + 1, ldb = (transB ? k : n) + 2, ldc = n + 3;
        var rng = new SplitMix64(seed);
        float[] Fill(int length)
        {
            var values = new float[length];
            for (var i = 0; i < length; i++)
            {
                values[i] = rng.NextUniform(-1f, 1f);
            }

            return values;
        }

        return (Fill((transA ? k : m) * lda), Fill((transB ? n : k) * ldb), Fill(m * ldc));
    }
}
