using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using FailureSynth.Hosting.Network;
using FailureSynth.Redis;

namespace FailureSynth.Hosting.Redis;

/// <summary>
/// A redis-server running as a child process on 127.0.0.1, for the AppHost and for tests: it
/// writes its own config file, waits until the server answers, keeps the server's recent output
/// for error messages, and can stop, kill and restart it on the same port with the same password.
/// </summary>
public sealed partial class RedisServerProcess : IAsyncDisposable
{
    private const int KeptOutputLines = 200;
    private const int SigTerm = 15;
    private static readonly TimeSpan s_readyTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromSeconds(5);

    private readonly object _outputGate = new();
    private readonly Queue<string> _recentOutput = new();
    private readonly string _executablePath;
    private Process? _process;
    private int? _processId;
    private bool _disposed;

    private RedisServerProcess(RedisServerOptions options, string executablePath, int port, string password)
    {
        Options = options;
        _executablePath = executablePath;
        Port = port;
        Password = password;
        ConfigurationFile = Path.Combine(Path.GetFullPath(options.DataDirectory), "redis.conf");
    }

    /// <summary>Raised for every line the server writes to stdout or stderr, on a pool thread.</summary>
    public event Action<string>? OutputLine;

    public RedisServerOptions Options { get; }

    public int Port { get; }

    /// <summary>The server's requirepass: a secret, keep it out of logs.</summary>
    public string Password { get; }

    public string ConfigurationFile { get; }

    /// <summary>The process id of the running (or last) server process.</summary>
    public int ProcessId => _processId ?? throw new InvalidOperationException("The redis-server process has not been started.");

    public bool HasExited => _process is null || _process.HasExited;

    /// <summary>The StackExchange.Redis-style connection string: <c>127.0.0.1:{port},password={password}</c>.</summary>
    public string ConnectionString => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)},password={Password}";

    /// <summary>The last lines the server wrote (up to 200), oldest first.</summary>
    public IReadOnlyList<string> RecentOutput
    {
        get { lock (_outputGate) return [.. _recentOutput]; }
    }

    /// <summary>Writes the config file, starts redis-server and waits (up to 15 s) until it answers an authenticated PING.</summary>
    /// <exception cref="ArgumentException">An option is unusable (the message says which).</exception>
    /// <exception cref="InvalidOperationException">redis-server is missing, exited, or did not become ready; the message has its last output.</exception>
    public static async Task<RedisServerProcess> StartAsync(RedisServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        string executable = FindExecutable(options.Executable);
        Directory.CreateDirectory(options.DataDirectory);
        var server = new RedisServerProcess(options, executable, options.Port ?? LoopbackPorts.FreePort(), options.Password ?? GeneratePassword());
        await File.WriteAllTextAsync(server.ConfigurationFile, server.RenderConfiguration(), cancellationToken).ConfigureAwait(false);
        try
        {
            await server.LaunchAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return server;
    }

    /// <summary>Stops the server: SIGTERM (it saves nothing, as configured), then SIGKILL if it has not exited within 5 s.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        Process? process = _process;
        if (process is null || process.HasExited) return;
        // SIGTERM lets redis-server close its clients and exit cleanly; where there is no kill(2), kill outright.
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) || SendSignal(process.Id, SigTerm) != 0)
            process.Kill();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(s_stopTimeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill();
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Kills the server at once with SIGKILL, as a crash would, and waits until it is gone.</summary>
    public void Kill()
    {
        Process? process = _process;
        if (process is null || process.HasExited) return;
        process.Kill();
        process.WaitForExit();
    }

    /// <summary>Stops the server if it runs, then starts it again on the same port, password and data directory.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await StopAsync(cancellationToken).ConfigureAwait(false);
        await LaunchAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the server; no redis-server process is left behind.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        AppDomain.CurrentDomain.ProcessExit -= KillOnHostExit;
        try
        {
            await StopAsync().ConfigureAwait(false);
        }
        finally
        {
            if (_process is { HasExited: false } process)
            {
                process.Kill();
                process.WaitForExit();
            }
            _process?.Dispose();
            _process = null;
        }
    }

    private async Task LaunchAsync(CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(_executablePath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(ConfigurationFile)!,
        };
        start.ArgumentList.Add(ConfigurationFile);
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Record(e.Data);
        process.ErrorDataReceived += (_, e) => Record(e.Data);
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            process.Dispose();
            throw new InvalidOperationException(
                $"Could not start '{_executablePath}': {e.Message}. Install redis-server with eng/install-prereqs.sh (as root), or set RedisServerOptions.Executable to a working redis-server.", e);
        }
        _process?.Dispose();
        _process = process;
        _processId = process.Id;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        AppDomain.CurrentDomain.ProcessExit -= KillOnHostExit;
        AppDomain.CurrentDomain.ProcessExit += KillOnHostExit;
        await WaitUntilReadyAsync(process, cancellationToken).ConfigureAwait(false);
    }

    // Ready means: it answers on our port, to our password, and it is our process (not another
    // server that happened to hold the port).
    private async Task WaitUntilReadyAsync(Process process, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        string probe = $"{ConnectionString},connectTimeout=1000,syncTimeout=2000,connectRetry=1,name=failuresynth-readiness";
        Exception? lastError = null;
        while (Stopwatch.GetElapsedTime(started) < s_readyTimeout)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false); // drains the output readers
                throw new InvalidOperationException(
                    $"redis-server (port {Port}) exited with code {process.ExitCode} before it was ready. Its last output:{Environment.NewLine}{RecentOutputText()}");
            }
            try
            {
                await using RedisConnection connection = await RedisConnection.ConnectAsync(probe, cancellationToken: cancellationToken).ConfigureAwait(false);
                RedisResult info = await connection.GetDatabase().ExecuteAsync("INFO", ["server"], cancellationToken).ConfigureAwait(false);
                if ((info.AsString() ?? "").Contains($"process_id:{process.Id.ToString(CultureInfo.InvariantCulture)}\r\n", StringComparison.Ordinal))
                    return;
                lastError = new InvalidOperationException($"another Redis server answers on port {Port}");
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                lastError = e;
            }
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
        process.Kill();
        await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        throw new InvalidOperationException(
            $"redis-server (port {Port}) did not answer an authenticated PING within {s_readyTimeout.TotalSeconds:0} s ({lastError?.Message}); it was killed. Its last output:{Environment.NewLine}{RecentOutputText()}");
    }

    private void Record(string? line)
    {
        if (line is null) return;
        lock (_outputGate)
        {
            _recentOutput.Enqueue(line);
            while (_recentOutput.Count > KeptOutputLines) _recentOutput.Dequeue();
        }
        OutputLine?.Invoke(line);
    }

    private string RecentOutputText()
    {
        IReadOnlyList<string> lines = RecentOutput;
        return lines.Count == 0 ? "(none)" : string.Join(Environment.NewLine, lines.TakeLast(30));
    }

    private string RenderConfiguration()
    {
        var text = new StringBuilder();
        text.AppendLine("# Written by FailureSynth.Hosting.Redis for a local, throw-away cache; every start rewrites it.");
        text.AppendLine("bind 127.0.0.1");
        text.AppendLine(CultureInfo.InvariantCulture, $"port {Port}");
        text.AppendLine(CultureInfo.InvariantCulture, $"requirepass {Quote(Password)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"dir {Quote(Path.GetFullPath(Options.DataDirectory))}");
        text.AppendLine("daemonize no");
        // The cache is an accelerator, not the system of record (ARCHITECTURE §5): nothing is persisted.
        text.AppendLine("appendonly no");
        text.AppendLine("save \"\"");
        text.AppendLine("logfile \"\"");
        return text.ToString();
    }

    // A double-quoted redis.conf string: backslash escapes, and \xHH for anything not printable ASCII.
    private static string Quote(string value)
    {
        var text = new StringBuilder("\"");
        foreach (byte b in Encoding.UTF8.GetBytes(value))
        {
            if (b is (byte)'"' or (byte)'\\') text.Append('\\').Append((char)b);
            else if (b is >= 0x20 and < 0x7F) text.Append((char)b);
            else text.Append("\\x").Append(b.ToString("x2", CultureInfo.InvariantCulture));
        }
        return text.Append('"').ToString();
    }

    private static void Validate(RedisServerOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
            throw new ArgumentException("RedisServerOptions.DataDirectory is empty; give the folder where redis-server may keep its config file.", nameof(options));
        if (options.Port is < 1 or > 65535)
            throw new ArgumentException($"RedisServerOptions.Port {options.Port} is not a TCP port (1-65535); leave it null to pick a free one.", nameof(options));
        if (options.Password is { } password && (password.Length == 0 || password.AsSpan().ContainsAny(",\r\n")))
            throw new ArgumentException(
                "RedisServerOptions.Password is empty or contains a comma or line break, which the connection string cannot carry; choose another, or leave it null for a random one.",
                nameof(options));
        if (string.IsNullOrWhiteSpace(options.Executable))
            throw new ArgumentException("RedisServerOptions.Executable is empty; use \"redis-server\" or a path to it.", nameof(options));
    }

    private static string FindExecutable(string executable)
    {
        if (executable.Contains(Path.DirectorySeparatorChar))
        {
            if (File.Exists(executable)) return Path.GetFullPath(executable);
        }
        else
        {
            foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                string candidate = Path.Combine(directory, executable);
                if (File.Exists(candidate)) return candidate;
            }
        }
        throw new InvalidOperationException(
            $"The Redis server executable '{executable}' was not found{(executable.Contains(Path.DirectorySeparatorChar) ? "" : " on PATH")}. " +
            "Install it with eng/install-prereqs.sh (as root; it installs redis-server), or set RedisServerOptions.Executable to its path.");
    }

    // A secret, so from the OS's cryptographic generator, never from a seeded stream.
    private static string GeneratePassword() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    private void KillOnHostExit(object? sender, EventArgs e)
    {
        try
        {
            if (_process is { HasExited: false } process) process.Kill();
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int processId, int signal);
}
