namespace FailureSynth.Imaging.Tests;

public class RgbImageTests
{
    [Fact]
    public void Pixels_are_RGB_interleaved_row_major()
    {
        var image = new RgbImage(3, 2);
        image.SetPixel(2, 1, (10, 20, 30));
        Assert.Equal(9, image.Stride);
        Assert.Equal(new byte[] { 10, 20, 30 }, image.Pixels[15..18]);
        Assert.Equal(((byte)10, (byte)20, (byte)30), image.GetPixel(2, 1));
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 0, 10, 20, 30 }, image.GetRow(1).ToArray());
    }

    [Fact]
    public void Fill_sets_every_pixel()
    {
        var image = new RgbImage(5, 4);
        image.Fill((1, 2, 3));
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 5; x++)
                Assert.Equal(((byte)1, (byte)2, (byte)3), image.GetPixel(x, y));
    }

    [Theory]
    [InlineData(0, 1, "width")]
    [InlineData(1, 0, "height")]
    [InlineData(RgbImage.MaxDimension + 1, 1, "width")]
    [InlineData(-3, 1, "width")]
    public void Sizes_outside_the_supported_range_are_rejected(int width, int height, string parameter)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new RgbImage(width, height));
        Assert.Equal(parameter, e.ParamName);
        Assert.Contains($"between 1 and {RgbImage.MaxDimension} pixels", e.Message);
    }

    [Fact]
    public void A_pixel_buffer_of_the_wrong_length_is_rejected_with_the_needed_length()
    {
        var e = Assert.Throws<ArgumentException>(() => new RgbImage(4, 3, new byte[35]));
        Assert.Contains("pixels holds 35 bytes but a 4 x 3 RGB image needs exactly 36", e.Message);
    }

    [Fact]
    public void Coordinates_outside_the_image_are_rejected()
    {
        var image = new RgbImage(4, 3);
        Assert.Equal("x", Assert.Throws<ArgumentOutOfRangeException>(() => image.GetPixel(4, 0)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentOutOfRangeException>(() => image.SetPixel(0, -1, (0, 0, 0))).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentOutOfRangeException>(() => image.GetRow(3)).ParamName);
    }

    [Fact]
    public void Equality_compares_size_and_every_byte_and_names_the_first_difference()
    {
        var a = new RgbImage(4, 3);
        RgbImage b = a.Clone();
        Assert.True(a.PixelsEqual(b));
        Assert.Null(a.DescribeFirstDifference(b));

        b.SetPixel(1, 2, (0, 0, 9));
        Assert.False(a.PixelsEqual(b));
        Assert.Equal("pixel (1, 2) differs: (0, 0, 0) vs (0, 0, 9)", a.DescribeFirstDifference(b));

        var c = new RgbImage(3, 4);
        Assert.False(a.PixelsEqual(c));
        Assert.Equal("sizes differ: 4 x 3 vs 3 x 4", a.DescribeFirstDifference(c));
    }

    [Fact]
    public void Clone_copies_the_pixels()
    {
        var a = new RgbImage(2, 2);
        RgbImage b = a.Clone();
        b.SetPixel(0, 0, (1, 1, 1));
        Assert.Equal(((byte)0, (byte)0, (byte)0), a.GetPixel(0, 0));
    }
}
