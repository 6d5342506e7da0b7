using System.Globalization;
using RdmaKv.Core.Cluster;

namespace RdmaKv.Client.Cluster;

/// <summary>
/// A node's session with another node of its cluster, for moving a partition: the owner opens
/// the receiver's MoveIn, copies with Import, forwards the writes it applies meanwhile, and hands
/// every node the new map. Authenticated with the cluster's client token. Thread-safe.
/// </summary>
public sealed class PeerSession : IDisposable
{
    readonly RemoteSession _session;

    PeerSession(ClusterNode node, RemoteSession session)
    {
        Node = node;
        _session = session;
    }

    public ClusterNode Node { get; }

    public static PeerSession Open(ClusterNode node, string token, TimeSpan timeout)
    {
        if (!ClusterMap.TrySplitAddress(node.Ucx, out string host, out int port))
            throw new KvConnectionException($"node {node.Id} has no usable ucx address ('{node.Ucx}')");
        try
        {
            // Never reconnects: once the peer failed, the move has failed, and a write forwarded to it
            // fails at once instead of holding the node's request thread through connect attempts.
            return new PeerSession(node, RemoteSession.Open(host, port, new KvClientOptions { Credential = token, Timeout = timeout, ClientName = "rdmakv-peer" }, neverReconnect: true));
        }
        catch (KvConnectionException e)
        {
            throw new KvConnectionException($"node {node.Id} (ucx://{node.Ucx}) is unreachable: {e.Message}", e);
        }
    }

    public void MoveIn(int partition) => _session.MoveIn(partition);

    public void Import(IReadOnlyList<(byte[] Key, byte[] Value)> pairs) => _session.Import(pairs);

    public void MovePut(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) => _session.MovePut(key, value);

    public void MoveDelete(ReadOnlySpan<byte> key) => _session.MoveDelete(key);

    public void AdoptMap(ClusterMap map) => _session.AdoptMap(map.ToJson());

    public static int ParsePartition(ReadOnlySpan<byte> key) =>
        int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out int p) ? p : -1;

    public void Dispose() => _session.Dispose();
}
