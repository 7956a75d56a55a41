using FailureSynth.Tensors;
using static FailureSynth.Tensors.Tests.TestData;

namespace FailureSynth.Tensors.Tests;

/// <summary>Finite-difference checks of matrix products and the linear layer.</summary>
public sealed class MatMulGradientTests
{
    private readonly ComputeContext ctx = Context();

    [Fact]
    public void MatMul_2d_matches_finite_differences()
    {
        var a = Random(ctx, 50, 3, 5);
        var b = Random(ctx, 51, 5, 4);
        GradientCheck.Assert(t => t[0].MatMul(t[1]), [a, b]);
    }

    [Fact]
    public void MatMul_of_transposed_views_matches_finite_differences()
    {
        var a = Random(ctx, 52, 5, 3);
        var b = Random(ctx, 53, 4, 5);
        GradientCheck.Assert(t => t[0].Transpose(0, 1).MatMul(t[1].Transpose(0, 1)), [a, b]);
    }

    [Fact]
    public void Batched_MatMul_matches_finite_differences()
    {
        var a = Random(ctx, 54, 2, 3, 4);
        var b = Random(ctx, 55, 2, 4, 5);
        GradientCheck.Assert(t => t[0].MatMul(t[1]), [a, b]);
    }

    [Fact]
    public void Batched_MatMul_with_a_shared_matrix_matches_finite_differences()
    {
        var a = Random(ctx, 56, 2, 3, 4);
        var b = Random(ctx, 57, 4, 2);
        GradientCheck.Assert(t => t[0].MatMul(t[1]), [a, b]);
    }

    [Fact]
    public void Batched_MatMul_of_transposed_batch_views_matches_finite_differences()
    {
        var q = Random(ctx, 58, 2, 3, 4);
        var k = Random(ctx, 59, 2, 5, 4);
        GradientCheck.Assert(t => t[0].MatMul(t[1].Transpose(1, 2)), [q, k]);
    }

    [Fact]
    public void Linear_with_bias_matches_finite_differences()
    {
        var x = Random(ctx, 60, 2, 3, 4);
        var w = Random(ctx, 61, 5, 4);
        var b = Random(ctx, 62, 5);
        GradientCheck.Assert(t => t[0].Linear(t[1], t[2]), [x, w, b]);
    }

    [Fact]
    public void Linear_without_bias_matches_finite_differences()
    {
        var x = Random(ctx, 63, 3, 4);
        var w = Random(ctx, 64, 2, 4);
        GradientCheck.Assert(t => t[0].Linear(t[1]), [x, w]);
    }
}

/// <summary>Finite-difference checks of convolution (stride, padding, pointwise) and pooling.</summary>
public sealed class ConvPoolGradientTests
{
    private readonly ComputeContext ctx = Context();

    [Fact]
    public void Conv2d_3x3_with_padding_matches_finite_differences()
    {
        var x = Random(ctx, 70, 2, 2, 5, 5);
        var w = Random(ctx, 71, 3, 2, 3, 3);
        var b = Random(ctx, 72, 3);
        GradientCheck.Assert(t => t[0].Conv2d(t[1], t[2], stride: 1, padding: 1), [x, w, b]);
    }

    [Fact]
    public void Conv2d_with_stride_2_and_padding_matches_finite_differences()
    {
        var x = Random(ctx, 73, 3, 2, 6, 7);
        var w = Random(ctx, 74, 2, 2, 3, 3);
        GradientCheck.Assert(t => t[0].Conv2d(t[1], null, stride: 2, padding: 1), [x, w]);
    }

    [Fact]
    public void Conv2d_pointwise_matches_finite_differences()
    {
        var x = Random(ctx, 75, 2, 3, 4, 4);
        var w = Random(ctx, 76, 4, 3, 1, 1);
        var b = Random(ctx, 77, 4);
        GradientCheck.Assert(t => t[0].Conv2d(t[1], t[2]), [x, w, b]);
    }

    [Fact]
    public void Conv2d_non_square_kernel_without_padding_matches_finite_differences()
    {
        var x = Random(ctx, 78, 1, 2, 5, 6);
        var w = Random(ctx, 79, 2, 2, 2, 3);
        GradientCheck.Assert(t => t[0].Conv2d(t[1], null, stride: 2), [x, w]);
    }

    [Fact]
    public void MaxPool2d_matches_finite_differences()
    {
        var x = Distinct(ctx, 80, 0.05f, 2, 2, 5, 5);
        GradientCheck.Assert(t => t[0].MaxPool2d(2), [x]);
    }

    [Fact]
    public void Overlapping_padded_MaxPool2d_matches_finite_differences()
    {
        var x = Distinct(ctx, 81, 0.05f, 1, 2, 5, 4);
        GradientCheck.Assert(t => t[0].MaxPool2d(3, stride: 2, padding: 1), [x]);
    }

    [Fact]
    public void AvgPool2d_with_padding_matches_finite_differences()
    {
        var x = Random(ctx, 82, 2, 2, 5, 5);
        GradientCheck.Assert(t => t[0].AvgPool2d(3, stride: 2, padding: 1), [x]);
    }

    [Fact]
    public void Global_average_pool_matches_finite_differences()
    {
        var x = Random(ctx, 83, 2, 3, 3, 4);
        GradientCheck.Assert(t => t[0].GlobalAvgPool2d(), [x]);
    }
}

/// <summary>Finite-difference checks of layer norm and batch norm in both modes.</summary>
public sealed class NormGradientTests
{
    private readonly ComputeContext ctx = Context();

    [Fact]
    public void LayerNorm_with_affine_matches_finite_differences()
    {
        var x = Random(ctx, 90, 3, 2, 6);
        var w = Uniform(ctx, 91, 0.5f, 1.5f, 6);
        var b = Random(ctx, 92, 6);
        GradientCheck.Assert(t => t[0].LayerNorm(t[1], t[2]), [x, w, b]);
    }

    [Fact]
    public void LayerNorm_without_affine_matches_finite_differences()
    {
        var x = Random(ctx, 93, 4, 5);
        GradientCheck.Assert(t => t[0].LayerNorm(null, null), [x]);
    }

    [Fact]
    public void BatchNorm2d_in_training_mode_matches_finite_differences()
    {
        var x = Random(ctx, 94, 3, 2, 2, 3);
        var w = Uniform(ctx, 95, 0.5f, 1.5f, 2);
        var b = Random(ctx, 96, 2);
        // Running statistics change on every call; fresh ones keep the check about the normalisation itself.
        GradientCheck.Assert(t => t[0].BatchNorm2d(t[1], t[2], ctx.Zeros(2), ctx.Ones(2), training: true), [x, w, b]);
    }

    [Fact]
    public void BatchNorm2d_in_evaluation_mode_matches_finite_differences()
    {
        var x = Random(ctx, 97, 2, 2, 3, 3);
        var w = Uniform(ctx, 98, 0.5f, 1.5f, 2);
        var b = Random(ctx, 99, 2);
        var mean = ctx.FromArray([0.1f, -0.2f], 2);
        var variance = ctx.FromArray([0.5f, 2f], 2);
        GradientCheck.Assert(t => t[0].BatchNorm2d(t[1], t[2], mean, variance, training: false), [x, w, b]);
    }
}

/// <summary>Finite-difference checks of softmax, log-softmax and cross-entropy.</summary>
public sealed class SoftmaxGradientTests
{
    private readonly ComputeContext ctx = Context();

    [Fact]
    public void Softmax_matches_finite_differences()
    {
        var x = Uniform(ctx, 100, -2f, 2f, 3, 5);
        GradientCheck.Assert(t => t[0].Softmax(), [x]);
    }

    [Fact]
    public void LogSoftmax_matches_finite_differences()
    {
        var x = Uniform(ctx, 101, -2f, 2f, 2, 2, 4);
        GradientCheck.Assert(t => t[0].LogSoftmax(), [x]);
    }

    [Fact]
    public void CrossEntropy_with_ignored_rows_matches_finite_differences()
    {
        var x = Uniform(ctx, 102, -2f, 2f, 5, 4);
        GradientCheck.Assert(t => t[0].CrossEntropy([1, -100, 3, 0, 2]), [x]);
    }

    [Fact]
    public void KlDivergence_with_rows_without_target_matches_finite_differences()
    {
        var x = Uniform(ctx, 103, -2f, 2f, 3, 4);
        float[] q = [0.1f, 0.2f, 0.3f, 0.4f, 0, 0, 0, 0, 0f, 1f, 0f, 0f];
        GradientCheck.Assert(t => t[0].KlDivergence(q), [x]);
    }
}

/// <summary>Finite-difference checks of embedding, attention (masked, causal, multi-head), dropout and LoRA.</summary>
public sealed class EmbeddingAttentionGradientTests
{
    private readonly ComputeContext ctx = Context();

    [Fact]
    public void Embedding_with_repeated_ids_matches_finite_differences()
    {
        var table = Random(ctx, 110, 6, 3);
        GradientCheck.Assert(t => Tensor.Embedding(t[0], [1, 4, 1, 0, 5, 1], 2, 3), [table]);
    }

    [Fact]
    public void Attention_with_key_mask_matches_finite_differences()
    {
        var q = Random(ctx, 111, 2, 3, 4);
        var k = Random(ctx, 112, 2, 5, 4);
        var v = Random(ctx, 113, 2, 5, 4);
        bool[] keyMask = [true, true, true, false, false, true, true, true, true, true];
        GradientCheck.Assert(t => Tensor.Attention(t[0], t[1], t[2], heads: 2, keyMask), [q, k, v]);
    }

    [Fact]
    public void Causal_self_attention_matches_finite_differences()
    {
        var x = Random(ctx, 114, 2, 4, 6);
        GradientCheck.Assert(t => Tensor.Attention(t[0], t[0] * 0.5f, t[0].Tanh(), heads: 3, causal: true), [x]);
    }

    [Fact]
    public void Dropout_with_a_fixed_seed_matches_finite_differences()
    {
        var x = Random(ctx, 115, 4, 8);
        GradientCheck.Assert(t => t[0].Dropout(0.3f, seed: 99), [x]);
    }

    [Fact]
    public void Multi_head_attention_module_matches_finite_differences()
    {
        var attention = new MultiHeadAttention(ctx, 4, 2, new SplitMix64(116));
        var x = Random(ctx, 117, 1, 3, 4);
        var parameters = attention.Parameters().ToArray();
        GradientCheck.Assert(t => attention.Forward(t[0], [true, true, false], causal: false), [x, .. parameters]);
    }

    [Fact]
    public void Lora_linear_matches_finite_differences_for_input_and_adapter()
    {
        var layer = new LoraLinear(new Linear(ctx, 5, 4, new SplitMix64(118)), rank: 2, alpha: 4f, new SplitMix64(119));
        // A zero B would hide A's gradient; give B values so both factors are checked.
        ctx.RandomUniform(new SplitMix64(121), -1f, 1f, 4, 2).Data.CopyTo(layer.B.Data);
        var x = Random(ctx, 122, 3, 5);
        GradientCheck.Assert(t => layer.Forward(t[0]), [x, layer.A, layer.B]);
    }
}
