using System.Buffers.Binary;

namespace FailureSynth.Imaging.Tests;

public class PngDecoderTests
{
    public static TheoryData<byte, PngRowFilter?> ColorTypesAndFilters()
    {
        var data = new TheoryData<byte, PngRowFilter?>();
        foreach (byte colorType in new byte[] { 0, 2, 4, 6 })
        {
            data.Add(colorType, null); // null: row y uses filter y mod 5
            foreach (PngRowFilter f in Enum.GetValues<PngRowFilter>())
                data.Add(colorType, f);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ColorTypesAndFilters))]
    public void Decodes_every_filter_type_for_every_supported_colour_type(byte colorType, PngRowFilter? filter)
    {
        const int Width = 9, Height = 11;
        int channels = PngTestFiles.ChannelsOf(colorType);
        byte[] samples = ChecksumTests.RandomBytes(Width * Height * channels, seed: colorType * 10 + (int)(filter ?? (PngRowFilter)9));
        byte[] png = PngTestFiles.Png(samples, Width, Height, colorType, y => filter ?? (PngRowFilter)(y % 5));

        RgbImage image = PngDecoder.Decode(png);

        Assert.Equal((Width, Height), (image.Width, image.Height));
        for (int y = 0; y < Height; y++)
        {
            for (int x = 0; x < Width; x++)
            {
                int s = (y * Width + x) * channels;
                // Grayscale fills R, G and B; alpha is dropped.
                var expected = channels < 3 ? (samples[s], samples[s], samples[s]) : (samples[s], samples[s + 1], samples[s + 2]);
                Assert.Equal(expected, image.GetPixel(x, y));
            }
        }
    }

    [Fact]
    public void Image_data_split_over_several_IDAT_chunks_and_ancillary_chunks_are_read()
    {
        RgbImage original = PngEncoderTests.RandomImage(13, 5, seed: 1);
        byte[] zlib = PngTestFiles.Zlib(PngTestFiles.FilterRows(original.Pixels, 13, 5, 3, y => (PngRowFilter)(4 - y % 5)));
        byte[] png = PngTestFiles.File(
            PngTestFiles.Ihdr(13, 5),
            PngTestFiles.Chunk("tEXt", "Comment\0split IDAT"u8),
            PngTestFiles.Chunk("PLTE", [0, 0, 0, 255, 255, 255]), // a suggested palette is allowed in RGB files
            PngTestFiles.Chunk("IDAT", zlib.AsSpan(0, 1)),
            PngTestFiles.Chunk("IDAT", zlib.AsSpan(1, 10)),
            PngTestFiles.Chunk("IDAT", []),
            PngTestFiles.Chunk("IDAT", zlib.AsSpan(11)),
            PngTestFiles.Chunk("tIME", [7, 234, 11, 22, 3, 45, 0]),
            PngTestFiles.Iend());
        Assert.Null(original.DescribeFirstDifference(PngDecoder.Decode(png)));
    }

    [Fact]
    public void Stream_and_file_overloads_decode_the_same_image()
    {
        RgbImage original = PngEncoderTests.RandomImage(6, 6, seed: 2);
        byte[] png = PngEncoder.Encode(original);
        string path = Path.Combine(Path.GetTempPath(), $"failuresynth-decoder-{Guid.NewGuid():N}.png");
        File.WriteAllBytes(path, png);
        try
        {
            Assert.True(original.PixelsEqual(PngDecoder.Decode(new MemoryStream(png))));
            Assert.True(original.PixelsEqual(PngDecoder.DecodeFile(path)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_file_that_is_not_a_PNG_is_named_and_its_first_bytes_shown()
    {
        var e = Assert.Throws<InvalidDataException>(() => PngDecoder.Decode("GIF89a\x01\0\x01\0"u8, "cat.png"));
        Assert.StartsWith("cat.png: not a PNG file: it starts with 47 49 46 38 39 61 01 00", e.Message);
        Assert.Contains("89 50 4E 47 0D 0A 1A 0A", e.Message);
    }

    [Fact]
    public void A_corrupted_chunk_is_reported_by_type_offset_and_both_CRCs()
    {
        byte[] png = PngEncoder.Encode(PngEncoderTests.RandomImage(4, 4, seed: 3));
        var idat = PngTestFiles.Chunks(png).Single(c => c.Type == "IDAT");
        png[idat.Offset + 8 + idat.Length / 2] ^= 0x10;

        var e = Assert.Throws<InvalidDataException>(() => PngDecoder.Decode(png));
        Assert.Matches(@"^PNG data: chunk 'IDAT' at byte offset 33 has a wrong CRC \(stored 0x[0-9A-F]{8}, computed 0x[0-9A-F]{8}\)", e.Message);
        Assert.Contains("damaged or truncated", e.Message);
    }

    [Fact]
    public void A_file_cut_inside_a_chunk_names_that_chunk()
    {
        byte[] png = PngEncoder.Encode(PngEncoderTests.RandomImage(8, 8, seed: 4));
        var idat = PngTestFiles.Chunks(png).Single(c => c.Type == "IDAT");
        byte[] cut = png[..(idat.Offset + 8 + 10)];

        var e = Assert.Throws<InvalidDataException>(() => PngDecoder.Decode(cut));
        Assert.Contains($"chunk 'IDAT' at byte offset 33 is truncated: it declares {idat.Length} data bytes and a 4-byte CRC but only 10 bytes follow", e.Message);
    }

    [Fact]
    public void A_file_cut_before_IEND_says_IEND_is_missing()
    {
        byte[] png = PngEncoder.Encode(new RgbImage(3, 3));
        var e = Assert.Throws<InvalidDataException>(() => PngDecoder.Decode(png[..^12]));
        Assert.Contains("ends after 2 chunks without an IEND chunk", e.Message);
    }

    [Fact]
    public void Every_truncation_of_a_valid_file_raises_InvalidDataException()
    {
        byte[] png = PngEncoder.Encode(PngEncoderTests.RandomImage(5, 3, seed: 6));
        for (int length = 0; length < png.Length; length++)
        {
            var e = Record.Exception(() => PngDecoder.Decode(png.AsSpan(0, length)));
            Assert.True(e is InvalidDataException, $"prefix of {length} bytes: {e?.GetType().Name ?? "no exception"}: {e?.Message}");
        }
    }

    [Theory]
    [InlineData(8, 3, "palette image (colour type 3)")]
    [InlineData(16, 2, "16-bit samples (colour type 2)")]
    [InlineData(16, 6, "16-bit samples (colour type 6)")]
    [InlineData(4, 0, "4-bit samples (colour type 0)")]
    public void Unsupported_formats_are_named(byte bitDepth, byte colorType, string named)
    {
        byte[] png = PngTestFiles.File(PngTestFiles.Ihdr(2, 2, bitDepth, colorType), PngTestFiles.Chunk("IDAT", PngTestFiles.Zlib(new byte[64])), PngTestFiles.Iend());
        var e = Assert.Throws<InvalidDataException>(() => PngDecoder.Decode(png));
        Assert.Contains(named, e.Message);
        Assert.Contains("8-bit grayscale, grayscale+alpha, RGB and RGBA", e.Message);
    }

    [Fact]
    public void Interlaced_files_are_rejected_as_unsupported()
    {
        byte[] png = PngTestFiles.File(PngTestFiles.Ihdr(2, 2, interlace: 1), PngTestFiles.Chunk("IDAT", PngTestFiles.Zlib(new byte[64])), PngTestFiles.Iend());
        Assert.Contains("Adam7-interlaced", Assert.Throws<InvalidDataException>(() => PngDecoder.Decode(png)).Message);
    }

    [Theory]
    [InlineData(4, 2, 0, 0, 0, "colour type 2 with bit depth 4, a combination PNG does not define")]
    [InlineData(8, 5, 0, 0, 0, "colour type 5 with bit depth 8")]
    [InlineData(8, 2, 1, 0, 0, "compression method 1")]
    [InlineData(8, 2, 0, 1, 0, "filter method 1")]
    [InlineData(8, 2, 0, 0, 2, "interlace method 2")]
    public void Invalid_header_fields_are_named(byte bitDepth, byte colorType, byte compression, byte filterMethod, byte interlace, string named)
    {
        byte[] png = PngTestFiles.File(
            PngTestFiles.Ihdr(2, 2, bitDepth, colorType, interlace, compression, filterMethod),
            PngTestFiles.Chunk("IDAT", PngTestFiles.Zlib(new byte[14])),
            PngTestFiles.Iend());
        Assert.Contains(named, Assert.Throws<InvalidDataException>(() => PngDecoder.Decode(png)).Message);
    }

    [Fact]
    public void Zero_size_and_oversized_images_are_rejected()
    {
        byte[] zero = PngTestFiles.File(PngTestFiles.Ihdr(0, 5), PngTestFiles.Chunk("IDAT", PngTestFiles.Zlib([0])), PngTestFiles.Iend());
        Assert.Contains("declares a 0 x 5 image", Assert.Throws<InvalidDataException>(() => PngDecoder.Decode(zero)).Message);
        byte[] huge = PngTestFiles.File(PngTestFiles.Ihdr(20000, 1), PngTestFiles.Chunk("IDAT", PngTestFiles.Zlib([0])), PngTestFiles.Iend());
        Assert.Contains("20000 x 1 pixels, larger than the 16384", Assert.Throws<InvalidDataException>(() => PngDecoder.Decode(huge)).Message);
    }

    [Fact]
    public void A_tiny_file_claiming_a_huge_image_is_rejected_before_allocating_it()
    {
        byte[] png = PngTestFiles.File(PngTestFiles.Ihdr(16384, 16384), PngTestFiles.Chunk("IDAT", PngTestFiles.Zlib(new byte[100])), PngTestFiles.Iend());
        var e = Assert.Throws<InvalidDataException>(() => PngDecoder.Decode(png));
        Assert.Contains("cannot expand to that much", e.Message);
    }

    [Fact]
    public void Chunk_order_errors_are_named()
    {
        byte[] idat = PngTestFiles.Chunk("IDAT", PngTestFiles.Zlib(new byte[7]));
        byte[] noHeaderFirst = PngTestFiles.File(PngTestFiles.Chunk("tEXt", "a\0b"u8), PngTestFiles.Ihdr(2, 1), idat, PngTestFiles.Iend());
        Assert.Contains("the first chunk is 'tEXt' but a PNG must start with IHDR", Assert.Throws<InvalidDataException>(() => PngDecoder.Decode(noHeaderFirst)).Message);

        byte[] noData = PngTestFiles.File(PngTestFiles.Ihdr(2, 1), PngTestFiles.Iend());
        Assert.Contains("before any IDAT chunk", Assert.Throws<InvalidDataException>(() => PngDecoder.Decode(noData)).Message);

        byte[] split = PngTestFiles.File(PngTestFiles.Ihdr(2, 1), idat, PngTestFiles.Chunk("tEXt", "a\0b"u8), idat, PngTestFiles.Iend());
        Assert.Contains("IDAT chunks must be consecutive", Assert.Throws<InvalidDataException>(() => PngDecoder.Decode(split)).Message);

        byte[] unknownCritical = PngTestFiles.File(PngTestFiles.Ihdr(2, 1), PngTestFiles.Chunk("QUUX", [1]), idat, PngTestFiles.Iend());
        Assert.Contains("chunk 'QUUX' at byte offset 33 is a critical chunk this decoder does not understand", Assert.Throws<InvalidDataException>(() => PngDecoder.Decode(unknownCritical)).Message);
    }

    [Fact]
    public void An_unknown_row_filter_type_names_the_row()
    {
        // 2 x 2 RGB: rows are 7 bytes, the second starts with filter type 5.
        byte[] raw = [0, 1, 2, 3, 4, 5, 6, 5, 1, 2, 3, 4, 5, 6];
        byte[] png = PngTestFiles.File(PngTestFiles.Ihdr(2, 2), PngTestFiles.Chunk("IDAT", PngTestFiles.Zlib(raw)), PngTestFiles.Iend());
        Assert.Contains("row 1 of the image data has filter type 5", Assert.Throws<InvalidDataException>(() => PngDecoder.Decode(png)).Message);
    }

    [Fact]
    public void Too_little_or_too_much_image_data_is_reported()
    {
        byte[] shortData = PngTestFiles.File(PngTestFiles.Ihdr(2, 2), PngTestFiles.Chunk("IDAT", PngTestFiles.Zlib(new byte[10])), PngTestFiles.Iend());
        Assert.Contains("ends early: row 1 of 2 is incomplete after 10 of 14 bytes", Assert.Throws<InvalidDataException>(() => PngDecoder.Decode(shortData)).Message);

        byte[] longData = PngTestFiles.File(PngTestFiles.Ihdr(2, 2), PngTestFiles.Chunk("IDAT", PngTestFiles.Zlib(new byte[15])), PngTestFiles.Iend());
        Assert.Contains("decompresses to more than the 14 bytes a 2 x 2 image needs", Assert.Throws<InvalidDataException>(() => PngDecoder.Decode(longData)).Message);
    }

    [Fact]
    public void A_wrong_Adler32_is_reported_even_when_the_chunk_CRC_is_right()
    {
        byte[] zlib = PngTestFiles.Zlib(new byte[14]);
        zlib[^1] ^= 0xFF;
        byte[] png = PngTestFiles.File(PngTestFiles.Ihdr(2, 2), PngTestFiles.Chunk("IDAT", zlib), PngTestFiles.Iend());
        Assert.Matches(@"zlib Adler-32 of the image data does not match \(stored 0x[0-9A-F]{8}, computed 0x000E0001\)",
            Assert.Throws<InvalidDataException>(() => PngDecoder.Decode(png)).Message);
    }

    [Fact]
    public void A_bad_zlib_header_is_reported()
    {
        byte[] zlib = PngTestFiles.Zlib(new byte[14]);
        zlib[1] ^= 0x01;
        byte[] png = PngTestFiles.File(PngTestFiles.Ihdr(2, 2), PngTestFiles.Chunk("IDAT", zlib), PngTestFiles.Iend());
        Assert.Contains("zlib header bytes 0x78", Assert.Throws<InvalidDataException>(() => PngDecoder.Decode(png)).Message);
    }

    [Fact]
    public void Random_corruption_only_ever_raises_InvalidDataException()
    {
        // Half the trials repair the CRCs afterwards, so that the damage reaches zlib, the filters and the header checks.
        byte[] valid = PngEncoder.Encode(PngEncoderTests.RandomImage(7, 5, seed: 8));
        ulong state = 12345;
        int decodedAnyway = 0;
        for (int trial = 0; trial < 3000; trial++)
        {
            byte[] png = (byte[])valid.Clone();
            int flips = 1 + (int)(Next(ref state) % 3);
            for (int f = 0; f < flips; f++)
                png[8 + (int)(Next(ref state) % (ulong)(png.Length - 8))] ^= (byte)(1 + Next(ref state) % 255);
            if (trial % 2 == 1)
                PngTestFiles.FixCrcs(png);
            if (png.AsSpan().SequenceEqual(valid))
                continue; // the flips all hit CRC fields and the repair undid them

            var e = Record.Exception(() => PngDecoder.Decode(png));
            if (e is null)
                decodedAnyway++;
            else
                Assert.True(e is InvalidDataException, $"trial {trial}: {e.GetType().Name}: {e.Message}");
        }
        // Every byte is guarded by a CRC, a zlib check or the Adler-32; only a flip that leaves the
        // inflated bytes unchanged (a deflate bit that does not matter) may pass, and that is rare.
        Assert.True(decodedAnyway <= 10, $"{decodedAnyway} of 3000 corrupted files decoded without complaint");
    }

    private static ulong Next(ref ulong state)
    {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    }
}
