namespace FailureSynth.Loop.Stages;

/// <summary>How many samples to prescribe for one skill, and the failures that asked for it.</summary>
public sealed record SkillDemand(string Query, string? SkillKey, int Count, IReadOnlyList<string> FailureIds);
