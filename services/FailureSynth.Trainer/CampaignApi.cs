using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using FailureSynth.Loop.Campaigns;

namespace FailureSynth.Trainer;

/// <summary>
/// The campaign API: start (POST a campaign YAML), list, status with per-stage progress, cancel, and downloads
/// (report, dataset, archive) and the campaign page (<c>/campaigns/{id}/page</c>, live while it runs). Every /campaigns request needs the API key in the <c>X-Api-Key</c> header.
/// </summary>
public static class CampaignApi
{
    public const string ApiKeyHeader = "X-Api-Key";
    public const int MaxConfigBytes = 64 * 1024;
    private static readonly string[] YamlTypes = ["application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain"];

    public static void MapCampaignApi(this WebApplication app, string apiKey)
    {
        // Fixed-time comparison of hashes (ApiKey): neither the key nor its length leaks through timing.
        var expected = new FailureSynth.ApiSecurity.ApiKey(apiKey);
        async ValueTask<object?> RequireKey(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
        {
            string? given = context.HttpContext.Request.Headers[ApiKeyHeader];
            if (string.IsNullOrEmpty(given))
                return Problem(401, $"missing API key: send it in the {ApiKeyHeader} header");
            if (!expected.Matches(given))
                return Problem(401, $"wrong API key in the {ApiKeyHeader} header");
            return await next(context);
        }

        // Tags, names and summaries make the OpenAPI document (/openapi/v1.json) read like this class's summary.
        var campaigns = app.MapGroup("/campaigns").AddEndpointFilter(RequireKey).RequireRateLimiting(CampaignApiSecurity.RatePolicy)
            .WithTags("Campaigns").WithDescription($"Needs the API key in the {ApiKeyHeader} header.").ProducesProblem(401);

        // Synthesis throughput on fixed work, through the services or in this process (see SynthesisBench).
        app.MapGroup("/bench").AddEndpointFilter(RequireKey).RequireRateLimiting(CampaignApiSecurity.RatePolicy).WithTags("Benchmarks")
            .MapPost("/synthesis", async (string? mode, int? proposals, int? batch, int? workMs, int? window, bool? write, SynthesisBench bench, CancellationToken cancellationToken) =>
        {
            mode ??= "services";
            if (mode is not ("services" or "in-process")) return Problem(400, $"mode '{mode}' is not known: use services or in-process");
            int n = proposals ?? 2000;
            if (n is < SynthesisBench.Skills or > 1_000_000) return Problem(400, $"proposals must be from {SynthesisBench.Skills} to 1000000 (got {n})");
            if (batch is < 1 or > Events.SynthesisBatches.MaxSize) return Problem(400, $"batch must be from 1 to {Events.SynthesisBatches.MaxSize} proposals per message (got {batch})");
            if (workMs is < 0 or > Events.SynthesisBatches.MaxWorkMs) return Problem(400, $"workMs must be from 0 to {Events.SynthesisBatches.MaxWorkMs} (got {workMs})");
            if (window is < 1 or > SynthesisBench.MaxWindow) return Problem(400, $"window must be from 1 to {SynthesisBench.MaxWindow} proposals per request (got {window})");
            try
            {
                return Results.Ok(await bench.RunAsync(mode, n, batch, workMs ?? 0, window, write ?? false, cancellationToken));
            }
            catch (SynthesisBenchBusyException e)
            {
                return Problem(409, e.Message);
            }
        }).WithName("BenchSynthesis").WithSummary("Measures synthesis throughput on fixed work, through the services or in-process.")
            .WithDescription($"Needs the API key in the {ApiKeyHeader} header.").ProducesProblem(400).ProducesProblem(401).ProducesProblem(409);

        campaigns.MapPost("", async (HttpRequest request, CampaignManager manager) =>
        {
            string? type = request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
            if (type is null || !YamlTypes.Contains(type))
                return Problem(415, $"send the campaign as YAML (Content-Type application/yaml or text/plain), not '{request.ContentType ?? "none"}'");
            if (request.ContentLength > MaxConfigBytes) return Problem(413, $"the campaign YAML is larger than {MaxConfigBytes} bytes");
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            var buffer = new char[MaxConfigBytes + 1];
            int read = 0, n;
            while (read < buffer.Length && (n = await reader.ReadAsync(buffer.AsMemory(read))) > 0) read += n;
            if (read > MaxConfigBytes) return Problem(413, $"the campaign YAML is larger than {MaxConfigBytes} bytes");
            string yaml = new(buffer, 0, read);
            if (string.IsNullOrWhiteSpace(yaml)) return Problem(400, "the request body is empty: send the campaign YAML");
            try
            {
                var status = manager.Start(yaml);
                return Results.Created($"/campaigns/{status.Id}", status);
            }
            catch (CampaignRequestException e)
            {
                return Problem(e.Status, e.Message);
            }
        }).WithName("StartCampaign").WithSummary("Starts a campaign from its YAML config (the body); it runs when the trainer is free.")
            // Routing refuses other body types with a 415 before the handler runs (CampaignApiSecurity gives it its reason).
            .Accepts<string>(YamlTypes[0], YamlTypes[1..]).Produces<CampaignStatus>(201).ProducesProblem(400).ProducesProblem(413).ProducesProblem(415);

        campaigns.MapGet("", (CampaignManager manager) => Results.Ok(manager.List()))
            .WithName("ListCampaigns").WithSummary("Lists every campaign in the data root, oldest first.").Produces<IReadOnlyList<CampaignStatus>>();

        campaigns.MapGet("/{id}", (string id, CampaignManager manager) =>
            Find(id, manager, out var status) ?? Results.Ok(status))
            .WithName("GetCampaign").WithSummary("A campaign's state, with the progress of every stage so far.").Produces<CampaignStatus>().ProducesProblem(400).ProducesProblem(404);

        campaigns.MapPost("/{id}/cancel", (string id, CampaignManager manager) =>
        {
            if (Find(id, manager, out var status) is { } missing) return missing;
            return manager.Cancel(id)
                ? Results.Accepted($"/campaigns/{id}", manager.Get(id))
                : Problem(409, $"campaign {id} already finished ({status!.State})");
        }).WithName("CancelCampaign").WithSummary("Cancels a queued or running campaign; finished stages stay on disk.")
            .Produces<CampaignStatus>(202).ProducesProblem(404).ProducesProblem(409);

        campaigns.MapGet("/{id}/report", (string id, string? format, CampaignManager manager) =>
        {
            if (Completed(id, manager) is { } problem) return problem;
            var (file, type) = format switch
            {
                null or "md" => ("report.md", "text/markdown; charset=utf-8"),
                "json" => ("report.json", "application/json"),
                _ => (null, null),
            };
            if (file is null) return Problem(400, "format is not known: use md or json");
            string path = Path.Combine(manager.Folder(id), file);
            // The file's absence is the campaign's problem, not the caller's: say which file, never where it was looked for.
            return File.Exists(path) ? Results.File(path, type) : Problem(404, $"campaign {id} has no {file}");
        }).WithName("GetCampaignReport").WithSummary("The finished campaign's report, as Markdown (format=md) or JSON (format=json).")
            .Produces(200, contentType: "text/markdown").Produces(200, contentType: "application/json").ProducesProblem(404).ProducesProblem(409);

        // The campaign page, live: built from the campaign's folder as it stands, with the stages' current progress.
        campaigns.MapGet("/{id}/page", (string id, CampaignManager manager, HttpResponse response) =>
        {
            // The page's own policy (its script, styles and images); the API's would leave it unstyled and inert.
            response.Headers.ContentSecurityPolicy = CampaignPage.ContentSecurityPolicy;
            if (Find(id, manager, out var status) is { } problem) return problem;
            var progress = status!.Stages.Select(s => new PageStageProgress(s.Iteration, s.Stage, s.Done, s.Total, s.Note)).ToList();
            PageLink[] downloads = [new("report.json", $"/campaigns/{id}/report?format=json"), new("report.md", $"/campaigns/{id}/report"),
                new("dataset (zip)", $"/campaigns/{id}/dataset"), new("everything, checkpoints included (zip)", $"/campaigns/{id}/archive")];
            string html = CampaignPage.Build(manager.Folder(id), downloads, progress, status.State.ToString().ToLowerInvariant());
            return Results.Content(html, "text/html; charset=utf-8");
        }).WithName("GetCampaignPage").WithSummary("The campaign page (self-contained HTML), live while the campaign runs.")
            .Produces(200, contentType: "text/html").ProducesProblem(400).ProducesProblem(404);

        campaigns.MapGet("/{id}/dataset", (string id, CampaignManager manager) =>
            Completed(id, manager) ?? Zip(Path.Combine(manager.Folder(id), "dataset"), $"{id}-dataset.zip"))
            .WithName("GetCampaignDataset").WithSummary("The finished campaign's dataset folder as a zip.").Produces(200, contentType: "application/zip").ProducesProblem(409);

        // Everything: report, page, charts, dataset, stage files and the checkpoints they name (train.json, measure.json),
        // so a folder unpacked from it is complete (a TinyVLM checkpoint is under 1 MB).
        campaigns.MapGet("/{id}/archive", (string id, CampaignManager manager) =>
            Completed(id, manager) ?? Zip(manager.Folder(id), $"{id}.zip"))
            .WithName("GetCampaignArchive").WithSummary("Everything of a finished campaign, the checkpoints its stage files name included, as a zip.").Produces(200, contentType: "application/zip").ProducesProblem(409);
    }

    private static IResult? Find(string id, CampaignManager manager, out CampaignStatus? status)
    {
        status = null;
        if (!CampaignManager.IsValidId(id)) return Problem(400, $"'{(id.Length > 40 ? id[..40] + "..." : id)}' is not a campaign id (lowercase letters, digits and '-')");
        status = manager.Get(id);
        return status is null ? Problem(404, $"no campaign '{id}'") : null;
    }

    private static IResult? Completed(string id, CampaignManager manager)
    {
        if (Find(id, manager, out var status) is { } problem) return problem;
        return status!.State == CampaignState.Completed ? null : Problem(409, $"campaign {id} is {status.State}, not completed: nothing to download yet");
    }

    private static IResult Zip(string folder, string name)
    {
        string temporary = Path.Combine(Path.GetTempPath(), $"failuresynth-{Guid.NewGuid():N}.zip");
        using (var zip = ZipFile.Open(temporary, ZipArchiveMode.Create))
        {
            foreach (string file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                if (file.EndsWith(".tmp", StringComparison.Ordinal)) continue;
                zip.CreateEntryFromFile(file, Path.GetRelativePath(folder, file).Replace('\\', '/'), CompressionLevel.Fastest);
            }
        }
        var stream = new FileStream(temporary, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, FileOptions.DeleteOnClose);
        return Results.File(stream, "application/zip", name);
    }

    private static IResult Problem(int status, string detail) => Results.Problem(detail: detail, statusCode: status);
}
