using System.Globalization;
using System.IO.Compression;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Reporting;

namespace FailureSynth.AppHost;

/// <summary>Drives the Trainer's campaign API for <c>run</c> and <c>bench-synthesis</c>.</summary>
public sealed class CampaignClient(Uri trainer, string apiKey)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http = new() { BaseAddress = trainer, Timeout = TimeSpan.FromMinutes(30), DefaultRequestHeaders = { { "X-Api-Key", apiKey } } };

    /// <summary>Starts the campaign, prints its progress, and on success unpacks its report and dataset into <paramref name="outputDirectory"/>.</summary>
    public async Task<int> RunAsync(string campaignFile, string outputDirectory, Func<int, string, long, Task>? onProgress, CancellationToken cancellationToken)
    {
        var started = DateTime.UtcNow;
        using var content = new StringContent(await File.ReadAllTextAsync(campaignFile, cancellationToken), Encoding.UTF8, "application/yaml");
        using var response = await _http.PostAsync(new Uri("/campaigns", UriKind.Relative), content, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            Console.Error.WriteLine($"[campaign] the trainer refused {campaignFile}: {(int)response.StatusCode} {await Detail(response, cancellationToken)}");
            return 1;
        }
        var status = (await response.Content.ReadFromJsonAsync<JsonElement>(Json, cancellationToken));
        string id = status.GetProperty("id").GetString()!;
        Console.WriteLine($"[campaign] {id} started from {campaignFile}");
        using (var view = new CampaignProgressView(StageProgressView.ForConsole()))
        {
            var stages = new StageFeed(view);
            bool waiting = false;
            while (true)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
                JsonElement s;
                try
                {
                    s = await _http.GetFromJsonAsync<JsonElement>(new Uri($"/campaigns/{id}", UriKind.Relative), Json, cancellationToken);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    // The trainer restarting (the AppHost brings it back; it resumes the campaign): keep asking.
                    if (!waiting) view.WriteLine($"[campaign] trainer not answering ({e.Message}); waiting for it to come back");
                    waiting = true;
                    continue;
                }
                waiting = false;
                string state = s.GetProperty("state").GetString()!;
                if (stages.Show(s) is { } current && onProgress is not null) await onProgress(current.Iteration, current.Stage, current.Done);
                if (state == "Completed") break;
                if (state is "Failed" or "Cancelled")
                {
                    view.Dispose();
                    Console.Error.WriteLine($"[campaign] {id} {state.ToLowerInvariant()}: {(s.TryGetProperty("error", out var err) ? err.GetString() : "")}");
                    return 1;
                }
            }
        }
        Directory.CreateDirectory(outputDirectory);
        await using (var archive = await _http.GetStreamAsync(new Uri($"/campaigns/{id}/archive", UriKind.Relative), cancellationToken))
        {
            await ZipFile.ExtractToDirectoryAsync(archive, outputDirectory, overwriteFiles: true, cancellationToken);
        }
        var final = await _http.GetFromJsonAsync<JsonElement>(new Uri($"/campaigns/{id}", UriKind.Relative), Json, cancellationToken);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[campaign] {id} completed in {(DateTime.UtcNow - started).TotalSeconds:0} s: test accuracy {final.GetProperty("baseTestAccuracy").GetDouble() * 100:0.0} % -> {final.GetProperty("finalTestAccuracy").GetDouble() * 100:0.0} %"));
        Console.WriteLine($"Dataset: {Path.Combine(outputDirectory, "dataset")} ({final.GetProperty("datasetSamples").GetInt32()} samples, manifest {final.GetProperty("datasetManifestSha256").GetString()})");
        Console.WriteLine($"Report:  {Path.Combine(outputDirectory, "report.md")}");
        return 0;
    }

    /// <summary>
    /// Turns the status the client polls into the campaign's progress, as the Trainer's runner reported it. Between two
    /// polls a stage can end and another start (or a short one come and go); the status's <c>stages</c> list has each
    /// stage's last report, so a stage no longer current is shown once, ended, in order, before the current one.
    /// </summary>
    private sealed class StageFeed(CampaignProgressView view)
    {
        private readonly HashSet<(int, string)> _ended = [];

        public CampaignProgress? Show(JsonElement status)
        {
            CampaignProgress? current = status.TryGetProperty("current", out var c) && c.ValueKind == JsonValueKind.Object ? From(c) : null;
            if (status.TryGetProperty("stages", out var list) && list.ValueKind == JsonValueKind.Array)
                foreach (var stage in list.EnumerateArray().Select(From))
                    if ((stage.Iteration, stage.Stage) != (current?.Iteration, current?.Stage) && _ended.Add((stage.Iteration, stage.Stage)))
                        view.Report(stage.Message is "done" or "resumed" ? stage : stage with { Message = "done" });
            // A current stage that has ended stays current until the next starts: it is ended once.
            if (current is not null && (current.Message is not ("done" or "resumed") || _ended.Add((current.Iteration, current.Stage)))) view.Report(current);
            return current;
        }

        private static CampaignProgress From(JsonElement e) => new(e.GetProperty("iteration").GetInt32(), e.GetProperty("stage").GetString()!,
            e.GetProperty("done").GetInt64(), e.GetProperty("total").GetInt64(),
            e.TryGetProperty("note", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null);
    }

    /// <summary>Proposals sent through each mode before it is measured, unless <c>--warmup</c> says otherwise.</summary>
    public const int DefaultWarmUpProposals = 200;

    /// <summary>
    /// Runs the synthesis throughput bench through the services, then in the trainer's process, and prints both; with
    /// <see cref="AppHostCommand.OutputDirectory"/>, also writes them to <c>bench-synthesis.json</c> there.
    /// </summary>

    public async Task<int> BenchSynthesisAsync(AppHostCommand command, CancellationToken cancellationToken)
    {
        int proposals = command.Proposals;
        int warmUp = command.WarmUp ?? Math.Min(proposals, DefaultWarmUpProposals);
        var layout = new[] { "teacher", "imagesynth", "qualityfilter" }.ToDictionary(s => s, command.ReplicasOf);
        Console.WriteLine($"[bench] synthesis of {proposals} proposals ({string.Join(", ", layout.Select(p => $"{p.Key} x{p.Value}"))}" +
            $"{(command.BatchSize is { } b ? $", batch {b}" : "")}{(command.WorkMs > 0 ? $", {command.WorkMs} ms CPU per sample per stage" : "")}); each mode warmed up first with {warmUp}");
        var results = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (string mode in new[] { "services", "in-process" })
        {
            // The same warm-up for both modes, so neither is measured while its code paths are still being compiled.
            if (warmUp > 0) await Bench(mode, warmUp, command with { WriteDataset = false }, cancellationToken);
            var r = await Bench(mode, proposals, command, cancellationToken);
            results[mode] = r;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[bench] {mode}: {r.GetProperty("checked").GetInt32()} proposals through propose -> render -> check{(command.WriteDataset ? " -> write" : "")} in {r.GetProperty("seconds").GetDouble():0.00} s = {r.GetProperty("samplesPerSecond").GetDouble():0.0} samples/s"));
        }
        bool? same = null;
        if (command.WriteDataset)
        {
            string? a = results["services"].GetProperty("datasetSha256").GetString(), c = results["in-process"].GetProperty("datasetSha256").GetString();
            same = a is not null && a == c;
            Console.WriteLine(same.Value
                ? $"[bench] datasets: services and in-process manifests equal (dataset_sha256 {a})"
                : $"[bench] datasets: services and in-process manifests DIFFER (services {a}, in-process {c})");
        }
        if (command.OutputDirectory is { } outputDirectory)
        {
            Directory.CreateDirectory(outputDirectory);
            double services = results["services"].GetProperty("samplesPerSecond").GetDouble(), local = results["in-process"].GetProperty("samplesPerSecond").GetDouble();
            var report = new Dictionary<string, object?>
            {
                ["proposals"] = proposals,
                ["replicas"] = layout,
                ["batch_size"] = results["services"].GetProperty("batchSize").GetInt32(),
                ["work_ms"] = command.WorkMs,
                ["warm_up"] = warmUp,
                ["samples_per_s_services"] = services,
                ["samples_per_s_in_process"] = local,
                ["ratio"] = Math.Round(services / Math.Max(local, 1e-9), 3),
                ["manifest_equal"] = same,
                ["services"] = results["services"],
                ["in_process"] = results["in-process"],
            };
            string path = Path.Combine(outputDirectory, "bench-synthesis.json");
            await File.WriteAllTextAsync(path, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }) + "\n", cancellationToken);
            Console.WriteLine($"[bench] wrote {path}");
        }
        return same == false ? 1 : 0;
    }

    private async Task<JsonElement> Bench(string mode, int proposals, AppHostCommand command, CancellationToken cancellationToken)
    {
        string query = string.Create(CultureInfo.InvariantCulture, $"/bench/synthesis?mode={mode}&proposals={proposals}&workMs={command.WorkMs}") +
            (command.BatchSize is { } b ? $"&batch={b}" : "") + (command.Window is { } w ? $"&window={w}" : "") + (command.WriteDataset ? "&write=true" : "");
        using var response = await _http.PostAsync(new Uri(query, UriKind.Relative), null, cancellationToken);
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"bench {mode}: {(int)response.StatusCode} {await Detail(response, cancellationToken)}");
        return await response.Content.ReadFromJsonAsync<JsonElement>(Json, cancellationToken);
    }

    private static async Task<string> Detail(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string body = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.TryGetProperty("detail", out var d)) return d.GetString() ?? body;
        }
        catch (JsonException) { }
        return body;
    }
}
