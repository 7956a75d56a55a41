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
        async ValueTask<object?> RequireKey(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
        {
            string? given = context.HttpContext.Request.Headers[ApiKeyHeader];
            if (string.IsNullOrEmpty(given))
                return Problem(401, $"missing API key: send it in the {ApiKeyHeader} header");
            if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(apiKey)))
                return Problem(401, $"wrong API key in the {ApiKeyHeader} header");
            return await next(context);
        }

        var campaigns = app.MapGroup("/campaigns").AddEndpointFilter(RequireKey);

        // Synthesis throughput on fixed work, through the services or in this process (see SynthesisBench).
        app.MapGroup("/bench").AddEndpointFilter(RequireKey).MapPost("/synthesis", async (string? mode, int? proposals, SynthesisBench bench, CancellationToken cancellationToken) =>
        {
            mode ??= "services";
            if (mode is not ("services" or "in-process")) return Problem(400, $"mode '{mode}' is not known: use services or in-process");
            int n = proposals ?? 2000;
            if (n is < SynthesisBench.Skills or > 200_000) return Problem(400, $"proposals must be from {SynthesisBench.Skills} to 200000 (got {n})");
            return Results.Ok(await bench.RunAsync(mode, n, cancellationToken));
        });

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
        });

        campaigns.MapGet("", (CampaignManager manager) => Results.Ok(manager.List()));

        campaigns.MapGet("/{id}", (string id, CampaignManager manager) =>
            Find(id, manager, out var status) ?? Results.Ok(status));

        campaigns.MapPost("/{id}/cancel", (string id, CampaignManager manager) =>
        {
            if (Find(id, manager, out var status) is { } missing) return missing;
            return manager.Cancel(id)
                ? Results.Accepted($"/campaigns/{id}", manager.Get(id))
                : Problem(409, $"campaign {id} already finished ({status!.State})");
        });

        campaigns.MapGet("/{id}/report", (string id, string? format, CampaignManager manager) =>
        {
            if (Completed(id, manager) is { } problem) return problem;
            return format switch
            {
                null or "md" => Results.File(Path.Combine(manager.Folder(id), "report.md"), "text/markdown; charset=utf-8"),
                "json" => Results.File(Path.Combine(manager.Folder(id), "report.json"), "application/json"),
                _ => Problem(400, $"format '{format}' is not known: use md or json"),
            };
        });

        // The campaign page, live: built from the campaign's folder as it stands, with the stages' current progress.
        campaigns.MapGet("/{id}/page", (string id, CampaignManager manager) =>
        {
            if (Find(id, manager, out var status) is { } problem) return problem;
            var progress = status!.Stages.Select(s => new PageStageProgress(s.Iteration, s.Stage, s.Done, s.Total, s.Note)).ToList();
            PageLink[] downloads = [new("report.json", $"/campaigns/{id}/report?format=json"), new("report.md", $"/campaigns/{id}/report"),
                new("dataset (zip)", $"/campaigns/{id}/dataset"), new("everything, checkpoints included (zip)", $"/campaigns/{id}/archive")];
            string html = CampaignPage.Build(manager.Folder(id), downloads, progress, status.State.ToString().ToLowerInvariant());
            return Results.Content(html, "text/html; charset=utf-8");
        });

        campaigns.MapGet("/{id}/dataset", (string id, CampaignManager manager) =>
            Completed(id, manager) ?? Zip(Path.Combine(manager.Folder(id), "dataset"), $"{id}-dataset.zip"));

        // Everything: report, page, charts, dataset, stage files and the checkpoints they name (train.json, measure.json),
        // so a folder unpacked from it is complete (a TinyVLM checkpoint is under 1 MB).
        campaigns.MapGet("/{id}/archive", (string id, CampaignManager manager) =>
            Completed(id, manager) ?? Zip(manager.Folder(id), $"{id}.zip"));
    }

    private static IResult? Find(string id, CampaignManager manager, out CampaignStatus? status)
    {
        status = null;
        if (!CampaignManager.IsValidId(id)) return Problem(400, $"'{id}' is not a campaign id (lowercase letters, digits and '-')");
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
