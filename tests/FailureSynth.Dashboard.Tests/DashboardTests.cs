using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace FailureSynth.Dashboard.Tests;

/// <summary>
/// What an SRE sees: the AppHost started as a developer starts it, its dashboard opened in Chromium with the printed
/// token; the seven resources running; the trainer's dashboard command starting a (tiny) campaign; one stage's trace
/// across the services; the FailureSynth meter; the trainer's live campaign page; the cancel command stopping a running campaign. Screenshots of the
/// resources, the trace, the metrics and the live campaign page go to FAILURESYNTH_SCREENSHOTS (default: the test's folder, screenshots/).
/// </summary>
public sealed class DashboardTests : IDisposable
{
    private static readonly string[] Resources = ["messaging", "cache", "student", "teacher", "imagesynth", "qualityfilter", "trainer"];
    private static readonly TimeSpan StartPatience = TimeSpan.FromMinutes(6); // the whole suite starts several AppHosts at once on 2 cores
    private const string ApiKey = "dashboard-test-key-0123456789abcdef";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "fs-dashboard-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly string _screenshots = Environment.GetEnvironmentVariable("FAILURESYNTH_SCREENSHOTS") is { Length: > 0 } dir
        ? Path.GetFullPath(dir) : Path.Combine(AppContext.BaseDirectory, "screenshots");

    // One iteration on a tiny student: the prescribe stage still goes trainer -> teacher -> imagesynth -> qualityfilter.
    // No paths: the campaign API refuses any outside its roots (the base student is cached under the run's out/cache).
    private string TinyCampaign => $$"""
        name: dashboard
        seed: 5
        threads: 2
        iterations: 1
        student:
          base: { profile: base-skewed, count: 400, seed: 1 }
          base_steps: 20
          base_seed: 1
        validation: { profile: balanced, count: 200, seed: 101 }
        test: { profile: balanced, count: 100, seed: 2 }
        budget: { failures: 30, samples: 40, train_steps: 4 }
        teacher: { prior_samples: 2000 }
        """;

    [Fact]
    public async Task The_dashboard_shows_the_resources_a_stage_trace_across_the_services_and_the_FailureSynth_meter_and_its_commands_start_and_cancel_campaigns()
    {
        Directory.CreateDirectory(_root);
        Directory.CreateDirectory(_screenshots);
        string campaignFile = Path.Combine(_root, "tiny.yaml");
        await File.WriteAllTextAsync(campaignFile, TinyCampaign);
        await using var appHost = AppHostProcess.Start(_root, ApiKey,
            ["--run-dir", Path.Combine(_root, "run"), "--infrastructure", "processes", $"--FailureSynth:DemoCampaign={campaignFile}"]);
        Uri login = await appHost.LoginUrlAsync(StartPatience);
        Uri api = await appHost.CampaignApiAsync(StartPatience);
        await appHost.HealthyAsync(StartPatience);
        using var http = new HttpClient { BaseAddress = api, DefaultRequestHeaders = { { "X-Api-Key", ApiKey } } };

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1600, Height = 900 } });
        try
        {
            // The token in the printed address logs the browser in; the resources page comes first.
            await page.GotoAsync(login.ToString());
            foreach (string name in Resources)
                await Assertions.Expect(ResourceRow(page, name)).ToContainTextAsync("Running", new() { Timeout = 60_000 });
            await ScreenshotAsync(page, "dashboard-resources.png");

            // The trainer's highlighted command starts the demo campaign (here the tiny one the AppHost was given).
            await Command(page, "Start demo campaign").ClickAsync();
            string first = await WaitForCampaignAsync(http, null, "Completed", TimeSpan.FromMinutes(3));

            // The prescribe stage is one trace: the trainer's stage span and the messages of the services it used.
            await page.GotoAsync(new Uri(login, "/traces").ToString());
            // By name: the list is virtualised, and the status polls' traces can push the stage's row out of what is drawn.
            await page.Locator("fluent-text-input[name='traces-search']").ClickAsync();
            await page.Keyboard.TypeAsync("prescribe");
            var trace = page.GetByRole(AriaRole.Row).Filter(new() { HasTextRegex = new Regex(@"prescribe \(iteration 1\)") }).First;
            await Assertions.Expect(trace).ToBeVisibleAsync(new() { Timeout = 30_000 });
            foreach (string service in new[] { "trainer", "teacher", "imagesynth", "qualityfilter" })
                await Assertions.Expect(trace).ToContainTextAsync(service, new() { Timeout = 30_000 });
            // The name cell's label carries the full trace id: open the trace's own page.
            string label = await trace.GetByRole(AriaRole.Gridcell, new() { NameRegex = new Regex("^Name: ") }).First.GetAttributeAsync("aria-label") ?? "";
            string traceId = Regex.Match(label, "Trace Id: ([0-9a-f]{32})").Groups[1].Value;
            Assert.False(string.IsNullOrEmpty(traceId), $"no trace id in the name cell's label '{label}'");
            await page.GotoAsync(new Uri(login, $"/traces/detail/{traceId}").ToString());
            foreach (string service in new[] { "trainer", "teacher", "imagesynth", "qualityfilter" })
                await Assertions.Expect(page.GetByText(service).First).ToBeVisibleAsync(new() { Timeout = 30_000 });
            await ScreenshotAsync(page, "dashboard-trace.png");

            // The trainer's FailureSynth meter, with the campaign's instruments.
            await page.GotoAsync(new Uri(login, "/metrics/resource/trainer").ToString());
            await Assertions.Expect(page.GetByText("FailureSynth", new() { Exact = true }).First).ToBeVisibleAsync(new() { Timeout = 30_000 });
            foreach (string instrument in new[] { "failuresynth.failures.collected", "failuresynth.failures.located", "failuresynth.proposals",
                         "failuresynth.samples.accepted", "failuresynth.samples.rejected", "failuresynth.stage.duration", "failuresynth.test.accuracy" })
                await Assertions.Expect(page.GetByText(instrument, new() { Exact = true }).First).ToBeVisibleAsync(new() { Timeout = 30_000 });
            // The tree re-renders as data arrives, so the instrument is chosen by address rather than by a click.
            await page.GotoAsync(new Uri(login, "/metrics/resource/trainer?meter=FailureSynth&instrument=failuresynth.stage.duration&view=Table").ToString());
            await Assertions.Expect(page.GetByText("Wall time of a campaign stage").First).ToBeVisibleAsync(new() { Timeout = 30_000 });
            await page.WaitForTimeoutAsync(1500); // the chart draws after its data arrives
            await ScreenshotAsync(page, "dashboard-metrics.png");

            // Start it again, then cancel it from the dashboard (the command asks for confirmation first).
            await page.GotoAsync(login.GetLeftPart(UriPartial.Authority) + "/");
            await Assertions.Expect(ResourceRow(page, "trainer")).ToContainTextAsync("Running", new() { Timeout = 30_000 });
            await Command(page, "Start demo campaign").ClickAsync();
            string second = await WaitForCampaignAsync(http, first, "Running", TimeSpan.FromMinutes(1));

            // The campaign page, live: served by the trainer while the campaign runs (the browser sends the API key),
            // with a stage in progress. Its picture is docs/images/campaign-page-live.png.
            await using (var keyed = await browser.NewContextAsync(new()
            {
                ViewportSize = new() { Width = 1280, Height = 900 },
                ExtraHTTPHeaders = new Dictionary<string, string> { ["X-Api-Key"] = ApiKey },
            }))
            {
                var live = await keyed.NewPageAsync();
                var errors = new List<string>();
                live.Console += (_, m) => { if (m.Type == "error") errors.Add(m.Text); };
                live.PageError += (_, e) => errors.Add(e);
                var response = await live.GotoAsync(new Uri(api, $"campaigns/{second}/page").ToString());
                Assert.Equal(200, response?.Status);
                // The page is built on each request; the campaign's first stage reports its progress a moment after it starts.
                for (int reload = 0; reload < 40 && await live.Locator("table.progress td.running").CountAsync() == 0; reload++)
                {
                    await Task.Delay(250);
                    await live.ReloadAsync();
                }
                Assert.Equal("running", await live.TextContentAsync("[data-state]"));
                Assert.True(await live.Locator("table.progress td.running").CountAsync() > 0, "the live page shows no stage in progress");
                Assert.Empty(errors);
                await live.ScreenshotAsync(new() { Path = Path.Combine(_screenshots, "campaign-page-live.png") });
            }
            await Command(page, "Cancel running campaign").ClickAsync();
            // The dialog's buttons are Fluent web components with no button role of their own: found by their text.
            await page.Locator("fluent-button", new() { HasTextRegex = new Regex(@"^\s*Yes\s*$") }).First.ClickAsync();
            Assert.Equal(second, await WaitForCampaignAsync(http, first, "Cancelled", TimeSpan.FromMinutes(1)));
        }
        catch
        {
            // What the browser saw, for whoever reads the failure.
            await page.ScreenshotAsync(new() { Path = Path.Combine(_screenshots, "failure.png"), FullPage = true });
            await File.WriteAllTextAsync(Path.Combine(_screenshots, "failure.html"), await page.ContentAsync());
            await File.WriteAllTextAsync(Path.Combine(_screenshots, "failure-apphost.log"), appHost.Output);
            throw;
        }
    }

    // This machine has no trusted development certificate (the dashboard is plain http on loopback): its banner is hidden for the pictures.
    private async Task ScreenshotAsync(IPage page, string file)
    {
        var banner = page.Locator("fluent-button[aria-label='Dismiss notification']");
        try
        {
            if (await banner.CountAsync() > 0) await banner.First.ClickAsync(new() { Timeout = 5_000 });
        }
        catch (TimeoutException)
        {
            // Cosmetic only: a picture with the banner is still a picture of the page.
        }
        await page.ScreenshotAsync(new() { Path = Path.Combine(_screenshots, file) });
    }

    // A resource's row: the one whose name cell reads "TYPE: NAME" (so "messaging" is not "messaging-epmd").
    private static ILocator ResourceRow(IPage page, string name) =>
        page.GetByRole(AriaRole.Row).Filter(new() { Has = page.GetByRole(AriaRole.Gridcell, new() { NameRegex = new Regex($"^[^:]+: {Regex.Escape(name)}$") }) }).First;

    // A highlighted command is an icon button in the row, named by its description, which starts with the command's name.
    private static ILocator Command(IPage page, string displayName) =>
        ResourceRow(page, "trainer").GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^" + Regex.Escape(displayName) + ":") });

    /// <summary>Waits until a campaign other than <paramref name="except"/> reaches <paramref name="state"/>; returns its id.</summary>
    private static async Task<string> WaitForCampaignAsync(HttpClient http, string? except, string state, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        string seen = "none";
        while (DateTime.UtcNow < deadline)
        {
            var campaigns = await http.GetFromJsonAsync<JsonElement>(new Uri("campaigns", UriKind.Relative));
            foreach (var c in campaigns.EnumerateArray())
            {
                string id = c.GetProperty("id").GetString()!, s = c.GetProperty("state").GetString()!;
                if (id == except) continue;
                if (s == state) return id;
                if (s is "Failed" && state != "Failed") throw new InvalidOperationException($"Campaign {id} failed: {c.GetProperty("error")}");
                seen = $"{id}: {s}";
            }
            await Task.Delay(500);
        }
        throw new TimeoutException($"No campaign reached {state} within {timeout.TotalSeconds:0} s (last seen {seen}).");
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
