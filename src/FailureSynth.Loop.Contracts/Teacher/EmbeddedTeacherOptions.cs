using System.Globalization;

namespace FailureSynth.Loop.Teacher;

/// <summary>Settings of the embedded teacher.</summary>
/// <param name="Seed">Seeds its Monte-Carlo prior and its proposal noise.</param>
/// <param name="Trust">Probability the teacher gives a stated step answer of being right when it reads a rationale.</param>
/// <param name="ProposalNoise">Share of proposals whose stated answer is wrong (a teacher model is fallible; the filter must catch these).</param>
/// <param name="PriorSamples">Generated questions its prior over rationales is estimated from.</param>
/// <param name="UseStepConfidence">Read the student's stated confidence of each step as the trust in that step (instead of <paramref name="Trust"/>).</param>
public sealed record EmbeddedTeacherOptions(long Seed = 17, double Trust = 0.97, double ProposalNoise = 0.05, int PriorSamples = 30_000, bool UseStepConfidence = false)
{
    public void Validate()
    {
        if (Trust is <= 0 or >= 1) throw new ArgumentException($"teacher trust must be between 0 and 1 exclusive (got {Trust.ToString(CultureInfo.InvariantCulture)}).");
        if (ProposalNoise is < 0 or > 1) throw new ArgumentException($"teacher proposal_noise must be between 0 and 1 (got {ProposalNoise.ToString(CultureInfo.InvariantCulture)}).");
        if (PriorSamples < 100) throw new ArgumentException($"teacher prior_samples must be at least 100 (got {PriorSamples}).");
    }
}
