using System.Globalization;
using System.Text;

namespace FailureSynth.Redis;

/// <summary>The five kinds of RESP2 reply.</summary>
public enum RedisResultType
{
    SimpleString,
    Error,
    Integer,
    BulkString,
    Array,
}

/// <summary>
/// One parsed RESP2 reply: what <see cref="IRedisDatabase.ExecuteAsync(string, object[])"/> returns
/// and what the typed commands read their answers from.
/// </summary>
public sealed class RedisResult
{
    private static readonly RedisResult s_nullBulkString = new(RedisResultType.BulkString, null, 0, null, null);
    private static readonly RedisResult s_nullArray = new(RedisResultType.Array, null, 0, null, null);

    private readonly string? _text;
    private readonly long _integer;
    private readonly byte[]? _bytes;
    private readonly RedisResult[]? _items;

    private RedisResult(RedisResultType type, string? text, long integer, byte[]? bytes, RedisResult[]? items)
    {
        Type = type;
        _text = text;
        _integer = integer;
        _bytes = bytes;
        _items = items;
    }

    public RedisResultType Type { get; }

    /// <summary>True for a null bulk string (<c>$-1</c>) or a null array (<c>*-1</c>).</summary>
    public bool IsNull => Type switch
    {
        RedisResultType.BulkString => _bytes is null,
        RedisResultType.Array => _items is null,
        _ => false,
    };

    public static RedisResult SimpleString(string text) => new(RedisResultType.SimpleString, text, 0, null, null);

    public static RedisResult Error(string message) => new(RedisResultType.Error, message, 0, null, null);

    public static RedisResult Integer(long value) => new(RedisResultType.Integer, null, value, null, null);

    /// <summary>A bulk string; null gives the null bulk string.</summary>
    public static RedisResult BulkString(byte[]? bytes) => bytes is null ? s_nullBulkString : new(RedisResultType.BulkString, null, 0, bytes, null);

    /// <summary>An array; null gives the null array.</summary>
    public static RedisResult Array(RedisResult[]? items) => items is null ? s_nullArray : new(RedisResultType.Array, null, 0, null, items);

    /// <summary>The reply as text: status or error text, the integer in decimal, or the bulk string as UTF-8; null for null replies.</summary>
    public string? AsString() => Type switch
    {
        RedisResultType.SimpleString or RedisResultType.Error => _text,
        RedisResultType.Integer => _integer.ToString(CultureInfo.InvariantCulture),
        RedisResultType.BulkString => _bytes is null ? null : Encoding.UTF8.GetString(_bytes),
        _ when _items is null => null,
        _ => throw new InvalidCastException($"A Redis array reply ({ToString()}) has no single text value; read it with AsArray()."),
    };

    /// <summary>The reply as a value: the bulk string's bytes, or text for the other scalar kinds.</summary>
    public RedisValue AsRedisValue() => Type switch
    {
        RedisResultType.BulkString => _bytes,
        RedisResultType.Array when _items is null => RedisValue.Null,
        RedisResultType.Array => throw new InvalidCastException($"A Redis array reply ({ToString()}) is not a single value; read it with AsArray()."),
        _ => AsString(),
    };

    /// <summary>The reply as an integer: an integer reply, or a status or bulk string holding one.</summary>
    public long AsInt64()
    {
        if (Type == RedisResultType.Integer) return _integer;
        if (Type is RedisResultType.SimpleString or RedisResultType.BulkString && AsRedisValue().TryParseInt64(out long value)) return value;
        throw new InvalidCastException($"The Redis reply {ToString()} is not an integer.");
    }

    /// <summary>The elements of an array reply; null for the null array.</summary>
    public IReadOnlyList<RedisResult>? AsArray() => Type == RedisResultType.Array
        ? _items
        : throw new InvalidCastException($"The Redis reply {ToString()} is not an array.");

    /// <summary>
    /// An unambiguous rendering close to RESP's own: <c>+OK</c>, <c>-ERR …</c>, <c>:42</c>,
    /// <c>"text"</c> (non-printable bytes as \xHH), <c>$nil</c>, <c>*nil</c>, <c>[a, b]</c>.
    /// </summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        Render(text);
        return text.ToString();
    }

    private void Render(StringBuilder text)
    {
        switch (Type)
        {
            case RedisResultType.SimpleString: text.Append('+').Append(_text); break;
            case RedisResultType.Error: text.Append('-').Append(_text); break;
            case RedisResultType.Integer: text.Append(':').Append(_integer.ToString(CultureInfo.InvariantCulture)); break;
            case RedisResultType.BulkString when _bytes is null: text.Append("$nil"); break;
            case RedisResultType.BulkString:
                text.Append('"');
                foreach (byte b in _bytes)
                {
                    if (b is (byte)'"' or (byte)'\\') text.Append('\\').Append((char)b);
                    else if (b is >= 0x20 and < 0x7F) text.Append((char)b);
                    else text.Append("\\x").Append(b.ToString("X2", CultureInfo.InvariantCulture));
                }
                text.Append('"');
                break;
            case RedisResultType.Array when _items is null: text.Append("*nil"); break;
            case RedisResultType.Array:
                text.Append('[');
                for (int i = 0; i < _items.Length; i++)
                {
                    if (i > 0) text.Append(", ");
                    _items[i].Render(text);
                }
                text.Append(']');
                break;
        }
    }
}
