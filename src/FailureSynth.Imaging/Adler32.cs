namespace FailureSynth.Imaging;

/// <summary>
/// The Adler-32 checksum that ends every zlib stream (RFC 1950), so the PNG codec can write and
/// verify the zlib wrapper around the BCL's raw deflate itself.
/// </summary>
public sealed class Adler32
{
    private const uint Modulus = 65521;

    // The largest n for which 255 n (n + 1) / 2 + (n + 1)(Modulus - 1) fits in 32 bits: the sums may
    // run that many bytes before they must be reduced.
    private const int MaxBytesBeforeReduction = 5552;

    private uint _a = 1;
    private uint _b;

    /// <summary>Adds <paramref name="data"/> to the running checksum.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        uint a = _a, b = _b;
        while (!data.IsEmpty)
        {
            int n = Math.Min(data.Length, MaxBytesBeforeReduction);
            foreach (byte value in data[..n])
            {
                a += value;
                b += a;
            }
            a %= Modulus;
            b %= Modulus;
            data = data[n..];
        }
        _a = a;
        _b = b;
    }

    /// <summary>The Adler-32 of everything appended since construction or the last <see cref="Reset"/>.</summary>
    public uint GetCurrentHashAsUInt32() => (_b << 16) | _a;

    public void Reset()
    {
        _a = 1;
        _b = 0;
    }

    /// <summary>The Adler-32 of <paramref name="data"/> in one call.</summary>
    public static uint HashToUInt32(ReadOnlySpan<byte> data)
    {
        var adler = new Adler32();
        adler.Append(data);
        return adler.GetCurrentHashAsUInt32();
    }
}
