using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using RdmaKv.Sample.Web;

namespace RdmaKv.Extensions.Tests;

/// <summary>
/// samples/RdmaKv.Sample.Web on a real node: two instances of the app (two test servers sharing a
/// data-protection key ring, as instances behind a load balancer would) and one node.
/// </summary>
public sealed class SampleWebTests(NodeFixture node) : IClassFixture<NodeFixture>, IDisposable
{
    readonly string _instance = NodeFixture.UniqueInstance();
    readonly DirectoryInfo _keys = Directory.CreateTempSubdirectory("rdmakv-sample-keys-");

    // Any type of the sample's assembly names its entry point (the server's Program has the same name).
    WebApplicationFactory<QuoteBook> App() => new WebApplicationFactory<QuoteBook>().WithWebHostBuilder(web =>
    {
        web.UseSetting("RdmaKv:Connect", node.Uri);
        web.UseSetting("RdmaKv:InstanceName", _instance);
        web.UseSetting("DataProtection:KeysDirectory", _keys.FullName);
    });

    [Fact]
    public async Task TheSessionSurvivesAcrossRequestsAndInstances()
    {
        using var first = App();
        using var second = App();
        Assert.IsType<RdmaKvCache>(first.Services.GetRequiredService<IDistributedCache>());
        using var a = first.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false });
        using var b = second.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false });

        var (visits, cookie) = await Visit(a, null);
        Assert.Equal(1, visits);
        Assert.NotNull(cookie);
        Assert.Equal(2, (await Visit(a, cookie)).Visits);
        // The same cookie at the other instance: the session comes from RdmaKv.
        Assert.Equal(3, (await Visit(b, cookie)).Visits);
        Assert.Equal(4, (await Visit(a, cookie)).Visits);
        // Without the cookie, a new session.
        Assert.Equal(1, (await Visit(b, null)).Visits);
    }

    /// <summary>GET /session with <paramref name="cookie"/>: the visit count and the session cookie the app set, if it set one.</summary>
    static async Task<(int Visits, string? Cookie)> Visit(HttpClient client, string? cookie)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/session");
        if (cookie is not null) request.Headers.Add("Cookie", cookie);
        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        string? set = response.Headers.TryGetValues("Set-Cookie", out var values)
            ? values.Select(v => v.Split(';')[0]).FirstOrDefault(v => v.StartsWith(".RdmaKv.Sample.Session=", StringComparison.Ordinal))
            : null;
        int visits = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("visits").GetInt32();
        return (visits, set ?? cookie);
    }

    [Fact]
    public async Task ACachedResponseComesFromTheCacheEvenAtAnotherInstance()
    {
        using var first = App();
        using var second = App();
        using var a = first.CreateClient();
        using var b = second.CreateClient();
        var computed = await Quote(a, 7);
        Assert.False(computed.GetProperty("fromCache").GetBoolean());
        var cached = await Quote(a, 7);
        Assert.True(cached.GetProperty("fromCache").GetBoolean());
        // HybridCache writes to RdmaKv after it has answered the first request.
        Eventually.Until(() => Stored.Present(node.Raw, _instance, "quotes/7"), "the write of the response to RdmaKv");
        var atSecond = await Quote(b, 7);
        Assert.True(atSecond.GetProperty("fromCache").GetBoolean());
        Assert.Equal(computed.GetProperty("quote").GetRawText(), atSecond.GetProperty("quote").GetRawText());
        Assert.Equal(1, first.Services.GetRequiredService<QuoteBook>().Computed);
        Assert.Equal(0, second.Services.GetRequiredService<QuoteBook>().Computed);
    }

    [Fact]
    public async Task TheHealthEndpointReportsTheNode()
    {
        using var app = App();
        using var client = app.CreateClient();
        var response = await client.GetAsync("/health");
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    static async Task<JsonElement> Quote(HttpClient client, int id) => await client.GetFromJsonAsync<JsonElement>($"/quotes/{id}");

    public void Dispose() => _keys.Delete(recursive: true);
}
