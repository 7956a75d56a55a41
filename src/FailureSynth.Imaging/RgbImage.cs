namespace FailureSynth.Imaging;

/// <summary>
/// An 8-bit RGB image: <see cref="Pixels"/> holds R, G, B interleaved, row by row from the top,
/// with no padding between rows, so pixel (x, y) starts at byte <c>(y * Width + x) * 3</c>.
/// </summary>
public sealed class RgbImage
{
    /// <summary>Largest width or height accepted, so that a hostile file cannot request gigabytes.</summary>
    public const int MaxDimension = 16384;

    public const int BytesPerPixel = 3;

    /// <summary>A black image of the given size.</summary>
    public RgbImage(int width, int height)
    {
        ValidateSize(width, height);
        Width = width;
        Height = height;
        Pixels = new byte[width * height * BytesPerPixel];
    }

    /// <summary>Wraps <paramref name="pixels"/> (not copied), which must hold exactly width × height × 3 bytes.</summary>
    public RgbImage(int width, int height, byte[] pixels)
    {
        ValidateSize(width, height);
        ArgumentNullException.ThrowIfNull(pixels);
        int expected = width * height * BytesPerPixel;
        if (pixels.Length != expected)
            throw new ArgumentException(
                $"pixels holds {pixels.Length} bytes but a {width} x {height} RGB image needs exactly {expected} " +
                "(3 bytes per pixel, rows without padding); pass a buffer of that length.", nameof(pixels));
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>Bytes from one row to the next.</summary>
    public int Stride => Width * BytesPerPixel;

    /// <summary>The pixel bytes, R G B interleaved, row-major; writable.</summary>
    public byte[] Pixels { get; }

    public (byte R, byte G, byte B) GetPixel(int x, int y)
    {
        int i = IndexOf(x, y);
        return (Pixels[i], Pixels[i + 1], Pixels[i + 2]);
    }

    public void SetPixel(int x, int y, (byte R, byte G, byte B) color)
    {
        int i = IndexOf(x, y);
        Pixels[i] = color.R;
        Pixels[i + 1] = color.G;
        Pixels[i + 2] = color.B;
    }

    /// <summary>The bytes of row <paramref name="y"/>, writable.</summary>
    public Span<byte> GetRow(int y)
    {
        if ((uint)y >= (uint)Height)
            throw new ArgumentOutOfRangeException(nameof(y), y, $"row must be in [0, {Height}) for a {Width} x {Height} image");
        return Pixels.AsSpan(y * Stride, Stride);
    }

    /// <summary>Sets every pixel to <paramref name="color"/>.</summary>
    public void Fill((byte R, byte G, byte B) color)
    {
        Span<byte> pixels = Pixels;
        for (int i = 0; i < pixels.Length; i += BytesPerPixel)
        {
            pixels[i] = color.R;
            pixels[i + 1] = color.G;
            pixels[i + 2] = color.B;
        }
    }

    public RgbImage Clone() => new(Width, Height, (byte[])Pixels.Clone());

    /// <summary>True when both images have the same size and identical pixel bytes.</summary>
    public bool PixelsEqual(RgbImage other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Width == other.Width && Height == other.Height && Pixels.AsSpan().SequenceEqual(other.Pixels);
    }

    /// <summary>
    /// Null when <see cref="PixelsEqual"/> holds; otherwise a sentence naming the size mismatch or
    /// the first differing pixel, for test and diagnostic messages.
    /// </summary>
    public string? DescribeFirstDifference(RgbImage other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (Width != other.Width || Height != other.Height)
            return $"sizes differ: {Width} x {Height} vs {other.Width} x {other.Height}";
        int i = Pixels.AsSpan().CommonPrefixLength(other.Pixels);
        if (i == Pixels.Length)
            return null;
        int pixel = i / BytesPerPixel;
        int x = pixel % Width, y = pixel / Width;
        return $"pixel ({x}, {y}) differs: {GetPixel(x, y)} vs {other.GetPixel(x, y)}";
    }

    private int IndexOf(int x, int y)
    {
        if ((uint)x >= (uint)Width)
            throw new ArgumentOutOfRangeException(nameof(x), x, $"x must be in [0, {Width}) for a {Width} x {Height} image");
        if ((uint)y >= (uint)Height)
            throw new ArgumentOutOfRangeException(nameof(y), y, $"y must be in [0, {Height}) for a {Width} x {Height} image");
        return (y * Width + x) * BytesPerPixel;
    }

    private static void ValidateSize(int width, int height)
    {
        if (width is < 1 or > MaxDimension)
            throw new ArgumentOutOfRangeException(nameof(width), width, $"image width must be between 1 and {MaxDimension} pixels");
        if (height is < 1 or > MaxDimension)
            throw new ArgumentOutOfRangeException(nameof(height), height, $"image height must be between 1 and {MaxDimension} pixels");
    }
}
