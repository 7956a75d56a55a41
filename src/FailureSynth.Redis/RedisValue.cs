using System.Globalization;
using System.Text;

namespace FailureSynth.Redis;

/// <summary>
/// A value stored in or read from Redis: text or raw bytes, or null when a key or field does not
/// exist. Text and bytes with the same UTF-8 encoding are equal. Byte arrays are shared, not
/// copied, as in StackExchange.Redis: do not change an array after handing it over.
/// </summary>
public readonly struct RedisValue : IEquatable<RedisValue>
{
    // Either null, a string or a byte[]: values keep the form they arrived in, so that neither a
    // caller's string nor a reply's bytes are converted until someone asks for the other form.
    private readonly object? _value;

    private RedisValue(object? value) => _value = value;

    /// <summary>The value of a key or field that does not exist.</summary>
    public static RedisValue Null => default;

    public bool IsNull => _value is null;

    public bool HasValue => _value is not null;

    public bool IsNullOrEmpty => _value switch
    {
        null => true,
        string s => s.Length == 0,
        byte[] b => b.Length == 0,
        _ => false,
    };

    public static implicit operator RedisValue(string? value) => new(value);

    public static implicit operator RedisValue(byte[]? value) => new(value);

    public static implicit operator RedisValue(long value) => new(value.ToString(CultureInfo.InvariantCulture));

    public static implicit operator string?(RedisValue value) => value._value switch
    {
        null => null,
        string s => s,
        byte[] b => Encoding.UTF8.GetString(b),
        _ => null,
    };

    public static implicit operator byte[]?(RedisValue value) => value._value switch
    {
        null => null,
        string s => Encoding.UTF8.GetBytes(s),
        byte[] b => b,
        _ => null,
    };

    // Explicit, unlike the text and byte conversions, because it can fail (as in StackExchange.Redis).
    public static explicit operator long(RedisValue value)
    {
        if (value.IsNull)
            throw new InvalidCastException("The Redis value is null (the key or field does not exist), so it has no integer value; check IsNull first or convert to long? instead.");
        if (!value.TryParseInt64(out long result))
            throw new InvalidCastException($"The Redis value '{Truncate(value.ToString())}' is not a 64-bit integer.");
        return result;
    }

    public static explicit operator long?(RedisValue value) => value.IsNull ? null : (long)value;

    /// <summary>Reads the value as a decimal 64-bit integer (invariant culture); false when it is null or not one.</summary>
    public bool TryParseInt64(out long result)
    {
        result = 0;
        return _value switch
        {
            string s => long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out result),
            byte[] b => long.TryParse(b, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out result),
            _ => false,
        };
    }

    /// <summary>The value's bytes as sent on the wire (UTF-8 for text); empty for null.</summary>
    public ReadOnlyMemory<byte> ToMemory() => _value switch
    {
        string s => Encoding.UTF8.GetBytes(s),
        byte[] b => b,
        _ => ReadOnlyMemory<byte>.Empty,
    };

    /// <summary>The value as text; the empty string for null.</summary>
    public override string ToString() => (string?)this ?? string.Empty;

    public bool Equals(RedisValue other)
    {
        if (_value is null || other._value is null) return _value is null && other._value is null;
        if (_value is string a && other._value is string b) return string.Equals(a, b, StringComparison.Ordinal);
        return ToMemory().Span.SequenceEqual(other.ToMemory().Span);
    }

    public override bool Equals(object? obj) => obj is RedisValue other && Equals(other);

    // FNV-1a over the wire bytes, so that text and byte forms of one value hash alike.
    public override int GetHashCode()
    {
        if (_value is null) return 0;
        uint hash = 2166136261;
        foreach (byte b in ToMemory().Span)
            hash = (hash ^ b) * 16777619;
        return (int)hash;
    }

    public static bool operator ==(RedisValue left, RedisValue right) => left.Equals(right);

    public static bool operator !=(RedisValue left, RedisValue right) => !left.Equals(right);

    private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
