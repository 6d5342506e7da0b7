using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using RdmaKv.EndToEnd.Tests;
using RdmaKv.Server;
using RdmaKv.Server.Resp;

namespace RdmaKv.Resp.Tests;

/// <summary>A node started in process (as the server binary starts it) with its RESP gateway on a free loopback port.</summary>
sealed class RespTestNode : IDisposable
{
    public RespTestNode(Func<StorageNodeOptions, StorageNodeOptions>? configure = null, IPEndPoint? at = null, RespLimits? limits = null)
    {
        Node = new TestNode(configure);
        try
        {
            Gateway = Node.Host.Add(n => RespNodeListener.Start(n, at ?? new IPEndPoint(IPAddress.Loopback, 0), NullLogger.Instance, limits));
        }
        catch
        {
            Node.Dispose();
            throw;
        }
    }

    public TestNode Node { get; }
    public RespNodeListener Gateway { get; }
    public IPEndPoint EndPoint => Gateway.EndPoint;
    /// <summary>The client token the gateway checks: the node's own file, or the one its options name (a cluster's shared one).</summary>
    public string Token => Node.Node.Options.ClientTokenFile is { } file ? File.ReadAllText(file).Trim() : Node.Token;

    /// <summary>A connection that has said AUTH.</summary>
    public RespTestClient Connect()
    {
        var client = new RespTestClient(EndPoint);
        Assert.Equal("OK", client.Call("AUTH", Token));
        return client;
    }

    public void Dispose() => Node.Dispose();
}
