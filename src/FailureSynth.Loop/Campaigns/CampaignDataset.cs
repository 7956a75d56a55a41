using System.Text.Json;
using System.Text.Json.Nodes;
using FailureSynth.Datasets;
using FailureSynth.Imaging;
using FailureSynth.Loop.Contracts;
using FailureSynth.World;
using FailureSynth.World.Rendering;

namespace FailureSynth.Loop.Campaigns;

/// <summary>
/// Writes a campaign's accepted samples as a dataset in the Foundation formats (PNG images, LLaVA JSON,
/// LLaMA-Factory dataset_info.json, provenance JSONL, manifest.json). Each provenance line says which
/// iteration, failures, located steps, skill and teacher the sample came from and the filter's verdict.
/// </summary>
public static class CampaignDataset
{
    /// <summary>At most this many failures are listed in a sample's provenance (the count is always given).</summary>
    public const int FailuresListed = 5;

    /// <param name="outputDirectory">The campaign's output folder, where the pictures of described samples are stored (<see cref="StoredSample.GeneratedImage"/>).</param>
    public static DatasetManifest Write(string directory, string name, string teacherName,
        IReadOnlyList<(int Iteration, StoredSample Sample)> samples, IReadOnlyDictionary<string, LocatedStep> located, int imageSize, string? outputDirectory = null)
    {
        using var writer = new DatasetWriter(directory, $"failuresynth_{name}", new DatasetWriterOptions(Overwrite: true));
        foreach (var (iteration, stored) in samples.OrderBy(s => s.Iteration).ThenBy(s => s.Sample.Proposal.Id, StringComparer.Ordinal))
        {
            var p = stored.Proposal;
            var example = CampaignRunner.ToExample(stored, imageSize, outputDirectory);
            var vqa = new VqaSample(
                Id: p.Id,
                Image: DatasetLayout.ImagePath(p.Id),
                Question: p.Question,
                Answer: example.Answer,
                Family: example.Family,
                Skills: example.Skills,
                Steps: [.. example.Steps.Select((s, i) => new SampleStep(i + 1, s.Question, s.Answer))],
                Source: stored.Source);
            var failures = new JsonArray();
            foreach (string id in stored.FailureIds.Take(FailuresListed))
            {
                var entry = new JsonObject { ["failure_id"] = id };
                if (located.TryGetValue(id, out var step))
                {
                    entry["located_step"] = step.Index;
                    entry["step_question"] = step.Question;
                    entry["step_answer"] = step.Answer;
                    entry["locator"] = step.Method;
                }
                failures.Add(entry);
            }
            var provenance = new JsonObject
            {
                ["generator"] = "failuresynth-campaign",
                ["campaign"] = name,
                ["iteration"] = iteration,
                ["source"] = stored.Source,
                ["skill"] = stored.DemandSkill,
                ["skill_text"] = stored.DemandQuery,
                ["teacher"] = teacherName,
                ["failure_count"] = stored.FailureIds.Count,
                ["failures"] = failures,
                ["filter"] = new JsonObject
                {
                    ["verdict"] = stored.Verdict.Reason.ToString().ToLowerInvariant(),
                    ["detail"] = stored.Verdict.Detail,
                    ["judge_score"] = stored.Verdict.JudgeScore,
                    ["verified_answer"] = stored.Verdict.VerifiedAnswer,
                },
                ["image_size"] = imageSize,
                ["scene"] = JsonSerializer.SerializeToNode(p.Scene, WorldJson.Options),
                ["program"] = JsonSerializer.SerializeToNode(p.Program, WorldJson.Options),
            };
            byte[] png;
            if (p.Scene is null && stored.Source == "retrieved")
            {
                // Retrieved from the user's pool file: its own picture and reference answer, stored as found.
                png = PngEncoder.Encode(example.Image);
                provenance["image"] = new JsonObject { ["source"] = "pool.file", ["png_sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(png)) };
                provenance["verification"] = new JsonObject { ["answer_check"] = "the pool file's reference answer", ["judge"] = null, ["scene_reexecution"] = false };
            }
            else if (p.Scene is null)
            {
                // No scene: the picture is the image endpoint's, checked by the teacher; the provenance says so.
                png = PngEncoder.Encode(example.Image);
                provenance["image"] = new JsonObject
                {
                    ["backend"] = "openai",
                    ["model"] = stored.ImageModel,
                    ["description"] = p.ImageDescription,
                    ["png_sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(png)),
                };
                provenance["verification"] = new JsonObject
                {
                    ["answer_check"] = "teacher read the answer off the generated image",
                    ["judge"] = "teacher",
                    ["scene_reexecution"] = false,
                };
            }
            else png = SceneRasterizer.RenderPng(p.Scene, imageSize);
            writer.Add(new DatasetRecord(vqa, png, provenance));
        }
        return writer.Complete();
    }
}
