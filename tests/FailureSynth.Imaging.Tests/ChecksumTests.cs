using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace FailureSynth.Imaging.Tests;

public class ChecksumTests
{
    [Theory]
    [InlineData("", 0x00000000u)]
    [InlineData("a", 0xE8B7BE43u)]
    [InlineData("123456789", 0xCBF43926u)]
    [InlineData("The quick brown fox jumps over the lazy dog", 0x414FA339u)]
    public void Crc32_matches_published_check_values(string text, uint expected) =>
        Assert.Equal(expected, Crc32.HashToUInt32(Encoding.ASCII.GetBytes(text)));

    [Theory]
    [InlineData("", 0x00000001u)]
    [InlineData("a", 0x00620062u)]
    [InlineData("Wikipedia", 0x11E60398u)]
    [InlineData("123456789", 0x091E01DEu)]
    public void Adler32_matches_published_check_values(string text, uint expected) =>
        Assert.Equal(expected, Adler32.HashToUInt32(Encoding.ASCII.GetBytes(text)));

    [Fact]
    public void Crc32_of_the_IEND_chunk_type_is_the_value_every_PNG_ends_with() =>
        Assert.Equal(0xAE426082u, Crc32.HashToUInt32("IEND"u8));

    [Fact]
    public void Crc32_agrees_with_the_trailer_GZipStream_writes()
    {
        // gzip (RFC 1952) ends with the CRC-32 of the input, little-endian: an independent implementation to compare with.
        foreach (int length in new[] { 1, 7, 8, 9, 1000, 70_001 })
        {
            byte[] data = RandomBytes(length, seed: length);
            var gz = new MemoryStream();
            using (var gzip = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true))
                gzip.Write(data);
            byte[] file = gz.ToArray();
            uint gzipCrc = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(file.Length - 8));
            Assert.Equal(gzipCrc, Crc32.HashToUInt32(data));
        }
    }

    [Fact]
    public void Adler32_agrees_with_the_trailer_ZLibStream_writes()
    {
        // zlib (RFC 1950) ends with the Adler-32 of the input, big-endian. 70,001 bytes of 0xFF crosses
        // the 5552-byte reduction boundary many times with the largest possible sums.
        foreach (byte[] data in new[] { RandomBytes(70_001, seed: 3), Enumerable.Repeat((byte)0xFF, 70_001).ToArray() })
        {
            var z = new MemoryStream();
            using (var zlib = new ZLibStream(z, CompressionLevel.Fastest, leaveOpen: true))
                zlib.Write(data);
            byte[] stream = z.ToArray();
            Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian(stream.AsSpan(stream.Length - 4)), Adler32.HashToUInt32(data));
        }
    }

    [Fact]
    public void Streaming_in_uneven_pieces_gives_the_one_shot_result()
    {
        byte[] data = RandomBytes(20_000, seed: 11);
        var crc = new Crc32();
        var adler = new Adler32();
        int offset = 0, piece = 1;
        while (offset < data.Length)
        {
            // Pieces of 1, 4, 13, 40, ... bytes straddle the 8-byte CRC stride and the 5552-byte Adler block.
            int n = Math.Min(piece, data.Length - offset);
            crc.Append(data.AsSpan(offset, n));
            adler.Append(data.AsSpan(offset, n));
            offset += n;
            piece = piece * 3 + 1;
        }
        Assert.Equal(Crc32.HashToUInt32(data), crc.GetCurrentHashAsUInt32());
        Assert.Equal(Adler32.HashToUInt32(data), adler.GetCurrentHashAsUInt32());
    }

    [Fact]
    public void Reset_starts_a_new_checksum()
    {
        var crc = new Crc32();
        var adler = new Adler32();
        crc.Append("garbage"u8);
        adler.Append("garbage"u8);
        crc.Reset();
        adler.Reset();
        crc.Append("123456789"u8);
        adler.Append("Wikipedia"u8);
        Assert.Equal(0xCBF43926u, crc.GetCurrentHashAsUInt32());
        Assert.Equal(0x11E60398u, adler.GetCurrentHashAsUInt32());
    }

    internal static byte[] RandomBytes(int length, int seed)
    {
        // A local xorshift keeps the test data fixed without depending on System.Random's algorithm.
        var bytes = new byte[length];
        ulong state = 0x9E3779B97F4A7C15UL ^ (ulong)seed;
        for (int i = 0; i < length; i++)
        {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            bytes[i] = (byte)(state >> 56);
        }
        return bytes;
    }
}
