using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;
using FailureSynth.World.Skills;

namespace FailureSynth.World.Tests;

/// <summary>Properties that must hold for every one of the 20,000 random samples in <see cref="Corpus"/>.</summary>
public class PropertyTests
{
    [Fact]
    public void Corpus_covers_at_least_ten_thousand_samples_of_both_profiles_and_forms()
    {
        Assert.True(Corpus.All.Count >= 10_000);
        foreach (string profile in Profiles.Names)
            foreach (QuestionForm form in Enum.GetValues<QuestionForm>())
                Assert.Contains(Corpus.All, s => s.Profile == profile && s.Form == form);
    }

    [Fact]
    public void Answer_recomputed_from_steps_equals_executed_answer()
    {
        foreach (WorldSample s in Corpus.All)
        {
            string executed = ProgramExecutor.Execute(s.Program, s.Scene);
            string composed = Reasoning.ComposeAnswer(s.Program, [.. s.Steps.Select(step => step.Answer)]);
            Assert.True(composed == executed, $"{s.Id}: steps give '{composed}', executor gives '{executed}'");
            Assert.Equal(executed, s.ShortAnswer);
            Assert.Equal(executed, s.Steps[^1].Answer);
        }
    }

    [Fact]
    public void Every_step_answer_is_correct_when_its_question_is_answered_from_the_scene()
    {
        foreach (WorldSample s in Corpus.All)
        {
            Assert.InRange(s.Steps.Count, 2, 4);
            for (int i = 0; i < s.Steps.Count; i++)
            {
                ReasoningStep step = s.Steps[i];
                Assert.Equal(i + 1, step.Index);
                string? recomputed = SceneText.AnswerStep(step.Question, s.Scene);
                Assert.True(recomputed is not null, $"{s.Id}: step '{step.Question}' is not an atomic question");
                Assert.True(recomputed == step.Answer, $"{s.Id}: step '{step.Question}' answered '{step.Answer}', the scene says '{recomputed}'");
            }
        }
    }

    [Fact]
    public void Final_step_reasons_over_the_answers_of_earlier_steps()
    {
        foreach (WorldSample s in Corpus.All.Where(s => s.Family is "compare" or "relate" or "same" or "arith"))
        {
            List<string> words = [.. s.Steps[^1].Question.TrimEnd('?').Split(' ')];
            int first = words.IndexOf(s.Steps[0].Answer), second = words.LastIndexOf(s.Steps[1].Answer);
            Assert.True(first >= 0 && second > first, $"{s.Id}: '{s.Steps[^1].Question}' does not use '{s.Steps[0].Answer}' then '{s.Steps[1].Answer}'");
        }
        foreach (WorldSample s in Corpus.All.Where(s => s.Family == "exist"))
            Assert.Equal($"Is {s.Steps[^2].Answer} greater than 0?", s.Steps[^1].Question);
    }

    [Fact]
    public void Definite_descriptions_refer_to_exactly_one_object()
    {
        int references = 0;
        foreach (WorldSample s in Corpus.All)
        {
            IEnumerable<string> texts = [s.Question, .. s.Steps.Select(step => step.Question)];
            foreach (string text in texts)
            {
                foreach (SceneText.Description d in SceneText.DefiniteReferences(text))
                {
                    references++;
                    Assert.True(d.CountIn(s.Scene) == 1, $"{s.Id}: '{text}' refers to {d} which matches {d.CountIn(s.Scene)} objects");
                }
            }
            foreach (ObjectFilter f in s.Program.UniqueReferences())
                Assert.Equal(1, f.CountIn(s.Scene));
        }
        Assert.True(references > 5_000, $"only {references} definite references were checked");
    }

    [Fact]
    public void Every_scene_keeps_objects_inside_the_image_and_apart()
    {
        foreach (WorldSample s in Corpus.All)
        {
            IReadOnlyList<SceneObject> objects = s.Scene.Objects;
            Assert.InRange(objects.Count, 1, Scene.MaxObjects);
            foreach (SceneObject o in objects)
            {
                Assert.True(o.X - o.Radius >= 0.02 && o.X + o.Radius <= 0.98, $"{s.Id}: x={o.X} r={o.Radius} outside");
                Assert.True(o.Y - o.Radius >= 0.02 && o.Y + o.Radius <= 0.98, $"{s.Id}: y={o.Y} r={o.Radius} outside");
            }
            for (int i = 0; i < objects.Count; i++)
                for (int j = i + 1; j < objects.Count; j++)
                {
                    double d = Math.Sqrt(Math.Pow(objects[i].X - objects[j].X, 2) + Math.Pow(objects[i].Y - objects[j].Y, 2));
                    Assert.True(d >= objects[i].Radius + objects[j].Radius + SceneSampler.Gap - 1e-12, $"{s.Id}: objects {i} and {j} overlap");
                }
            Profile profile = Profiles.Get(s.Profile);
            Assert.InRange(s.Scene.NoiseAmplitude, profile.MinNoiseAmplitude, profile.MaxNoiseAmplitude);
        }
    }

    [Fact]
    public void Spatial_relations_are_only_asked_with_a_clear_margin()
    {
        foreach (WorldSample s in Corpus.All)
        {
            if (s.Program is not RelateProgram p) continue;
            SceneObject a = s.Scene.Objects.Single(p.Subject.Matches), b = s.Scene.Objects.Single(p.Reference.Matches);
            double gap = p.Relation is SpatialRelation.Left or SpatialRelation.Right ? Math.Abs(a.X - b.X) : Math.Abs(a.Y - b.Y);
            Assert.True(gap >= SceneGeometry.SmallRadius, $"{s.Id}: centres only {gap} apart");
        }
    }

    [Fact]
    public void Every_sample_is_well_posed_and_carries_taxonomy_skills()
    {
        foreach (WorldSample s in Corpus.All)
        {
            Assert.Empty(ProgramExecutor.FindProblems(s.Program, s.Scene));
            Assert.InRange(s.Skills.Count, 1, 3);
            Assert.All(s.Skills, k => Assert.True(SkillTaxonomy.Contains(k), $"{s.Id}: '{k}' is not in the taxonomy"));
            Assert.StartsWith(s.Family + "/", s.Skills[0]);
            Assert.Equal(QuestionKeys.Of(s.Program.Family), s.Family);
        }
    }

    [Fact]
    public void Question_text_is_one_of_the_program_paraphrases()
    {
        foreach (WorldSample s in Corpus.All)
        {
            string question = s.Form == QuestionForm.Choice ? s.Question[..s.Question.IndexOf('\n')] : s.Question;
            Assert.Contains(question, QuestionPhrasing.Paraphrases(s.Program));
        }
    }

    [Fact]
    public void Choice_form_letter_points_at_the_correct_answer()
    {
        foreach (WorldSample s in Corpus.All)
        {
            if (s.Form == QuestionForm.Open)
            {
                Assert.Null(s.AnswerText);
                Assert.Null(s.Choices);
                Assert.DoesNotContain('\n', s.Question);
                continue;
            }
            Assert.NotNull(s.Choices);
            Assert.NotNull(s.AnswerText);
            IReadOnlyList<string> choices = s.Choices!;
            int correct = s.Answer[0] - 'A';
            Assert.Equal(1, s.Answer.Length);
            Assert.Equal(s.AnswerText, choices[correct]);
            Assert.Equal(choices.Count, choices.Distinct().Count());
            Assert.All(choices, c => Assert.Contains(c, AnswerWords.ValuesOf(s.Program.AnswerKind)));
            bool binary = s.Program.AnswerKind is AnswerKind.YesNo or AnswerKind.Size;
            if (binary) Assert.Equal(2, choices.Count);
            else Assert.InRange(choices.Count, 3, 5);
            string[] lines = s.Question.Split('\n');
            Assert.Equal(choices.Count + 1, lines.Length);
            for (int i = 0; i < choices.Count; i++)
                Assert.Equal($"{(char)('A' + i)}. {choices[i]}", lines[i + 1]);
        }
    }

    [Fact]
    public void Correct_choice_letters_are_spread_over_positions()
    {
        var multi = Corpus.All.Where(s => s.Form == QuestionForm.Choice && s.Choices!.Count >= 3).ToList();
        var letters = multi.GroupBy(s => s.Answer).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(letters.GetValueOrDefault("A") > multi.Count / 8, "the correct answer is rarely first");
        Assert.True(letters.GetValueOrDefault("C") > multi.Count / 8, "the correct answer is rarely third");
    }
}
