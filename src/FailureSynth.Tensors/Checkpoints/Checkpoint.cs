namespace FailureSynth.Tensors;

/// <summary>Saves and loads a module's state (parameters and buffers) as a safetensors file with string metadata.</summary>
public static class Checkpoint
{
    /// <summary>Metadata key conventionally holding the architecture configuration (JSON).</summary>
    public const string ArchitectureKey = "architecture";

    /// <summary>Metadata key conventionally holding the vocabularies (JSON).</summary>
    public const string VocabulariesKey = "vocabularies";

    /// <summary>Metadata key conventionally holding the hash of the training-data manifest.</summary>
    public const string TrainingManifestHashKey = "training_manifest_sha256";

    /// <summary>The checkpoint bytes of <paramref name="module"/>'s state with <paramref name="metadata"/>; identical state gives identical bytes.</summary>
    public static byte[] Serialize(Module module, IReadOnlyDictionary<string, string>? metadata = null) =>
        Safetensors.Serialize(ToTensors(module), metadata);

    /// <summary>Writes <paramref name="module"/>'s state to <paramref name="path"/>.</summary>
    public static void Save(string path, Module module, IReadOnlyDictionary<string, string>? metadata = null) =>
        Safetensors.Write(path, ToTensors(module), metadata);

    /// <summary>Loads the checkpoint at <paramref name="path"/> into <paramref name="module"/> (names and shapes must match) and returns its metadata.</summary>
    public static IReadOnlyDictionary<string, string> Load(string path, Module module)
    {
        var file = Safetensors.Read(path);
        Apply(file, module, path);
        return file.Metadata;
    }

    /// <summary>Loads already-parsed checkpoint contents into <paramref name="module"/>.</summary>
    public static void Apply(SafetensorsFile file, Module module, string source)
    {
        var state = file.Tensors.ToDictionary(t => t.Name, t => (t.Shape, t.Data), StringComparer.Ordinal);
        module.LoadStateDict(state, $"Checkpoint '{source}'");
    }

    private static IEnumerable<SafetensorsTensor> ToTensors(Module module) =>
        module.StateDict().Select(e => new SafetensorsTensor(e.Name, e.Tensor.Shape.ToArray(), e.Tensor.ToArray()));
}
