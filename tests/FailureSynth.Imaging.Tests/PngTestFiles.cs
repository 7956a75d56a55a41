using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Text;

namespace FailureSynth.Imaging.Tests;

/// <summary>
/// Hand-built PNG files for decoder tests. The row filters and the zlib stream here are made
/// independently of <see cref="PngEncoder"/> (filters written from the specification, zlib by the
/// BCL's ZLibStream), so the decoder is checked against something other than its own encoder.
/// </summary>
internal static class PngTestFiles
{
    public static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static byte[] Chunk(string type, ReadOnlySpan<byte> data)
    {
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(chunk, (uint)data.Length);
        Encoding.ASCII.GetBytes(type, chunk.AsSpan(4, 4));
        data.CopyTo(chunk.AsSpan(8));
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc32.HashToUInt32(chunk.AsSpan(4, 4 + data.Length)));
        return chunk;
    }

    public static byte[] Ihdr(uint width, uint height, byte bitDepth = 8, byte colorType = 2, byte interlace = 0, byte compression = 0, byte filterMethod = 0)
    {
        var data = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(data, width);
        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(4), height);
        data[8] = bitDepth;
        data[9] = colorType;
        data[10] = compression;
        data[11] = filterMethod;
        data[12] = interlace;
        return Chunk("IHDR", data);
    }

    public static byte[] File(params byte[][] chunks) => [.. Signature, .. chunks.SelectMany(c => c)];

    public static byte[] Iend() => Chunk("IEND", []);

    public static byte[] Zlib(byte[] raw, CompressionLevel level = CompressionLevel.Optimal)
    {
        var z = new MemoryStream();
        using (var zlib = new ZLibStream(z, level, leaveOpen: true))
            zlib.Write(raw);
        return z.ToArray();
    }

    /// <summary>Filtered scanlines for 8-bit samples, <paramref name="bpp"/> bytes per pixel, with the filter chosen per row.</summary>
    public static byte[] FilterRows(byte[] samples, int width, int height, int bpp, Func<int, PngRowFilter> filterOfRow)
    {
        int rowBytes = width * bpp;
        var raw = new byte[height * (rowBytes + 1)];
        for (int y = 0; y < height; y++)
        {
            PngRowFilter filter = filterOfRow(y);
            raw[y * (rowBytes + 1)] = (byte)filter;
            for (int i = 0; i < rowBytes; i++)
            {
                int x = samples[y * rowBytes + i];
                int a = i >= bpp ? samples[y * rowBytes + i - bpp] : 0;
                int b = y > 0 ? samples[(y - 1) * rowBytes + i] : 0;
                int c = i >= bpp && y > 0 ? samples[(y - 1) * rowBytes + i - bpp] : 0;
                int predicted = filter switch
                {
                    PngRowFilter.None => 0,
                    PngRowFilter.Sub => a,
                    PngRowFilter.Up => b,
                    PngRowFilter.Average => (a + b) / 2,
                    PngRowFilter.Paeth => PaethFromSpecification(a, b, c),
                    _ => throw new ArgumentOutOfRangeException(nameof(filterOfRow)),
                };
                raw[y * (rowBytes + 1) + 1 + i] = (byte)(x - predicted);
            }
        }
        return raw;
    }

    /// <summary>A complete 8-bit PNG of the given colour type whose rows use the given filters.</summary>
    public static byte[] Png(byte[] samples, int width, int height, byte colorType, Func<int, PngRowFilter> filterOfRow)
    {
        int bpp = ChannelsOf(colorType);
        byte[] raw = FilterRows(samples, width, height, bpp, filterOfRow);
        return File(Ihdr((uint)width, (uint)height, 8, colorType), Chunk("IDAT", Zlib(raw)), Iend());
    }

    public static int ChannelsOf(byte colorType) => colorType switch
    {
        0 => 1,
        2 => 3,
        4 => 2,
        6 => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(colorType)),
    };

    /// <summary>The chunks of a PNG as (offset of the length field, type, data length).</summary>
    public static List<(int Offset, string Type, int Length)> Chunks(byte[] png)
    {
        var chunks = new List<(int, string, int)>();
        for (int offset = 8; offset + 12 <= png.Length;)
        {
            int length = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(offset));
            chunks.Add((offset, Encoding.ASCII.GetString(png, offset + 4, 4), length));
            offset += 12 + length;
        }
        return chunks;
    }

    /// <summary>Recomputes every chunk CRC, so that a deliberate corruption reaches the layers behind the CRC check.</summary>
    public static void FixCrcs(byte[] png)
    {
        for (int offset = 8; offset + 12 <= png.Length;)
        {
            long length = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(offset));
            if (offset + 12 + length > png.Length)
                return;
            uint crc = Crc32.HashToUInt32(png.AsSpan(offset + 4, 4 + (int)length));
            BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(offset + 8 + (int)length), crc);
            offset += 12 + (int)length;
        }
    }

    public static (int ExitCode, string Output) RunPngCheck(IEnumerable<string> paths) =>
        FailureSynth.Testing.ExternalTools.PngCheck(paths, verbose: true);

    private static int PaethFromSpecification(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        if (pa <= pb && pa <= pc)
            return a;
        if (pb <= pc)
            return b;
        return c;
    }
}
