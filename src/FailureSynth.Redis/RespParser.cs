using System.Globalization;
using System.Text;

namespace FailureSynth.Redis;

/// <summary>
/// A strict, incremental RESP2 reply parser: bytes go in as they come off the socket, in fragments
/// of any size, and complete replies come out in order. Anything RESP2 does not allow is a protocol
/// violation; after one the parser stays faulted, because the byte stream can no longer be trusted
/// to line up with the commands that were sent.
/// </summary>
public sealed class RespParser
{
    /// <summary>Redis's own default limit on a bulk string (proto-max-bulk-len).</summary>
    public const int DefaultMaxBulkLength = 512 * 1024 * 1024;

    // Status, error and length lines are short; a longer one means the stream is not RESP.
    private const int MaxLineLength = 64 * 1024;

    // Deeper nesting than any Redis reply has would only serve to exhaust memory.
    private const int MaxNesting = 64;

    // Buffers for big bulk strings grow as the bytes arrive instead of trusting the length prefix.
    private const int MaxUpfrontAllocation = 1024 * 1024;

    private enum Expect { TypeByte, LineText, LineFeed, BulkBytes, BulkCarriageReturn, BulkLineFeed }

    private sealed class ArrayInProgress(int length)
    {
        public readonly int Length = length;
        public readonly List<RedisResult> Items = new(Math.Min(length, 1024));
    }

    private readonly int _maxBulkLength;
    private readonly Stack<ArrayInProgress> _arrays = new();
    private Expect _expect = Expect.TypeByte;
    private byte _type;
    private byte[] _line = new byte[64];
    private int _lineLength;
    private byte[] _bulk = [];
    private int _bulkLength;
    private int _bulkFilled;
    private long _position;
    private string? _violation;

    public RespParser(int maxBulkLength = DefaultMaxBulkLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBulkLength);
        _maxBulkLength = maxBulkLength;
    }

    /// <summary>True once the input broke the protocol; every later <see cref="Feed"/> throws.</summary>
    public bool IsFaulted => _violation is not null;

    /// <summary>True between replies: no partly received reply is held.</summary>
    public bool IsBetweenReplies => _expect == Expect.TypeByte && _arrays.Count == 0 && _violation is null;

    /// <summary>
    /// Consumes every byte of <paramref name="data"/> and adds each reply it completes to
    /// <paramref name="replies"/>; a partial reply is kept for the next call.
    /// </summary>
    /// <exception cref="RedisProtocolException">The bytes break RESP2; the message says where and how.</exception>
    public void Feed(ReadOnlySpan<byte> data, ICollection<RedisResult> replies)
    {
        if (_violation is not null)
            throw new RedisProtocolException($"The RESP stream already broke the protocol ({_violation}); open a new connection.");
        while (!data.IsEmpty)
        {
            int used = _expect switch
            {
                Expect.TypeByte => ReadTypeByte(data[0]),
                Expect.LineText => ReadLineText(data, replies),
                Expect.LineFeed => ReadLineFeed(data[0], replies),
                Expect.BulkBytes => ReadBulkBytes(data),
                Expect.BulkCarriageReturn => ReadBulkCarriageReturn(data[0]),
                _ => ReadBulkLineFeed(data[0], replies),
            };
            data = data[used..];
            _position += used;
        }
    }

    private int ReadTypeByte(byte b)
    {
        if (b is not ((byte)'+' or (byte)'-' or (byte)':' or (byte)'$' or (byte)'*'))
            throw Violation($"expected a reply type byte (one of + - : $ *) but got {Describe(b)}");
        _type = b;
        _lineLength = 0;
        _expect = Expect.LineText;
        return 1;
    }

    private int ReadLineText(ReadOnlySpan<byte> data, ICollection<RedisResult> replies)
    {
        int end = data.IndexOfAny((byte)'\r', (byte)'\n');
        ReadOnlySpan<byte> text = end < 0 ? data : data[..end];
        if (_lineLength + text.Length > MaxLineLength)
            throw Violation($"a {LineKind()} line is longer than {MaxLineLength} bytes");
        if (_lineLength + text.Length > _line.Length)
            Array.Resize(ref _line, Math.Min(MaxLineLength, Math.Max(_line.Length * 2, _lineLength + text.Length)));
        text.CopyTo(_line.AsSpan(_lineLength));
        _lineLength += text.Length;
        if (end < 0) return data.Length;
        if (data[end] == (byte)'\n')
        {
            _position += end;
            throw Violation($"a {LineKind()} line ends in a bare line feed; RESP lines end in CR LF");
        }
        _expect = Expect.LineFeed;
        return end + 1;
    }

    private int ReadLineFeed(byte b, ICollection<RedisResult> replies)
    {
        if (b != (byte)'\n')
            throw Violation($"a carriage return in a {LineKind()} line is followed by {Describe(b)} instead of a line feed");
        _expect = Expect.TypeByte;
        CompleteLine(_line.AsSpan(0, _lineLength), replies);
        return 1;
    }

    private void CompleteLine(ReadOnlySpan<byte> line, ICollection<RedisResult> replies)
    {
        switch (_type)
        {
            case (byte)'+':
                Emit(RedisResult.SimpleString(Encoding.UTF8.GetString(line)), replies);
                break;
            case (byte)'-':
                Emit(RedisResult.Error(Encoding.UTF8.GetString(line)), replies);
                break;
            case (byte)':':
                Emit(RedisResult.Integer(ParseInteger(line, "integer reply")), replies);
                break;
            case (byte)'$':
                long bulkLength = ParseInteger(line, "bulk string length");
                if (bulkLength == -1)
                {
                    Emit(RedisResult.BulkString(null), replies);
                    break;
                }
                if (bulkLength < 0 || bulkLength > _maxBulkLength)
                    throw Violation($"bulk string length {bulkLength} is outside -1..{_maxBulkLength}");
                _bulkLength = (int)bulkLength;
                _bulkFilled = 0;
                _bulk = new byte[Math.Min(_bulkLength, MaxUpfrontAllocation)];
                _expect = _bulkLength == 0 ? Expect.BulkCarriageReturn : Expect.BulkBytes;
                break;
            default:
                long arrayLength = ParseInteger(line, "array length");
                if (arrayLength == -1)
                    Emit(RedisResult.Array(null), replies);
                else if (arrayLength < 0 || arrayLength > int.MaxValue)
                    throw Violation($"array length {arrayLength} is outside -1..{int.MaxValue}");
                else if (arrayLength == 0)
                    Emit(RedisResult.Array([]), replies);
                else if (_arrays.Count >= MaxNesting)
                    throw Violation($"arrays are nested more than {MaxNesting} deep");
                else
                    _arrays.Push(new ArrayInProgress((int)arrayLength));
                break;
        }
    }

    private int ReadBulkBytes(ReadOnlySpan<byte> data)
    {
        int take = Math.Min(data.Length, _bulkLength - _bulkFilled);
        if (_bulkFilled + take > _bulk.Length)
            Array.Resize(ref _bulk, (int)Math.Min(_bulkLength, Math.Max(2L * _bulk.Length, _bulkFilled + take)));
        data[..take].CopyTo(_bulk.AsSpan(_bulkFilled));
        _bulkFilled += take;
        if (_bulkFilled == _bulkLength) _expect = Expect.BulkCarriageReturn;
        return take;
    }

    private int ReadBulkCarriageReturn(byte b)
    {
        if (b != (byte)'\r')
            throw Violation($"a bulk string of {_bulkLength} bytes is followed by {Describe(b)} instead of CR LF, so its length prefix does not match its data");
        _expect = Expect.BulkLineFeed;
        return 1;
    }

    private int ReadBulkLineFeed(byte b, ICollection<RedisResult> replies)
    {
        if (b != (byte)'\n')
            throw Violation($"a bulk string of {_bulkLength} bytes ends in CR followed by {Describe(b)} instead of a line feed");
        _expect = Expect.TypeByte;
        byte[] bytes = _bulk;
        _bulk = [];
        Emit(RedisResult.BulkString(bytes), replies);
        return 1;
    }

    // Places a finished value in the array being filled, closing every array it completes.
    private void Emit(RedisResult value, ICollection<RedisResult> replies)
    {
        while (_arrays.Count > 0)
        {
            ArrayInProgress array = _arrays.Peek();
            array.Items.Add(value);
            if (array.Items.Count < array.Length) return;
            _arrays.Pop();
            value = RedisResult.Array([.. array.Items]);
        }
        replies.Add(value);
    }

    // RESP integers as Redis writes them: an optional minus, then digits without leading zeros.
    private long ParseInteger(ReadOnlySpan<byte> text, string what)
    {
        bool negative = !text.IsEmpty && text[0] == (byte)'-';
        ReadOnlySpan<byte> digits = negative ? text[1..] : text;
        bool wellFormed = !digits.IsEmpty
            && (digits.Length == 1 || digits[0] != (byte)'0')
            && !(negative && digits is [(byte)'0'])
            && !digits.ContainsAnyExceptInRange((byte)'0', (byte)'9');
        if (wellFormed && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
            return value;
        throw Violation($"the {what} '{Printable(text)}' is not a decimal 64-bit integer");
    }

    private string LineKind() => _type switch
    {
        (byte)'+' => "simple string",
        (byte)'-' => "error",
        (byte)':' => "integer",
        (byte)'$' => "bulk string length",
        _ => "array length",
    };

    private RedisProtocolException Violation(string what)
    {
        _violation = $"at byte {_position.ToString(CultureInfo.InvariantCulture)} of the stream, {what}";
        return new RedisProtocolException($"RESP protocol violation {_violation}.");
    }

    private static string Describe(byte b) => b is >= 0x21 and < 0x7F
        ? $"'{(char)b}'"
        : $"byte 0x{b.ToString("X2", CultureInfo.InvariantCulture)}";

    private static string Printable(ReadOnlySpan<byte> text)
    {
        var result = new StringBuilder();
        foreach (byte b in text[..Math.Min(text.Length, 40)])
            result.Append(b is >= 0x20 and < 0x7F ? (char)b : '?');
        if (text.Length > 40) result.Append('…');
        return result.ToString();
    }
}
