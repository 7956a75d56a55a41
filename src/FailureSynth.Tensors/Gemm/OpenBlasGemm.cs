using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace FailureSynth.Tensors;

/// <summary>
/// Matrix product through <c>cblas_sgemm</c> of the operating system's OpenBLAS (Debian package
/// <c>libopenblas0</c>), loaded at run time so the engine still works where it is absent.
/// </summary>
/// <remarks>
/// OpenBLAS keeps its thread count process-wide; each call sets it to this instance's count when it
/// differs, so calls from several threads at once must share one thread count. The engine itself only
/// calls it from one thread at a time (per-worker products inside parallel loops use <see cref="ManagedGemm"/>).
/// </remarks>
public sealed unsafe class OpenBlasGemm : IGemm
{
    private const int RowMajor = 101;
    private const int NoTrans = 111;
    private const int Trans = 112;

    /// <summary>File names tried, in order, when loading OpenBLAS.</summary>
    public static readonly IReadOnlyList<string> LibraryNames =
        ["libopenblas.so.0", "libopenblas.so", "libopenblas.dylib", "libopenblas.dll", "openblas"];

    private readonly delegate* unmanaged[Cdecl]<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> sgemm;
    private readonly delegate* unmanaged[Cdecl]<int, void> setThreads;
    private readonly delegate* unmanaged[Cdecl]<int> getThreads;

    private OpenBlasGemm(int threads, nint library, string description)
    {
        Threads = threads;
        sgemm = (delegate* unmanaged[Cdecl]<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)
            NativeLibrary.GetExport(library, "cblas_sgemm");
        setThreads = NativeLibrary.TryGetExport(library, "openblas_set_num_threads", out var set)
            ? (delegate* unmanaged[Cdecl]<int, void>)set
            : null;
        getThreads = NativeLibrary.TryGetExport(library, "openblas_get_num_threads", out var get)
            ? (delegate* unmanaged[Cdecl]<int>)get
            : null;
        Name = $"{description}, {threads} thread{(threads == 1 ? "" : "s")}";
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public int Threads { get; }

    /// <summary>Loads OpenBLAS if the operating system has it; <paramref name="reason"/> says why not otherwise.</summary>
    public static bool TryCreate(int threads, [NotNullWhen(true)] out OpenBlasGemm? gemm, out string reason)
    {
        if (threads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "OpenBlasGemm needs at least one thread.");
        }

        foreach (var name in LibraryNames)
        {
            if (!NativeLibrary.TryLoad(name, typeof(OpenBlasGemm).Assembly, null, out var library))
            {
                continue;
            }

            if (!NativeLibrary.TryGetExport(library, "cblas_sgemm", out _))
            {
                reason = $"{name} was loaded but exports no cblas_sgemm.";
                gemm = null;
                return false;
            }

            gemm = new OpenBlasGemm(threads, library, Describe(library));
            reason = "";
            return true;
        }

        reason = $"OpenBLAS was not found (tried {string.Join(", ", LibraryNames)}); install the libopenblas0 package to use it.";
        gemm = null;
        return false;
    }

    /// <inheritdoc />
    public void Sgemm(
        bool transA, bool transB, int m, int n, int k,
        float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb,
        float beta, Span<float> c, int ldc)
    {
        GemmArguments.Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (m == 0 || n == 0)
        {
            return;
        }

        if (k == 0 || alpha == 0f)
        {
            ManagedGemm.ScaleC(m, n, beta, c, ldc);
            return;
        }

        if (setThreads != null && (getThreads == null || getThreads() != Threads))
        {
            setThreads(Threads);
        }

        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            sgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
        }
    }

    private static string Describe(nint library)
    {
        var text = "openblas";
        if (NativeLibrary.TryGetExport(library, "openblas_get_config", out var config))
        {
            var s = Marshal.PtrToStringUTF8(((delegate* unmanaged[Cdecl]<nint>)config)());
            if (!string.IsNullOrEmpty(s))
            {
                text = s.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [var lib, var version, ..] ? $"{lib} {version}" : s;
            }
        }

        if (NativeLibrary.TryGetExport(library, "openblas_get_corename", out var core))
        {
            var s = Marshal.PtrToStringUTF8(((delegate* unmanaged[Cdecl]<nint>)core)());
            if (!string.IsNullOrEmpty(s))
            {
                text += $" ({s})";
            }
        }

        return text;
    }
}
