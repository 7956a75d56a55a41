using System.Buffers;
using System.Numerics.Tensors;

namespace FailureSynth.Tensors;

/// <summary>Multi-head scaled dot-product attention, fused (scores, mask, softmax, weighted sum) with its backward.</summary>
public sealed partial class Tensor
{
    /// <summary>
    /// softmax(Q K^T / sqrt(dh) + mask) V per head, for q [B, Tq, D], k and v [B, Tk, D] whose last axis
    /// holds <paramref name="heads"/> heads of dh = D / heads features each -> [B, Tq, D].
    /// </summary>
    /// <param name="q">Queries [B, Tq, D].</param>
    /// <param name="k">Keys [B, Tk, D].</param>
    /// <param name="v">Values [B, Tk, D].</param>
    /// <param name="heads">Number of heads; must divide D.</param>
    /// <param name="keyMask">Optional [B * Tk] flags, true where a key may be attended (false for padding).</param>
    /// <param name="causal">Query i attends only keys j &lt;= i (top-left aligned, as PyTorch's is_causal).</param>
    /// <remarks>A query row whose keys are all masked gets a zero output and no gradient.</remarks>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, int heads, bool[]? keyMask = null, bool causal = false)
    {
        if (q.Rank != 3 || k.Rank != 3 || v.Rank != 3 || q.shape[0] != k.shape[0] || k.shape[0] != v.shape[0]
            || q.shape[2] != k.shape[2] || k.shape[2] != v.shape[2] || k.shape[1] != v.shape[1])
        {
            throw new ArgumentException($"Attention: q must be [B, Tq, D] and k, v [B, Tk, D], got {ShapeText(q.shape)}, {ShapeText(k.shape)}, {ShapeText(v.shape)}.");
        }

        int batch = q.shape[0], tq = q.shape[1], tk = k.shape[1], dModel = q.shape[2];
        if (heads < 1 || dModel % heads != 0)
        {
            throw new ArgumentException($"Attention: {heads} heads do not divide the model width {dModel}.", nameof(heads));
        }

        if (keyMask is not null && keyMask.Length != batch * tk)
        {
            throw new ArgumentException($"Attention: the key mask needs B * Tk = {batch * tk} flags, got {keyMask.Length}.", nameof(keyMask));
        }

        var qc = q.Contiguous();
        var kc = k.Contiguous();
        var vc = v.Contiguous();
        var ctx = q.Context;
        var dh = dModel / heads;
        var scale = 1f / MathF.Sqrt(dh);
        var units = batch * heads;
        // Attention weights [B, H, Tq, Tk], kept for the backward.
        var probabilities = qc.Scratch(units * tq * tk);
        var y = qc.NewLike([batch, tq, dModel]);
        var gemm = ctx.SerialGemm;
        ctx.For(units, 4L * tq * tk * dh, (start, end) =>
        {
            for (var unit = start; unit < end; unit++)
            {
                int b = unit / heads, h = unit % heads;
                var qAt = qc.offset + b * tq * dModel + h * dh;
                var kvAt = b * tk * dModel + h * dh;
                var p = probabilities.AsSpan(unit * tq * tk, tq * tk);
                // S = scale * Q_h K_h^T : [Tq, dh] x [dh, Tk]
                gemm.Sgemm(false, true, tq, tk, dh, scale, qc.storage.AsSpan(qAt), dModel, kc.storage.AsSpan(kc.offset + kvAt), dModel, 0f, p, tk);
                for (var i = 0; i < tq; i++)
                {
                    MaskedSoftmaxRow(p.Slice(i * tk, tk), keyMask, b * tk, causal ? i : int.MaxValue);
                }

                // O_h = P V_h : [Tq, Tk] x [Tk, dh], written into this head's columns of y.
                gemm.Sgemm(false, false, tq, dh, tk, 1f, p, tk, vc.storage.AsSpan(vc.offset + kvAt), dModel, 0f, y.storage.AsSpan(b * tq * dModel + h * dh), dModel);
            }
        });

        y.Record([qc, kc, vc], g =>
        {
            // Requested in the order each head writes them (dV, dQ, dK): when q, k and v are one tensor,
            // only the first write of a region may overwrite it, the later ones add.
            bool overwriteV = false, overwriteQ = false, overwriteK = false;
            var gv = vc.RequiresGrad ? vc.GradArrayForWrite(out overwriteV) : null;
            var gq = qc.RequiresGrad ? qc.GradArrayForWrite(out overwriteQ) : null;
            var gk = kc.RequiresGrad ? kc.GradArrayForWrite(out overwriteK) : null;
            ctx.For(units, 8L * tq * tk * dh, (start, end) =>
            {
                var dp = ArrayPool<float>.Shared.Rent(tq * tk);
                try
                {
                    for (var unit = start; unit < end; unit++)
                    {
                        int b = unit / heads, h = unit % heads;
                        var qAt = b * tq * dModel + h * dh;
                        var kvAt = b * tk * dModel + h * dh;
                        var p = probabilities.AsSpan(unit * tq * tk, tq * tk);
                        var go = g.AsSpan(qAt);
                        if (gv is not null)
                        {
                            // dV_h += P^T dO_h
                            gemm.Sgemm(true, false, tk, dh, tq, 1f, p, tk, go, dModel, overwriteV ? 0f : 1f, gv.AsSpan(kvAt), dModel);
                        }

                        if (gq is null && gk is null)
                        {
                            continue;
                        }

                        // dP = dO_h V_h^T, then dS = P * (dP - rowsum(dP * P))
                        var ds = dp.AsSpan(0, tq * tk);
                        gemm.Sgemm(false, true, tq, tk, dh, 1f, go, dModel, vc.storage.AsSpan(vc.offset + kvAt), dModel, 0f, ds, tk);
                        for (var i = 0; i < tq; i++)
                        {
                            var pr = p.Slice(i * tk, tk);
                            var dr = ds.Slice(i * tk, tk);
                            var dot = TensorPrimitives.Dot(pr, dr);
                            TensorPrimitives.Subtract(dr, dot, dr);
                            TensorPrimitives.Multiply(dr, pr, dr);
                        }

                        if (gq is not null)
                        {
                            // dQ_h += scale * dS K_h
                            gemm.Sgemm(false, false, tq, dh, tk, scale, ds, tk, kc.storage.AsSpan(kc.offset + kvAt), dModel, overwriteQ ? 0f : 1f, gq.AsSpan(qAt), dModel);
                        }

                        if (gk is not null)
                        {
                            // dK_h += scale * dS^T Q_h
                            gemm.Sgemm(true, false, tk, dh, tq, scale, ds, tk, qc.storage.AsSpan(qc.offset + qAt), dModel, overwriteK ? 0f : 1f, gk.AsSpan(kvAt), dModel);
                        }
                    }
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(dp);
                }
            });
        });
        return y;
    }

    /// <summary>Softmax of one score row over keys j that are valid and j &lt;= <paramref name="lastKey"/>; masked keys get weight 0.</summary>
    private static void MaskedSoftmaxRow(Span<float> scores, bool[]? keyMask, int maskOffset, int lastKey)
    {
        if (keyMask is null)
        {
            // Only a prefix of keys is visible: softmax over it, zero weight after it.
            var visible = Math.Min(scores.Length, lastKey == int.MaxValue ? scores.Length : lastKey + 1);
            if (visible > 0)
            {
                SoftmaxRow(scores[..visible], scores[..visible]);
            }

            scores[visible..].Clear();
            return;
        }

        var any = false;
        var max = float.NegativeInfinity;
        for (var j = 0; j < scores.Length; j++)
        {
            if (j > lastKey || (keyMask is not null && !keyMask[maskOffset + j]))
            {
                scores[j] = float.NegativeInfinity;
                continue;
            }

            any = true;
            max = MathF.Max(max, scores[j]);
        }

        if (!any)
        {
            scores.Clear();
            return;
        }

        TensorPrimitives.Subtract(scores, max, scores);
        TensorPrimitives.Exp(scores, scores);
        TensorPrimitives.Multiply(scores, 1f / TensorPrimitives.Sum(scores), scores);
    }
}
