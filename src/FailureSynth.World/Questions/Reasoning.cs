using FailureSynth.World.Scenes;

namespace FailureSynth.World.Questions;

/// <summary>
/// One step of a rationale: an atomic question about the scene (or about earlier step answers)
/// with its exact answer. <see cref="Kind"/> is one of "count", "query", "position", "compare",
/// "arith". <see cref="Index"/> starts at 1.
/// </summary>
public sealed record ReasoningStep(int Index, string Question, string Answer, string Kind);

/// <summary>
/// Decomposes a program into atomic reasoning steps (the rationale format students produce)
/// and recomputes a final answer from step answers alone.
/// </summary>
/// <remarks>
/// Layouts, per family (n = step count):
/// exist: counts along the description's refinement chain, then "Is c greater than 0?";
/// count: counts along the refinement chain (at least two steps, starting from all objects);
/// query: "How many X?" then "What colour is the X?";
/// compare / arith: count X, count Y, then the comparison or the arithmetic on the two numbers;
/// relate: position of X and of Y on a 0..20 scale along the asked axis, then their comparison;
/// same: the attribute of X, of Y, then whether the two words are equal.
/// </remarks>
public static class Reasoning
{
    public static IReadOnlyList<ReasoningStep> Decompose(QuestionProgram program, Scene scene)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(scene);
        var steps = new StepList();
        switch (program)
        {
            case ExistProgram p:
            {
                int found = CountChain(steps, RefinementChain(p.Target, minimumLength: 1), scene);
                steps.Add(QuestionPhrasing.IsPositive(AnswerWords.Number(found)), AnswerWords.YesNo(found > 0), "compare");
                break;
            }
            case CountProgram p:
                CountChain(steps, RefinementChain(p.Target, minimumLength: 2), scene);
                break;
            case QueryProgram p:
                steps.Add(QuestionPhrasing.HowMany(p.Target), AnswerWords.Number(p.Target.CountIn(scene)), "count");
                steps.Add(QuestionPhrasing.WhatAttribute(p.Target, p.Attribute),
                    AnswerWords.Of(ProgramExecutor.TheOne(p.Target, scene), p.Attribute), "query");
                break;
            case CompareProgram p:
            {
                int a = p.First.CountIn(scene), b = p.Second.CountIn(scene);
                steps.Add(QuestionPhrasing.HowMany(p.First), AnswerWords.Number(a), "count");
                steps.Add(QuestionPhrasing.HowMany(p.Second), AnswerWords.Number(b), "count");
                steps.Add(CompareWording(p.Comparison, AnswerWords.Number(a), AnswerWords.Number(b)),
                    AnswerWords.YesNo(ProgramExecutor.Holds(p.Comparison, a, b)), "compare");
                break;
            }
            case RelateProgram p:
            {
                bool horizontal = ProgramExecutor.IsHorizontal(p.Relation);
                int a = PositionOf(ProgramExecutor.TheOne(p.Subject, scene), horizontal);
                int b = PositionOf(ProgramExecutor.TheOne(p.Reference, scene), horizontal);
                steps.Add(QuestionPhrasing.Position(p.Subject, horizontal), AnswerWords.Number(a), "position");
                steps.Add(QuestionPhrasing.Position(p.Reference, horizontal), AnswerWords.Number(b), "position");
                steps.Add(RelationWording(p.Relation, AnswerWords.Number(a), AnswerWords.Number(b)),
                    AnswerWords.YesNo(RelationHolds(p.Relation, a, b)), "compare");
                break;
            }
            case SameProgram p:
            {
                string a = AnswerWords.Of(ProgramExecutor.TheOne(p.First, scene), p.Attribute);
                string b = AnswerWords.Of(ProgramExecutor.TheOne(p.Second, scene), p.Attribute);
                steps.Add(QuestionPhrasing.WhatAttribute(p.First, p.Attribute), a, "query");
                steps.Add(QuestionPhrasing.WhatAttribute(p.Second, p.Attribute), b, "query");
                steps.Add(QuestionPhrasing.SameValue(a, b, p.Attribute), AnswerWords.YesNo(a == b), "compare");
                break;
            }
            case ArithProgram p:
            {
                int a = p.First.CountIn(scene), b = p.Second.CountIn(scene);
                string sa = AnswerWords.Number(a), sb = AnswerWords.Number(b);
                steps.Add(QuestionPhrasing.HowMany(p.First), sa, "count");
                steps.Add(QuestionPhrasing.HowMany(p.Second), sb, "count");
                steps.Add(p.Operation == ArithOperation.Sum ? QuestionPhrasing.Plus(sa, sb) : QuestionPhrasing.DifferenceOf(sa, sb),
                    AnswerWords.Number(ProgramExecutor.Apply(p.Operation, a, b)), "arith");
                break;
            }
            default:
                throw new ArgumentException($"Unknown program type {program.GetType().Name}.", nameof(program));
        }
        return steps.Steps;
    }

    /// <summary>How many steps <see cref="Decompose"/> yields for <paramref name="program"/> (independent of the scene).</summary>
    public static int StepCount(QuestionProgram program) => program switch
    {
        ExistProgram p => RefinementChain(p.Target, 1).Count + 1,
        CountProgram p => RefinementChain(p.Target, 2).Count,
        QueryProgram => 2,
        CompareProgram or RelateProgram or SameProgram or ArithProgram => 3,
        _ => throw new ArgumentException($"Unknown program type {program.GetType().Name}.", nameof(program)),
    };

    /// <summary>
    /// The step (1-based) whose question quotes the answers of earlier steps and combines them ("Is 3 greater than 0?",
    /// "What is 3 plus 2?"): the last step of exist, compare, relate, same and arith questions; null for count and query,
    /// whose steps all read the scene.
    /// </summary>
    public static int? ComposingStep(QuestionProgram program) => program switch
    {
        ExistProgram or CompareProgram or RelateProgram or SameProgram or ArithProgram => StepCount(program),
        CountProgram or QueryProgram => null,
        _ => throw new ArgumentException($"Unknown program type {program.GetType().Name}.", nameof(program)),
    };

    /// <summary>
    /// The question of step <paramref name="stepIndex"/> (1-based) when the earlier steps were answered
    /// <paramref name="earlierAnswers"/> (at least stepIndex - 1 of them). Later steps quote earlier
    /// answers ("Is 3 greater than 0?"), so a student reasoning on its own phrases them from its own
    /// answers; with the exact answers this gives the questions of <see cref="Decompose"/>.
    /// </summary>
    public static string StepQuestion(QuestionProgram program, int stepIndex, IReadOnlyList<string> earlierAnswers)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(earlierAnswers);
        int count = StepCount(program);
        if (stepIndex < 1 || stepIndex > count)
            throw new ArgumentOutOfRangeException(nameof(stepIndex), stepIndex, $"A {QuestionKeys.Of(program.Family)} question has steps 1..{count}.");
        if (earlierAnswers.Count < stepIndex - 1)
            throw new ArgumentException($"Step {stepIndex} needs the answers of the {stepIndex - 1} steps before it, but {earlierAnswers.Count} were given.", nameof(earlierAnswers));
        switch (program)
        {
            case ExistProgram p:
            {
                var chain = RefinementChain(p.Target, minimumLength: 1);
                return stepIndex <= chain.Count ? QuestionPhrasing.HowMany(chain[stepIndex - 1]) : QuestionPhrasing.IsPositive(earlierAnswers[stepIndex - 2]);
            }
            case CountProgram p:
                return QuestionPhrasing.HowMany(RefinementChain(p.Target, minimumLength: 2)[stepIndex - 1]);
            case QueryProgram p:
                return stepIndex == 1 ? QuestionPhrasing.HowMany(p.Target) : QuestionPhrasing.WhatAttribute(p.Target, p.Attribute);
            case CompareProgram p:
                return stepIndex switch
                {
                    1 => QuestionPhrasing.HowMany(p.First),
                    2 => QuestionPhrasing.HowMany(p.Second),
                    _ => CompareWording(p.Comparison, earlierAnswers[0], earlierAnswers[1]),
                };
            case RelateProgram p:
            {
                bool horizontal = ProgramExecutor.IsHorizontal(p.Relation);
                return stepIndex switch
                {
                    1 => QuestionPhrasing.Position(p.Subject, horizontal),
                    2 => QuestionPhrasing.Position(p.Reference, horizontal),
                    _ => RelationWording(p.Relation, earlierAnswers[0], earlierAnswers[1]),
                };
            }
            case SameProgram p:
                return stepIndex switch
                {
                    1 => QuestionPhrasing.WhatAttribute(p.First, p.Attribute),
                    2 => QuestionPhrasing.WhatAttribute(p.Second, p.Attribute),
                    _ => QuestionPhrasing.SameValue(earlierAnswers[0], earlierAnswers[1], p.Attribute),
                };
            case ArithProgram p:
                return stepIndex switch
                {
                    1 => QuestionPhrasing.HowMany(p.First),
                    2 => QuestionPhrasing.HowMany(p.Second),
                    _ => p.Operation == ArithOperation.Sum
                        ? QuestionPhrasing.Plus(earlierAnswers[0], earlierAnswers[1])
                        : QuestionPhrasing.DifferenceOf(earlierAnswers[0], earlierAnswers[1]),
                };
            default:
                throw new ArgumentException($"Unknown program type {program.GetType().Name}.", nameof(program));
        }
    }

    /// <summary>
    /// Recomputes the program's final answer from the answers of its reasoning steps alone (no
    /// scene): the answer a rationale implies. Throws <see cref="ArgumentException"/> when the
    /// answers do not fit the program's step layout; use <see cref="TryComposeAnswer"/> for
    /// untrusted rationales.
    /// </summary>
    public static string ComposeAnswer(QuestionProgram program, IReadOnlyList<string> stepAnswers)
    {
        if (TryComposeAnswer(program, stepAnswers, out string? answer, out string? problem))
            return answer;
        throw new ArgumentException(problem, nameof(stepAnswers));
    }

    public static bool TryComposeAnswer(QuestionProgram program, IReadOnlyList<string> stepAnswers,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? answer,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? problem)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(stepAnswers);
        answer = null;
        int expected = StepCount(program);
        if (stepAnswers.Count != expected)
        {
            problem = $"A {QuestionKeys.Of(program.Family)} question about '{Describe(program)}' has {expected} reasoning steps, " +
                      $"but {stepAnswers.Count} step answers were given.";
            return false;
        }
        switch (program)
        {
            case ExistProgram:
                if (!Number(stepAnswers, expected - 2, out int found, out problem)) return false;
                answer = AnswerWords.YesNo(found > 0);
                break;
            case CountProgram:
                if (!Number(stepAnswers, expected - 1, out int count, out problem)) return false;
                answer = AnswerWords.Number(count);
                break;
            case QueryProgram:
                answer = stepAnswers[1].Trim().ToLowerInvariant();
                break;
            case CompareProgram p:
            {
                if (!Number(stepAnswers, 0, out int a, out problem) || !Number(stepAnswers, 1, out int b, out problem)) return false;
                answer = AnswerWords.YesNo(ProgramExecutor.Holds(p.Comparison, a, b));
                break;
            }
            case RelateProgram p:
            {
                if (!Number(stepAnswers, 0, out int a, out problem) || !Number(stepAnswers, 1, out int b, out problem)) return false;
                answer = AnswerWords.YesNo(RelationHolds(p.Relation, a, b));
                break;
            }
            case SameProgram:
                answer = AnswerWords.YesNo(stepAnswers[0].Trim().ToLowerInvariant() == stepAnswers[1].Trim().ToLowerInvariant());
                break;
            case ArithProgram p:
            {
                if (!Number(stepAnswers, 0, out int a, out problem) || !Number(stepAnswers, 1, out int b, out problem)) return false;
                answer = AnswerWords.Number(ProgramExecutor.Apply(p.Operation, a, b));
                break;
            }
            default:
                problem = $"Unknown program type {program.GetType().Name}.";
                return false;
        }
        problem = null;
        return true;
    }

    /// <summary>
    /// The descriptions counted on the way to <paramref name="target"/>: one attribute added at a
    /// time in the order shape, colour, size ("circles", "red circles", "large red circles").
    /// Starts from all objects when the chain would otherwise be shorter than
    /// <paramref name="minimumLength"/>.
    /// </summary>
    public static IReadOnlyList<ObjectFilter> RefinementChain(ObjectFilter target, int minimumLength)
    {
        var chain = new List<ObjectFilter>(4);
        var f = new ObjectFilter();
        if (target.Shape is { } shape) chain.Add(f = f with { Shape = shape });
        if (target.Color is { } color) chain.Add(f = f with { Color = color });
        if (target.Size is { } size) chain.Add(f = f with { Size = size });
        if (chain.Count < minimumLength && target.SpecifiedCount() > 0) chain.Insert(0, new ObjectFilter());
        if (chain.Count == 0) chain.Add(new ObjectFilter());
        return chain;
    }

    private static int CountChain(StepList steps, IReadOnlyList<ObjectFilter> chain, Scene scene)
    {
        int last = 0;
        foreach (ObjectFilter f in chain)
        {
            last = f.CountIn(scene);
            steps.Add(QuestionPhrasing.HowMany(f), AnswerWords.Number(last), "count");
        }
        return last;
    }

    private static int PositionOf(SceneObject obj, bool horizontal) =>
        ProgramExecutor.OnPositionScale(horizontal ? obj.X : obj.Y);

    // Left and above mean a smaller coordinate (Y grows downwards); right and below a larger one.
    private static bool RelationHolds(SpatialRelation relation, int subject, int reference) =>
        relation is SpatialRelation.Left or SpatialRelation.Above ? subject < reference : subject > reference;

    private static string RelationWording(SpatialRelation relation, string a, string b) =>
        relation is SpatialRelation.Left or SpatialRelation.Above ? QuestionPhrasing.LessThan(a, b) : QuestionPhrasing.GreaterThan(a, b);

    private static string CompareWording(CountComparison comparison, string a, string b) => comparison switch
    {
        CountComparison.More => QuestionPhrasing.GreaterThan(a, b),
        CountComparison.Fewer => QuestionPhrasing.LessThan(a, b),
        CountComparison.Equal => QuestionPhrasing.EqualTo(a, b),
        _ => throw new ArgumentOutOfRangeException(nameof(comparison), comparison, "unknown comparison"),
    };

    private static bool Number(IReadOnlyList<string> answers, int index, out int value,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? problem)
    {
        if (AnswerWords.TryParseNumber(answers[index]?.Trim(), out value))
        {
            problem = null;
            return true;
        }
        problem = $"Step {index + 1} should answer with a whole number such as \"3\", but its answer is \"{answers[index]}\".";
        return false;
    }

    private static string Describe(QuestionProgram program) => QuestionPhrasing.Paraphrases(program)[0];

    private sealed class StepList
    {
        private readonly List<ReasoningStep> _steps = [];
        public IReadOnlyList<ReasoningStep> Steps => _steps;
        public void Add(string question, string answer, string kind) => _steps.Add(new ReasoningStep(_steps.Count + 1, question, answer, kind));
    }
}
