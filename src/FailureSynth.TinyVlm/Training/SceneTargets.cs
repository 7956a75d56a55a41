using FailureSynth.Tensors;
using FailureSynth.World.Scenes;

namespace FailureSynth.TinyVlm.Training;

/// <summary>
/// What each cell of the image encoder's feature grid should say about the scene: the object whose centre lies in
/// the cell (its shape, colour and size) or that the cell holds no object's centre. Training adds the cross-entropy
/// of a small per-cell probe (<see cref="SceneProbe"/>) against these targets to the answer loss, so the encoder
/// learns to find every object and tell its shape and colour apart whatever the questions of a batch ask about.
/// ShapesWorld places objects with their bounding circles apart (at least 0.15 of the image between centres, more
/// than a cell of an 8×8 grid), so two centres never share a cell at the default sizes; if they did, the later
/// object in the scene would be the target.
/// </summary>
public static class SceneTargets
{
    /// <summary>Classes of the shape target: 0 = no object's centre in the cell, 1 + <see cref="ObjectShape"/> otherwise.</summary>
    public static readonly int ShapeClasses = Enum.GetValues<ObjectShape>().Length + 1;

    /// <summary>Classes of the colour target (<see cref="ObjectColor"/>).</summary>
    public static readonly int ColorClasses = Enum.GetValues<ObjectColor>().Length;

    /// <summary>Classes of the size target (<see cref="ObjectSize"/>).</summary>
    public static readonly int SizeClasses = Enum.GetValues<ObjectSize>().Length;

    /// <summary>The target that makes a cross-entropy row count for nothing (a cell without an object has no colour or size).</summary>
    public const int Ignored = -100;

    /// <summary>
    /// Targets of one scene on a <paramref name="side"/> × <paramref name="side"/> grid: three ints per cell in
    /// row-major order (shape class, colour, size), with colour and size <see cref="Ignored"/> in empty cells.
    /// </summary>
    public static int[] For(Scene scene, int side)
    {
        if (side < 1) throw new ArgumentOutOfRangeException(nameof(side), side, "the grid needs at least one cell per side");
        Checked(scene);
        var cells = new int[3 * side * side];
        for (var c = 0; c < side * side; c++)
        {
            cells[3 * c + 1] = Ignored;
            cells[3 * c + 2] = Ignored;
        }

        foreach (var o in scene.Objects)
        {
            int column = Math.Min((int)(o.X * side), side - 1), row = Math.Min((int)(o.Y * side), side - 1);
            var cell = row * side + column;
            cells[3 * cell] = (int)o.Shape + 1;
            cells[3 * cell + 1] = (int)o.Color;
            cells[3 * cell + 2] = (int)o.Size;
        }

        return cells;
    }

    /// <summary>Returns <paramref name="scene"/> if every object has a known shape, colour and size and a centre inside the image; throws naming the first that does not.</summary>
    public static Scene Checked(Scene scene)
    {
        if (scene.Objects is null) throw new ArgumentException("the scene has no object list");
        if (scene.Objects.Count > Scene.MaxObjects) throw new ArgumentException($"the scene has {scene.Objects.Count} objects; at most {Scene.MaxObjects} are allowed");
        for (var i = 0; i < scene.Objects.Count; i++)
        {
            var o = scene.Objects[i] ?? throw new ArgumentException($"object {i} is null");
            if (!Enum.IsDefined(o.Shape) || !Enum.IsDefined(o.Color) || !Enum.IsDefined(o.Size))
                throw new ArgumentException($"object {i} has an unknown shape, colour or size");
            if (!(o.X >= 0 && o.X <= 1) || !(o.Y >= 0 && o.Y <= 1))
                throw new ArgumentException($"object {i} has its centre at ({o.X}, {o.Y}), outside the image [0, 1] × [0, 1]");
        }

        return scene;
    }
}

/// <summary>
/// Training-only heads that read each cell of the encoder's feature grid: a linear layer each for the shape class
/// (none or one of the shapes), the colour and the size of the object centred there. They are built afresh for every
/// training run and never saved: a checkpoint holds the TinyVLM alone, and inference never runs them.
/// </summary>
public sealed class SceneProbe : Module
{
    /// <summary>Creates the heads over <paramref name="channels"/> features per cell, drawing their weights from <paramref name="rng"/>.</summary>
    public SceneProbe(ComputeContext context, int channels, SplitMix64 rng)
        : base(context)
    {
        Shape = RegisterModule("shape", new Linear(context, channels, SceneTargets.ShapeClasses, rng));
        Color = RegisterModule("color", new Linear(context, channels, SceneTargets.ColorClasses, rng));
        Size = RegisterModule("size", new Linear(context, channels, SceneTargets.SizeClasses, rng));
    }

    /// <summary>Cell -> shape class logits.</summary>
    public Linear Shape { get; }

    /// <summary>Cell -> colour logits.</summary>
    public Linear Color { get; }

    /// <summary>Cell -> size logits.</summary>
    public Linear Size { get; }

    /// <summary>
    /// Sum of the three mean cross-entropies of the feature grid [B, C, F, F] against per-cell targets (B·F·F each,
    /// image-major, cells row-major; <see cref="SceneTargets.Ignored"/> rows do not count).
    /// </summary>
    public Tensor Loss(Tensor features, ReadOnlySpan<int> shapes, ReadOnlySpan<int> colors, ReadOnlySpan<int> sizes)
    {
        int batch = features.Size(0), channels = features.Size(1), cells = features.Size(2) * features.Size(3);
        var rows = features.Reshape(batch, channels, cells).Transpose(1, 2).Contiguous().Reshape(batch * cells, channels);
        return Shape.Forward(rows).CrossEntropy(shapes, SceneTargets.Ignored)
            + Color.Forward(rows).CrossEntropy(colors, SceneTargets.Ignored)
            + Size.Forward(rows).CrossEntropy(sizes, SceneTargets.Ignored);
    }
}
