using System.Security.Cryptography;
using System.Text;

namespace FailureSynth.Messaging;

/// <summary>
/// Base of every message on the bus: a past-tense fact (<c>SampleRendered</c>, <c>SkillDiagnosed</c>)
/// with an id that is the same on every run of the same campaign, so that redeliveries and
/// replays can be recognised (see <see cref="EventIds"/>).
/// </summary>
public abstract record IntegrationEvent
{
    /// <summary>Deterministic id, set by the publisher from campaign, parent id and index with <see cref="EventIds.Derive"/>.</summary>
    public required string Id { get; init; }

    public required string CampaignId { get; init; }

    /// <summary>Version of the event's JSON shape; raise it when a field changes meaning.</summary>
    public int SchemaVersion { get; init; } = 1;
}

/// <summary>An event that can check its own content; a non-empty list of problems sends it to the dead-letter queue.</summary>
public interface IValidatableEvent
{
    IReadOnlyList<string> Validate();
}

/// <summary>Deterministic event ids: the same inputs give the same id on every machine and run.</summary>
public static class EventIds
{
    /// <summary>Hex characters kept from the SHA-256 digest (128 bits: collisions are out of reach).</summary>
    public const int Length = 32;

    /// <summary>
    /// Hashes the parts (e.g. campaign id, parent event id, index) into an id. Each part is
    /// length-prefixed, so ("ab", "c") and ("a", "bc") give different ids.
    /// </summary>
    public static string Derive(params string[] parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Length == 0)
            throw new ArgumentException("EventIds.Derive needs at least one part (typically campaign id, parent id and index).", nameof(parts));
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[4];
        for (int i = 0; i < parts.Length; i++)
        {
            string part = parts[i] ?? throw new ArgumentException($"EventIds.Derive part {i} is null; pass a string (use \"\" for an empty part).", nameof(parts));
            byte[] bytes = Encoding.UTF8.GetBytes(part);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
            hash.AppendData(length);
            hash.AppendData(bytes);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..Length];
    }
}
