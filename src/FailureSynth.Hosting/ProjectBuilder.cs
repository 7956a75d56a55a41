namespace FailureSynth.Hosting;

/// <summary>
/// Finds a project's file, builds it once with <c>dotnet build</c> and asks MSBuild where its
/// assembly is, so that replicas start from the built output in about a second instead of each
/// running <c>dotnet run</c>.
/// </summary>
internal static class ProjectBuilder
{
    private const int BuildLinesShown = 30;

    /// <summary>The .csproj of a project resource: the path itself, or the one project file in a given folder.</summary>
    public static string ResolveProjectFile(ProjectResource project, string projectDirectory)
    {
        string path = Path.GetFullPath(project.ProjectPath, projectDirectory);
        if (Directory.Exists(path))
        {
            string[] candidates = Directory.GetFiles(path, "*.csproj");
            if (candidates.Length == 1) return candidates[0];
            throw new DistributedApplicationException(
                $"Resource '{project.Name}': the folder {path} holds {candidates.Length} .csproj files; pass the path of the project file itself.");
        }
        if (!File.Exists(path))
            throw new DistributedApplicationException(
                $"Resource '{project.Name}': project file {path} does not exist. Check the path given to AddProject " +
                $"(a relative path is resolved against {projectDirectory}, the AppHost's project directory).");
        return path;
    }

    /// <summary>Builds the project (unless <paramref name="skipBuild"/>) and returns the path of its built assembly.</summary>
    public static async Task<string> BuildAsync(string resource, string projectFile, string configuration, bool skipBuild, ReplicaLog log, CancellationToken cancellationToken)
    {
        if (!skipBuild)
        {
            log.Write(LogStream.Orchestrator, $"dotnet build {projectFile} -c {configuration}");
            // No build servers: the AppHost must leave no compiler or MSBuild node processes behind.
            (int code, IReadOnlyList<string> buildLines) = await RunToolAsync(
                ["build", projectFile, "-c", configuration, "-nologo", "--disable-build-servers"], projectFile, log, cancellationToken).ConfigureAwait(false);
            if (code != 0)
                throw new DistributedApplicationException(
                    $"Resource '{resource}': building {projectFile} failed (dotnet build exit code {code}). Fix the errors and start again; the last build lines were:{Environment.NewLine}" +
                    string.Join(Environment.NewLine, buildLines.TakeLast(BuildLinesShown).Select(l => "    " + l)));
        }
        (int propertyCode, IReadOnlyList<string> propertyLines) = await RunToolAsync(
            ["msbuild", projectFile, "-nologo", $"-p:Configuration={configuration}", "-getProperty:TargetPath"], projectFile, null, cancellationToken).ConfigureAwait(false);
        string output = string.Join(Environment.NewLine, propertyLines);
        string targetPath = output.Trim();
        if (propertyCode != 0 || targetPath.Length == 0)
            throw new DistributedApplicationException(
                $"Resource '{resource}': MSBuild could not tell where {projectFile} builds to (exit code {propertyCode}):{Environment.NewLine}{output}");
        if (!File.Exists(targetPath))
            throw new DistributedApplicationException(
                $"Resource '{resource}': {targetPath} does not exist, so {projectFile} has not been built in configuration {configuration}. " +
                "Build it, or start the AppHost without --no-build.");
        return targetPath;
    }

    /// <summary>Runs the dotnet CLI in its own process group; returns its exit code and its output lines.</summary>
    private static async Task<(int ExitCode, IReadOnlyList<string> Lines)> RunToolAsync(IReadOnlyList<string> args, string projectFile, ReplicaLog? log, CancellationToken cancellationToken)
    {
        var lines = new List<string>();
        var launch = new ProcessLaunch(DotNetHost.Path, args, Path.GetDirectoryName(projectFile)!, Environments.Inherited());
        using ChildProcess tool = ChildProcess.Start(launch, (stream, line) =>
        {
            lock (lines) lines.Add(line);
            log?.Write(stream, line);
        });
        try
        {
            int code = await tool.Exited.WaitAsync(cancellationToken).ConfigureAwait(false);
            await tool.DrainAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            lock (lines) return (code, [.. lines]);
        }
        finally
        {
            tool.Kill();
        }
    }
}

/// <summary>Where the <c>dotnet</c> host is: the one that runs the AppHost's tools when known, else the one on PATH.</summary>
internal static class DotNetHost
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        // Set by the dotnet CLI for the processes it starts (dotnet run, dotnet test).
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath)) return hostPath;
        string name = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        if (Environment.ProcessPath is { } processPath && System.IO.Path.GetFileName(processPath) == name) return processPath;
        return Environments.FindOnPath(name)
            ?? (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root && File.Exists(System.IO.Path.Combine(root, name))
                ? System.IO.Path.Combine(root, name)
                : throw new DistributedApplicationException("The dotnet host was not found on PATH nor in DOTNET_ROOT; install the .NET SDK or put dotnet on PATH."));
    }
}
