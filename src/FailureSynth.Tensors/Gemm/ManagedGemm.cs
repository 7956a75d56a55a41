using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FailureSynth.Tensors;

/// <summary>
/// Matrix product in managed code: BLIS-style blocking (k-blocks of <see cref="KBlock"/>, packed A blocks
/// and B panels) around an FMA micro-kernel (8x32 with Vector512 where it is accelerated, 6x16 with
/// Vector256 otherwise), parallel over tiles of C with an explicit thread count.
/// </summary>
/// <remarks>
/// Every element of C is accumulated by one worker, over k in a fixed order, by the same micro-kernel,
/// so the result is bit-identical for any thread count and any scheduling.
/// </remarks>
public sealed unsafe class ManagedGemm : IGemm
{
    /// <summary>
    /// Largest depth of one k-block. k is split into equal blocks no deeper than this, so the blocking
    /// (and thus every rounding) depends on k alone, never on threads or the other dimensions.
    /// </summary>
    public const int KBlock = 256;

    // Below this many flops a product is cheaper to run on one thread than to hand out.
    private const long ParallelFlopThreshold = 1L << 21;

    // Products whose C has at most this many elements but whose depth is many times larger (a layer's weight
    // gradient, dW = dY^T X over thousands of rows) are bound by packing A and B, not by arithmetic: split over
    // two workers they ran slower than on one (TinyVLM training, 2 cores: 3.3 ms more per step over four such
    // layers). They run on one thread; the result is the same for any thread count.
    private const long SkinnyOutputLimit = 128 * 128;

    // Largest packed B (floats) kept for all k-blocks at once, so deep products hand out work once.
    private const long WholeDepthPackLimit = 1L << 23;

    private readonly int mr;
    private readonly int nr;
    private readonly int mc;
    private readonly int nc;
    private readonly bool wideKernel;
    private readonly ParallelOptions parallelOptions;
    private readonly ConcurrentStack<Workspace> workspaces = new();

    /// <summary>Creates a managed GEMM that uses up to <paramref name="threads"/> threads per call.</summary>
    /// <param name="threads">Worker count, at least 1.</param>
    /// <param name="allowVector512">Use the 512-bit kernel where the hardware accelerates it.</param>
    public ManagedGemm(int threads, bool allowVector512 = true)
    {
        if (threads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "ManagedGemm needs at least one thread.");
        }

        Threads = threads;
        wideKernel = allowVector512 && Vector512.IsHardwareAccelerated;
        (mr, nr) = wideKernel ? (8, 32) : (6, 16);
        // An A block of mc x KBlock stays in L2; a B panel of KBlock x nc stays in L3.
        mc = mr * 16;
        nc = 2048;
        parallelOptions = new ParallelOptions { MaxDegreeOfParallelism = threads };
    }

    /// <inheritdoc />
    public string Name => $"managed {(wideKernel ? "avx512 8x32" : "avx2 6x16")}, {Threads} thread{(Threads == 1 ? "" : "s")}";

    /// <inheritdoc />
    public int Threads { get; }

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
            ScaleC(m, n, beta, c, ldc);
            return;
        }

        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            Run(new Problem(transA, transB, m, n, k, alpha, (nint)pa, lda, (nint)pb, ldb, beta, (nint)pc, ldc, 0, false));
        }
    }

    /// <summary>
    /// C = alpha * op(A) * op(B) + bias, where bias has one value per column of C (broadcast over rows)
    /// or, with <paramref name="biasPerRow"/>, one per row. The bias is added as each tile is stored,
    /// saving the separate pass that would fill C with it first.
    /// </summary>
    internal void SgemmWithBias(
        bool transA, bool transB, int m, int n, int k,
        float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb,
        ReadOnlySpan<float> bias, bool biasPerRow, Span<float> c, int ldc)
    {
        GemmArguments.Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (bias.Length < (biasPerRow ? m : n))
        {
            throw new ArgumentException($"Sgemm: the bias needs {(biasPerRow ? m : n)} values, got {bias.Length}.", nameof(bias));
        }

        if (m == 0 || n == 0)
        {
            return;
        }

        if (k == 0 || alpha == 0f)
        {
            for (var i = 0; i < m; i++)
            {
                var row = c.Slice(i * ldc, n);
                if (biasPerRow)
                {
                    row.Fill(bias[i]);
                }
                else
                {
                    bias[..n].CopyTo(row);
                }
            }

            return;
        }

        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        fixed (float* pbias = bias)
        {
            Run(new Problem(transA, transB, m, n, k, alpha, (nint)pa, lda, (nint)pb, ldb, 0f, (nint)pc, ldc, (nint)pbias, biasPerRow));
        }
    }

    internal static void ScaleC(int m, int n, float beta, Span<float> c, int ldc)
    {
        for (var i = 0; i < m; i++)
        {
            var row = c.Slice(i * ldc, n);
            if (beta == 0f)
            {
                row.Clear();
            }
            else if (beta != 1f)
            {
                System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
            }
        }
    }

    private void Run(in Problem p)
    {
        var skinny = (long)p.M * p.N <= SkinnyOutputLimit && p.K >= 8L * Math.Max(p.M, p.N);
        var workers = skinny || 2L * p.M * p.N * p.K < ParallelFlopThreshold ? 1 : Threads;
        var shared = Rent();
        try
        {
            for (var jc = 0; jc < p.N; jc += nc)
            {
                var ncCur = Math.Min(nc, p.N - jc);
                var panels = (ncCur + nr - 1) / nr;
                if (workers > 1 && p.K > KBlock && (long)p.K * panels * nr <= WholeDepthPackLimit)
                {
                    RunWholeDepth(p, jc, ncCur, panels, workers, shared);
                    continue;
                }

                for (var pc = 0; pc < p.K; pc += KBlock)
                {
                    var kc = Math.Min(KBlock, p.K - pc);
                    var bPack = shared.B(panels * nr * kc);
                    var step = new Step(jc, ncCur, panels, pc, kc, pc == 0 ? p.Beta : 1f, (nint)bPack);
                    PackBPanels(p, step, workers);
                    RunTiles(p, step, workers, shared);
                }
            }
        }
        finally
        {
            workspaces.Push(shared);
        }
    }

    /// <summary>
    /// Deep products: B is packed for every k-block up front, then each tile of C runs through all
    /// k-blocks in order while it stays in cache. Two parallel loops per column block instead of two
    /// per k-block; the arithmetic (k-blocks in order, same kernel) is unchanged.
    /// </summary>
    private void RunWholeDepth(Problem p, int jc, int ncCur, int panels, int workers, Workspace shared)
    {
        var bAll = (nint)shared.B(p.K * panels * nr);
        var kBlocks = (p.K + KBlock - 1) / KBlock;
        Step StepAt(int block)
        {
            var pc = block * KBlock;
            return new Step(jc, ncCur, panels, pc, Math.Min(KBlock, p.K - pc), pc == 0 ? p.Beta : 1f, bAll + (nint)((long)pc * panels * nr * sizeof(float)));
        }

        var items = kBlocks * panels;
        Parallel.For(0, workers, parallelOptions, w =>
        {
            var end = (int)((long)items * (w + 1) / workers);
            for (var item = (int)((long)items * w / workers); item < end; item++)
            {
                var step = StepAt(item / panels);
                PackBPanel(p, step, item % panels, (float*)step.BPack);
            }
        });

        var mBlocks = (p.M + mc - 1) / mc;
        var split = Math.Clamp((4 * workers + mBlocks - 1) / mBlocks, 1, panels);
        var panelsPerTile = (panels + split - 1) / split;
        var tiling = new Tiling((panels + panelsPerTile - 1) / panelsPerTile, panelsPerTile);
        Parallel.For(
            0,
            mBlocks * tiling.Split,
            parallelOptions,
            Rent,
            (t, _, ws) =>
            {
                for (var block = 0; block < kBlocks; block++)
                {
                    // A new k-block needs its own packed A.
                    ws.PackedBlock = -1;
                    RunTile(p, StepAt(block), tiling, t, ws);
                }

                return ws;
            },
            ws => workspaces.Push(ws));
    }

    private void PackBPanels(Problem p, Step s, int workers)
    {
        var bPack = (float*)s.BPack;
        if (workers == 1 || s.Panels < 4)
        {
            for (var jp = 0; jp < s.Panels; jp++)
            {
                PackBPanel(p, s, jp, bPack);
            }

            return;
        }

        var chunk = (s.Panels + workers - 1) / workers;
        Parallel.For(0, workers, parallelOptions, w =>
        {
            var end = Math.Min(s.Panels, (w + 1) * chunk);
            for (var jp = w * chunk; jp < end; jp++)
            {
                PackBPanel(p, s, jp, (float*)s.BPack);
            }
        });
    }

    private void RunTiles(Problem p, Step s, int workers, Workspace shared)
    {
        var mBlocks = (p.M + mc - 1) / mc;
        // Split the columns too when there are few row blocks, so every worker gets tiles.
        var split = workers == 1 ? 1 : Math.Clamp((4 * workers + mBlocks - 1) / mBlocks, 1, s.Panels);
        var panelsPerTile = (s.Panels + split - 1) / split;
        split = (s.Panels + panelsPerTile - 1) / panelsPerTile;
        var tiling = new Tiling(split, panelsPerTile);
        var tiles = mBlocks * split;
        if (workers == 1 || tiles == 1)
        {
            shared.PackedBlock = -1;
            for (var t = 0; t < tiles; t++)
            {
                RunTile(p, s, tiling, t, shared);
            }

            return;
        }

        Parallel.For(
            0,
            tiles,
            parallelOptions,
            () =>
            {
                var ws = Rent();
                ws.PackedBlock = -1;
                return ws;
            },
            (t, _, ws) =>
            {
                RunTile(p, s, tiling, t, ws);
                return ws;
            },
            ws => workspaces.Push(ws));
    }

    private void RunTile(in Problem p, in Step s, Tiling tiling, int tile, Workspace ws)
    {
        var mb = tile / tiling.Split;
        var i0 = mb * mc;
        var rows = Math.Min(mc, p.M - i0);
        var aPack = ws.A(((rows + mr - 1) / mr) * mr * s.Kc);
        if (ws.PackedBlock != mb)
        {
            PackA(p, i0, rows, s.Pc, s.Kc, aPack);
            ws.PackedBlock = mb;
        }

        var firstPanel = (tile % tiling.Split) * tiling.PanelsPerTile;
        var endPanel = Math.Min(s.Panels, firstPanel + tiling.PanelsPerTile);
        var c = (float*)p.C;
        // The bias goes in with the first k-block's store, which overwrites C.
        var bias = s.Pc == 0 ? (float*)p.Bias : null;
        for (var jp = firstPanel; jp < endPanel; jp++)
        {
            var bp = (float*)s.BPack + jp * nr * s.Kc;
            var j = s.Jc + jp * nr;
            var cols = Math.Min(nr, p.N - j);
            for (var ip = 0; ip < rows; ip += mr)
            {
                var ap = aPack + ip * s.Kc;
                var rowsCur = Math.Min(mr, rows - ip);
                var cp = c + (long)(i0 + ip) * p.Ldc + j;
                var tileBias = new TileBias(
                    bias == null || p.BiasPerRow ? null : bias + j,
                    bias == null || !p.BiasPerRow ? null : bias + i0 + ip);
                if (rowsCur == mr && cols == nr)
                {
                    Kernel(s.Kc, ap, bp, cp, p.Ldc, p.Alpha, s.Beta, tileBias);
                }
                else
                {
                    EdgeKernel(s.Kc, ap, bp, cp, p.Ldc, rowsCur, cols, p.Alpha, s.Beta, tileBias);
                }
            }
        }
    }

    private void Kernel(int kc, float* a, float* b, float* c, int ldc, float alpha, float beta, TileBias bias)
    {
        if (wideKernel)
        {
            Kernel8x32(kc, a, b, c, ldc, alpha, beta, bias);
        }
        else
        {
            Kernel6x16(kc, a, b, c, ldc, alpha, beta, bias);
        }
    }

    private void EdgeKernel(int kc, float* a, float* b, float* c, int ldc, int rows, int cols, float alpha, float beta, TileBias bias)
    {
        // The full micro-kernel runs into a scratch tile (padding rows/columns of the packs are zero);
        // the valid part is merged with the same arithmetic the full-tile store uses.
        var tile = stackalloc float[8 * 32];
        Kernel(kc, a, b, tile, nr, 1f, 0f, default);
        for (var i = 0; i < rows; i++)
        {
            var crow = c + (long)i * ldc;
            var trow = tile + i * nr;
            for (var j = 0; j < cols; j++)
            {
                crow[j] = beta != 0f
                    ? MathF.FusedMultiplyAdd(trow[j], alpha, beta == 1f ? crow[j] : crow[j] * beta)
                    : bias.Column != null ? MathF.FusedMultiplyAdd(trow[j], alpha, bias.Column[j])
                    : bias.Row != null ? MathF.FusedMultiplyAdd(trow[j], alpha, bias.Row[i])
                    : trow[j] * alpha;
            }
        }
    }

    /// <summary>Bias for one micro-tile's store: per column (from its first column) or per row (from its first row); both null for none.</summary>
    private readonly struct TileBias(float* column, float* row)
    {
        public float* Column { get; } = column;

        public float* Row { get; } = row;
    }

    private void PackA(in Problem p, int i0, int rows, int p0, int kc, float* dst)
    {
        var a = (float*)p.A;
        for (var ip = 0; ip < rows; ip += mr)
        {
            var rowsCur = Math.Min(mr, rows - ip);
            var panel = dst + ip * kc;
            if (p.TransA)
            {
                // A(i, q) = a[q * lda + i]: the panel's rows are contiguous in memory.
                for (var q = 0; q < kc; q++)
                {
                    var src = a + (long)(p0 + q) * p.Lda + i0 + ip;
                    var d = panel + q * mr;
                    for (var ii = 0; ii < rowsCur; ii++)
                    {
                        d[ii] = src[ii];
                    }

                    for (var ii = rowsCur; ii < mr; ii++)
                    {
                        d[ii] = 0f;
                    }
                }
            }
            else if (rowsCur == 8 && mr == 8 && Avx.IsSupported)
            {
                // A(i, q) = a[i * lda + q]: 8 rows x 8 depths transposed per step.
                TransposeRows(a + (long)(i0 + ip) * p.Lda + p0, p.Lda, kc, panel, 8);
            }
            else
            {
                for (var ii = 0; ii < rowsCur; ii++)
                {
                    var src = a + (long)(i0 + ip + ii) * p.Lda + p0;
                    var d = panel + ii;
                    for (var q = 0; q < kc; q++)
                    {
                        d[q * mr] = src[q];
                    }
                }

                for (var ii = rowsCur; ii < mr; ii++)
                {
                    for (var q = 0; q < kc; q++)
                    {
                        panel[q * mr + ii] = 0f;
                    }
                }
            }
        }
    }

    private void PackBPanel(in Problem p, in Step s, int jp, float* bPack)
    {
        var b = (float*)p.B;
        var j0 = s.Jc + jp * nr;
        var cols = Math.Min(nr, p.N - j0);
        var dst = bPack + jp * nr * s.Kc;
        if (!p.TransB)
        {
            // B(q, j) = b[q * ldb + j]: copy one row segment per q, with vector moves for full panels
            // (a library copy call per 32 floats would cost as much as the products that use them).
            if (cols == nr)
            {
                for (var q = 0; q < s.Kc; q++)
                {
                    var src = b + (long)(s.Pc + q) * p.Ldb + j0;
                    var d = dst + q * nr;
                    for (var j = 0; j < nr; j += 8)
                    {
                        Vector256.Store(Vector256.Load(src + j), d + j);
                    }
                }

                return;
            }

            for (var q = 0; q < s.Kc; q++)
            {
                var src = b + (long)(s.Pc + q) * p.Ldb + j0;
                var d = dst + q * nr;
                for (var j = 0; j < cols; j++)
                {
                    d[j] = src[j];
                }

                for (var j = cols; j < nr; j++)
                {
                    d[j] = 0f;
                }
            }
        }
        else if (Avx.IsSupported && cols == nr)
        {
            // B(q, j) = b[j * ldb + q]: groups of 8 columns, each an 8 x 8 transpose per step.
            for (var jj = 0; jj < nr; jj += 8)
            {
                TransposeRows(b + (long)(j0 + jj) * p.Ldb + s.Pc, p.Ldb, s.Kc, dst + jj, nr);
            }
        }
        else
        {
            for (var jj = 0; jj < cols; jj++)
            {
                var src = b + (long)(j0 + jj) * p.Ldb + s.Pc;
                var d = dst + jj;
                for (var q = 0; q < s.Kc; q++)
                {
                    d[q * nr] = src[q];
                }
            }

            if (cols < nr)
            {
                for (var q = 0; q < s.Kc; q++)
                {
                    new Span<float>(dst + q * nr + cols, nr - cols).Clear();
                }
            }
        }
    }

    /// <summary>
    /// Packs 8 source rows (stride <paramref name="ld"/>, <paramref name="depth"/> elements each) as
    /// depth-major groups of 8: dst[q * dstStride + r] = src[r * ld + q], eight depths per AVX transpose.
    /// </summary>
    private static void TransposeRows(float* src, int ld, int depth, float* dst, int dstStride)
    {
        var q = 0;
        for (; q + 8 <= depth; q += 8)
        {
            var r0 = Avx.LoadVector256(src + q);
            var r1 = Avx.LoadVector256(src + ld + q);
            var r2 = Avx.LoadVector256(src + 2L * ld + q);
            var r3 = Avx.LoadVector256(src + 3L * ld + q);
            var r4 = Avx.LoadVector256(src + 4L * ld + q);
            var r5 = Avx.LoadVector256(src + 5L * ld + q);
            var r6 = Avx.LoadVector256(src + 6L * ld + q);
            var r7 = Avx.LoadVector256(src + 7L * ld + q);
            var t0 = Avx.UnpackLow(r0, r1);
            var t1 = Avx.UnpackHigh(r0, r1);
            var t2 = Avx.UnpackLow(r2, r3);
            var t3 = Avx.UnpackHigh(r2, r3);
            var t4 = Avx.UnpackLow(r4, r5);
            var t5 = Avx.UnpackHigh(r4, r5);
            var t6 = Avx.UnpackLow(r6, r7);
            var t7 = Avx.UnpackHigh(r6, r7);
            var u0 = Avx.Shuffle(t0, t2, 0x44);
            var u1 = Avx.Shuffle(t0, t2, 0xEE);
            var u2 = Avx.Shuffle(t1, t3, 0x44);
            var u3 = Avx.Shuffle(t1, t3, 0xEE);
            var u4 = Avx.Shuffle(t4, t6, 0x44);
            var u5 = Avx.Shuffle(t4, t6, 0xEE);
            var u6 = Avx.Shuffle(t5, t7, 0x44);
            var u7 = Avx.Shuffle(t5, t7, 0xEE);
            var d = dst + (long)q * dstStride;
            Avx.Store(d, Avx.Permute2x128(u0, u4, 0x20));
            Avx.Store(d + dstStride, Avx.Permute2x128(u1, u5, 0x20));
            Avx.Store(d + 2L * dstStride, Avx.Permute2x128(u2, u6, 0x20));
            Avx.Store(d + 3L * dstStride, Avx.Permute2x128(u3, u7, 0x20));
            Avx.Store(d + 4L * dstStride, Avx.Permute2x128(u0, u4, 0x31));
            Avx.Store(d + 5L * dstStride, Avx.Permute2x128(u1, u5, 0x31));
            Avx.Store(d + 6L * dstStride, Avx.Permute2x128(u2, u6, 0x31));
            Avx.Store(d + 7L * dstStride, Avx.Permute2x128(u3, u7, 0x31));
        }

        for (; q < depth; q++)
        {
            for (var r = 0; r < 8; r++)
            {
                dst[(long)q * dstStride + r] = src[(long)r * ld + q];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel8x32(int kc, float* a, float* b, float* c, int ldc, float alpha, float beta, TileBias bias)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        for (var q = 0; q < kc; q++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var av = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(av, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(av, b1, c01);
            av = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(av, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(av, b1, c11);
            av = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(av, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(av, b1, c21);
            av = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(av, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(av, b1, c31);
            av = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(av, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(av, b1, c41);
            av = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(av, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(av, b1, c51);
            av = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(av, b0, c60);
            c61 = Vector512.FusedMultiplyAdd(av, b1, c61);
            av = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(av, b0, c70);
            c71 = Vector512.FusedMultiplyAdd(av, b1, c71);
            a += 8;
            b += 32;
        }

        Store512(c, c00, c01, alpha, beta, bias, 0);
        Store512(c + ldc, c10, c11, alpha, beta, bias, 1);
        Store512(c + 2L * ldc, c20, c21, alpha, beta, bias, 2);
        Store512(c + 3L * ldc, c30, c31, alpha, beta, bias, 3);
        Store512(c + 4L * ldc, c40, c41, alpha, beta, bias, 4);
        Store512(c + 5L * ldc, c50, c51, alpha, beta, bias, 5);
        Store512(c + 6L * ldc, c60, c61, alpha, beta, bias, 6);
        Store512(c + 7L * ldc, c70, c71, alpha, beta, bias, 7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(float* c, Vector512<float> v0, Vector512<float> v1, float alpha, float beta, TileBias bias, int row)
    {
        var va = Vector512.Create(alpha);
        if (beta == 0f)
        {
            if (bias.Column != null)
            {
                Vector512.FusedMultiplyAdd(v0, va, Vector512.Load(bias.Column)).Store(c);
                Vector512.FusedMultiplyAdd(v1, va, Vector512.Load(bias.Column + 16)).Store(c + 16);
            }
            else if (bias.Row != null)
            {
                var vb = Vector512.Create(bias.Row[row]);
                Vector512.FusedMultiplyAdd(v0, va, vb).Store(c);
                Vector512.FusedMultiplyAdd(v1, va, vb).Store(c + 16);
            }
            else
            {
                (v0 * va).Store(c);
                (v1 * va).Store(c + 16);
            }
        }
        else if (beta == 1f)
        {
            Vector512.FusedMultiplyAdd(v0, va, Vector512.Load(c)).Store(c);
            Vector512.FusedMultiplyAdd(v1, va, Vector512.Load(c + 16)).Store(c + 16);
        }
        else
        {
            var vb = Vector512.Create(beta);
            Vector512.FusedMultiplyAdd(v0, va, Vector512.Load(c) * vb).Store(c);
            Vector512.FusedMultiplyAdd(v1, va, Vector512.Load(c + 16) * vb).Store(c + 16);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x16(int kc, float* a, float* b, float* c, int ldc, float alpha, float beta, TileBias bias)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector256<float> c40 = default, c41 = default, c50 = default, c51 = default;
        for (var q = 0; q < kc; q++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var av = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(av, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(av, b1, c01);
            av = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(av, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(av, b1, c11);
            av = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(av, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(av, b1, c21);
            av = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(av, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(av, b1, c31);
            av = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(av, b0, c40);
            c41 = Vector256.FusedMultiplyAdd(av, b1, c41);
            av = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(av, b0, c50);
            c51 = Vector256.FusedMultiplyAdd(av, b1, c51);
            a += 6;
            b += 16;
        }

        Store256(c, c00, c01, alpha, beta, bias, 0);
        Store256(c + ldc, c10, c11, alpha, beta, bias, 1);
        Store256(c + 2L * ldc, c20, c21, alpha, beta, bias, 2);
        Store256(c + 3L * ldc, c30, c31, alpha, beta, bias, 3);
        Store256(c + 4L * ldc, c40, c41, alpha, beta, bias, 4);
        Store256(c + 5L * ldc, c50, c51, alpha, beta, bias, 5);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(float* c, Vector256<float> v0, Vector256<float> v1, float alpha, float beta, TileBias bias, int row)
    {
        var va = Vector256.Create(alpha);
        if (beta == 0f)
        {
            if (bias.Column != null)
            {
                Vector256.FusedMultiplyAdd(v0, va, Vector256.Load(bias.Column)).Store(c);
                Vector256.FusedMultiplyAdd(v1, va, Vector256.Load(bias.Column + 8)).Store(c + 8);
            }
            else if (bias.Row != null)
            {
                var vb = Vector256.Create(bias.Row[row]);
                Vector256.FusedMultiplyAdd(v0, va, vb).Store(c);
                Vector256.FusedMultiplyAdd(v1, va, vb).Store(c + 8);
            }
            else
            {
                (v0 * va).Store(c);
                (v1 * va).Store(c + 8);
            }
        }
        else if (beta == 1f)
        {
            Vector256.FusedMultiplyAdd(v0, va, Vector256.Load(c)).Store(c);
            Vector256.FusedMultiplyAdd(v1, va, Vector256.Load(c + 8)).Store(c + 8);
        }
        else
        {
            var vb = Vector256.Create(beta);
            Vector256.FusedMultiplyAdd(v0, va, Vector256.Load(c) * vb).Store(c);
            Vector256.FusedMultiplyAdd(v1, va, Vector256.Load(c + 8) * vb).Store(c + 8);
        }
    }

    private Workspace Rent() => workspaces.TryPop(out var ws) ? ws : new Workspace();

    private readonly record struct Problem(
        bool TransA, bool TransB, int M, int N, int K, float Alpha,
        nint A, int Lda, nint B, int Ldb, float Beta, nint C, int Ldc, nint Bias, bool BiasPerRow);

    private readonly record struct Step(int Jc, int Nc, int Panels, int Pc, int Kc, float Beta, nint BPack);

    private readonly record struct Tiling(int Split, int PanelsPerTile);

    /// <summary>Pinned, 64-byte aligned packing buffers owned by one worker at a time and reused across calls.</summary>
    private sealed class Workspace
    {
        private float[] aBuffer = [];
        private float[] bBuffer = [];

        public int PackedBlock { get; set; } = -1;

        public float* A(int length) => Ensure(ref aBuffer, length);

        public float* B(int length) => Ensure(ref bBuffer, length);

        private static float* Ensure(ref float[] buffer, int length)
        {
            if (buffer.Length < length + 16)
            {
                // Pinned on the POH so the pointer stays valid for the buffer's lifetime.
                buffer = GC.AllocateUninitializedArray<float>(length + 16, pinned: true);
            }

            var start = (nint)Unsafe.AsPointer(ref buffer[0]);
            return (float*)((start + 63) & ~(nint)63);
        }
    }
}
