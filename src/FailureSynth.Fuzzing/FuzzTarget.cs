namespace FailureSynth.Fuzzing;

/// <summary>
/// One parser under fuzzing: its seed inputs, how to run it on an input, which exceptions are its documented way
/// of refusing bad input, and how many bytes it may allocate for an input of a given size.
/// </summary>
/// <param name="Name">The name the fuzz command takes (<c>png</c>, <c>campaign-yaml</c>, ...).</param>
/// <param name="Refusal">The documented refusal, as the docs name it ("InvalidDataException").</param>
/// <param name="Seeds">Valid and near-valid inputs the mutations start from.</param>
/// <param name="Parse">Runs the parser on one input; returns normally when it accepts it.</param>
/// <param name="IsRefusal">True for the documented exceptions; anything else thrown is a finding.</param>
/// <param name="AllocationBound">The most bytes the parser may allocate for an input of this many bytes.</param>
/// <param name="Tokens">Format words the text mutations insert (YAML anchors, JSON brackets, field names).</param>
/// <param name="Repair">Makes a mutated input pass the cheap integrity checks (PNG CRCs), so mutations reach deeper code.</param>
/// <param name="Generate">Builds a structured input from scratch (e.g. a PNG declaring 65,535 x 65,535 pixels).</param>
public sealed record FuzzTarget(
    string Name,
    string Refusal,
    IReadOnlyList<byte[]> Seeds,
    Action<byte[]> Parse,
    Func<Exception, bool> IsRefusal,
    Func<int, long> AllocationBound,
    IReadOnlyList<string> Tokens,
    Func<byte[], byte[]>? Repair = null,
    Func<Random, byte[]>? Generate = null);

/// <summary>What the fuzzer found wrong with one input: a crash (an undocumented exception), a hang or an allocation over the bound.</summary>
public sealed record FuzzFinding(string Target, string Kind, string Signature, string Detail, byte[] Input, long InputNumber);

/// <summary>One fuzz run's account: the command's arguments, how many inputs, how they ended, and the findings.</summary>
public sealed record FuzzReport(
    string Target,
    long Seed,
    long Inputs,
    long Accepted,
    long Refused,
    TimeSpan Duration,
    long MaxAllocatedBytes,
    double MaxInputMilliseconds,
    IReadOnlyList<FuzzFinding> Findings);

/// <summary>Per-input bounds: an input running longer than <see cref="Hang"/> is a hang.</summary>
public sealed record FuzzLimits(TimeSpan Hang)
{
    public static FuzzLimits Default { get; } = new(TimeSpan.FromSeconds(5));
}
