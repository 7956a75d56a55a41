using System.Buffers;
using System.Globalization;
using System.Text;

namespace FailureSynth.Redis;

/// <summary>
/// Writes a command as RESP2 sends it to the server: an array of bulk strings, the command name
/// first. Arguments may be text, bytes, <see cref="RedisValue"/>s or numbers (invariant culture).
/// </summary>
public static class RespCommandEncoder
{
    private static readonly byte[] s_lineEnd = "\r\n"u8.ToArray();

    /// <summary>The command's bytes, ready to write to the socket.</summary>
    /// <exception cref="ArgumentException">The command name is empty or has whitespace, or an argument has a type Redis cannot take.</exception>
    public static byte[] Encode(string command, IReadOnlyList<object> arguments)
    {
        ValidateCommandName(command);
        ArgumentNullException.ThrowIfNull(arguments);
        var output = new ArrayBufferWriter<byte>(32 + 16 * arguments.Count);
        WriteHeader(output, '*', arguments.Count + 1);
        WriteBulk(output, Encoding.UTF8.GetBytes(command));
        for (int i = 0; i < arguments.Count; i++)
            WriteArgument(output, command, i, arguments[i]);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Checks that <paramref name="command"/> is one word, as Redis command names are.</summary>
    public static void ValidateCommandName(string command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (command.Length == 0)
            throw new ArgumentException("The Redis command name is empty; pass a command such as \"GET\".", nameof(command));
        if (command.AsSpan().ContainsAny(" \t\r\n"))
            throw new ArgumentException(
                $"The Redis command name '{command}' contains whitespace; pass the name alone and each argument separately, e.g. ExecuteAsync(\"OBJECT\", \"ENCODING\", key).",
                nameof(command));
    }

    private static void WriteArgument(ArrayBufferWriter<byte> output, string command, int index, object argument)
    {
        switch (argument)
        {
            case string text:
                WriteText(output, text);
                break;
            case byte[] bytes:
                WriteBulk(output, bytes);
                break;
            case ReadOnlyMemory<byte> memory:
                WriteBulk(output, memory.Span);
                break;
            case RedisValue value when value.IsNull:
                throw new ArgumentException($"Argument {index} of {command} is a null RedisValue, which Redis cannot store; pass a value, or delete the key instead.", nameof(argument));
            case RedisValue value:
                WriteBulk(output, value.ToMemory().Span);
                break;
            case long or int or short or sbyte or ulong or uint or ushort or byte:
                WriteText(output, ((IFormattable)argument).ToString(null, CultureInfo.InvariantCulture));
                break;
            case double number:
                WriteText(output, FormatFloat(number));
                break;
            case float number:
                WriteText(output, FormatFloat(number));
                break;
            case null:
                throw new ArgumentException($"Argument {index} of {command} is null; Redis has no null argument. Pass a string, byte[], RedisValue or number.", nameof(argument));
            default:
                throw new ArgumentException(
                    $"Argument {index} of {command} has type {argument.GetType().Name}, which cannot be sent to Redis; pass a string, byte[], RedisValue or number.",
                    nameof(argument));
        }
    }

    // Redis reads infinities as "+inf" and "-inf" (ZADD, INCRBYFLOAT); "R" keeps every bit of the rest.
    private static string FormatFloat(double number) => number switch
    {
        double.PositiveInfinity => "+inf",
        double.NegativeInfinity => "-inf",
        double.NaN => throw new ArgumentException("NaN cannot be sent to Redis as a number.", nameof(number)),
        _ => number.ToString("R", CultureInfo.InvariantCulture),
    };

    private static void WriteText(ArrayBufferWriter<byte> output, string text)
    {
        int length = Encoding.UTF8.GetByteCount(text);
        WriteHeader(output, '$', length);
        output.Advance(Encoding.UTF8.GetBytes(text, output.GetSpan(length)));
        output.Write(s_lineEnd);
    }

    private static void WriteBulk(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        WriteHeader(output, '$', bytes.Length);
        output.Write(bytes);
        output.Write(s_lineEnd);
    }

    private static void WriteHeader(ArrayBufferWriter<byte> output, char type, int count)
    {
        Span<byte> span = output.GetSpan(16);
        span[0] = (byte)type;
        count.TryFormat(span[1..], out int digits, default, CultureInfo.InvariantCulture);
        span[1 + digits] = (byte)'\r';
        span[2 + digits] = (byte)'\n';
        output.Advance(3 + digits);
    }
}
