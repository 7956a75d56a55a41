using System.Globalization;
using System.Text;
using FailureSynth.World.Generation;
using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;
using FailureSynth.World.Skills;

namespace FailureSynth.World;

/// <summary>
/// Generates ShapesWorld samples from a profile. Each sample depends only on (profile, form,
/// seed, index), so samples can be generated in any order and in parallel. The scene is built
/// to fit a question intent, then the program is re-executed on the final scene: the executor's
/// answer is the one recorded.
/// </summary>
public sealed class WorldGenerator(Profile profile, QuestionForm form = QuestionForm.Open)
{
    // Independent random streams per sample, so that retrying construction never changes the categories drawn.
    private const long CategoryStream = 1;
    private const long DetailStream = 2;
    private const long SkillStream = 3;
    private const int MaxAttempts = 200;

    private readonly Profile _profile = Validated(profile);
    private readonly QuestionPlanner _planner = new(profile, new SceneSampler(profile));

    public Profile Profile => _profile;
    public QuestionForm Form => form;

    /// <summary>Sample number <paramref name="index"/> of the stream fixed by <paramref name="seed"/>.</summary>
    public WorldSample Generate(long seed, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        SampleIntent intent = SampleIntent.Draw(_profile, DeterministicRandom.Derive(seed, CategoryStream, index), demand: null);
        string id = string.Create(CultureInfo.InvariantCulture, $"sw-{_profile.Name}-{seed}-{index:D6}");
        return Realise(intent, demand: null, seed, index, id, attempt => DeterministicRandom.Derive(seed, DetailStream, index, attempt))
               ?? throw new InvalidOperationException(
                   $"Could not build a scene for sample {id} ({QuestionKeys.Of(intent.Family)}) in {MaxAttempts} attempts; the profile '{_profile.Name}' asks for more than a scene can hold.");
    }

    /// <summary>
    /// <paramref name="n"/> samples that each exercise <paramref name="skillKey"/>, with pairwise
    /// distinct scenes and, as far as the skill has enough variants, distinct question texts.
    /// Apart from the demanded skill, the profile's distributions apply.
    /// </summary>
    public IReadOnlyList<WorldSample> SampleForSkill(string skillKey, int n, long seed)
    {
        SkillKey skill = SkillTaxonomy.Parse(skillKey);
        if (n < 0)
            throw new ArgumentOutOfRangeException(nameof(n), n, $"The number of samples asked for skill '{skillKey}' must be zero or more.");
        int skillIndex = SkillTaxonomy.All.Select(s => s.Key).ToList().IndexOf(skillKey);
        string slug = Slug(skillKey);

        var samples = new List<WorldSample>(n);
        var scenes = new HashSet<string>(StringComparer.Ordinal);
        var questions = new HashSet<string>(StringComparer.Ordinal);
        // A skill such as exist/shape=circle has only so many question texts; after this many
        // candidates a repeated question with a new scene is accepted.
        int preferNewQuestionsUntil = 20 * n + 50;
        int maxCandidates = 200 * n + 1000;
        for (int candidate = 0; samples.Count < n; candidate++)
        {
            if (candidate >= maxCandidates)
                throw new InvalidOperationException(
                    $"Found only {samples.Count} distinct samples for skill '{skillKey}' in {maxCandidates} candidates; ask for fewer than {n}.");
            int index = samples.Count;
            SampleIntent intent = SampleIntent.Draw(_profile, DeterministicRandom.Derive(seed, SkillStream, skillIndex, candidate), skill);
            string id = string.Create(CultureInfo.InvariantCulture, $"sw-{_profile.Name}-{seed}-{slug}-{index:D6}");
            WorldSample? sample = Realise(intent, skill, seed, index, id,
                attempt => DeterministicRandom.Derive(seed, SkillStream, skillIndex, candidate, DetailStream, attempt));
            if (sample is null) continue;
            string sceneKey = SceneKey(sample.Scene);
            string questionKey = QuestionOf(sample);
            if (scenes.Contains(sceneKey)) continue;
            if (questions.Contains(questionKey) && candidate < preferNewQuestionsUntil) continue;
            scenes.Add(sceneKey);
            questions.Add(questionKey);
            samples.Add(sample);
        }
        return samples;
    }

    private WorldSample? Realise(SampleIntent intent, SkillKey? demand, long seed, int index, string id, Func<int, DeterministicRandom> attemptRng)
    {
        string? demandKey = demand?.ToString();
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            DeterministicRandom rng = attemptRng(attempt);
            QuestionPlan plan = _planner.Plan(intent, rng);
            if (_planner.Sampler.TryBuild(plan.Blueprint, rng) is not { } scene) continue;
            if (SceneSampler.FindLayoutProblems(scene).Count > 0) continue;
            if (ProgramExecutor.FindProblems(plan.Program, scene).Count > 0) continue;
            string answer = ProgramExecutor.Execute(plan.Program, scene);
            // Distractors that did not fit are dropped, which can change an answer; retrying keeps the declared answer distribution.
            if (answer != plan.IntendedAnswer) continue;
            IReadOnlyList<string> skills = ProgramSkills.For(plan.Program, scene);
            if (demandKey is not null && !skills.Contains(demandKey)) continue;

            string question = QuestionPhrasing.Phrase(plan.Program, rng);
            IReadOnlyList<ReasoningStep> steps = Reasoning.Decompose(plan.Program, scene);
            string family = QuestionKeys.Of(plan.Program.Family);
            if (form == QuestionForm.Open)
                return new WorldSample(id, family, form, scene, plan.Program, question, answer, null, null, steps, skills, seed, index, _profile.Name);
            ChoiceSet choice = MultipleChoice.Build(answer, plan.Program.AnswerKind, rng);
            return new WorldSample(id, family, form, scene, plan.Program, MultipleChoice.Format(question, choice.Options),
                choice.CorrectLetter, answer, choice.Options, steps, skills, seed, index, _profile.Name);
        }
        return null;
    }

    /// <summary>
    /// A scene's identity for the duplicate check: equal exactly when the scenes' JSON texts are (every object's shape,
    /// colour, size and position, bit for bit, the noise seed and amplitude), at a tenth of the cost of writing that text.
    /// </summary>
    internal static string SceneKey(Scene scene)
    {
        const int PerObject = 3 + 2 * sizeof(long);
        var bytes = new byte[sizeof(int) + sizeof(long) + PerObject * scene.Objects.Count];
        var span = bytes.AsSpan();
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(span, scene.NoiseSeed);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(span[4..], BitConverter.DoubleToInt64Bits(scene.NoiseAmplitude));
        int at = sizeof(int) + sizeof(long);
        foreach (var o in scene.Objects)
        {
            span[at] = (byte)o.Shape;
            span[at + 1] = (byte)o.Color;
            span[at + 2] = (byte)o.Size;
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(span[(at + 3)..], BitConverter.DoubleToInt64Bits(o.X));
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(span[(at + 11)..], BitConverter.DoubleToInt64Bits(o.Y));
            at += PerObject;
        }
        return Convert.ToBase64String(bytes);
    }

    private static string QuestionOf(WorldSample sample)
    {
        int newline = sample.Question.IndexOf('\n');
        return newline < 0 ? sample.Question : sample.Question[..newline];
    }

    /// <summary>A skill key as a file-name-safe id part: "count/color=cyan/n>=5" becomes "count-color-cyan-nge5".</summary>
    internal static string Slug(string skillKey)
    {
        var slug = new StringBuilder(skillKey.Length);
        string text = skillKey.Replace(">=", "ge", StringComparison.Ordinal);
        foreach (char c in text)
        {
            if (char.IsAsciiLetterOrDigit(c)) slug.Append(c);
            else if (slug.Length > 0 && slug[^1] != '-') slug.Append('-');
        }
        return slug.ToString().TrimEnd('-');
    }

    private static Profile Validated(Profile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        profile.Validate();
        return profile;
    }
}
