namespace FailureSynth.Architecture.Tests;

/// <summary>
/// The layering of docs/architecture.md, checked on the ProjectReference graph: dependencies point one way
/// (World/Imaging -> Loop.Contracts -> Loop.Curation -> Loop; Messaging -> Events; Workers -> services -> AppHost),
/// the integration events hold contracts only, no infrastructure library depends on the loop, and a service
/// reaches only what it uses (ImageSynth needs the rasteriser, not the tensor engine).
/// </summary>
public sealed class LayeringTests
{
    private static readonly ProjectGraph Graph = ProjectGraph.Repository;

    /// <summary>The deployable services: the only projects in services/.</summary>
    private static readonly string[] Services =
        ["FailureSynth.ImageSynth", "FailureSynth.QualityFilter", "FailureSynth.Student", "FailureSynth.Teacher", "FailureSynth.Trainer"];

    /// <summary>The student model: TinyVLM and the tensor engines it runs on.</summary>
    private static readonly string[] StudentModel = ["FailureSynth.Tensors", "FailureSynth.TinyVlm", "FailureSynth.TinyVlm.Torch"];

    /// <summary>The loop and everything built on it; no infrastructure library may reach any of these.</summary>
    private static readonly string[] LoopAndAbove =
        ["FailureSynth.Loop.Contracts", "FailureSynth.Loop.Curation", "FailureSynth.Loop", "FailureSynth.Events", "FailureSynth.Workers",
         "FailureSynth.Serving", "FailureSynth.Backends", "FailureSynth.Backends.Student", "FailureSynth.Fuzzing", "FailureSynth.Cli", "FailureSynth.AppHost", .. Services];

    [Fact]
    public void Events_holds_integration_event_contracts_only()
    {
        var events = Graph["FailureSynth.Events"];
        string[] allowed = ["FailureSynth.Messaging", "FailureSynth.Loop.Contracts"];
        var extra = events.References.Except(allowed).ToList();
        Assert.True(extra.Count == 0,
            $"FailureSynth.Events may reference only {string.Join(" and ", allowed)} (event base types and the loop's data records); it references {string.Join(", ", extra)}. " +
            "Code that is not an integration event (hosting, storage, handlers, the teacher) belongs in FailureSynth.Workers or the service.");
        Assert.True(events.Packages.Count == 0, $"FailureSynth.Events references packages ({string.Join(", ", events.Packages)}); contracts need none.");

        // What the events carry is plain data over ShapesWorld's types: no model, no loop logic.
        var contracts = Graph.Closure("FailureSynth.Loop.Contracts");
        var beyond = contracts.Keys.Except(["FailureSynth.World", "FailureSynth.Imaging"]).ToList();
        Assert.True(beyond.Count == 0,
            $"FailureSynth.Loop.Contracts (the data the events carry) may reach only World and Imaging; it reaches {Describe(contracts, beyond)}.");
    }

    [Theory]
    [InlineData("FailureSynth.Messaging")]
    [InlineData("FailureSynth.Caching")]
    [InlineData("FailureSynth.Imaging")]
    [InlineData("FailureSynth.World")]
    [InlineData("FailureSynth.Datasets")]
    [InlineData("FailureSynth.Tensors")]
    [InlineData("FailureSynth.TinyVlm")]
    [InlineData("FailureSynth.TinyVlm.Torch")]
    [InlineData("FailureSynth.Retrieval")]
    [InlineData("FailureSynth.Reporting")]
    public void Infrastructure_library_does_not_depend_on_the_loop(string library)
    {
        var closure = Graph.Closure(library);
        var bad = closure.Keys.Intersect(LoopAndAbove).ToList();
        Assert.True(bad.Count == 0, $"{library} is below the loop but reaches {Describe(closure, bad)}.");
    }

    [Theory]
    [InlineData("FailureSynth.Messaging")]
    [InlineData("FailureSynth.Caching")]
    public void Messaging_and_caching_know_no_domain(string library)
    {
        var closure = Graph.Closure(library);
        var bad = closure.Keys.Except(["FailureSynth.Messaging"]).ToList();
        Assert.True(bad.Count == 0, $"{library} is infrastructure (broker, cache) and may reach only FailureSynth.Messaging; it reaches {Describe(closure, bad)}.");
    }

    [Fact]
    public void Serving_serves_the_models_without_the_campaign_layer()
    {
        var closure = Graph.Closure("FailureSynth.Serving");
        var bad = closure.Keys.Intersect(["FailureSynth.Loop", "FailureSynth.Events", "FailureSynth.Workers", .. Services]).ToList();
        Assert.True(bad.Count == 0, $"FailureSynth.Serving reaches {Describe(closure, bad)}; it needs the models (TinyVlm, Loop.Curation's teacher) only.");
    }

    [Theory]
    [InlineData("FailureSynth.Loop.Contracts")]
    [InlineData("FailureSynth.Loop.Curation")]
    [InlineData("FailureSynth.Events")]
    [InlineData("FailureSynth.Workers")]
    [InlineData("FailureSynth.Serving")]
    [InlineData("FailureSynth.Backends")]
    [InlineData("FailureSynth.ImageSynth")]
    [InlineData("FailureSynth.QualityFilter")]
    [InlineData("FailureSynth.Teacher")]
    public void Reaches_no_student_model(string project)
    {
        var closure = Graph.Closure(project);
        var bad = closure.Keys.Intersect([.. StudentModel, "FailureSynth.Loop"]).ToList();
        Assert.True(bad.Count == 0, $"{project} does not run the student, yet it reaches {Describe(closure, bad)}.");
        var torch = Graph.PackageClosure(project)
            .Where(p => p.Package.StartsWith("TorchSharp", StringComparison.OrdinalIgnoreCase) || p.Package.StartsWith("libtorch", StringComparison.OrdinalIgnoreCase))
            .Select(p => $"{p.Package} via {string.Join(" -> ", p.Path)}").ToList();
        Assert.True(torch.Count == 0, $"{project} does not run the student, yet it pulls {string.Join("; ", torch)}.");
    }

    [Fact]
    public void Services_folder_holds_the_five_deployable_services_only()
    {
        var folders = Directory.GetDirectories(Path.Combine(RepositoryRoot.Path, "services")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(Services, folders);
        var inServices = Graph.Projects.Where(p => p.Folder.StartsWith("services/", StringComparison.Ordinal)).ToList();
        Assert.Equal(Services, inServices.Select(p => p.Name));
        foreach (var service in inServices)
        {
            Assert.True(service.Folder == "services/" + service.Name, $"{service.Name} is in {service.Folder}; a service is services/<name>/<name>.csproj.");
            Assert.True(service.Sdk == "Microsoft.NET.Sdk.Web", $"{service.Name} uses the SDK '{service.Sdk}'; a deployable service is a web host (Microsoft.NET.Sdk.Web).");
        }
    }

    [Fact]
    public void Src_folder_holds_libraries_only()
    {
        var libraries = Graph.Projects.Where(p => p.Folder.StartsWith("src/", StringComparison.Ordinal)).ToList();
        Assert.Contains(libraries, p => p.Name == "FailureSynth.Loop");
        foreach (var library in libraries)
        {
            Assert.True(library.Folder == "src/" + library.Name, $"{library.Name} is in {library.Folder}; a library is src/<name>/<name>.csproj.");
            Assert.True(library.Sdk == "Microsoft.NET.Sdk", $"{library.Name} in src/ uses the SDK '{library.Sdk}'; src/ holds class libraries (Microsoft.NET.Sdk), hosts go in services/ or tools/.");
            Assert.True(library.OutputType is null or "Library", $"{library.Name} in src/ has OutputType {library.OutputType}; src/ holds libraries only.");
        }
    }

    [Fact]
    public void Services_are_referenced_by_the_AppHost_and_tests_only()
    {
        foreach (var project in Graph.Projects)
        {
            if (project.Name == "FailureSynth.AppHost" || project.Folder.StartsWith("tests/", StringComparison.Ordinal)) continue;
            var services = project.References.Intersect(Services).ToList();
            Assert.True(services.Count == 0, $"{project.Name} references the service(s) {string.Join(", ", services)}; services talk over the bus, shared code goes in a library.");
        }
    }

    [Fact]
    public void Project_references_have_no_cycle()
    {
        var cycle = Graph.FindCycle();
        Assert.True(cycle is null, $"Project references form a cycle: {string.Join(" -> ", cycle ?? [])}.");
    }

    private static string Describe(IReadOnlyDictionary<string, IReadOnlyList<string>> closure, IEnumerable<string> reached) =>
        string.Join("; ", reached.Select(r => string.Join(" -> ", closure[r])));
}
