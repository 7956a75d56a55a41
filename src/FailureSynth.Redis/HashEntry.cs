namespace FailureSynth.Redis;

/// <summary>One field of a Redis hash and its value, as HSET takes them and HGETALL returns them.</summary>
public readonly record struct HashEntry(string Name, RedisValue Value);
