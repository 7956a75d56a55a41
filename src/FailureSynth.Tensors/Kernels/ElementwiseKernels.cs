using System.Numerics;
using System.Runtime.InteropServices;

namespace FailureSynth.Tensors;

/// <summary>Fused element-wise kernels (one pass over memory) that TensorPrimitives has no single call for.</summary>
internal static class ElementwiseKernels
{
    /// <summary>y = a * x + b.</summary>
    public static void Affine(ReadOnlySpan<float> x, float a, float b, Span<float> y)
    {
        var xv = MemoryMarshal.Cast<float, Vector<float>>(x);
        var yv = MemoryMarshal.Cast<float, Vector<float>>(y);
        var av = new Vector<float>(a);
        var bv = new Vector<float>(b);
        for (var i = 0; i < xv.Length; i++)
        {
            yv[i] = Vector.FusedMultiplyAdd(xv[i], av, bv);
        }

        for (var i = xv.Length * Vector<float>.Count; i < x.Length; i++)
        {
            y[i] = MathF.FusedMultiplyAdd(x[i], a, b);
        }
    }

    /// <summary>dst = (or +=, unless <paramref name="overwrite"/>) a * g + b * x + c.</summary>
    public static void Combine(ReadOnlySpan<float> g, float a, ReadOnlySpan<float> x, float b, float c, Span<float> dst, bool overwrite)
    {
        var gv = MemoryMarshal.Cast<float, Vector<float>>(g);
        var xv = MemoryMarshal.Cast<float, Vector<float>>(x);
        var dv = MemoryMarshal.Cast<float, Vector<float>>(dst);
        var av = new Vector<float>(a);
        var bv = new Vector<float>(b);
        var cv = new Vector<float>(c);
        for (var i = 0; i < gv.Length; i++)
        {
            var value = Vector.FusedMultiplyAdd(gv[i], av, Vector.FusedMultiplyAdd(xv[i], bv, cv));
            dv[i] = overwrite ? value : dv[i] + value;
        }

        for (var i = gv.Length * Vector<float>.Count; i < g.Length; i++)
        {
            var value = MathF.FusedMultiplyAdd(g[i], a, MathF.FusedMultiplyAdd(x[i], b, c));
            dst[i] = overwrite ? value : dst[i] + value;
        }
    }

    /// <summary>dst = (or +=) g * m.</summary>
    public static void MultiplyInto(ReadOnlySpan<float> g, ReadOnlySpan<float> m, Span<float> dst, bool overwrite)
    {
        if (overwrite)
        {
            System.Numerics.Tensors.TensorPrimitives.Multiply(g, m, dst);
        }
        else
        {
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(g, m, dst, dst);
        }
    }

    /// <summary>dst = (or +=) g * s.</summary>
    public static void ScaleInto(ReadOnlySpan<float> g, float s, Span<float> dst, bool overwrite)
    {
        if (overwrite)
        {
            System.Numerics.Tensors.TensorPrimitives.Multiply(g, s, dst);
        }
        else
        {
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(g, s, dst, dst);
        }
    }
}
