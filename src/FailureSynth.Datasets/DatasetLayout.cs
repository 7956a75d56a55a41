namespace FailureSynth.Datasets;

/// <summary>File names of a FailureSynth dataset folder, shared by the writer, the reader and the manifest.</summary>
public static class DatasetLayout
{
    public const string LlavaFile = "llava.json";
    public const string ProvenanceFile = "provenance.jsonl";
    public const string DatasetInfoFile = "dataset_info.json";
    public const string ManifestFile = "manifest.json";
    public const string ImagesFolder = "images";

    /// <summary>Relative path of a sample's image inside the folder: <c>images/{id}.png</c>.</summary>
    public static string ImagePath(string sampleId) => ImagesFolder + "/" + sampleId + ".png";

    /// <summary>The eight bytes every PNG file starts with.</summary>
    internal static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
}
