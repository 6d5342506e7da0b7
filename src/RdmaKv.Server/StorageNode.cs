using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RdmaKv.Core;
using RdmaKv.Protocol;
using RdmaKv.Transport;

namespace RdmaKv.Server;

/// <summary>
/// An embeddable storage node: its partitions' regions in shared memory, the local request
/// listener, the counters. The server binary is a thin host around it; tests start it in process.
/// </summary>
public sealed class StorageNode : IDisposable
{
    readonly NodePartition[] _partitions;
    readonly NodeLock _nameLock;
    readonly LocalListener _local;
    readonly ILogger _log;
    readonly ulong _seed;
    int _disposed;

    StorageNode(StorageNodeOptions options, ILogger log)
    {
        options.Validate();
        Options = options;
        _log = log;
        Directory.CreateDirectory(options.DataDirectory);
        _seed = HashSeedFile.LoadOrCreate(options.DataDirectory);
        NodeDirectory = new NodeDirectory(options.Name, options.SharedMemoryRoot);
        _nameLock = NodeLock.Acquire(NodeDirectory);
        var partitions = new List<NodePartition>();
        try
        {
            var memory = new SharedMemoryRegion.Factory(NodeDirectory);
            for (int p = 0; p < options.Partitions; p++)
            {
                var writer = new PartitionWriter(new PartitionWriterOptions
                {
                    Partition = p,
                    PartitionCount = options.Partitions,
                    HashSeed = _seed,
                    InitialBucketCount = options.InitialBucketCount,
                    InitialExtentBytes = options.InitialExtentBytes,
                    MaxRegionBytes = options.MemoryBytes / options.Partitions,
                }, memory);
                partitions.Add(new NodePartition(writer));
            }
            _partitions = [.. partitions];
            _local = new LocalListener(this, NodeDirectory.SocketPath, log);
        }
        catch
        {
            foreach (var p in partitions) p.Dispose();
            _nameLock.Dispose();
            throw;
        }
    }

    public StorageNodeOptions Options { get; }
    public NodeDirectory NodeDirectory { get; }
    public NodeCounters Counters { get; } = new();
    public IReadOnlyList<NodePartition> Partitions => _partitions;

    /// <summary>Starts a node: takes its name, lays out its regions, opens the local listener.</summary>
    public static StorageNode Start(StorageNodeOptions options, ILogger<StorageNode>? log = null)
    {
        var started = Stopwatch.StartNew();
        var node = new StorageNode(options, log ?? NullLogger<StorageNode>.Instance);
        node._log.LogInformation(
            "RdmaKv node '{Name}' is up in {Ms} ms: {Partitions} partitions within {Memory} MiB, local clients connect with local:{Name} ({Directory}), data in {Data}",
            options.Name, started.ElapsedMilliseconds, options.Partitions, options.MemoryBytes >> 20, options.Name,
            node.NodeDirectory.Path, Path.GetFullPath(options.DataDirectory));
        return node;
    }

    NodePartition PartitionOf(ReadOnlySpan<byte> key) => _partitions[KeyHash.Compute(key, _seed).Partition(_partitions.Length)];

    public StoreStatus Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        StoreStatus valid = StoreStatusText.Validate(key.Length, value.Length);
        if (valid != StoreStatus.Ok) return valid;
        var partition = PartitionOf(key);
        lock (partition.Lock) return partition.Writer.Put(key, value);
    }

    public StoreStatus Delete(ReadOnlySpan<byte> key)
    {
        StoreStatus valid = StoreStatusText.Validate(key.Length, 0);
        if (valid != StoreStatus.Ok) return valid;
        var partition = PartitionOf(key);
        lock (partition.Lock) return partition.Writer.Delete(key);
    }

    /// <summary>A GET the node answers itself (fallback after failed one-sided reads), written as a ValueReply.</summary>
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
            bool found = partition.Writer.TryGetValue(key, out var value);
            MessageEncoder.ValueReply(reply, id, found ? StoreStatus.Ok : StoreStatus.NotFound, value, found);
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
        stats["keys"] = keys;
        stats["region_bytes"] = bytes;
        stats["grows"] = grows;
        stats["partitions"] = _partitions.Length;
        return stats;
    }

    /// <summary>Drains the listener, then unmaps every region and removes the node's shared-memory files.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _local.Dispose();
        foreach (var p in _partitions) p.Dispose();
        _nameLock.Dispose();
        _log.LogInformation("RdmaKv node '{Name}' stopped; its shared memory is removed", Options.Name);
    }
}
