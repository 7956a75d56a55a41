using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace FailureSynth.Tensors;

/// <summary>One named float32 tensor of a safetensors file.</summary>
public sealed record SafetensorsTensor(string Name, int[] Shape, float[] Data);

/// <summary>The contents of a safetensors file: its <c>__metadata__</c> strings and its tensors (sorted by name).</summary>
public sealed record SafetensorsFile(IReadOnlyDictionary<string, string> Metadata, IReadOnlyList<SafetensorsTensor> Tensors);

/// <summary>
/// Reader and writer of the safetensors format: an 8-byte little-endian header length N, N bytes of
/// UTF-8 JSON mapping each tensor name to dtype, shape and data_offsets [begin, end) relative to the
/// data after the header (plus an optional <c>__metadata__</c> string map), then the raw little-endian data.
/// </summary>
/// <remarks>
/// The writer is deterministic: metadata keys and tensors are sorted by ordinal name, data follows in
/// that order, and the header is padded with spaces to a multiple of 8 bytes. The reader accepts F32,
/// F16 and BF16 (converted to float32) and rejects anything malformed with an <see cref="InvalidDataException"/> naming the file and the problem.
/// </remarks>
public static class Safetensors
{
    /// <summary>Largest header accepted (the reference implementation's limit).</summary>
    public const int MaxHeaderBytes = 100_000_000;

    private const string MetadataKey = "__metadata__";

    /// <summary>Serialises tensors and metadata to the bytes of a safetensors file.</summary>
    public static byte[] Serialize(IEnumerable<SafetensorsTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var sorted = tensors.OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
        for (var i = 0; i < sorted.Count; i++)
        {
            var t = sorted[i];
            if (string.IsNullOrEmpty(t.Name) || t.Name == MetadataKey)
            {
                throw new ArgumentException($"A safetensors tensor name must be non-empty and not '{MetadataKey}', got '{t.Name}'.", nameof(tensors));
            }

            if (i > 0 && sorted[i - 1].Name == t.Name)
            {
                throw new ArgumentException($"Tensor name '{t.Name}' appears twice; safetensors names must be unique.", nameof(tensors));
            }

            if (t.Shape.Any(d => d < 0) || Tensor.CountOf(t.Shape) != t.Data.Length)
            {
                throw new ArgumentException($"Tensor '{t.Name}' has shape {Tensor.ShapeText(t.Shape)} but {t.Data.Length} values.", nameof(tensors));
            }
        }

        var header = BuildHeader(sorted, metadata);
        var dataBytes = sorted.Sum(t => (long)t.Data.Length * sizeof(float));
        var bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        var at = 8 + header.Length;
        foreach (var t in sorted)
        {
            var raw = MemoryMarshal.AsBytes(t.Data.AsSpan());
            if (BitConverter.IsLittleEndian)
            {
                raw.CopyTo(bytes.AsSpan(at));
            }
            else
            {
                for (var i = 0; i < t.Data.Length; i++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(at + i * 4), t.Data[i]);
                }
            }

            at += raw.Length;
        }

        return bytes;
    }

    /// <summary>Writes a safetensors file (to a temporary file first, then moved into place).</summary>
    public static void Write(string path, IEnumerable<SafetensorsTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var bytes = Serialize(tensors, metadata);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var temporary = path + ".tmp";
        File.WriteAllBytes(temporary, bytes);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads a safetensors file.</summary>
    public static SafetensorsFile Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Safetensors file '{path}' does not exist; check the checkpoint path.", path);
        }

        return Deserialize(File.ReadAllBytes(path), path);
    }

    /// <summary>Parses the bytes of a safetensors file; <paramref name="source"/> names it in error messages.</summary>
    public static SafetensorsFile Deserialize(ReadOnlySpan<byte> bytes, string source = "safetensors data")
    {
        if (bytes.Length < 8)
        {
            throw Fail(source, $"it is {bytes.Length} bytes long, shorter than the 8-byte header length field");
        }

        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > MaxHeaderBytes)
        {
            throw Fail(source, $"the header length field says {headerLength} bytes, more than the {MaxHeaderBytes}-byte limit (corrupt or not a safetensors file)");
        }

        if ((long)headerLength > bytes.Length - 8)
        {
            throw Fail(source, $"the header length field says {headerLength} bytes but only {bytes.Length - 8} bytes follow it (truncated file)");
        }

        var header = bytes.Slice(8, (int)headerLength);
        if (header.Length == 0 || header[0] != (byte)'{')
        {
            throw Fail(source, "the header does not start with '{' (not a JSON object)");
        }

        var data = bytes[(8 + (int)headerLength)..];
        var metadata = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<(string Name, string DType, int[] Shape, long Begin, long End)>();
        try
        {
            using var document = JsonDocument.Parse(header.ToArray());
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!names.Add(property.Name))
                {
                    throw Fail(source, $"the header lists '{property.Name}' twice");
                }

                if (property.Name == MetadataKey)
                {
                    ReadMetadata(source, property.Value, metadata);
                }
                else
                {
                    entries.Add(ReadEntry(source, property.Name, property.Value));
                }
            }
        }
        catch (JsonException e)
        {
            throw Fail(source, $"the header is not valid JSON ({e.Message})");
        }

        // The data section must be covered exactly: ranges in order, no gaps, no overlaps.
        var position = 0L;
        foreach (var entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (entry.Begin != position)
            {
                throw Fail(source, entry.Begin < position
                    ? $"tensor '{entry.Name}' data_offsets [{entry.Begin}, {entry.End}] overlap the previous tensor (which ends at {position})"
                    : $"tensor '{entry.Name}' starts at byte {entry.Begin}, leaving a gap after byte {position}");
            }

            position = entry.End;
        }

        if (position != data.Length)
        {
            throw Fail(source, $"the tensors cover {position} data bytes but the file holds {data.Length} after the header");
        }

        var tensors = new List<SafetensorsTensor>(entries.Count);
        foreach (var (name, dtype, shape, begin, end) in entries.OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            tensors.Add(new SafetensorsTensor(name, shape, Decode(dtype, data[(int)begin..(int)end])));
        }

        return new SafetensorsFile(metadata, tensors);
    }

    private static void ReadMetadata(string source, JsonElement element, SortedDictionary<string, string> metadata)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Fail(source, $"'{MetadataKey}' must be an object of strings, got {element.ValueKind}");
        }

        foreach (var item in element.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw Fail(source, $"metadata value '{item.Name}' must be a string, got {item.Value.ValueKind}");
            }

            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
            {
                throw Fail(source, $"metadata key '{item.Name}' appears twice");
            }
        }
    }

    private static (string Name, string DType, int[] Shape, long Begin, long End) ReadEntry(string source, string name, JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Fail(source, $"tensor '{name}' must be described by an object with dtype, shape and data_offsets");
        }

        if (!element.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw Fail(source, $"tensor '{name}' has no string 'dtype'");
        }

        var dtype = dtypeElement.GetString()!;
        var elementSize = dtype switch
        {
            "F32" => 4,
            "F16" or "BF16" => 2,
            _ => throw Fail(source, $"tensor '{name}' has dtype {dtype}; this reader supports F32, F16 and BF16"),
        };

        if (!element.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw Fail(source, $"tensor '{name}' has no 'shape' array");
        }

        var shape = new List<int>();
        var count = 1L;
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out var size) || size < 0)
            {
                throw Fail(source, $"tensor '{name}' has a shape entry {d} that is not a non-negative 32-bit integer");
            }

            shape.Add(size);
            count *= size;
            if (count > Array.MaxLength)
            {
                throw Fail(source, $"tensor '{name}' has shape {Tensor.ShapeText([.. shape])} with more elements than this reader can hold");
            }
        }

        if (!element.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array || offsetsElement.GetArrayLength() != 2)
        {
            throw Fail(source, $"tensor '{name}' has no 'data_offsets' pair [begin, end]");
        }

        var begin = ReadOffset(source, name, offsetsElement[0]);
        var end = ReadOffset(source, name, offsetsElement[1]);
        if (end < begin)
        {
            throw Fail(source, $"tensor '{name}' has data_offsets [{begin}, {end}] with end before begin");
        }

        if (end - begin != count * elementSize)
        {
            throw Fail(source, $"tensor '{name}' is {dtype} {Tensor.ShapeText([.. shape])}, which needs {count * elementSize} bytes, but data_offsets [{begin}, {end}] span {end - begin}");
        }

        foreach (var property in element.EnumerateObject())
        {
            if (property.Name is not ("dtype" or "shape" or "data_offsets"))
            {
                throw Fail(source, $"tensor '{name}' has an unknown field '{property.Name}'");
            }
        }

        return (name, dtype, [.. shape], begin, end);
    }

    private static long ReadOffset(string source, string name, JsonElement element) =>
        element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out var value) && value >= 0
            ? value
            : throw Fail(source, $"tensor '{name}' has a data offset {element} that is not a non-negative integer");

    private static float[] Decode(string dtype, ReadOnlySpan<byte> raw)
    {
        switch (dtype)
        {
            case "F32":
                var floats = new float[raw.Length / 4];
                for (var i = 0; i < floats.Length; i++)
                {
                    floats[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(i * 4)..]);
                }

                return floats;
            case "F16":
                var halves = new float[raw.Length / 2];
                for (var i = 0; i < halves.Length; i++)
                {
                    halves[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(raw[(i * 2)..]);
                }

                return halves;
            default:
                // bfloat16 is the upper half of a float32.
                var brains = new float[raw.Length / 2];
                for (var i = 0; i < brains.Length; i++)
                {
                    brains[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(raw[(i * 2)..]) << 16);
                }

                return brains;
        }
    }

    private static byte[] BuildHeader(List<SafetensorsTensor> sorted, IReadOnlyDictionary<string, string>? metadata)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    json.WriteString(key, value);
                }

                json.WriteEndObject();
            }

            var offset = 0L;
            foreach (var t in sorted)
            {
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (var d in t.Shape)
                {
                    json.WriteNumberValue(d);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += (long)t.Data.Length * sizeof(float);
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        // Pad with spaces so the data starts 8-byte aligned.
        var length = (int)stream.Length;
        var padded = (8 + length + 7) / 8 * 8 - 8;
        var header = new byte[padded];
        stream.GetBuffer().AsSpan(0, length).CopyTo(header);
        header.AsSpan(length).Fill((byte)' ');
        return header;
    }

    /// <summary>The error for a malformed file: names the file and the problem.</summary>
    private static InvalidDataException Fail(string source, string problem) =>
        new($"Cannot read safetensors file '{source}': {problem}. Re-create the checkpoint with a safetensors writer.");
}
