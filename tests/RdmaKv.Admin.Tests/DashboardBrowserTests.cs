using System.Text.Json;
using Microsoft.Playwright;

namespace RdmaKv.Admin.Tests;

/// <summary>
/// Debian's chromium, driven headless by Playwright, opens the dashboard of a real node process:
/// the page loads without console errors, its charts change while a load runs, it fits a phone,
/// and screenshots are left in the test results.
/// </summary>
[Collection(LiveServerCollection.Name)]
public sealed class DashboardBrowserTests(LiveServerFixture live, BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    readonly List<string> _consoleErrors = [];
    readonly IBrowserContext _browser = browser.Context;

    async Task<IPage> Open(int width, int height)
    {
        var page = await _browser.NewPageAsync();
        await page.SetViewportSizeAsync(width, height);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
                lock (_consoleErrors) _consoleErrors.Add($"console: {message.Text}");
        };
        page.PageError += (_, error) =>
        {
            lock (_consoleErrors) _consoleErrors.Add($"page error: {error}");
        };
        page.RequestFailed += (_, request) =>
        {
            lock (_consoleErrors) _consoleErrors.Add($"request failed: {request.Url} {request.Failure}");
        };
        var response = await page.GotoAsync(live.AdminUrl.ToString(), new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        Assert.NotNull(response);
        Assert.True(response.Ok, $"the dashboard answered {response.Status}");
        return page;
    }

    static async Task<JsonElement> Latest(IPage page, string chart)
    {
        string? json = await page.GetAttributeAsync($"#{chart}", "data-latest");
        Assert.NotNull(json);
        return JsonDocument.Parse(json).RootElement.Clone();
    }

    [Fact]
    public async Task TheDashboardLoadsCleanlyAndItsChartsMoveWhileALoadRuns()
    {
        var page = await Open(1280, 900);
        // The first draw: the charts exist and carry what they show.
        await page.WaitForFunctionAsync("() => Number(document.getElementById('ops-chart').dataset.draws) >= 1", null, new() { Timeout = 20_000 });
        Assert.Equal(live.Server.Name, await page.TextContentAsync("#node-name"));
        string before = await page.EvalOnSelectorAsync<string>("#ops-chart", "c => c.toDataURL()");
        double putsBefore = (await Latest(page, "ops-chart")).GetProperty("puts").GetDouble();

        JsonElement ops;
        string after;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(40));
        var load = live.RunLoadAsync(stop.Token);
        try
        {
            // Charts refresh by themselves: wait until the ops chart shows puts per second and the
            // latency chart shows a put p50, both coming from the load.
            await page.WaitForFunctionAsync(
                """
                () => {
                  const ops = JSON.parse(document.getElementById('ops-chart').dataset.latest || '{}');
                  const lat = JSON.parse(document.getElementById('latency-chart').dataset.latest || '{}');
                  const clients = JSON.parse(document.getElementById('clients-chart').dataset.latest || '{}');
                  return ops.puts > 100 && lat['put p50'] > 0 && clients.clients >= 1;
                }
                """, null, new() { Timeout = 30_000, PollingInterval = 200 });
            // One more refresh, so the picture holds a few points of the load.
            await page.WaitForFunctionAsync(
                "n => Number(document.getElementById('ops-chart').dataset.draws) >= n",
                int.Parse(await page.GetAttributeAsync("#ops-chart", "data-draws") ?? "0", System.Globalization.CultureInfo.InvariantCulture) + 2,
                new() { Timeout = 10_000 });
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Artifacts.Directory, "dashboard-laptop.png"), FullPage = true });
            ops = await Latest(page, "ops-chart");
            after = await page.EvalOnSelectorAsync<string>("#ops-chart", "c => c.toDataURL()");
        }
        finally
        {
            await stop.CancelAsync();
            long puts = await load;
            Assert.True(puts > 0, "the load did nothing");
        }

        Assert.True(ops.GetProperty("puts").GetDouble() > putsBefore, $"puts/s stayed at {putsBefore}");
        Assert.NotEqual(before, after);
        Assert.NotEqual("–", await page.TextContentAsync("#tile-puts"));
        Assert.Equal("ready", await page.TextContentAsync("#ready"));
        var partitions = await Latest(page, "partitions-chart");
        Assert.True(partitions.EnumerateObject().Sum(p => p.Value.GetProperty("keys").GetInt64()) > 0);
        lock (_consoleErrors) Assert.True(_consoleErrors.Count == 0, string.Join("\n", _consoleErrors));
    }

    [Fact]
    public async Task TheDashboardFitsAPhoneScreen()
    {
        var page = await Open(390, 844);
        await page.WaitForFunctionAsync("() => Number(document.getElementById('partitions-chart').dataset.draws) >= 1", null, new() { Timeout = 20_000 });
        int overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - document.documentElement.clientWidth");
        string wide = await page.EvaluateAsync<string>(
            """
            () => [...document.querySelectorAll('body *')]
              .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
              .map(e => `${e.tagName.toLowerCase()}#${e.id}.${e.className} right=${Math.round(e.getBoundingClientRect().right)}`)
              .slice(0, 8).join('; ')
            """);
        Assert.True(overflow <= 0, $"the page is {overflow} px wider than a phone screen: {wide}");
        double chartWidth = await page.EvalOnSelectorAsync<double>("#ops-chart", "c => c.getBoundingClientRect().width");
        Assert.InRange(chartWidth, 250, 390);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Artifacts.Directory, "dashboard-phone.png"), FullPage = true });
        lock (_consoleErrors) Assert.True(_consoleErrors.Count == 0, string.Join("\n", _consoleErrors));
    }
}

/// <summary>Debian's chromium, launched once per test class on a fresh profile directory.</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    const string Chromium = "/usr/bin/chromium";

    readonly string _profile = Directory.CreateTempSubdirectory("rdmakv-chromium-").FullName;
    IPlaywright? _playwright;

    public IBrowserContext Context { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run 'apt-get install -y chromium' (scripts/test.sh installs it)");
        _playwright = await Playwright.CreateAsync();
        // A persistent context on a fresh profile directory: nothing from an earlier run is reused.
        Context = await _playwright.Chromium.LaunchPersistentContextAsync(_profile, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
        });
    }

    public async Task DisposeAsync()
    {
        if (Context is not null) await Context.CloseAsync();
        _playwright?.Dispose();
        Directory.Delete(_profile, recursive: true);
    }
}
