using System.Buffers;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.TestHost;
using RdmaKv.Core;
using RdmaKv.Protocol;
using RdmaKv.Server;

namespace RdmaKv.Admin.Tests;

/// <summary>
/// What a hostile caller of the admin plane found (issue 15, items 5 and 6), against a real node
/// in process: key names by case, client reports that overflow, paths shown without the token,
/// Host names, /metrics rendered per scrape, and a cluster map with an admin URL that is not http.
/// </summary>
public sealed class AdminHardeningTests(NodeFixture fixture) : IClassFixture<NodeFixture>
{
    readonly InProcessNode _node = fixture.Node;

    [Fact]
    public async Task AnUppercasePrefixNamesTheSameKeyAsRoutingDoes()
    {
        var put = await _node.SendAsync(HttpMethod.Put, "/API/KEYS/case-x", _node.Token, new StringContent("upper"));
        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        Assert.Equal(StoreStatus.Ok, ((IAdminNode)_node.Node).Get("case-x"u8, out byte[]? value));
        Assert.Equal("upper", Encoding.UTF8.GetString(value!));
        Assert.Equal(StoreStatus.NotFound, ((IAdminNode)_node.Node).Get("/case-x"u8, out _));
        var get = await _node.SendAsync(HttpMethod.Get, "/Api/Keys/case-x", _node.Token);
        Assert.Equal("upper", await get.Content.ReadAsStringAsync());
    }

    static Message Decode(Action<ArrayBufferWriter<byte>> encode)
    {
        var w = new ArrayBufferWriter<byte>();
        encode(w);
        Assert.True(MessageDecoder.TryDecode(w.WrittenMemory[Wire.LengthPrefix..], out var message, out string error), error);
        return message;
    }

    StoreStatus Report(long retries)
    {
        var handler = new RequestHandler(_node.Node);
        var request = Decode(w => MessageEncoder.ClientReport(w, 7, new Dictionary<string, long> { [StatNames.Reported.Retries] = retries }));
        bool greeted = true;
        var reply = new ArrayBufferWriter<byte>();
        handler.Handle(in request, ref greeted, reply);
        Assert.True(MessageDecoder.TryDecode(reply.WrittenMemory[Wire.LengthPrefix..], out var answer, out string error), error);
        return answer.Status;
    }

    async Task<long> ReportedRetries() =>
        (await _node.Http.GetFromJsonAsync<JsonElement>("/api/stats")).GetProperty("reportedByClients").GetProperty("retries").GetInt64();

    [Fact]
    public async Task AnAbsurdClientReportIsRefusedAndTotalsNeverWrap()
    {
        long before = await ReportedRetries();
        Assert.Equal(StoreStatus.BadRequest, Report(long.MaxValue));
        Assert.Equal(StoreStatus.BadRequest, Report(long.MaxValue));
        Assert.Equal(StoreStatus.BadRequest, Report(-5));
        Assert.Equal(before, await ReportedRetries());
        Assert.Equal(StoreStatus.Ok, Report(3));
        Assert.Equal(before + 3, await ReportedRetries());

        // A total near the top saturates instead of turning negative.
        Interlocked.Exchange(ref _node.Node.Counters.ClientRetries, long.MaxValue - 10);
        Assert.Equal(StoreStatus.Ok, Report(NodeCounters.MaxReportedCount));
        Assert.Equal(long.MaxValue, await ReportedRetries());
        var scrape = PrometheusText.Parse(await _node.Http.GetStringAsync("/metrics"));
        Assert.True(scrape.Value("rdmakv_node_stat", ("name", StatNames.ClientRetries)) > 0);
        Interlocked.Exchange(ref _node.Node.Counters.ClientRetries, 0);
    }

    [Fact]
    public async Task PathsAreShownOnlyWithTheAdminToken()
    {
        string dataDirectory = Path.GetFullPath(_node.DataDirectory);
        string regionPath = _node.Node.View().Regions[0].Path ?? throw new InvalidOperationException("a local region has a path");
        string sharedMemory = Path.GetDirectoryName(regionPath)!;
        foreach (string path in (string[])["/api/node", "/api/cluster", "/api/dashboard", "/health/ready"])
        {
            string anonymous = await (await _node.SendAsync(HttpMethod.Get, path)).Content.ReadAsStringAsync();
            Assert.DoesNotContain(dataDirectory, anonymous, StringComparison.Ordinal);
            Assert.DoesNotContain(sharedMemory, anonymous, StringComparison.Ordinal);
        }
        var node = await (await _node.SendAsync(HttpMethod.Get, "/api/node", _node.Token)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(dataDirectory, node.GetProperty("dataDirectory").GetString());
        string cluster = await (await _node.SendAsync(HttpMethod.Get, "/api/cluster", _node.Token)).Content.ReadAsStringAsync();
        Assert.Contains(JsonEncodedText.Encode(regionPath).ToString(), cluster, StringComparison.Ordinal);
    }

    async Task<HttpStatusCode> WithHost(string host)
    {
        var request = _node.Request(HttpMethod.Get, "/health/live");
        request.Headers.Host = host;
        return (await _node.Http.SendAsync(request)).StatusCode;
    }

    [Fact]
    public async Task OnlyTheConfiguredHostNamesAreAnswered()
    {
        Assert.Equal(HttpStatusCode.OK, await WithHost("localhost"));
        Assert.Equal(HttpStatusCode.OK, await WithHost("127.0.0.1:7480"));
        Assert.Equal(HttpStatusCode.OK, await WithHost("[::1]:7480"));
        Assert.Equal(HttpStatusCode.OK, await WithHost(Environment.MachineName));
        // A name an attacker's DNS points at 127.0.0.1: the browser sends it as the Host.
        Assert.Equal(HttpStatusCode.BadRequest, await WithHost("rebind.attacker.example"));
        Assert.Equal(HttpStatusCode.BadRequest, await WithHost("rebind.attacker.example:7480"));
    }

    [Fact]
    public async Task AnOperatorCanAddHostNames()
    {
        await using var admin = AdminPlane.Create(new AdminOptions { DataDirectory = _node.DataDirectory, AllowedHosts = "kv.example.internal;10.1.2.3" },
            configure: b => b.WebHost.UseTestServer());
        await admin.StartAsync();
        using var http = ((TestServer)admin.Services.GetService(typeof(Microsoft.AspNetCore.Hosting.Server.IServer))!).CreateClient();
        foreach (var (host, status) in new[] { ("kv.example.internal", HttpStatusCode.OK), ("10.1.2.3:7480", HttpStatusCode.OK), ("other.example", HttpStatusCode.BadRequest) })
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/health/live");
            request.Headers.Host = host;
            Assert.Equal(status, (await http.SendAsync(request)).StatusCode);
        }
    }

    async Task<string> Scrape(HttpClient http) => await http.GetStringAsync("/metrics");

    [Fact]
    public async Task TwoScrapesWithinTheCacheWindowRenderOnce()
    {
        await using var admin = AdminPlane.Create(new AdminOptions { DataDirectory = _node.DataDirectory, MetricsCacheDuration = TimeSpan.FromMinutes(1) },
            configure: b => b.WebHost.UseTestServer());
        await admin.StartAsync();
        admin.Attach(_node.Node);
        using var http = ((TestServer)admin.Services.GetService(typeof(Microsoft.AspNetCore.Hosting.Server.IServer))!).CreateClient();
        string first = await Scrape(http);
        using (var client = _node.Connect()) client.Put("between-scrapes", "v");
        string second = await Scrape(http);
        Assert.Equal(1, PrometheusText.Parse(first).Value("rdmakv_metrics_renders_total"));
        Assert.Equal(1, PrometheusText.Parse(second).Value("rdmakv_metrics_renders_total"));
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task WithoutACacheWindowEveryScrapeRenders()
    {
        double first = PrometheusText.Parse(await Scrape(_node.Http)).Value("rdmakv_metrics_renders_total");
        double second = PrometheusText.Parse(await Scrape(_node.Http)).Value("rdmakv_metrics_renders_total");
        Assert.Equal(first + 1, second);
    }

    [Fact]
    public async Task ClusterNodesAnswerWithEveryPeerDownAndItsReasonWhenNoPeerAdminPlaneAnswers()
    {
        // A map can no longer name a non-http admin URL (the node refuses it at start and in
        // AdoptMap); what is left to survive is peers that refuse, time out, or speak no TLS.
        string dir = Directory.CreateTempSubdirectory("rdmakv-admin-deadmap-").FullName;
        try
        {
            string file = Path.Combine(dir, "cluster.json");
            await File.WriteAllTextAsync(file, """
                { "epoch": 1, "slots": 4, "nodes": [
                  { "id": "alpha", "ucx": "127.0.0.1:7", "admin": "http://127.0.0.1:9" },
                  { "id": "refusing", "ucx": "127.0.0.1:9", "admin": "http://127.0.0.1:9" },
                  { "id": "tls", "ucx": "127.0.0.1:9", "admin": "https://127.0.0.1:9/some/path?x=1" } ],
                  "owners": ["alpha","refusing","refusing","tls"] }
                """);
            await using var member = await InProcessNode.StartAsync(o => o with { ClusterFile = file, NodeId = "alpha" });
            var response = await member.Http.GetAsync("/api/cluster/nodes");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var nodes = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("id").GetString()!);
            Assert.True(nodes["alpha"].GetProperty("self").GetBoolean());
            foreach (string id in (string[])["refusing", "tls"])
            {
                Assert.False(nodes[id].GetProperty("up").GetBoolean());
                Assert.False(string.IsNullOrEmpty(nodes[id].GetProperty("error").GetString()), $"{id} is down without a reason");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
