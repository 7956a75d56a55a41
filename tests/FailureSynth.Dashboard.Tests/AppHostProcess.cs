using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace FailureSynth.Dashboard.Tests;

/// <summary>
/// The built AppHost run as a process, as <c>dotnet run --project FailureSynth.AppHost</c> runs it, on free loopback
/// ports of its own (the dashboard, its OTLP and resource-service endpoints), so that other runs on the machine do not collide.
/// </summary>
public sealed partial class AppHostProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource<Uri> _login = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<Uri> _campaignApi = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _healthy = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private AppHostProcess(Process process) => _process = process;

    public string Output
    {
        get { lock (_gate) return string.Join('\n', _lines); }
    }

    public static AppHostProcess Start(string workingDirectory, string apiKey, IEnumerable<string> arguments)
    {
        string configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name; // bin/<Configuration>/net10.0
        string appHost = Path.Combine(RepositoryRoot(), "FailureSynth.AppHost", "bin", configuration, "net10.0", "FailureSynth.AppHost.dll");
        if (!File.Exists(appHost)) throw new FileNotFoundException($"Build the AppHost first ({appHost} is missing).", appHost);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        start.ArgumentList.Add(appHost);
        foreach (string a in arguments) start.ArgumentList.Add(a);
        // What launchSettings.json gives `dotnet run`, on ports free now.
        start.Environment["DOTNET_ENVIRONMENT"] = "Development";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["ASPNETCORE_URLS"] = $"http://localhost:{FreePort()}";
        start.Environment["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = $"http://localhost:{FreePort()}";
        start.Environment["ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL"] = $"http://localhost:{FreePort()}";
        start.Environment["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = "true";
        start.Environment["FAILURESYNTH_API_KEY"] = apiKey;
        var process = Process.Start(start)!;
        var host = new AppHostProcess(process);
        process.OutputDataReceived += host.Collect;
        process.ErrorDataReceived += host.Collect;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) =>
        {
            var exited = new InvalidOperationException($"The AppHost exited (code {process.ExitCode}) before it was up:\n{host.Output}");
            host._login.TrySetException(exited);
            host._campaignApi.TrySetException(exited);
            host._healthy.TrySetException(exited);
        };
        return host;
    }

    private void Collect(object sender, DataReceivedEventArgs e)
    {
        if (e.Data is null) return;
        lock (_gate) _lines.Add(e.Data);
        if (LoginLine().Match(e.Data) is { Success: true } login) _login.TrySetResult(new Uri(login.Groups[1].Value));
        if (CampaignApiLine().Match(e.Data) is { Success: true } api) _campaignApi.TrySetResult(new Uri(api.Groups[1].Value));
        if (e.Data.Contains("[apphost] all ", StringComparison.Ordinal) && e.Data.Contains(" resources healthy ", StringComparison.Ordinal)) _healthy.TrySetResult();
    }

    /// <summary>The dashboard's login address, with its token, as the AppHost prints it.</summary>
    public Task<Uri> LoginUrlAsync(TimeSpan timeout) => _login.Task.WaitAsync(timeout);

    public Task<Uri> CampaignApiAsync(TimeSpan timeout) => _campaignApi.Task.WaitAsync(timeout);

    public Task HealthyAsync(TimeSpan timeout) => _healthy.Task.WaitAsync(timeout);

    /// <summary>SIGINT, as Ctrl+C: Aspire stops every resource, then exits; killed if it has not after a minute.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            using (var kill = Process.Start("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
            using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            try
            {
                await _process.WaitForExitAsync(patience.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FailureSynth.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("FailureSynth.sln not found above the test's folder.");
    }

    [GeneratedRegex(@"Login to the dashboard at (\S+)")]
    private static partial Regex LoginLine();

    [GeneratedRegex(@"\[apphost\] campaign API: (\S+)")]
    private static partial Regex CampaignApiLine();
}
