using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using RdmaKv.Core;
using RdmaKv.Core.Cluster;
using RdmaKv.Tests;

namespace RdmaKv.Admin.Tests;

/// <summary>
/// The cluster panel as an overview: each node's operations per second (what it served and the
/// one-sided GETs clients report reading from it) and its put p99, from each node's own
/// /api/stats. Node a writes, node b is only read from one-sided; both must look busy.
/// </summary>
public sealed class ClusterOverviewTests(BrowserFixture browser) : IAsyncLifetime, IClassFixture<BrowserFixture>
{
    readonly string _dir = Directory.CreateTempSubdirectory("rdmakv-admin-overview-").FullName;
    readonly Dictionary<string, FakeClusterNode> _nodes = [];
    readonly Dictionary<string, AdminPlane> _planes = [];
    readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    readonly Dictionary<string, string> _admin = [];

    public async Task InitializeAsync()
    {
        foreach (string id in (string[])["a", "b"]) _admin[id] = $"http://127.0.0.1:{ProcessOutput.FreeLoopbackPort()}";
        var map = ClusterMap.Parse($$"""
            { "epoch": 3, "slots": 4, "nodes": [
              { "id": "a", "ucx": "127.0.0.1:7", "admin": "{{_admin["a"]}}" },
              { "id": "b", "ucx": "127.0.0.1:8", "admin": "{{_admin["b"]}}" } ],
              "owners": ["a","a","b","b"] }
            """);
        foreach (string id in _admin.Keys)
        {
            var node = new FakeClusterNode(id) { ClusterMap = map };
            // Samples only when the test takes them: the rates are what the test counted.
            var plane = AdminPlane.Create(new AdminOptions { DataDirectory = Path.Combine(_dir, id), Urls = _admin[id], SampleInterval = TimeSpan.FromMinutes(1) });
            _planes[id] = plane;
            await plane.StartAsync();
            plane.Attach(node); // the sampler's baseline: all counters 0
            _nodes[id] = node;
        }
        _nodes["a"].CounterValues[StatNames.Puts] = 3000;
        for (int i = 0; i < 3000; i++) _nodes["a"].PutLatency.Record(40_000 + i);
        _nodes["b"].CounterValues[StatNames.ClientLookups] = 50_000;
        _nodes["b"].CounterValues[StatNames.ClientOneSidedGets] = 50_000;
        foreach (var plane in _planes.Values) plane.Sampler.SampleOnce();
    }

    [Fact]
    public async Task EachNodeShowsItsOperationsPerSecondIncludingReportedReadsAndItsPutLatency()
    {
        var root = await _http.GetFromJsonAsync<JsonElement>(_admin["a"] + "/api/cluster/nodes");
        var nodes = root.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("id").GetString()!);

        // a (asked in process) served puts; its p99 is of the last interval's puts (40 to 43 µs,
        // in the 50 µs bucket).
        var a = nodes["a"];
        Assert.True(a.GetProperty("opsPerSecond").GetDouble() > 0, a.ToString());
        Assert.InRange(a.GetProperty("putP99Us").GetDouble(), 40, 50);
        // b (asked over its admin plane) served nothing itself: its load is client-reported reads,
        // as much as its own /api/stats says; without puts it has no put latency.
        var b = nodes["b"];
        var bStats = await _http.GetFromJsonAsync<JsonElement>(_admin["b"] + "/api/stats");
        double bOps = bStats.GetProperty("rates").GetProperty("operationsPerSecond").GetDouble();
        Assert.True(bOps > 0, bStats.ToString());
        Assert.Equal(bOps, b.GetProperty("opsPerSecond").GetDouble());
        Assert.Equal(JsonValueKind.Null, b.GetProperty("putP99Us").ValueKind);
        // Each rate is what the node counted over its one sampling interval: a's puts, b's reported one-sided GETs.
        Assert.Equal(3_000 / _planes["a"].Sampler.Latest!.Seconds, a.GetProperty("opsPerSecond").GetDouble(), tolerance: 0.1);
        Assert.Equal(50_000 / _planes["b"].Sampler.Latest!.Seconds, bOps, tolerance: 0.1);

        var page = await browser.Context.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        await page.GotoAsync(_admin["a"] + "/", new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        await page.WaitForSelectorAsync("#cluster-nodes tr[data-node='b']", new() { Timeout = 20_000 });
        var headers = await page.Locator("table.cluster th").AllTextContentsAsync();
        int ops = headers.ToList().IndexOf("ops/s") + 1, p99 = headers.ToList().IndexOf("put p99") + 1;
        Assert.True(ops > 0 && p99 > 0, string.Join(", ", headers));
        Assert.NotEqual("–", await page.TextContentAsync($"#cluster-nodes tr[data-node='b'] td:nth-child({ops})"));
        Assert.NotEqual("–", await page.TextContentAsync($"#cluster-nodes tr[data-node='a'] td:nth-child({ops})"));
        Assert.EndsWith("µs", await page.TextContentAsync($"#cluster-nodes tr[data-node='a'] td:nth-child({p99})"), StringComparison.Ordinal);
        Assert.Equal("–", await page.TextContentAsync($"#cluster-nodes tr[data-node='b'] td:nth-child({p99})"));
        Assert.Empty(errors);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        foreach (var plane in _planes.Values) await plane.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}
