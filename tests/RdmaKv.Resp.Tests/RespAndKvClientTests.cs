using System.Text;
using RdmaKv.Core;
using RdmaKv.EndToEnd.Tests;
using static RdmaKv.Resp.Tests.RespTestClient;

namespace RdmaKv.Resp.Tests;

/// <summary>The gateway and KvClients share one store: what one writes, the other reads.</summary>
public sealed class RespAndKvClientTests : IDisposable
{
    readonly RespTestNode _node = new();

    [Theory]
    [InlineData(TestTransport.Mailbox)]
    [InlineData(TestTransport.Ucx)]
    public void ARespWriteIsReadOneSidedByAKvClient(TestTransport transport)
    {
        using var client = _node.Node.Connect(transport);
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

