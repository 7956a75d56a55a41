using System.Numerics.Tensors;

namespace FailureSynth.Tensors;

/// <summary>Gradient norm clipping with PyTorch's clip_grad_norm_ semantics.</summary>
public static class GradientClipping
{
    /// <summary>
    /// Scales all gradients by min(1, maxNorm / (norm + 1e-6)), where norm is the global L2 norm of every
    /// gradient together; returns that norm (before clipping). Parameters without a gradient are skipped.
    /// </summary>
    public static float ClipGradNorm(IEnumerable<Tensor> parameters, float maxNorm)
    {
        if (!(maxNorm > 0f))
        {
            throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "The maximum gradient norm must be positive.");
        }

        var grads = parameters.Select(p => p.Grad).OfType<Tensor>().ToList();
        // Squared norms summed in parameter order, in double, so the total is deterministic.
        var total = 0.0;
        foreach (var g in grads)
        {
            var norm = (double)TensorPrimitives.Norm(g.Data);
            total += norm * norm;
        }

        var totalNorm = (float)Math.Sqrt(total);
        var coefficient = maxNorm / (totalNorm + 1e-6f);
        if (coefficient < 1f)
        {
            foreach (var g in grads)
            {
                TensorPrimitives.Multiply(g.Data, coefficient, g.Data);
            }
        }

        return totalNorm;
    }
}
