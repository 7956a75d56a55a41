using FailureSynth.Tensors;

namespace FailureSynth.Tensors.Tests;

/// <summary>AdamW against PyTorch's update rule, gradient clipping, schedules and a learning smoke test.</summary>
public sealed class OptimizerTests
{
    private readonly ComputeContext ctx = TestData.Context();

    [Fact]
    public void AdamW_follows_pytorch_update_rule_over_several_steps()
    {
        // 19 elements: the vector body and the scalar tail both run.
        var p = ctx.RandomUniform(new SplitMix64(1), -1f, 1f, 19);
        p.RequiresGrad = true;
        var options = new AdamWOptions(LearningRate: 0.01f, Beta1: 0.8f, Beta2: 0.95f, Epsilon: 1e-6f, WeightDecay: 0.1f);
        var optimizer = new AdamW([p], options);
        var reference = p.ToArray().Select(v => (double)v).ToArray();
        var m = new double[19];
        var v = new double[19];
        var rng = new SplitMix64(2);
        for (var step = 1; step <= 3; step++)
        {
            var grad = Enumerable.Range(0, 19).Select(_ => rng.NextUniform(-1f, 1f)).ToArray();
            p.Grad = ctx.FromArray(grad, 19);
            optimizer.Step();
            for (var i = 0; i < 19; i++)
            {
                reference[i] *= 1 - 0.01 * 0.1;
                m[i] = 0.8 * m[i] + 0.2 * grad[i];
                v[i] = 0.95 * v[i] + 0.05 * grad[i] * grad[i];
                var mHat = m[i] / (1 - Math.Pow(0.8, step));
                var denominator = Math.Sqrt(v[i]) / Math.Sqrt(1 - Math.Pow(0.95, step)) + 1e-6;
                reference[i] -= 0.01 * mHat / denominator;
            }
        }

        var actual = p.ToArray();
        for (var i = 0; i < 19; i++)
        {
            Assert.Equal(reference[i], actual[i], 5);
        }

        Assert.Equal(3, optimizer.StepCount);
    }

    [Fact]
    public void AdamW_weight_decay_is_decoupled_from_the_gradient()
    {
        var p = ctx.FromArray([2f, -4f], 2);
        p.RequiresGrad = true;
        p.Grad = ctx.Zeros(2);
        new AdamW([p], new AdamWOptions(LearningRate: 0.1f, WeightDecay: 0.5f)).Step();
        // Zero gradient: only p *= 1 - lr * wd.
        Assert.Equal([1.9f, -3.8f], p.ToArray());
    }

    [Fact]
    public void AdamW_groups_apply_their_own_decay_and_skip_frozen_parameters()
    {
        var decayed = ctx.FromArray([1f], 1);
        var plain = ctx.FromArray([1f], 1);
        var frozen = ctx.FromArray([1f], 1);
        foreach (var t in new[] { decayed, plain, frozen })
        {
            t.RequiresGrad = true;
            t.Grad = ctx.Zeros(1);
        }

        var optimizer = new AdamW([new ParameterGroup([decayed], 1f), new ParameterGroup([plain, frozen], 0f)], new AdamWOptions(LearningRate: 0.1f));
        frozen.RequiresGrad = false;
        optimizer.Step();
        Assert.Equal(0.9f, decayed.Item(), 6);
        Assert.Equal(1f, plain.Item());
        Assert.Equal(1f, frozen.Item());
        var error = Assert.Throws<ArgumentException>(() => new AdamW([new ParameterGroup([plain], 0f), new ParameterGroup([plain], 1f)], new AdamWOptions()));
        Assert.Contains("appears twice", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Clip_grad_norm_returns_the_total_norm_and_scales_only_when_above()
    {
        var a = ctx.Zeros(1);
        var b = ctx.Zeros(1);
        a.RequiresGrad = b.RequiresGrad = true;
        a.Grad = ctx.FromArray([3f], 1);
        b.Grad = ctx.FromArray([4f], 1);
        Assert.Equal(5f, GradientClipping.ClipGradNorm([a, b], 10f), 6);
        Assert.Equal(3f, a.Grad.Item());
        Assert.Equal(5f, GradientClipping.ClipGradNorm([a, b], 1f), 6);
        Assert.Equal(3f / 5f, a.Grad.Item(), 5);
        Assert.Equal(4f / 5f, b.Grad!.Item(), 5);
    }

    [Fact]
    public void Warmup_cosine_schedule_rises_linearly_then_decays_to_the_minimum()
    {
        var schedule = new WarmupCosineSchedule(PeakLearningRate: 1f, WarmupSteps: 4, TotalSteps: 14, MinLearningRate: 0.1f);
        Assert.Equal(0.25f, schedule.LearningRateAt(0), 6);
        Assert.Equal(1f, schedule.LearningRateAt(3), 6);
        Assert.Equal(1f, schedule.LearningRateAt(4), 6);
        Assert.Equal(0.55f, schedule.LearningRateAt(9), 6);
        Assert.Equal(0.1f, schedule.LearningRateAt(14), 6);
        Assert.Equal(0.1f, schedule.LearningRateAt(100), 6);
        Assert.Equal(0.3f, new ConstantSchedule(0.3f).LearningRateAt(1000));
    }

    [Fact]
    public void Training_reduces_the_loss_of_a_small_classifier()
    {
        var rng = new SplitMix64(3);
        var model = new Sequential(ctx, new Linear(ctx, 4, 16, rng), new Gelu(ctx), new Linear(ctx, 16, 3, rng));
        var x = ctx.RandomNormal(new SplitMix64(4), 0f, 1f, 32, 4);
        // Labels from a fixed rule, so the classifier has something learnable.
        var data = x.ToArray();
        var labels = Enumerable.Range(0, 32).Select(i => data[i * 4] > 0 ? (data[i * 4 + 1] > 0 ? 2 : 1) : 0).ToArray();
        var optimizer = new AdamW(model.Parameters(), new AdamWOptions(LearningRate: 0.05f));
        var first = 0f;
        var last = 0f;
        for (var step = 0; step < 60; step++)
        {
            optimizer.ZeroGrad();
            var loss = model.Forward(x).CrossEntropy(labels);
            loss.Backward();
            optimizer.Step();
            if (step == 0)
            {
                first = loss.Item();
            }

            last = loss.Item();
        }

        Assert.True(last < first * 0.3f, $"loss went from {first} to {last}");
    }
}
