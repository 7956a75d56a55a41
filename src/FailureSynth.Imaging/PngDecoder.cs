using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace FailureSynth.Imaging;

/// <summary>
/// Reads PNG files into <see cref="RgbImage"/>s. Accepted: bit depth 8, no interlacing, colour types
/// 0 (grayscale, copied into R, G and B), 2 (RGB), 4 (grayscale + alpha) and 6 (RGBA); alpha is
/// dropped, not composited, so a pixel keeps the colour it was stored with. Every chunk CRC and the
/// zlib Adler-32 are verified; bytes after IEND are ignored. Any malformed or unsupported input
/// raises <see cref="InvalidDataException"/> naming the source, the chunk and the problem.
/// </summary>
public static class PngDecoder
{
    private const string SupportedFormats =
        "this decoder reads 8-bit grayscale, grayscale+alpha, RGB and RGBA PNGs without interlacing; re-save the image in one of those forms";

    private const string DamagedAdvice = "the file is damaged or truncated; re-create or re-download it";

    /// <param name="png">The whole file.</param>
    /// <param name="sourceName">What to call the input in error messages (a path or an id); "PNG data" if null.</param>
    public static RgbImage Decode(ReadOnlySpan<byte> png, string? sourceName = null) =>
        new Reader(sourceName ?? "PNG data").Decode(png);

    /// <summary>Reads <paramref name="stream"/> to its end and decodes it.</summary>
    public static RgbImage Decode(Stream stream, string? sourceName = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return Decode(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), sourceName);
    }

    public static RgbImage DecodeFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Decode(File.ReadAllBytes(path), $"PNG file '{path}'");
    }

    private readonly record struct Header(int Width, int Height, byte ColorType, int Channels);

    private sealed class Reader(string source)
    {
        public RgbImage Decode(ReadOnlySpan<byte> png)
        {
            ReadOnlySpan<byte> signature = PngFormat.Signature;
            if (png.Length < signature.Length)
                throw Damaged($"it is only {png.Length} bytes long, shorter than the 8-byte PNG signature");
            if (!png[..signature.Length].SequenceEqual(signature))
                throw new InvalidDataException(
                    $"{source}: not a PNG file: it starts with {Hex(png[..signature.Length])} but every PNG starts with " +
                    $"{Hex(signature)}; pass a PNG file (convert other formats to PNG first).");

            var (header, zlib) = ReadChunks(png);
            return Inflate(header, zlib);
        }

        /// <summary>Walks the chunks up to IEND, verifying each CRC; returns the header and the concatenated IDAT data.</summary>
        private (Header Header, byte[] Zlib) ReadChunks(ReadOnlySpan<byte> png)
        {
            Header? header = null;
            var idat = new MemoryStream();
            bool idatSeen = false, idatFinished = false;
            int offset = PngFormat.Signature.Length;
            for (int index = 0; ; index++)
            {
                int remaining = png.Length - offset;
                if (remaining == 0)
                    throw Damaged($"it ends after {index} chunks without an IEND chunk");
                if (remaining < 12)
                    throw Damaged($"only {remaining} bytes remain at byte offset {offset}, fewer than the 12 a chunk needs for its length, type and CRC");

                uint length = BinaryPrimitives.ReadUInt32BigEndian(png.Slice(offset, 4));
                ReadOnlySpan<byte> typeBytes = png.Slice(offset + 4, 4);
                if (!IsChunkType(typeBytes))
                    throw Damaged($"chunk {index} at byte offset {offset} has type bytes {Hex(typeBytes)}, which are not four ASCII letters");
                string type = Encoding.ASCII.GetString(typeBytes);
                string where = $"chunk '{type}' at byte offset {offset}";
                if (length > int.MaxValue)
                    throw Damaged($"{where} declares {length} data bytes, more than PNG's limit of 2^31 - 1");
                if (length + 12L > remaining)
                    throw Damaged($"{where} is truncated: it declares {length} data bytes and a 4-byte CRC but only {remaining - 8} bytes follow its type");

                ReadOnlySpan<byte> data = png.Slice(offset + 8, (int)length);
                uint stored = BinaryPrimitives.ReadUInt32BigEndian(png.Slice(offset + 8 + (int)length, 4));
                uint computed = Crc32.HashToUInt32(png.Slice(offset + 4, 4 + (int)length));
                if (stored != computed)
                    throw Damaged($"{where} has a wrong CRC (stored 0x{stored:X8}, computed 0x{computed:X8}), so its contents are corrupt");

                if (index == 0 && type != "IHDR")
                    throw Damaged($"the first chunk is '{type}' but a PNG must start with IHDR");
                if (idatSeen && type != "IDAT")
                    idatFinished = true;

                switch (type)
                {
                    case "IHDR":
                        if (header is not null)
                            throw Damaged($"{where} is a second IHDR; a PNG has exactly one");
                        header = ParseHeader(data);
                        break;
                    case "IDAT":
                        if (idatFinished)
                            throw Damaged($"{where} follows another chunk after earlier IDAT chunks; IDAT chunks must be consecutive");
                        idat.Write(data);
                        idatSeen = true;
                        break;
                    case "PLTE":
                        // For RGB images PLTE is only a suggested palette for limited displays; ignore it.
                        if (idatSeen)
                            throw Damaged($"{where} comes after the image data; PLTE must precede IDAT");
                        break;
                    case "IEND":
                        if (length != 0)
                            throw Damaged($"{where} has {length} data bytes; IEND must be empty");
                        if (!idatSeen)
                            throw Damaged($"{where} ends the file before any IDAT chunk, so there is no image data");
                        return (header!.Value, idat.ToArray());
                    default:
                        // Bit 5 of the first type byte clear marks a critical chunk: one a decoder may not skip.
                        if ((typeBytes[0] & 0x20) == 0)
                            throw new InvalidDataException($"{source}: {where} is a critical chunk this decoder does not understand; {SupportedFormats}.");
                        break;
                }
                offset += 12 + (int)length;
            }
        }

        private Header ParseHeader(ReadOnlySpan<byte> data)
        {
            if (data.Length != PngFormat.IhdrLength)
                throw Damaged($"the IHDR chunk has {data.Length} data bytes; it must have {PngFormat.IhdrLength}");
            uint width = BinaryPrimitives.ReadUInt32BigEndian(data);
            uint height = BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
            byte bitDepth = data[8], colorType = data[9], compression = data[10], filterMethod = data[11], interlace = data[12];

            if (width == 0 || height == 0 || width > int.MaxValue || height > int.MaxValue)
                throw Damaged($"IHDR declares a {width} x {height} image; each side must be between 1 and 2^31 - 1");
            bool allowedByPng = colorType switch
            {
                PngFormat.ColorTypeGrayscale => bitDepth is 1 or 2 or 4 or 8 or 16,
                PngFormat.ColorTypePalette => bitDepth is 1 or 2 or 4 or 8,
                PngFormat.ColorTypeRgb or PngFormat.ColorTypeGrayscaleAlpha or PngFormat.ColorTypeRgba => bitDepth is 8 or 16,
                _ => false,
            };
            if (!allowedByPng)
                throw Damaged($"IHDR has colour type {colorType} with bit depth {bitDepth}, a combination PNG does not define");
            if (compression != 0)
                throw Damaged($"IHDR names compression method {compression}; PNG defines only 0 (deflate)");
            if (filterMethod != 0)
                throw Damaged($"IHDR names filter method {filterMethod}; PNG defines only 0");
            if (interlace > 1)
                throw Damaged($"IHDR names interlace method {interlace}; PNG defines only 0 (none) and 1 (Adam7)");

            if (colorType == PngFormat.ColorTypePalette)
                throw Unsupported("it is a palette image (colour type 3), which is not supported");
            if (bitDepth != 8)
                throw Unsupported($"it has {bitDepth}-bit samples (colour type {colorType}); only 8-bit samples are supported");
            if (interlace == 1)
                throw Unsupported("it is Adam7-interlaced, which is not supported");
            if (width > RgbImage.MaxDimension || height > RgbImage.MaxDimension)
                throw new InvalidDataException(
                    $"{source}: the image is {width} x {height} pixels, larger than the {RgbImage.MaxDimension} pixels per side this decoder accepts; scale it down first.");

            int channels = colorType switch
            {
                PngFormat.ColorTypeGrayscale => 1,
                PngFormat.ColorTypeGrayscaleAlpha => 2,
                PngFormat.ColorTypeRgb => 3,
                _ => 4,
            };
            return new Header((int)width, (int)height, colorType, channels);
        }

        /// <summary>Checks the zlib wrapper, inflates row by row, un-filters each row and verifies the Adler-32.</summary>
        private RgbImage Inflate(Header header, byte[] zlib)
        {
            const int ZlibOverhead = 6; // 2 header bytes + 4 trailer bytes
            if (zlib.Length < ZlibOverhead + 1)
                throw Damaged($"the IDAT chunks hold {zlib.Length} bytes, too few for a zlib stream (2-byte header, deflate data, 4-byte Adler-32)");
            byte cmf = zlib[0], flg = zlib[1];
            if ((cmf & 0x0F) != 8)
                throw Damaged($"the zlib stream in IDAT names compression method {cmf & 0x0F}; PNG requires 8 (deflate)");
            if ((cmf >> 4) > 7)
                throw Damaged($"the zlib stream in IDAT declares a window of 2^{(cmf >> 4) + 8} bytes, more than deflate's 32 KiB");
            if ((cmf * 256 + flg) % 31 != 0)
                throw Damaged($"the zlib header bytes 0x{cmf:X2} 0x{flg:X2} in IDAT fail their check (CMF*256 + FLG must be a multiple of 31)");
            if ((flg & 0x20) != 0)
                throw Damaged("the zlib stream in IDAT asks for a preset dictionary, which PNG does not allow");

            int rowBytes = header.Width * header.Channels;
            long expected = (long)header.Height * (rowBytes + 1);
            // Rejecting impossible sizes before allocating keeps a tiny hostile file from demanding gigabytes.
            if (expected > (long)zlib.Length * PngFormat.MaxDeflateExpansion + 1024)
                throw Damaged(
                    $"IHDR declares {header.Width} x {header.Height} pixels ({expected} bytes of scanlines) but the IDAT chunks hold only " +
                    $"{zlib.Length} compressed bytes, which cannot expand to that much; the image data is missing");

            var image = new RgbImage(header.Width, header.Height);
            var adler = new Adler32();
            // Row buffers carry the filter-type byte at [0]; the zero-filled "previous row" stands for the row above the first.
            var current = new byte[rowBytes + 1];
            var previous = new byte[rowBytes + 1];
            using var inflater = new DeflateStream(new MemoryStream(zlib, 2, zlib.Length - ZlibOverhead, writable: false), CompressionMode.Decompress);
            for (int y = 0; y < header.Height; y++)
            {
                int read = ReadFully(inflater, current);
                if (read < current.Length)
                    throw Damaged(
                        $"the image data in IDAT ends early: row {y} of {header.Height} is incomplete after " +
                        $"{(long)y * current.Length + read} of {expected} bytes");
                adler.Append(current);
                byte filter = current[0];
                if (filter > (byte)PngRowFilter.Paeth)
                    throw Damaged($"row {y} of the image data has filter type {filter}; PNG defines only 0 to 4");
                Unfilter((PngRowFilter)filter, current.AsSpan(1), previous.AsSpan(1), header.Channels);
                ToRgb(current.AsSpan(1), header.Channels, image.GetRow(y));
                (current, previous) = (previous, current);
            }

            Span<byte> probe = stackalloc byte[1];
            if (ReadFully(inflater, probe) != 0)
                throw Damaged($"the image data in IDAT decompresses to more than the {expected} bytes a {header.Width} x {header.Height} image needs");
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(zlib.AsSpan(zlib.Length - 4));
            uint computed = adler.GetCurrentHashAsUInt32();
            if (stored != computed)
                throw Damaged($"the zlib Adler-32 of the image data does not match (stored 0x{stored:X8}, computed 0x{computed:X8})");
            return image;
        }

        private int ReadFully(DeflateStream inflater, Span<byte> buffer)
        {
            int total = 0;
            try
            {
                while (total < buffer.Length)
                {
                    int n = inflater.Read(buffer[total..]);
                    if (n == 0)
                        break;
                    total += n;
                }
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"{source}: the deflate data in IDAT is corrupt ({e.Message}); {DamagedAdvice}.", e);
            }
            return total;
        }

        private InvalidDataException Damaged(string problem) => new($"{source}: {problem}; {DamagedAdvice}.");

        private InvalidDataException Unsupported(string problem) => new($"{source}: {problem}; {SupportedFormats}.");
    }

    /// <summary>Reverses the row filter in place; <paramref name="bpp"/> is the byte distance to the "left" pixel.</summary>
    private static void Unfilter(PngRowFilter filter, Span<byte> row, ReadOnlySpan<byte> above, int bpp)
    {
        switch (filter)
        {
            case PngRowFilter.None:
                break;
            case PngRowFilter.Sub:
                for (int i = bpp; i < row.Length; i++)
                    row[i] += row[i - bpp];
                break;
            case PngRowFilter.Up:
                for (int i = 0; i < row.Length; i++)
                    row[i] += above[i];
                break;
            case PngRowFilter.Average:
                for (int i = 0; i < bpp && i < row.Length; i++)
                    row[i] += (byte)(above[i] >> 1);
                for (int i = bpp; i < row.Length; i++)
                    row[i] += (byte)((row[i - bpp] + above[i]) >> 1);
                break;
            case PngRowFilter.Paeth:
                // With no left neighbour, left and upper-left count as 0 and Paeth predicts "above".
                for (int i = 0; i < bpp && i < row.Length; i++)
                    row[i] += above[i];
                for (int i = bpp; i < row.Length; i++)
                    row[i] += PngFormat.Paeth(row[i - bpp], above[i], above[i - bpp]);
                break;
        }
    }

    private static void ToRgb(ReadOnlySpan<byte> samples, int channels, Span<byte> rgb)
    {
        switch (channels)
        {
            case 3:
                samples.CopyTo(rgb);
                break;
            case 4:
                for (int s = 0, d = 0; d < rgb.Length; s += 4, d += 3)
                {
                    rgb[d] = samples[s];
                    rgb[d + 1] = samples[s + 1];
                    rgb[d + 2] = samples[s + 2];
                }
                break;
            default: // 1 = gray, 2 = gray + alpha
                for (int s = 0, d = 0; d < rgb.Length; s += channels, d += 3)
                {
                    byte gray = samples[s];
                    rgb[d] = gray;
                    rgb[d + 1] = gray;
                    rgb[d + 2] = gray;
                }
                break;
        }
    }

    private static bool IsChunkType(ReadOnlySpan<byte> type)
    {
        foreach (byte b in type)
        {
            if (!char.IsAsciiLetter((char)b))
                return false;
        }
        return true;
    }

    /// <summary>Bytes as "89 50 4E 47", the way hex dumps show them.</summary>
    private static string Hex(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(bytes.Length * 3);
        foreach (byte b in bytes)
            text.Append(text.Length == 0 ? "" : " ").Append(b.ToString("X2", CultureInfo.InvariantCulture));
        return text.ToString();
    }
}
