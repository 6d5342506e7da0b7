using System.Text;
using RdmaKv.Core;
using static RdmaKv.Resp.Tests.RespTestClient;

namespace RdmaKv.Resp.Tests;

/// <summary>The gateway and KvClients share one store: what one writes, the other reads.</summary>
public sealed class RespAndKvClientTests : IDisposable
{
    readonly RespTestNode _node = new();

    [Theory]
    [InlineData(TestTransportName.Mailbox)]
    [InlineData(TestTransportName.Ucx)]
    public void ARespWriteIsReadOneSidedByAKvClient(TestTransportName transport)
    {
        using var client = _node.Node.Connect(transport == TestTransportName.Ucx ? EndToEnd.Tests.TestTransport.Ucx : EndToEnd.Tests.TestTransport.Mailbox);
        using var resp = _node.Connect();
        Assert.Equal("OK", resp.Call("SET", "shared", "from resp"));
        Assert.Equal(3L, resp.Call("INCRBY", "count", "3"));
        long fallbacks = _node.Node.Stat(StatNames.FallbackGets);
        Assert.Equal("from resp", Encoding.UTF8.GetString(client.Get("shared")!));
        Assert.Equal("3", Encoding.UTF8.GetString(client.Get("count")!));
        // Read from the region by the client itself: the node answered no GET.
        Assert.Equal(fallbacks, _node.Node.Stat(StatNames.FallbackGets));
        client.Put("back", "from kvclient");
        Assert.Equal("from kvclient", Text(resp.Call("GET", "back")));
        Assert.Equal(1L, resp.Call("DEL", "shared"));
        Assert.Null(client.Get("shared"));
    }

    public void Dispose() => _node.Dispose();
}

/// <summary>The end-to-end tests' TestTransport is public in their assembly; theories here name it by this enum.</summary>
public enum TestTransportName
{
    Mailbox,
    Ucx,
}
