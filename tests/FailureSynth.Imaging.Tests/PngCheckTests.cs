using System.IO.Compression;

namespace FailureSynth.Imaging.Tests;

/// <summary>Runs the reference validator pngcheck (an OS prerequisite) over files this codec and the tests write.</summary>
public sealed class PngCheckTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("failuresynth-pngcheck-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Every_encoded_file_passes_pngcheck()
    {
        var paths = new List<string>();
        foreach (var (w, h) in new[] { (1, 1), (3, 7), (64, 64), (200, 13) })
        {
            foreach (PngRowFilter? filter in new PngRowFilter?[] { null, PngRowFilter.None, PngRowFilter.Sub, PngRowFilter.Up, PngRowFilter.Average, PngRowFilter.Paeth })
            {
                foreach (CompressionLevel level in new[] { CompressionLevel.NoCompression, CompressionLevel.Fastest, CompressionLevel.Optimal, CompressionLevel.SmallestSize })
                {
                    RgbImage image = (w + h) % 2 == 0 ? PngEncoderTests.RandomImage(w, h, seed: w + h) : PngEncoderTests.SmoothImage(w, h);
                    string path = Path.Combine(_folder, $"enc-{w}x{h}-{filter?.ToString() ?? "Adaptive"}-{level}.png");
                    File.WriteAllBytes(path, PngEncoder.Encode(image, new PngEncoderOptions(level, filter)));
                    paths.Add(path);
                }
            }
        }

        var (exitCode, output) = PngTestFiles.RunPngCheck(paths);

        Assert.True(exitCode == 0, output);
        Assert.Equal(paths.Count, output.Split('\n').Count(line => line.StartsWith("No errors detected", StringComparison.Ordinal)));
    }

    [Fact]
    public void The_hand_built_decoder_test_files_pass_pngcheck()
    {
        // The decoder tests trust these files to be valid PNGs of each colour type with mixed filters.
        var paths = new List<string>();
        foreach (byte colorType in new byte[] { 0, 2, 4, 6 })
        {
            int channels = PngTestFiles.ChannelsOf(colorType);
            byte[] png = PngTestFiles.Png(ChecksumTests.RandomBytes(9 * 11 * channels, seed: colorType), 9, 11, colorType, y => (PngRowFilter)(y % 5));
            string path = Path.Combine(_folder, $"crafted-type{colorType}.png");
            File.WriteAllBytes(path, png);
            paths.Add(path);
        }

        var (exitCode, output) = PngTestFiles.RunPngCheck(paths);

        Assert.True(exitCode == 0, output);
    }

    [Fact]
    public void Pngcheck_rejects_a_corrupted_file_so_the_checks_above_can_fail()
    {
        byte[] png = PngEncoder.Encode(PngEncoderTests.RandomImage(4, 4, seed: 1));
        png[50] ^= 0x01; // inside the IDAT data, which starts at byte 41
        string path = Path.Combine(_folder, "corrupt.png");
        File.WriteAllBytes(path, png);

        var (exitCode, output) = PngTestFiles.RunPngCheck([path]);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("ERRORS DETECTED", output);
    }
}
