using FailureSynth.Tensors;
using static FailureSynth.Tensors.Tests.TestData;

namespace FailureSynth.Tensors.Tests;

/// <summary>Finite-difference checks of broadcasting arithmetic and unary math.</summary>
public sealed class ElementwiseGradientTests
{
    private readonly ComputeContext ctx = Context();

    [Fact]
    public void Add_with_broadcasting_matches_finite_differences()
    {
        var a = Random(ctx, 1, 2, 3, 4);
        var b = Random(ctx, 2, 3, 1);
        GradientCheck.Assert(t => t[0] + t[1], [a, b]);
    }

    [Fact]
    public void Add_of_trailing_vector_and_scalar_shape_matches_finite_differences()
    {
        var a = Random(ctx, 3, 5, 4);
        var row = Random(ctx, 4, 4);
        var scalar = Random(ctx, 5, 1);
        GradientCheck.Assert(t => t[0] + t[1] + t[2], [a, row, scalar]);
    }

    [Fact]
    public void Sub_with_broadcasting_matches_finite_differences()
    {
        var a = Random(ctx, 6, 2, 1, 3);
        var b = Random(ctx, 7, 4, 3);
        GradientCheck.Assert(t => t[0] - t[1], [a, b]);
    }

    [Fact]
    public void Mul_with_broadcasting_matches_finite_differences()
    {
        var a = Random(ctx, 8, 2, 3, 4);
        var b = Random(ctx, 9, 2, 1, 4);
        GradientCheck.Assert(t => t[0] * t[1], [a, b]);
    }

    [Fact]
    public void Div_with_broadcasting_matches_finite_differences()
    {
        var a = Random(ctx, 10, 3, 4);
        var b = Uniform(ctx, 11, 0.5f, 2f, 4);
        GradientCheck.Assert(t => t[0] / t[1], [a, b]);
    }

    [Fact]
    public void Same_tensor_used_twice_accumulates_both_paths()
    {
        var a = Random(ctx, 12, 3, 3);
        GradientCheck.Assert(t => t[0] * t[0] + t[0], [a]);
    }

    [Fact]
    public void Scale_and_scalar_add_match_finite_differences()
    {
        var a = Random(ctx, 13, 2, 5);
        GradientCheck.Assert(t => (t[0] * 2.5f + 1f) - 0.5f, [a]);
    }

    [Fact]
    public void Exp_and_log_match_finite_differences()
    {
        var a = Random(ctx, 14, 3, 4);
        var positive = Uniform(ctx, 15, 0.5f, 2f, 3, 4);
        GradientCheck.Assert(t => t[0].Exp() + t[1].Log(), [a, positive]);
    }

    [Fact]
    public void Sqrt_and_square_match_finite_differences()
    {
        var positive = Uniform(ctx, 16, 0.5f, 2f, 2, 6);
        var a = Random(ctx, 17, 2, 6);
        GradientCheck.Assert(t => t[0].Sqrt() + t[1].Square(), [positive, a]);
    }
}

/// <summary>Finite-difference checks of ReLU, both GELU forms, tanh and sigmoid.</summary>
public sealed class ActivationGradientTests
{
    private readonly ComputeContext ctx = Context();

    [Fact]
    public void Relu_matches_finite_differences_away_from_zero()
    {
        var a = Distinct(ctx, 20, 0.1f, 4, 5);
        GradientCheck.Assert(t => t[0].Relu(), [a]);
    }

    [Fact]
    public void Exact_gelu_matches_finite_differences()
    {
        // 37 elements: exercises the vector body and the scalar tail.
        var a = Uniform(ctx, 21, -3f, 3f, 37);
        GradientCheck.Assert(t => t[0].Gelu(), [a]);
    }

    [Fact]
    public void Tanh_approximated_gelu_matches_finite_differences()
    {
        var a = Uniform(ctx, 22, -3f, 3f, 2, 9);
        GradientCheck.Assert(t => t[0].Gelu(tanhApproximation: true), [a]);
    }

    [Fact]
    public void Tanh_and_sigmoid_match_finite_differences()
    {
        var a = Uniform(ctx, 23, -2f, 2f, 19);
        var b = Uniform(ctx, 24, -2f, 2f, 19);
        GradientCheck.Assert(t => t[0].Tanh() + t[1].Sigmoid(), [a, b]);
    }
}

/// <summary>Finite-difference checks of sums and means over all elements or one axis.</summary>
public sealed class ReductionGradientTests
{
    private readonly ComputeContext ctx = Context();

    [Fact]
    public void Sum_and_mean_over_all_elements_match_finite_differences()
    {
        var a = Random(ctx, 30, 3, 4);
        GradientCheck.Assert(t => t[0].Sum() + t[0].Square().Mean(), [a]);
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(-1, false)]
    public void Sum_over_an_axis_matches_finite_differences(int axis, bool keepDim)
    {
        var a = Random(ctx, 31, 2, 3, 4);
        GradientCheck.Assert(t => t[0].Sum(axis, keepDim).Square(), [a]);
    }

    [Fact]
    public void Mean_over_an_axis_matches_finite_differences()
    {
        var a = Random(ctx, 32, 2, 5, 3);
        GradientCheck.Assert(t => t[0].Mean(1).Square(), [a]);
    }
}

/// <summary>Finite-difference checks of reshape, transpose, permute, slice and concat.</summary>
public sealed class ShapeGradientTests
{
    private readonly ComputeContext ctx = Context();

    [Fact]
    public void Reshape_and_flatten_match_finite_differences()
    {
        var a = Random(ctx, 40, 2, 3, 4);
        var w = Random(ctx, 41, 12);
        GradientCheck.Assert(t => t[0].Reshape(2, -1) * t[1] + t[0].Flatten(0).Reshape(2, 12), [a, w]);
    }

    [Fact]
    public void Transpose_view_feeds_element_wise_ops_with_correct_gradients()
    {
        var a = Random(ctx, 42, 3, 4);
        var b = Random(ctx, 43, 4, 3);
        GradientCheck.Assert(t => t[0].Transpose(0, 1) * t[1], [a, b]);
    }

    [Fact]
    public void Permute_matches_finite_differences()
    {
        var a = Random(ctx, 44, 2, 3, 4);
        var w = Random(ctx, 45, 4, 2, 3);
        GradientCheck.Assert(t => t[0].Permute(2, 0, 1).Contiguous() * t[1], [a, w]);
    }

    [Fact]
    public void Slice_and_concat_match_finite_differences()
    {
        var a = Random(ctx, 46, 2, 5, 3);
        var b = Random(ctx, 47, 2, 2, 3);
        GradientCheck.Assert(t => Tensor.Concat([t[0].Slice(1, 1, 3), t[1], t[0].Slice(1, 0, 1)], 1).Square(), [a, b]);
    }

    [Fact]
    public void Unsqueeze_broadcast_matches_finite_differences()
    {
        var a = Random(ctx, 48, 3, 4);
        var b = Random(ctx, 49, 3);
        GradientCheck.Assert(t => t[0] * t[1].Unsqueeze(1), [a, b]);
    }
}
