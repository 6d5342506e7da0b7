using Microsoft.Extensions.Logging;
using RdmaKv.Core.Cluster;
using RdmaKv.Server.Cluster;

namespace RdmaKv.Server;

/// <summary>The node's place in a cluster: the map (from --cluster) and which slots it owns.</summary>
public sealed partial class StorageNode
{
    volatile ClusterMap? _cluster;

    /// <summary>The cluster map, or null for a node on its own.</summary>
    public ClusterMap? Cluster => _cluster;

    /// <summary>
    /// The cluster credential (see <see cref="StorageNodeOptions.ClusterTokenFile"/>): a session
    /// that presents it in Hello is a peer and may send node-to-node messages. Null off a cluster.
    /// </summary>
    public string? ClusterToken { get; private set; }

    public const string ClusterTokenFileName = "cluster-token";

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
                // The saved map came from moves, which never change membership: it must fit the file.
                if (map.SuccessorProblem(saved) is { } problem)
                    throw new InvalidDataException($"the saved cluster map {SavedMapPath} does not fit {Options.ClusterFile}: {problem}. Moves never change the nodes, so one of the two was edited; remove {SavedMapPath} to start from the file, or fix the file");
                _log.LogInformation("Cluster map epoch {Saved} from {Path} is newer than {File}'s epoch {Epoch} (slots were moved): using it", saved.Epoch, SavedMapPath, Options.ClusterFile, map.Epoch);
                map = saved;
            }
        }
        if (map.Node(Options.NodeId!) is null)
            throw new InvalidDataException($"--node-id '{Options.NodeId}' is not one of the nodes in {Options.ClusterFile} ({string.Join(", ", map.Nodes.Select(n => n.Id))})");
        LoadClusterToken();
        _cluster = map;
        _links = new ReplicaLinks(() => _cluster, ClusterToken!, Options.ReplicationTimeout, _log) { Sender = Options.NodeId! };
        int owned = map.LedBy(Options.NodeId!);
        _log.LogInformation("Cluster map epoch {Epoch}: node {Node} owns {Owned} of {Slots} slots; {Nodes} nodes",
            map.Epoch, Options.NodeId, owned, map.SlotCount, map.Nodes.Count);
    }

    void LoadClusterToken()
    {
        string path = Options.ClusterTokenFile ?? Path.Combine(Options.DataDirectory, ClusterTokenFileName);
        string token = Ucx.ClientTokenFile.LoadOrCreate(path, out bool created);
        string clientPath = Options.ClientTokenFile ?? Path.Combine(Options.DataDirectory, Ucx.ClientTokenFile.FileName);
        // Equal tokens would make every client a peer, able to move slots and hand out maps.
        if (File.Exists(clientPath) && Ucx.ClientTokenFile.Matches(Ucx.ClientTokenFile.LoadOrCreate(clientPath, out _), token))
            throw new InvalidDataException($"the cluster token ({path}) equals the client token ({clientPath}): clients could then act as nodes. Give the cluster its own token (delete {path} to make one, then copy it to every node)");
        ClusterToken = token;
        _log.LogInformation("Node-to-node messages need the cluster token in {Path}{Created}; every node of the cluster must have the same file", path, created ? " (made now)" : "");
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
        if (owner != Options.NodeId) return $"slot {slot} is owned by node {owner} (epoch {map.Epoch})";
        if (_fenced) return $"node {owner} leads slot {slot} (epoch {map.Epoch}) but is not serving: {FenceReason}";
        return Leads(map, slot) ? null : $"node {owner} leads slot {slot} (epoch {map.Epoch}) but cannot be sure of its lease: it waits for etcd or its backups";
    }

    /// <summary>
    /// Takes a newer map (an operator's move) when it is a successor of this node's
    /// (<see cref="ClusterMap.SuccessorProblem"/>): a newer epoch, not absurdly far ahead, the same
    /// nodes and slot count; anything else is refused and nothing is saved. From then on
    /// requests for slots this node no longer owns get WrongSlot.
    /// </summary>
    public void AdoptCluster(ClusterMap map)
    {
        var current = _cluster ?? throw new InvalidOperationException("this node is not in a cluster (start it with --cluster and --node-id)");
        if (_coordination is not null)
        {
            // From the node that moved or handed over a slot: it retired its regions for this
            // epoch. The map itself comes from etcd's watch (this runs on the UCX progress
            // thread, which must not wait for etcd).
            Released(map.Epoch);
            return;
        }
        if (current.SuccessorProblem(map) is { } problem) throw new InvalidOperationException(problem);
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
            if (map.Holds(p, Options.NodeId!)) _incoming.TryRemove(p, out _);
        _log.LogInformation("Cluster map epoch {Epoch} adopted: node {Node} owns {Owned} of {Slots} slots",
            map.Epoch, Options.NodeId, map.LedBy(Options.NodeId!), map.SlotCount);
    }
}
