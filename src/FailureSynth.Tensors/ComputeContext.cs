namespace FailureSynth.Tensors;

/// <summary>
/// The explicit execution settings every tensor carries: thread count, matrix-product backend, and
/// whether autograd records operations. There is no global state; two contexts never interfere.
/// </summary>
/// <remarks>
/// Parallel loops split work so that every output element is computed by exactly one worker in a
/// fixed order, and reductions across workers combine fixed partitions in a fixed order, so results
/// depend only on the inputs (and, through OpenBLAS, on the backend), never on scheduling.
/// </remarks>
public sealed class ComputeContext
{
    private readonly ParallelOptions parallelOptions;

    /// <summary>Creates a context with the given thread count and GEMM backends.</summary>
    /// <param name="threads">Worker threads for parallel operations, at least 1.</param>
    /// <param name="gemm">Backend for large matrix products (may use all threads).</param>
    /// <param name="serialGemm">Single-threaded backend used inside parallel loops; a one-thread <see cref="ManagedGemm"/> if omitted.</param>
    public ComputeContext(int threads, IGemm gemm, IGemm? serialGemm = null)
    {
        if (threads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "A ComputeContext needs at least one thread; pass threads >= 1.");
        }

        Threads = threads;
        Gemm = gemm;
        SerialGemm = serialGemm ?? new ManagedGemm(1);
        parallelOptions = new ParallelOptions { MaxDegreeOfParallelism = threads };
    }

    /// <summary>A context whose GEMM comes from <see cref="FailureSynth.Tensors.Gemm.Create"/>.</summary>
    public static ComputeContext Create(int threads, bool preferNativeBlas = true) =>
        new(threads, FailureSynth.Tensors.Gemm.Create(threads, preferNativeBlas));

    /// <summary>Worker threads for parallel operations.</summary>
    public int Threads { get; }

    /// <summary>Backend for whole-tensor matrix products.</summary>
    public IGemm Gemm { get; }

    /// <summary>Single-threaded backend for the small products each worker runs inside a parallel loop (conv per image, attention per head).</summary>
    public IGemm SerialGemm { get; }

    /// <summary>Whether operations record the autograd graph (false inside <see cref="NoGrad"/>).</summary>
    public bool GradEnabled { get; private set; } = true;

    /// <summary>Recycles large buffers of this context's tensors.</summary>
    internal BufferPool Pool { get; } = new();

    /// <summary>
    /// Starts a scope (typically one training or evaluation step) whose tensors' memory is recycled when
    /// it is disposed: the next step reuses the buffers instead of asking the garbage collector and the
    /// operating system for fresh memory. Tensors created inside must not be used after the scope ends
    /// (they throw); create parameters and optimiser state outside, and read losses and predictions inside.
    /// </summary>
    public IDisposable RecyclingScope()
    {
        Pool.BeginScope();
        return new RecyclingScopeHandle(Pool);
    }

    /// <summary>Turns graph recording off until the returned scope is disposed (inference, evaluation).</summary>
    public IDisposable NoGrad()
    {
        var previous = GradEnabled;
        GradEnabled = false;
        return new GradModeScope(this, previous);
    }

    /// <summary>A tensor of zeros.</summary>
    public Tensor Zeros(params int[] shape) => Tensor.Create(this, Tensor.CheckShape(shape), zeroed: true);

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public Tensor Full(float value, params int[] shape)
    {
        var t = Tensor.Create(this, Tensor.CheckShape(shape), zeroed: false);
        t.Data.Fill(value);
        return t;
    }

    /// <summary>A tensor of ones.</summary>
    public Tensor Ones(params int[] shape) => Full(1f, shape);

    /// <summary>A one-element tensor of shape [].</summary>
    public Tensor Scalar(float value) => Full(value, []);

    /// <summary>A tensor holding a copy of <paramref name="data"/> in row-major order.</summary>
    public Tensor FromArray(ReadOnlySpan<float> data, params int[] shape)
    {
        var checkedShape = Tensor.CheckShape(shape);
        var count = Tensor.CountOf(checkedShape);
        if (count != data.Length)
        {
            throw new ArgumentException($"FromArray: shape [{string.Join(", ", shape)}] holds {count} elements but {data.Length} values were given; pass exactly {count} values.", nameof(data));
        }

        var t = Tensor.Create(this, checkedShape, zeroed: false);
        data.CopyTo(t.Data);
        return t;
    }

    /// <summary>A tensor of independent normal samples drawn in row-major order from <paramref name="rng"/>.</summary>
    public Tensor RandomNormal(SplitMix64 rng, float mean, float std, params int[] shape)
    {
        var t = Tensor.Create(this, Tensor.CheckShape(shape), zeroed: false);
        var data = t.Data;
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = rng.NextNormal(mean, std);
        }

        return t;
    }

    /// <summary>A tensor of independent uniform samples in [low, high) drawn in row-major order from <paramref name="rng"/>.</summary>
    public Tensor RandomUniform(SplitMix64 rng, float low, float high, params int[] shape)
    {
        var t = Tensor.Create(this, Tensor.CheckShape(shape), zeroed: false);
        var data = t.Data;
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = rng.NextUniform(low, high);
        }

        return t;
    }

    /// <summary>
    /// Runs <paramref name="body"/> over [0, count) split into contiguous ranges, in parallel when the
    /// work is large enough; <paramref name="body"/> must compute each index independently of the split.
    /// </summary>
    /// <param name="count">Number of independent items.</param>
    /// <param name="costPerItem">Rough work per item (element operations), used to skip threading for small jobs.</param>
    /// <param name="body">Receives a half-open range [start, end).</param>
    public void For(int count, long costPerItem, Action<int, int> body)
    {
        if (count <= 0)
        {
            return;
        }

        // Threading pays only above roughly 32k element operations per worker.
        var workers = (int)Math.Min(Threads, Math.Min(count, Math.Max(1, count * Math.Max(1, costPerItem) / 32_768)));
        if (workers <= 1)
        {
            body(0, count);
            return;
        }

        var chunks = Math.Min(count, workers * 4);
        Parallel.For(0, chunks, parallelOptions, chunk =>
        {
            var start = (int)((long)count * chunk / chunks);
            var end = (int)((long)count * (chunk + 1) / chunks);
            body(start, end);
        });
    }

    private sealed class RecyclingScopeHandle(BufferPool pool) : IDisposable
    {
        private bool disposed;

        public void Dispose()
        {
            if (!disposed)
            {
                disposed = true;
                pool.EndScope();
            }
        }
    }

    private sealed class GradModeScope(ComputeContext context, bool previous) : IDisposable
    {
        public void Dispose() => context.GradEnabled = previous;
    }
}
