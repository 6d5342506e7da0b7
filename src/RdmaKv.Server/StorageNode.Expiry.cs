using Microsoft.Extensions.Logging;
using RdmaKv.Core;

namespace RdmaKv.Server;

/// <summary>
/// Removing values whose expiry has passed. Readers already take them as absent (each by its own
/// clock); removing them gives their memory back. Every node removes its own copies (a primary and
/// its backups alike, each by its own clock): an expiry is a time, not an event to replicate. A
/// value is removed in the same hold of the partition's lock in which it was found expired, so no
/// put can come in between.
/// </summary>
public sealed partial class StorageNode
{
    Timer? _sweep;
    long _expiredRemoved;

    /// <summary>Values removed because their expiry passed (by the sweep or by a read that found one), since start.</summary>
    public long ExpiredRemoved => Interlocked.Read(ref _expiredRemoved);

    /// <summary>Starts the background sweep: every <see cref="StorageNodeOptions.ExpirySweepInterval"/>, each partition's next <see cref="StorageNodeOptions.ExpirySweepBuckets"/> buckets.</summary>
    void StartExpirySweep()
    {
        if (Options.ExpirySweepInterval <= TimeSpan.Zero) return;
        _sweep = new Timer(_ => SweepExpired(Options.ExpirySweepBuckets), null, Options.ExpirySweepInterval, Options.ExpirySweepInterval);
    }

    void StopExpirySweep()
    {
        using var done = new ManualResetEvent(false);
        if (_sweep is { } sweep && sweep.Dispose(done)) done.WaitOne(TimeSpan.FromSeconds(10));
    }

    /// <summary>One round of the sweep: at most <paramref name="buckets"/> buckets of each partition, each partition under its lock in turn. Returns how many values it removed.</summary>
    public int SweepExpired(int buckets)
    {
        int removed = 0;
        var expired = new List<byte[]>();
        try
        {
            foreach (var partition in _partitions)
            {
                if (Volatile.Read(ref _disposed) != 0) break;
                expired.Clear();
                lock (partition.Lock)
                {
                    partition.Writer.FindExpired(buckets, Expiry.Now(), expired);
                    foreach (byte[] key in expired) RemoveExpired(partition, key);
                    removed += expired.Count;
                }
            }
        }
        catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException)
        {
            // The node is stopping under the sweep.
        }
        catch (Exception e)
        {
            _log.LogWarning(e, "The expiry sweep failed; it tries again at its next round");
        }
        return removed;
    }

    /// <summary>
    /// Removes <paramref name="key"/> from the region and the store. The caller found its value
    /// expired under the partition's lock and still holds it, so no put can have replaced it since.
    /// </summary>
    void RemoveExpired(NodePartition partition, ReadOnlySpan<byte> key)
    {
        partition.Writer.Delete(key);
        partition.Store.Delete(key); // logged, not waited for: a replay that brings it back brings it back expired
        Interlocked.Increment(ref _expiredRemoved);
    }
}
