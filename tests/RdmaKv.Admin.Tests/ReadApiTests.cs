using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace RdmaKv.Admin.Tests;

/// <summary>The read-only endpoints, health and errors, against a real node in this process.</summary>
public sealed class ReadApiTests(NodeFixture fixture) : IClassFixture<NodeFixture>
{
    readonly InProcessNode _node = fixture.Node;

    Task<JsonElement> Json(string path) => _node.Http.GetFromJsonAsync<JsonElement>(path);

    [Fact]
    public async Task NodeSaysWhoItIsAndThatItIsReady()
    {
        var node = await Json("/api/node");
        Assert.Equal(_node.Node.Options.Name, node.GetProperty("name").GetString());
        Assert.False(string.IsNullOrEmpty(node.GetProperty("version").GetString()));
        Assert.Equal(2, node.GetProperty("partitions").GetInt32());
        Assert.True(node.GetProperty("ready").GetBoolean());
        Assert.Contains(node.GetProperty("readiness").EnumerateArray(), c => c.GetProperty("name").GetString() == "local transport");
    }

    [Fact]
    public async Task StatsCountClientOperationsLatenciesAndClients()
    {
        var before = await Json("/api/stats");
        using var client = _node.Connect();
        for (int i = 0; i < 300; i++) client.Put($"k{i}", "value");
        for (int i = 0; i < 100; i++) client.Delete($"k{i}");

        var stats = await Json("/api/stats");
        long Delta(params string[] path)
        {
            JsonElement a = stats, b = before;
            foreach (string p in path) (a, b) = (a.GetProperty(p), b.GetProperty(p));
            return a.GetInt64() - b.GetInt64();
        }
        Assert.Equal(300, Delta("operations", "puts"));
        Assert.Equal(100, Delta("operations", "deletes"));
        Assert.Equal(200, Delta("keys"));
        Assert.True(stats.GetProperty("clients").GetProperty("connected").GetInt64() >= 1);
        Assert.True(Delta("clients", "total") >= 1);
        Assert.True(Delta("bytesIn") > 300 * 10);
        Assert.Equal(300, Delta("latency", "put", "count"));
        var put = stats.GetProperty("latency").GetProperty("put");
        double p50 = put.GetProperty("p50Us").GetDouble(), p99 = put.GetProperty("p99Us").GetDouble();
        Assert.InRange(p50, 0.001, 1_000_000);
        Assert.True(p99 >= p50, $"p99 {p99} < p50 {p50}");
        Assert.Equal(100, Delta("latency", "delete", "count"));
    }

    [Fact]
    public async Task StatsShowTheOneSidedReadsClientsReport()
    {
        using var client = _node.Connect();
        client.Put("seen", "value");
        client.ReportNow();
        var before = await Json("/api/stats");
        for (int i = 0; i < 250; i++) Assert.NotNull(client.Get("seen"));
        client.ReportNow();

        var stats = await Json("/api/stats");
        long Delta(string name) => stats.GetProperty("reportedByClients").GetProperty(name).GetInt64()
            - before.GetProperty("reportedByClients").GetProperty(name).GetInt64();
        Assert.Equal(250, Delta("lookups"));
        Assert.Equal(250, Delta("oneSidedGets"));
        Assert.Equal(0, Delta("fallbacks"));
        Assert.Equal(0, stats.GetProperty("operations").GetProperty("fallbackGets").GetInt64() - before.GetProperty("operations").GetProperty("fallbackGets").GetInt64());
    }

    [Fact]
    public async Task RatesComeFromTheSampler()
    {
        _node.Admin.Sampler.SampleOnce();
        using var client = _node.Connect();
        for (int i = 0; i < 500; i++) client.Put($"r{i}", "v");
        _node.Admin.Sampler.SampleOnce();

        var rates = (await Json("/api/stats")).GetProperty("rates");
        Assert.True(rates.GetProperty("perSecond").GetProperty("puts").GetDouble() > 0);
        var dashboard = await Json("/api/dashboard?since=0");
        var last = dashboard.GetProperty("samples").EnumerateArray().Last();
        Assert.True(last.GetProperty("rates").GetProperty("puts").GetDouble() > 0);
        Assert.Equal(500, last.GetProperty("latency").GetProperty("put").GetProperty("count").GetInt64());
        long time = last.GetProperty("time").GetInt64();
        Assert.Empty((await Json($"/api/dashboard?since={time}")).GetProperty("samples").EnumerateArray());
    }

    [Fact]
    public async Task PartitionsReportTheirFill()
    {
        long keysBefore = (await Json("/api/partitions")).EnumerateArray().Sum(p => p.GetProperty("keys").GetInt64());
        using var client = _node.Connect();
        for (int i = 0; i < 2000; i++) client.Put($"p{i}", new string('x', 100));
        var partitions = (await Json("/api/partitions")).EnumerateArray().ToList();
        Assert.Equal(2, partitions.Count);
        Assert.Equal(keysBefore + 2000, partitions.Sum(p => p.GetProperty("keys").GetInt64()));
        Assert.Equal(keysBefore + 2000, partitions.Sum(p => p.GetProperty("residentKeys").GetInt64()));
        Assert.All(partitions, p => Assert.Equal(0, p.GetProperty("coldKeys").GetInt64()));
        foreach (var p in partitions)
        {
            double load = p.GetProperty("loadFactor").GetDouble();
            Assert.InRange(load, 0.01, 0.85);
            Assert.Equal((double)p.GetProperty("keys").GetInt64() / p.GetProperty("entries").GetInt64(), load, tolerance: 0.0001);
            var extents = p.GetProperty("extents");
            Assert.True(extents.GetProperty("liveBytes").GetInt64() > 1000 * 100);
            Assert.InRange(extents.GetProperty("use").GetDouble(), 0.001, 1);
            Assert.InRange(extents.GetProperty("fragmentation").GetDouble(), 0, 1);
            Assert.True(p.GetProperty("generation").GetUInt64() >= 1);
        }
    }

    [Fact]
    public async Task ClusterMapShowsThisNodeWithoutTheHashSeed()
    {
        var response = await _node.Http.GetAsync("/api/cluster");
        string body = await response.Content.ReadAsStringAsync();
        var cluster = JsonDocument.Parse(body).RootElement;
        var node = Assert.Single(cluster.GetProperty("nodes").EnumerateArray());
        Assert.Equal(_node.Node.Options.Name, node.GetProperty("name").GetString());
        Assert.Equal(2, node.GetProperty("regions").GetArrayLength());
        Assert.All(cluster.GetProperty("partitions").EnumerateArray(), p => Assert.Equal(_node.Node.Options.Name, p.GetProperty("node").GetString()));
        Assert.DoesNotContain("seed", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(_node.Node.View().HashSeed.ToString(System.Globalization.CultureInfo.InvariantCulture), body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailedClientRequestsAreCountedAndListed()
    {
        await using var small = await InProcessNode.StartAsync(o => o with { Partitions = 1, MemoryBytes = 2L << 20, ColdTier = false });
        using var client = small.Connect();
        var value = new byte[Core.Limits.MaxValueLength];
        var failure = Assert.Throws<Client.KvException>(() =>
        {
            for (int i = 0; i < 4; i++) client.Put(System.Text.Encoding.UTF8.GetBytes($"big{i}"), value);
        });
        Assert.Equal(Core.StoreStatus.RegionFull, failure.Status);
        var stats = await small.Http.GetFromJsonAsync<JsonElement>("/api/stats");
        Assert.Equal(1, stats.GetProperty("errors").GetProperty("requests").GetInt64());
        var errors = await small.Http.GetFromJsonAsync<JsonElement>("/api/errors");
        var error = Assert.Single(errors.EnumerateArray());
        Assert.Contains("--memory", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LiveAndReadyAnswerWhileTheNodeServes()
    {
        var live = await _node.Http.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        var ready = await _node.Http.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("Healthy", (await ready.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task WithoutItsNodeTheAdminPlaneIsLiveButNotReady()
    {
        _node.Admin.Detach();
        try
        {
            await AssertNotReadyWithoutNode();
        }
        finally
        {
            _node.Admin.Attach(_node.Node);
        }
        Assert.Equal(HttpStatusCode.OK, (await _node.Http.GetAsync("/health/ready")).StatusCode);
    }

    async Task AssertNotReadyWithoutNode()
    {
        Assert.Equal(HttpStatusCode.OK, (await _node.Http.GetAsync("/health/live")).StatusCode);
        var ready = await _node.Http.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("starting", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var stats = await _node.Http.GetAsync("/api/stats");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, stats.StatusCode);
        Assert.Equal("application/problem+json", stats.Content.Headers.ContentType?.MediaType);
        var metrics = PrometheusText.Parse(await _node.Http.GetStringAsync("/metrics"));
        Assert.Equal(0, metrics.Value("rdmakv_ready"));
    }

    [Fact]
    public async Task AStoppingNodeIsNotReady()
    {
        await using var stopping = await InProcessNode.StartAsync();
        stopping.Node.Dispose();
        var ready = await stopping.Http.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("local transport: stopping", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACheckpointOnDemandNeedsTheTokenAndIsTaken()
    {
        long Checkpoints() => _node.Node.Stats().GetValueOrDefault("store_checkpoints");
        long before = Checkpoints();
        var refused = await _node.SendAsync(HttpMethod.Post, "/api/checkpoint");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(before, Checkpoints());

        using (var client = _node.Connect()) client.Put("before-checkpoint", "v");
        var taken = await _node.SendAsync(HttpMethod.Post, "/api/checkpoint", _node.Token);
        Assert.Equal(HttpStatusCode.OK, taken.StatusCode);
        var report = await taken.Content.ReadFromJsonAsync<JsonElement>();
        Assert.NotEqual(Guid.Empty, report.GetProperty("id").GetGuid());
        Assert.True(report.GetProperty("logStart").GetInt64() > 0);
        Assert.Equal(before + 1, Checkpoints());
    }

    [Theory]
    [InlineData("/api/nothing-here")]
    [InlineData("/no/such/page")]
    public async Task UnknownPathsGet404ProblemDetails(string path)
    {
        var response = await _node.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task AWrongMethodGets405AndAStatsPostChangesNothing()
    {
        var response = await _node.Http.PostAsync("/api/stats", new StringContent("{}"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task ABadQueryGets400()
    {
        var response = await _node.Http.GetAsync("/api/dashboard?since=yesterday");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
