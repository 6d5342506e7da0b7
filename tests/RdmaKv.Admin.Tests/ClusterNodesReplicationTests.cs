using System.Net.Http.Json;
using System.Text.Json;
using RdmaKv.Core;
using RdmaKv.Core.Cluster;
using RdmaKv.Tests;

namespace RdmaKv.Admin.Tests;

/// <summary>
/// Four members of one replicated cluster: three admin planes on loopback over fake nodes, one
/// whose admin plane is not there. <c>/api/cluster/nodes</c> on node a and <c>rdmakv cluster
/// show</c> against it show each node's leads, backs, lease, serving and lag.
/// </summary>
/// <remarks>
/// Slots 0 and 1: a leads, no backup (short of 2 copies). Slots 2 and 3: b leads, a backs. c
/// holds nothing. d holds nothing and does not answer.
/// </remarks>
public sealed class ClusterNodesReplicationTests(BrowserFixture browser) : IAsyncLifetime, IClassFixture<BrowserFixture>
{
    readonly string _dir = Directory.CreateTempSubdirectory("rdmakv-admin-replication-").FullName;
    readonly Dictionary<string, FakeClusterNode> _nodes = [];
    readonly List<AdminPlane> _planes = [];
    readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    string _adminA = "";

    public async Task InitializeAsync()
    {
        var ports = new Dictionary<string, int>();
        foreach (string id in (string[])["a", "b", "c", "d"]) ports[id] = ProcessOutput.FreeLoopbackPort();
        var map = ClusterMap.Parse($$"""
            { "epoch": 7, "slots": 4, "replicas": 2, "nodes": [
              { "id": "a", "ucx": "127.0.0.1:7", "admin": "http://127.0.0.1:{{ports["a"]}}" },
              { "id": "b", "ucx": "127.0.0.1:8", "admin": "http://127.0.0.1:{{ports["b"]}}" },
              { "id": "c", "ucx": "127.0.0.1:9", "admin": "http://127.0.0.1:{{ports["c"]}}" },
              { "id": "d", "ucx": "127.0.0.1:10", "admin": "http://127.0.0.1:{{ports["d"]}}" } ],
              "owners": ["a","a","b","b"], "backups": [[],[],["a"],["a"]] }
            """);
        foreach (string id in (string[])["a", "b", "c"])
        {
            var node = new FakeClusterNode(id) { ClusterMap = map, Replication = FakeClusterNode.Status(true, ["a", "b", "c"]) };
            var plane = AdminPlane.Create(new AdminOptions { DataDirectory = Path.Combine(_dir, id), Urls = $"http://127.0.0.1:{ports[id]}", SampleInterval = TimeSpan.FromMinutes(1) });
            _planes.Add(plane);
            await plane.StartAsync();
            plane.Attach(node);
            _nodes[id] = node;
        }
        _nodes["a"].CounterValues[StatNames.ReplicaWrites] = 11;
        _nodes["b"].CounterValues[StatNames.ReplicaFailures] = 3;
        _nodes["b"].Replication = FakeClusterNode.Status(false, ["a", "b", "c"], "no lease for slot 2");
        _adminA = $"http://127.0.0.1:{ports["a"]}";
    }

    /// <summary>
    /// The rows once a, b and c (the nodes with an admin plane) all answered a's request: a peer's
    /// /api/stats gets 2 s, which a first request on a loaded machine can exceed (then it shows
    /// down, and the dashboard asks again); d never answers.
    /// </summary>
    async Task<(JsonElement Root, Dictionary<string, JsonElement> Nodes)> Nodes()
    {
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var root = await _http.GetFromJsonAsync<JsonElement>(_adminA + "/api/cluster/nodes");
            var rows = root.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("id").GetString()!);
            bool answered = rows.Where(r => r.Key != "d").All(r => r.Value.GetProperty("error").ValueKind == JsonValueKind.Null);
            if (answered || deadline.Elapsed > TimeSpan.FromSeconds(60)) return (root, rows);
            await Task.Delay(100);
        }
    }

    static string? Text(JsonElement row, string name) => row.GetProperty(name).ValueKind == JsonValueKind.Null ? null : row.GetProperty(name).GetString();

    [Fact]
    public async Task EachNodeShowsItsLeadsBacksLeaseServingAndLag()
    {
        var (root, nodes) = await Nodes();
        Assert.Equal(2, root.GetProperty("replicas").GetInt32());
        Assert.Equal(2, root.GetProperty("slotsShortOfReplicas").GetInt32());

        var a = nodes["a"];
        Assert.True(a.GetProperty("self").GetBoolean());
        Assert.Equal((2, 2), (a.GetProperty("slots").GetInt32(), a.GetProperty("backs").GetInt32()));
        Assert.Equal("live", Text(a, "lease"));
        Assert.True(a.GetProperty("serving").GetBoolean());
        Assert.Equal("synchronous", Text(a, "lag"));
        Assert.Equal(11, a.GetProperty("replicaWrites").GetInt64());

        // b says it does not serve, and why; it leads but backs nothing, so it follows no one.
        var b = nodes["b"];
        Assert.True(b.GetProperty("up").GetBoolean(), b.ToString());
        Assert.Equal((2, 0), (b.GetProperty("slots").GetInt32(), b.GetProperty("backs").GetInt32()));
        Assert.False(b.GetProperty("serving").GetBoolean());
        Assert.Equal("no lease for slot 2", Text(b, "notServing"));
        Assert.Equal("primary", Text(b, "lag"));
        Assert.Equal(3, b.GetProperty("replicaFailures").GetInt64());

        var c = nodes["c"];
        Assert.Equal((0, 0), (c.GetProperty("slots").GetInt32(), c.GetProperty("backs").GetInt32()));
        Assert.Equal("no copy", Text(c, "lag"));
        Assert.True(c.GetProperty("serving").GetBoolean());

        // d's lease expired (a does not see it live) and its admin plane is not there: nothing is known of its lag.
        var d = nodes["d"];
        Assert.False(d.GetProperty("up").GetBoolean());
        Assert.Equal("expired", Text(d, "lease"));
        Assert.Null(Text(d, "lag"));
        Assert.Equal(JsonValueKind.Null, d.GetProperty("serving").ValueKind);
        Assert.False(string.IsNullOrEmpty(Text(d, "error")));
    }

    [Fact]
    public async Task ANodeWhoseLeaseExpiredHasNoLagEvenWhenItsAdminPlaneAnswers()
    {
        _nodes["a"].Replication = FakeClusterNode.Status(true, ["a", "b"]);
        var (_, nodes) = await Nodes();
        Assert.True(nodes["c"].GetProperty("up").GetBoolean());
        Assert.Equal("expired", Text(nodes["c"], "lease"));
        Assert.Null(Text(nodes["c"], "lag"));
    }

    [Fact]
    public async Task WithoutEtcdThereIsNoLeaseAndNoServingButTheLagFollowsTheMap()
    {
        foreach (var node in _nodes.Values) node.Replication = null;
        var (_, nodes) = await Nodes();
        Assert.All(nodes.Values, n => Assert.Equal(JsonValueKind.Null, n.GetProperty("lease").ValueKind));
        Assert.All(nodes.Values, n => Assert.Equal(JsonValueKind.Null, n.GetProperty("serving").ValueKind));
        Assert.Equal("synchronous", Text(nodes["a"], "lag"));
        Assert.Null(Text(nodes["d"], "lag")); // not answering
    }

    [Fact]
    public async Task ClusterShowPrintsOneRowPerNodeWithStateLeadsBacksLeaseAndLag()
    {
        _nodes["a"].Replication = FakeClusterNode.Status(true, ["a", "b"]);
        var (code, stdout, stderr) = await CliAdminVerbTests.RunCli("cluster", "show", "--admin", _adminA);
        Assert.True(code == 0, stderr);
        Assert.Contains("epoch 7, 4 slots, 2 copies each (2 slots have fewer", stdout, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^ID\s+STATE\s+LEADS\s+BACKS\s+LEASE\s+SERVING\s+LAG\s+ADMIN URL$", stdout);
        Assert.Matches(@"(?m)^a\s+up\s+2 slots\s+2\s+live\s+yes\s+0 \(sync\)\s+http://", stdout);
        Assert.Matches(@"(?m)^b\s+up\s+2 slots\s+0\s+live\s+no\s+0 \(primary\)\s+http://", stdout);
        Assert.Matches(@"(?m)^c\s+down\s+0 slots\s+0\s+expired\s+yes\s+-\s+http://", stdout);
        Assert.Matches(@"(?m)^d\s+down\s+0 slots\s+0\s+expired\s+\?\s+-\s+http://", stdout);
        Assert.Contains("  b does not serve: no lease for slot 2", stdout, StringComparison.Ordinal);
        Assert.Contains("  d: its admin plane did not answer:", stdout, StringComparison.Ordinal);
        Assert.Contains("Replication is synchronous", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheDashboardsClusterPanelShowsTheSameColumns()
    {
        _nodes["a"].Replication = FakeClusterNode.Status(true, ["a", "b"]);
        var page = await browser.Context.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        await page.GotoAsync(_adminA + "/");
        await page.WaitForSelectorAsync("#cluster-nodes tr[data-node='d']", new() { Timeout = 20_000 });

        async Task<string[]> Row(string id) =>
            [.. (await page.Locator($"#cluster-nodes tr[data-node='{id}'] td").AllTextContentsAsync()).Take(7)];
        Assert.Equal(["a (this node)", "up", "2", "2", "live", "yes", "0 (sync)"], await Row("a"));
        Assert.Equal(["b", "up", "2", "0", "live", "no", "0 (primary)"], await Row("b"));
        Assert.Equal(["c", "down", "0", "0", "expired", "yes", "–"], await Row("c"));
        Assert.Equal(["d", "down", "0", "0", "expired", "–", "–"], await Row("d"));
        Assert.Equal("no lease for slot 2", await page.GetAttributeAsync("#cluster-nodes tr[data-node='b'] td:nth-child(6)", "title"));
        Assert.Equal(["node", "state", "leads", "backs", "lease", "serving", "lag"], (await page.Locator("#cluster thead th").AllTextContentsAsync()).Take(7));
        Assert.Contains("2 copies each", await page.TextContentAsync("#cluster-epoch"), StringComparison.Ordinal);
        Assert.Contains("replication is synchronous", await page.TextContentAsync("#cluster-legend"), StringComparison.Ordinal);
        Assert.Empty(errors);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        foreach (var plane in _planes) await plane.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}
