using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RdmaKv.Core;
using RdmaKv.Protocol;
using RdmaKv.Storage;
using RdmaKv.Transport;

namespace RdmaKv.Server;

/// <summary>
/// An embeddable storage node: its partitions' regions in shared memory, the local request
/// listener, the counters. The server binary is a thin host around it; tests start it in process.
/// </summary>
public sealed partial class StorageNode : IDisposable
{
    readonly NodePartition[] _partitions;
    readonly NodeLock _nameLock;

    /// <summary>The local socket and mailboxes, which every node serves (the node starts them itself).</summary>
    readonly ILogger _log;
    readonly ulong _seed;
    int _disposed;

    StorageNode(StorageNodeOptions options, ILogger log)
    {
        options.Validate();
        Options = options;
        _log = log;
        PrivateDataDirectory.Prepare(options.DataDirectory, log);
        _seed = HashSeedFile.LoadOrCreate(options.DataDirectory);
        LoadCluster();
        NodeDirectory = new NodeDirectory(options.Name, options.SharedMemoryRoot);
        _nameLock = NodeLock.Acquire(NodeDirectory);
        var partitions = new List<NodePartition>();
        try
        {
            _store = OpenStore(options, out var recovery);
            Recovery = recovery;
            var memory = new SharedMemoryRegion.Factory(NodeDirectory);
            for (int p = 0; p < options.Partitions; p++)
            {
                var session = _store.NewSession();
                var writer = new PartitionWriter(new PartitionWriterOptions
                {
                    Partition = p,
                    PartitionCount = options.Partitions,
                    HashSeed = _seed,
                    InitialBucketCount = options.InitialBucketCount,
                    InitialExtentBytes = options.InitialExtentBytes,
                    MaxRegionBytes = options.MemoryBytes / options.Partitions,
                    ColdTier = options.ColdTier ? session : null,
                }, memory);
                partitions.Add(new NodePartition(writer, session));
            }
            _partitions = [.. partitions];
            RebuildRegions();
            _checkpointTimer = StartCheckpointTimer();
            StartExpirySweep();
        }
        catch
        {
            foreach (var p in partitions) p.Dispose();
            _store?.Dispose();
            _nameLock.Dispose();
            throw;
        }
    }

    public StorageNodeOptions Options { get; }
    public NodeDirectory NodeDirectory { get; }
    public NodeCounters Counters { get; } = new();
    public IReadOnlyList<NodePartition> Partitions => _partitions;

    /// <summary>Starts a node: takes its name, recovers its store and lays out its regions. Clients reach it through the listeners a <see cref="NodeHost"/> adds.</summary>
    public static StorageNode Start(StorageNodeOptions options, ILogger<StorageNode>? log = null)
    {
        var started = Stopwatch.StartNew();
        var node = new StorageNode(options, log ?? NullLogger<StorageNode>.Instance);
        node.LogRecovery();
        node._log.LogInformation(
            "RdmaKv node '{Name}' started in {Ms} ms: {Partitions} partitions within {Memory} MiB in {Directory}, data in {Data}",
            options.Name, started.ElapsedMilliseconds, options.Partitions, options.MemoryBytes >> 20,
            node.NodeDirectory.Path, Path.GetFullPath(options.DataDirectory));
        return node;
    }

    NodePartition PartitionOf(ReadOnlySpan<byte> key) => PartitionOf(key, out _);

    /// <summary>The key's partition, and its hash for that partition's writer (the same seed), so a write hashes it once.</summary>
    NodePartition PartitionOf(ReadOnlySpan<byte> key, out KeyHash hash)
    {
        hash = KeyHash.Compute(key, _seed);
        return _partitions[hash.Partition(_partitions.Length)];
    }

    /// <summary>
    /// Applies a put to the region and the store; in sync mode returns once the log holding it is
    /// committed. With <paramref name="expiresAt"/> (see <see cref="Expiry"/>) the key reads as
    /// absent from then on, and the node removes it.
    /// </summary>
    public StoreStatus Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt = Expiry.Never)
    {
        long address = -1;
        StoreStatus status = Put(key, value, ref address, expiresAt: expiresAt);
        if (status == StoreStatus.Ok) status = _store.WaitDurable(address);
        return status;
    }

    /// <summary>A put that does not wait for the log: <paramref name="address"/> becomes its log address, for <see cref="WaitDurable"/>.</summary>
    internal StoreStatus Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ref long address, WriteOrigin origin = default, long expiresAt = Expiry.Never)
    {
        StoreStatus valid = StoreStatusText.Validate(key.Length, value.Length);
        if (valid != StoreStatus.Ok) return valid;
        if (expiresAt < 0) return StoreStatus.BadRequest;
        var partition = PartitionOf(key, out var hash);
        if (origin.Source != WriteSource.Client)
        {
            lock (partition.Lock)
            {
                StoreStatus admitted = Admit(key, origin, out int slot);
                return admitted == StoreStatus.Ok ? ApplyPut(partition, key, hash, value, expiresAt, origin, slot, ref address) : admitted;
            }
        }
        // A client's write (see NodePartition.Order): whether this node may apply it is decided
        // under the order lock, which a slot move's switch also takes, so the switch falls before
        // or after it. Its backups apply it first: it is visible here only once it would survive
        // this node. Only applying it here takes the partition lock.
        lock (partition.Order)
        {
            StoreStatus admitted = Admit(key, origin, out int slot);
            if (admitted != StoreStatus.Ok) return admitted;
            var replicated = Replicate(partition, slot, key, value, expiresAt, delete: false, origin);
            if (replicated.Status != StoreStatus.Ok) return replicated.Status;
            StoreStatus status;
            lock (partition.Lock) status = ApplyPut(partition, key, hash, value, expiresAt, origin, slot, ref address);
            return status == StoreStatus.Ok ? status : Unreplicate(replicated, key, status);
        }
    }

    /// <summary>Under the partition's lock: the put applied here, by the durability mode's order.</summary>
    StoreStatus ApplyPut(NodePartition partition, ReadOnlySpan<byte> key, KeyHash hash, ReadOnlySpan<byte> value, long expiresAt, WriteOrigin origin, int slot, ref long address) =>
        _store.Durability == DurabilityMode.Sync
            ? PutDurableFirst(partition, key, hash, value, expiresAt, origin, slot)
            : PutRegionFirst(partition, key, hash, value, expiresAt, origin, slot, ref address);

    /// <summary>Under the partition's lock, in async durability: the region first (a put it refuses leaves no trace in the log or the store).</summary>
    StoreStatus PutRegionFirst(NodePartition partition, ReadOnlySpan<byte> key, KeyHash hash, ReadOnlySpan<byte> value, long expiresAt, WriteOrigin origin, int slot, ref long address)
    {
        StoreStatus status = partition.Writer.Put(key, hash, value, expiresAt);
        if (status != StoreStatus.Ok) return status;
        address = partition.Store.Put(key, value, expiresAt);
        if (origin.Source == WriteSource.Client) Forward(slot, key, value, expiresAt, delete: false);
        else NoteMoved(slot, key, deleted: false);
        return status;
    }

    public StoreStatus Delete(ReadOnlySpan<byte> key) => Delete(key, WriteOrigin.Client);

    internal StoreStatus Delete(ReadOnlySpan<byte> key, WriteOrigin origin)
    {
        StoreStatus valid = StoreStatusText.Validate(key.Length, 0);
        if (valid != StoreStatus.Ok) return valid;
        var partition = PartitionOf(key, out var hash);
        long address;
        if (origin.Source != WriteSource.Client)
        {
            lock (partition.Lock)
            {
                StoreStatus admitted = Admit(key, origin, out int slot);
                if (admitted != StoreStatus.Ok) return admitted;
                StoreStatus applied = ApplyDelete(partition, key, hash, origin, slot, out address);
                if (applied != StoreStatus.Ok) return applied;
            }
            return _store.WaitDurable(address);
        }
        lock (partition.Order) // as in a client's put
        {
            StoreStatus admitted = Admit(key, origin, out int slot);
            if (admitted != StoreStatus.Ok) return admitted;
            var replicated = Replicate(partition, slot, key, default, Expiry.Never, delete: true, origin);
            if (replicated.Status != StoreStatus.Ok) return replicated.Status;
            StoreStatus applied;
            lock (partition.Lock) applied = ApplyDelete(partition, key, hash, origin, slot, out address);
            if (applied == StoreStatus.NotFound) return applied; // nothing to undo: the backups found nothing either
            if (applied != StoreStatus.Ok) return Unreplicate(replicated, key, applied);
        }
        return _store.WaitDurable(address);
    }

    /// <summary>Under the partition's lock: the delete applied here; in async durability <paramref name="address"/> is what to wait for after the lock.</summary>
    StoreStatus ApplyDelete(NodePartition partition, ReadOnlySpan<byte> key, KeyHash hash, WriteOrigin origin, int slot, out long address)
    {
        address = -1;
        if (_store.Durability == DurabilityMode.Sync) return DeleteDurableFirst(partition, key, hash, origin, slot);
        if (origin.Source != WriteSource.Client) NoteMoved(slot, key, deleted: true);
        StoreStatus status = partition.Writer.Delete(key, hash);
        if (status != StoreStatus.Ok) return status;
        address = partition.Store.Delete(key);
        if (origin.Source == WriteSource.Client) Forward(slot, key, default, Expiry.Never, delete: true);
        return status;
    }

    /// <summary>
    /// A GET the node answers itself (fallback after failed one-sided reads), written as a
    /// ValueReply: from the region, or for a cold key from the store, which then brings the value
    /// back into the region (the eviction policy's only signal of reads).
    /// </summary>
    public void Get(ReadOnlySpan<byte> key, ulong id, ArrayBufferWriter<byte> reply)
    {
        StoreStatus valid = StoreStatusText.Validate(key.Length, 0);
        if (valid != StoreStatus.Ok)
        {
            MessageEncoder.ValueReply(reply, id, valid, default, hasValue: false);
            return;
        }
        var partition = PartitionOf(key);
        lock (partition.Lock)
        {
            Residence residence = partition.Writer.Lookup(key, out var value, out long expiresAt);
            if (residence is Residence.Resident or Residence.Absent)
            {
                bool found = residence == Residence.Resident;
                MessageEncoder.ValueReply(reply, id, found ? StoreStatus.Ok : StoreStatus.NotFound, value, found, expiresAt);
                return;
            }
            byte[]? stored = partition.Store.Read(key, out long storedExpiry);
            if (stored is not null && Expiry.HasPassed(storedExpiry))
            {
                // An evicted (or damaged) value past its expiry: the sweep does not see these, so the read removes it.
                RemoveExpired(partition, key);
                stored = null;
            }
            else if (residence == Residence.Damaged)
            {
                // The region's copy fails its checksum: answer from the store and rewrite the region.
                _log.LogWarning("Partition {Partition}: a damaged extent was answered from the store and rewritten", Array.IndexOf(_partitions, partition));
                if (stored is not null) partition.Writer.Repair(key, stored, storedExpiry);
                else partition.Writer.Delete(key);
            }
            else if (stored is not null)
            {
                Interlocked.Increment(ref _coldReads);
                partition.Writer.Promote(key, stored, storedExpiry);
            }
            MessageEncoder.ValueReply(reply, id, stored is null ? StoreStatus.NotFound : StoreStatus.Ok, stored, stored is not null, storedExpiry);
        }
    }

    /// <summary>Who this node is and where each partition's current region lives.</summary>
    public NodeView View()
    {
        var regions = new RegionDescriptor[_partitions.Length];
        for (int p = 0; p < _partitions.Length; p++)
        {
            lock (_partitions[p].Lock)
            {
                Region region = _partitions[p].Writer.Region;
                regions[p] = new RegionDescriptor(p, region.Header.Generation, region.Length, region.Memory.Location);
            }
        }
        return new NodeView(Wire.ProtocolVersion, Options.Name, _partitions.Length, _seed, regions);
    }

    public Dictionary<string, long> Stats()
    {
        var stats = Counters.Snapshot();
        long keys = 0, bytes = 0, grows = 0;
        foreach (var p in _partitions)
        {
            var s = p.Stats;
            keys += s.Count;
            bytes += s.RegionBytes;
            grows += s.Grows;
        }
        stats[StatNames.Keys] = keys;
        stats[StatNames.RegionBytes] = bytes;
        stats[StatNames.Grows] = grows;
        stats["damaged_extents"] = _partitions.Sum(p => p.Writer.DamagedExtents);
        stats["partitions"] = _partitions.Length;
        AddDurabilityStats(stats);
        return stats;
    }

    /// <summary>Raised once when the node begins to stop, before it closes connections and unmaps regions.</summary>
    public event Action? Stopping;

    /// <summary>Unmaps every region and removes the node's shared-memory files (its host has stopped the listeners first).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Stopping?.Invoke(); // remote transports let go of the regions before they are unmapped
        StopCoordination();
        StopExpirySweep();
        CloseStore(); // a last checkpoint, so a restart replays nothing
        foreach (var p in _partitions) p.Dispose();
        _nameLock.Dispose();
        _log.LogInformation("RdmaKv node '{Name}' stopped; its shared memory is removed", Options.Name);
    }
}
