using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;

namespace FailureSynth.ApiSecurity;

/// <summary>
/// An API key and its check. The comparison is of SHA-256 hashes in fixed time: hashes have one length whatever the
/// caller sent, so neither the key's bytes nor its length leak through the answer's timing.
/// </summary>
public sealed class ApiKey
{
    public const int MinimumLength = 16;

    private readonly byte[] _hash;

    public ApiKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length < MinimumLength) throw new ArgumentException($"An API key needs at least {MinimumLength} characters (got {key.Length}).", nameof(key));
        _hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
    }

    /// <summary>True when <paramref name="given"/> is the key; false for null, empty and every other value, in the same time.</summary>
    public bool Matches(string? given) =>
        !string.IsNullOrEmpty(given) && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), _hash);

    /// <summary>A new random key: 32 hex digits (128 bits).</summary>
    public static string Generate() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>
    /// The key set in <paramref name="configurationKey"/>; when none is set, a random one written once to
    /// <paramref name="console"/> (the process's own console), never to a logger: logs leave the process over OTLP.
    /// </summary>
    /// <param name="what">What the key opens, for the console line ("campaign API").</param>
    /// <param name="howToSet">How the operator sets one instead ("set FailureSynth__ApiKey to choose one").</param>
    public static string FromConfiguration(IConfiguration configuration, string configurationKey, string what, string howToSet, TextWriter console)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(console);
        string? key = configuration[configurationKey];
        if (!string.IsNullOrWhiteSpace(key))
        {
            return key.Length >= MinimumLength
                ? key
                : throw new InvalidOperationException($"{configurationKey} is {key.Length} characters long; use at least {MinimumLength} (or leave it unset for a random one).");
        }
        return Announce(what, $"{configurationKey} is not set", howToSet, console);
    }

    /// <summary>A random key, written once to <paramref name="console"/> with the reason and how to choose one instead.</summary>
    public static string Announce(string what, string reason, string howToSet, TextWriter console)
    {
        ArgumentNullException.ThrowIfNull(console);
        string key = Generate();
        console.WriteLine($"{reason}; this run's {what} key is {key} (shown once, here only; {howToSet})");
        console.Flush();
        return key;
    }
}
