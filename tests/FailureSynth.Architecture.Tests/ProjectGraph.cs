using System.Xml.Linq;

namespace FailureSynth.Architecture.Tests;

/// <summary>One project of the solution as its .csproj declares it.</summary>
/// <param name="Name">The file name without .csproj (project names are unique in this repository).</param>
/// <param name="Folder">The folder of the .csproj relative to the repository root, with '/' separators.</param>
public sealed record ProjectFile(string Name, string Folder, string Sdk, string? OutputType, IReadOnlyList<string> References, IReadOnlyList<string> Packages);

/// <summary>
/// The ProjectReference graph of every .csproj in the repository (build outputs excluded), read from the XML,
/// so a rule is checked against what the sources say, whether or not they have been restored or built.
/// </summary>
public sealed class ProjectGraph
{
    private readonly Dictionary<string, ProjectFile> _projects;

    private ProjectGraph(Dictionary<string, ProjectFile> projects) => _projects = projects;

    public static ProjectGraph Repository { get; } = Load(RepositoryRoot.Path);

    public IEnumerable<ProjectFile> Projects => _projects.Values.OrderBy(p => p.Name, StringComparer.Ordinal);

    public ProjectFile this[string name] =>
        _projects.TryGetValue(name, out var p) ? p : throw new KeyNotFoundException($"No project {name} in the repository (the layering rules name it; update them if it was renamed).");

    public static ProjectGraph Load(string root)
    {
        var projects = new Dictionary<string, ProjectFile>(StringComparer.Ordinal);
        foreach (string file in Directory.EnumerateFiles(root, "*.csproj", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            if (relative.Split('/').Any(part => part is "bin" or "obj" or "artifacts" or "node_modules" || part.StartsWith('.'))) continue;
            var xml = XDocument.Load(file).Root!;
            string directory = Path.GetDirectoryName(file)!;
            var references = xml.Descendants("ProjectReference")
                .Select(r => Path.GetFileNameWithoutExtension(Path.GetFullPath(Path.Combine(directory, r.Attribute("Include")!.Value.Replace('\\', '/')))))
                .ToList();
            var packages = xml.Descendants("PackageReference").Select(r => r.Attribute("Include")!.Value).ToList();
            string name = Path.GetFileNameWithoutExtension(file);
            var project = new ProjectFile(name, Path.GetDirectoryName(relative)!.Replace('\\', '/'), xml.Attribute("Sdk")?.Value ?? "",
                xml.Descendants("OutputType").Select(e => e.Value).LastOrDefault(), references, packages);
            if (!projects.TryAdd(name, project))
                throw new InvalidOperationException($"Two projects are named {name}: {projects[name].Folder} and {project.Folder}.");
        }
        return new ProjectGraph(projects);
    }

    /// <summary>
    /// Every project <paramref name="name"/> reaches through ProjectReference, each with the chain that reaches it
    /// (breadth first, so the chain is a shortest one), the project itself excluded.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Closure(string name)
    {
        var paths = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var queue = new Queue<IReadOnlyList<string>>();
        queue.Enqueue([this[name].Name]);
        while (queue.Count > 0)
        {
            var path = queue.Dequeue();
            foreach (string next in this[path[^1]].References)
            {
                if (next == name || paths.ContainsKey(next)) continue;
                IReadOnlyList<string> longer = [.. path, next];
                paths[next] = longer;
                queue.Enqueue(longer);
            }
        }
        return paths;
    }

    /// <summary>The packages referenced by <paramref name="name"/> or any project it reaches, each with the project that references it.</summary>
    public IEnumerable<(string Package, IReadOnlyList<string> Path)> PackageClosure(string name)
    {
        var self = this[name];
        foreach (string package in self.Packages) yield return (package, [self.Name]);
        foreach (var (project, path) in Closure(name))
            foreach (string package in this[project].Packages)
                yield return (package, path);
    }

    /// <summary>A cycle of project references, or null when there is none.</summary>
    public IReadOnlyList<string>? FindCycle()
    {
        foreach (var project in Projects)
        {
            var closure = Closure(project.Name);
            foreach (string reached in closure.Keys)
                if (this[reached].References.Contains(project.Name))
                    return [.. closure[reached], project.Name];
        }
        return null;
    }
}

/// <summary>The repository's root: the folder above the test binaries that holds FailureSynth.sln.</summary>
public static class RepositoryRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "FailureSynth.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No FailureSynth.sln above {AppContext.BaseDirectory}.");
    }
}
