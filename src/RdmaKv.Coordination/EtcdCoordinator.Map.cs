using Microsoft.Extensions.Logging;
using Mvccpb;
using RdmaKv.Core.Cluster;

namespace RdmaKv.Coordination;

public sealed partial class EtcdCoordinator
{
    ClusterMap? _map;
    long _mapRevision;

    /// <summary>The newest map the watch delivered (null before one exists), and its mod_revision.</summary>
    public (ClusterMap? Map, long Revision) Current
    {
        get
        {
            lock (_gate) return (_map, _mapRevision);
        }
    }

    /// <summary>The newest map the watch delivered; null before one exists.</summary>
    public ClusterMap? CurrentMap
    {
        get
        {
            lock (_gate) return _map;
        }
    }

    /// <summary>
    /// Raised for every new value of the map key, in order, with its mod_revision. After a broken
    /// watch (etcd restarted) the key is read again, so a value written meanwhile is delivered then;
    /// values overwritten while the watch was down are skipped. A value that does not parse is
    /// logged and skipped.
    /// </summary>
    public event Action<ClusterMap, long>? MapChanged;

    /// <inheritdoc cref="EtcdMapStore.TryInitMapAsync"/>
    public Task<bool> TryInitMapAsync(ClusterMap map, CancellationToken cancel = default) => MapStore.TryInitMapAsync(map, cancel);

    /// <inheritdoc cref="EtcdMapStore.ReadMapAsync"/>
    public Task<(ClusterMap? Map, long Revision)> ReadMapAsync(CancellationToken cancel = default) => MapStore.ReadMapAsync(cancel);

    /// <inheritdoc cref="EtcdMapStore.TryReplaceMapAsync"/>
    public Task<bool> TryReplaceMapAsync(ClusterMap next, long expectedRevision, CancellationToken cancel = default) => MapStore.TryReplaceMapAsync(next, expectedRevision, cancel);

    /// <inheritdoc cref="EtcdMapStore.UpdateMapAsync"/>
    public Task<ClusterMap?> UpdateMapAsync(Func<ClusterMap, ClusterMap?> change, CancellationToken cancel = default) => MapStore.UpdateMapAsync(change, cancel);

    /// <inheritdoc cref="EtcdMapStore.TryInitMap"/>
    public bool TryInitMap(ClusterMap map) => MapStore.TryInitMap(map);

    /// <inheritdoc cref="EtcdMapStore.ReadMap"/>
    public (ClusterMap? Map, long Revision) ReadMap() => MapStore.ReadMap();

    /// <inheritdoc cref="EtcdMapStore.TryReplaceMap"/>
    public bool TryReplaceMap(ClusterMap next, long expectedRevision) => MapStore.TryReplaceMap(next, expectedRevision);

    /// <inheritdoc cref="EtcdMapStore.UpdateMap"/>
    public ClusterMap? UpdateMap(Func<ClusterMap, ClusterMap?> change, IReadOnlyCollection<string>? whileAbsent = null) => MapStore.UpdateMap(change, whileAbsent);

    void OnMapValue(KeyValue kv)
    {
        ClusterMap map;
        lock (_gate)
        {
            if (kv.ModRevision <= _mapRevision) return;
            _mapRevision = kv.ModRevision;
        }
        try
        {
            map = MapStore.Parse(kv.Value);
        }
        catch (InvalidDataException e)
        {
            _log.LogError("etcd: skipped the map at revision {Revision}: {Problem}", kv.ModRevision, e.Message);
            return;
        }
        lock (_gate) _map = map;
        Raise(() => MapChanged?.Invoke(map, kv.ModRevision), nameof(MapChanged));
    }
}
