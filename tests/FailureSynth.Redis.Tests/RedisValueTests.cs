using System.Text;

namespace FailureSynth.Redis.Tests;

public sealed class RedisValueTests
{
    [Fact]
    public void Value_converts_between_text_bytes_and_integers()
    {
        RedisValue text = "héllo";
        Assert.Equal("héllo", (string?)text);
        Assert.Equal(Encoding.UTF8.GetBytes("héllo"), (byte[]?)text);

        RedisValue bytes = new byte[] { 0x34, 0x32 };
        Assert.Equal("42", (string?)bytes);
        Assert.Equal(42L, (long)bytes);

        RedisValue number = -17L;
        Assert.Equal("-17", number.ToString());
        Assert.Equal(-17L, (long)number);
    }

    [Fact]
    public void Text_and_bytes_with_the_same_UTF8_encoding_are_equal_and_hash_alike()
    {
        RedisValue text = "ü";
        RedisValue bytes = Encoding.UTF8.GetBytes("ü");
        Assert.Equal(text, bytes);
        Assert.True(text == bytes);
        Assert.Equal(text.GetHashCode(), bytes.GetHashCode());
        Assert.NotEqual(text, (RedisValue)"u");
    }

    [Fact]
    public void Null_value_is_distinct_from_the_empty_value()
    {
        Assert.True(RedisValue.Null.IsNull);
        Assert.True(RedisValue.Null.IsNullOrEmpty);
        Assert.Null((string?)RedisValue.Null);
        Assert.Null((long?)RedisValue.Null);
        RedisValue empty = "";
        Assert.False(empty.IsNull);
        Assert.True(empty.IsNullOrEmpty);
        Assert.NotEqual(RedisValue.Null, empty);
    }

    [Fact]
    public void Converting_a_non_integer_to_long_says_what_the_value_was()
    {
        var error = Assert.Throws<InvalidCastException>(() => (long)(RedisValue)"twelve");
        Assert.Contains("'twelve' is not a 64-bit integer", error.Message);
        var nullError = Assert.Throws<InvalidCastException>(() => (long)RedisValue.Null);
        Assert.Contains("does not exist", nullError.Message);
    }

    [Fact]
    public void Result_renders_replies_unambiguously_and_converts_scalars()
    {
        RedisResult array = RedisResult.Array([RedisResult.SimpleString("OK"), RedisResult.Integer(3), RedisResult.BulkString([0x22, 0x0A]), RedisResult.BulkString(null)]);
        Assert.Equal("[+OK, :3, \"\\\"\\x0A\", $nil]", array.ToString());
        Assert.Equal(12L, RedisResult.BulkString("12"u8.ToArray()).AsInt64());
        Assert.True(RedisResult.Array(null).IsNull);
        Assert.Throws<InvalidCastException>(() => array.AsString());
        Assert.Throws<InvalidCastException>(() => RedisResult.Integer(1).AsArray());
    }
}
