using System.Security.Cryptography;
using System.Text;

namespace FailureSynth.Loop.Common;

/// <summary>Hashes that never change between runs or machines: ids, seeds and cache keys are derived from them.</summary>
public static class StableHash
{
    /// <summary>Lowercase hex SHA-256 of the parts joined by a unit separator.</summary>
    public static string Hex(params string[] parts) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\u001f', parts))));

    /// <summary>A non-negative 63-bit number from the parts (for seeding random streams).</summary>
    public static long Seed(params string[] parts)
    {
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\u001f', parts)));
        return (long)(BitConverter.ToUInt64(hash, 0) & long.MaxValue);
    }

    /// <summary>A short deterministic id: <paramref name="prefix"/> plus 16 hex digits of the hash of the parts.</summary>
    public static string Id(string prefix, params string[] parts) => prefix + "-" + Hex(parts)[..16];
}
