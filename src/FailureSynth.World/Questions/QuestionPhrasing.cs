namespace FailureSynth.World.Questions;

/// <summary>
/// Natural-language wording: several paraphrase templates per family for whole questions, and
/// one fixed wording per atomic reasoning step (steps stay uniform so a student can learn them).
/// </summary>
public static class QuestionPhrasing
{
    /// <summary>Every paraphrase of <paramref name="program"/>, in template order.</summary>
    public static IReadOnlyList<string> Paraphrases(QuestionProgram program) => program switch
    {
        ExistProgram p => Exist(p.Target),
        CountProgram p => Count(p.Target),
        QueryProgram p => Query(p.Target.Phrase(false), p.Attribute),
        CompareProgram p => Compare(p.First.Phrase(true), p.Second.Phrase(true), p.Comparison),
        RelateProgram p => Relate(p.Subject.Phrase(false), p.Reference.Phrase(false), RelationWords(p.Relation)),
        SameProgram p => Same(p.First.Phrase(false), p.Second.Phrase(false), AttributeNoun(p.Attribute)),
        ArithProgram p => Arith(p.First.Phrase(true), p.Second.Phrase(true), p.Operation),
        _ => throw new ArgumentException($"Unknown program type {program.GetType().Name}.", nameof(program)),
    };

    /// <summary>One paraphrase chosen by <paramref name="rng"/>.</summary>
    public static string Phrase(QuestionProgram program, DeterministicRandom rng) => rng.Pick(Paraphrases(program));

    // ---- whole questions -------------------------------------------------------------------

    private static string[] Exist(ObjectFilter x) =>
    [
        $"Is there {x.WithIndefiniteArticle()}?",
        $"Are there any {x.Phrase(true)}?",
        $"Does the image contain {x.WithIndefiniteArticle()}?",
        $"Can you see {x.WithIndefiniteArticle()} in the picture?",
    ];

    private static string[] Count(ObjectFilter x) =>
    [
        $"How many {x.Phrase(true)} are there?",
        $"What number of {x.Phrase(true)} are in the image?",
        $"How many {x.Phrase(true)} can you see?",
        $"Count the {x.Phrase(true)}. How many are there?",
    ];

    private static string[] Query(string x, ObjectAttribute attribute) => attribute switch
    {
        ObjectAttribute.Color =>
        [
            $"What colour is the {x}?",
            $"What is the colour of the {x}?",
            $"Which colour does the {x} have?",
        ],
        ObjectAttribute.Shape =>
        [
            $"What shape is the {x}?",
            $"What is the shape of the {x}?",
            $"Which shape does the {x} have?",
        ],
        ObjectAttribute.Size =>
        [
            $"What size is the {x}?",
            $"What is the size of the {x}?",
            $"Is the {x} small or large?",
        ],
        _ => throw new ArgumentOutOfRangeException(nameof(attribute), attribute, "unknown attribute"),
    };

    private static string[] Compare(string xs, string ys, CountComparison comparison) => comparison switch
    {
        CountComparison.More =>
        [
            $"Are there more {xs} than {ys}?",
            $"Is the number of {xs} greater than the number of {ys}?",
            $"Do the {xs} outnumber the {ys}?",
        ],
        CountComparison.Fewer =>
        [
            $"Are there fewer {xs} than {ys}?",
            $"Is the number of {xs} smaller than the number of {ys}?",
            $"Are the {xs} outnumbered by the {ys}?",
        ],
        CountComparison.Equal =>
        [
            $"Are there as many {xs} as {ys}?",
            $"Is the number of {xs} equal to the number of {ys}?",
            $"Are there the same number of {xs} and {ys}?",
        ],
        _ => throw new ArgumentOutOfRangeException(nameof(comparison), comparison, "unknown comparison"),
    };

    private static string[] Relate(string x, string y, string relation) =>
    [
        $"Is the {x} {relation} the {y}?",
        $"Is the {x} located {relation} the {y}?",
        $"Does the {x} appear {relation} the {y}?",
    ];

    private static string[] Same(string x, string y, string attribute) =>
    [
        $"Does the {x} have the same {attribute} as the {y}?",
        $"Is the {x} the same {attribute} as the {y}?",
        $"Do the {x} and the {y} have the same {attribute}?",
    ];

    private static string[] Arith(string xs, string ys, ArithOperation operation) => operation switch
    {
        ArithOperation.Sum =>
        [
            $"How many {xs} and {ys} are there in total?",
            $"What is the total number of {xs} and {ys}?",
            $"If you count the {xs} and the {ys} together, how many objects do you get?",
        ],
        ArithOperation.Difference =>
        [
            $"How many more {xs} than {ys} are there?",
            $"What is the difference between the number of {xs} and the number of {ys}?",
            $"By how many does the number of {xs} exceed the number of {ys}?",
        ],
        _ => throw new ArgumentOutOfRangeException(nameof(operation), operation, "unknown operation"),
    };

    // ---- atomic reasoning steps ------------------------------------------------------------

    internal static string HowMany(ObjectFilter x) => $"How many {x.Phrase(true)} are there?";

    internal static string WhatAttribute(ObjectFilter x, ObjectAttribute attribute) =>
        $"What {AttributeNoun(attribute)} is the {x.Phrase(false)}?";

    internal static string Position(ObjectFilter x, bool horizontal) =>
        $"How far from the {(horizontal ? "left" : "top")} edge is the {x.Phrase(false)}, on a scale from 0 to {ProgramExecutor.PositionScale}?";

    internal static string IsPositive(string n) => $"Is {n} greater than 0?";

    internal static string GreaterThan(string a, string b) => $"Is {a} greater than {b}?";

    internal static string LessThan(string a, string b) => $"Is {a} less than {b}?";

    internal static string EqualTo(string a, string b) => $"Is {a} equal to {b}?";

    internal static string SameValue(string a, string b, ObjectAttribute attribute) =>
        $"Are {a} and {b} the same {AttributeNoun(attribute)}?";

    internal static string Plus(string a, string b) => $"What is {a} plus {b}?";

    internal static string DifferenceOf(string a, string b) => $"What is the difference between {a} and {b}?";

    internal static string AttributeNoun(ObjectAttribute attribute) => attribute switch
    {
        ObjectAttribute.Shape => "shape",
        ObjectAttribute.Color => "colour",
        ObjectAttribute.Size => "size",
        _ => throw new ArgumentOutOfRangeException(nameof(attribute), attribute, "unknown attribute"),
    };

    internal static string RelationWords(SpatialRelation relation) => relation switch
    {
        SpatialRelation.Left => "to the left of",
        SpatialRelation.Right => "to the right of",
        SpatialRelation.Above => "above",
        SpatialRelation.Below => "below",
        _ => throw new ArgumentOutOfRangeException(nameof(relation), relation, "unknown relation"),
    };
}
