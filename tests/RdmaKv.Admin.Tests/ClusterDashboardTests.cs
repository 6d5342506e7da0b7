using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Playwright;
using RdmaKv.Tests;

namespace RdmaKv.Admin.Tests;

/// <summary>
/// Two node processes of one cluster, each with its admin plane on the port the cluster file
/// names: either node's dashboard (in headless Chromium) shows both, and shows one down when it stops.
/// </summary>
public sealed class ClusterDashboardTests(BrowserFixture browser) : IClassFixture<BrowserFixture>, IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("rdmakv-admin-cluster-").FullName;
    readonly List<ServerProcess> _servers = [];

    [Fact]
    public async Task EitherNodesDashboardShowsEveryNodeAndOneThatIsDown()
    {
        int[] admin = [ProcessOutput.FreeLoopbackPort(), ProcessOutput.FreeLoopbackPort()];
        string file = Path.Combine(_dir, "cluster.json");
        await File.WriteAllTextAsync(file, $$"""
            { "epoch": 1, "slots": 16, "nodes": [
              { "id": "alpha", "ucx": "127.0.0.1:7", "admin": "http://127.0.0.1:{{admin[0]}}" },
              { "id": "beta", "ucx": "127.0.0.1:9", "admin": "http://127.0.0.1:{{admin[1]}}" } ],
              "owners": ["alpha","alpha","alpha","alpha","alpha","alpha","alpha","alpha","alpha","alpha","alpha","alpha","beta","beta","beta","beta"] }
            """);
        for (int i = 0; i < 2; i++)
        {
            _servers.Add(new ServerProcess(Path.Combine(_dir, $"node{i}"), $"http://127.0.0.1:{admin[i]}", null,
                "--cluster", file, "--node-id", i == 0 ? "alpha" : "beta"));
        }
        foreach (var s in _servers) s.WaitUntilUp();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        // A node asks each peer's /api/stats with 2 s to answer; a just-started peer on a loaded
        // machine can miss that once (it then shows down until the next refresh): ask until both are up.
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        JsonElement nodes;
        do nodes = await http.GetFromJsonAsync<JsonElement>($"http://127.0.0.1:{admin[1]}/api/cluster/nodes");
        while (!nodes.GetProperty("nodes").EnumerateArray().All(n => n.GetProperty("up").GetBoolean()) && deadline.Elapsed < TimeSpan.FromSeconds(60));
        Assert.Equal(2, nodes.GetProperty("nodes").GetArrayLength());
        Assert.All(nodes.GetProperty("nodes").EnumerateArray(), n => Assert.True(n.GetProperty("up").GetBoolean(), n.ToString()));

        var page = await browser.Context.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        await page.GotoAsync($"http://127.0.0.1:{admin[0]}/", new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        await page.WaitForSelectorAsync("#cluster-nodes tr[data-node='beta']", new() { Timeout = 20_000 });
        Assert.Equal("up", await page.TextContentAsync("#cluster-nodes tr[data-node='beta'] td:nth-child(2)"));
        Assert.Equal("12", await page.TextContentAsync("#cluster-nodes tr[data-node='alpha'] td:nth-child(3)"));
        Assert.Equal("4", await page.TextContentAsync("#cluster-nodes tr[data-node='beta'] td:nth-child(3)"));
        // One copy of each slot and no etcd: no backs, no lease, no serving state; a primary follows no one.
        Assert.Equal("0", await page.TextContentAsync("#cluster-nodes tr[data-node='beta'] td:nth-child(4)"));
        Assert.Equal("–", await page.TextContentAsync("#cluster-nodes tr[data-node='beta'] td:nth-child(5)"));
        Assert.Equal("0 (primary)", await page.TextContentAsync("#cluster-nodes tr[data-node='beta'] td:nth-child(7)"));
        Assert.Contains("epoch 1", await page.TextContentAsync("#cluster-epoch"), StringComparison.Ordinal);

        _servers[1].Dispose(); // beta stops
        await page.WaitForFunctionAsync("() => document.querySelector(\"#cluster-nodes tr[data-node='beta'] td:nth-child(2)\")?.textContent === 'down'", null, new() { Timeout = 30_000 });
        Assert.Empty(errors);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts.Directory, "dashboard-cluster.png"), FullPage = true });
    }

    public void Dispose()
    {
        foreach (var s in _servers) s.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
