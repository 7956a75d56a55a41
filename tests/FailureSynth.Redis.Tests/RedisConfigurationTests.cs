namespace FailureSynth.Redis.Tests;

public sealed class RedisConfigurationTests
{
    [Fact]
    public void Configuration_reads_every_option_of_an_Aspire_style_connection_string()
    {
        RedisConfiguration configuration = RedisConfiguration.Parse(
            "cache.local:6380,password=s3cret,user=app,connectTimeout=1500,syncTimeout=2500,abortConnect=False,connectRetry=5,defaultDatabase=2,name=teacher");

        Assert.Equal("cache.local", configuration.Host);
        Assert.Equal(6380, configuration.Port);
        Assert.Equal("s3cret", configuration.Password);
        Assert.Equal("app", configuration.User);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), configuration.ConnectTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(2500), configuration.CommandTimeout);
        Assert.False(configuration.AbortConnect);
        Assert.Equal(5, configuration.ConnectRetry);
        Assert.Equal(2, configuration.DefaultDatabase);
        Assert.Equal("teacher", configuration.ClientName);
    }

    [Fact]
    public void Configuration_defaults_match_StackExchange_Redis()
    {
        RedisConfiguration configuration = RedisConfiguration.Parse("localhost");
        Assert.Equal("localhost:6379", configuration.Endpoint);
        Assert.Null(configuration.Password);
        Assert.Equal(TimeSpan.FromSeconds(5), configuration.ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), configuration.CommandTimeout);
        Assert.True(configuration.AbortConnect);
        Assert.Equal(3, configuration.ConnectRetry);
    }

    [Fact]
    public void Configuration_takes_asyncTimeout_over_syncTimeout_for_commands()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(700), RedisConfiguration.Parse("h:1,asyncTimeout=700,syncTimeout=9000").CommandTimeout);
    }

    [Fact]
    public void Configuration_reads_a_bracketed_IPv6_endpoint()
    {
        RedisConfiguration configuration = RedisConfiguration.Parse("[::1]:7000");
        Assert.Equal("::1", configuration.Host);
        Assert.Equal(7000, configuration.Port);
        Assert.Equal("[::1]:7000", configuration.Endpoint);
    }

    [Theory]
    [InlineData("", "names no endpoint")]
    [InlineData("password=x", "names no endpoint")]
    [InlineData("localhost:abc", "the port 'abc' in endpoint 'localhost:abc' is not a number from 1 to 65535")]
    [InlineData("localhost:70000", "the port '70000'")]
    [InlineData("a:1,b:2", "second endpoint 'b:2'")]
    [InlineData("::1:6379", "several colons")]
    [InlineData("localhost,connectTimeout=-1", "connectTimeout='-1' is not a whole number of at least 1")]
    [InlineData("localhost,syncTimeout=fast", "syncTimeout='fast'")]
    [InlineData("localhost,abortConnect=maybe", "abortConnect='maybe' is neither true nor false")]
    [InlineData("localhost,colour=blue", "the option 'colour' is not one this client knows")]
    [InlineData("localhost,ssl=true", "ssl=true asks for TLS")]
    [InlineData("localhost,user=app", "user= without password=")]
    public void Configuration_errors_name_the_part_that_is_wrong(string connectionString, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => RedisConfiguration.Parse(connectionString));
        Assert.Contains(expected, error.Message);
        Assert.Contains("The Redis connection string", error.Message);
    }

    [Fact]
    public void Configuration_errors_and_ToString_never_show_the_password()
    {
        var error = Assert.Throws<ArgumentException>(() => RedisConfiguration.Parse("localhost:x,password=hunter2"));
        Assert.DoesNotContain("hunter2", error.Message);
        Assert.Contains("password=*****", error.Message);

        string text = RedisConfiguration.Parse("localhost:1,password=hunter2").ToString();
        Assert.DoesNotContain("hunter2", text);
        Assert.StartsWith("localhost:1,password=*****", text);
    }
}
