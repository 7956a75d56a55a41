using System.Buffers.Binary;
using System.Text;
using FailureSynth.Tensors;

namespace FailureSynth.Tensors.Tests;

/// <summary>Safetensors reader and writer: round trip, byte layout, determinism and corrupt-file errors.</summary>
public sealed class SafetensorsTests
{
    private static readonly SafetensorsTensor[] Sample =
    [
        new("encoder.weight", [2, 3], [1f, 2f, 3f, 4f, 5f, 6f]),
        new("a.bias", [3], [-1f, 0.5f, float.Epsilon]),
        new("scalar", [], [42f]),
    ];

    private static readonly Dictionary<string, string> Metadata = new()
    {
        ["vocabularies"] = "{\"answers\":[\"yes\",\"no\"]}",
        ["architecture"] = "{\"width\":64}",
    };

    [Fact]
    public void Round_trip_preserves_names_shapes_values_and_metadata()
    {
        var file = Safetensors.Deserialize(Safetensors.Serialize(Sample, Metadata));
        Assert.Equal(["a.bias", "encoder.weight", "scalar"], file.Tensors.Select(t => t.Name));
        foreach (var original in Sample)
        {
            var read = file.Tensors.Single(t => t.Name == original.Name);
            Assert.Equal(original.Shape, read.Shape);
            Assert.Equal(original.Data, read.Data);
        }

        Assert.Equal(Metadata.OrderBy(p => p.Key, StringComparer.Ordinal), file.Metadata);
    }

    [Fact]
    public void Writing_twice_gives_identical_bytes_whatever_the_input_order()
    {
        var first = Safetensors.Serialize(Sample, Metadata);
        var reordered = Safetensors.Serialize(Sample.Reverse(), Metadata.Reverse().ToDictionary());
        Assert.Equal(first, reordered);
    }

    [Fact]
    public void Layout_is_length_then_padded_json_then_little_endian_data()
    {
        var bytes = Safetensors.Serialize([new SafetensorsTensor("w", [2], [1f, 2f])], new Dictionary<string, string> { ["k"] = "v" });
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, (8 + headerLength) % 8);
        var header = Encoding.UTF8.GetString(bytes, 8, headerLength);
        Assert.Equal("{\"__metadata__\":{\"k\":\"v\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", header.TrimEnd(' '));
        Assert.Equal(1f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + headerLength)));
        Assert.Equal(2f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(12 + headerLength)));
        Assert.Equal(8 + headerLength + 8, bytes.Length);
    }

    [Fact]
    public void Half_and_bfloat16_tensors_are_read_as_float32()
    {
        var data = new byte[8];
        BinaryPrimitives.WriteHalfLittleEndian(data, (Half)1.5f);
        BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan(2), (Half)(-2f));
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(4), (ushort)(BitConverter.SingleToInt32Bits(3.25f) >> 16));
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(6), (ushort)(BitConverter.SingleToInt32Bits(-0.5f) >> 16));
        var file = Safetensors.Deserialize(Build("{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[4,8]}}", data));
        Assert.Equal([1.5f, -2f], file.Tensors.Single(t => t.Name == "h").Data);
        Assert.Equal([3.25f, -0.5f], file.Tensors.Single(t => t.Name == "b").Data);
    }

    [Theory]
    [InlineData("short", "shorter than the 8-byte header length field")]
    [InlineData("huge-length", "more than the 100000000-byte limit")]
    [InlineData("truncated-header", "only 10 bytes follow it")]
    [InlineData("not-json", "the header is not valid JSON")]
    [InlineData("not-object", "does not start with '{'")]
    [InlineData("bad-dtype", "tensor 'w' has dtype I64; this reader supports F32, F16 and BF16")]
    [InlineData("size-mismatch", "needs 8 bytes, but data_offsets [0, 4] span 4")]
    [InlineData("overlap", "tensor 'b' data_offsets [4, 12] overlap the previous tensor")]
    [InlineData("gap", "tensor 'b' starts at byte 12, leaving a gap after byte 8")]
    [InlineData("trailing-data", "the tensors cover 8 data bytes but the file holds 12")]
    [InlineData("negative-shape", "shape entry -2 that is not a non-negative 32-bit integer")]
    [InlineData("metadata-number", "metadata value 'epochs' must be a string")]
    [InlineData("duplicate", "the header lists 'w' twice")]
    public void Corrupt_files_are_rejected_with_a_precise_message(string corruption, string expected)
    {
        var bytes = corruption switch
        {
            "short" => new byte[5],
            "huge-length" => BitConverter.GetBytes(ulong.MaxValue / 2),
            "truncated-header" => [.. BitConverter.GetBytes(200UL), .. new byte[10]],
            "not-json" => Build("{\"w\": {", []),
            "not-object" => Build("[1, 2]", []),
            "bad-dtype" => Build("{\"w\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", new byte[8]),
            "size-mismatch" => Build("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", new byte[4]),
            "overlap" => Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]),
            "gap" => Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", new byte[16]),
            "trailing-data" => Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[12]),
            "negative-shape" => Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", new byte[8]),
            "metadata-number" => Build("{\"__metadata__\":{\"epochs\":3}}", []),
            "duplicate" => Build("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]),
            _ => throw new ArgumentOutOfRangeException(nameof(corruption)),
        };

        var error = Assert.Throws<InvalidDataException>(() => Safetensors.Deserialize(bytes, "model.safetensors"));
        Assert.Contains("'model.safetensors'", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reading_a_missing_file_names_the_path()
    {
        var path = Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}.safetensors");
        var error = Assert.Throws<FileNotFoundException>(() => Safetensors.Read(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Writer_rejects_data_that_does_not_fit_the_shape()
    {
        var error = Assert.Throws<ArgumentException>(() => Safetensors.Serialize([new SafetensorsTensor("w", [2, 2], [1f])]));
        Assert.Contains("'w' has shape [2, 2] but 1 values", error.Message, StringComparison.Ordinal);
    }

    private static byte[] Build(string header, byte[] data)
    {
        var json = Encoding.UTF8.GetBytes(header);
        return [.. BitConverter.GetBytes((ulong)json.Length), .. json, .. data];
    }
}
