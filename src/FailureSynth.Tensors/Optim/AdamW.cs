using System.Numerics;
using System.Runtime.InteropServices;

namespace FailureSynth.Tensors;

/// <summary>Hyper-parameters of <see cref="AdamW"/> (PyTorch's defaults).</summary>
public sealed record AdamWOptions(
    float LearningRate = 1e-3f,
    float Beta1 = 0.9f,
    float Beta2 = 0.999f,
    float Epsilon = 1e-8f,
    float WeightDecay = 0.01f);

/// <summary>Parameters that share a weight decay (commonly: no decay for biases and norm scales).</summary>
public sealed record ParameterGroup(IReadOnlyList<Tensor> Parameters, float WeightDecay);

/// <summary>
/// Adam with decoupled weight decay, with PyTorch's update order: p *= 1 - lr*wd; m = lerp(m, g, 1 - b1);
/// v = b2 v + (1 - b2) g^2; p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
/// </summary>
public sealed class AdamW
{
    private readonly List<(Tensor Parameter, float WeightDecay, float[] M, float[] V)> slots = [];
    private readonly AdamWOptions options;

    /// <summary>Optimises <paramref name="parameters"/> with the options' weight decay for all.</summary>
    public AdamW(IEnumerable<Tensor> parameters, AdamWOptions options)
        : this([new ParameterGroup([.. parameters], options.WeightDecay)], options)
    {
    }

    /// <summary>Optimises parameter groups, each with its own weight decay.</summary>
    public AdamW(IEnumerable<ParameterGroup> groups, AdamWOptions options)
    {
        this.options = options;
        LearningRate = options.LearningRate;
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var group in groups)
        {
            foreach (var p in group.Parameters)
            {
                if (!p.IsContiguous || !p.IsLeaf)
                {
                    throw new ArgumentException($"AdamW can only update contiguous leaf tensors; a parameter of shape {Tensor.ShapeText(p.Shape)} is a view or an operation result.", nameof(groups));
                }

                if (!seen.Add(p))
                {
                    throw new ArgumentException($"A parameter of shape {Tensor.ShapeText(p.Shape)} appears twice in the AdamW groups; list each parameter once.", nameof(groups));
                }

                slots.Add((p, group.WeightDecay, new float[p.ElementCount], new float[p.ElementCount]));
            }
        }
    }

    /// <summary>Learning rate of the next step (set it from a schedule before each step).</summary>
    public float LearningRate { get; set; }

    /// <summary>Number of steps taken.</summary>
    public int StepCount { get; private set; }

    /// <summary>Zeroes every managed parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var slot in slots)
        {
            slot.Parameter.ZeroGrad();
        }
    }

    /// <summary>Updates every parameter that has a gradient and requires gradients (frozen ones are skipped).</summary>
    public void Step()
    {
        StepCount++;
        var lr = LearningRate;
        var biasCorrection1 = 1.0 - Math.Pow(options.Beta1, StepCount);
        var biasCorrection2 = 1.0 - Math.Pow(options.Beta2, StepCount);
        var stepSize = (float)(lr / biasCorrection1);
        var correction2Sqrt = (float)Math.Sqrt(biasCorrection2);
        foreach (var (parameter, weightDecay, m, v) in slots)
        {
            if (parameter.Grad is not { } grad || !parameter.RequiresGrad)
            {
                continue;
            }

            var p = parameter.Data;
            var g = grad.Data;
            var ctx = parameter.Context;
            var decay = 1f - lr * weightDecay;
            var coefficients = new Coefficients(decay, 1f - options.Beta1, options.Beta2, 1f - options.Beta2, correction2Sqrt, options.Epsilon, stepSize);
            var pArray = parameter.storage;
            var pOffset = parameter.offset;
            var gArray = grad.storage;
            ctx.For(p.Length, 16, (start, end) =>
                Update(pArray.AsSpan(pOffset + start, end - start), gArray.AsSpan(start, end - start), m.AsSpan(start, end - start), v.AsSpan(start, end - start), coefficients));
        }
    }

    private readonly record struct Coefficients(float Decay, float OneMinusBeta1, float Beta2, float OneMinusBeta2, float Correction2Sqrt, float Epsilon, float StepSize);

    private static void Update(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, Coefficients c)
    {
        var width = Vector<float>.Count;
        var pv = MemoryMarshal.Cast<float, Vector<float>>(p);
        var gv = MemoryMarshal.Cast<float, Vector<float>>(g);
        var mv = MemoryMarshal.Cast<float, Vector<float>>(m);
        var vv = MemoryMarshal.Cast<float, Vector<float>>(v);
        var decay = new Vector<float>(c.Decay);
        var oneMinusBeta1 = new Vector<float>(c.OneMinusBeta1);
        var beta2 = new Vector<float>(c.Beta2);
        var oneMinusBeta2 = new Vector<float>(c.OneMinusBeta2);
        var correction = new Vector<float>(c.Correction2Sqrt);
        var eps = new Vector<float>(c.Epsilon);
        var stepSize = new Vector<float>(c.StepSize);
        for (var i = 0; i < pv.Length; i++)
        {
            var gi = gv[i];
            var mi = mv[i] + oneMinusBeta1 * (gi - mv[i]);
            var vi = vv[i] * beta2 + oneMinusBeta2 * (gi * gi);
            mv[i] = mi;
            vv[i] = vi;
            var denominator = Vector.SquareRoot(vi) / correction + eps;
            pv[i] = pv[i] * decay - stepSize * (mi / denominator);
        }

        for (var i = pv.Length * width; i < p.Length; i++)
        {
            var gi = g[i];
            var mi = m[i] + c.OneMinusBeta1 * (gi - m[i]);
            var vi = v[i] * c.Beta2 + c.OneMinusBeta2 * (gi * gi);
            m[i] = mi;
            v[i] = vi;
            var denominator = MathF.Sqrt(vi) / c.Correction2Sqrt + c.Epsilon;
            p[i] = p[i] * c.Decay - c.StepSize * (mi / denominator);
        }
    }
}
