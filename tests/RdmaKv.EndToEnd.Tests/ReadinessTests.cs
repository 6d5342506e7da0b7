using System.Net;
using System.Text.Json;
using RdmaKv.Tests;

namespace RdmaKv.EndToEnd.Tests;

/// <summary><c>/health/ready</c> of a node with remote access: the UCX listener's state is one of its checks.</summary>
public sealed class ReadinessTests
{
    /// <summary>The status and the node check's detail ("recovery: ...; local transport: ...; ucx transport: ...").</summary>
    static async Task<(HttpStatusCode Status, string Detail)> Ready(HttpClient http)
    {
        var response = await http.GetAsync("health/ready");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, body.RootElement.GetProperty("checks").EnumerateArray().Single().GetProperty("detail").GetString()!);
    }

    [Fact]
    public async Task ReadinessIncludesTheUcxListenerAndIsLostWhenItStops()
    {
        using var node = new TestNode(o => o with { AdminUrls = $"http://127.0.0.1:{ProcessOutput.FreeLoopbackPort()}", Partitions = 1, MemoryBytes = 16L << 20 });
        var remote = node.Host.AddRemote(new IPEndPoint(IPAddress.Loopback, 0));
        using var http = new HttpClient { BaseAddress = new Uri(node.Host.Admin!.Addresses[0] + "/"), Timeout = TimeSpan.FromSeconds(30) };

        var (status, detail) = await Ready(http);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("ucx transport: listening on " + remote.Address, detail, StringComparison.Ordinal);

        remote.Dispose();
        (status, detail) = await Ready(http);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("ucx transport: not taking clients on " + remote.Address, detail, StringComparison.Ordinal);
    }
}
