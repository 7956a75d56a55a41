using TorchSharp;
using static TorchSharp.torch;

namespace FailureSynth.TinyVlm.Torch;

/// <summary>
/// Copies weights and batch-norm statistics between a managed module (the checkpoint's source of truth) and its TorchSharp
/// mirror, by tensor name. TorchSharp's batch-norm step counters (num_batches_tracked) have no managed counterpart and are
/// left out, as the PyTorch reference leaves them out when it loads our checkpoints.
/// </summary>
public static class TorchWeights
{
    private const string StepCounter = "num_batches_tracked";

    /// <summary>Overwrites every tensor of <paramref name="target"/> with the managed tensor of the same name; names and shapes must match both ways.</summary>
    public static void CopyFrom(nn.Module target, Tensors.Module source)
    {
        var state = source.StateDict().ToDictionary(e => e.Name, e => e.Tensor, StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        using var noGrad = torch.no_grad();
        foreach (var (name, tensor) in Named(target))
        {
            if (!state.TryGetValue(name, out var managed))
                throw new InvalidOperationException($"The managed model has no tensor '{name}' that the TorchSharp model needs; the two architectures differ.");
            var shape = managed.Shape.ToArray().Select(d => (long)d).ToArray();
            if (!shape.SequenceEqual(tensor.shape))
                throw new InvalidOperationException($"Tensor '{name}' is [{string.Join(", ", shape)}] in the managed model but [{string.Join(", ", tensor.shape)}] in the TorchSharp model.");
            using var host = torch.tensor(managed.ToArray(), shape);
            tensor.copy_(host);
            seen.Add(name);
        }

        var missing = state.Keys.Where(k => !seen.Contains(k)).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException($"The TorchSharp model has no tensor for {string.Join(", ", missing)} of the managed model; the two architectures differ.");
    }

    /// <summary>Overwrites every tensor of the managed <paramref name="target"/> with the TorchSharp tensor of the same name.</summary>
    public static void CopyTo(nn.Module source, Tensors.Module target)
    {
        var state = new Dictionary<string, (int[] Shape, float[] Data)>(StringComparer.Ordinal);
        foreach (var (name, tensor) in Named(source))
        {
            using var host = tensor.detach().cpu().contiguous();
            state[name] = ([.. tensor.shape.Select(d => (int)d)], host.data<float>().ToArray());
        }

        target.LoadStateDict(state, "TorchSharp model");
    }

    /// <summary>Parameters and buffers by dotted name, without the batch-norm step counters.</summary>
    public static IEnumerable<(string Name, Tensor Tensor)> Named(nn.Module module)
    {
        foreach (var (name, parameter) in module.named_parameters()) yield return (name, parameter);
        foreach (var (name, buffer) in module.named_buffers())
        {
            if (!name.EndsWith(StepCounter, StringComparison.Ordinal)) yield return (name, buffer);
        }
    }
}
