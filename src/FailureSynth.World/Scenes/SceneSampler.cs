using FailureSynth.World.Questions;

namespace FailureSynth.World.Scenes;

/// <summary>
/// Samples scenes by deterministic rejection sampling: objects are placed one by one at random
/// positions inside the image, and a position is rejected when its bounding circle would come
/// closer than <see cref="Gap"/> to another object. Constrained scenes are built from a
/// <see cref="SceneBlueprint"/>; colours and shapes are drawn with the profile's weights.
/// </summary>
public sealed class SceneSampler(Profile profile)
{
    /// <summary>Distance kept between an object's bounding circle and the image edge.</summary>
    public const double Border = 0.02;

    /// <summary>Minimum free space between two bounding circles, so that objects never touch.</summary>
    public const double Gap = 0.01;

    private const int TriesPerObject = 200;
    private const int LayoutsPerBlueprint = 30;
    private const int TriesPerDistractorLook = 20;
    private const double NearMissProbability = 0.5;
    private const int CoordinateDecimals = 4;

    /// <summary>An unconstrained scene with the profile's object count range.</summary>
    public Scene Sample(DeterministicRandom rng)
    {
        int total = rng.NextInt(profile.MinObjects, profile.MaxObjects + 1);
        return TryBuild(new SceneBlueprint([], [], total), rng)
               ?? throw new InvalidOperationException("An unconstrained scene always has a layout: distractors that do not fit are dropped.");
    }

    /// <summary>
    /// A scene satisfying <paramref name="blueprint"/>, or null when the required objects could
    /// not be placed within the bounded number of tries. Distractors that do not fit are left
    /// out, so the scene may have fewer than <see cref="SceneBlueprint.TotalObjects"/> objects.
    /// </summary>
    public Scene? TryBuild(SceneBlueprint blueprint, DeterministicRandom rng)
    {
        ArgumentNullException.ThrowIfNull(blueprint);
        if (blueprint.Required.Count > Scene.MaxObjects)
            throw new ArgumentException($"A blueprint requires {blueprint.Required.Count} objects but a scene holds at most {Scene.MaxObjects}.", nameof(blueprint));

        var distractors = new List<ObjectLook>();
        for (int i = blueprint.Required.Count; i < Math.Min(blueprint.TotalObjects, Scene.MaxObjects); i++)
            if (DistractorLook(blueprint.Reserved, rng) is { } look) distractors.Add(look);

        // Placement order: the spatially constrained pair first (they need the most room to
        // choose from), then larger objects before smaller ones, which packs far more reliably.
        var requiredOrder = Enumerable.Range(0, blueprint.Required.Count)
            .OrderBy(i => blueprint.Placement is { } p && (i == p.Reference || i == p.Subject) ? (i == p.Reference ? 0 : 1) : 2)
            .ThenByDescending(i => blueprint.Required[i].Size)
            .ThenBy(i => i)
            .ToList();
        var distractorOrder = distractors.OrderByDescending(d => d.Size).ToList();

        for (int layout = 0; layout < LayoutsPerBlueprint; layout++)
        {
            var placedRequired = new SceneObject?[blueprint.Required.Count];
            var placed = new List<SceneObject>();
            bool ok = true;
            foreach (int i in requiredOrder)
            {
                Func<SceneObject, bool>? constraint = null;
                if (blueprint.Placement is { } p && i == p.Subject && placedRequired[p.Reference] is { } reference)
                    constraint = candidate => SatisfiesRelation(candidate, reference, p.Relation);
                SceneObject? obj = TryPlace(blueprint.Required[i], placed, constraint, rng);
                if (obj is null) { ok = false; break; }
                placedRequired[i] = obj;
                placed.Add(obj);
            }
            if (!ok) continue;
            foreach (ObjectLook d in distractorOrder)
                if (TryPlace(d, placed, null, rng) is { } obj) placed.Add(obj);

            // The order of objects in the spec carries no meaning; shuffle so it cannot leak which objects the question is about.
            rng.Shuffle(placed);
            int noiseSeed = rng.NextInt(int.MaxValue);
            double amplitude = Math.Round(
                profile.MinNoiseAmplitude + rng.NextDouble() * (profile.MaxNoiseAmplitude - profile.MinNoiseAmplitude), CoordinateDecimals);
            return new Scene(placed, noiseSeed, amplitude);
        }
        return null;
    }

    /// <summary>A random look with the profile's colour and shape weights and sizes 50/50.</summary>
    public ObjectLook RandomLook(DeterministicRandom rng) =>
        new(profile.Shapes.Sample(rng), profile.Colors.Sample(rng), rng.NextInt(2) == 0 ? ObjectSize.Small : ObjectSize.Large);

    /// <summary>A random look that matches <paramref name="filter"/>: its named attributes fixed, the rest random.</summary>
    public ObjectLook Complete(ObjectFilter filter, DeterministicRandom rng)
    {
        ObjectLook look = RandomLook(rng);
        return new ObjectLook(filter.Shape ?? look.Shape, filter.Color ?? look.Color, filter.Size ?? look.Size);
    }

    /// <summary>
    /// The layout rules every scene obeys: each bounding circle lies inside the image with a
    /// <see cref="Border"/>, and no two bounding circles come closer than <see cref="Gap"/>.
    /// Empty when the scene is legal.
    /// </summary>
    public static IReadOnlyList<string> FindLayoutProblems(Scene scene)
    {
        ArgumentNullException.ThrowIfNull(scene);
        var problems = new List<string>();
        if (scene.Objects.Count is < 1 or > Scene.MaxObjects)
            problems.Add($"the scene has {scene.Objects.Count} objects; 1..{Scene.MaxObjects} are allowed");
        for (int i = 0; i < scene.Objects.Count; i++)
        {
            SceneObject a = scene.Objects[i];
            if (!InsideImage(a))
                problems.Add($"object {i} ({a.Size} {a.Color} {a.Shape} at {a.X}, {a.Y}) reaches outside the image");
            for (int j = i + 1; j < scene.Objects.Count; j++)
                if (!Apart(a, scene.Objects[j]))
                    problems.Add($"objects {i} and {j} overlap or touch");
        }
        return problems;
    }

    /// <summary>True when <paramref name="subject"/> lies in <paramref name="relation"/> to <paramref name="reference"/> by at least the relation margin.</summary>
    public static bool SatisfiesRelation(SceneObject subject, SceneObject reference, SpatialRelation relation) => relation switch
    {
        SpatialRelation.Left => reference.X - subject.X >= ProgramExecutor.RelationMargin,
        SpatialRelation.Right => subject.X - reference.X >= ProgramExecutor.RelationMargin,
        SpatialRelation.Above => reference.Y - subject.Y >= ProgramExecutor.RelationMargin,
        SpatialRelation.Below => subject.Y - reference.Y >= ProgramExecutor.RelationMargin,
        _ => throw new ArgumentOutOfRangeException(nameof(relation), relation, "unknown relation"),
    };

    private static bool InsideImage(SceneObject o) =>
        o.X - o.Radius >= Border && o.X + o.Radius <= 1 - Border &&
        o.Y - o.Radius >= Border && o.Y + o.Radius <= 1 - Border;

    private static bool Apart(SceneObject a, SceneObject b)
    {
        double dx = a.X - b.X, dy = a.Y - b.Y, min = a.Radius + b.Radius + Gap;
        return dx * dx + dy * dy >= min * min;
    }

    private static SceneObject? TryPlace(ObjectLook look, List<SceneObject> placed, Func<SceneObject, bool>? constraint, DeterministicRandom rng)
    {
        double r = SceneGeometry.RadiusOf(look.Size);
        double lo = Border + r, hi = 1 - Border - r;
        for (int t = 0; t < TriesPerObject; t++)
        {
            SceneObject candidate = look.At(Coordinate(lo, hi, rng), Coordinate(lo, hi, rng));
            if (!InsideImage(candidate)) continue;
            if (constraint is not null && !constraint(candidate)) continue;
            bool free = true;
            foreach (SceneObject other in placed)
                if (!Apart(candidate, other)) { free = false; break; }
            if (free) return candidate;
        }
        return null;
    }

    // Rounded so that specs stay short and readable; the layout checks run on the rounded values.
    private static double Coordinate(double lo, double hi, DeterministicRandom rng) =>
        Math.Round(lo + rng.NextDouble() * (hi - lo), CoordinateDecimals);

    /// <summary>
    /// A distractor that matches none of the reserved descriptions. Half of them are near misses
    /// of a reserved description (one named attribute changed), the hard negatives that make
    /// counting and uniqueness questions test what they claim to.
    /// </summary>
    private ObjectLook? DistractorLook(IReadOnlyList<ObjectFilter> reserved, DeterministicRandom rng)
    {
        for (int t = 0; t < TriesPerDistractorLook; t++)
        {
            ObjectLook look = reserved.Count > 0 && rng.NextDouble() < NearMissProbability
                ? NearMiss(rng.Pick(reserved), rng)
                : RandomLook(rng);
            if (!look.MatchesAny(reserved)) return look;
        }
        return null;
    }

    private ObjectLook NearMiss(ObjectFilter filter, DeterministicRandom rng)
    {
        ObjectLook look = Complete(filter, rng);
        var named = Enum.GetValues<ObjectAttribute>().Where(filter.Specifies).ToList();
        if (named.Count == 0) return look;
        return rng.Pick(named) switch
        {
            ObjectAttribute.Shape => look with { Shape = profile.Shapes.SampleOtherThan(look.Shape, rng) },
            ObjectAttribute.Color => look with { Color = profile.Colors.SampleOtherThan(look.Color, rng) },
            _ => look with { Size = look.Size == ObjectSize.Small ? ObjectSize.Large : ObjectSize.Small },
        };
    }
}
