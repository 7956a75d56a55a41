namespace FailureSynth.Hosting.Redis;

/// <summary>
/// How to run a local redis-server: its data folder (config file and any dump land there), and
/// optionally a fixed port and password; without them a free port and a random password are chosen.
/// </summary>
public sealed record RedisServerOptions(string DataDirectory, int? Port = null, string? Password = null, string Executable = "redis-server");
