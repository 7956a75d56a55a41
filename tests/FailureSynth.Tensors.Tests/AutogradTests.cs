using FailureSynth.Tensors;

namespace FailureSynth.Tensors.Tests;

/// <summary>Autograd mechanics: accumulation, no-grad scopes, retained gradients, views and misuse errors.</summary>
public sealed class AutogradTests
{
    private readonly ComputeContext ctx = TestData.Context();

    [Fact]
    public void Gradients_accumulate_across_backward_calls_until_zeroed()
    {
        var x = ctx.FromArray([1f, 2f], 2);
        x.RequiresGrad = true;
        (x * x).Sum().Backward();
        (x * x).Sum().Backward();
        Assert.Equal([4f, 8f], x.Grad!.ToArray());
        x.ZeroGrad();
        Assert.Equal([0f, 0f], x.Grad!.ToArray());
    }

    [Fact]
    public void No_grad_scope_records_nothing_and_restores_the_mode()
    {
        var x = TestData.Random(ctx, 1, 3);
        Tensor y;
        using (ctx.NoGrad())
        {
            y = x.Relu().Sum();
            Assert.False(ctx.GradEnabled);
        }

        Assert.True(ctx.GradEnabled);
        Assert.False(y.RequiresGrad);
        var error = Assert.Throws<InvalidOperationException>(y.Backward);
        Assert.Contains("NoGrad", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Intermediate_gradients_are_dropped_unless_retained()
    {
        var x = TestData.Random(ctx, 2, 3);
        var hidden = x * 2f;
        var kept = hidden.Tanh();
        kept.RetainGrad();
        kept.Sum().Backward();
        Assert.Null(hidden.Grad);
        Assert.NotNull(kept.Grad);
        Assert.Equal([1f, 1f, 1f], kept.Grad!.ToArray());
    }

    [Fact]
    public void Backward_of_a_non_scalar_needs_an_explicit_gradient()
    {
        var x = TestData.Random(ctx, 3, 2, 2);
        var error = Assert.Throws<InvalidOperationException>(() => (x * 2f).Backward());
        Assert.Contains("pass the gradient explicitly", error.Message, StringComparison.Ordinal);
        (x * 2f).Backward([1f, 2f, 3f, 4f]);
        Assert.Equal([2f, 4f, 6f, 8f], x.Grad!.ToArray());
    }

    [Fact]
    public void RequiresGrad_can_only_be_set_on_leaves()
    {
        var y = TestData.Random(ctx, 4, 2) * 3f;
        Assert.Throws<InvalidOperationException>(() => y.RequiresGrad = false);
        Assert.True(y.Detach().IsLeaf);
    }

    [Fact]
    public void Tensors_of_different_contexts_cannot_be_combined()
    {
        var a = TestData.Random(ctx, 5, 2);
        var b = TestData.Random(TestData.Context(), 6, 2);
        var error = Assert.Throws<InvalidOperationException>(() => a + b);
        Assert.Contains("different ComputeContexts", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Transpose_is_a_view_that_Contiguous_materialises()
    {
        var x = ctx.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        var t = x.Transpose(0, 1);
        Assert.False(t.IsContiguous);
        Assert.Throws<InvalidOperationException>(() => t.Data.Length);
        Assert.Equal([1f, 4f, 2f, 5f, 3f, 6f], t.ToArray());
        Assert.Equal([1f, 4f, 2f, 5f, 3f, 6f], t.Contiguous().Data.ToArray());
        Assert.Equal(5f, t.At(1, 1));
        Assert.Equal([3, 2], t.Shape.ToArray());
    }

    [Fact]
    public void Reshape_infers_one_size_and_rejects_wrong_counts()
    {
        var x = ctx.Zeros(2, 3, 4);
        Assert.Equal([6, 4], x.Reshape(-1, 4).Shape.ToArray());
        var error = Assert.Throws<ArgumentException>(() => x.Reshape(5, -1));
        Assert.Contains("cannot be inferred", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Context_rejects_a_thread_count_below_one()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new ComputeContext(0, new ManagedGemm(1)));
        Assert.Contains("threads >= 1", error.Message, StringComparison.Ordinal);
    }
}
