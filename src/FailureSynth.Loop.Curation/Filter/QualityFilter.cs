using System.Globalization;
using System.Text.Json.Serialization;
using FailureSynth.Imaging;
using FailureSynth.Loop.Common;
using FailureSynth.Loop.Contracts;
using FailureSynth.World;
using FailureSynth.World.Questions;
using FailureSynth.World.Rendering;
using FailureSynth.World.Scenes;
using FailureSynth.World.Skills;

namespace FailureSynth.Loop.Filter;

/// <summary>A proposal that passed the filter: its rendered image and the exact rationale of its verified program.</summary>
public sealed record AcceptedSample(SampleProposal Proposal, RgbImage Image, IReadOnlyList<ReasoningStep> Steps, IReadOnlyList<string> Skills, FilterVerdict Verdict);

/// <summary>
/// Seed 000's filter, in order: schema (every field present and well-formed, scene valid, program's
/// presuppositions hold), answer re-verified by executing the program on the scene, the judge's score on
/// the rendered image, near-duplicate removal by the hash of the canonical scene plus question (shared
/// through <see cref="IDuplicateRegistry"/> so replicas agree), and a per-skill cap. Every proposal gets a
/// verdict; proposals are decided in id order so the outcome does not depend on arrival order.
/// </summary>
public sealed class QualityFilter(ITeacher judge, FilterOptions options, int imageSize = SceneRasterizer.DefaultSize)
{
    public FilterOptions Options { get; } = Validated(options);

    /// <summary>
    /// The image endpoint that draws proposals carrying an image description instead of a scene (<c>images.backend:
    /// openai</c>); null: such proposals are rejected. Their answer check and judge come from the teacher, which must
    /// then be an <see cref="IImageReader"/>.
    /// </summary>
    public IImageSynth? Images { get; init; }

    /// <summary>The near-duplicate key of a proposal: SHA-256 of its canonical scene and normalised question.</summary>
    /// <summary>
    /// The second key of a sample drawn from a description: its picture (SHA-256 of the pixels and size) and question, so two
    /// descriptions that draw the same picture with the same question are duplicates too.
    /// </summary>
    public static string PictureDuplicateKey(SampleProposal proposal, RgbImage image) =>
        StableHash.Hex("picture", image.Width.ToString(CultureInfo.InvariantCulture), image.Height.ToString(CultureInfo.InvariantCulture),
            Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(image.Pixels)), proposal.Question.Trim().ToLowerInvariant());

    public static string DuplicateKey(SampleProposal proposal) =>
        StableHash.Hex(proposal.Scene is null ? proposal.ImageDescription ?? "" : WorldJson.Serialize(proposal.Scene),
            proposal.Question.Trim().ToLowerInvariant());

    public async Task<(IReadOnlyList<AcceptedSample> Accepted, IReadOnlyList<FilterVerdict> Verdicts)> FilterAsync(
        IReadOnlyList<SampleProposal> proposals, IDuplicateRegistry duplicates, IDictionary<string, int> acceptedPerSkill,
        IProgress<int>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(proposals);
        // Rendering and judging are independent per proposal: do them in parallel, decide in order.
        var checks = new ProposalCheck[proposals.Count];
        await Parallel.ForAsync(0, proposals.Count, new ParallelOptions { CancellationToken = cancellationToken }, async (i, ct) =>
            checks[i] = await CheckAsync(proposals[i], ct).ConfigureAwait(false)).ConfigureAwait(false);
        return await DecideAsync(checks, duplicates, acceptedPerSkill, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The checks of one proposal that depend on nothing else: schema, the answer re-executed on the scene, and
    /// (when the answer is right) the judge's score of the rendered image. Any replica may run it, in any order.
    /// </summary>
    public Task<ProposalCheck> CheckAsync(SampleProposal proposal, CancellationToken cancellationToken) => CheckAsync(proposal, null, cancellationToken);

    /// <summary>As <see cref="CheckAsync(SampleProposal, CancellationToken)"/>, judging <paramref name="rendered"/> (the image another service rendered) when given.</summary>
    public async Task<ProposalCheck> CheckAsync(SampleProposal proposal, RgbImage? rendered, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        var p = proposal;
        if (p.Scene is null && p.ImageDescription is not null) return await CheckDescribedAsync(p, cancellationToken).ConfigureAwait(false);
        if (SchemaProblem(p) is { } problem) return new ProposalCheck(p, new FilterVerdict(p.Id, FilterReason.Schema, problem, null, null), null, null);
        string verified = ProgramExecutor.Execute(p.Program!, p.Scene!);
        if (!string.Equals(verified, p.Answer.Trim(), StringComparison.OrdinalIgnoreCase))
            return new ProposalCheck(p, new FilterVerdict(p.Id, FilterReason.WrongAnswer, $"proposed '{p.Answer}' but the program gives '{verified}' on the scene", null, verified), verified, null);
        RgbImage image = rendered ?? SceneRasterizer.Render(p.Scene!, imageSize);
        JudgeVerdict? verdict = Options.UseJudge ? await judge.JudgeAsync(p, image, cancellationToken).ConfigureAwait(false) : null;
        return new ProposalCheck(p, null, verified, verdict) { Image = image };
    }

    /// <summary>
    /// A proposal with an image description: no scene to re-execute the program on, so the picture comes from the image
    /// endpoint (validated there: a PNG of the asked size), the answer check is the teacher reading the answer off that
    /// picture (without being told the proposed answer), and the judge is the teacher's, as for any proposal.
    /// </summary>
    private async Task<ProposalCheck> CheckDescribedAsync(SampleProposal p, CancellationToken cancellationToken)
    {
        if (DescribedSchemaProblem(p) is { } problem) return new ProposalCheck(p, new FilterVerdict(p.Id, FilterReason.Schema, problem, null, null), null, null);
        if (Images is null)
            return new ProposalCheck(p, new FilterVerdict(p.Id, FilterReason.Image, "an image description, but no image endpoint is configured (images.backend: openai)", null, null), null, null);
        if (judge is not IImageReader reader)
            return new ProposalCheck(p, new FilterVerdict(p.Id, FilterReason.Image, $"the teacher {judge.Name} cannot read answers off pictures, so a described sample cannot be answer-checked", null, null), null, null);
        RgbImage image;
        try
        {
            image = await Images.GenerateAsync(p.ImageDescription!, imageSize, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException e)
        {
            return new ProposalCheck(p, new FilterVerdict(p.Id, FilterReason.Image, "the image endpoint's reply was refused: " + e.Message, null, null), null, null);
        }
        var reading = await reader.ReadAnswerAsync(new TeacherQuestion(p.Question, p.Program is null ? null : QuestionKeys.Of(p.Program.Family), p.Program), image, cancellationToken).ConfigureAwait(false);
        if (reading.Answer is not { } read)
            return new ProposalCheck(p, new FilterVerdict(p.Id, FilterReason.WrongAnswer, "the teacher read no answer off the generated image: " + reading.Problem, null, null), null, null);
        if (!string.Equals(NormalisedAnswer(read), NormalisedAnswer(p.Answer), StringComparison.OrdinalIgnoreCase))
            return new ProposalCheck(p, new FilterVerdict(p.Id, FilterReason.WrongAnswer, $"proposed '{p.Answer}' but the teacher reads '{read}' off the generated image", null, read), read, null);
        JudgeVerdict? verdict = Options.UseJudge ? await judge.JudgeAsync(p, image, cancellationToken).ConfigureAwait(false) : null;
        return new ProposalCheck(p, null, NormalisedAnswer(read), verdict) { Image = image };
    }

    // Answers compared as words: surrounding space and a final full stop do not count, nor does case.
    private static string NormalisedAnswer(string answer) => answer.Trim().TrimEnd('.').Trim().ToLowerInvariant();

    /// <summary>The first thing wrong with the form of a proposal that carries an image description, or null.</summary>
    public static string? DescribedSchemaProblem(SampleProposal p)
    {
        if (string.IsNullOrWhiteSpace(p.Id)) return "missing id";
        if (string.IsNullOrWhiteSpace(p.Question)) return "empty question";
        if (p.Question.Length > 1000) return $"question of {p.Question.Length} characters (at most 1000)";
        if (string.IsNullOrWhiteSpace(p.Answer)) return "empty answer";
        if (p.Answer.Length > 64) return $"answer of {p.Answer.Length} characters (at most 64)";
        if (p.SkillKey is { } key && !SkillTaxonomy.Contains(key)) return $"unknown skill key '{key}'";
        if (string.IsNullOrWhiteSpace(p.ImageDescription)) return "empty image description";
        if (p.ImageDescription.Length > MaxDescriptionChars) return $"image description of {p.ImageDescription.Length} characters (at most {MaxDescriptionChars})";
        if (p.ImageDescription.Any(c => char.IsControl(c) && c is not ('\n' or '\t'))) return "image description holds control characters";
        return null;
    }

    /// <summary>The longest image description sent to an image endpoint.</summary>
    public const int MaxDescriptionChars = 2000;

    /// <summary>
    /// The decisions that depend on other proposals: judge threshold, near-duplicates (through
    /// <paramref name="duplicates"/>) and the per-skill cap, taken in proposal-id order so the outcome does not
    /// depend on the order checks arrived in.
    /// </summary>
    public async Task<(IReadOnlyList<AcceptedSample> Accepted, IReadOnlyList<FilterVerdict> Verdicts)> DecideAsync(
        IReadOnlyList<ProposalCheck> checks, IDuplicateRegistry duplicates, IDictionary<string, int> acceptedPerSkill,
        IProgress<int>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checks);
        ArgumentNullException.ThrowIfNull(duplicates);
        ArgumentNullException.ThrowIfNull(acceptedPerSkill);
        var ordered = checks.OrderBy(c => c.Proposal.Id, StringComparer.Ordinal).ToList();
        var accepted = new List<AcceptedSample>();
        var verdicts = new List<FilterVerdict>(ordered.Count);
        for (int i = 0; i < ordered.Count; i++)
        {
            var check = ordered[i];
            var p = check.Proposal;
            var (answer, judged) = (check.VerifiedAnswer, check.Judge);
            FilterVerdict verdict;
            if (check.Rejected is { } early) verdict = early;
            else if (p.Scene is null && check.Image is null)
                verdict = new FilterVerdict(p.Id, FilterReason.Image, "the generated image did not come with the check (it cannot be re-rendered from a description)", judged?.Score, answer);
            else if (Options.UseJudge && judged is null)
                verdict = new FilterVerdict(p.Id, FilterReason.JudgeScore, "no judge score came with the check", null, answer);
            else if (judged is not null && judged.Score is < 1 or > 3)
                verdict = new FilterVerdict(p.Id, FilterReason.JudgeScore, $"judge returned score {judged.Score}, outside 1..3", judged.Score, answer);
            else if (judged is not null && judged.Score < Options.JudgeThreshold)
                verdict = new FilterVerdict(p.Id, FilterReason.JudgeScore, $"judge score {judged.Score} < {Options.JudgeThreshold}: {judged.Reason}", judged.Score, answer);
            else if (!await duplicates.TryAddAsync(DuplicateKey(p), p.Id, cancellationToken).ConfigureAwait(false))
                verdict = new FilterVerdict(p.Id, FilterReason.Duplicate, "same scene and question as an earlier sample", judged?.Score, answer);
            else if (p.Scene is null && !await duplicates.TryAddAsync(PictureDuplicateKey(p, check.Image!), p.Id, cancellationToken).ConfigureAwait(false))
                verdict = new FilterVerdict(p.Id, FilterReason.Duplicate, "same picture and question as an earlier sample (drawn from another description)", judged?.Score, answer);
            else
            {
                string skill = p.SkillKey ?? "unknown";
                int already = acceptedPerSkill.TryGetValue(skill, out int n) ? n : 0;
                if (already >= Options.PerSkillCap)
                    verdict = new FilterVerdict(p.Id, FilterReason.SkillCap, string.Create(CultureInfo.InvariantCulture, $"skill {skill} already has {already} samples (cap {Options.PerSkillCap})"), judged?.Score, answer);
                else
                {
                    acceptedPerSkill[skill] = already + 1;
                    verdict = new FilterVerdict(p.Id, FilterReason.Accepted, judged?.Reason ?? "verified", judged?.Score, answer);
                    // A check that travelled between services carries no pixels: render again (deterministic).
                    var image = check.Image ?? SceneRasterizer.Render(p.Scene!, imageSize);
                    // A described sample has no scene: no exact rationale to derive, and its skill is the one the teacher named.
                    accepted.Add(p.Scene is null
                        ? new AcceptedSample(p, image, [], p.SkillKey is { } described ? [described] : [], verdict)
                        : new AcceptedSample(p, image, Reasoning.Decompose(p.Program!, p.Scene!), ProgramSkills.For(p.Program!, p.Scene!), verdict));
                }
            }
            verdicts.Add(verdict);
            if ((i & 63) == 63) progress?.Report(i + 1);
        }
        progress?.Report(ordered.Count);
        return (accepted, verdicts);
    }

    /// <summary>The first thing wrong with the proposal's form, or null when it is well-formed.</summary>
    public static string? SchemaProblem(SampleProposal p)
    {
        if (string.IsNullOrWhiteSpace(p.Id)) return "missing id";
        if (string.IsNullOrWhiteSpace(p.Question)) return "empty question";
        if (p.Question.Length > 1000) return $"question of {p.Question.Length} characters (at most 1000)";
        if (string.IsNullOrWhiteSpace(p.Answer)) return "empty answer";
        if (p.SkillKey is { } key && !SkillTaxonomy.Contains(key)) return $"unknown skill key '{key}'";
        if (p.Scene is null) return "no scene spec (this filter verifies ShapesWorld scenes)";
        if (p.Program is null) return "no program to verify the answer with";
        if (p.Scene.Objects.Count is 0 or > Scene.MaxObjects) return $"scene has {p.Scene.Objects.Count} objects (1..{Scene.MaxObjects} allowed)";
        foreach (var o in p.Scene.Objects)
            if (!double.IsFinite(o.X) || !double.IsFinite(o.Y) || o.X is < 0 or > 1 || o.Y is < 0 or > 1)
                return string.Create(CultureInfo.InvariantCulture, $"object position ({o.X}, {o.Y}) outside the unit square");
        if (SceneSampler.FindLayoutProblems(p.Scene) is { Count: > 0 } layout) return "scene layout: " + layout[0];
        if (ProgramExecutor.FindProblems(p.Program, p.Scene) is { Count: > 0 } program) return "question does not fit the scene: " + program[0];
        if (!AnswerWords.ValuesOf(p.Program.AnswerKind).Contains(p.Answer.Trim().ToLowerInvariant(), StringComparer.Ordinal))
            return $"answer '{p.Answer}' is not a {p.Program.AnswerKind} answer";
        return null;
    }

    private static FilterOptions Validated(FilterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options;
    }
}

/// <summary>The set of near-duplicate keys already accepted (in memory here; Redis-backed across replicas in the services).</summary>
public interface IDuplicateRegistry
{
    /// <summary>Adds the key; false when it was already present (the sample is a duplicate).</summary>
    Task<bool> TryAddAsync(string key, string sampleId, CancellationToken cancellationToken);
}

/// <summary>An in-process <see cref="IDuplicateRegistry"/>.</summary>
public sealed class InMemoryDuplicateRegistry : IDuplicateRegistry
{
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public int Count { get { lock (_gate) return _keys.Count; } }

    public Task<bool> TryAddAsync(string key, string sampleId, CancellationToken cancellationToken)
    {
        lock (_gate) return Task.FromResult(_keys.Add(key));
    }
}
