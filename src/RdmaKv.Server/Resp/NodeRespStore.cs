using RdmaKv.Core;
using RdmaKv.Core.Cluster;
using RdmaKv.Resp;
using RdmaKv.Server.Ucx;

namespace RdmaKv.Server.Resp;

/// <summary>
/// The node as the RESP gateway sees it. Writes take the node's public Put and Delete, so they
/// are logged, replicated and published exactly as a KvClient's; they count in the node's puts
/// and deletes. In a cluster, a key of another node is redirected to that node's host: nodes'
/// RESP addresses are not in the cluster map, so every node of a cluster is expected to serve
/// RESP on the same port.
/// </summary>
sealed class NodeRespStore(StorageNode node, string token) : IRespStore
{
    public string Name => node.Options.Name;

    public long KeyCount => node.Partitions.Sum(p => p.Stats.Count);

    public int? SlotCount => node.Cluster?.SlotCount;

    public StoreStatus Get(ReadOnlySpan<byte> key, out byte[]? value) => node.Read(key, out value);

    public StoreStatus Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        Interlocked.Increment(ref node.Counters.Puts);
        return Counted(node.Put(key, value));
    }

    public StoreStatus Delete(ReadOnlySpan<byte> key)
    {
        Interlocked.Increment(ref node.Counters.Deletes);
        return Counted(node.Delete(key));
    }

    /// <summary>Counts a put or a delete by what <paramref name="decide"/> chose; one that left the key counts as neither.</summary>
    public StoreStatus Update(ReadOnlySpan<byte> key, Func<byte[]?, (bool Write, byte[]? Value)> decide, out byte[]? previous)
    {
        (bool Write, byte[]? Value) chosen = default;
        StoreStatus status = node.Update(key, current => chosen = decide(current), out previous);
        if (chosen.Write) Interlocked.Increment(ref chosen.Value is null ? ref node.Counters.Deletes : ref node.Counters.Puts);
        return Counted(status);
    }

    StoreStatus Counted(StoreStatus status)
    {
        if (status == StoreStatus.WrongSlot) Interlocked.Increment(ref node.Counters.WrongSlot);
        else if (status is not (StoreStatus.Ok or StoreStatus.NotFound)) node.Counters.CountError("resp", StoreStatusText.Describe(status));
        return status;
    }

    public IReadOnlyDictionary<string, long> Stats() => node.Stats();

    public string? Redirect(ReadOnlySpan<byte> key, out int slot)
    {
        slot = 0;
        if (node.Cluster is not { } map) return null;
        slot = map.SlotOf(key);
        string owner = map.Owners[slot];
        if (owner == node.Options.NodeId) return null;
        return ClusterMap.TrySplitAddress(map.Node(owner)?.Ucx, out string host, out _) ? host : owner;
    }

    public bool Authenticate(ReadOnlySpan<byte> presented) => ClientTokenFile.Matches(token, presented);
}
