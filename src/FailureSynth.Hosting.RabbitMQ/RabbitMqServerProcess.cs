using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using FailureSynth.Hosting.Network;
using RabbitMQ.Client;

namespace FailureSynth.Hosting.RabbitMQ;

/// <summary>
/// A rabbitmq-server node run as a plain local process, isolated from any system-wide broker:
/// its own node name, AMQP and distribution ports, data, logs, config and Erlang cookie, all under
/// one data folder. Tests and the AppHost start one instead of a container.
/// </summary>
public sealed partial class RabbitMqServerProcess : IAsyncDisposable
{
    private const int KeptOutputLines = 200;
    private static readonly TimeSpan DefaultStartupTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan GracefulStopTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ForcedStopTimeout = TimeSpan.FromSeconds(10);

    // Debian and Fedora install /usr/sbin/rabbitmq-server as a wrapper that switches to the
    // 'rabbitmq' user and its /var/lib data folder; the script it wraps runs as the caller.
    private static readonly string[] KnownExecutables =
    [
        "/usr/lib/rabbitmq/bin/rabbitmq-server",
        "/usr/local/sbin/rabbitmq-server",
        "/opt/homebrew/sbin/rabbitmq-server",
        "/usr/local/opt/rabbitmq/sbin/rabbitmq-server",
    ];

    private readonly string _executable;
    private readonly TimeSpan _startupTimeout;
    private readonly string _mnesiaDirectory;
    private readonly string _logDirectory;
    private readonly string _configDirectory;
    private readonly Lock _outputLock = new();
    private readonly Queue<string> _recentOutput = new();
    private Process? _launcher;
    private IReadOnlyList<UnixProcesses.ProcessStat> _launcherDescendants = [];
    private int _processId;

    private RabbitMqServerProcess(RabbitMqServerOptions options, string executable, int amqpPort, int distributionPort, string user, string password)
    {
        _executable = executable;
        _startupTimeout = options.StartupTimeout ?? DefaultStartupTimeout;
        DataDirectory = Path.GetFullPath(options.DataDirectory);
        _mnesiaDirectory = Path.Combine(DataDirectory, "mnesia");
        _logDirectory = Path.Combine(DataDirectory, "log");
        _configDirectory = Path.Combine(DataDirectory, "config");
        AmqpPort = amqpPort;
        DistributionPort = distributionPort;
        User = user;
        Password = password;
        NodeName = $"fs-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}@localhost";
    }

    /// <summary>Each line the node writes to stdout or stderr, as it arrives (ANSI colours removed).</summary>
    public event Action<string>? OutputLine;

    public string DataDirectory { get; }
    public string NodeName { get; }
    public int AmqpPort { get; }
    public int DistributionPort { get; }
    public string User { get; }
    public string Password { get; }

    /// <summary>Operating-system id of the node's Erlang VM (beam.smp): the broker itself, not its launcher script.</summary>
    public int ProcessId => _processId;

    /// <summary><c>amqp://user:pass@127.0.0.1:port</c>, the form <c>ConnectionStrings__messaging</c> takes.</summary>
    public string ConnectionString =>
        $"amqp://{Uri.EscapeDataString(User)}:{Uri.EscapeDataString(Password)}@127.0.0.1:{AmqpPort.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>True once the node's VM is gone (stopped, killed or crashed).</summary>
    public bool HasExited => _launcher is null || (_launcher.HasExited && !UnixProcesses.IsAlive(_processId));

    /// <summary>The last lines of output (at most 200), oldest first.</summary>
    public IReadOnlyList<string> RecentOutput
    {
        get
        {
            lock (_outputLock) return [.. _recentOutput];
        }
    }

    /// <summary>
    /// Starts a node and returns once it accepts an AMQP login with its credentials.
    /// Throws with the node's last output lines when it exits or does not get there in time.
    /// </summary>
    public static async Task<RabbitMqServerProcess> StartAsync(RabbitMqServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
            throw new ArgumentException("RabbitMqServerOptions.DataDirectory is empty; give a folder for the node's data (it is created when missing).", nameof(options));
        if (options.AmqpPort is { } port && port is < 1 or > 65535)
            throw new ArgumentException($"RabbitMqServerOptions.AmqpPort {port} is not a TCP port; give 1-65535, or null for a free port.", nameof(options));
        if (options.StartupTimeout is { } timeout && timeout <= TimeSpan.Zero)
            throw new ArgumentException($"RabbitMqServerOptions.StartupTimeout {timeout} must be positive.", nameof(options));
        string user = options.User ?? $"fs-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
        string password = options.Password ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        RequireConfigSafe(user, nameof(options.User));
        RequireConfigSafe(password, nameof(options.Password));
        string executable = ResolveExecutable(options.ServerExecutable);

        (int amqpPort, int distributionPort) = FreePorts(options.AmqpPort);
        var server = new RabbitMqServerProcess(options, executable, amqpPort, distributionPort, user, password);
        server.WriteConfiguration();
        await server.LaunchAndWaitUntilReadyAsync(cancellationToken).ConfigureAwait(false);
        return server;
    }

    /// <summary>
    /// Stops the node gracefully (SIGTERM, as its launcher script expects), then kills whatever of
    /// its process tree is left after 30 s. A shared epmd daemon is not part of the tree and stays.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        Process? launcher = _launcher;
        if (launcher is null) return;
        if (_processId == 0 && !launcher.HasExited) _processId = FindVirtualMachine(launcher) ?? 0; // start failed midway
        RememberNodeProcesses();
        if (!launcher.HasExited) UnixProcesses.Signal(launcher.Id, UnixProcesses.SigTerm);
        else if (UnixProcesses.IsAlive(_processId)) UnixProcesses.Signal(_processId, UnixProcesses.SigTerm);

        if (!await WaitUntilGoneAsync(launcher, GracefulStopTimeout, cancellationToken).ConfigureAwait(false))
        {
            KillRemembered(launcher);
            if (!await WaitUntilGoneAsync(launcher, ForcedStopTimeout, cancellationToken).ConfigureAwait(false))
                throw new InvalidOperationException(
                    $"RabbitMQ node {NodeName} (VM pid {_processId}) did not exit after SIGKILL within {ForcedStopTimeout.TotalSeconds:0} s.");
        }
        // Helpers such as erl_child_setup and inet_gethost exit with the VM; make sure of it.
        foreach (UnixProcesses.ProcessStat leftover in _launcherDescendants.Where(UnixProcesses.IsStillRunning))
            UnixProcesses.Signal(leftover.Pid, UnixProcesses.SigKill);
        launcher.Dispose();
        _launcher = null;
    }

    /// <summary>
    /// Crash test: SIGKILL of the node's VM, no shutdown at all; returns once it is gone. The data
    /// stays for <see cref="RestartAsync"/>. A node that already exited is left as it is.
    /// </summary>
    public void Kill()
    {
        Process launcher = _launcher
            ?? throw new InvalidOperationException($"RabbitMQ node {NodeName} was stopped; restart it before killing it.");
        RememberNodeProcesses();
        if (UnixProcesses.IsAlive(_processId)) UnixProcesses.Signal(_processId, UnixProcesses.SigKill);
        else if (!launcher.HasExited) launcher.Kill(entireProcessTree: true); // the VM is gone or never came up
        var deadline = Stopwatch.StartNew();
        // The launcher script exits as soon as its VM is gone; wait for both so HasExited is true on return.
        while ((UnixProcesses.IsAlive(_processId) || !launcher.HasExited) && deadline.Elapsed < ForcedStopTimeout)
            Thread.Sleep(20);
    }

    /// <summary>
    /// Stops the node (if still running) and starts it again with the same node name, ports,
    /// credentials and data: durable queues and their persistent messages survive.
    /// </summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        await StopAsync(cancellationToken).ConfigureAwait(false);
        await LaunchAndWaitUntilReadyAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        OutputLine = null;
    }

    private static void RequireConfigSafe(string value, string option)
    {
        // rabbitmq.conf takes the rest of the line as the value, and the connection string must
        // stay readable: restrict to characters that need no escaping in either.
        if (value.Length == 0 || !ConfigSafeText().IsMatch(value))
            throw new ArgumentException(
                $"RabbitMqServerOptions.{option} may contain only letters, digits and '-', '_', '.', '~' (and must not be empty); choose another value, or leave it null to generate one.",
                option);
    }

    private static string ResolveExecutable(string? configured)
    {
        if (configured is not null)
        {
            if (File.Exists(configured)) return Path.GetFullPath(configured);
            throw new FileNotFoundException(
                $"RabbitMqServerOptions.ServerExecutable '{configured}' does not exist; point it at the rabbitmq-server script, or leave it null to use the installed one (eng/install-prereqs.sh installs it).",
                configured);
        }
        foreach (string candidate in KnownExecutables)
            if (File.Exists(candidate)) return candidate;
        foreach (string folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(folder, "rabbitmq-server");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException(
            $"rabbitmq-server was not found (looked in {string.Join(", ", KnownExecutables)} and on PATH). " +
            "Install the OS prerequisites with eng/install-prereqs.sh (as root), or set RabbitMqServerOptions.ServerExecutable.");
    }

    private static (int Amqp, int Distribution) FreePorts(int? amqpPort)
    {
        // Two distinct free ports; a fixed AMQP port takes the place of the first unless it is one of them.
        IReadOnlyList<int> free = LoopbackPorts.FreePorts(2);
        int amqp = amqpPort ?? free[0];
        return (amqp, free[0] == amqp ? free[1] : free[0]);
    }

    private string ConfigFile => Path.Combine(_configDirectory, "rabbitmq.conf");
    private string EnabledPluginsFile => Path.Combine(_configDirectory, "enabled_plugins");
    private string EnvironmentFile => Path.Combine(_configDirectory, "rabbitmq-env.conf");
    private string AdvancedConfigFile => Path.Combine(_configDirectory, "advanced.config");
    private string PidFile => Path.Combine(_mnesiaDirectory, NodeName + ".pid");

    private void WriteConfiguration()
    {
        Directory.CreateDirectory(_mnesiaDirectory);
        Directory.CreateDirectory(_logDirectory);
        Directory.CreateDirectory(_configDirectory);
        string port = AmqpPort.ToString(CultureInfo.InvariantCulture);
        File.WriteAllText(ConfigFile,
            $"""
            # Written by FailureSynth for node {NodeName}; rewritten on every start.
            default_user = {User}
            default_pass = {Password}
            listeners.tcp.default = 127.0.0.1:{port}
            loopback_users = none
            log.console = true
            log.console.level = info
            log.file.level = info

            """);
        // No plugins: the management UI is not needed and each plugin slows the boot.
        File.WriteAllText(EnabledPluginsFile, "[].\n");
        // An empty env file shadows /etc/rabbitmq/rabbitmq-env.conf, which would otherwise be sourced.
        File.WriteAllText(EnvironmentFile, "");
    }

    private async Task LaunchAndWaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        _processId = 0;
        _launcherDescendants = [];
        var start = new ProcessStartInfo(_executable)
        {
            WorkingDirectory = DataDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        // The node must see only our settings, not a developer's RABBITMQ_* variables.
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("RABBITMQ_", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(name);
        start.Environment["HOME"] = DataDirectory; // Erlang keeps its cookie in $HOME
        start.Environment["RABBITMQ_NODENAME"] = NodeName;
        start.Environment["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1";
        start.Environment["RABBITMQ_NODE_PORT"] = AmqpPort.ToString(CultureInfo.InvariantCulture);
        start.Environment["RABBITMQ_DIST_PORT"] = DistributionPort.ToString(CultureInfo.InvariantCulture);
        start.Environment["RABBITMQ_MNESIA_BASE"] = _mnesiaDirectory;
        start.Environment["RABBITMQ_LOG_BASE"] = _logDirectory;
        start.Environment["RABBITMQ_CONFIG_FILE"] = ConfigFile;
        start.Environment["RABBITMQ_ADVANCED_CONFIG_FILE"] = AdvancedConfigFile;
        start.Environment["RABBITMQ_CONF_ENV_FILE"] = EnvironmentFile;
        start.Environment["RABBITMQ_ENABLED_PLUGINS_FILE"] = EnabledPluginsFile;
        start.Environment["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}";
        start.Environment["ERL_CRASH_DUMP"] = Path.Combine(DataDirectory, "erl_crash.dump");

        var launcher = new Process { StartInfo = start };
        launcher.OutputDataReceived += (_, e) => { if (e.Data is not null) Record(e.Data); };
        launcher.ErrorDataReceived += (_, e) => { if (e.Data is not null) Record(e.Data); };
        try
        {
            launcher.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            launcher.Dispose();
            throw new InvalidOperationException(
                $"Could not run {_executable}: {e.Message}. Install the OS prerequisites with eng/install-prereqs.sh (as root), or set RabbitMqServerOptions.ServerExecutable.", e);
        }
        launcher.BeginOutputReadLine();
        launcher.BeginErrorReadLine();
        _launcher = launcher;

        try
        {
            await WaitUntilReadyAsync(launcher, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        _processId = FindVirtualMachine(launcher)
            ?? throw new InvalidOperationException($"RabbitMQ node {NodeName} accepts connections, but its Erlang VM process was not found (no {PidFile}).");
    }

    private async Task WaitUntilReadyAsync(Process launcher, CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory
        {
            HostName = "127.0.0.1",
            Port = AmqpPort,
            UserName = User,
            Password = Password,
            AutomaticRecoveryEnabled = false,
            RequestedConnectionTimeout = TimeSpan.FromSeconds(2),
            ClientProvidedName = "failuresynth-readiness-probe",
        };
        var elapsed = Stopwatch.StartNew();
        Exception? lastError = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (launcher.HasExited)
            {
                // Let the output readers drain the pipe so the message shows why it stopped.
                await Task.Delay(200, CancellationToken.None).ConfigureAwait(false);
                throw new InvalidOperationException(
                    $"rabbitmq-server ({_executable}) exited with code {launcher.ExitCode} before accepting connections on port {AmqpPort}. Last output:{Environment.NewLine}{string.Join(Environment.NewLine, RecentOutput)}");
            }
            if (elapsed.Elapsed > _startupTimeout)
                throw new TimeoutException(
                    $"RabbitMQ node {NodeName} did not accept an AMQP login on 127.0.0.1:{AmqpPort} within {_startupTimeout.TotalSeconds:0} s (last error: {lastError?.Message}). Last output:{Environment.NewLine}{string.Join(Environment.NewLine, RecentOutput)}");
            try
            {
                await using IConnection probe = await factory.CreateConnectionAsync(cancellationToken).ConfigureAwait(false);
                await probe.CloseAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                lastError = e;
            }
            await Task.Delay(250, cancellationToken).ConfigureAwait(false);
        }
    }

    private int? FindVirtualMachine(Process launcher)
    {
        // The node writes its VM's pid file during boot; the process tree is the fallback.
        try
        {
            string text = File.ReadAllText(PidFile).Trim();
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && UnixProcesses.IsAlive(pid)) return pid;
        }
        catch (IOException)
        {
            // not written: fall through to the process tree
        }
        return UnixProcesses.Descendants(launcher.Id).FirstOrDefault(p => p.Command == "beam.smp")?.Pid;
    }

    private void RememberNodeProcesses()
    {
        // Once the launcher exits, its children are re-parented and can no longer be found from it.
        if (_launcher is { HasExited: false } launcher)
        {
            IReadOnlyList<UnixProcesses.ProcessStat> now = UnixProcesses.Descendants(launcher.Id);
            if (now.Count > 0) _launcherDescendants = now;
        }
    }

    private void KillRemembered(Process launcher)
    {
        if (UnixProcesses.IsAlive(_processId)) UnixProcesses.Signal(_processId, UnixProcesses.SigKill);
        foreach (UnixProcesses.ProcessStat process in _launcherDescendants.Where(UnixProcesses.IsStillRunning))
            UnixProcesses.Signal(process.Pid, UnixProcesses.SigKill);
        if (!launcher.HasExited) launcher.Kill(entireProcessTree: true);
    }

    private async Task<bool> WaitUntilGoneAsync(Process launcher, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Polled rather than WaitForExitAsync: that also waits for the output pipe to close,
        // which an orphaned VM would keep open.
        var elapsed = Stopwatch.StartNew();
        while (elapsed.Elapsed < timeout)
        {
            if (launcher.HasExited && !UnixProcesses.IsAlive(_processId)) return true;
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
        return launcher.HasExited && !UnixProcesses.IsAlive(_processId);
    }

    private void Record(string rawLine)
    {
        string line = AnsiEscape().Replace(rawLine, "");
        lock (_outputLock)
        {
            _recentOutput.Enqueue(line);
            while (_recentOutput.Count > KeptOutputLines) _recentOutput.Dequeue();
        }
        try
        {
            OutputLine?.Invoke(line);
        }
        catch (Exception e)
        {
            // This runs on the pipe reader: a throwing listener must not stop the capture or the process.
            lock (_outputLock) _recentOutput.Enqueue($"[OutputLine listener threw {e.GetType().Name}: {e.Message}]");
        }
    }

    [GeneratedRegex(@"\x1B\[[0-9;]*[A-Za-z]")]
    private static partial Regex AnsiEscape();

    [GeneratedRegex(@"^[A-Za-z0-9\-_.~]+$")]
    private static partial Regex ConfigSafeText();
}
