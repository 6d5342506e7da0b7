using Microsoft.Extensions.Logging;
using RdmaKv.Core.Cluster;

namespace RdmaKv.Server;

/// <summary>The node's place in a cluster: the map (from --cluster) and which partitions it owns.</summary>
public sealed partial class StorageNode
{
    volatile ClusterMap? _cluster;

    /// <summary>The cluster map, or null for a node on its own.</summary>
    public ClusterMap? Cluster => _cluster;

    void LoadCluster()
    {
        if (Options.ClusterFile is null) return;
        var map = ClusterMap.Load(Options.ClusterFile);
        if (map.Node(Options.NodeId!) is null)
            throw new InvalidDataException($"--node-id '{Options.NodeId}' is not one of the nodes in {Options.ClusterFile} ({string.Join(", ", map.Nodes.Select(n => n.Id))})");
        _cluster = map;
        int owned = map.Owners.Count(o => o == Options.NodeId);
        _log.LogInformation("Cluster map epoch {Epoch}: node {Node} owns {Owned} of {Partitions} partitions; {Nodes} nodes",
            map.Epoch, Options.NodeId, owned, map.PartitionCount, map.Nodes.Count);
    }

    /// <summary>
    /// Null when this node owns <paramref name="key"/> (or is on its own); otherwise why not, for
    /// a WrongPartition reply that tells the client to refresh its map.
    /// </summary>
    public string? NotOwned(ReadOnlySpan<byte> key)
    {
        var map = _cluster;
        if (map is null) return null;
        int partition = map.PartitionOf(key);
        string owner = map.Owners[partition];
        return owner == Options.NodeId ? null : $"partition {partition} is owned by node {owner} (epoch {map.Epoch})";
    }

    /// <summary>
    /// Takes a newer map (an operator's move); an older or equal epoch is refused. From then on
    /// requests for partitions this node no longer owns get WrongPartition.
    /// </summary>
    public void AdoptCluster(ClusterMap map)
    {
        var current = _cluster ?? throw new InvalidOperationException("this node is not in a cluster (start it with --cluster and --node-id)");
        if (map.Epoch <= current.Epoch) throw new InvalidOperationException($"the map's epoch {map.Epoch} is not newer than this node's {current.Epoch}");
        if (map.Node(Options.NodeId!) is null) throw new InvalidOperationException($"the new map does not list this node ({Options.NodeId})");
        _cluster = map;
        _log.LogInformation("Cluster map epoch {Epoch} adopted: node {Node} owns {Owned} of {Partitions} partitions",
            map.Epoch, Options.NodeId, map.Owners.Count(o => o == Options.NodeId), map.PartitionCount);
    }
}
