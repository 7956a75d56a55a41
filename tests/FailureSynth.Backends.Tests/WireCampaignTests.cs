using System.Globalization;
using FailureSynth.Backends;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Common;
using FailureSynth.Loop.Stages;
using FailureSynth.Loop.Teacher;
using FailureSynth.Serving;
using FailureSynth.Tensors;
using FailureSynth.TinyVlm;
using FailureSynth.TinyVlm.Training;
using FailureSynth.TinyVlm.Vocabulary;
using FailureSynth.World;
using Microsoft.AspNetCore.Builder;
using Xunit.Abstractions;

namespace FailureSynth.Backends.Tests;

/// <summary>A small trained student (trained once per test run, in seconds) and a scratch folder.</summary>
public sealed class SmallStudentFixture : IDisposable
{
    public SmallStudentFixture()
    {
        Directory.CreateDirectory(Root);
        var samples = Enumerable.Range(0, 400).Select(i => new WorldGenerator(Profiles.BaseSkewed).Generate(1, i)).ToList();
        var examples = StudentTraining.Examples(samples);
        var context = ComputeContext.Create(2, preferNativeBlas: false);
        var student = TinyVlmStudent.Create(context, TokenVocabulary.Build(examples.SelectMany(e => e.Steps.Select(s => s.Question).Prepend(e.Question))), 1);
        StudentTrainer.Train(student, examples, new TrainingOptions(40, 1));
        student.Save(Checkpoint);
    }

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "fs-backends-tests-" + Guid.NewGuid().ToString("N"));
    public string Checkpoint => Path.Combine(Root, "small.safetensors");

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

/// <summary>
/// The whole loop over the wire: a campaign whose teacher is Semantic Kernel pointed at our served embedded teacher and whose
/// student is the OpenAI backend pointed at our served TinyVLM gives the embedded campaign's dataset and accuracies.
/// </summary>
public sealed class WireCampaignTests(SmallStudentFixture fixture, ITestOutputHelper output) : IClassFixture<SmallStudentFixture>
{
    private const int PriorSamples = 3000;

    private string Yaml(string extraTeacher = "", string extraStudent = "") => $$"""
        name: wire
        seed: 3
        threads: 2
        iterations: 1
        student: { checkpoint: {{fixture.Checkpoint}}{{extraStudent}} }
        validation: { profile: balanced, count: 90, seed: 101 }
        test: { profile: balanced, count: 60, seed: 2 }
        budget: { failures: 30, samples: 40, train_steps: 3 }
        teacher: { prior_samples: {{PriorSamples}}{{extraTeacher}} }
        """;

    [Fact]
    public async Task Campaign_over_the_wire_gives_the_embedded_manifest_and_accuracies()
    {
        var embeddedWatch = System.Diagnostics.Stopwatch.StartNew();
        string embeddedOut = Path.Combine(fixture.Root, "embedded");
        var embedded = await new CampaignRunner(CampaignConfig.Parse(Yaml(), "embedded.yaml"), embeddedOut).RunAsync(null, default);
        embeddedWatch.Stop();

        var context = ComputeContext.Create(2, preferNativeBlas: false);
        var student = Loop.Student.EmbeddedStudent.Of(TinyVlmStudent.Load(fixture.Checkpoint, context));
        var teacher = new EmbeddedTeacher(new EmbeddedTeacherOptions(PriorSamples: PriorSamples));
        await using WebApplication studentServer = await OpenAIEndpoints.StartAsync(new StudentChatModel(student.Model, student.ModelVersion), 0);
        await using WebApplication teacherServer = await OpenAIEndpoints.StartAsync(new TeacherChatModel(teacher), 0);
        string teacherUrl = OpenAIEndpoints.BaseAddress(teacherServer) + "v1";
        string studentUrl = OpenAIEndpoints.BaseAddress(studentServer) + "v1";

        var config = CampaignConfig.Parse(Yaml(
            $", backend: semantic-kernel, endpoint: '{teacherUrl}', model: '{teacher.Name}', max_concurrency: 4",
            $", backend: openai, endpoint: '{studentUrl}', model: {student.ModelVersion}, max_concurrency: 2"), "wire.yaml");
        var wireWatch = System.Diagnostics.Stopwatch.StartNew();
        string wireOut = Path.Combine(fixture.Root, "wire");
        CampaignResult wire;
        using (var backends = RemoteBackends.For(config, new InMemoryCallCache()))
        {
            wire = await backends.Runner(config, wireOut).RunAsync(null, default);
            wireWatch.Stop();
            var summary = backends.Teacher!.Log.Summary();
            foreach (var f in summary) output.WriteLine($"teacher {f.Function}: {f.Calls} calls, {f.Cached} cached, {f.Rejected} rejected, {f.PromptTokens}+{f.CompletionTokens} tokens");
            Assert.All(summary, f => Assert.Equal(0, f.Rejected + f.Failed));
            Assert.Contains(summary, f => f.Function == "score-answers" && f.Calls > 30);
            Assert.Contains(summary, f => f.Function == "judge" && f.Calls > 0);
        }

        // Decisions that a log-probability round trip could flip: the located step of each failure.
        var a = CampaignJson.Read<LocateOutput>(Path.Combine(embeddedOut, "iter-1", "locate.json")).Located;
        var b = CampaignJson.Read<LocateOutput>(Path.Combine(wireOut, "iter-1", "locate.json")).Located;
        Assert.Equal(a.Count, b.Count);
        int differing = 0;
        for (int i = 0; i < a.Count; i++)
            if (a[i].FailureId != b[i].FailureId || a[i].Step.Index != b[i].Step.Index)
            {
                differing++;
                output.WriteLine($"located step differs: {a[i].FailureId} embedded {a[i].Step.Index} margins [{Margins(a[i].Step)}] wire {b[i].Step.Index} margins [{Margins(b[i].Step)}]");
            }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"embedded manifest {embedded.Report.DatasetManifestSha256} ({embedded.Report.DatasetSamples} samples, {embeddedWatch.Elapsed.TotalSeconds:0.0} s); wire manifest {wire.Report.DatasetManifestSha256} ({wire.Report.DatasetSamples} samples, {wireWatch.Elapsed.TotalSeconds:0.0} s); {differing} of {a.Count} located steps differ"));

        Assert.Equal(0, differing);
        Assert.Equal(embedded.Report.DatasetManifestSha256, wire.Report.DatasetManifestSha256);
        Assert.Equal(File.ReadAllText(Path.Combine(embedded.DatasetDirectory, "manifest.json")), File.ReadAllText(Path.Combine(wire.DatasetDirectory, "manifest.json")));
        Assert.True(embedded.Report.DatasetSamples > 0);
        Assert.Equal(embedded.Report.BaseTestAccuracy, wire.Report.BaseTestAccuracy);
        Assert.Equal(embedded.Report.Iterations[0].ValidationAccuracy, wire.Report.Iterations[0].ValidationAccuracy);
        Assert.Equal(embedded.Report.FinalTestAccuracy, wire.Report.FinalTestAccuracy);
    }

    private static string Margins(Loop.Contracts.LocatedStep step) =>
        string.Join(", ", (step.Margins ?? []).Select(m => m.ToString("R", CultureInfo.InvariantCulture)));
}
