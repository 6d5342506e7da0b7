using System.Net;
using Microsoft.Extensions.Logging;
using RdmaKv.Resp;
using RdmaKv.Server.Ucx;

namespace RdmaKv.Server.Resp;

/// <summary>
/// The RESP gateway as one of the node's listeners (<c>--resp HOST:PORT</c>): redis-cli and Redis
/// client libraries reach the node's store through it. Clients authenticate with the node's client
/// token (AUTH or HELLO ... AUTH), the same secret UCX clients present. See docs/resp.md.
/// </summary>
public sealed class RespNodeListener : INodeListener
{
    readonly RespServer _server;
    readonly StorageNode _node;

    RespNodeListener(StorageNode node, RespServer server)
    {
        _node = node;
        _server = server;
        node.Stopping += Dispose; // stop serving before the node unmaps
    }

    public string Transport => "resp";

    public string Address => $"redis://{EndPoint}";

    public IPEndPoint EndPoint => _server.EndPoint;

    public RespCounters Counters => _server.Counters;

    /// <summary>Listens at <paramref name="at"/> (port 0: a free one); throws <see cref="System.Net.Sockets.SocketException"/> when it cannot.</summary>
    public static RespNodeListener Start(StorageNode node, IPEndPoint at, ILogger log, RespLimits? limits = null)
    {
        string tokenPath = node.Options.ClientTokenFile ?? Path.Combine(node.Options.DataDirectory, ClientTokenFile.FileName);
        string token = ClientTokenFile.LoadOrCreate(tokenPath, out bool created);
        var server = RespServer.Start(new NodeRespStore(node, token), at, log, limits);
        log.LogInformation("RESP clients (redis-cli, Redis libraries) connect to {EndPoint} and AUTH with the token in {TokenPath}{Created}",
            server.EndPoint, tokenPath, created ? " (made now)" : "");
        return new RespNodeListener(node, server);
    }

    public void Dispose()
    {
        _node.Stopping -= Dispose;
        _server.Dispose();
    }
}
