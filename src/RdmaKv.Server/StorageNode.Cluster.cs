using Microsoft.Extensions.Logging;
using RdmaKv.Core.Cluster;

namespace RdmaKv.Server;

/// <summary>The node's place in a cluster: the map (from --cluster) and which slots it owns.</summary>
public sealed partial class StorageNode
{
    volatile ClusterMap? _cluster;

    /// <summary>The cluster map, or null for a node on its own.</summary>
    public ClusterMap? Cluster => _cluster;

    /// <summary>The newest map this node took (after moves), kept in its data directory across restarts.</summary>
    string SavedMapPath => Path.Combine(Options.DataDirectory, "cluster-map.json");

    void LoadCluster()
    {
        if (Options.ClusterFile is null) return;
        var map = ClusterMap.Load(Options.ClusterFile);
        if (File.Exists(SavedMapPath))
        {
            var saved = ClusterMap.Load(SavedMapPath);
            if (saved.Epoch > map.Epoch)
            {
                _log.LogInformation("Cluster map epoch {Saved} from {Path} is newer than {File}'s epoch {Epoch} (slots were moved): using it", saved.Epoch, SavedMapPath, Options.ClusterFile, map.Epoch);
                map = saved;
            }
        }
        if (map.Node(Options.NodeId!) is null)
            throw new InvalidDataException($"--node-id '{Options.NodeId}' is not one of the nodes in {Options.ClusterFile} ({string.Join(", ", map.Nodes.Select(n => n.Id))})");
        _cluster = map;
        int owned = map.Owners.Count(o => o == Options.NodeId);
        _log.LogInformation("Cluster map epoch {Epoch}: node {Node} owns {Owned} of {Slots} slots; {Nodes} nodes",
            map.Epoch, Options.NodeId, owned, map.SlotCount, map.Nodes.Count);
    }

    /// <summary>
    /// Null when this node owns <paramref name="key"/> (or is on its own); otherwise why not, for
    /// a WrongSlot reply that tells the client to refresh its map.
    /// </summary>
    public string? NotOwned(ReadOnlySpan<byte> key)
    {
        var map = _cluster;
        if (map is null) return null;
        int slot = map.SlotOf(key);
        string owner = map.Owners[slot];
        return owner == Options.NodeId ? null : $"slot {slot} is owned by node {owner} (epoch {map.Epoch})";
    }

    /// <summary>
    /// Takes a newer map (an operator's move); an older or equal epoch is refused. From then on
    /// requests for slots this node no longer owns get WrongSlot.
    /// </summary>
    public void AdoptCluster(ClusterMap map)
    {
        var current = _cluster ?? throw new InvalidOperationException("this node is not in a cluster (start it with --cluster and --node-id)");
        if (map.Epoch <= current.Epoch) throw new InvalidOperationException($"the map's epoch {map.Epoch} is not newer than this node's {current.Epoch}");
        if (map.Node(Options.NodeId!) is null) throw new InvalidOperationException($"the new map does not list this node ({Options.NodeId})");
        Adopt(map);
    }

    /// <summary>Takes the map, keeps it on disk, and ends the moves into slots it now gives this node.</summary>
    void Adopt(ClusterMap map)
    {
        string temporary = SavedMapPath + ".tmp";
        File.WriteAllText(temporary, map.ToJson());
        File.Move(temporary, SavedMapPath, overwrite: true);
        _cluster = map;
        foreach (int p in _incoming.Keys)
            if (map.Owners[p] == Options.NodeId) _incoming.TryRemove(p, out _);
        _log.LogInformation("Cluster map epoch {Epoch} adopted: node {Node} owns {Owned} of {Slots} slots",
            map.Epoch, Options.NodeId, map.Owners.Count(o => o == Options.NodeId), map.SlotCount);
    }
}
