using System.Globalization;
using FailureSynth.Imaging;
using FailureSynth.Loop.Common;
using FailureSynth.Loop.Contracts;
using FailureSynth.World;
using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;
using FailureSynth.World.Skills;

namespace FailureSynth.Loop.Teacher;

/// <summary>
/// The offline teacher. It reasons over ShapesWorld's generative prior (<see cref="StepPrior"/>), never over
/// the true scene of a validation image: it scores answers from a rationale by Bayes' rule (the prior over
/// step-answer tuples, optionally biased toward a stated answer, times a noisy-statement likelihood for each
/// step read), names the skill behind a step from the program, proposes new scenes for a skill from the
/// balanced generator (with a configurable share of wrong answers, as a real teacher model makes), and
/// judges a rendered proposal by checking the picture against its scene spec.
/// </summary>
public sealed class EmbeddedTeacher : ITeacher, IAnswerJudge
{
    /// <summary>
    /// Version of the teacher's scoring model; it enters the run cache's key of the experiments, so runs located with
    /// an older model are not reused. 2: the composing step of a rationale is no longer read as evidence about the scene.
    /// </summary>
    public const int ModelVersion = 2;

    private const double AnswerFloor = 1e-4;
    private const double MissLikelihoodShare = 1e-3;
    private readonly EmbeddedTeacherOptions _options;
    private readonly StepPrior _prior;
    private readonly WorldGenerator _generator = new(Profiles.Balanced);

    public EmbeddedTeacher(EmbeddedTeacherOptions? options = null)
    {
        _options = options ?? new EmbeddedTeacherOptions();
        _options.Validate();
        _prior = new StepPrior(_options.Seed, _options.PriorSamples);
    }

    public EmbeddedTeacherOptions Options => _options;

    public string Name => string.Create(CultureInfo.InvariantCulture,
        $"embedded-teacher/seed={_options.Seed}/trust={_options.Trust}/noise={_options.ProposalNoise}/prior={_options.PriorSamples}");

    public Task<IReadOnlyList<double>> ScoreAnswersAsync(TeacherQuestion question, IReadOnlyList<string> candidates, IReadOnlyList<StepAnswer> stepsSoFar, BiasedPrior? prior, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Score(question, candidates, stepsSoFar, prior));
    }

    /// <summary>The synchronous core of <see cref="ScoreAnswersAsync"/>.</summary>
    public IReadOnlyList<double> Score(TeacherQuestion question, IReadOnlyList<string> candidates, IReadOnlyList<StepAnswer> stepsSoFar, BiasedPrior? prior)
    {
        ArgumentNullException.ThrowIfNull(question);
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(stepsSoFar);
        QuestionProgram program = question.Program
            ?? throw new ArgumentException("The embedded teacher reasons over ShapesWorld programs; this question has none. Use an LLM teacher for free-form questions.", nameof(question));
        if (prior is not null && prior.Probability is <= 0 or >= 1)
            throw new ArgumentException($"A biased prior's probability must be between 0 and 1 exclusive (got {prior.Probability.ToString(CultureInfo.InvariantCulture)}).", nameof(prior));

        var outcomes = _prior.For(program);
        var statements = SceneStatements(program, stepsSoFar);
        // Per answer: its prior mass and the likelihood of the statements read so far.
        var mass = new SortedDictionary<string, double>(StringComparer.Ordinal);
        var evidence = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var outcome in outcomes)
        {
            if (!Reasoning.TryComposeAnswer(program, outcome.Steps, out string? answer, out _)) continue;
            mass[answer] = mass.GetValueOrDefault(answer) + outcome.Weight;
            evidence[answer] = evidence.GetValueOrDefault(answer) + outcome.Weight * Likelihood(statements, outcome.Steps);
        }

        var answers = new SortedSet<string>(mass.Keys, StringComparer.Ordinal);
        foreach (string c in candidates) answers.Add(Normalize(c));
        if (prior is not null) answers.Add(Normalize(prior.Answer));
        double miss = MissLikelihood(statements);

        // Prior over answers: the generative marginal, or the stated answer at the stated probability and
        // the rest in proportion to their marginal. A small floor keeps answers the sample never produced possible.
        string? favoured = prior is null ? null : Normalize(prior.Answer);
        double othersMass = answers.Where(a => a != favoured).Sum(a => mass.GetValueOrDefault(a) + AnswerFloor);
        var posterior = new Dictionary<string, double>(StringComparer.Ordinal);
        double total = 0;
        foreach (string a in answers)
        {
            double generative = mass.GetValueOrDefault(a) + AnswerFloor;
            double priorOfA = favoured is null ? generative
                : a == favoured ? prior!.Probability
                : (1 - prior!.Probability) * generative / othersMass;
            double m = mass.GetValueOrDefault(a);
            double likelihood = (m > 0 ? evidence[a] / m : 0) * (1 - MissLikelihoodShare) + miss * MissLikelihoodShare;
            double p = priorOfA * likelihood;
            posterior[a] = p;
            total += p;
        }
        return [.. candidates.Select(c => total > 0 ? posterior[Normalize(c)] / total : 0)];
    }

    public Task<SkillDiagnosis> DiagnoseSkillAsync(Failure failure, LocatedStep step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(failure);
        ArgumentNullException.ThrowIfNull(step);
        cancellationToken.ThrowIfCancellationRequested();
        QuestionProgram program = failure.Question.Program
            ?? throw new ArgumentException($"Failure {failure.Id}: the embedded teacher needs the question's program.", nameof(failure));
        string key = TeacherSkills.KeyForStep(program, step.Index, failure.Gold, failure.Steps);
        string text = $"{TeacherSkills.SkillText(key)} The student answered '{step.Question}' with '{step.Answer}'.";
        return Task.FromResult(new SkillDiagnosis(text, key));
    }

    public Task<IReadOnlyList<SampleProposal>> ProposeAsync(SkillDiagnosis skill, Failure? failure, int n, long seed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(skill);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        cancellationToken.ThrowIfCancellationRequested();
        string key = skill.SkillKey is { } k && SkillTaxonomy.Contains(k) ? k
            : TeacherSkills.Match(skill.Text) ?? TeacherSkills.Guess(skill.Text);
        var samples = _generator.SampleForSkill(key, n, seed);
        var proposals = new List<SampleProposal>(samples.Count);
        foreach (WorldSample sample in samples)
        {
            var rng = DeterministicRandom.Derive(_options.Seed, StableHash.Seed("proposal-noise", sample.Id));
            string answer = sample.Answer;
            if (rng.NextDouble() < _options.ProposalNoise) answer = WrongAnswer(sample, rng);
            proposals.Add(new SampleProposal(
                StableHash.Id("prop", key, sample.Id),
                key,
                sample.Scene,
                null,
                sample.Question,
                answer,
                [.. sample.Steps.Select(s => $"{s.Question} {s.Answer}")],
                sample.Program));
        }
        return Task.FromResult<IReadOnlyList<SampleProposal>>(proposals);
    }

    public Task<JudgeVerdict> JudgeAsync(SampleProposal sample, RgbImage image, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(image);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Judge(sample, image));
    }

    /// <summary>
    /// ShapesWorld answers are single words: an answer means the same as the reference when both read as the same word after
    /// trimming, lower-casing, a final full stop, a leading article, number words ("two" = "2") and the spelling "grey" are
    /// set aside.
    /// </summary>
    public Task<AnswerMatch> MatchAnswerAsync(TeacherQuestion question, string reference, string answer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(answer);
        cancellationToken.ThrowIfCancellationRequested();
        string a = CanonicalWord(answer), r = CanonicalWord(reference);
        return Task.FromResult(a == r
            ? new AnswerMatch(true, $"'{answer.Trim()}' reads as '{r}', the reference")
            : new AnswerMatch(false, $"'{answer.Trim()}' reads as '{a}', the reference is '{r}'"));
    }

    private static readonly string[] NumberWords = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];

    private static string CanonicalWord(string text)
    {
        string t = text.Trim().TrimEnd('.', '!').Trim().ToLowerInvariant();
        foreach (string article in new[] { "a ", "an ", "the " })
            if (t.StartsWith(article, StringComparison.Ordinal)) t = t[article.Length..].Trim();
        int n = Array.IndexOf(NumberWords, t);
        if (n >= 0) return n.ToString(CultureInfo.InvariantCulture);
        return t == "grey" ? "gray" : t;
    }

    public Task<string> DescribeRequiredSkillAsync(TeacherQuestion question, string? answer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(question);
        cancellationToken.ThrowIfCancellationRequested();
        if (question.Program is null || answer is null) return Task.FromResult(question.Text);
        var keys = TeacherSkills.KeysForAnswer(question.Program, answer);
        return Task.FromResult(string.Join(' ', keys.Select(TeacherSkills.SkillText)));
    }

    /// <summary>
    /// Judges a rendered proposal against its own scene spec: 1 when the picture does not show an object the
    /// spec promises (wrong colour at its centre, or no scene to check), 2 when two objects nearly touch or an
    /// object leaves little margin to the border (hard to read at 64 pixels), 3 otherwise.
    /// </summary>
    public static JudgeVerdict Judge(SampleProposal sample, RgbImage image)
    {
        if (sample.Scene is not { } scene) return new JudgeVerdict(1, "no scene spec to check the image against");
        foreach (SceneObject o in scene.Objects)
        {
            int x = Math.Clamp((int)(o.X * image.Width), 0, image.Width - 1);
            int y = Math.Clamp((int)(o.Y * image.Height), 0, image.Height - 1);
            var (r, g, b) = image.GetPixel(x, y);
            var (er, eg, eb) = SceneGeometry.Rgb(o.Color);
            int distance = Math.Abs(r - er) + Math.Abs(g - eg) + Math.Abs(b - eb);
            if (distance > 90)
                return new JudgeVerdict(1, $"the {AnswerWords.Of(o.Color)} {AnswerWords.Of(o.Shape)} at ({o.X:0.00}, {o.Y:0.00}) does not show its colour");
        }
        double tightest = double.MaxValue;
        for (int i = 0; i < scene.Objects.Count; i++)
            for (int j = i + 1; j < scene.Objects.Count; j++)
            {
                SceneObject a = scene.Objects[i], c = scene.Objects[j];
                double gap = Math.Sqrt((a.X - c.X) * (a.X - c.X) + (a.Y - c.Y) * (a.Y - c.Y)) - a.Radius - c.Radius;
                tightest = Math.Min(tightest, gap);
            }
        if (tightest < 0.012) return new JudgeVerdict(2, string.Create(CultureInfo.InvariantCulture, $"two objects nearly touch (gap {tightest:0.000} of the image width)"));
        return new JudgeVerdict(3, "clear scene, every object shows its colour");
    }

    /// <summary>
    /// The statements of <paramref name="steps"/> that say something about the scene. The composing step of an exist,
    /// compare, relate, same or arith question ("What is the difference between 8 and 1?") quotes the student's own
    /// earlier answers: its answer is arithmetic on those numbers or words, and the final answer is composed from the
    /// earlier steps, not from it. Read against the scene's exact step (the difference of the true counts) it would
    /// pass for evidence about the scene, so it is kept as a step the teacher does not read.
    /// </summary>
    internal static IReadOnlyList<StepAnswer> SceneStatements(QuestionProgram program, IReadOnlyList<StepAnswer> steps)
    {
        if (Reasoning.ComposingStep(program) is not { } composing || steps.Count < composing) return steps;
        // By position, as the likelihood pairs statements with the scene's steps.
        return [.. steps.Select((s, i) => i == composing - 1 ? s with { Answer = StepAnswer.Unread } : s)];
    }

    private double Likelihood(IReadOnlyList<StepAnswer> statements, string[] truth)
    {
        double l = 1;
        for (int i = 0; i < statements.Count && i < truth.Length; i++) l *= StatementLikelihood(Normalize(statements[i].Answer), truth[i], TrustIn(statements[i]));
        return l;
    }

    private double MissLikelihood(IReadOnlyList<StepAnswer> statements)
    {
        double l = 1;
        foreach (var statement in statements) l *= (1 - TrustIn(statement)) / 8;
        return l;
    }

    // A stated step answer is right with probability Trust; a wrong number is more likely near the truth.
    private static double StatementLikelihood(string stated, string truth, double trust)
    {
        if (stated == truth) return trust;
        if (AnswerWords.TryParseNumber(stated, out int s) && AnswerWords.TryParseNumber(truth, out int t))
            return (1 - trust) * 0.5 * Math.Pow(0.5, Math.Abs(s - t) - 1) / 2;
        return (1 - trust) / 8;
    }

    // An unread step (one the teacher is not shown) carries no evidence.
    private double TrustIn(StepAnswer statement) =>
        statement.Answer == StepAnswer.Unread ? 0 : _options.UseStepConfidence ? Math.Clamp(statement.Probability, 0.05, 0.995) : _options.Trust;

    private static string Normalize(string answer) => answer.Trim().ToLowerInvariant();

    private static string WrongAnswer(WorldSample sample, DeterministicRandom rng)
    {
        var options = AnswerWords.ValuesOf(sample.Program.AnswerKind).Where(a => a != sample.Answer).ToList();
        return options.Count == 0 ? sample.Answer : options[rng.NextInt(options.Count)];
    }
}
