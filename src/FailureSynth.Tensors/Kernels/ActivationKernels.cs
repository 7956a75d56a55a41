using System.Numerics;
using System.Runtime.InteropServices;

namespace FailureSynth.Tensors;

/// <summary>Vectorised activation functions and their derivatives (System.Numerics.Vector, hardware width).</summary>
internal static class ActivationKernels
{
    // Abramowitz & Stegun 7.1.26: |error| <= 1.5e-7, below float32 resolution of GELU's outputs.
    private const float ErfP = 0.3275911f;
    private const float ErfA1 = 0.254829592f;
    private const float ErfA2 = -0.284496736f;
    private const float ErfA3 = 1.421413741f;
    private const float ErfA4 = -1.453152027f;
    private const float ErfA5 = 1.061405429f;
    private const float InvSqrt2 = 0.70710678118654752f;
    private const float InvSqrt2Pi = 0.39894228040143268f;
    private const float SqrtTwoOverPi = 0.79788456080286536f;
    private const float TanhCubic = 0.044715f;

    /// <summary>erf(x) for float32 (A&amp;S 7.1.26, absolute error at most 1.5e-7).</summary>
    public static float Erf(float x)
    {
        var z = MathF.Abs(x);
        var t = 1f / (1f + ErfP * z);
        var poly = t * (ErfA1 + t * (ErfA2 + t * (ErfA3 + t * (ErfA4 + t * ErfA5))));
        var r = 1f - poly * MathF.Exp(-z * z);
        return x < 0 ? -r : r;
    }

    /// <summary>y = x * Phi(x) with the exact (erf) normal CDF, as PyTorch's default GELU.</summary>
    public static void GeluErf(ReadOnlySpan<float> x, Span<float> y)
    {
        var n = Vector<float>.Count;
        var xv = MemoryMarshal.Cast<float, Vector<float>>(x);
        var yv = MemoryMarshal.Cast<float, Vector<float>>(y);
        for (var i = 0; i < xv.Length; i++)
        {
            var v = xv[i];
            var (cdf, _) = NormalCdfAndExp(v);
            yv[i] = v * cdf;
        }

        for (var i = xv.Length * n; i < x.Length; i++)
        {
            y[i] = x[i] * 0.5f * (1f + Erf(x[i] * InvSqrt2));
        }
    }

    /// <summary>gx = (or +=, unless overwrite) g * (Phi(x) + x * phi(x)).</summary>
    public static void GeluErfBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> gx, bool overwrite)
    {
        var n = Vector<float>.Count;
        var xv = MemoryMarshal.Cast<float, Vector<float>>(x);
        var gv = MemoryMarshal.Cast<float, Vector<float>>(g);
        var ov = MemoryMarshal.Cast<float, Vector<float>>(gx);
        var invSqrt2Pi = new Vector<float>(InvSqrt2Pi);
        for (var i = 0; i < xv.Length; i++)
        {
            var v = xv[i];
            var (cdf, expHalfSquare) = NormalCdfAndExp(v);
            var derivative = cdf + v * expHalfSquare * invSqrt2Pi;
            ov[i] = overwrite ? gv[i] * derivative : Vector.FusedMultiplyAdd(gv[i], derivative, ov[i]);
        }

        for (var i = xv.Length * n; i < x.Length; i++)
        {
            var v = x[i];
            var derivative = 0.5f * (1f + Erf(v * InvSqrt2)) + v * MathF.Exp(-0.5f * v * v) * InvSqrt2Pi;
            gx[i] = overwrite ? g[i] * derivative : gx[i] + g[i] * derivative;
        }
    }

    /// <summary>y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), PyTorch's GELU(approximate='tanh').</summary>
    public static void GeluTanh(ReadOnlySpan<float> x, Span<float> y)
    {
        for (var i = 0; i < x.Length; i++)
        {
            var v = x[i];
            y[i] = 0.5f * v * (1f + MathF.Tanh(SqrtTwoOverPi * (v + TanhCubic * v * v * v)));
        }
    }

    /// <summary>gx = (or +=) g * d/dx GeluTanh(x).</summary>
    public static void GeluTanhBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> gx, bool overwrite)
    {
        for (var i = 0; i < x.Length; i++)
        {
            var v = x[i];
            var th = MathF.Tanh(SqrtTwoOverPi * (v + TanhCubic * v * v * v));
            var derivative = 0.5f * (1f + th) + 0.5f * v * (1f - th * th) * SqrtTwoOverPi * (1f + 3f * TanhCubic * v * v);
            gx[i] = overwrite ? g[i] * derivative : gx[i] + g[i] * derivative;
        }
    }

    /// <summary>gx = (or +=) x > 0 ? g : 0.</summary>
    public static void ReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> gx, bool overwrite)
    {
        var n = Vector<float>.Count;
        var xv = MemoryMarshal.Cast<float, Vector<float>>(x);
        var gv = MemoryMarshal.Cast<float, Vector<float>>(g);
        var ov = MemoryMarshal.Cast<float, Vector<float>>(gx);
        for (var i = 0; i < xv.Length; i++)
        {
            var passed = Vector.ConditionalSelect(Vector.GreaterThan(xv[i], Vector<float>.Zero), gv[i], Vector<float>.Zero);
            ov[i] = overwrite ? passed : ov[i] + passed;
        }

        for (var i = xv.Length * n; i < x.Length; i++)
        {
            var passed = x[i] > 0f ? g[i] : 0f;
            gx[i] = overwrite ? passed : gx[i] + passed;
        }
    }

    /// <summary>gx = (or +=) g * (1 - y^2) for y = tanh(x).</summary>
    public static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> g, Span<float> gx, bool overwrite)
    {
        var n = Vector<float>.Count;
        var yv = MemoryMarshal.Cast<float, Vector<float>>(y);
        var gv = MemoryMarshal.Cast<float, Vector<float>>(g);
        var ov = MemoryMarshal.Cast<float, Vector<float>>(gx);
        for (var i = 0; i < yv.Length; i++)
        {
            var value = gv[i] * (Vector<float>.One - yv[i] * yv[i]);
            ov[i] = overwrite ? value : ov[i] + value;
        }

        for (var i = yv.Length * n; i < y.Length; i++)
        {
            var value = g[i] * (1f - y[i] * y[i]);
            gx[i] = overwrite ? value : gx[i] + value;
        }
    }

    /// <summary>gx = (or +=) g * y * (1 - y) for y = sigmoid(x).</summary>
    public static void SigmoidBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> g, Span<float> gx, bool overwrite)
    {
        var n = Vector<float>.Count;
        var yv = MemoryMarshal.Cast<float, Vector<float>>(y);
        var gv = MemoryMarshal.Cast<float, Vector<float>>(g);
        var ov = MemoryMarshal.Cast<float, Vector<float>>(gx);
        for (var i = 0; i < yv.Length; i++)
        {
            var value = gv[i] * (yv[i] * (Vector<float>.One - yv[i]));
            ov[i] = overwrite ? value : ov[i] + value;
        }

        for (var i = yv.Length * n; i < y.Length; i++)
        {
            var value = g[i] * (y[i] * (1f - y[i]));
            gx[i] = overwrite ? value : gx[i] + value;
        }
    }

    /// <summary>Phi(v) and exp(-v^2/2) for a vector, sharing the exponential.</summary>
    private static (Vector<float> Cdf, Vector<float> ExpHalfSquare) NormalCdfAndExp(Vector<float> v)
    {
        var z = Vector.Abs(v) * new Vector<float>(InvSqrt2);
        var t = Vector<float>.One / Vector.FusedMultiplyAdd(z, new Vector<float>(ErfP), Vector<float>.One);
        var poly = Vector.FusedMultiplyAdd(t, new Vector<float>(ErfA5), new Vector<float>(ErfA4));
        poly = Vector.FusedMultiplyAdd(t, poly, new Vector<float>(ErfA3));
        poly = Vector.FusedMultiplyAdd(t, poly, new Vector<float>(ErfA2));
        poly = Vector.FusedMultiplyAdd(t, poly, new Vector<float>(ErfA1));
        poly *= t;
        var e = Vector.Exp(-(z * z));
        var erfAbs = Vector<float>.One - poly * e;
        var erf = Vector.ConditionalSelect(Vector.LessThan(v, Vector<float>.Zero), -erfAbs, erfAbs);
        return (new Vector<float>(0.5f) * (Vector<float>.One + erf), e);
    }
}
