using Microsoft.Extensions.Configuration;

namespace FailureSynth.ApiSecurity;

/// <summary>What one client, and all clients together, may ask of an HTTP API (OWASP API4, unrestricted resource consumption).</summary>
/// <param name="PermitsPerMinute">Requests one client (remote address) may make in a minute; wrong keys count too.</param>
/// <param name="ConcurrentRequests">Requests in flight at once, all clients together (a slow upload holds its permit).</param>
/// <param name="MaxRequestBodyBytes">Kestrel stops reading a body past this size (413).</param>
public sealed record HttpApiLimits(int PermitsPerMinute, int ConcurrentRequests, long MaxRequestBodyBytes)
{
    /// <summary>The limits in <paramref name="section"/> (keys PermitsPerMinute, ConcurrentRequests, MaxRequestBodyBytes), else the defaults given.</summary>
    public static HttpApiLimits From(IConfigurationSection section, HttpApiLimits defaults)
    {
        ArgumentNullException.ThrowIfNull(section);
        ArgumentNullException.ThrowIfNull(defaults);
        return new HttpApiLimits(
            Positive(section, nameof(PermitsPerMinute), defaults.PermitsPerMinute),
            Positive(section, nameof(ConcurrentRequests), defaults.ConcurrentRequests),
            Positive(section, nameof(MaxRequestBodyBytes), defaults.MaxRequestBodyBytes));
    }

    public static T Positive<T>(IConfigurationSection section, string key, T fallback) where T : struct, System.Numerics.INumber<T>
    {
        ArgumentNullException.ThrowIfNull(section);
        T value = section.GetValue(key, fallback);
        return value >= T.One ? value : throw new InvalidOperationException($"{section.Path}:{key} must be at least 1 (got {value}).");
    }
}
