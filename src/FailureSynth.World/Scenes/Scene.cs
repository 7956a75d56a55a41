using System.Text.Json.Serialization;

namespace FailureSynth.World.Scenes;

/// <summary>The shapes ShapesWorld draws.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ObjectShape>))]
public enum ObjectShape { Circle, Square, Triangle, Diamond }

/// <summary>
/// The colours ShapesWorld draws. Blue/cyan and red/orange are deliberately near pairs:
/// they are the fine distinctions a weak student confuses.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<ObjectColor>))]
public enum ObjectColor { Red, Orange, Yellow, Green, Cyan, Blue, Purple, Gray }

/// <summary>The two object sizes.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ObjectSize>))]
public enum ObjectSize { Small, Large }

/// <summary>
/// One object of a scene. <see cref="X"/> and <see cref="Y"/> are the centre in normalised
/// image coordinates: (0,0) is the top-left corner, (1,1) the bottom-right; Y grows downwards.
/// </summary>
public sealed record SceneObject(ObjectShape Shape, ObjectColor Color, ObjectSize Size, double X, double Y)
{
    /// <summary>Radius of the object's bounding circle, in normalised units.</summary>
    [JsonIgnore]
    public double Radius => SceneGeometry.RadiusOf(Size);
}

/// <summary>
/// A complete, JSON-serialisable scene spec: everything the rasteriser needs to draw the
/// same pixels again. <see cref="NoiseAmplitude"/> 0 means a flat background.
/// </summary>
public sealed record Scene(IReadOnlyList<SceneObject> Objects, int NoiseSeed = 0, double NoiseAmplitude = 0)
{
    public const int MaxObjects = 10;
}

/// <summary>Fixed geometry shared by the scene sampler, the rasteriser and the question executors.</summary>
public static class SceneGeometry
{
    public const double SmallRadius = 0.075;
    public const double LargeRadius = 0.125;

    public static double RadiusOf(ObjectSize size) => size == ObjectSize.Small ? SmallRadius : LargeRadius;

    /// <summary>Background colour (RGB) behind all objects.</summary>
    public static readonly (byte R, byte G, byte B) Background = (236, 236, 230);

    /// <summary>The RGB value each colour is drawn with. Near pairs are close but distinct.</summary>
    public static (byte R, byte G, byte B) Rgb(ObjectColor color) => color switch
    {
        ObjectColor.Red => (210, 40, 40),
        ObjectColor.Orange => (235, 120, 30),
        ObjectColor.Yellow => (225, 205, 40),
        ObjectColor.Green => (50, 160, 60),
        ObjectColor.Cyan => (40, 175, 205),
        ObjectColor.Blue => (45, 80, 205),
        ObjectColor.Purple => (135, 60, 175),
        ObjectColor.Gray => (120, 120, 120),
        _ => throw new ArgumentOutOfRangeException(nameof(color), color, "unknown colour"),
    };
}
