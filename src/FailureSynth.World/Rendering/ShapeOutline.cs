using FailureSynth.World.Scenes;

namespace FailureSynth.World.Rendering;

/// <summary>
/// The outline of one ShapesWorld shape with bounding-circle radius <c>r</c> (in pixels), as a signed
/// distance: negative inside, zero on the edge, positive outside. Each function is exact inside and a
/// lower bound of the true distance outside, and none changes faster than the point moves — the
/// property the rasteriser relies on to skip sampling away from edges. Every shape fits inside its
/// bounding circle, because the scene sampler only keeps bounding circles apart.
/// </summary>
public readonly struct ShapeOutline
{
    /// <summary>
    /// Half the square's side as a fraction of r: 0.7 puts the corners at 0.99 r, the largest round
    /// value that keeps an axis-aligned square inside its bounding circle (side 1.4 r).
    /// </summary>
    public const double SquareHalfSide = 0.7;

    private static readonly double HalfSqrt3 = Math.Sqrt(3.0) / 2.0;
    private static readonly double InverseSqrt2 = 1.0 / Math.Sqrt(2.0);

    private readonly ObjectShape _shape;
    private readonly double _radius;

    public ShapeOutline(ObjectShape shape, double radius)
    {
        if (!Enum.IsDefined(shape))
            throw new ArgumentOutOfRangeException(nameof(shape), shape, $"not a ShapesWorld shape ({string.Join(", ", Enum.GetNames<ObjectShape>())})");
        if (!(radius > 0) || double.IsInfinity(radius))
            throw new ArgumentOutOfRangeException(nameof(radius), radius, "radius must be a positive, finite number of pixels");
        _shape = shape;
        _radius = radius;
    }

    /// <summary>Signed distance of the point (dx, dy) from the centre, Y down, to the outline.</summary>
    public double SignedDistance(double dx, double dy)
    {
        switch (_shape)
        {
            case ObjectShape.Circle:
                return Math.Sqrt(dx * dx + dy * dy) - _radius;
            case ObjectShape.Square:
                return Math.Max(Math.Abs(dx), Math.Abs(dy)) - SquareHalfSide * _radius;
            case ObjectShape.Diamond:
                // A square turned 45° with its vertices on the bounding circle: |dx| + |dy| <= r.
                return (Math.Abs(dx) + Math.Abs(dy) - _radius) * InverseSqrt2;
            default:
                // Upward equilateral triangle inscribed in the bounding circle: apex at (0, -r), base at
                // dy = r/2; the three edges lie r/2 from the centre along unit normals pointing down,
                // up-left and up-right.
                double down = dy;
                double upLeft = -HalfSqrt3 * dx - 0.5 * dy;
                double upRight = HalfSqrt3 * dx - 0.5 * dy;
                return Math.Max(down, Math.Max(upLeft, upRight)) - 0.5 * _radius;
        }
    }
}
