using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;

namespace FailureSynth.Imaging.Tests;

public class PngEncoderTests
{
    public static TheoryData<int, int, PngRowFilter?> SizesAndFilters()
    {
        var data = new TheoryData<int, int, PngRowFilter?>();
        foreach (var (w, h) in new[] { (1, 1), (3, 7), (64, 64), (200, 13) })
        {
            data.Add(w, h, null);
            foreach (PngRowFilter f in Enum.GetValues<PngRowFilter>())
                data.Add(w, h, f);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(SizesAndFilters))]
    public void Encode_then_decode_reproduces_every_pixel(int width, int height, PngRowFilter? filter)
    {
        RgbImage image = RandomImage(width, height, seed: width * 1000 + height);
        byte[] png = PngEncoder.Encode(image, new PngEncoderOptions(Filter: filter));
        RgbImage decoded = PngDecoder.Decode(png);
        Assert.Null(image.DescribeFirstDifference(decoded));
    }

    [Theory]
    [InlineData(CompressionLevel.NoCompression)]
    [InlineData(CompressionLevel.Fastest)]
    [InlineData(CompressionLevel.Optimal)]
    [InlineData(CompressionLevel.SmallestSize)]
    public void Every_compression_level_round_trips_and_writes_a_valid_zlib_header(CompressionLevel level)
    {
        RgbImage image = SmoothImage(37, 21);
        byte[] png = PngEncoder.Encode(image, new PngEncoderOptions(level));
        byte[] zlib = IdatOf(png);
        Assert.Equal(0x78, zlib[0]);
        Assert.Equal(0, (zlib[0] * 256 + zlib[1]) % 31);
        Assert.Null(image.DescribeFirstDifference(PngDecoder.Decode(png)));
    }

    [Fact]
    public void Header_declares_8_bit_RGB_without_interlace()
    {
        byte[] png = PngEncoder.Encode(new RgbImage(300, 2));
        Assert.Equal(PngTestFiles.Signature, png[..8]);
        var chunks = PngTestFiles.Chunks(png);
        Assert.Equal(["IHDR", "IDAT", "IEND"], chunks.Select(c => c.Type));
        Assert.Equal(8 + 12 + 13 + 12 + chunks[1].Length + 12, png.Length);
        ReadOnlySpan<byte> ihdr = png.AsSpan(16, 13);
        Assert.Equal(300u, BinaryPrimitives.ReadUInt32BigEndian(ihdr));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32BigEndian(ihdr[4..]));
        Assert.Equal(new byte[] { 8, 2, 0, 0, 0 }, ihdr[8..].ToArray());
        // The last 12 bytes of every PNG are the same empty IEND chunk.
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82 }, png[^12..]);
    }

    [Fact]
    public void The_BCL_zlib_reader_accepts_our_zlib_stream_and_sees_the_filtered_rows()
    {
        RgbImage image = RandomImage(5, 4, seed: 9);
        byte[] png = PngEncoder.Encode(image, new PngEncoderOptions(Filter: PngRowFilter.Paeth));
        byte[] expectedRows = PngTestFiles.FilterRows(image.Pixels, 5, 4, 3, _ => PngRowFilter.Paeth);

        // ZLibStream verifies the header and (since .NET 7) the Adler-32 trailer we wrote.
        using var zlib = new ZLibStream(new MemoryStream(IdatOf(png)), CompressionMode.Decompress);
        var inflated = new MemoryStream();
        zlib.CopyTo(inflated);
        Assert.Equal(expectedRows, inflated.ToArray());
    }

    [Fact]
    public void Adaptive_filtering_picks_Sub_for_a_ramp_and_Up_for_a_repeated_row()
    {
        // Row 0 and rows 2-3 are the same jagged row; row 1 is a smooth ramp between them. Only Sub
        // predicts the ramp from its own pixels; only Up (and Paeth, which ties and loses to the lower
        // filter type) predicts row 3 from row 2 exactly.
        var image = new RgbImage(32, 4);
        for (int x = 0; x < image.Width; x++)
        {
            byte jag = (byte)(x % 2 * 200);
            byte ramp = (byte)(x * 7);
            image.SetPixel(x, 0, (jag, jag, (byte)(200 - jag)));
            image.SetPixel(x, 1, (ramp, (byte)(ramp / 2), (byte)(255 - ramp)));
            image.SetPixel(x, 2, (jag, jag, (byte)(200 - jag)));
            image.SetPixel(x, 3, (jag, jag, (byte)(200 - jag)));
        }
        byte[] rows = Inflate(IdatOf(PngEncoder.Encode(image)));
        PngRowFilter[] chosen = Enumerable.Range(0, 4).Select(y => (PngRowFilter)rows[y * (32 * 3 + 1)]).ToArray();
        Assert.Equal(PngRowFilter.Sub, chosen[1]);
        Assert.Equal(PngRowFilter.Up, chosen[3]);
    }

    [Fact]
    public void Identical_images_give_identical_bytes()
    {
        RgbImage image = RandomImage(64, 64, seed: 5);
        byte[] first = PngEncoder.Encode(image);
        byte[] again = PngEncoder.Encode(image);
        byte[] ofCopy = PngEncoder.Encode(image.Clone());
        Assert.Equal(first, again);
        Assert.Equal(first, ofCopy);
    }

    [Fact]
    public void Encoding_a_fixed_image_gives_the_pinned_bytes()
    {
        // Pins the exact output across processes and machines: if this changes, the runtime's deflate
        // changed and every dataset manifest hash built from PNG bytes changes with it.
        byte[] png = PngEncoder.Encode(SmoothImage(16, 16));
        Assert.Equal("F8238EC9738D93E2404743B55DD0C2DAC1D341D3FBE6F4C5E259F7DB01D6A0F6", Convert.ToHexString(SHA256.HashData(png)));
    }

    [Fact]
    public void Undefined_options_are_rejected_with_their_value_before_anything_is_written()
    {
        var output = new MemoryStream();
        var filter = Assert.Throws<ArgumentException>(() => PngEncoder.Encode(new RgbImage(2, 2), output, new PngEncoderOptions(Filter: (PngRowFilter)7)));
        Assert.Contains("Filter 7 is not a PNG filter type", filter.Message);
        var level = Assert.Throws<ArgumentException>(() => PngEncoder.Encode(new RgbImage(2, 2), output, new PngEncoderOptions((CompressionLevel)42)));
        Assert.Contains("CompressionLevel 42 is not a CompressionLevel", level.Message);
        Assert.Equal(0, output.Length);
    }

    internal static RgbImage RandomImage(int width, int height, int seed) =>
        new(width, height, ChecksumTests.RandomBytes(width * height * 3, seed));

    internal static RgbImage SmoothImage(int width, int height)
    {
        var image = new RgbImage(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                image.SetPixel(x, y, ((byte)(x * 255 / width), (byte)(y * 255 / height), (byte)((x + y) % 3 * 40)));
        return image;
    }

    internal static byte[] IdatOf(byte[] png)
    {
        var idat = new MemoryStream();
        foreach (var (offset, type, length) in PngTestFiles.Chunks(png))
            if (type == "IDAT")
                idat.Write(png, offset + 8, length);
        return idat.ToArray();
    }

    private static byte[] Inflate(byte[] zlib)
    {
        using var stream = new ZLibStream(new MemoryStream(zlib), CompressionMode.Decompress);
        var output = new MemoryStream();
        stream.CopyTo(output);
        return output.ToArray();
    }
}
