namespace FailureSynth.Tensors;

/// <summary>Chooses the matrix-product backend: OpenBLAS when the operating system provides it, the managed kernel otherwise.</summary>
public static class Gemm
{
    /// <summary>An <see cref="IGemm"/> using <paramref name="threads"/> threads; OpenBLAS if <paramref name="preferNative"/> and loadable.</summary>
    public static IGemm Create(int threads, bool preferNative = true) =>
        preferNative && OpenBlasGemm.TryCreate(threads, out var native, out _) ? native : new ManagedGemm(threads);
}
