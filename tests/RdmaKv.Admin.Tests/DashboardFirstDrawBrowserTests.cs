using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace RdmaKv.Admin.Tests;

/// <summary>
/// The dashboard draws the node's data as it loads, not after a refresh interval. Its own class,
/// so its own browser: the frozen clock belongs to the browser context.
/// </summary>
[Collection(LiveServerCollection.Name)]
public sealed class DashboardFirstDrawBrowserTests(LiveServerFixture live, BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task TheFirstDataIsDrawnWithoutWaitingForARefresh()
    {
        // Data is available: the node has taken a sample.
        using var waited = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while ((await live.Http.GetFromJsonAsync<JsonElement>("api/dashboard?since=0", waited.Token)).GetProperty("samples").GetArrayLength() == 0)
            await Task.Delay(100, waited.Token);
        // The page's clock stands still from before it loads: no timer of the page ever fires,
        // so what it draws comes from what it fetched as it loaded.
        var page = await browser.Context.NewPageAsync();
        await page.Clock.InstallAsync(new() { TimeDate = DateTime.UtcNow });
        await page.Clock.PauseAtAsync(DateTime.UtcNow.AddSeconds(1));
        var errors = new List<string>();
        page.PageError += (_, error) =>
        {
            lock (errors) errors.Add($"page error: {error}");
        };
        await page.GotoAsync(live.AdminUrl.ToString(), new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        await page.WaitForFunctionAsync(
            "() => document.getElementById('ready').textContent !== 'connecting' && typeof JSON.parse(document.getElementById('ops-chart').dataset.latest || '{}').puts === 'number'",
            null, new() { Timeout = 20_000, PollingInterval = 100 });
        Assert.NotEqual("–", await page.TextContentAsync("#tile-keys"));
        lock (errors) Assert.True(errors.Count == 0, string.Join("\n", errors));
    }
}
