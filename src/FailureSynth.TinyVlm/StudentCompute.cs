using System.Runtime.Intrinsics;
using FailureSynth.Tensors;

namespace FailureSynth.TinyVlm;

/// <summary>Creates the compute context a student trains and answers in, choosing the matrix-product backend.</summary>
public static class StudentCompute
{
    /// <summary>The backend names <see cref="CreateContext"/> accepts.</summary>
    public static IReadOnlyList<string> GemmChoices { get; } = ["auto", "managed", "openblas"];

    /// <summary>
    /// A context with <paramref name="threads"/> threads. "auto" takes the engine's own kernel where the CPU
    /// has AVX-512 (measured faster than OpenBLAS's AVX2 kernel on TinyVLM's layers) and OpenBLAS otherwise;
    /// "managed" and "openblas" force one ("openblas" falls back to managed when the library is missing).
    /// </summary>
    public static ComputeContext CreateContext(int threads, string gemm = "auto") => gemm switch
    {
        "auto" => ComputeContext.Create(threads, preferNativeBlas: !Vector512.IsHardwareAccelerated),
        "managed" => ComputeContext.Create(threads, preferNativeBlas: false),
        "openblas" => ComputeContext.Create(threads, preferNativeBlas: true),
        _ => throw new ArgumentException($"Unknown GEMM backend '{gemm}'; use one of {string.Join(", ", GemmChoices)}."),
    };
}
