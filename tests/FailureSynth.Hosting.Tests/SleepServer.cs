using System.Diagnostics;
using FailureSynth.Hosting;

namespace FailureSynth.Hosting.Tests;

/// <summary>
/// A stand-in server resource for orchestrator tests: a real <c>sleep</c> process with a made-up
/// connection string, so that references, ordering and stopping of servers can be checked without Redis.
/// </summary>
internal sealed class SleepServer(string name, string connectionString) : IServerResource
{
    public string Name => name;

    public RunningSleep? Running { get; private set; }

    public Task<IRunningServer> StartAsync(ServerStartContext context, CancellationToken cancellationToken)
    {
        context.OutputLine($"sleep server {name} starting in {context.DataDirectory}");
        Running = new RunningSleep(connectionString);
        return Task.FromResult<IRunningServer>(Running);
    }

    /// <summary>The started stand-in.</summary>
    internal sealed class RunningSleep : IRunningServer
    {
        private Process _process;

        public RunningSleep(string connectionString)
        {
            ConnectionString = connectionString;
            _process = Launch();
        }

        public string ConnectionString { get; }

        public int ProcessId => _process.Id;

        public bool HasExited => _process.HasExited;

        public Task RestartAsync(CancellationToken cancellationToken)
        {
            _process = Launch();
            return Task.CompletedTask;
        }

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            Kill();
            await _process.WaitForExitAsync(cancellationToken);
        }

        public void Kill()
        {
            if (!_process.HasExited) _process.Kill();
        }

        private static Process Launch() => Process.Start(new ProcessStartInfo("/bin/sleep", "300") { UseShellExecute = false })!;
    }
}
