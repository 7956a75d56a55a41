using System.Globalization;
using FailureSynth.World;
using FailureSynth.World.Questions;
using FailureSynth.World.Skills;

namespace FailureSynth.Datasets.ShapesWorld;

/// <summary>
/// Where an export writes its samples: a FailureSynth folder, or VQA v2's or ScienceQA's official layout, each
/// filling the format's own fields from what the world knows about a sample (answer kind, family, skills, steps).
/// </summary>
internal abstract class ShapesWorldTarget : IDisposable
{
    public abstract void Add(WorldSample sample, DatasetRecord record);

    public abstract DatasetManifest Complete();

    public abstract void Dispose();

    public static ShapesWorldTarget Open(ShapesWorldExportRequest request, string name)
    {
        var options = new DatasetWriterOptions(request.Overwrite);
        return request.Format switch
        {
            ShapesWorldFormat.VqaV2 => new VqaV2Target(new VqaV2Writer(request.OutputDirectory, request.EffectiveSplit!, name, options)),
            ShapesWorldFormat.ScienceQa => new ScienceQaTarget(new ScienceQaWriter(request.OutputDirectory, request.EffectiveSplit!, name, options)),
            _ => new FailureSynthTarget(new DatasetWriter(request.OutputDirectory, name, options)),
        };
    }

    /// <summary>The provenance of an official-layout sample also names the ShapesWorld sample, whose id the layout replaces.</summary>
    private static DatasetRecord WithSampleId(WorldSample sample, DatasetRecord record)
    {
        if (record.Provenance is { } provenance) provenance["sample_id"] = sample.Id;
        return record;
    }

    private sealed class FailureSynthTarget(DatasetWriter writer) : ShapesWorldTarget
    {
        public override void Add(WorldSample sample, DatasetRecord record) => writer.Add(record);

        public override DatasetManifest Complete() => writer.Complete();

        public override void Dispose() => writer.Dispose();
    }

    /// <summary>
    /// One picture per question, so image_id is the sample index and question_id ten times it (VQA's ids of one
    /// image's questions share the image id as a prefix). The question_type is the ShapesWorld family.
    /// </summary>
    private sealed class VqaV2Target(VqaV2Writer writer) : ShapesWorldTarget
    {
        public override void Add(WorldSample sample, DatasetRecord record) =>
            writer.Add(WithSampleId(sample, record), sample.Index, sample.Index * 10L, AnswerType(sample.Program.AnswerKind), sample.Family);

        public override DatasetManifest Complete() => writer.Complete();

        public override void Dispose() => writer.Dispose();

        private static string AnswerType(AnswerKind kind) => kind switch
        {
            AnswerKind.YesNo => "yes/no",
            AnswerKind.Number => "number",
            _ => "other",
        };
    }

    /// <summary>
    /// The pid is the sample index; subject "ShapesWorld", topic the family, skill the first skill key with its
    /// taxonomy description as the category, and the reasoning steps as the solution. The question is the stem alone:
    /// ScienceQA keeps the options in "choices" and a prompt builder lists them, so leaving ShapesWorld's lettered
    /// lines in would show them twice.
    /// </summary>
    private sealed class ScienceQaTarget(ScienceQaWriter writer) : ShapesWorldTarget
    {
        public const string Subject = "ShapesWorld";

        public override void Add(WorldSample sample, DatasetRecord record)
        {
            string skill = sample.Skills.Count > 0 ? sample.Skills[0] : sample.Family;
            var info = new ScienceQaProblemInfo(
                Subject: Subject,
                Topic: sample.Family,
                Category: SkillTaxonomy.Contains(skill) ? SkillTaxonomy.Describe(skill) : sample.Family,
                Skill: skill,
                Solution: string.Join("\n", sample.Steps.Select(s => $"{s.Question} {s.Answer}")));
            var stem = record with { Sample = record.Sample with { Question = Stem(sample) } };
            writer.Add(WithSampleId(sample, stem), sample.Index.ToString(CultureInfo.InvariantCulture), info);
        }

        public override DatasetManifest Complete() => writer.Complete();

        public override void Dispose() => writer.Dispose();

        private static string Stem(WorldSample sample)
        {
            string options = MultipleChoice.Format("", sample.Choices ?? []);
            return sample.Question.EndsWith(options, StringComparison.Ordinal) ? sample.Question[..^options.Length] : sample.Question;
        }
    }
}
