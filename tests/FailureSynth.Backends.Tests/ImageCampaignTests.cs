using System.Security.Cryptography;
using System.Text.Json.Nodes;
using FailureSynth.Imaging;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Common;
using FailureSynth.Loop.Teacher;
using FailureSynth.Serving;
using FailureSynth.World.Rendering;
using Microsoft.AspNetCore.Builder;
using Xunit.Abstractions;

namespace FailureSynth.Backends.Tests;

/// <summary>
/// images.backend openai in a campaign: the Semantic Kernel teacher, pointed at the served embedded teacher that writes about
/// half its proposals as image descriptions, and the image client pointed at the served ShapesWorld image model (the same
/// server, speaking /v1/images/generations with b64_json). Described samples are drawn by the endpoint, answer-checked and
/// judged by the teacher, stored as drawn, and marked in the provenance and the report.
/// </summary>
public sealed class ImageCampaignTests(SmallStudentFixture fixture, ITestOutputHelper output) : IClassFixture<SmallStudentFixture>
{
    [Fact]
    public async Task Campaign_with_an_image_endpoint_stores_checks_and_marks_the_described_samples()
    {
        var teacher = new EmbeddedTeacher(new EmbeddedTeacherOptions(PriorSamples: 3000));
        var pictures = new DrawnPictures();
        await using WebApplication server = await OpenAIEndpoints.StartAsync(new TeacherChatModel(teacher, pictures), 0, images: new ShapesWorldImageModel(pictures));
        string url = OpenAIEndpoints.BaseAddress(server) + "v1";
        var config = CampaignConfig.Parse($$"""
            name: images
            seed: 3
            threads: 2
            iterations: 1
            student: { checkpoint: {{fixture.Checkpoint}} }
            validation: { profile: balanced, count: 90, seed: 101 }
            test: { profile: balanced, count: 60, seed: 2 }
            budget: { failures: 20, samples: 30, train_steps: 3 }
            teacher: { prior_samples: 3000, backend: semantic-kernel, endpoint: '{{url}}', model: '{{teacher.Name}}' }
            images: { backend: openai, endpoint: '{{url}}', model: {{ShapesWorldImageModel.ModelId}} }
            """, "images.yaml");
        string outDir = Path.Combine(fixture.Root, "images");
        CampaignResult result;
        using (var backends = RemoteBackends.For(config, new InMemoryCallCache()))
        {
            result = await backends.Runner(config, outDir).RunAsync(null, default);
            var summary = backends.Teacher!.Log.Summary();
            foreach (var f in summary) output.WriteLine($"teacher {f.Function}: {f.Calls} calls, {f.Rejected} rejected");
            Assert.Contains(summary, f => f.Function == "read-answer" && f.Calls > 0);
            Assert.All(summary, f => Assert.Equal(0, f.Rejected + f.Failed));
        }

        var lines = File.ReadAllLines(Path.Combine(result.DatasetDirectory, "provenance.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
        var described = lines.Where(l => l["provenance"]!["image"] is not null).ToList();
        output.WriteLine($"{lines.Count} samples, {described.Count} drawn by the image endpoint; {pictures.Count} pictures drawn; manifest {result.Report.DatasetManifestSha256}");
        Assert.NotEmpty(described);
        Assert.True(described.Count < lines.Count, "the scene samples stay as they were, beside the described ones");
        foreach (var line in described)
        {
            var p = line["provenance"]!;
            Assert.Equal("openai", p["image"]!["backend"]!.GetValue<string>());
            Assert.Equal(ShapesWorldImageModel.ModelId, p["image"]!["model"]!.GetValue<string>());
            Assert.False(p["verification"]!["scene_reexecution"]!.GetValue<bool>());
            Assert.Null(p["scene"]);
            // The dataset holds the endpoint's picture, byte for byte as hashed, and it shows the described scene.
            byte[] png = File.ReadAllBytes(Path.Combine(result.DatasetDirectory, "images", line["id"]!.GetValue<string>() + ".png"));
            Assert.Equal(p["image"]!["png_sha256"]!.GetValue<string>(), Convert.ToHexStringLower(SHA256.HashData(png)));
            Assert.True(SceneDescriptions.TryParse(p["image"]!["description"]!.GetValue<string>(), out var scene, out _));
            Assert.True(PngDecoder.Decode(png, "dataset image").PixelsEqual(SceneRasterizer.Render(scene!, 64)));
            Assert.Equal(line["answer"]!.GetValue<string>(), p["filter"]!["verified_answer"]!.GetValue<string>());
        }
        foreach (var line in lines.Except(described)) Assert.NotNull(line["provenance"]!["scene"]);
        Assert.Equal(described.Count, result.Report.Iterations[0].GeneratedImages);
        Assert.Contains("drawn by the image endpoint from a description", File.ReadAllText(result.ReportPath), StringComparison.Ordinal);
        Assert.Equal(described.Count, Directory.GetFiles(Path.Combine(outDir, "iter-1", "images"), "*.png").Length);
    }

    [Fact]
    public async Task A_picture_that_does_not_show_its_description_is_judged_1_and_a_prompt_the_model_cannot_draw_stops_the_call()
    {
        var teacher = new EmbeddedTeacher(new EmbeddedTeacherOptions(PriorSamples: 3000));
        var pictures = new DrawnPictures();
        await using WebApplication server = await OpenAIEndpoints.StartAsync(new TeacherChatModel(teacher, pictures), 0, images: new ShapesWorldImageModel(pictures));
        var endpoint = new ModelEndpoint("teacher", "semantic-kernel", new Uri(OpenAIEndpoints.BaseAddress(server) + "v1"), teacher.Name, null, TimeSpan.FromSeconds(30), 2);
        using var sk = new SemanticKernelTeacher(endpoint, null);
        var scene = new World.Scenes.Scene([new(World.Scenes.ObjectShape.Circle, World.Scenes.ObjectColor.Red, World.Scenes.ObjectSize.Large, 0.3, 0.3)]);
        string description = SceneDescriptions.Describe(scene);
        Assert.True(SceneDescriptions.TryParse(description, out var back, out _));
        Assert.Equal(World.WorldJson.Serialize(scene), World.WorldJson.Serialize(back!));

        using var images = new OpenAIImageSynth(endpoint with { Role = "images", Backend = "openai", Model = ShapesWorldImageModel.ModelId });
        var drawn = await images.GenerateAsync(description, 64, default);
        var proposal = new Loop.Contracts.SampleProposal("prop-00000000000000aa", null, null, description, "What colour is the circle?", "red", [], null);
        Assert.Equal(3, (await sk.JudgeAsync(proposal, drawn, default)).Score);
        // A picture that does not show the description (a blank one) is judged 1, and read as nothing the teacher can tell.
        var blank = new RgbImage(64, 64);
        Assert.Equal(1, (await sk.JudgeAsync(proposal, blank, default)).Score);
        Assert.Equal("cannot tell", (await sk.ReadAnswerAsync(new Loop.Contracts.TeacherQuestion("What colour is the circle?", "query", null), blank, default)).Answer);
        // A prompt the image model cannot draw is refused in OpenAI's shape, which stops the run rather than passing silently.
        var e = await Assert.ThrowsAsync<IOException>(() => images.GenerateAsync("a photo of a cat", 64, default));
        Assert.Contains("ShapesWorld scene descriptions only", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_picture_from_the_endpoint_is_a_filter_rejection_with_its_reason()
    {
        var teacher = new EmbeddedTeacher(new EmbeddedTeacherOptions(PriorSamples: 3000));
        var pictures = new DrawnPictures();
        await using WebApplication served = await OpenAIEndpoints.StartAsync(new TeacherChatModel(teacher, pictures), 0);
        var teacherEndpoint = new ModelEndpoint("teacher", "semantic-kernel", new Uri(OpenAIEndpoints.BaseAddress(served) + "v1"), teacher.Name, null, TimeSpan.FromSeconds(30), 2);
        string small = Convert.ToBase64String(PngEncoder.Encode(new RgbImage(32, 32)));
        // Replies in OpenAI's images wire format: a picture of the wrong size, one that is not a PNG, and one URL only.
        await using var images = await ReplayServer.StartAsync((i, _) => (i % 3) switch
        {
            0 => new Recorded(200, "{\"created\":1,\"data\":[{\"b64_json\":\"" + small + "\"}]}"),
            1 => new Recorded(200, "{\"created\":1,\"data\":[{\"b64_json\":\"" + Convert.ToBase64String("GIF89a not a png"u8.ToArray()) + "\"}]}"),
            _ => new Recorded(200, "{\"created\":1,\"data\":[{\"url\":\"https://example.invalid/a.png\"}]}"),
        });
        using var sk = new SemanticKernelTeacher(teacherEndpoint, null);
        using var synth = new OpenAIImageSynth(new ModelEndpoint("images", "openai", new Uri(images.Endpoint), "gpt-image-1", null, TimeSpan.FromSeconds(30), 1));
        var filter = new Loop.Filter.QualityFilter(sk, new Loop.Filter.FilterOptions()) { Images = synth };
        string description = SceneDescriptions.Describe(new World.Scenes.Scene([new(World.Scenes.ObjectShape.Square, World.Scenes.ObjectColor.Blue, World.Scenes.ObjectSize.Small, 0.5, 0.5)]));
        var reasons = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            var check = await filter.CheckAsync(new Loop.Contracts.SampleProposal($"prop-00000000000000b{i}", null, null, description, "What shape is the blue object?", "square", [], null), default);
            Assert.Equal(Loop.Filter.FilterReason.Image, check.Rejected?.Reason);
            reasons.Add(check.Rejected!.Detail);
        }
        Assert.Contains("32x32 image where 64x64", reasons[0], StringComparison.Ordinal);
        Assert.Contains("does not decode as PNG", reasons[1], StringComparison.Ordinal);
        Assert.Contains("no b64_json image", reasons[2], StringComparison.Ordinal);
        // Without an image endpoint a described proposal is refused, never rendered from a guess.
        var none = await new Loop.Filter.QualityFilter(sk, new Loop.Filter.FilterOptions()).CheckAsync(
            new Loop.Contracts.SampleProposal("prop-00000000000000c0", null, null, description, "What shape is the blue object?", "square", [], null), default);
        Assert.Contains("no image endpoint", none.Rejected!.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_descriptions_that_draw_the_same_picture_with_the_same_question_are_duplicates()
    {
        var teacher = new EmbeddedTeacher(new EmbeddedTeacherOptions(PriorSamples: 3000));
        var pictures = new DrawnPictures();
        await using WebApplication server = await OpenAIEndpoints.StartAsync(new TeacherChatModel(teacher, pictures), 0, images: new ShapesWorldImageModel(pictures));
        var endpoint = new ModelEndpoint("teacher", "semantic-kernel", new Uri(OpenAIEndpoints.BaseAddress(server) + "v1"), teacher.Name, null, TimeSpan.FromSeconds(30), 2);
        using var sk = new SemanticKernelTeacher(endpoint, null) { AcceptImageDescriptions = true };
        using var images = new OpenAIImageSynth(endpoint with { Role = "images", Backend = "openai", Model = ShapesWorldImageModel.ModelId });
        var filter = new Loop.Filter.QualityFilter(sk, new Loop.Filter.FilterOptions()) { Images = images };
        var proposal = (await teacher.ProposeAsync(new Loop.Contracts.SkillDiagnosis("query/color=red", "query/color=red"), null, 1, 5, default))[0];
        string description = SceneDescriptions.Describe(proposal.Scene!);
        // The same scene, written another way (a leading zero on each x coordinate): another text, the same picture.
        string rewritten = description.Replace("centred at (", "centred at (0", StringComparison.Ordinal);
        Assert.NotEqual(description, rewritten);
        var first = proposal with { Id = "prop-00000000000000d0", Scene = null, ImageDescription = description };
        var second = proposal with { Id = "prop-00000000000000d1", Scene = null, ImageDescription = rewritten };
        Assert.NotEqual(Loop.Filter.QualityFilter.DuplicateKey(first), Loop.Filter.QualityFilter.DuplicateKey(second));
        var checks = new[] { await filter.CheckAsync(first, default), await filter.CheckAsync(second, default) };
        Assert.All(checks, c => Assert.Null(c.Rejected));
        Assert.True(checks[0].Image!.PixelsEqual(checks[1].Image!));
        var (accepted, verdicts) = await filter.DecideAsync(checks, new Loop.Filter.InMemoryDuplicateRegistry(), new Dictionary<string, int>(), null, default);
        Assert.Equal(first.Id, Assert.Single(accepted).Proposal.Id);
        var duplicate = verdicts.Single(v => v.ProposalId == second.Id);
        Assert.Equal(Loop.Filter.FilterReason.Duplicate, duplicate.Reason);
        Assert.Contains("same picture and question", duplicate.Detail, StringComparison.Ordinal);
    }
}
