using System.Collections.Concurrent;

namespace FailureSynth.Redis.Tests;

[Collection(SharedRedisServer.Name)]
public sealed class RedisSubscriberTests(RedisServerFixture redis)
{
    private static readonly TimeSpan s_delivery = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Published_messages_reach_the_subscribers_handler_in_order()
    {
        IRedisSubscriber subscriber = redis.Connection.GetSubscriber();
        string channel = redis.UniqueKey("channel");
        var received = new ConcurrentQueue<(string Channel, string? Message)>();
        await subscriber.SubscribeAsync(channel, (c, m) => received.Enqueue((c, (string?)m)));
        Assert.True(subscriber.IsConnected);

        Assert.Equal(1, await redis.Database.PublishAsync(channel, "one"));
        Assert.Equal(1, await redis.Database.PublishAsync(channel, "two"));
        await Eventually.TrueAsync(() => received.Count == 2, s_delivery, "both messages to arrive");

        Assert.Equal([(channel, "one"), (channel, "two")], received);
        await subscriber.UnsubscribeAsync(channel);
    }

    [Fact]
    public async Task Binary_payloads_arrive_byte_for_byte()
    {
        IRedisSubscriber subscriber = redis.Connection.GetSubscriber();
        string channel = redis.UniqueKey("binary");
        var received = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        await subscriber.SubscribeAsync(channel, (_, m) => received.TrySetResult((byte[])m!));

        byte[] payload = [0, 13, 10, 255, 42, 36];
        await redis.Database.PublishAsync(channel, payload);

        Assert.Equal(payload, await received.Task.WaitAsync(s_delivery));
        await subscriber.UnsubscribeAsync(channel);
    }

    [Fact]
    public async Task Unsubscribing_one_handler_keeps_the_other_and_the_last_one_ends_the_subscription()
    {
        IRedisSubscriber subscriber = redis.Connection.GetSubscriber();
        string channel = redis.UniqueKey("two-handlers");
        var first = new ConcurrentQueue<string?>();
        var second = new ConcurrentQueue<string?>();
        Action<string, RedisValue> firstHandler = (_, m) => first.Enqueue(m);
        Action<string, RedisValue> secondHandler = (_, m) => second.Enqueue(m);
        await subscriber.SubscribeAsync(channel, firstHandler);
        await subscriber.SubscribeAsync(channel, secondHandler);

        Assert.Equal(1, await redis.Database.PublishAsync(channel, "both"));
        await Eventually.TrueAsync(() => first.Count == 1 && second.Count == 1, s_delivery, "both handlers to get the message");

        await subscriber.UnsubscribeAsync(channel, firstHandler);
        Assert.Equal(1, await redis.Database.PublishAsync(channel, "second only"));
        await Eventually.TrueAsync(() => second.Count == 2, s_delivery, "the remaining handler to get the message");
        Assert.Single(first);

        await subscriber.UnsubscribeAsync(channel, secondHandler);
        Assert.Equal(0, await redis.Database.PublishAsync(channel, "nobody"));
    }

    [Fact]
    public async Task A_handler_that_throws_does_not_stop_delivery()
    {
        IRedisSubscriber subscriber = redis.Connection.GetSubscriber();
        string channel = redis.UniqueKey("throwing");
        var delivered = new ConcurrentQueue<string?>();
        await subscriber.SubscribeAsync(channel, (_, _) => throw new InvalidOperationException("handler bug"));
        await subscriber.SubscribeAsync(channel, (_, m) => delivered.Enqueue(m));

        await redis.Database.PublishAsync(channel, "a");
        await redis.Database.PublishAsync(channel, "b");
        await Eventually.TrueAsync(() => delivered.Count == 2, s_delivery, "both messages despite the throwing handler");
        Assert.True(redis.Connection.GetSubscriber().IsConnected);
        await subscriber.UnsubscribeAsync(channel);
    }
}
