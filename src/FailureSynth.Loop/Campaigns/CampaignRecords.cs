using System.Text.Json;
using System.Text.Json.Serialization;
using FailureSynth.Loop.Contracts;
using FailureSynth.Loop.Filter;
using FailureSynth.Loop.Stages;
using FailureSynth.World;

namespace FailureSynth.Loop.Campaigns;

/// <summary>Where a campaign is, for progress bars: iteration, stage, done out of total.</summary>
public sealed record CampaignProgress(int Iteration, string Stage, long Done, long Total, string? Message = null);

/// <summary>The stages of one iteration, in order.</summary>
public static class CampaignStages
{
    public const string Evaluate = "evaluate";
    public const string Locate = "locate";
    public const string Diagnose = "diagnose";
    public const string Prescribe = "prescribe";
    public const string Train = "train";
    public const string Measure = "measure";

    public static readonly string[] All = [Evaluate, Locate, Diagnose, Prescribe, Train, Measure];
}

/// <summary>Output of the evaluate stage.</summary>
public sealed record EvaluateOutput(string ModelVersion, int Samples, int Correct, IReadOnlyList<Failure> Failures);

/// <summary>Output of the locate stage (failures analysed, in failure-id order).</summary>
public sealed record LocateOutput(string Method, IReadOnlyList<LocatedFailure> Located);

/// <summary>A failure with its located step.</summary>
public sealed record LocatedFailure(string FailureId, LocatedStep Step);

/// <summary>Output of the diagnose stage.</summary>
public sealed record DiagnoseOutput(IReadOnlyList<DiagnosedRecord> Diagnoses);

/// <summary>A failure's diagnosis.</summary>
public sealed record DiagnosedRecord(string FailureId, SkillDiagnosis Diagnosis);

/// <summary>One accepted prescribed sample as stored (the image is re-rendered from the scene on load).</summary>
/// <param name="GeneratedImage">
/// For a sample drawn by an image endpoint from a description, or retrieved from a pool file (no scene to re-render): its PNG,
/// relative to the campaign's output folder (<c>iter-K/images/ID.png</c>); null for ShapesWorld samples.
/// </param>
/// <param name="ImageModel">The image model that drew <paramref name="GeneratedImage"/>; null for a picture from a pool file.</param>
public sealed record StoredSample(SampleProposal Proposal, FilterVerdict Verdict, string Source, string DemandQuery, string? DemandSkill, IReadOnlyList<string> FailureIds,
    string? GeneratedImage = null, string? ImageModel = null);

/// <summary>Output of the prescribe stage.</summary>
public sealed record PrescribeOutput(string Kind, int Proposed, IReadOnlyList<SkillDemand> Demands, IReadOnlyList<StoredSample> Accepted, IReadOnlyList<FilterVerdict> Verdicts);

/// <summary>Output of the train stage.</summary>
/// <param name="Guard">What the forgetting guard found (<c>budget.guard</c>); null, and left out of train.json, without it.</param>
public sealed record TrainOutput(string Checkpoint, string ModelVersion, int Steps, int Examples, double Seconds,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] GuardReport? Guard = null);

/// <summary>Output of the measure stage.</summary>
public sealed record MeasureOutput(Measurement Measurement, string PromotedVersion, string PromotedCheckpoint);

/// <summary>JSON settings of every stage file: snake_case, indented, enums as strings.</summary>
public static class CampaignJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var o = new JsonSerializerOptions(WorldJson.Options)
        {
            WriteIndented = true,
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        return o;
    }

    /// <summary>Writes atomically (temporary file, then rename) so an interrupted run never leaves half a stage file.</summary>
    public static void Write<T>(string path, T value) =>
        WriteAtomically(path, writer => writer.Write(JsonSerializer.Serialize(value, Options) + "\n"));

    /// <summary>Writes one compact JSON object per line (JSON Lines), atomically like <see cref="Write{T}"/>.</summary>
    public static void WriteLines<T>(string path, IEnumerable<T> values)
    {
        var compact = new JsonSerializerOptions(Options) { WriteIndented = false };
        WriteAtomically(path, writer =>
        {
            foreach (T value in values) writer.WriteLine(JsonSerializer.Serialize(value, compact));
        });
    }

    private static void WriteAtomically(string path, Action<StreamWriter> write)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string temporary = path + ".tmp";
        using (var writer = new StreamWriter(temporary)) write(writer);
        File.Move(temporary, path, overwrite: true);
    }

    public static T Read<T>(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Options)
                   ?? throw new InvalidDataException($"{path} is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a valid {typeof(T).Name} stage file ({e.Message}); delete it to redo that stage.", e);
        }
    }
}
