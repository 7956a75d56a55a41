namespace FailureSynth.Tensors;

/// <summary>
/// Low-rank adapter around a frozen <see cref="Linear"/>: y = base(x) + (alpha / r) * x A^T B^T with
/// A [r, in] random and B [out, r] zero, so training starts from the base layer's function.
/// <see cref="Merge"/> folds the adapter into the base weight for adapter-free inference.
/// </summary>
public sealed class LoraLinear : Module<Tensor, Tensor>
{
    /// <summary>Wraps <paramref name="baseLayer"/> (its parameters are frozen) with a rank-<paramref name="rank"/> adapter.</summary>
    public LoraLinear(Linear baseLayer, int rank, float alpha, SplitMix64 rng)
        : base(baseLayer.Context)
    {
        if (rank < 1 || rank > Math.Min(baseLayer.InFeatures, baseLayer.OutFeatures))
        {
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"LoRA rank must be in [1, {Math.Min(baseLayer.InFeatures, baseLayer.OutFeatures)}] for a {baseLayer.InFeatures}->{baseLayer.OutFeatures} layer.");
        }

        Rank = rank;
        Alpha = alpha;
        Base = RegisterModule("base_layer", baseLayer);
        Base.SetRequiresGrad(false);
        // A like PEFT: kaiming-uniform(a = sqrt 5), i.e. U(-1/sqrt(in), 1/sqrt(in)); B zero.
        var bound = 1f / MathF.Sqrt(baseLayer.InFeatures);
        A = RegisterParameter("lora_a", Context.RandomUniform(rng, -bound, bound, rank, baseLayer.InFeatures));
        B = RegisterParameter("lora_b", Context.Zeros(baseLayer.OutFeatures, rank));
    }

    /// <summary>The wrapped, frozen layer.</summary>
    public Linear Base { get; }

    /// <summary>Adapter rank r.</summary>
    public int Rank { get; }

    /// <summary>Adapter strength; the update is scaled by alpha / r.</summary>
    public float Alpha { get; }

    /// <summary>Scale applied to the low-rank update.</summary>
    public float Scaling => Alpha / Rank;

    /// <summary>[r, in] down projection.</summary>
    public Tensor A { get; }

    /// <summary>[out, r] up projection.</summary>
    public Tensor B { get; }

    /// <summary>True after <see cref="Merge"/>: the base weight includes the update and the adapter is skipped.</summary>
    public bool Merged { get; private set; }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
    {
        var y = Base.Forward(input);
        if (Merged)
        {
            return y;
        }

        // [..., in] -> [..., r] -> [..., out]
        var update = input.Linear(A).Linear(B);
        return y + update * Scaling;
    }

    /// <summary>
    /// Folds W += (alpha / r) B A into the base weight and zeroes B, so the layer computes the same
    /// function without the adapter, and a checkpoint saved afterwards does not apply the update twice.
    /// </summary>
    public void Merge()
    {
        if (Merged)
        {
            throw new InvalidOperationException("This LoRA adapter is already merged into its base weight.");
        }

        // [out, r] x [r, in] added onto W [out, in]
        Context.Gemm.Sgemm(false, false, Base.OutFeatures, Base.InFeatures, Rank, Scaling, B.Data, Rank, A.Data, Base.InFeatures, 1f, Base.Weight.Data, Base.InFeatures);
        B.Data.Clear();
        Merged = true;
    }
}
