using RdmaKv.Core.Cluster;

namespace RdmaKv.Server.Cluster;

/// <summary>
/// What a node needs from its coordination service (etcd, see docs/coordination.md): its own
/// lease, the live members, the one cluster map changed only by compare-and-swap, and the
/// election of one controller. A node without one (a static cluster file) has no failover.
/// </summary>
public interface ICoordination : IDisposable
{
    /// <summary>This process run's id, registered with the node's membership: a restarted node has a new one.</summary>
    string Incarnation { get; }

    /// <summary>The membership lease's time to live: a node silent this long is taken for dead.</summary>
    TimeSpan LeaseTtl { get; }

    /// <summary>The membership lease's id: it changes when the lease was lost (expired while etcd was out of reach) and granted anew.</summary>
    long LeaseId { get; }

    /// <summary>True while the node's lease cannot have expired anywhere: the last renewal's sending plus the TTL, less <paramref name="margin"/>, is still ahead.</summary>
    bool LeaseSurelyHeld(TimeSpan margin);

    /// <summary>True while the coordination service answers.</summary>
    bool Connected { get; }

    /// <summary>Why it does not, for logs, the admin plane and readiness; null while it does.</summary>
    string? Problem { get; }

    /// <summary>The live nodes as last watched: node id to the incarnation it registered.</summary>
    IReadOnlyDictionary<string, string> LiveMembers { get; }

    /// <summary>The live nodes read from etcd now (a linearizable read, not the watch's copy): what the controller decides by.</summary>
    IReadOnlyDictionary<string, string> ReadMembers();

    /// <summary>Raised (on a background thread) when a node joins, leaves or re-registers.</summary>
    event Action? MembersChanged;

    /// <summary>The stored map, or null when the cluster has none yet.</summary>
    ClusterMap? ReadMap();

    /// <summary>
    /// Reads the map, applies <paramref name="change"/> and stores the result only if nobody
    /// changed the map meanwhile, retrying on conflict. A null change leaves the map alone.
    /// With <paramref name="whileAbsent"/>, stores only while none of those nodes is a member, in
    /// the same transaction (a failover must not demote a node that has just registered again).
    /// Returns the map stored, or null when nothing was.
    /// </summary>
    ClusterMap? UpdateMap(Func<ClusterMap, ClusterMap?> change, IReadOnlyCollection<string>? whileAbsent = null);

    /// <summary>Raised (on a background thread) with every new value of the map, including after a reconnect.</summary>
    event Action<ClusterMap>? MapChanged;

    /// <summary>The node that is the controller now, as far as this node knows; null when none is elected.</summary>
    string? Controller { get; }

    /// <summary>True while this node is the cluster's controller.</summary>
    bool IsController { get; }

    /// <summary>How long this node has been the controller without a break (zero when it is not).</summary>
    TimeSpan ControllerFor { get; }

    /// <summary>Raised when this node becomes or stops being the controller.</summary>
    event Action<bool>? ControllerChanged;
}
