using System.Text.Json.Serialization;

namespace FailureSynth.World.Questions;

/// <summary>
/// A question as an executable program. Serialised as JSON with a "family" discriminator;
/// object references are <see cref="ObjectFilter"/> descriptions. The executor
/// (<see cref="ProgramExecutor"/>) gives its exact answer on any scene that satisfies the
/// program's presuppositions (see <see cref="ProgramExecutor.FindProblems"/>).
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "family")]
[JsonDerivedType(typeof(ExistProgram), "exist")]
[JsonDerivedType(typeof(CountProgram), "count")]
[JsonDerivedType(typeof(QueryProgram), "query")]
[JsonDerivedType(typeof(CompareProgram), "compare")]
[JsonDerivedType(typeof(RelateProgram), "relate")]
[JsonDerivedType(typeof(SameProgram), "same")]
[JsonDerivedType(typeof(ArithProgram), "arith")]
public abstract record QuestionProgram
{
    // Computed here rather than overridden per type: System.Text.Json does not inherit [JsonIgnore] onto overrides,
    // and a serialised "family" property would clash with the type discriminator.
    [JsonIgnore]
    public QuestionFamily Family => this switch
    {
        ExistProgram => QuestionFamily.Exist,
        CountProgram => QuestionFamily.Count,
        QueryProgram => QuestionFamily.Query,
        CompareProgram => QuestionFamily.Compare,
        RelateProgram => QuestionFamily.Relate,
        SameProgram => QuestionFamily.Same,
        ArithProgram => QuestionFamily.Arith,
        _ => throw new InvalidOperationException($"Unknown program type {GetType().Name}."),
    };

    /// <summary>The kind of value the answer is (drives multiple-choice distractors).</summary>
    [JsonIgnore]
    public AnswerKind AnswerKind => this switch
    {
        CountProgram or ArithProgram => AnswerKind.Number,
        QueryProgram q => AnswerWords.KindOf(q.Attribute),
        _ => AnswerKind.YesNo,
    };

    /// <summary>The descriptions this question refers to with "the": each must match exactly one object.</summary>
    public abstract IReadOnlyList<ObjectFilter> UniqueReferences();
}

/// <summary>"Is there a red circle?": yes when at least one object matches.</summary>
public sealed record ExistProgram(ObjectFilter Target) : QuestionProgram
{
    public override IReadOnlyList<ObjectFilter> UniqueReferences() => [];
}

/// <summary>"How many cyan objects are there?": the number of matching objects.</summary>
public sealed record CountProgram(ObjectFilter Target) : QuestionProgram
{
    public override IReadOnlyList<ObjectFilter> UniqueReferences() => [];
}

/// <summary>"What colour is the large circle?": one attribute of the single object the target describes.</summary>
public sealed record QueryProgram(ObjectFilter Target, ObjectAttribute Attribute) : QuestionProgram
{
    public override IReadOnlyList<ObjectFilter> UniqueReferences() => [Target];
}

/// <summary>"Are there more red objects than squares?": compares the counts of two descriptions.</summary>
public sealed record CompareProgram(ObjectFilter First, ObjectFilter Second, CountComparison Comparison) : QuestionProgram
{
    public override IReadOnlyList<ObjectFilter> UniqueReferences() => [];
}

/// <summary>"Is the red circle to the left of the blue square?": the subject's position relative to the reference.</summary>
public sealed record RelateProgram(ObjectFilter Subject, ObjectFilter Reference, SpatialRelation Relation) : QuestionProgram
{
    public override IReadOnlyList<ObjectFilter> UniqueReferences() => [Subject, Reference];
}

/// <summary>"Does the large circle have the same colour as the small square?"</summary>
public sealed record SameProgram(ObjectFilter First, ObjectFilter Second, ObjectAttribute Attribute) : QuestionProgram
{
    public override IReadOnlyList<ObjectFilter> UniqueReferences() => [First, Second];
}

/// <summary>
/// "How many red objects and squares are there together?" (sum) or "How many more red objects
/// than squares are there?" (difference, answered as the absolute difference of the counts).
/// </summary>
public sealed record ArithProgram(ObjectFilter First, ObjectFilter Second, ArithOperation Operation) : QuestionProgram
{
    public override IReadOnlyList<ObjectFilter> UniqueReferences() => [];
}
