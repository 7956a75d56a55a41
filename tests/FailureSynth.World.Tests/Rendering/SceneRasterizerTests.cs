using System.Diagnostics;
using System.Security.Cryptography;
using FailureSynth.Imaging;
using FailureSynth.World.Rendering;
using FailureSynth.World.Scenes;

namespace FailureSynth.World.Tests.Rendering;

public class SceneRasterizerTests
{
    private static readonly (byte R, byte G, byte B) Background = SceneGeometry.Background;

    /// <summary>One of every shape, colour and size, bounding circles apart, as the scene sampler would place them.</summary>
    private static readonly Scene Gallery = new(
    [
        new(ObjectShape.Circle, ObjectColor.Red, ObjectSize.Large, 0.2, 0.2),
        new(ObjectShape.Square, ObjectColor.Blue, ObjectSize.Large, 0.5, 0.2),
        new(ObjectShape.Triangle, ObjectColor.Green, ObjectSize.Large, 0.8, 0.2),
        new(ObjectShape.Diamond, ObjectColor.Yellow, ObjectSize.Large, 0.2, 0.5),
        new(ObjectShape.Circle, ObjectColor.Cyan, ObjectSize.Small, 0.5, 0.5),
        new(ObjectShape.Square, ObjectColor.Orange, ObjectSize.Small, 0.8, 0.5),
        new(ObjectShape.Triangle, ObjectColor.Purple, ObjectSize.Small, 0.2, 0.8),
        new(ObjectShape.Diamond, ObjectColor.Gray, ObjectSize.Small, 0.5, 0.8),
    ]);

    private static readonly Scene NoisyGallery = Gallery with { NoiseSeed = 42, NoiseAmplitude = 0.08 };

    [Theory]
    [InlineData(64)]
    [InlineData(256)]
    public void The_same_scene_renders_identical_pixels_every_time(int size)
    {
        foreach (Scene scene in new[] { Gallery, NoisyGallery })
        {
            RgbImage first = SceneRasterizer.Render(scene, size);
            RgbImage second = SceneRasterizer.Render(scene with { Objects = scene.Objects.ToList() }, size);
            Assert.Null(first.DescribeFirstDifference(second));
            Assert.Equal(SceneRasterizer.RenderPng(scene, size), SceneRasterizer.RenderPng(scene, size));
        }
    }

    [Fact]
    public void A_fixed_scene_renders_the_pinned_pixels()
    {
        // Pins the output across processes and machines: if it changes, every stored dataset image changes.
        Assert.Equal("2D368664E5562BBED2899D6453376395A5ECC18F8680610E0A6CC20624170549", Convert.ToHexString(SHA256.HashData(SceneRasterizer.Render(Gallery).Pixels)));
        Assert.Equal("1FD863AAE951D83C9620A2F04BAF6B7775F212CFC64E4B78D9FEAAC4A1DE052F", Convert.ToHexString(SHA256.HashData(SceneRasterizer.Render(NoisyGallery).Pixels)));
    }

    // From 32 px up even a small object covers the whole pixel its centre falls in, wherever the
    // centre lies in that pixel; at 16 px a small circle is 2.4 px across and its centre pixel may be blended.
    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    [InlineData(100)]
    [InlineData(256)]
    public void The_pixel_at_each_object_centre_has_the_object_colour(int size)
    {
        foreach (Scene scene in new[] { Gallery, NoisyGallery })
        {
            RgbImage image = SceneRasterizer.Render(scene, size);
            foreach (SceneObject obj in scene.Objects)
                Assert.Equal(SceneGeometry.Rgb(obj.Color), image.GetPixel((int)(obj.X * size), (int)(obj.Y * size)));
        }
    }

    [Fact]
    public void Pixels_far_from_every_object_are_background()
    {
        RgbImage image = SceneRasterizer.Render(Gallery);
        foreach (var (x, y) in new[] { (0, 0), (63, 0), (0, 63), (63, 63), (22, 22), (41, 41), (50, 63) })
            Assert.Equal(Background, image.GetPixel(x, y));
    }

    [Fact]
    public void An_empty_scene_is_all_background()
    {
        RgbImage image = SceneRasterizer.Render(new Scene([]), 32);
        var flat = new RgbImage(32, 32);
        flat.Fill(Background);
        Assert.Null(flat.DescribeFirstDifference(image));
    }

    [Theory]
    [InlineData(ObjectShape.Circle)]
    [InlineData(ObjectShape.Square)]
    [InlineData(ObjectShape.Triangle)]
    [InlineData(ObjectShape.Diamond)]
    public void Edges_are_anti_aliased_with_colours_strictly_between_object_and_background(ObjectShape shape)
    {
        var obj = new SceneObject(shape, ObjectColor.Blue, ObjectSize.Large, 0.5, 0.5);
        RgbImage image = SceneRasterizer.Render(new Scene([obj]));
        var fg = SceneGeometry.Rgb(ObjectColor.Blue);

        int between = 0;
        for (int y = 0; y < 64; y++)
        {
            for (int x = 0; x < 64; x++)
            {
                var p = image.GetPixel(x, y);
                if (p == fg || p == Background)
                    continue;
                // Every other pixel must be a mix of the two, channel by channel.
                Assert.InRange(p.R, Math.Min(fg.R, Background.R), Math.Max(fg.R, Background.R));
                Assert.InRange(p.G, Math.Min(fg.G, Background.G), Math.Max(fg.G, Background.G));
                Assert.InRange(p.B, Math.Min(fg.B, Background.B), Math.Max(fg.B, Background.B));
                between++;
            }
        }
        Assert.True(between >= 8, $"only {between} edge pixels are blended");
    }

    [Theory]
    [InlineData(ObjectShape.Circle, Math.PI)]
    [InlineData(ObjectShape.Square, 1.96)] // side 1.4 r
    [InlineData(ObjectShape.Triangle, 1.299038105676658)] // 3√3/4 r², equilateral inscribed in the bounding circle
    [InlineData(ObjectShape.Diamond, 2.0)] // diagonals 2 r
    public void Covered_area_matches_the_shape_geometry(ObjectShape shape, double areaOverRadiusSquared)
    {
        const int Size = 256;
        var obj = new SceneObject(shape, ObjectColor.Blue, ObjectSize.Large, 0.5, 0.5);
        RgbImage image = SceneRasterizer.Render(new Scene([obj]), Size);

        // Coverage per pixel, read back from the red channel where object and background differ most (45 vs 236).
        var fg = SceneGeometry.Rgb(ObjectColor.Blue);
        double area = 0;
        for (int y = 0; y < Size; y++)
            for (int x = 0; x < Size; x++)
                area += (Background.R - image.GetPixel(x, y).R) / (double)(Background.R - fg.R);

        double r = SceneGeometry.LargeRadius * Size;
        Assert.InRange(area / (r * r), areaOverRadiusSquared * 0.99, areaOverRadiusSquared * 1.01);
    }

    [Theory]
    [InlineData(ObjectShape.Circle, ObjectSize.Small)]
    [InlineData(ObjectShape.Square, ObjectSize.Small)]
    [InlineData(ObjectShape.Triangle, ObjectSize.Small)]
    [InlineData(ObjectShape.Diamond, ObjectSize.Small)]
    [InlineData(ObjectShape.Circle, ObjectSize.Large)]
    [InlineData(ObjectShape.Square, ObjectSize.Large)]
    [InlineData(ObjectShape.Triangle, ObjectSize.Large)]
    [InlineData(ObjectShape.Diamond, ObjectSize.Large)]
    public void Every_shape_stays_inside_its_bounding_circle(ObjectShape shape, ObjectSize size)
    {
        const int Size = 128;
        var obj = new SceneObject(shape, ObjectColor.Red, size, 0.43, 0.57);
        RgbImage image = SceneRasterizer.Render(new Scene([obj]), Size);
        double cx = obj.X * Size, cy = obj.Y * Size, r = obj.Radius * Size;
        for (int y = 0; y < Size; y++)
        {
            for (int x = 0; x < Size; x++)
            {
                if (image.GetPixel(x, y) == Background)
                    continue;
                // A touched pixel's centre lies within half a pixel diagonal of the shape.
                double distance = Math.Sqrt(Math.Pow(x + 0.5 - cx, 2) + Math.Pow(y + 0.5 - cy, 2));
                Assert.True(distance <= r + Math.Sqrt(0.5), $"{shape} pixel ({x}, {y}) is {distance:F2} px from the centre; radius {r:F2}");
            }
        }
    }

    [Fact]
    public void Shapes_cover_the_points_that_tell_them_apart()
    {
        const int Size = 256;
        double r = SceneGeometry.LargeRadius * Size;
        bool Covers(ObjectShape shape, double fx, double fy)
        {
            RgbImage image = SceneRasterizer.Render(new Scene([new(shape, ObjectColor.Red, ObjectSize.Large, 0.5, 0.5)]), Size);
            return image.GetPixel((int)(Size / 2 + fx * r), (int)(Size / 2 + fy * r)) == SceneGeometry.Rgb(ObjectColor.Red);
        }

        // Square corners are filled, the diamond's are not; the diamond reaches the top, the square does not.
        Assert.True(Covers(ObjectShape.Square, 0.6, 0.6));
        Assert.False(Covers(ObjectShape.Diamond, 0.6, 0.6));
        Assert.False(Covers(ObjectShape.Circle, 0.75, 0.75));
        Assert.True(Covers(ObjectShape.Diamond, 0, -0.9));
        Assert.False(Covers(ObjectShape.Square, 0, -0.9));
        Assert.True(Covers(ObjectShape.Circle, 0, -0.9));
        // The triangle points up: apex region filled, nothing below the base at r/2.
        Assert.True(Covers(ObjectShape.Triangle, 0, -0.85));
        Assert.True(Covers(ObjectShape.Triangle, -0.7, 0.4));
        Assert.False(Covers(ObjectShape.Triangle, 0, 0.6));
        Assert.False(Covers(ObjectShape.Triangle, -0.5, -0.5));
    }

    [Theory]
    [InlineData(16)]
    [InlineData(64)]
    [InlineData(97)]
    [InlineData(1024)]
    public void The_size_parameter_sets_both_sides(int size)
    {
        RgbImage image = SceneRasterizer.Render(Gallery, size);
        Assert.Equal((size, size), (image.Width, image.Height));
    }

    [Theory]
    [InlineData(15)]
    [InlineData(1025)]
    [InlineData(0)]
    public void Sizes_outside_the_supported_range_are_rejected(int size)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => SceneRasterizer.Render(Gallery, size));
        Assert.Equal("size", e.ParamName);
        Assert.Contains("between 16 and 1024 pixels", e.Message);
    }

    [Fact]
    public void Noise_varies_the_background_within_the_amplitude_and_follows_the_seed()
    {
        var scene = new Scene([], NoiseSeed: 7, NoiseAmplitude: 0.05);
        RgbImage image = SceneRasterizer.Render(scene);
        int limit = (int)Math.Ceiling(0.05 * 255);
        var distinct = new HashSet<(byte, byte, byte)>();
        for (int y = 0; y < 64; y++)
        {
            for (int x = 0; x < 64; x++)
            {
                var p = image.GetPixel(x, y);
                distinct.Add(p);
                Assert.InRange(p.R - Background.R, -limit, limit);
                // One luminance offset per pixel: all channels move together.
                Assert.Equal(p.R - Background.R, p.G - Background.G);
                Assert.Equal(p.R - Background.R, p.B - Background.B);
            }
        }
        Assert.True(distinct.Count > 20, $"only {distinct.Count} distinct background colours");

        Assert.True(image.PixelsEqual(SceneRasterizer.Render(scene)));
        Assert.False(image.PixelsEqual(SceneRasterizer.Render(scene with { NoiseSeed = 8 })));
    }

    [Fact]
    public void Full_amplitude_noise_is_clamped_to_the_byte_range()
    {
        RgbImage image = SceneRasterizer.Render(new Scene([], NoiseSeed: 1, NoiseAmplitude: 1.0), 32);
        Assert.Contains((byte)255, image.Pixels);
        Assert.Contains((byte)0, image.Pixels);
    }

    [Fact]
    public void Objects_partly_or_wholly_outside_the_image_are_clipped()
    {
        var scene = new Scene(
        [
            new(ObjectShape.Circle, ObjectColor.Red, ObjectSize.Large, 0.0, 0.5),
            new(ObjectShape.Square, ObjectColor.Blue, ObjectSize.Large, 1.02, 1.02),
            new(ObjectShape.Diamond, ObjectColor.Green, ObjectSize.Large, -5, 1e9),
        ]);
        RgbImage image = SceneRasterizer.Render(scene);
        Assert.Equal(SceneGeometry.Rgb(ObjectColor.Red), image.GetPixel(0, 32));
        Assert.Equal(SceneGeometry.Rgb(ObjectColor.Blue), image.GetPixel(63, 63));
    }

    [Fact]
    public void Invalid_scenes_are_rejected_with_the_offending_field()
    {
        var ok = new SceneObject(ObjectShape.Circle, ObjectColor.Red, ObjectSize.Small, 0.5, 0.5);
        Assert.Contains("NoiseAmplitude is 1.5", Assert.Throws<ArgumentException>(() => SceneRasterizer.Render(new Scene([ok], 0, 1.5))).Message);
        Assert.Contains("NoiseAmplitude is NaN", Assert.Throws<ArgumentException>(() => SceneRasterizer.Render(new Scene([ok], 0, double.NaN))).Message);
        Assert.Contains("Objects[1] has centre (NaN, 0.5)",
            Assert.Throws<ArgumentException>(() => SceneRasterizer.Render(new Scene([ok, ok with { X = double.NaN }]))).Message);
        Assert.Contains("Objects[0] has shape 9",
            Assert.Throws<ArgumentException>(() => SceneRasterizer.Render(new Scene([ok with { Shape = (ObjectShape)9 }]))).Message);
        Assert.Contains("Objects[0] is null", Assert.Throws<ArgumentException>(() => SceneRasterizer.Render(new Scene([null!]))).Message);
        Assert.Throws<ArgumentNullException>(() => SceneRasterizer.Render(null!));
    }

    [Theory]
    [InlineData(64)]
    [InlineData(256)]
    public void Rendered_PNGs_decode_to_the_exact_pixels_and_pass_pngcheck(int size)
    {
        string folder = Directory.CreateTempSubdirectory("failuresynth-render-").FullName;
        try
        {
            var paths = new List<string>();
            foreach (var (name, scene) in new[] { ("plain", Gallery), ("noisy", NoisyGallery) })
            {
                byte[] png = SceneRasterizer.RenderPng(scene, size);
                Assert.Null(SceneRasterizer.Render(scene, size).DescribeFirstDifference(PngDecoder.Decode(png)));
                string path = Path.Combine(folder, $"{name}-{size}.png");
                File.WriteAllBytes(path, png);
                paths.Add(path);
            }
            var (exitCode, output) = RunPngCheck(paths);
            Assert.True(exitCode == 0, output);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static (int ExitCode, string Output) RunPngCheck(IEnumerable<string> paths) =>
        FailureSynth.Testing.ExternalTools.PngCheck(paths);
}
