using System.Buffers.Binary;
using System.Text;

namespace FailureSynth.Fuzzing;

/// <summary>
/// Seeded byte and text mutations (bit flips, boundary integers, deleted, duplicated and spliced ranges, format
/// tokens, replaced numbers), stacked one to six at a time; the same seed gives the same inputs.
/// </summary>
public sealed class Mutator(FuzzTarget target, Random random)
{
    private static readonly uint[] Boundaries = [0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 16384, 16385, 65535];
    private static readonly string[] Numbers = ["0", "-1", "1", "2147483647", "2147483648", "-2147483649", "99999999999999999999", "1e308", "-1e308", "NaN", ".inf", "0x7fffffff", "1.5", "65535", "4294967296"];

    /// <summary>Largest input the mutations grow to: keeps one input's cost bounded.</summary>
    public const int MaxLength = 256 * 1024;

    public byte[] Next()
    {
        if (target.Generate is not null && random.Next(4) == 0)
            return target.Generate(random);
        var data = new List<byte>(target.Seeds[random.Next(target.Seeds.Count)]);
        int rounds = 1 + random.Next(6);
        for (int i = 0; i < rounds; i++) Mutate(data);
        if (data.Count > MaxLength) data.RemoveRange(MaxLength, data.Count - MaxLength);
        byte[] result = [.. data];
        return target.Repair is not null && random.Next(4) != 0 ? target.Repair(result) : result;
    }

    private void Mutate(List<byte> data)
    {
        int op = random.Next(target.Tokens.Count > 0 ? 12 : 8);
        if (data.Count == 0) { data.AddRange(Encoding.UTF8.GetBytes(Token())); return; }
        int at = random.Next(data.Count);
        switch (op)
        {
            case 0: data[at] ^= (byte)(1 << random.Next(8)); break;
            case 1: data[at] = (byte)Boundaries[random.Next(Boundaries.Length)]; break;
            case 2:
                {
                    Span<byte> word = stackalloc byte[4];
                    BinaryPrimitives.WriteUInt32BigEndian(word, Boundaries[random.Next(Boundaries.Length)]);
                    for (int i = 0; i < 4 && at + i < data.Count; i++) data[at + i] = word[i];
                    break;
                }
            case 3: data.RemoveRange(at, Math.Min(data.Count - at, 1 + random.Next(Math.Min(64, data.Count)))); break;
            case 4:
                {
                    int length = Math.Min(data.Count - at, 1 + random.Next(256));
                    var copy = data.GetRange(at, length);
                    int times = random.Next(8) == 0 ? 1 + random.Next(64) : 1;
                    int to = random.Next(data.Count + 1);
                    for (int t = 0; t < times; t++) data.InsertRange(to, copy);
                    break;
                }
            case 5:
                {
                    var bytes = new byte[1 + random.Next(16)];
                    random.NextBytes(bytes);
                    data.InsertRange(at, bytes);
                    break;
                }
            case 6:
                {
                    // Splice: this input's head with another seed's tail.
                    byte[] other = target.Seeds[random.Next(target.Seeds.Count)];
                    int from = random.Next(other.Length + 1);
                    data.RemoveRange(at, data.Count - at);
                    data.AddRange(other.AsSpan(from).ToArray());
                    break;
                }
            case 7: data.RemoveRange(at, data.Count - at); break;
            case 8:
            case 9: data.InsertRange(at, Encoding.UTF8.GetBytes(Token())); break;
            case 10: ReplaceNumber(data, at); break;
            default:
                {
                    // Nesting: the same opening token many times.
                    string open = random.Next(2) == 0 ? "[" : "{";
                    data.InsertRange(at, Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(open, 1 + random.Next(2000)))));
                    break;
                }
        }
    }

    private string Token() => target.Tokens.Count == 0 ? "\0" : target.Tokens[random.Next(target.Tokens.Count)];

    private void ReplaceNumber(List<byte> data, int at)
    {
        int start = at;
        while (start < data.Count && !char.IsAsciiDigit((char)data[start])) start++;
        if (start == data.Count) { data.InsertRange(at, Encoding.UTF8.GetBytes(Numbers[random.Next(Numbers.Length)])); return; }
        int end = start;
        while (end < data.Count && char.IsAsciiDigit((char)data[end])) end++;
        data.RemoveRange(start, end - start);
        data.InsertRange(start, Encoding.UTF8.GetBytes(Numbers[random.Next(Numbers.Length)]));
    }
}
