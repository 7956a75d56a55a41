using FailureSynth.Tensors;

namespace FailureSynth.Tensors.Tests;

/// <summary>Forward results against values computed independently in double precision (PyTorch's definitions).</summary>
public sealed class ForwardValueTests
{
    private readonly ComputeContext ctx = TestData.Context();

    [Fact]
    public void Gelu_defaults_to_the_exact_erf_form()
    {
        var y = ctx.FromArray([1f, -0.5f, 2f, -3f, 0.25f, 1f, -0.5f, 2f, -3f], 9).Gelu().ToArray();
        double[] expected = [0.8413447460685429, -0.15426876936299344, 1.9544997361036416, -0.00404969409489031, 0.14967658142073093, 0.8413447460685429, -0.15426876936299344, 1.9544997361036416, -0.00404969409489031];
        for (var i = 0; i < y.Length; i++)
        {
            Assert.Equal(expected[i], y[i], 6);
        }
    }

    [Fact]
    public void Gelu_with_tanh_approximation_matches_its_formula()
    {
        var y = ctx.FromArray([1f, -0.5f, 2f], 3).Gelu(tanhApproximation: true).ToArray();
        Assert.Equal(0.8411919906082768, y[0], 6);
        Assert.Equal(-0.15428599017485606, y[1], 6);
        Assert.Equal(1.954597694087775, y[2], 6);
    }

    [Fact]
    public void Softmax_and_cross_entropy_match_reference_values()
    {
        var logits = ctx.FromArray([1f, 2f, 3f], 1, 3);
        var p = logits.Softmax().ToArray();
        Assert.Equal(0.09003057317038046, p[0], 6);
        Assert.Equal(0.24472847105479767, p[1], 6);
        Assert.Equal(0.6652409557748219, p[2], 6);
        Assert.Equal(2.40760596444438, logits.CrossEntropy([0]).Item(), 5);
        Assert.Equal(Math.Log(0.09003057317038046), logits.LogSoftmax().ToArray()[0], 5);
    }

    [Fact]
    public void Softmax_is_stable_for_large_logits()
    {
        var p = ctx.FromArray([1000f, 1000f, -1000f], 1, 3).Softmax().ToArray();
        Assert.Equal([0.5f, 0.5f, 0f], p);
    }

    [Fact]
    public void Cross_entropy_with_every_row_ignored_is_zero()
    {
        var x = TestData.Random(ctx, 1, 2, 3);
        var loss = x.CrossEntropy([-1, -1], ignoreIndex: -1);
        Assert.Equal(0f, loss.Item());
        loss.Backward();
        Assert.All(x.Grad!.ToArray(), g => Assert.Equal(0f, g));
    }

    [Fact]
    public void Kl_divergence_matches_reference_values_and_skips_rows_without_target()
    {
        var logits = ctx.FromArray([1f, 2f, 3f, 5f, -1f, 0f], 2, 3);
        logits.RequiresGrad = true;
        // softmax([1, 2, 3]) = (0.0900306, 0.2447285, 0.6652410); KL(q || p) with q = (0.5, 0.5, 0), by hand:
        // 0.5 ln(0.5 / 0.0900306) + 0.5 ln(0.5 / 0.2447285) = 1.2144588. The second row has no target.
        var loss = logits.KlDivergence([0.5f, 0.5f, 0f, 0f, 0f, 0f]);
        Assert.Equal(1.2144588, loss.Item(), 5);
        loss.Backward();
        var g = logits.Grad!.ToArray();
        Assert.Equal(0.0900306 - 0.5, g[0], 5);
        Assert.Equal(0.6652410, g[2], 5);
        Assert.All(g[3..], v => Assert.Equal(0f, v));
        Assert.Equal(0f, ctx.FromArray([1f, 2f], 1, 2).KlDivergence([0f, 0f]).Item());
    }

    [Fact]
    public void Kl_divergence_rejects_targets_that_are_not_distributions()
    {
        Assert.Contains("need 2 x 3 = 6", Assert.Throws<ArgumentException>(() => ctx.Zeros(2, 3).KlDivergence([1f, 0f, 0f])).Message, StringComparison.Ordinal);
        Assert.Contains("row 1 sum to 0.5", Assert.Throws<ArgumentException>(() => ctx.Zeros(2, 2).KlDivergence([1f, 0f, 0.25f, 0.25f])).Message, StringComparison.Ordinal);
        Assert.Contains("row 0, class 1", Assert.Throws<ArgumentOutOfRangeException>(() => ctx.Zeros(1, 2).KlDivergence([1.5f, -0.5f])).Message, StringComparison.Ordinal);
        Assert.Contains("row 0, class 0", Assert.Throws<ArgumentOutOfRangeException>(() => ctx.Zeros(1, 2).KlDivergence([float.NaN, 1f])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cross_entropy_rejects_targets_outside_the_classes()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ctx.Zeros(2, 3).CrossEntropy([0, 3]));
        Assert.Contains("target 3 of row 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Layer_norm_normalises_with_biased_variance()
    {
        var y = ctx.FromArray([1f, 2f, 3f, 4f], 1, 4).LayerNorm(null, null).ToArray();
        double[] expected = [-1.3416354199689269, -0.447211806656309, 0.447211806656309, 1.3416354199689269];
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(expected[i], y[i], 5);
        }
    }

    [Fact]
    public void Conv2d_is_a_cross_correlation()
    {
        var x = ctx.FromArray([1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f], 1, 1, 3, 3);
        var w = ctx.FromArray([1f, 0f, 0f, 2f], 1, 1, 2, 2);
        var b = ctx.FromArray([0.5f], 1);
        // out[i, j] = x[i, j] + 2 x[i+1, j+1] + 0.5
        Assert.Equal([11.5f, 14.5f, 20.5f, 23.5f], x.Conv2d(w, b).ToArray());
        // Padding 1, stride 2: corners see zeros outside.
        Assert.Equal([2.5f, 6.5f, 14.5f, 23.5f], x.Conv2d(w, b, stride: 2, padding: 1).ToArray());
    }

    [Fact]
    public void Linear_with_bias_matches_a_double_precision_reference()
    {
        // 37 x 65 outputs: full and edge tiles of the managed kernel, with the bias added at the store.
        var x = ctx.RandomUniform(new SplitMix64(40), -1f, 1f, 37, 70);
        var w = ctx.RandomUniform(new SplitMix64(41), -1f, 1f, 65, 70);
        var b = ctx.RandomUniform(new SplitMix64(42), -1f, 1f, 65);
        var y = x.Linear(w, b).ToArray();
        var (xs, ws, bs) = (x.ToArray(), w.ToArray(), b.ToArray());
        for (var i = 0; i < 37; i++)
        {
            for (var o = 0; o < 65; o++)
            {
                double expected = bs[o];
                for (var k = 0; k < 70; k++)
                {
                    expected += (double)xs[i * 70 + k] * ws[o * 70 + k];
                }

                Assert.Equal(expected, y[i * 65 + o], 1e-4);
            }
        }
    }

    [Fact]
    public void Conv2d_with_bias_matches_a_direct_convolution()
    {
        // 33 output channels and 81 positions: full and edge tiles, bias added per output channel.
        var x = ctx.RandomUniform(new SplitMix64(43), -1f, 1f, 2, 3, 9, 9);
        var w = ctx.RandomUniform(new SplitMix64(44), -1f, 1f, 33, 3, 3, 3);
        var b = ctx.RandomUniform(new SplitMix64(45), -1f, 1f, 33);
        var y = x.Conv2d(w, b, stride: 1, padding: 1);
        Assert.Equal([2, 33, 9, 9], y.Shape.ToArray());
        for (var n = 0; n < 2; n++)
        {
            for (var o = 0; o < 33; o++)
            {
                for (var i = 0; i < 9; i++)
                {
                    for (var j = 0; j < 9; j++)
                    {
                        double expected = b.At(o);
                        for (var c = 0; c < 3; c++)
                        {
                            for (var ki = 0; ki < 3; ki++)
                            {
                                for (var kj = 0; kj < 3; kj++)
                                {
                                    int ih = i - 1 + ki, iw = j - 1 + kj;
                                    if (ih is >= 0 and < 9 && iw is >= 0 and < 9)
                                    {
                                        expected += (double)x.At(n, c, ih, iw) * w.At(o, c, ki, kj);
                                    }
                                }
                            }
                        }

                        Assert.Equal(expected, y.At(n, o, i, j), 1e-4);
                    }
                }
            }
        }
    }

    [Fact]
    public void Pooling_takes_the_window_maximum_and_mean()
    {
        var x = ctx.FromArray([1f, 5f, 2f, 0f, 3f, 4f, 8f, 1f, 0f, 0f, 1f, 1f, 9f, 0f, 1f, 2f], 1, 1, 4, 4);
        Assert.Equal([5f, 8f, 9f, 2f], x.MaxPool2d(2).ToArray());
        Assert.Equal([3.25f, 2.75f, 2.25f, 1.25f], x.AvgPool2d(2).ToArray());
        Assert.Equal([2.375f], x.GlobalAvgPool2d().ToArray());
    }

    [Fact]
    public void Vectorised_two_by_two_max_pool_matches_the_general_window_path()
    {
        // Width 36: four 8-wide vector steps plus a scalar tail per output row.
        var x = TestData.Distinct(ctx, 46, 0.01f, 2, 3, 6, 36);
        var fast = x.MaxPool2d(2);
        var general = x.MaxPool2d(2, stride: 2, padding: 1).ToArray();
        var values = fast.ToArray();
        // With padding 1 the windows shift by one; compare against a direct scan instead.
        for (var p = 0; p < 6; p++)
        {
            for (var oh = 0; oh < 3; oh++)
            {
                for (var ow = 0; ow < 18; ow++)
                {
                    var expected = float.NegativeInfinity;
                    for (var ki = 0; ki < 2; ki++)
                    {
                        for (var kj = 0; kj < 2; kj++)
                        {
                            expected = Math.Max(expected, x.At(p / 3, p % 3, 2 * oh + ki, 2 * ow + kj));
                        }
                    }

                    Assert.Equal(expected, values[(p * 3 + oh) * 18 + ow]);
                }
            }
        }

        Assert.Equal(2 * 3 * 4 * 19, general.Length);
    }

    [Fact]
    public void Attention_with_equal_scores_averages_the_values()
    {
        var q = ctx.Zeros(1, 1, 2);
        var k = ctx.Zeros(1, 3, 2);
        var v = ctx.FromArray([1f, 10f, 2f, 20f, 6f, 60f], 1, 3, 2);
        Assert.Equal([3f, 30f], Tensor.Attention(q, k, v, heads: 1).ToArray());
        // A masked key drops out of the average; a fully masked row gives zeros.
        Assert.Equal([1.5f, 15f], Tensor.Attention(q, k, v, heads: 1, keyMask: [true, true, false]).ToArray());
        Assert.Equal([0f, 0f], Tensor.Attention(q, k, v, heads: 1, keyMask: [false, false, false]).ToArray());
    }

    [Fact]
    public void Broadcasting_follows_numpy_rules_and_reports_incompatible_shapes()
    {
        var a = ctx.FromArray([1f, 2f, 3f], 3, 1);
        var b = ctx.FromArray([10f, 20f], 2);
        Assert.Equal([11f, 21f, 12f, 22f, 13f, 23f], (a + b).ToArray());
        Assert.Equal([0.1f, 0.05f, 0.2f, 0.1f, 0.3f, 0.15f], (a / b).ToArray());
        var error = Assert.Throws<ArgumentException>(() => ctx.Zeros(2, 3) + ctx.Zeros(2));
        Assert.Contains("[2, 3] and [2] cannot be broadcast", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Embedding_rejects_ids_outside_the_vocabulary()
    {
        var table = ctx.Zeros(4, 2);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Embedding(table, [1, 4]));
        Assert.Contains("index 4 at position 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dropout_keeps_about_one_minus_p_and_rescales()
    {
        var y = ctx.Ones(10_000).Dropout(0.25f, seed: 5).ToArray();
        var kept = y.Count(v => v != 0f);
        Assert.InRange(kept, 7300, 7700);
        Assert.All(y.Where(v => v != 0f), v => Assert.Equal(1f / 0.75f, v, 6));
        Assert.Equal(y, ctx.Ones(10_000).Dropout(0.25f, seed: 5).ToArray());
        Assert.NotEqual(y, ctx.Ones(10_000).Dropout(0.25f, seed: 6).ToArray());
    }

    [Fact]
    public void Batch_norm_updates_running_statistics_like_pytorch()
    {
        var norm = new BatchNorm2d(ctx, 1);
        norm.Forward(ctx.FromArray([1f, 2f, 3f, 6f], 2, 1, 1, 2));
        // mean 3, unbiased variance 14/3: running = 0.9 * initial + 0.1 * batch.
        Assert.Equal(0.3f, norm.RunningMean.Item(), 6);
        Assert.Equal(0.9f + 0.1f * 14f / 3f, norm.RunningVar.Item(), 5);
        norm.Eval();
        var y = norm.Forward(ctx.FromArray([0.3f], 1, 1, 1, 1)).Item();
        Assert.Equal(0f, y, 6);
    }
}
