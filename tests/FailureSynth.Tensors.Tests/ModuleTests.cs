using FailureSynth.Tensors;

namespace FailureSynth.Tensors.Tests;

/// <summary>Module naming, modes, initialisation, LoRA behaviour and registration errors.</summary>
public sealed class ModuleTests
{
    private readonly ComputeContext ctx = TestData.Context();

    private sealed class Encoder : Module<Tensor, Tensor>
    {
        public Encoder(ComputeContext context, SplitMix64 rng)
            : base(context)
        {
            Conv1 = RegisterModule("conv1", new Conv2d(context, 3, 4, 3, rng, padding: 1));
            Norm = RegisterModule("norm", new BatchNorm2d(context, 4));
            Head = RegisterModule("head", new Sequential(context, new Flatten(context), new Relu(context), new Linear(context, 4 * 2 * 2, 5, rng)));
        }

        public Conv2d Conv1 { get; }

        public BatchNorm2d Norm { get; }

        public Sequential Head { get; }

        public override Tensor Forward(Tensor input) => Head.Forward(Norm.Forward(Conv1.Forward(input)).MaxPool2d(2));
    }

    private sealed class Model : Module<Tensor, Tensor>
    {
        public Model(ComputeContext context, SplitMix64 rng)
            : base(context)
        {
            Encoder = RegisterModule("encoder", new Encoder(context, rng));
            Dropout = RegisterModule("dropout", new Dropout(context, 0.5f, rng.Fork()));
        }

        public Encoder Encoder { get; }

        public Dropout Dropout { get; }

        public override Tensor Forward(Tensor input) => Dropout.Forward(Encoder.Forward(input));
    }

    [Fact]
    public void Parameters_have_hierarchical_names_in_registration_order()
    {
        var model = new Model(ctx, new SplitMix64(1));
        Assert.Equal(
            ["encoder.conv1.weight", "encoder.conv1.bias", "encoder.norm.weight", "encoder.norm.bias", "encoder.head.2.weight", "encoder.head.2.bias"],
            model.NamedParameters().Select(p => p.Name));
        Assert.Equal(["encoder.norm.running_mean", "encoder.norm.running_var"], model.NamedBuffers().Select(b => b.Name));
        Assert.Equal(4 * 3 * 9 + 4 + 4 + 4 + 16 * 5 + 5, model.ParameterCount());
    }

    [Fact]
    public void Eval_mode_reaches_every_descendant_and_disables_dropout()
    {
        var model = new Model(ctx, new SplitMix64(2));
        var x = ctx.RandomNormal(new SplitMix64(3), 0f, 1f, 2, 3, 4, 4);
        model.Eval();
        Assert.False(model.Encoder.Norm.Training);
        var first = model.Forward(x).ToArray();
        Assert.Equal(first, model.Forward(x).ToArray());
        model.Train();
        Assert.True(model.Dropout.Training);
        Assert.Contains(0f, model.Forward(x).ToArray());
    }

    [Fact]
    public void Initialisation_is_reproducible_from_the_seed()
    {
        var a = new Model(ctx, new SplitMix64(7)).Parameters().SelectMany(p => p.ToArray()).ToArray();
        var b = new Model(ctx, new SplitMix64(7)).Parameters().SelectMany(p => p.ToArray()).ToArray();
        var c = new Model(ctx, new SplitMix64(8)).Parameters().SelectMany(p => p.ToArray()).ToArray();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Linear_initialisation_stays_within_the_pytorch_bound()
    {
        var layer = new Linear(ctx, 16, 8, new SplitMix64(9));
        Assert.All(layer.Weight.ToArray(), w => Assert.InRange(w, -0.25f, 0.25f));
        Assert.All(layer.Bias!.ToArray(), b => Assert.InRange(b, -0.25f, 0.25f));
    }

    [Fact]
    public void Lora_starts_as_the_base_layer_and_trains_only_the_adapter()
    {
        var baseLayer = new Linear(ctx, 6, 4, new SplitMix64(10));
        var x = ctx.RandomNormal(new SplitMix64(11), 0f, 1f, 3, 6);
        var before = baseLayer.Forward(x).ToArray();
        var lora = new LoraLinear(baseLayer, rank: 2, alpha: 8f, new SplitMix64(12));
        Assert.Equal(before, lora.Forward(x).ToArray());
        lora.Forward(x).Square().Sum().Backward();
        Assert.Null(baseLayer.Weight.Grad);
        Assert.NotNull(lora.B.Grad);
        Assert.Equal(new[] { "base_layer.weight", "base_layer.bias", "lora_a", "lora_b" }.Order(), lora.NamedParameters().Select(p => p.Name).Order());
    }

    [Fact]
    public void Merged_lora_computes_the_same_output_as_the_unmerged_adapter()
    {
        var lora = new LoraLinear(new Linear(ctx, 6, 5, new SplitMix64(13)), rank: 3, alpha: 6f, new SplitMix64(14));
        ctx.RandomNormal(new SplitMix64(15), 0f, 0.5f, 5, 3).Data.CopyTo(lora.B.Data);
        var x = ctx.RandomNormal(new SplitMix64(16), 0f, 1f, 4, 6);
        var unmerged = lora.Forward(x).ToArray();
        Assert.NotEqual(unmerged, lora.Base.Forward(x).ToArray());
        lora.Merge();
        Assert.True(lora.Merged);
        var merged = lora.Forward(x).ToArray();
        for (var i = 0; i < merged.Length; i++)
        {
            Assert.Equal(unmerged[i], merged[i], 5);
        }

        Assert.Equal(merged, lora.Base.Forward(x).ToArray());
        Assert.Throws<InvalidOperationException>(lora.Merge);
    }

    [Fact]
    public void Duplicate_member_names_are_rejected()
    {
        var error = Assert.Throws<ArgumentException>(() => new Duplicate(ctx));
        Assert.Contains("already has a member named 'w'", error.Message, StringComparison.Ordinal);
    }

    private sealed class Duplicate : Module
    {
        public Duplicate(ComputeContext context)
            : base(context)
        {
            RegisterParameter("w", context.Zeros(1));
            RegisterParameter("w", context.Zeros(1));
        }
    }
}
