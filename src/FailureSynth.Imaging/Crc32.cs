using System.Buffers.Binary;

namespace FailureSynth.Imaging;

/// <summary>
/// CRC-32 as PNG chunks and gzip use it (reflected polynomial 0xEDB88320, initial value and final
/// XOR 0xFFFFFFFF), computed slicing-by-8; System.IO.Hashing is not in this project's package feed.
/// </summary>
public sealed class Crc32
{
    private const uint ReflectedPolynomial = 0xEDB88320u;
    private const uint InitialState = 0xFFFFFFFFu;

    // Table k maps a byte to its CRC contribution k bytes further back, so eight bytes fold per step.
    private static readonly uint[] Tables = BuildTables();

    private uint _state = InitialState;

    /// <summary>Adds <paramref name="data"/> to the running checksum.</summary>
    public void Append(ReadOnlySpan<byte> data) => _state = Update(_state, data);

    /// <summary>The CRC-32 of everything appended since construction or the last <see cref="Reset"/>.</summary>
    public uint GetCurrentHashAsUInt32() => ~_state;

    public void Reset() => _state = InitialState;

    /// <summary>The CRC-32 of <paramref name="data"/> in one call.</summary>
    public static uint HashToUInt32(ReadOnlySpan<byte> data) => ~Update(InitialState, data);

    private static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        ReadOnlySpan<uint> t = Tables;
        int i = 0;
        for (; data.Length - i >= 8; i += 8)
        {
            uint low = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i, 4)) ^ crc;
            uint high = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i + 4, 4));
            crc = t[(7 * 256) + (int)(low & 0xFF)] ^ t[(6 * 256) + (int)((low >> 8) & 0xFF)]
                ^ t[(5 * 256) + (int)((low >> 16) & 0xFF)] ^ t[(4 * 256) + (int)(low >> 24)]
                ^ t[(3 * 256) + (int)(high & 0xFF)] ^ t[(2 * 256) + (int)((high >> 8) & 0xFF)]
                ^ t[256 + (int)((high >> 16) & 0xFF)] ^ t[(int)(high >> 24)];
        }
        for (; i < data.Length; i++)
            crc = t[(int)((crc ^ data[i]) & 0xFF)] ^ (crc >> 8);
        return crc;
    }

    private static uint[] BuildTables()
    {
        var tables = new uint[8 * 256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int bit = 0; bit < 8; bit++)
                c = (c & 1) != 0 ? ReflectedPolynomial ^ (c >> 1) : c >> 1;
            tables[n] = c;
        }
        for (int k = 1; k < 8; k++)
        {
            for (int n = 0; n < 256; n++)
            {
                uint previous = tables[((k - 1) * 256) + n];
                tables[(k * 256) + n] = (previous >> 8) ^ tables[previous & 0xFF];
            }
        }
        return tables;
    }
}
