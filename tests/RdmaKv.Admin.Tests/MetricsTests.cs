namespace RdmaKv.Admin.Tests;

/// <summary>/metrics in Prometheus text format, in process: exact counts and histograms.</summary>
public sealed class MetricsTests : IAsyncLifetime
{
    InProcessNode _node = null!;

    public async Task InitializeAsync() => _node = await InProcessNode.StartAsync();

    public async Task DisposeAsync() => await _node.DisposeAsync();

    async Task<IReadOnlyList<PromSample>> Scrape()
    {
        var response = await _node.Http.GetAsync("/metrics");
        response.EnsureSuccessStatusCode();
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        return PrometheusText.Parse(await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task CountersAndHistogramsFollowTheRequestsExactly()
    {
        var before = await Scrape();
        Assert.Equal(0, before.Value("rdmakv_requests_total", ("operation", "put")));
        Assert.Equal(1, before.Value("rdmakv_ready"));
        Assert.Equal(1, before.Value("rdmakv_node_info", ("node", _node.Node.Options.Name)));

        using var client = _node.Connect();
        for (int i = 0; i < 250; i++) client.Put($"m{i}", "value");
        for (int i = 0; i < 50; i++) client.Delete($"m{i}");

        var after = await Scrape();
        Assert.Equal(250, after.Value("rdmakv_requests_total", ("operation", "put")));
        Assert.Equal(50, after.Value("rdmakv_requests_total", ("operation", "delete")));
        Assert.Equal(200, after.Value("rdmakv_keys"));
        Assert.Equal(1, after.Value("rdmakv_connections_open"));
        Assert.Equal(250, after.Value("rdmakv_request_duration_seconds_count", ("operation", "put")));
        Assert.Equal(250, after.Value("rdmakv_request_duration_seconds_bucket", ("operation", "put"), ("le", "+Inf")));
        double sum = after.Value("rdmakv_request_duration_seconds_sum", ("operation", "put"));
        Assert.InRange(sum, 250 * 1e-8, 250 * 1.0);
        double exactSum = _node.Node.Counters.PutLatency.Snapshot().SumsNanos.Sum() / 1e9;
        Assert.Equal(exactSum, sum, 9);
        Assert.Equal(200, after.Where(s => s.Name == "rdmakv_partition_keys" && s.Has("state", "resident")).Sum(s => s.Value));

        // A second scrape replays nothing twice.
        var again = await Scrape();
        Assert.Equal(250, again.Value("rdmakv_request_duration_seconds_count", ("operation", "put")));
        Assert.Equal(sum, again.Value("rdmakv_request_duration_seconds_sum", ("operation", "put")), 12);
    }

    [Fact]
    public async Task ProcessMetricsAreThereToo()
    {
        var samples = await Scrape();
        Assert.Contains(samples, s => s.Name == "process_cpu_seconds_total");
        Assert.Contains(samples, s => s.Name == "dotnet_total_memory_bytes");
    }

    [Fact]
    public void TheParserRejectsWhatIsNotPrometheusText()
    {
        Assert.Throws<FormatException>(() => PrometheusText.Parse("# TYPE a counter\na one\n"));
        Assert.Throws<FormatException>(() => PrometheusText.Parse("b 1\n"));
        Assert.Throws<FormatException>(() => PrometheusText.Parse(
            "# TYPE h histogram\nh_bucket{le=\"1\"} 5\nh_bucket{le=\"2\"} 4\nh_bucket{le=\"+Inf\"} 5\nh_sum 3\nh_count 5\n"));
        Assert.Single(PrometheusText.Parse("# HELP a thing\n# TYPE a counter\na{x=\"y\\\"z\"} 1.5e3\n"));
    }
}
