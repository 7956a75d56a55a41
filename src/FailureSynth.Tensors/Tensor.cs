using System.Globalization;
using System.Text;

namespace FailureSynth.Tensors;

/// <summary>Computes a node's contribution to its inputs' gradients from the gradient of its output (row-major, exactly the output's element count).</summary>
internal delegate void BackwardFunction(float[] outputGrad);

/// <summary>
/// A float32 n-dimensional array (shape and strides over a shared float[] storage) that records the
/// operation that produced it, so <see cref="Backward()"/> can compute gradients by reverse-mode autograd.
/// </summary>
/// <remarks>
/// Operations produce contiguous row-major tensors; <see cref="Transpose"/>, <see cref="Permute"/>,
/// <see cref="Reshape"/> and <see cref="Detach"/> return views that share storage. Gradients are always
/// contiguous tensors of the same shape. Operations live in the Ops folder, one file per group, each
/// with its forward and backward side by side.
/// </remarks>
public sealed partial class Tensor
{
    internal readonly float[] storage;
    internal readonly int offset;
    internal readonly int[] shape;
    internal readonly int[] strides;
    private bool requiresGrad;
    private Tensor[] parents = [];
    private BackwardFunction? backward;
    private Tensor? grad;
    private bool retainGrad;
    private bool pooled;
    private bool released;

    // The tensor that owns the storage of this view, so a view of a recycled tensor is detected too.
    private Tensor? viewOf;

    internal Tensor(ComputeContext context, float[] storage, int offset, int[] shape, int[] strides)
    {
        Context = context;
        this.storage = storage;
        this.offset = offset;
        this.shape = shape;
        this.strides = strides;
        ElementCount = CountOf(shape);
        IsContiguous = HasContiguousStrides(shape, strides);
    }

    /// <summary>The context (threads, GEMM, grad mode) this tensor's operations run in.</summary>
    public ComputeContext Context { get; }

    /// <summary>Sizes of the dimensions, outermost first.</summary>
    public ReadOnlySpan<int> Shape => shape;

    /// <summary>Number of dimensions.</summary>
    public int Rank => shape.Length;

    /// <summary>Number of elements (product of the shape; 1 for a scalar).</summary>
    public int ElementCount { get; }

    /// <summary>Whether the elements are laid out row-major without gaps, so <see cref="Data"/> is available.</summary>
    public bool IsContiguous { get; }

    /// <summary>The elements in row-major order; only for contiguous tensors (call <see cref="Contiguous"/> first on a view).</summary>
    public Span<float> Data
    {
        get
        {
            ThrowIfReleased();
            return IsContiguous
                ? storage.AsSpan(offset, ElementCount)
                : throw new InvalidOperationException($"Tensor {ShapeText(shape)} is a non-contiguous view (strides {ShapeText(strides)}); call Contiguous() before reading Data.");
        }
    }

    /// <summary>Whether gradients flow to this tensor. Settable only on leaves (tensors not produced by an operation).</summary>
    public bool RequiresGrad
    {
        get => requiresGrad;
        set
        {
            if (!IsLeaf)
            {
                throw new InvalidOperationException($"RequiresGrad can only be changed on leaf tensors; tensor {ShapeText(shape)} was produced by an operation. Use Detach() to get a leaf.");
            }

            requiresGrad = value;
        }
    }

    /// <summary>True when the tensor was not produced by a recorded operation (inputs, parameters).</summary>
    public bool IsLeaf => backward is null;

    /// <summary>The accumulated gradient after <see cref="Backward()"/> (leaves, and non-leaves after <see cref="RetainGrad"/>); null before.</summary>
    public Tensor? Grad
    {
        get => grad;
        set
        {
            if (value is not null && (!value.shape.AsSpan().SequenceEqual(shape) || !value.IsContiguous))
            {
                throw new ArgumentException($"A gradient for tensor {ShapeText(shape)} must be a contiguous tensor of the same shape, got {ShapeText(value.shape)}.", nameof(value));
            }

            // Backward steps read gradients as whole arrays, so keep an exact-size copy of offset views.
            grad = value is null || (value.offset == 0 && value.storage.Length == value.ElementCount)
                ? value
                : new Tensor(Context, value.ToArray(), 0, value.shape, value.strides);
        }
    }

    /// <summary>Size of dimension <paramref name="dim"/> (negative counts from the end).</summary>
    public int Size(int dim) => shape[NormalizeAxis(dim, Rank, nameof(dim))];

    /// <summary>Keeps this non-leaf tensor's gradient after <see cref="Backward()"/> (for inspection).</summary>
    public void RetainGrad() => retainGrad = true;

    /// <summary>Fills the existing gradient with zeros, keeping its buffer for the next step.</summary>
    public void ZeroGrad() => grad?.Data.Clear();

    /// <summary>A leaf view of the same storage that records no history.</summary>
    public Tensor Detach() => View(shape, strides, offset);

    /// <summary>The elements in row-major order, as a new array (works for views too).</summary>
    public float[] ToArray()
    {
        ThrowIfReleased();
        var result = new float[ElementCount];
        if (IsContiguous)
        {
            Data.CopyTo(result);
        }
        else
        {
            StridedCopy.Gather(storage.AsSpan(offset), shape, strides, result, accumulate: false);
        }

        return result;
    }

    /// <summary>The value of a one-element tensor.</summary>
    public float Item()
    {
        if (ElementCount != 1)
        {
            throw new InvalidOperationException($"Item() needs a one-element tensor, but this tensor has shape {ShapeText(shape)}.");
        }

        ThrowIfReleased();
        return storage[offset];
    }

    /// <summary>The element at a full index (for inspection and tests; not for hot loops).</summary>
    public float At(params int[] index)
    {
        if (index.Length != Rank)
        {
            throw new ArgumentException($"At() needs {Rank} indices for shape {ShapeText(shape)}, got {index.Length}.", nameof(index));
        }

        ThrowIfReleased();
        var position = offset;
        for (var d = 0; d < Rank; d++)
        {
            if ((uint)index[d] >= (uint)shape[d])
            {
                throw new ArgumentOutOfRangeException(nameof(index), $"Index {index[d]} is outside dimension {d} of size {shape[d]}.");
            }

            position += index[d] * strides[d];
        }

        return storage[position];
    }

    /// <summary>Back-propagates from this one-element tensor (typically a loss), accumulating into leaves' <see cref="Grad"/>.</summary>
    public void Backward()
    {
        if (ElementCount != 1)
        {
            throw new InvalidOperationException($"Backward() without an output gradient needs a one-element tensor (a loss), but this tensor has shape {ShapeText(shape)}; pass the gradient explicitly.");
        }

        Backward([1f]);
    }

    /// <summary>Back-propagates an explicit gradient of this tensor (row-major, same element count).</summary>
    public void Backward(ReadOnlySpan<float> outputGradient)
    {
        if (!requiresGrad)
        {
            throw new InvalidOperationException("Backward() was called on a tensor that does not require gradients: no input had RequiresGrad = true, or it was computed inside NoGrad().");
        }

        if (outputGradient.Length != ElementCount)
        {
            throw new ArgumentException($"The output gradient has {outputGradient.Length} values but tensor {ShapeText(shape)} has {ElementCount} elements.", nameof(outputGradient));
        }

        var order = TopologicalOrder();
        AccumulateGrad(outputGradient);
        for (var i = order.Count - 1; i >= 0; i--)
        {
            var node = order[i];
            if (node.backward is null || node.grad is null)
            {
                continue;
            }

            node.backward(node.grad.storage);
            if (!node.retainGrad)
            {
                // Like PyTorch, intermediate gradients are dropped once used; their memory is recycled.
                node.grad.RecycleStorage();
                node.grad = null;
            }
        }
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var text = new StringBuilder("Tensor").Append(ShapeText(shape));
        if (ElementCount <= 8)
        {
            text.Append(" [").Append(string.Join(", ", ToArray().Select(v => v.ToString("G6", CultureInfo.InvariantCulture)))).Append(']');
        }

        return text.ToString();
    }

    /// <summary>Nodes reachable from this one through inputs that require gradients, inputs before users.</summary>
    private List<Tensor> TopologicalOrder()
    {
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor Node, int NextParent)>();
        stack.Push((this, 0));
        visited.Add(this);
        while (stack.Count > 0)
        {
            var (node, next) = stack.Pop();
            if (next < node.parents.Length)
            {
                stack.Push((node, next + 1));
                var parent = node.parents[next];
                if (parent.requiresGrad && visited.Add(parent))
                {
                    stack.Push((parent, 0));
                }
            }
            else
            {
                order.Add(node);
            }
        }

        return order;
    }

    /// <summary>This tensor's gradient buffer, allocated as zeros on first use.</summary>
    internal Span<float> GradBuffer() => GradArray().AsSpan();

    /// <summary>This tensor's gradient storage (exactly <see cref="ElementCount"/> long), allocated as zeros on first use.</summary>
    internal float[] GradArray()
    {
        var target = GradArrayForWrite(out var overwrite);
        if (overwrite)
        {
            Array.Clear(target);
        }

        return target;
    }

    /// <summary>
    /// Gradient storage for a backward step that covers every element: when no gradient exists yet the
    /// buffer is new and uninitialised and <paramref name="overwrite"/> is true, so the step assigns its
    /// values instead of adding them (saving a zeroing pass and a read).
    /// </summary>
    internal float[] GradArrayForWrite(out bool overwrite)
    {
        overwrite = grad is null;
        if (grad is null)
        {
            // Leaves keep their gradient across steps; intermediate gradients are recycled after use.
            var count = ElementCount;
            var buffer = IsLeaf || count < BufferPool.MinimumLength
                ? GC.AllocateUninitializedArray<float>(count)
                : Context.Pool.Rent(count);
            grad = new Tensor(Context, buffer, 0, shape, ContiguousStrides(shape)) { pooled = !IsLeaf && count >= BufferPool.MinimumLength };
        }

        return grad.storage;
    }

    /// <summary>Marks the tensor's memory as recycled (called when its scope ends); returns the storage to give back, if pooled.</summary>
    internal float[]? Release()
    {
        if (released || !pooled)
        {
            return null;
        }

        released = true;
        return storage;
    }

    private void RecycleStorage()
    {
        if (Release() is { } buffer)
        {
            Context.Pool.Return(buffer);
        }
    }

    /// <summary>A tensor sharing this tensor's storage with another shape and strides.</summary>
    internal Tensor View(int[] viewShape, int[] viewStrides, int viewOffset) =>
        new(Context, storage, viewOffset, viewShape, viewStrides) { viewOf = viewOf ?? this };

    /// <summary>grad += <paramref name="values"/> (assigned when the gradient is new), in this tensor's shape.</summary>
    internal void AccumulateGrad(ReadOnlySpan<float> values)
    {
        var target = GradArrayForWrite(out var overwrite);
        if (overwrite)
        {
            values.CopyTo(target);
        }
        else
        {
            System.Numerics.Tensors.TensorPrimitives.Add(target, values, target);
        }
    }

    internal void ThrowIfReleased()
    {
        if (released || viewOf?.released == true)
        {
            throw new InvalidOperationException($"Tensor {ShapeText(shape)} was created inside a tensor recycling scope that has ended, and its memory has been reused; read results before the scope ends (or copy them with ToArray()).");
        }
    }

    /// <summary>Attaches <paramref name="function"/> as this result's backward step if grad mode is on and any input requires gradients.</summary>
    internal void Record(Tensor[] inputs, BackwardFunction function)
    {
        if (!Context.GradEnabled)
        {
            return;
        }

        foreach (var input in inputs)
        {
            if (!ReferenceEquals(input.Context, Context))
            {
                throw new InvalidOperationException("An operation mixed tensors from different ComputeContexts; create all tensors of one model and its inputs from the same context.");
            }
        }

        if (!Array.Exists(inputs, t => t.requiresGrad))
        {
            return;
        }

        parents = inputs;
        backward = function;
        requiresGrad = true;
    }

    /// <summary>A new contiguous tensor; uninitialised unless <paramref name="zeroed"/> (callers overwrite every element).</summary>
    internal static Tensor Create(ComputeContext context, int[] shape, bool zeroed)
    {
        var count = CountOf(shape);
        if (context.Pool.ScopeActive && count >= BufferPool.MinimumLength)
        {
            var buffer = context.Pool.Rent(count);
            if (zeroed)
            {
                Array.Clear(buffer);
            }

            var tensor = new Tensor(context, buffer, 0, shape, ContiguousStrides(shape)) { pooled = true };
            context.Pool.Track(tensor);
            return tensor;
        }

        var data = zeroed ? new float[count] : GC.AllocateUninitializedArray<float>(count);
        return new Tensor(context, data, 0, shape, ContiguousStrides(shape));
    }

    internal Tensor NewLike(int[] newShape, bool zeroed = false) => Create(Context, newShape, zeroed);

    /// <summary>A working or saved-for-backward buffer; recycled with the step inside a recycling scope.</summary>
    internal float[] Scratch(int length, bool zeroed = false) => Create(Context, [length], zeroed).storage;

    internal static int[] CheckShape(int[] shape)
    {
        long count = 1;
        foreach (var size in shape)
        {
            if (size < 0)
            {
                throw new ArgumentException($"Shape {ShapeText(shape)} has a negative dimension; every size must be >= 0.", nameof(shape));
            }

            count *= size;
            if (count > Array.MaxLength)
            {
                throw new ArgumentException($"Shape {ShapeText(shape)} has more elements than one float array can hold.", nameof(shape));
            }
        }

        return (int[])shape.Clone();
    }

    internal static int CountOf(ReadOnlySpan<int> shape)
    {
        var count = 1;
        foreach (var size in shape)
        {
            count *= size;
        }

        return count;
    }

    internal static int[] ContiguousStrides(ReadOnlySpan<int> shape)
    {
        var result = new int[shape.Length];
        var stride = 1;
        for (var d = shape.Length - 1; d >= 0; d--)
        {
            result[d] = stride;
            stride *= shape[d];
        }

        return result;
    }

    internal static int NormalizeAxis(int axis, int rank, string what)
    {
        var normalized = axis < 0 ? axis + rank : axis;
        if (normalized < 0 || normalized >= rank)
        {
            throw new ArgumentOutOfRangeException(what, axis, $"Axis {axis} does not exist in a tensor of rank {rank}; use 0..{rank - 1} or -{rank}..-1.");
        }

        return normalized;
    }

    internal static string ShapeText(ReadOnlySpan<int> dims)
    {
        var text = new StringBuilder("[");
        for (var i = 0; i < dims.Length; i++)
        {
            text.Append(i == 0 ? "" : ", ").Append(dims[i].ToString(CultureInfo.InvariantCulture));
        }

        return text.Append(']').ToString();
    }

    private static bool HasContiguousStrides(int[] shape, int[] strides)
    {
        var expected = 1;
        for (var d = shape.Length - 1; d >= 0; d--)
        {
            // Size-1 dimensions may carry any stride without breaking contiguity.
            if (shape[d] != 1 && strides[d] != expected)
            {
                return false;
            }

            expected *= shape[d];
        }

        return true;
    }
}
