using System.Security.Cryptography;

namespace FailureSynth.Workers;

/// <summary>
/// The folder every service shares for durable artifacts (ARCHITECTURE §5): images and checkpoints named by the
/// SHA-256 of their bytes, campaign folders. Configured as <c>FailureSynth:DataRoot</c>
/// (<c>FailureSynth__DataRoot</c>); relative paths from messages are resolved inside it and never leave it.
/// </summary>
public sealed class DataRoot
{
    public const string ConfigurationKey = "FailureSynth:DataRoot";

    public DataRoot(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new ArgumentException($"The data root is not configured: set {ConfigurationKey} (environment variable FailureSynth__DataRoot) to a folder all services share.", nameof(path));
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>The absolute path of <paramref name="relative"/>; throws when it would point outside the data root.</summary>
    public string Resolve(string relative)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(relative);
        string full = System.IO.Path.GetFullPath(System.IO.Path.Combine(Path, relative));
        if (!full.StartsWith(Path + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ArgumentException($"'{relative}' points outside the data root {Path}.", nameof(relative));
        return full;
    }

    /// <summary>
    /// Stores <paramref name="bytes"/> as <c>{folder}/{sha256}{extension}</c> (written to a temporary file, then
    /// renamed, so readers never see half a file; an existing file with that name already holds these bytes) and
    /// returns the path relative to the data root.
    /// </summary>
    public string StoreContentAddressed(string folder, byte[] bytes, string extension)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        string name = Convert.ToHexStringLower(SHA256.HashData(bytes)) + extension;
        string relative = folder + "/" + name;
        string full = Resolve(relative);
        if (File.Exists(full)) return relative;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        string temporary = full + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllBytes(temporary, bytes);
        File.Move(temporary, full, overwrite: true);
        return relative;
    }
}
