using System.Text.Json.Serialization;
using FailureSynth.Imaging;
using FailureSynth.Loop.Contracts;

namespace FailureSynth.Loop.Filter;

/// <summary>Settings of the quality filter.</summary>
/// <param name="JudgeThreshold">Lowest judge score kept (seed 000 keeps only 3).</param>
/// <param name="PerSkillCap">Most samples accepted per skill within one filter run (diversity cap).</param>
/// <param name="UseJudge">Whether to ask the judge at all (retrieved real samples skip it).</param>
public sealed record FilterOptions(int JudgeThreshold = 3, int PerSkillCap = 2000, bool UseJudge = true)
{
    public void Validate()
    {
        if (JudgeThreshold is < 1 or > 3) throw new ArgumentException($"filter judge_threshold must be 1, 2 or 3 (got {JudgeThreshold}).");
        if (PerSkillCap < 1) throw new ArgumentException($"filter per_skill_cap must be at least 1 (got {PerSkillCap}).");
    }
}

/// <summary>Why a proposal was rejected (or that it was accepted); the report charts these.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FilterReason>))]
public enum FilterReason { Accepted, Schema, WrongAnswer, JudgeScore, Duplicate, SkillCap, Image }

/// <summary>The filter's decision on one proposal, with the reason and the scores it was based on.</summary>
public sealed record FilterVerdict(string ProposalId, FilterReason Reason, string Detail, int? JudgeScore, string? VerifiedAnswer)
{
    [JsonIgnore]
    public bool Accepted => Reason == FilterReason.Accepted;
}

/// <summary>
/// The per-proposal part of the filter's work: a rejection already decided (schema, wrong answer), or the
/// verified answer and the judge's score. <see cref="Image"/> holds the rendered pixels in-process only.
/// </summary>
public sealed record ProposalCheck(SampleProposal Proposal, FilterVerdict? Rejected, string? VerifiedAnswer, JudgeVerdict? Judge)
{
    [JsonIgnore]
    public RgbImage? Image { get; init; }

    /// <summary>
    /// Through the services: the picture the filter checked, as ImageSynth stored it (a PNG under the data root, named
    /// by its SHA-256). Not part of the check's JSON; the Trainer sets it from the reply.
    /// </summary>
    [JsonIgnore]
    public string? ImageFile { get; init; }
}
