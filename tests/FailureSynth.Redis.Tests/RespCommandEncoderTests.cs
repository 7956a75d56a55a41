using System.Text;

namespace FailureSynth.Redis.Tests;

public sealed class RespCommandEncoderTests
{
    [Fact]
    public void Encoder_writes_a_command_as_an_array_of_bulk_strings()
    {
        byte[] bytes = RespCommandEncoder.Encode("SET", ["key", "value"]);
        Assert.Equal("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n", Encoding.ASCII.GetString(bytes));
    }

    [Fact]
    public void Encoder_writes_numbers_in_invariant_form_and_text_as_UTF8()
    {
        byte[] bytes = RespCommandEncoder.Encode("X", [-5L, 7, 1.5, double.PositiveInfinity, "é", (RedisValue)"v", new byte[] { 0, 13, 10 }]);
        string expected = "*8\r\n$1\r\nX\r\n$2\r\n-5\r\n$1\r\n7\r\n$3\r\n1.5\r\n$4\r\n+inf\r\n$2\r\n\u00C3\u00A9\r\n$1\r\nv\r\n$3\r\n\0\r\n\r\n";
        Assert.Equal(expected, Encoding.Latin1.GetString(bytes));
    }

    [Fact]
    public void Encoded_commands_parse_back_as_RESP_arrays()
    {
        byte[] bytes = RespCommandEncoder.Encode("HSET", ["h", "f", new byte[] { 1, 2, 3 }, 42L]);
        var replies = new List<RedisResult>();
        new RespParser().Feed(bytes, replies);
        Assert.Equal("[\"HSET\", \"h\", \"f\", \"\\x01\\x02\\x03\", \"42\"]", Assert.Single(replies).ToString());
    }

    [Fact]
    public void Encoder_rejects_a_null_value_naming_the_argument()
    {
        var error = Assert.Throws<ArgumentException>(() => RespCommandEncoder.Encode("SET", ["k", RedisValue.Null]));
        Assert.Contains("Argument 1 of SET is a null RedisValue", error.Message);
    }

    [Fact]
    public void Encoder_rejects_an_argument_type_Redis_cannot_take_naming_it()
    {
        var error = Assert.Throws<ArgumentException>(() => RespCommandEncoder.Encode("SET", ["k", new DateTime(2020, 1, 1)]));
        Assert.Contains("Argument 1 of SET has type DateTime", error.Message);
        Assert.Contains("pass a string, byte[], RedisValue or number", error.Message);
    }

    [Fact]
    public void Encoder_rejects_a_command_name_with_arguments_in_it()
    {
        var error = Assert.Throws<ArgumentException>(() => RespCommandEncoder.Encode("GET key", []));
        Assert.Contains("'GET key' contains whitespace", error.Message);
        Assert.Contains("each argument separately", error.Message);
    }
}
