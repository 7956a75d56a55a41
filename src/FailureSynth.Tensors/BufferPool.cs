namespace FailureSynth.Tensors;

/// <summary>
/// Recycles large float buffers of one <see cref="ComputeContext"/>: gradients of intermediate tensors
/// (dropped right after use by <see cref="Tensor.Backward()"/>), and, inside a recycling scope, every
/// tensor created in the scope. Training repeats the same shapes each step, so buffers are reused by
/// exact length and fresh memory (page faults, zeroing) is avoided after the first step.
/// </summary>
internal sealed class BufferPool
{
    /// <summary>Smaller buffers are left to the garbage collector; pooling them does not pay.</summary>
    public const int MinimumLength = 4096;

    private readonly Dictionary<int, Stack<float[]>> free = [];
    private readonly HashSet<int> rentedSinceTrim = [];
    private readonly object gate = new();
    private List<Tensor>? scopeTensors;

    public bool ScopeActive => scopeTensors is not null;

    /// <summary>A buffer of exactly <paramref name="length"/> elements with unspecified contents.</summary>
    public float[] Rent(int length)
    {
        lock (gate)
        {
            rentedSinceTrim.Add(length);
            if (free.TryGetValue(length, out var stack) && stack.Count > 0)
            {
                return stack.Pop();
            }
        }

        return GC.AllocateUninitializedArray<float>(length);
    }

    public void Return(float[] buffer)
    {
        if (buffer.Length < MinimumLength)
        {
            return;
        }

        lock (gate)
        {
            if (!free.TryGetValue(buffer.Length, out var stack))
            {
                free[buffer.Length] = stack = new Stack<float[]>();
            }

            stack.Push(buffer);
        }
    }

    /// <summary>Notes a tensor whose storage returns to the pool when the active scope ends.</summary>
    public void Track(Tensor tensor)
    {
        lock (gate)
        {
            scopeTensors!.Add(tensor);
        }
    }

    public void BeginScope()
    {
        lock (gate)
        {
            if (scopeTensors is not null)
            {
                throw new InvalidOperationException("A tensor recycling scope is already active on this ComputeContext; end it before starting another.");
            }

            scopeTensors = [];
        }
    }

    public void EndScope()
    {
        List<Tensor> tensors;
        lock (gate)
        {
            tensors = scopeTensors!;
            scopeTensors = null;
            // Lengths nobody asked for during the scope are not part of the step's working set any more.
            foreach (var length in free.Keys.Where(l => !rentedSinceTrim.Contains(l)).ToList())
            {
                free.Remove(length);
            }

            rentedSinceTrim.Clear();
        }

        foreach (var tensor in tensors)
        {
            if (tensor.Release() is { } storage)
            {
                Return(storage);
            }
        }
    }
}
