namespace FailureSynth.Datasets;

/// <summary>Resolves sample image paths against a root folder and, when images are required, fails on a missing one.</summary>
internal sealed class ImageResolver(string root, bool required)
{
    public string Root { get; } = Path.GetFullPath(root);

    public bool Required { get; } = required;

    public string Resolve(string image) => Path.GetFullPath(Path.Combine(Root, image));

    public void Check(RecordScope scope, string field, string image)
    {
        if (!Required) return;
        var full = Resolve(image);
        if (!File.Exists(full))
            throw scope.Fail(field,
                $"image {JsonFiles.Quote(image)} not found at {full}; put the image there, or point the image root at the folder that holds the images");
    }

    public static ImageResolver For(string datasetFolder, DatasetReadOptions? options, bool requiredByDefault) =>
        new(options?.ImageRoot ?? datasetFolder, options?.RequireImages ?? requiredByDefault);
}
