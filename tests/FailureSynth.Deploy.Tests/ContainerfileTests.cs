using System.Text.RegularExpressions;

namespace FailureSynth.Deploy.Tests;

/// <summary>The services' Containerfiles: multi-stage, non-root, health-checked, and what eng/build-images.sh expects.</summary>
public sealed partial class ContainerfileTests
{
    [Fact]
    public void Containerfile_builds_in_an_sdk_stage_and_runs_as_a_non_root_user_with_a_health_check()
    {
        string[] lines = Instructions(File.ReadAllText(DeployFiles.Containerfile));
        string[] froms = lines.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(["FROM ${SDK_IMAGE} AS build", "FROM ${RUNTIME_IMAGE} AS runtime"], froms);
        Assert.Contains("ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0", lines);
        Assert.Contains("ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0", lines);
        Assert.Contains(lines, l => l.StartsWith("RUN dotnet publish services/FailureSynth.${SERVICE}/FailureSynth.${SERVICE}.csproj -c Release -o /out", StringComparison.Ordinal));

        // What eng/build-images.sh --local rewrites must be there, exactly once.
        string[] runtime = lines.SkipWhile(l => l != "FROM ${RUNTIME_IMAGE} AS runtime").ToArray();
        Assert.Equal(2, lines.Count(l => l == "ARG SERVICE")); // an ARG is scoped to its stage: both stages need it
        Assert.Contains("ARG SERVICE", runtime);
        Assert.Single(runtime, "COPY --from=build /out/ /app/");
        string user = Assert.Single(runtime, l => l.StartsWith("USER ", StringComparison.Ordinal));
        Assert.Matches(UserPattern(), user);
        Assert.NotEqual("0", UserPattern().Match(user).Groups[1].Value);
        Assert.Contains(runtime, l => l.StartsWith("HEALTHCHECK ", StringComparison.Ordinal) && l.Contains("\"8080\", \"/health\"", StringComparison.Ordinal));
        Assert.Contains("EXPOSE 8080", runtime);
        Assert.Contains(runtime, l => l.Contains("ASPNETCORE_HTTP_PORTS=8080", StringComparison.Ordinal) && l.Contains("FAILURESYNTH_SERVICE=${SERVICE}", StringComparison.Ordinal));
        // exec, so that the service is the container's main process and receives SIGTERM.
        Assert.Equal("ENTRYPOINT [\"/bin/sh\", \"-c\", \"exec dotnet \\\"/app/FailureSynth.${FAILURESYNTH_SERVICE}.dll\\\" \\\"$@\\\"\", \"failuresynth\"]", runtime[^1]);
        // Configuration only through the environment: no settings file is copied in, no FailureSynth__ value baked.
        Assert.DoesNotContain(runtime, l => l.Contains("appsettings", StringComparison.OrdinalIgnoreCase) || l.Contains("FailureSynth__", StringComparison.Ordinal));
    }

    [Fact]
    public void Containerfile_accepts_exactly_the_five_services_and_each_has_a_project()
    {
        string text = File.ReadAllText(DeployFiles.Containerfile);
        Match guard = ServiceGuardPattern().Match(text);
        Assert.True(guard.Success, "deploy/Containerfile must refuse an unknown SERVICE before publishing");
        string[] accepted = guard.Groups[1].Value.Split('|');
        Assert.Equal(DeployFiles.Services.Values.Select(p => p["FailureSynth.".Length..]).Order(), accepted.Order());
        foreach (string project in DeployFiles.Services.Values)
            Assert.True(File.Exists(DeployFiles.Path("services", project, project + ".csproj")), $"services/{project}/{project}.csproj is missing");
        // No per-service Containerfile left to drift from this one.
        Assert.Empty(Directory.GetFiles(DeployFiles.Path("services"), "Containerfile", SearchOption.AllDirectories));
    }

    [Fact]
    public void Containerfile_entry_point_runs_the_named_service_and_passes_arguments_on()
    {
        // The ENTRYPOINT's shell line, run by a real /bin/sh with `dotnet` replaced by echo: what the container would exec.
        string[] lines = Instructions(File.ReadAllText(DeployFiles.Containerfile));
        string entry = lines.Single(l => l.StartsWith("ENTRYPOINT ", StringComparison.Ordinal))["ENTRYPOINT ".Length..];
        string[] argv = System.Text.Json.JsonSerializer.Deserialize<string[]>(entry)!;
        Assert.Equal(["/bin/sh", "-c"], argv[..2]);
        string script = argv[2].Replace("exec dotnet", "exec echo", StringComparison.Ordinal);
        var (code, stdout, stderr) = DeployFiles.Run("sh", ["-c", script, argv[3], "--flag", "two words"],
            new Dictionary<string, string> { ["FAILURESYNTH_SERVICE"] = "QualityFilter" });
        Assert.True(code == 0, stderr);
        Assert.Equal("/app/FailureSynth.QualityFilter.dll --flag two words", stdout.Trim());
    }

    [Fact]
    public void Health_check_script_speaks_http_with_bash_alone()
    {
        string script = File.ReadAllText(DeployFiles.Path("deploy", "healthcheck.sh"));
        Assert.StartsWith("#!/bin/bash\n", script);
        Assert.Contains("/dev/tcp/127.0.0.1/", script);
        var (code, _, stderr) = DeployFiles.Run("bash", ["-n", DeployFiles.Path("deploy", "healthcheck.sh")]);
        Assert.True(code == 0, stderr);
    }

    [Fact]
    public async Task Health_check_script_passes_on_200_and_fails_otherwise()
    {
        // A real HTTP listener on a free port answers /health with 200 and anything else with 503.
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var server = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var client = await listener.AcceptTcpClientAsync(stop.Token);
                var stream = client.GetStream();
                var reader = new StreamReader(stream);
                string request = await reader.ReadLineAsync(stop.Token) ?? "";
                string status = request.StartsWith("GET /health ", StringComparison.Ordinal) ? "200 OK" : "503 Service Unavailable";
                byte[] reply = System.Text.Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                await stream.WriteAsync(reply, stop.Token);
            }
        });
        try
        {
            string script = DeployFiles.Path("deploy", "healthcheck.sh");
            Assert.Equal(0, DeployFiles.Run("bash", [script, port.ToString(System.Globalization.CultureInfo.InvariantCulture), "/health"]).ExitCode);
            var unhealthy = DeployFiles.Run("bash", [script, port.ToString(System.Globalization.CultureInfo.InvariantCulture), "/other"]);
            Assert.Equal(1, unhealthy.ExitCode);
            Assert.Contains("503", unhealthy.Stderr);
        }
        finally
        {
            await stop.CancelAsync();
            listener.Stop();
            // The server ends either at its loop's check (cancelled between requests) or inside the accept it was waiting in.
            try { await server; }
            catch (Exception e) when (e is OperationCanceledException or System.Net.Sockets.SocketException or ObjectDisposedException) { }
        }
        // Nothing listening: fails too.
        Assert.NotEqual(0, DeployFiles.Run("bash", [DeployFiles.Path("deploy", "healthcheck.sh"), port.ToString(System.Globalization.CultureInfo.InvariantCulture)]).ExitCode);
    }

    /// <summary>The Containerfile's instructions, one per line, continuation lines joined and comments dropped.</summary>
    private static string[] Instructions(string text) =>
        ContinuationPattern().Replace(text, " ").Split('\n').Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();

    [GeneratedRegex(@"^USER ([0-9]+):([0-9]+)$")]
    private static partial Regex UserPattern();

    [GeneratedRegex(@"case ""\$SERVICE"" in ([A-Za-z|]+)\)")]
    private static partial Regex ServiceGuardPattern();

    [GeneratedRegex(@"\\\n\s*")]
    private static partial Regex ContinuationPattern();
}
