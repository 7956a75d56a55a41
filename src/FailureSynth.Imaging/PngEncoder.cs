using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace FailureSynth.Imaging;

/// <summary>
/// How <see cref="PngEncoder"/> compresses. <see cref="Filter"/> null chooses, per row, the filter
/// with the smallest sum of absolute filtered values (the heuristic PNG's specification recommends);
/// a value forces that filter on every row.
/// </summary>
public sealed record PngEncoderOptions(
    CompressionLevel CompressionLevel = CompressionLevel.Optimal,
    PngRowFilter? Filter = null)
{
    public static PngEncoderOptions Default { get; } = new();

    /// <summary>
    /// For pictures that only carry pixels from one stage to the next: the fastest deflate and one row filter (Sub),
    /// not a search over the five filters per row. Still lossless; larger files (docs/throughput.md has the figures).
    /// </summary>
    public static PngEncoderOptions Transit { get; } = new(CompressionLevel.Fastest, PngRowFilter.Sub);
}

/// <summary>
/// Writes <see cref="RgbImage"/>s as 8-bit RGB, non-interlaced PNG files. The zlib wrapper (header and
/// Adler-32 trailer) is written here around the BCL's raw deflate, and the output depends only on the
/// pixels and the options, so identical images give identical bytes (on a given .NET runtime, whose
/// bundled deflate library fixes the compressed bytes; a test pins them so an update that changes them is noticed).
/// </summary>
public static class PngEncoder
{
    private const int Channels = RgbImage.BytesPerPixel;

    public static byte[] Encode(RgbImage image, PngEncoderOptions? options = null)
    {
        var output = new MemoryStream();
        Encode(image, output, options);
        return output.ToArray();
    }

    public static void Encode(RgbImage image, Stream output, PngEncoderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(output);
        options ??= PngEncoderOptions.Default;
        if (options.Filter is { } forced && !Enum.IsDefined(forced))
            throw new ArgumentException($"PngEncoderOptions.Filter {(byte)forced} is not a PNG filter type (0..4); use a PngRowFilter value or null for adaptive.", nameof(options));
        byte zlibFlags = ZlibFlagsFor(options.CompressionLevel); // validates the level before anything is written

        output.Write(PngFormat.Signature);

        Span<byte> header = stackalloc byte[PngFormat.IhdrLength];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)image.Width);
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], (uint)image.Height);
        header[8] = 8; // bit depth
        header[9] = PngFormat.ColorTypeRgb;
        header[10] = 0; // compression method: deflate
        header[11] = 0; // filter method: adaptive, five filter types
        header[12] = 0; // no interlace
        WriteChunk(output, "IHDR", header);

        WriteChunk(output, "IDAT", CompressToZlib(FilterRows(image, options.Filter), options.CompressionLevel, zlibFlags));
        WriteChunk(output, "IEND", []);
    }

    /// <summary>The filtered scanlines: each row is its filter-type byte followed by the filtered bytes.</summary>
    private static byte[] FilterRows(RgbImage image, PngRowFilter? forced)
    {
        int stride = image.Stride;
        var filtered = new byte[image.Height * (stride + 1)];
        var candidate = new byte[stride];
        var best = new byte[stride];
        ReadOnlySpan<byte> above = new byte[stride]; // the row above the first row counts as zeros
        for (int y = 0; y < image.Height; y++)
        {
            ReadOnlySpan<byte> row = image.GetRow(y);
            int start = y * (stride + 1);
            Span<byte> target = filtered.AsSpan(start + 1, stride);
            if (forced is { } filter)
            {
                filtered[start] = (byte)filter;
                Filter(filter, row, above, target, long.MaxValue);
            }
            else
            {
                var chosen = PngRowFilter.None;
                long bestCost = long.MaxValue;
                // Ties go to the lower filter type, which keeps the choice deterministic.
                for (var f = PngRowFilter.None; f <= PngRowFilter.Paeth; f++)
                {
                    long cost = Filter(f, row, above, candidate, bestCost);
                    if (cost < bestCost)
                    {
                        bestCost = cost;
                        chosen = f;
                        (candidate, best) = (best, candidate);
                    }
                }
                filtered[start] = (byte)chosen;
                best.AsSpan().CopyTo(target);
            }
            above = row;
        }
        return filtered;
    }

    /// <summary>
    /// Writes <paramref name="row"/> filtered into <paramref name="result"/> and returns the adaptive
    /// heuristic's cost: the sum of the filtered bytes' magnitudes read as signed values. Once the cost
    /// reaches <paramref name="giveUpAt"/> the filter cannot win, so it stops there and returns the partial cost.
    /// </summary>
    private static long Filter(PngRowFilter filter, ReadOnlySpan<byte> row, ReadOnlySpan<byte> above, Span<byte> result, long giveUpAt)
    {
        const int Bpp = Channels;
        int n = row.Length;
        above = above[..n];
        result = result[..n];
        long cost = 0;
        // The first pixel has no left neighbour (left and upper-left count as 0), so each filter
        // handles it on its own before the loop over the rest of the row.
        switch (filter)
        {
            case PngRowFilter.None:
                for (int i = 0; i < n && cost < giveUpAt; i++)
                    cost += Store(result, i, row[i]);
                break;
            case PngRowFilter.Sub:
                for (int i = 0; i < Bpp; i++)
                    cost += Store(result, i, row[i]);
                for (int i = Bpp; i < n && cost < giveUpAt; i++)
                    cost += Store(result, i, row[i] - row[i - Bpp]);
                break;
            case PngRowFilter.Up:
                for (int i = 0; i < n && cost < giveUpAt; i++)
                    cost += Store(result, i, row[i] - above[i]);
                break;
            case PngRowFilter.Average:
                for (int i = 0; i < Bpp; i++)
                    cost += Store(result, i, row[i] - (above[i] >> 1));
                for (int i = Bpp; i < n && cost < giveUpAt; i++)
                    cost += Store(result, i, row[i] - ((row[i - Bpp] + above[i]) >> 1));
                break;
            default:
                for (int i = 0; i < Bpp; i++)
                    cost += Store(result, i, row[i] - above[i]);
                for (int i = Bpp; i < n && cost < giveUpAt; i++)
                    cost += Store(result, i, row[i] - PngFormat.Paeth(row[i - Bpp], above[i], above[i - Bpp]));
                break;
        }
        return cost;
    }

    /// <summary>Stores the filtered byte and returns its magnitude as a signed byte.</summary>
    private static int Store(Span<byte> result, int i, int difference)
    {
        sbyte value = (sbyte)difference;
        result[i] = (byte)value;
        return Math.Abs((int)value);
    }

    /// <summary>A zlib stream (RFC 1950): two header bytes, the raw deflate body, the Adler-32 of the input.</summary>
    private static byte[] CompressToZlib(byte[] data, CompressionLevel level, byte zlibFlags)
    {
        var zlib = new MemoryStream(data.Length / 2 + 64);
        zlib.WriteByte(PngFormat.ZlibCmfDeflate32K);
        zlib.WriteByte(zlibFlags);
        using (var deflate = new DeflateStream(zlib, level, leaveOpen: true))
            deflate.Write(data);
        Span<byte> trailer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(trailer, Adler32.HashToUInt32(data));
        zlib.Write(trailer);
        return zlib.ToArray();
    }

    /// <summary>
    /// The FLG byte: FLEVEL (informative only) for the level, no preset dictionary, and FCHECK bits
    /// that make CMF·256 + FLG a multiple of 31.
    /// </summary>
    private static byte ZlibFlagsFor(CompressionLevel level)
    {
        int flevel = level switch
        {
            CompressionLevel.NoCompression or CompressionLevel.Fastest => 0,
            CompressionLevel.Optimal => 2,
            CompressionLevel.SmallestSize => 3,
            _ => throw new ArgumentException($"PngEncoderOptions.CompressionLevel {(int)level} is not a CompressionLevel; use NoCompression, Fastest, Optimal or SmallestSize.", "options"),
        };
        int flg = flevel << 6;
        int remainder = (PngFormat.ZlibCmfDeflate32K * 256 + flg) % 31;
        return (byte)(remainder == 0 ? flg : flg + 31 - remainder);
    }

    private static void WriteChunk(Stream output, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(prefix, (uint)data.Length);
        Encoding.ASCII.GetBytes(type, prefix[4..]);
        var crc = new Crc32();
        crc.Append(prefix[4..]);
        crc.Append(data);
        Span<byte> suffix = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(suffix, crc.GetCurrentHashAsUInt32());
        output.Write(prefix);
        output.Write(data);
        output.Write(suffix);
    }
}
