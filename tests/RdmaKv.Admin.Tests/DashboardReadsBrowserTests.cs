using System.Text.Json;
using Microsoft.Playwright;

namespace RdmaKv.Admin.Tests;

/// <summary>
/// What the dashboard shows of reads it never serves: under a GET-only load of one-sided reads
/// from a real client, the reads chart, the operations chart and the gets tile leave zero. Also:
/// the time axis speaks one unit.
/// </summary>
[Collection(LiveServerCollection.Name)]
public sealed class DashboardReadsBrowserTests(LiveServerFixture live, BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    async Task<IPage> Open(List<string> errors)
    {
        var page = await browser.Context.NewPageAsync();
        await page.SetViewportSizeAsync(1400, 1000);
        page.PageError += (_, error) =>
        {
            lock (errors) errors.Add($"page error: {error}");
        };
        var response = await page.GotoAsync(live.AdminUrl.ToString(), new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        Assert.True(response is { Ok: true }, $"the dashboard answered {response?.Status}");
        return page;
    }

    static async Task<JsonElement> Latest(IPage page, string chart) =>
        JsonDocument.Parse(await page.GetAttributeAsync($"#{chart}", "data-latest") ?? "{}").RootElement.Clone();

    [Fact]
    public async Task OneSidedReadsShowOnTheReadsChartUnderAGetOnlyLoad()
    {
        using (var writer = Client.KvClient.Connect(live.Server.ConnectUri))
        {
            for (int i = 0; i < 100; i++) writer.Put($"reads:{i}", "value");
        }
        var errors = new List<string>();
        var page = await Open(errors);
        await page.WaitForFunctionAsync("() => Number(document.getElementById('reads-chart').dataset.draws) >= 1", null, new() { Timeout = 20_000 });

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var load = Task.Run(() =>
        {
            // One-sided GETs only; the client reports them to the node about once a second.
            using var reader = Client.KvClient.Connect(live.Server.ConnectUri);
            long gets = 0;
            while (!stop.IsCancellationRequested)
            {
                Assert.NotNull(reader.Get($"reads:{gets % 100}"));
                gets++;
            }
            return gets;
        });
        try
        {
            await page.WaitForFunctionAsync(
                """
                () => {
                  const reads = JSON.parse(document.getElementById('reads-chart').dataset.latest || '{}');
                  const ops = JSON.parse(document.getElementById('ops-chart').dataset.latest || '{}');
                  return reads['one-sided gets'] > 0 && ops['one-sided gets'] > 0 && reads['cache hits'] > 0;
                }
                """, null, new() { Timeout = 45_000, PollingInterval = 200 });
        }
        finally
        {
            await stop.CancelAsync();
            Assert.True(await load > 0, "the load read nothing");
        }

        var reads = await Latest(page, "reads-chart");
        Assert.InRange(reads.GetProperty("cache hits").GetDouble(), 0.001, 100);
        Assert.NotEqual("–", await page.TextContentAsync("#tile-gets"));
        Assert.NotEqual("0", await page.TextContentAsync("#tile-gets"));
        lock (errors) Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    [Fact]
    public async Task TheTimeAxisLabelsUseOneUnit()
    {
        var errors = new List<string>();
        var page = await Open(errors);
        await page.WaitForFunctionAsync("() => document.getElementById('ops-chart').dataset.timeLabels", null, new() { Timeout = 20_000 });
        var drawn = JsonSerializer.Deserialize<string[]>(await page.GetAttributeAsync("#ops-chart", "data-time-labels") ?? "[]")!;
        AssertOneUnit(drawn, "drawn");

        // Every span the page can show: from its first minute to a full history of 300 samples
        // (5 min at the default interval), and longer intervals' hours.
        long[] spans = [.. Enumerable.Range(60, 241).Select(s => s * 1000L), 600_000, 1_800_000, 3_600_000, 18_000_000];
        var labels = await page.EvaluateAsync<string[][]>("spans => spans.map(s => window.rdmakvDashboard.timeLabels(s))", spans);
        for (int i = 0; i < spans.Length; i++) AssertOneUnit(labels[i], $"a span of {spans[i] / 1000} s");
        Assert.Equal(["-5m", "-4m", "-3m", "-2m", "-1m", "now"], labels[240]);
        lock (errors) Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    static void AssertOneUnit(string[] labels, string what)
    {
        string all = string.Join(", ", labels);
        Assert.True(labels.Length is >= 3 and <= 6, $"{what}: {all}");
        Assert.Equal("now", labels[^1]);
        var units = labels[..^1].Select(l => System.Text.RegularExpressions.Regex.Match(l, @"^-\d+([smh])$")).ToList();
        Assert.True(units.All(m => m.Success), $"{what}: {all}");
        Assert.True(units.Select(m => m.Groups[1].Value).Distinct().Count() == 1, $"{what} mixes units: {all}");
    }
}
