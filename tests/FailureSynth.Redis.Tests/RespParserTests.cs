using System.Text;

namespace FailureSynth.Redis.Tests;

public sealed class RespParserTests
{
    // Every kind of RESP2 reply, with the rendering RedisResult.ToString gives it.
    public static readonly TheoryData<string, string> Replies = new()
    {
        { "+OK\r\n", "+OK" },
        { "+\r\n", "+" },
        { "-ERR unknown command 'FOO'\r\n", "-ERR unknown command 'FOO'" },
        { ":0\r\n", ":0" },
        { ":-42\r\n", ":-42" },
        { ":9223372036854775807\r\n", ":9223372036854775807" },
        { ":-9223372036854775808\r\n", ":-9223372036854775808" },
        { "$5\r\nhello\r\n", "\"hello\"" },
        { "$0\r\n\r\n", "\"\"" },
        { "$-1\r\n", "$nil" },
        { "$4\r\na\r\nb\r\n", "\"a\\x0D\\x0Ab\"" },
        { "*-1\r\n", "*nil" },
        { "*0\r\n", "[]" },
        { "*3\r\n:1\r\n$-1\r\n+x\r\n", "[:1, $nil, +x]" },
        { "*2\r\n*2\r\n$1\r\na\r\n*0\r\n*1\r\n*-1\r\n", "[[\"a\", []], [*nil]]" },
    };

    [Theory]
    [MemberData(nameof(Replies))]
    public void Parser_reads_each_kind_of_reply(string wire, string expected)
    {
        Assert.Equal([expected], ParseAll(Bytes(wire)));
    }

    [Fact]
    public void Parser_gives_the_same_replies_when_the_stream_is_split_at_every_position()
    {
        byte[] stream = Bytes(string.Concat(Replies.Select(row => (string)row[0])));
        string[] expected = [.. Replies.Select(row => (string)row[1])];
        Assert.Equal(expected, ParseAll(stream));

        for (int split = 0; split <= stream.Length; split++)
        {
            var parser = new RespParser();
            var replies = new List<RedisResult>();
            parser.Feed(stream.AsSpan(0, split), replies);
            parser.Feed(stream.AsSpan(split), replies);
            Assert.Equal(expected, replies.Select(r => r.ToString()));
            Assert.True(parser.IsBetweenReplies);
        }
    }

    [Fact]
    public void Parser_gives_the_same_replies_when_fed_one_byte_at_a_time()
    {
        byte[] stream = Bytes(string.Concat(Replies.Select(row => (string)row[0])));
        var parser = new RespParser();
        var replies = new List<RedisResult>();
        for (int i = 0; i < stream.Length; i++)
            parser.Feed(stream.AsSpan(i, 1), replies);
        Assert.Equal(Replies.Select(row => (string)row[1]), replies.Select(r => r.ToString()));
    }

    [Fact]
    public void Parser_holds_a_partial_reply_until_its_last_byte_arrives()
    {
        var parser = new RespParser();
        var replies = new List<RedisResult>();
        parser.Feed(Bytes("*2\r\n$3\r\nab"), replies);
        Assert.Empty(replies);
        Assert.False(parser.IsBetweenReplies);
        parser.Feed(Bytes("c\r\n:7\r"), replies);
        Assert.Empty(replies);
        parser.Feed(Bytes("\n"), replies);
        Assert.Equal(["[\"abc\", :7]"], replies.Select(r => r.ToString()));
        Assert.True(parser.IsBetweenReplies);
    }

    [Fact]
    public void Parser_assembles_a_large_bulk_string_from_many_fragments_byte_for_byte()
    {
        byte[] payload = new byte[3 * 1024 * 1024 + 17];
        for (int i = 0; i < payload.Length; i++) payload[i] = (byte)(i * 31 + (i >> 11));
        byte[] stream = [.. Bytes($"${payload.Length}\r\n"), .. payload, .. Bytes("\r\n")];

        var parser = new RespParser();
        var replies = new List<RedisResult>();
        for (int offset = 0; offset < stream.Length; offset += 4093)
            parser.Feed(stream.AsSpan(offset, Math.Min(4093, stream.Length - offset)), replies);

        RedisResult reply = Assert.Single(replies);
        Assert.Equal(payload, (byte[]?)reply.AsRedisValue());
    }

    public static readonly TheoryData<string, string> Violations = new()
    {
        { "?x\r\n", "reply type byte" },
        { "+OK\n", "bare line feed" },
        { "+OK\rX\r\n", "instead of a line feed" },
        { ":12a\r\n", "'12a' is not a decimal 64-bit integer" },
        { ":\r\n", "is not a decimal 64-bit integer" },
        { ":01\r\n", "'01' is not" },
        { ":-0\r\n", "'-0' is not" },
        { ":+1\r\n", "'+1' is not" },
        { ":99999999999999999999\r\n", "is not a decimal 64-bit integer" },
        { "$ 3\r\nabc\r\n", "bulk string length ' 3'" },
        { "$3\r\nabcd\r\n", "does not match its data" },
        { "$3\r\nabc\n", "instead of CR LF" },
        { "$3\r\nabc\rX", "instead of a line feed" },
        { "$-2\r\n", "outside -1.." },
        { "*-2\r\n", "outside -1.." },
        { "*2\r\n:1\r\n!\r\n", "reply type byte" },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public void Parser_rejects_input_that_breaks_RESP2(string wire, string expectedReason)
    {
        var parser = new RespParser();
        var error = Assert.Throws<RedisProtocolException>(() => parser.Feed(Bytes(wire), new List<RedisResult>()));
        Assert.Contains(expectedReason, error.Message);
        Assert.Contains("RESP protocol violation at byte", error.Message);
        Assert.True(parser.IsFaulted);
    }

    [Theory]
    [MemberData(nameof(Violations))]
    public void Parser_rejects_broken_input_however_it_is_split(string wire, string expectedReason)
    {
        byte[] stream = Bytes(wire);
        for (int split = 0; split <= stream.Length; split++)
        {
            var parser = new RespParser();
            var replies = new List<RedisResult>();
            var error = Assert.Throws<RedisProtocolException>(() =>
            {
                parser.Feed(stream.AsSpan(0, split), replies);
                parser.Feed(stream.AsSpan(split), replies);
            });
            Assert.Contains(expectedReason, error.Message);
        }
    }

    [Fact]
    public void Parser_names_the_stream_position_of_a_violation()
    {
        var error = Assert.Throws<RedisProtocolException>(() => new RespParser().Feed(Bytes("+OK\r\n:1\r\n#"), new List<RedisResult>()));
        Assert.Contains("at byte 9 of the stream", error.Message);
    }

    [Fact]
    public void Parser_refuses_all_input_after_a_violation()
    {
        var parser = new RespParser();
        Assert.Throws<RedisProtocolException>(() => parser.Feed(Bytes("!\r\n"), new List<RedisResult>()));
        var replies = new List<RedisResult>();
        var error = Assert.Throws<RedisProtocolException>(() => parser.Feed(Bytes("+OK\r\n"), replies));
        Assert.Contains("already broke the protocol", error.Message);
        Assert.Empty(replies);
    }

    [Fact]
    public void Parser_rejects_a_bulk_string_longer_than_its_limit()
    {
        var parser = new RespParser(maxBulkLength: 10);
        parser.Feed(Bytes("$10\r\n0123456789\r\n"), new List<RedisResult>());
        var error = Assert.Throws<RedisProtocolException>(() => parser.Feed(Bytes("$11\r\n"), new List<RedisResult>()));
        Assert.Contains("bulk string length 11 is outside -1..10", error.Message);
    }

    [Fact]
    public void Parser_rejects_an_endless_status_line()
    {
        var error = Assert.Throws<RedisProtocolException>(() =>
            new RespParser().Feed(Bytes("+" + new string('a', 70_000)), new List<RedisResult>()));
        Assert.Contains("longer than", error.Message);
    }

    [Fact]
    public void Parser_rejects_arrays_nested_too_deep()
    {
        string wire = string.Concat(Enumerable.Repeat("*1\r\n", 65)) + ":1\r\n";
        var error = Assert.Throws<RedisProtocolException>(() => new RespParser().Feed(Bytes(wire), new List<RedisResult>()));
        Assert.Contains("nested more than 64 deep", error.Message);

        string deepButAllowed = string.Concat(Enumerable.Repeat("*1\r\n", 64)) + ":1\r\n";
        Assert.Single(ParseAll(Bytes(deepButAllowed)));
    }

    private static string[] ParseAll(byte[] stream)
    {
        var replies = new List<RedisResult>();
        new RespParser().Feed(stream, replies);
        return [.. replies.Select(r => r.ToString())];
    }

    private static byte[] Bytes(string text) => Encoding.Latin1.GetBytes(text);
}
