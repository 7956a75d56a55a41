using System.Numerics.Tensors;

namespace FailureSynth.Tensors;

/// <summary>Element-wise arithmetic with numpy broadcasting, scalar arithmetic and unary math.</summary>
public sealed partial class Tensor
{
    private enum BinaryOp
    {
        Add,
        Subtract,
        Multiply,
        Divide,
    }

    /// <summary>Element-wise sum with broadcasting.</summary>
    public Tensor Add(Tensor other) => Binary(BinaryOp.Add, this, other);

    /// <summary>Element-wise difference with broadcasting.</summary>
    public Tensor Sub(Tensor other) => Binary(BinaryOp.Subtract, this, other);

    /// <summary>Element-wise product with broadcasting.</summary>
    public Tensor Mul(Tensor other) => Binary(BinaryOp.Multiply, this, other);

    /// <summary>Element-wise quotient with broadcasting.</summary>
    public Tensor Div(Tensor other) => Binary(BinaryOp.Divide, this, other);

    /// <inheritdoc cref="Add(Tensor)"/>
    public static Tensor operator +(Tensor a, Tensor b) => a.Add(b);

    /// <inheritdoc cref="Sub(Tensor)"/>
    public static Tensor operator -(Tensor a, Tensor b) => a.Sub(b);

    /// <inheritdoc cref="Mul(Tensor)"/>
    public static Tensor operator *(Tensor a, Tensor b) => a.Mul(b);

    /// <inheritdoc cref="Div(Tensor)"/>
    public static Tensor operator /(Tensor a, Tensor b) => a.Div(b);

    /// <summary>Multiplies every element by <paramref name="factor"/>.</summary>
    public static Tensor operator *(Tensor a, float factor) => a.Scale(factor);

    /// <summary>Multiplies every element by <paramref name="factor"/>.</summary>
    public static Tensor operator *(float factor, Tensor a) => a.Scale(factor);

    /// <summary>Adds <paramref name="value"/> to every element.</summary>
    public static Tensor operator +(Tensor a, float value) => a.AddScalar(value);

    /// <summary>Subtracts <paramref name="value"/> from every element.</summary>
    public static Tensor operator -(Tensor a, float value) => a.AddScalar(-value);

    /// <summary>Negates every element.</summary>
    public static Tensor operator -(Tensor a) => a.Scale(-1f);

    /// <summary>y = x * factor.</summary>
    public Tensor Scale(float factor)
    {
        var x = Contiguous();
        var y = NewLike(shape);
        TensorPrimitives.Multiply(x.Data, factor, y.Data);
        y.Record([x], g =>
        {
            var gx = x.GradArrayForWrite(out var overwrite);
            ElementwiseKernels.ScaleInto(g, factor, gx, overwrite);
        });
        return y;
    }

    /// <summary>y = x + value.</summary>
    public Tensor AddScalar(float value)
    {
        var x = Contiguous();
        var y = NewLike(shape);
        TensorPrimitives.Add(x.Data, value, y.Data);
        y.Record([x], g => x.AccumulateGrad(g));
        return y;
    }

    /// <summary>y = exp(x).</summary>
    public Tensor Exp()
    {
        var x = Contiguous();
        var y = NewLike(shape);
        TensorPrimitives.Exp(x.Data, y.Data);
        y.Record([x], g =>
        {
            var gx = x.GradArrayForWrite(out var overwrite);
            ElementwiseKernels.MultiplyInto(g, y.Data, gx, overwrite);
        });
        return y;
    }

    /// <summary>y = ln(x).</summary>
    public Tensor Log()
    {
        var x = Contiguous();
        var y = NewLike(shape);
        TensorPrimitives.Log(x.Data, y.Data);
        y.Record([x], g =>
        {
            var temp = x.Scratch(g.Length);
            TensorPrimitives.Divide(g, x.Data, temp);
            x.AccumulateGrad(temp);
        });
        return y;
    }

    /// <summary>y = sqrt(x).</summary>
    public Tensor Sqrt()
    {
        var x = Contiguous();
        var y = NewLike(shape);
        TensorPrimitives.Sqrt(x.Data, y.Data);
        y.Record([x], g =>
        {
            // d sqrt(x) / dx = 0.5 / sqrt(x)
            var temp = x.Scratch(g.Length);
            TensorPrimitives.Divide(g, y.Data, temp);
            TensorPrimitives.Multiply(temp, 0.5f, temp);
            x.AccumulateGrad(temp);
        });
        return y;
    }

    /// <summary>y = x * x.</summary>
    public Tensor Square()
    {
        var x = Contiguous();
        var y = NewLike(shape);
        TensorPrimitives.Multiply(x.Data, x.Data, y.Data);
        y.Record([x], g =>
        {
            var temp = x.Scratch(g.Length);
            TensorPrimitives.Multiply(g, x.Data, temp);
            TensorPrimitives.Multiply(temp, 2f, temp);
            x.AccumulateGrad(temp);
        });
        return y;
    }

    private static Tensor Binary(BinaryOp op, Tensor left, Tensor right)
    {
        var a = left.Contiguous();
        var b = right.Contiguous();
        var outShape = BroadcastPlan.ResultShape(a.shape, b.shape, op.ToString());
        var plan = BroadcastPlan.Create(outShape, a.shape, b.shape);
        var y = a.NewLike(outShape);
        BroadcastForward(op, plan, a.storage, a.offset, b.storage, b.offset, y.storage, a.Context);
        y.Record([a, b], g =>
        {
            var gOut = g;
            switch (op)
            {
                case BinaryOp.Add:
                    AccumulateReduced(plan, gOut, 1, a);
                    AccumulateReduced(plan, gOut, 2, b);
                    break;
                case BinaryOp.Subtract:
                    AccumulateReduced(plan, gOut, 1, a);
                    if (b.RequiresGrad)
                    {
                        var negated = a.Scratch(gOut.Length);
                        TensorPrimitives.Negate(gOut, negated);
                        AccumulateReduced(plan, negated, 2, b);
                    }

                    break;
                case BinaryOp.Multiply when a.ElementCount == plan.Count && b.ElementCount == plan.Count:
                    // Same shapes: dL/da = g * b and dL/db = g * a, written straight into the gradients.
                    if (a.RequiresGrad)
                    {
                        var ga = a.GradArrayForWrite(out var overwrite);
                        ElementwiseKernels.MultiplyInto(gOut, b.Data, ga, overwrite);
                    }

                    if (b.RequiresGrad)
                    {
                        var gb = b.GradArrayForWrite(out var overwrite);
                        ElementwiseKernels.MultiplyInto(gOut, a.Data, gb, overwrite);
                    }

                    break;
                case BinaryOp.Multiply:
                    if (a.RequiresGrad)
                    {
                        // dL/da = reduce(g * b)
                        var ga = a.Scratch(plan.Count);
                        BroadcastForward(BinaryOp.Multiply, plan, gOut, 0, b.storage, b.offset, ga, a.Context, leftOperand: 0, rightOperand: 2);
                        AccumulateReduced(plan, ga, 1, a);
                    }

                    if (b.RequiresGrad)
                    {
                        var gb = a.Scratch(plan.Count);
                        BroadcastForward(BinaryOp.Multiply, plan, gOut, 0, a.storage, a.offset, gb, a.Context, leftOperand: 0, rightOperand: 1);
                        AccumulateReduced(plan, gb, 2, b);
                    }

                    break;
                case BinaryOp.Divide:
                    // dL/da = reduce(g / b); dL/db = reduce(-(g / b) * y)
                    var gOverB = a.Scratch(plan.Count);
                    BroadcastForward(BinaryOp.Divide, plan, gOut, 0, b.storage, b.offset, gOverB, a.Context, leftOperand: 0, rightOperand: 2);
                    AccumulateReduced(plan, gOverB, 1, a);
                    if (b.RequiresGrad)
                    {
                        TensorPrimitives.Multiply(gOverB, y.Data, gOverB);
                        TensorPrimitives.Negate(gOverB, gOverB);
                        AccumulateReduced(plan, gOverB, 2, b);
                    }

                    break;
            }
        });
        return y;
    }

    /// <summary>out = left op right over the plan; the operands are plan operands <paramref name="leftOperand"/> and <paramref name="rightOperand"/>.</summary>
    private static void BroadcastForward(
        BinaryOp op, BroadcastPlan plan,
        float[] left, int leftOffset, float[] right, int rightOffset, float[] output,
        ComputeContext context, int leftOperand = 1, int rightOperand = 2)
    {
        var inner = plan.Inner;
        var leftInner = plan.InnerStride(leftOperand);
        var rightInner = plan.InnerStride(rightOperand);
        context.For(plan.Rows, inner, (start, end) =>
        {
            for (var row = start; row < end; row++)
            {
                var la = leftOffset + plan.RowOffset(row, leftOperand);
                var rb = rightOffset + plan.RowOffset(row, rightOperand);
                var y = output.AsSpan(row * inner, inner);
                var l = left.AsSpan(la, leftInner == 0 ? 1 : inner);
                var r = right.AsSpan(rb, rightInner == 0 ? 1 : inner);
                ApplyRow(op, l, leftInner, r, rightInner, y);
            }
        });
    }

    private static void ApplyRow(BinaryOp op, ReadOnlySpan<float> l, int leftInner, ReadOnlySpan<float> r, int rightInner, Span<float> y)
    {
        switch (leftInner, rightInner)
        {
            case (1, 1):
                switch (op)
                {
                    case BinaryOp.Add: TensorPrimitives.Add(l, r, y); break;
                    case BinaryOp.Subtract: TensorPrimitives.Subtract(l, r, y); break;
                    case BinaryOp.Multiply: TensorPrimitives.Multiply(l, r, y); break;
                    default: TensorPrimitives.Divide(l, r, y); break;
                }

                break;
            case (1, 0):
                switch (op)
                {
                    case BinaryOp.Add: TensorPrimitives.Add(l, r[0], y); break;
                    case BinaryOp.Subtract: TensorPrimitives.Subtract(l, r[0], y); break;
                    case BinaryOp.Multiply: TensorPrimitives.Multiply(l, r[0], y); break;
                    default: TensorPrimitives.Divide(l, r[0], y); break;
                }

                break;
            case (0, 1):
                switch (op)
                {
                    case BinaryOp.Add: TensorPrimitives.Add(r, l[0], y); break;
                    case BinaryOp.Subtract: TensorPrimitives.Subtract(l[0], r, y); break;
                    case BinaryOp.Multiply: TensorPrimitives.Multiply(r, l[0], y); break;
                    default: TensorPrimitives.Divide(l[0], r, y); break;
                }

                break;
            default:
                y.Fill(op switch
                {
                    BinaryOp.Add => l[0] + r[0],
                    BinaryOp.Subtract => l[0] - r[0],
                    BinaryOp.Multiply => l[0] * r[0],
                    _ => l[0] / r[0],
                });
                break;
        }
    }

    /// <summary>target.grad += <paramref name="values"/> (output-shaped) summed over the dimensions along which plan operand <paramref name="operand"/> was broadcast.</summary>
    private static void AccumulateReduced(BroadcastPlan plan, ReadOnlySpan<float> values, int operand, Tensor target)
    {
        if (!target.RequiresGrad)
        {
            return;
        }

        if (target.ElementCount == values.Length)
        {
            target.AccumulateGrad(values);
            return;
        }

        var gt = target.GradBuffer();
        // Rows in a fixed order: the sum for each target element is deterministic.
        var inner = plan.Inner;
        var innerStride = plan.InnerStride(operand);
        for (var row = 0; row < plan.Rows; row++)
        {
            var at = plan.RowOffset(row, operand);
            var v = values.Slice(row * inner, inner);
            if (innerStride == 1)
            {
                var t = gt.Slice(at, inner);
                TensorPrimitives.Add(t, v, t);
            }
            else
            {
                gt[at] += TensorPrimitives.Sum(v);
            }
        }
    }
}
