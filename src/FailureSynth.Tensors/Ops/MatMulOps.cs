using System.Numerics.Tensors;

namespace FailureSynth.Tensors;

/// <summary>Matrix products: 2-D and batched MatMul (transposed views go to GEMM without copies) and the fused linear layer.</summary>
public sealed partial class Tensor
{
    // Below this many flops per matrix, a batch of products runs one product per worker.
    private const long SmallProductFlops = 1L << 22;

    /// <summary>
    /// Matrix product over the last two dimensions: [M, K] x [K, N] -> [M, N]; [..., M, K] x [..., K, N]
    /// -> [..., M, N] with equal leading dimensions; [..., M, K] x [K, N] -> [..., M, N].
    /// </summary>
    public Tensor MatMul(Tensor other)
    {
        if (Rank < 2 || other.Rank < 2)
        {
            throw new ArgumentException($"MatMul needs tensors of rank >= 2, got {ShapeText(shape)} and {ShapeText(other.shape)}; use Reshape to add a dimension.");
        }

        var k = shape[^1];
        if (other.shape[^2] != k)
        {
            throw new ArgumentException($"MatMul: inner sizes differ, {ShapeText(shape)} x {ShapeText(other.shape)} ({k} vs {other.shape[^2]}).");
        }

        if (Rank > 2 && other.Rank == 2)
        {
            // [..., M, K] x [K, N]: fold the leading dimensions into rows, one large product.
            var n = other.shape[1];
            return Reshape(-1, k).MatMul(other).Reshape([.. shape[..^1], n]);
        }

        if (Rank != other.Rank || !shape.AsSpan(0, Rank - 2).SequenceEqual(other.shape.AsSpan(0, Rank - 2)))
        {
            throw new ArgumentException($"MatMul: leading (batch) dimensions must match, got {ShapeText(shape)} and {ShapeText(other.shape)}.");
        }

        var a = MatrixOperand.Of(this);
        var b = MatrixOperand.Of(other);
        int m = a.Rows, nOut = b.Cols, batch = a.Batch;
        var y = NewLike([.. shape[..^2], m, nOut]);
        var ctx = Context;
        RunBatched(ctx, batch, m, nOut, k, (gemm, i) =>
            gemm.Sgemm(a.Trans, b.Trans, m, nOut, k, 1f, a.Span(i), a.Ld, b.Span(i), b.Ld, 0f, y.storage.AsSpan(i * m * nOut), nOut));

        y.Record([a.Tensor, b.Tensor], g =>
        {
                        if (a.Tensor.RequiresGrad)
            {
                // dA = dY * op(B)^T
                var ga = a.Tensor.GradArrayForWrite(out var overwrite);
                RunBatched(ctx, batch, m, k, nOut, (gemm, i) =>
                    gemm.Sgemm(false, !b.Trans, m, k, nOut, 1f, g.AsSpan(i * m * nOut), nOut, b.Span(i), b.Ld, overwrite ? 0f : 1f, ga.AsSpan(i * m * k), k));
            }

            if (b.Tensor.RequiresGrad)
            {
                // dB = op(A)^T * dY
                var gb = b.Tensor.GradArrayForWrite(out var overwrite);
                RunBatched(ctx, batch, k, nOut, m, (gemm, i) =>
                    gemm.Sgemm(!a.Trans, false, k, nOut, m, 1f, a.Span(i), a.Ld, g.AsSpan(i * m * nOut), nOut, overwrite ? 0f : 1f, gb.AsSpan(i * k * nOut), nOut));
            }
        });
        return y;
    }

    /// <summary>
    /// Linear layer y = x W^T + b: x [..., in], weight [out, in], bias [out] or null -> [..., out].
    /// One GEMM straight into the output, which starts as the broadcast bias.
    /// </summary>
    public Tensor Linear(Tensor weight, Tensor? bias = null)
    {
        if (weight.Rank != 2 || Rank < 1 || shape[^1] != weight.shape[1])
        {
            throw new ArgumentException($"Linear: input {ShapeText(shape)} needs a weight [out, {(Rank > 0 ? shape[^1] : 0)}], got {ShapeText(weight.shape)}.", nameof(weight));
        }

        var outFeatures = weight.shape[0];
        if (bias is not null && (bias.Rank != 1 || bias.shape[0] != outFeatures))
        {
            throw new ArgumentException($"Linear: bias must be [{outFeatures}], got {ShapeText(bias.shape)}.", nameof(bias));
        }

        var x = Contiguous();
        var inFeatures = weight.shape[1];
        var rows = inFeatures == 0 ? 0 : x.ElementCount / inFeatures;
        var w = MatrixOperand.Of(weight);
        var b = bias?.Contiguous();
        var y = NewLike([.. shape[..^1], outFeatures]);
        var yData = y.Data;
        // [rows, in] x [out, in]^T -> [rows, out], the bias added as the managed kernel stores each tile.
        if (b is not null && Context.Gemm is ManagedGemm managed)
        {
            managed.SgemmWithBias(false, !w.Trans, rows, outFeatures, inFeatures, 1f, x.Data, inFeatures, w.Span(0), w.Ld, b.Data, biasPerRow: false, yData, outFeatures);
        }
        else
        {
            if (b is not null)
            {
                for (var r = 0; r < rows; r++)
                {
                    b.Data.CopyTo(yData.Slice(r * outFeatures, outFeatures));
                }
            }

            Context.Gemm.Sgemm(false, !w.Trans, rows, outFeatures, inFeatures, 1f, x.Data, inFeatures, w.Span(0), w.Ld, b is null ? 0f : 1f, yData, outFeatures);
        }

        Tensor[] inputs = b is null ? [x, w.Tensor] : [x, w.Tensor, b];
        y.Record(inputs, g =>
        {
            var gemm = x.Context.Gemm;
            if (x.RequiresGrad)
            {
                // dX [rows, in] += dY [rows, out] x W [out, in]
                var gx = x.GradArrayForWrite(out var overwrite);
                gemm.Sgemm(false, w.Trans, rows, inFeatures, outFeatures, 1f, g, outFeatures, w.Span(0), w.Ld, overwrite ? 0f : 1f, gx, inFeatures);
            }

            if (w.Tensor.RequiresGrad)
            {
                // dW [out, in] += dY^T [out, rows] x X [rows, in]
                var gw = w.Tensor.GradArrayForWrite(out var overwrite);
                gemm.Sgemm(true, false, outFeatures, inFeatures, rows, 1f, g, outFeatures, x.Data, inFeatures, overwrite ? 0f : 1f, gw, inFeatures);
            }

            if (b is not null && b.RequiresGrad)
            {
                var gb = b.GradBuffer();
                for (var r = 0; r < rows; r++)
                {
                    TensorPrimitives.Add(gb, g.AsSpan(r * outFeatures, outFeatures), gb);
                }
            }
        });
        return y;
    }

    /// <summary>
    /// Runs one product per batch element: small products in parallel, one per worker on the serial
    /// GEMM; large ones one after another on the multi-threaded GEMM. Each product writes its own output.
    /// </summary>
    private static void RunBatched(ComputeContext ctx, int batch, int m, int n, int k, Action<IGemm, int> product)
    {
        if (batch > 1 && 2L * m * n * k < SmallProductFlops)
        {
            ctx.For(batch, 2L * m * n * k, (start, end) =>
            {
                for (var i = start; i < end; i++)
                {
                    product(ctx.SerialGemm, i);
                }
            });
            return;
        }

        for (var i = 0; i < batch; i++)
        {
            product(ctx.Gemm, i);
        }
    }

    /// <summary>A tensor's last two dimensions as a (possibly transposed) row-major matrix per batch element, as GEMM takes them.</summary>
    private readonly record struct MatrixOperand(Tensor Tensor, int Rows, int Cols, int Ld, bool Trans, int BatchStride, int Batch)
    {
        public Span<float> Span(int batchIndex) => Tensor.storage.AsSpan(Tensor.offset + batchIndex * BatchStride);

        public static MatrixOperand Of(Tensor t)
        {
            if (TryDescribe(t, out var operand))
            {
                return operand;
            }

            TryDescribe(t.Contiguous(), out operand);
            return operand;
        }

        private static bool TryDescribe(Tensor t, out MatrixOperand operand)
        {
            var rank = t.Rank;
            int rows = t.shape[^2], cols = t.shape[^1];
            int rowStride = t.strides[^2], colStride = t.strides[^1];
            var batch = CountOf(t.shape.AsSpan(0, rank - 2));
            operand = default;

            // The batch dimensions must collapse into one stride.
            var batchStride = rows * cols;
            var expected = -1;
            for (var d = rank - 3; d >= 0; d--)
            {
                if (t.shape[d] == 1)
                {
                    continue;
                }

                if (expected < 0)
                {
                    batchStride = t.strides[d];
                }
                else if (t.strides[d] != expected)
                {
                    return false;
                }

                expected = t.strides[d] * t.shape[d];
            }

            if ((colStride == 1 || cols == 1) && (rowStride >= cols || rows == 1))
            {
                operand = new MatrixOperand(t, rows, cols, Math.Max(Math.Max(cols, 1), rows == 1 ? cols : rowStride), false, batchStride, batch);
                return true;
            }

            if ((rowStride == 1 || rows == 1) && (colStride >= rows || cols == 1))
            {
                operand = new MatrixOperand(t, rows, cols, Math.Max(Math.Max(rows, 1), cols == 1 ? rows : colStride), true, batchStride, batch);
                return true;
            }

            return false;
        }
    }
}
