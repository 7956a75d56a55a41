using System.Globalization;
using FailureSynth.Loop.Common;
using FailureSynth.Loop.Contracts;
using FailureSynth.World;
using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;

namespace FailureSynth.Loop.Locate;

/// <summary>Finds the reasoning step of a failure where the student went wrong (1-based), without the image.</summary>
public interface IStepLocator
{
    /// <summary>Short name used in reports ("answer-switch", "random", ...).</summary>
    string Name { get; }

    Task<LocatedStep> LocateAsync(Failure failure, CancellationToken cancellationToken);
}

/// <summary>
/// Seed 002's answer-switch: the teacher is told the gold answer is right with probability <see cref="Bias"/>,
/// then reads the student's steps one by one; the located step is the first after which the student's
/// (wrong) answer leads the gold answer by more than <see cref="Delta"/> and keeps leading for <see cref="Lambda"/>
/// steps (fewer when the rationale ends first). The defaults (bias 0.2, delta 0.05, lambda 1) are the best of the
/// sweep in `failuresynth experiment locate-accuracy` on its tuning split at the embedded teacher's trust (0.97). When the lead never appears, the step that moved the
/// margin most toward the wrong answer is taken and marked as a fallback.
/// </summary>
public sealed class AnswerSwitchLocator(ITeacher teacher, double bias = AnswerSwitchLocator.DefaultBias, double delta = AnswerSwitchLocator.DefaultDelta, int lambda = AnswerSwitchLocator.DefaultLambda) : IStepLocator
{
    /// <summary>The sweep's best bias (see the class summary); campaign files default to it too.</summary>
    public const double DefaultBias = 0.2;

    /// <summary>The sweep's best delta.</summary>
    public const double DefaultDelta = 0.05;

    /// <summary>The sweep's best lambda.</summary>
    public const int DefaultLambda = 1;

    public double Bias { get; } = bias is > 0 and < 1 ? bias : throw new ArgumentOutOfRangeException(nameof(bias), bias, "answer-switch bias must be between 0 and 1 exclusive.");
    public double Delta { get; } = delta is >= 0 and < 1 ? delta : throw new ArgumentOutOfRangeException(nameof(delta), delta, "answer-switch delta must be between 0 (inclusive) and 1.");
    public int Lambda { get; } = lambda >= 1 ? lambda : throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "answer-switch lambda must be at least 1.");

    public string Name => "answer-switch";

    public async Task<LocatedStep> LocateAsync(Failure failure, CancellationToken cancellationToken)
    {
        Locators.RequireSteps(failure);
        var prior = new BiasedPrior(failure.Gold, Bias);
        string[] candidates = [failure.Predicted, failure.Gold];
        int n = failure.Steps.Count;
        var margins = new double[n + 1];
        for (int k = 0; k <= n; k++)
        {
            var scores = await teacher.ScoreAnswersAsync(failure.Question, candidates, [.. failure.Steps.Take(k)], prior, cancellationToken).ConfigureAwait(false);
            margins[k] = scores[0] - scores[1];
        }
        for (int k = 1; k <= n; k++)
        {
            int last = Math.Min(n, k + Lambda - 1);
            bool holds = true;
            for (int j = k; j <= last && holds; j++) holds = margins[j] > Delta;
            if (holds) return Locators.At(failure, k, Name, fallback: false, margins);
        }
        int best = 1;
        for (int k = 2; k <= n; k++)
            if (margins[k] - margins[k - 1] > margins[best] - margins[best - 1]) best = k;
        return Locators.At(failure, best, Name, fallback: true, margins);
    }
}

/// <summary>The paper's weakest baseline: a step drawn uniformly at random (seeded per failure).</summary>
public sealed class RandomStepLocator(long seed) : IStepLocator
{
    public string Name => "random";

    public Task<LocatedStep> LocateAsync(Failure failure, CancellationToken cancellationToken)
    {
        Locators.RequireSteps(failure);
        var rng = DeterministicRandom.Derive(seed, StableHash.Seed("random-step", failure.Id));
        return Task.FromResult(Locators.At(failure, 1 + rng.NextInt(failure.Steps.Count), Name, fallback: false));
    }
}

/// <summary>
/// Prompt-per-step: each step is shown to the teacher on its own (with the question and the gold answer, not
/// the other steps) and judged plausible or not; the first step the teacher finds more likely wrong than
/// right is located, else the least plausible one. The teacher is told the gold answer is right with
/// probability <see cref="Bias"/>, which must exceed one half: only then does a step that says nothing
/// either way leave the gold answer "more likely right", so that falling below one half is the step's doing.
/// </summary>
public sealed class PromptPerStepLocator(ITeacher teacher, double bias = PromptPerStepLocator.DefaultBias) : IStepLocator
{
    /// <summary>The paper's example of a biased prompt ("option B holds a 60% probability of being correct").</summary>
    public const double DefaultBias = 0.6;

    public double Bias { get; } = bias is > 0.5 and < 1 ? bias
        : throw new ArgumentOutOfRangeException(nameof(bias), bias, "prompt-per-step bias must be above 0.5 and below 1: at or below one half every step would look wrong before it is read.");

    public string Name => "prompt-per-step";

    public async Task<LocatedStep> LocateAsync(Failure failure, CancellationToken cancellationToken)
    {
        Locators.RequireSteps(failure);
        var prior = new BiasedPrior(failure.Gold, Bias);
        int n = failure.Steps.Count;
        var plausibility = new double[n];
        for (int k = 0; k < n; k++)
        {
            // The step alone, in its place: earlier steps are left unanswered so the teacher cannot use them.
            var lone = Enumerable.Range(0, k + 1).Select(i => i == k ? failure.Steps[i] : failure.Steps[i] with { Answer = StepAnswer.Unread }).ToList();
            var with = await teacher.ScoreAnswersAsync(failure.Question, [failure.Gold], lone, prior, cancellationToken).ConfigureAwait(false);
            plausibility[k] = with[0];
        }
        for (int k = 0; k < n; k++)
            if (plausibility[k] < 0.5) return Locators.At(failure, k + 1, Name, fallback: false, plausibility);
        int least = Array.IndexOf(plausibility, plausibility.Min());
        return Locators.At(failure, least + 1, Name, fallback: true, plausibility);
    }
}

/// <summary>
/// Pseudo-rationale match: the teacher writes its own rationale for the gold answer, without the image, and
/// the first step where the student's rationale differs from it is located (the last step when they agree
/// everywhere). Built on <see cref="ITeacher.ScoreAnswersAsync"/> alone, each of its steps is the answer under
/// which the teacher, told the gold answer is right with probability 0.99, finds the gold answer most likely
/// (greedily, given its own earlier steps). That is the step most telling of the gold answer, not always its most
/// probable one; the interface gives no probability of a step itself.
/// </summary>
public sealed class PseudoRationaleLocator(ITeacher teacher, double bias = 0.99) : IStepLocator
{
    public string Name => "pseudo-rationale";

    public async Task<LocatedStep> LocateAsync(Failure failure, CancellationToken cancellationToken)
    {
        Locators.RequireSteps(failure);
        QuestionProgram program = failure.Question.Program
            ?? throw new ArgumentException($"Failure {failure.Id}: pseudo-rationale needs the question's program to phrase its own steps.", nameof(failure));
        var prior = new BiasedPrior(failure.Gold, bias);
        var own = new List<StepAnswer>();
        for (int k = 0; k < failure.Steps.Count; k++)
        {
            // Greedy: the teacher's own most likely answer to step k given its own earlier steps and the gold answer.
            var options = StepOptions(program, k);
            double bestScore = double.NegativeInfinity;
            string bestAnswer = options[0];
            foreach (string option in options)
            {
                var trial = own.Append(new StepAnswer(k + 1, failure.Steps[k].Question, option, 1)).ToList();
                var score = await teacher.ScoreAnswersAsync(failure.Question, [failure.Gold], trial, prior, cancellationToken).ConfigureAwait(false);
                if (score[0] > bestScore + 1e-12) (bestScore, bestAnswer) = (score[0], option);
            }
            own.Add(new StepAnswer(k + 1, failure.Steps[k].Question, bestAnswer, 1));
            if (!Same(bestAnswer, failure.Steps[k].Answer)) return Locators.At(failure, k + 1, Name, fallback: false);
        }
        return Locators.At(failure, failure.Steps.Count, Name, fallback: true);
    }

    private static IReadOnlyList<string> StepOptions(QuestionProgram program, int stepIndex)
    {
        var layout = Reasoning.StepCount(program);
        bool last = stepIndex == layout - 1;
        return program switch
        {
            QueryProgram q when stepIndex == 1 => AnswerWords.ValuesOf(AnswerWords.KindOf(q.Attribute)),
            SameProgram s when !last => AnswerWords.ValuesOf(AnswerWords.KindOf(s.Attribute)),
            ExistProgram or CompareProgram or RelateProgram or SameProgram when last => AnswerWords.ValuesOf(AnswerKind.YesNo),
            RelateProgram => [.. Enumerable.Range(0, ProgramExecutor.PositionScale + 1).Select(AnswerWords.Number)],
            _ => [.. Enumerable.Range(0, 13).Select(AnswerWords.Number)],
        };
    }

    private static bool Same(string a, string b) => string.Equals(a.Trim(), b.Trim(), StringComparison.OrdinalIgnoreCase);
}

/// <summary>Helpers shared by the locators, and the one place a locator is chosen by name.</summary>
public static class Locators
{
    /// <summary>
    /// The locator named <paramref name="method"/> (answer-switch, random, prompt-per-step, pseudo-rationale).
    /// <paramref name="bias"/>, <paramref name="delta"/> and <paramref name="lambda"/> are answer-switch's (tuned
    /// for it by the sweep); the baselines keep their own priors, so tuning answer-switch never moves them.
    /// </summary>
    public static IStepLocator Create(string method, ITeacher teacher, double bias, double delta, int lambda, long seed) => method switch
    {
        "answer-switch" => new AnswerSwitchLocator(teacher, bias, delta, lambda),
        "random" => new RandomStepLocator(seed),
        "prompt-per-step" => new PromptPerStepLocator(teacher),
        "pseudo-rationale" => new PseudoRationaleLocator(teacher),
        _ => throw new ArgumentException($"Unknown locator '{method}'; use answer-switch, random, prompt-per-step or pseudo-rationale.", nameof(method)),
    };

    internal static void RequireSteps(Failure failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        if (failure.Steps.Count == 0)
            throw new ArgumentException($"Failure {failure.Id} has no reasoning steps; locate needs the student's rationale (answer in reasoning mode).", nameof(failure));
    }

    internal static LocatedStep At(Failure failure, int index, string method, bool fallback, IReadOnlyList<double>? margins = null)
    {
        var step = failure.Steps[index - 1];
        return new LocatedStep(index, step.Question, step.Answer, method, fallback,
            margins is null ? null : [.. margins.Select(m => Math.Round(m, 6))]);
    }
}

/// <summary>
/// Measurement only: reads the true scene and says which step of the student's rationale is the first wrong
/// one (its answer differs from the exact answer of the same step). Never used to decide anything in a campaign.
/// </summary>
public static class Oracle
{
    /// <summary>1-based index of the first wrong step, or 0 when every step is right (the composition failed).</summary>
    public static int FirstWrongStep(QuestionProgram program, Scene scene, IReadOnlyList<StepAnswer> studentSteps)
    {
        var exact = Reasoning.Decompose(program, scene);
        for (int i = 0; i < Math.Min(exact.Count, studentSteps.Count); i++)
            if (!string.Equals(exact[i].Answer, studentSteps[i].Answer.Trim(), StringComparison.OrdinalIgnoreCase)) return i + 1;
        return 0;
    }

    /// <summary>The text used for a located step in reports.</summary>
    public static string Describe(LocatedStep step) => string.Create(CultureInfo.InvariantCulture, $"step {step.Index}: {step.Question} -> {step.Answer}");
}
