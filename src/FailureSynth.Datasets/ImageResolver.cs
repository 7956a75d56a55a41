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

    /// <summary>
    /// The resolver for a dataset: the caller's image root, or the format's default folder. A root the caller named
    /// must exist, even when images are not required: a mistyped folder would otherwise only show as every image missing.
    /// </summary>
    public static ImageResolver For(string datasetFolder, DatasetReadOptions? options, bool requiredByDefault)
    {
        if (options?.ImageRoot is { } given)
        {
            var full = Path.GetFullPath(given);
            if (!Directory.Exists(full))
                throw new DatasetFormatException(full, null, null, File.Exists(full)
                    ? $"the image folder given, {full}, is a file, not a folder; name the folder that holds the images"
                    : $"the image folder given, {full}, does not exist; check the path, or leave it out to use the folder beside the dataset");
        }

        return new(options?.ImageRoot ?? datasetFolder, options?.RequireImages ?? requiredByDefault);
    }
}
