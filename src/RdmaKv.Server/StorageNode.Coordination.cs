using Microsoft.Extensions.Logging;
using RdmaKv.Core.Cluster;
using RdmaKv.Server.Cluster;

namespace RdmaKv.Server;

/// <summary>
/// A node in a cluster coordinated by etcd (<c>--etcd</c>): the map comes from etcd and every
/// change to it is watched; the node's lease is its membership; one node at a time is the
/// controller that fails over the others (<see cref="ClusterController"/>).
/// </summary>
public sealed partial class StorageNode
{
    readonly Lock _adoptGate = new();
    ClusterController? _controller;

    /// <summary>The lease for which this node read the map after it was granted; only then does that lease count (see <see cref="HoldsLease"/>).</summary>
    long _leaseConfirmed = -1;

    /// <summary>The coordination service this node is in, or null.</summary>
    public ICoordination? Coordination => _coordination;

    /// <summary>The controller's last report, for the admin plane; null off etcd.</summary>
    public ClusterController? Controller => _controller;

    /// <summary>
    /// Joins the cluster kept in <paramref name="coordination"/> (which this node then owns): takes
    /// its map, follows every change, starts fenced until the controller has taken this run in
    /// and its leases hold, and runs for controller. Call before any listener starts.
    /// </summary>
    public void Coordinate(ICoordination coordination)
    {
        var map = coordination.ReadMap()
            ?? throw new InvalidDataException("etcd holds no cluster map yet: seed it once with 'rdmakv cluster init FILE --etcd URL'");
        if (map.Node(Options.NodeId!) is null)
            throw new InvalidDataException($"--node-id '{Options.NodeId}' is not one of the nodes of the cluster map in etcd ({string.Join(", ", map.Nodes.Select(n => n.Id))})");
        LoadClusterToken();
        _coordination = coordination;
        _links = new ReplicaLinks(() => _cluster, ClusterToken!, Options.ReplicationTimeout, _log) { Sender = Options.NodeId! };
        StartLeases();
        AdoptStored(map);
        coordination.MapChanged += AdoptStored;
        _controller = new ClusterController(coordination, () => _cluster, ClusterToken!, Options.NodeId!, _log);
        _log.LogInformation("Node {Node} joined the cluster in etcd as run {Run}: lease {Ttl} s, margin {Margin} ms", Options.NodeId, coordination.Incarnation,
            Options.LeaseTtl.TotalSeconds, Options.LeaseMargin.TotalMilliseconds);
    }

    /// <summary>
    /// Takes a map from etcd (the watch, or one this node stored) when it is newer. A node that no
    /// longer leads a slot it led retires its regions, so that one-sided readers refresh and learn
    /// the new primary.
    /// </summary>
    void AdoptStored(ClusterMap map)
    {
        bool demoted;
        lock (_adoptGate)
        {
            var current = _cluster;
            if (current is not null && map.Epoch <= current.Epoch) return;
            if (current is not null && current.SuccessorProblem(map) is { } problem)
            {
                _log.LogError("The cluster map of epoch {Epoch} in etcd does not fit this node's: {Problem}", map.Epoch, problem);
                return;
            }
            demoted = current is not null && Enumerable.Range(0, current.SlotCount).Any(s => current.Owners[s] == Options.NodeId && map.Owners[s] != Options.NodeId);
            if (current is not null) AwaitReleases(current, map);
            Adopt(map);
        }
        // Outside the gate: a caller holding every order lock (a move's or a copy's switch) takes the gate.
        if (demoted) RetireFor(map.Epoch);
    }

    /// <summary>
    /// Runs <paramref name="work"/> holding every partition's order lock: no client write (nor its
    /// forward to a move's target) is between its checks and its effects meanwhile. The partition
    /// locks stay free, so fencing and replica writes do not wait for its etcd call.
    /// </summary>
    T UnderEveryOrderLock<T>(Func<T> work)
    {
        int locked = 0;
        try
        {
            foreach (var p in _partitions)
            {
                p.Order.Enter();
                locked++;
            }
            return work();
        }
        finally
        {
            for (int i = locked - 1; i >= 0; i--) _partitions[i].Order.Exit();
        }
    }

    /// <summary>
    /// Retires every region (a new generation) for the map of <paramref name="epoch"/>, which took
    /// a slot from this node, unless that was done already: one-sided readers refresh and learn the
    /// map. A move or a hand-over calls it right after its switch, before it lets writes on,
    /// since the watch may have taken the map first and left the retiring to its own thread: until
    /// the regions retire, readers with the old map take this node's regions as current, and the
    /// move's drop of the slot's keys would show them as absent.
    /// </summary>
    void RetireFor(long epoch)
    {
        foreach (var p in _partitions)
        {
            lock (p.Lock)
            {
                if (p.RetiredForEpoch >= epoch) continue;
                p.Writer.Grow();
                p.RetiredForEpoch = epoch;
            }
        }
    }

    /// <summary>After a new lease (a first one, or one granted after the last expired): read the map, so a failover decided meanwhile is known before the lease counts.</summary>
    void ConfirmLease()
    {
        var coordination = _coordination!;
        long lease = coordination.LeaseId;
        if (lease == Volatile.Read(ref _leaseConfirmed) || !coordination.Connected) return;
        ClusterMap? map;
        try
        {
            map = coordination.ReadMap();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return; // etcd went away again: the lease does not count until the map was read
        }
        if (map is not null) AdoptStored(map);
        Volatile.Write(ref _leaseConfirmed, lease);
    }

    void StopCoordination()
    {
        _controller?.Dispose();
        if (_coordination is { } c)
        {
            c.MapChanged -= AdoptStored;
            c.Dispose();
        }
        _leaseThread?.Join(TimeSpan.FromSeconds(5));
        _links?.Dispose();
    }
}
