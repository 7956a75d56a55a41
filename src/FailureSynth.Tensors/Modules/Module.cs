namespace FailureSynth.Tensors;

/// <summary>
/// Base of every layer and model: ordered, hierarchically named parameters (<c>encoder.conv1.weight</c>),
/// buffers (state that is saved but not trained, such as batch-norm running statistics), child modules,
/// and train/eval mode.
/// </summary>
public abstract class Module(ComputeContext context)
{
    private readonly List<(string Name, Tensor Tensor)> parameters = [];
    private readonly List<(string Name, Tensor Tensor)> buffers = [];
    private readonly List<(string Name, Module Module)> children = [];

    /// <summary>The context this module's tensors live in.</summary>
    public ComputeContext Context { get; } = context;

    /// <summary>True in training mode (dropout active, batch norm uses batch statistics); see <see cref="Train"/>.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>Trainable tensors with dotted names, in registration order, children after their parent's own.</summary>
    public IEnumerable<(string Name, Tensor Parameter)> NamedParameters() => Walk(m => m.parameters);

    /// <summary>Trainable tensors in the order of <see cref="NamedParameters"/>.</summary>
    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Parameter);

    /// <summary>Saved, non-trained tensors with dotted names.</summary>
    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers() => Walk(m => m.buffers);

    /// <summary>Every tensor a checkpoint holds: parameters, then buffers.</summary>
    public IReadOnlyList<(string Name, Tensor Tensor)> StateDict() => [.. NamedParameters(), .. NamedBuffers()];

    /// <summary>Direct children with their names.</summary>
    public IEnumerable<(string Name, Module Module)> NamedChildren() => children;

    /// <summary>Number of trainable scalars.</summary>
    public long ParameterCount() => Parameters().Sum(p => (long)p.ElementCount);

    /// <summary>Sets training (true) or evaluation (false) mode on this module and every descendant.</summary>
    public void Train(bool training = true)
    {
        Training = training;
        foreach (var (_, child) in children)
        {
            child.Train(training);
        }
    }

    /// <summary>Evaluation mode: dropout off, batch norm uses running statistics.</summary>
    public void Eval() => Train(false);

    /// <summary>Zeroes every parameter's gradient, keeping the buffers.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters())
        {
            p.ZeroGrad();
        }
    }

    /// <summary>Freezes (false) or unfreezes (true) every parameter of this module and its descendants.</summary>
    public void SetRequiresGrad(bool requiresGrad)
    {
        foreach (var p in Parameters())
        {
            p.RequiresGrad = requiresGrad;
        }
    }

    /// <summary>Copies values into this module's state by name; every state tensor must be given once, with its shape.</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, (int[] Shape, float[] Data)> state, string source)
    {
        var expected = StateDict();
        var missing = expected.Where(e => !state.ContainsKey(e.Name)).Select(e => e.Name).ToList();
        var known = expected.Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        var unexpected = state.Keys.Where(k => !known.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
        {
            throw new InvalidDataException(
                $"{source} does not match the model {GetType().Name}: " +
                (missing.Count > 0 ? $"missing tensors [{string.Join(", ", missing)}]" : "") +
                (missing.Count > 0 && unexpected.Count > 0 ? "; " : "") +
                (unexpected.Count > 0 ? $"unexpected tensors [{string.Join(", ", unexpected)}]" : "") +
                ". Build the model with the architecture the checkpoint was saved with.");
        }

        foreach (var (name, tensor) in expected)
        {
            var (shape, data) = state[name];
            if (!shape.AsSpan().SequenceEqual(tensor.Shape))
            {
                throw new InvalidDataException($"{source}: tensor '{name}' has shape {Tensor.ShapeText(shape)} but the model expects {Tensor.ShapeText(tensor.Shape)}.");
            }

            data.CopyTo(tensor.Data);
        }
    }

    /// <summary>Registers a trainable tensor under <paramref name="name"/> and marks it as requiring gradients.</summary>
    protected Tensor RegisterParameter(string name, Tensor value)
    {
        CheckName(name);
        value.RequiresGrad = true;
        parameters.Add((name, value));
        return value;
    }

    /// <summary>Registers a saved, non-trained tensor under <paramref name="name"/>.</summary>
    protected Tensor RegisterBuffer(string name, Tensor value)
    {
        CheckName(name);
        buffers.Add((name, value));
        return value;
    }

    /// <summary>Registers a child module whose tensors are named <c>name.*</c>.</summary>
    protected T RegisterModule<T>(string name, T module)
        where T : Module
    {
        CheckName(name);
        if (!ReferenceEquals(module.Context, Context))
        {
            throw new ArgumentException($"Module '{name}' was built with a different ComputeContext than its parent {GetType().Name}; build a model's modules from one context.", nameof(module));
        }

        children.Add((name, module));
        return module;
    }

    private IEnumerable<(string Name, Tensor Tensor)> Walk(Func<Module, List<(string Name, Tensor Tensor)>> select)
    {
        foreach (var entry in select(this))
        {
            yield return entry;
        }

        foreach (var (childName, child) in children)
        {
            foreach (var (name, tensor) in child.Walk(select))
            {
                yield return ($"{childName}.{name}", tensor);
            }
        }
    }

    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
        {
            throw new ArgumentException($"Module member name '{name}' must be non-empty and contain no '.', which separates levels.", nameof(name));
        }

        if (parameters.Exists(p => p.Name == name) || buffers.Exists(b => b.Name == name) || children.Exists(c => c.Name == name))
        {
            throw new ArgumentException($"{GetType().Name} already has a member named '{name}'.", nameof(name));
        }
    }
}

/// <summary>A module with a single typed forward pass (most layers are Module&lt;Tensor, Tensor&gt;).</summary>
public abstract class Module<TInput, TOutput>(ComputeContext context) : Module(context)
{
    /// <summary>Computes the module's output.</summary>
    public abstract TOutput Forward(TInput input);
}
