using System.Text.RegularExpressions;

namespace FailureSynth.Deploy.Tests;

/// <summary>The services' Containerfiles: multi-stage, non-root, health-checked, and what eng/build-images.sh expects.</summary>
public sealed partial class ContainerfileTests
{
    public static TheoryData<string> Services => [.. DeployFiles.Services.Keys];

    [Theory]
    [MemberData(nameof(Services))]
    public void Containerfile_builds_in_an_sdk_stage_and_runs_as_a_non_root_user_with_a_health_check(string service)
    {
        string project = DeployFiles.Services[service];
        string[] lines = Instructions(File.ReadAllText(DeployFiles.Containerfile(service)));
        string[] froms = lines.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(["FROM ${SDK_IMAGE} AS build", "FROM ${RUNTIME_IMAGE} AS runtime"], froms);
        Assert.Contains("ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0", lines);
        Assert.Contains("ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0", lines);
        Assert.Contains(lines, l => l.StartsWith($"RUN dotnet publish services/{project}/{project}.csproj -c Release -o /out", StringComparison.Ordinal));
        Assert.True(File.Exists(DeployFiles.Path("services", project, project + ".csproj")));

        // What eng/build-images.sh --local rewrites must be there, exactly once.
        string[] runtime = lines.SkipWhile(l => l != "FROM ${RUNTIME_IMAGE} AS runtime").ToArray();
        Assert.Single(runtime, "COPY --from=build /out/ /app/");
        string user = Assert.Single(runtime, l => l.StartsWith("USER ", StringComparison.Ordinal));
        Assert.Matches(UserPattern(), user);
        Assert.NotEqual("0", UserPattern().Match(user).Groups[1].Value);
        Assert.Contains(runtime, l => l.StartsWith("HEALTHCHECK ", StringComparison.Ordinal) && l.Contains("\"8080\", \"/health\"", StringComparison.Ordinal));
        Assert.Contains("EXPOSE 8080", runtime);
        Assert.Contains(runtime, l => l.Contains("ASPNETCORE_HTTP_PORTS=8080", StringComparison.Ordinal));
        Assert.Equal($"ENTRYPOINT [\"dotnet\", \"/app/{project}.dll\"]", runtime[^1]);
        // Configuration only through the environment: no settings file is copied in, no FailureSynth__ value baked.
        Assert.DoesNotContain(runtime, l => l.Contains("appsettings", StringComparison.OrdinalIgnoreCase) || l.Contains("FailureSynth__", StringComparison.Ordinal));
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
            await Assert.ThrowsAnyAsync<Exception>(() => server);
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

    [GeneratedRegex(@"\\\n\s*")]
    private static partial Regex ContinuationPattern();
}
