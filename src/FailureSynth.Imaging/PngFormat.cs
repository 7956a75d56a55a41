namespace FailureSynth.Imaging;

/// <summary>The PNG 1.2 / ISO 15948 constants and the row-filter arithmetic shared by the encoder and decoder.</summary>
internal static class PngFormat
{
    /// <summary>The eight bytes every PNG starts with.</summary>
    public static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public const int IhdrLength = 13;

    public const byte ColorTypeGrayscale = 0;
    public const byte ColorTypeRgb = 2;
    public const byte ColorTypePalette = 3;
    public const byte ColorTypeGrayscaleAlpha = 4;
    public const byte ColorTypeRgba = 6;

    /// <summary>zlib compression method 8 (deflate) with a 32 KiB window, the only one PNG allows.</summary>
    public const byte ZlibCmfDeflate32K = 0x78;

    /// <summary>Largest deflate expansion: 258 bytes from one length code plus one distance code of one bit each.</summary>
    public const int MaxDeflateExpansion = 1032;

    /// <summary>The predictor of the Paeth filter: whichever of left, above, upper-left is closest to left + above - upper-left.</summary>
    public static byte Paeth(byte left, byte above, byte upperLeft)
    {
        int p = left + above - upperLeft;
        int pa = Math.Abs(p - left);
        int pb = Math.Abs(p - above);
        int pc = Math.Abs(p - upperLeft);
        if (pa <= pb && pa <= pc)
            return left;
        return pb <= pc ? above : upperLeft;
    }
}

/// <summary>The five PNG row filters; the value is the filter-type byte that starts each row.</summary>
public enum PngRowFilter : byte
{
    None = 0,
    Sub = 1,
    Up = 2,
    Average = 3,
    Paeth = 4,
}
