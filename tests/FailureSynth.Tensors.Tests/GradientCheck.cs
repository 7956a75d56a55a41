using FailureSynth.Tensors;

namespace FailureSynth.Tensors.Tests;

/// <summary>
/// Compares autograd gradients with central finite differences of L = sum(w * f(inputs)), where w is a
/// fixed random weighting of the output (so every output element carries a different upstream gradient).
/// </summary>
internal static class GradientCheck
{
    /// <summary>Asserts that every element of every input that requires gradients has a matching analytic gradient.</summary>
    public static void Assert(Func<Tensor[], Tensor> function, Tensor[] inputs, double eps = 1e-3, double relativeTolerance = 1e-2, double absoluteTolerance = 2e-3)
    {
        var ctx = inputs[0].Context;
        foreach (var input in inputs)
        {
            input.Grad = null;
        }

        var output = function(inputs);
        var rng = new SplitMix64(12345);
        var weights = new float[output.ElementCount];
        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] = rng.NextUniform(-1f, 1f);
        }

        output.Backward(weights);

        var checkedAny = false;
        for (var n = 0; n < inputs.Length; n++)
        {
            var input = inputs[n];
            if (!input.RequiresGrad)
            {
                continue;
            }

            Xunit.Assert.NotNull(input.Grad);
            var analytic = input.Grad!.ToArray();
            var data = input.Data;
            for (var j = 0; j < data.Length; j++)
            {
                var original = data[j];
                data[j] = (float)(original + eps);
                var plus = WeightedSum(ctx, function, inputs, weights);
                data[j] = (float)(original - eps);
                var minus = WeightedSum(ctx, function, inputs, weights);
                data[j] = original;
                // Divide by the step actually taken in float32, not the nominal one.
                var step = (double)(float)(original + eps) - (float)(original - eps);
                var numeric = (plus - minus) / step;
                var difference = Math.Abs(numeric - analytic[j]);
                var allowed = absoluteTolerance + relativeTolerance * Math.Max(Math.Abs(numeric), Math.Abs(analytic[j]));
                if (difference > allowed)
                {
                    Xunit.Assert.Fail($"Input {n} element {j}: analytic gradient {analytic[j]:G6} vs finite difference {numeric:G6} (difference {difference:G3} > {allowed:G3}).");
                }

                checkedAny = true;
            }
        }

        Xunit.Assert.True(checkedAny, "No input required gradients, so nothing was checked.");
    }

    private static double WeightedSum(ComputeContext ctx, Func<Tensor[], Tensor> function, Tensor[] inputs, float[] weights)
    {
        using (ctx.NoGrad())
        {
            var values = function(inputs).ToArray();
            var sum = 0.0;
            for (var i = 0; i < values.Length; i++)
            {
                sum += (double)values[i] * weights[i];
            }

            return sum;
        }
    }
}

/// <summary>Deterministic test tensors.</summary>
internal static class TestData
{
    /// <summary>A context with the managed GEMM (bit-reproducible) and the given thread count.</summary>
    public static ComputeContext Context(int threads = 2) => new(threads, new ManagedGemm(threads));

    /// <summary>A leaf of uniform values in [low, high) that requires gradients.</summary>
    public static Tensor Uniform(ComputeContext ctx, ulong seed, float low, float high, params int[] shape)
    {
        var t = ctx.RandomUniform(new SplitMix64(seed), low, high, shape);
        t.RequiresGrad = true;
        return t;
    }

    /// <summary>A leaf of uniform values in [-1, 1) that requires gradients.</summary>
    public static Tensor Random(ComputeContext ctx, ulong seed, params int[] shape) => Uniform(ctx, seed, -1f, 1f, shape);

    /// <summary>A leaf whose values are a shuffled, evenly spaced set with gaps of <paramref name="gap"/> (no ties, far from kinks).</summary>
    public static Tensor Distinct(ComputeContext ctx, ulong seed, float gap, params int[] shape)
    {
        var count = 1;
        foreach (var d in shape)
        {
            count *= d;
        }

        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = (i - count / 2 + 0.5f) * gap;
        }

        var rng = new SplitMix64(seed);
        for (var i = count - 1; i > 0; i--)
        {
            var j = rng.NextInt(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }

        var t = ctx.FromArray(values, shape);
        t.RequiresGrad = true;
        return t;
    }
}
