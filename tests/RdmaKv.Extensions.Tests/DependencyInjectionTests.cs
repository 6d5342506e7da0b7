using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using RdmaKv.Client;
using RdmaKv.EndToEnd.Tests;

namespace RdmaKv.Extensions.Tests;

/// <summary>AddRdmaKv and AddRdmaKvDistributedCache: binding, one shared client, when it connects, validation.</summary>
public sealed class DependencyInjectionTests(NodeFixture node) : IClassFixture<NodeFixture>
{
    static IConfiguration Configuration(params (string Key, string? Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, s.Value))).Build();

    [Fact]
    public void AddRdmaKvBindsItsOptionsFromConfiguration()
    {
        var configuration = Configuration(
            ("RdmaKv:Connect", node.Uri),
            ("RdmaKv:Token", "secret"),
            ("RdmaKv:Timeout", "00:00:03"),
            ("RdmaKv:ClientName", "bound-client"),
            ("RdmaKv:LocalWrites", "Socket"),
            ("RdmaKv:LocationCacheEntries", "1024"));
        using var services = new ServiceCollection().AddRdmaKv(configuration.GetSection("RdmaKv")).BuildServiceProvider();
        var options = services.GetRequiredService<IOptions<RdmaKvOptions>>().Value;
        Assert.Equal(node.Uri, options.Connect);
        var client = options.ToClientOptions();
        Assert.Equal("secret", client.Credential);
        Assert.Equal(TimeSpan.FromSeconds(3), client.Timeout);
        Assert.Equal("bound-client", client.ClientName);
        Assert.Equal(LocalWritePath.Socket, client.LocalWrites);
        Assert.Equal(1024, client.LocationCacheEntries);
        Assert.Equal(node.Node.Name, services.GetRequiredService<KvClient>().NodeName);
    }

    [Fact]
    public void TokenFileIsReadWhenNoTokenIsGiven()
    {
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "from-file\n");
            Assert.Equal("from-file", new RdmaKvOptions { Connect = "ucx://127.0.0.1:7400", TokenFile = file }.ToClientOptions().Credential);
            Assert.Equal("given", new RdmaKvOptions { Connect = "ucx://127.0.0.1:7400", Token = "given", TokenFile = file }.ToClientOptions().Credential);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void OneClientIsSharedAndDisposedWithTheContainer()
    {
        int before = node.Node.MailboxFiles;
        var services = new ServiceCollection().AddRdmaKv(o => o.Connect = node.Uri).AddRdmaKvDistributedCache(o => o.InstanceName = NodeFixture.UniqueInstance()).BuildServiceProvider();
        var client = services.GetRequiredService<KvClient>();
        Assert.Same(client, services.GetRequiredService<KvClient>());
        var cache = services.GetRequiredService<IDistributedCache>();
        Assert.IsType<RdmaKvCache>(cache);
        Assert.Same(cache, services.GetRequiredService<RdmaKvCache>());
        cache.Set("k", [1], new DistributedCacheEntryOptions());
        Assert.Equal([1], cache.Get("k"));
        Assert.Equal(before + 1, node.Node.MailboxFiles);
        services.Dispose();
        Eventually.Until(() => node.Node.MailboxFiles == before, "the client's mailbox going with the container");
    }

    [Fact]
    public void TheClientConnectsOnFirstUseAndAgainAfterAFailure()
    {
        string name = TestNode.UniqueName();
        using var services = new ServiceCollection().AddRdmaKv(o => o.Connect = "local:" + name).AddRdmaKvDistributedCache().BuildServiceProvider();
        // Nothing runs under that name: building the cache does not connect; its first use fails, saying why.
        var cache = services.GetRequiredService<IDistributedCache>();
        var failure = Assert.Throws<KvConnectionException>(() => cache.Get("k"));
        Assert.Contains(name, failure.Message);
        using var late = new TestNode(o => o with { Partitions = 1, MemoryBytes = 16L << 20 }, name: name);
        cache.Set("k", [3], new DistributedCacheEntryOptions());
        Assert.Equal([3], cache.Get("k"));
    }

    [Theory]
    [InlineData(null, "Connect is missing")]
    [InlineData("", "Connect is missing")]
    [InlineData("redis://localhost:6379", "is not a node address")]
    [InlineData("local:", "names no node")]
    [InlineData("ucx://", "names no node")]
    [InlineData("ucx://somehost", "is not HOST:PORT")]
    [InlineData("ucx://somehost:0", "is not HOST:PORT")]
    [InlineData("ucx://a:7400,b:port", "'b:port' is not HOST:PORT")]
    public void AMissingOrMalformedConnectionStringFailsWithWhatToWrite(string? connect, string message)
    {
        using var services = new ServiceCollection().AddRdmaKv(o => o.Connect = connect).BuildServiceProvider();
        var failure = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<KvClient>());
        Assert.Contains(message, failure.Message);
        Assert.Contains("RdmaKv:Connect", failure.Message);
    }

    [Fact]
    public void OtherBadOptionsAreNamed()
    {
        using var services = new ServiceCollection().AddRdmaKv(o =>
        {
            o.Connect = "local:default";
            o.Timeout = TimeSpan.Zero;
            o.LocationCacheEntries = 0;
            o.TokenFile = "/nonexistent/client-token";
        }).BuildServiceProvider();
        var failure = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<RdmaKvOptions>>().Value);
        Assert.Contains("RdmaKv:Timeout", failure.Message);
        Assert.Contains("RdmaKv:LocationCacheEntries", failure.Message);
        Assert.Contains("/nonexistent/client-token", failure.Message);
    }

    [Fact]
    public async Task AHostWithoutAConnectionStringDoesNotStart()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddRdmaKv(builder.Configuration.GetSection("RdmaKv")).AddRdmaKvDistributedCache();
        using var host = builder.Build();
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("RdmaKv:Connect is missing", failure.Message);
    }

    [Fact]
    public async Task AHostWithAConnectionStringStartsWithoutConnecting()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection([KeyValuePair.Create<string, string?>("RdmaKv:Connect", "local:" + TestNode.UniqueName())]);
        builder.Services.AddRdmaKv(builder.Configuration.GetSection("RdmaKv")).AddRdmaKvDistributedCache();
        using var host = builder.Build();
        await host.StartAsync();
        await host.StopAsync();
    }
}
