using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RdmaKv.Core;
using RdmaKv.Core.Cluster;
using RdmaKv.Server.Cluster;
using RdmaKv.Server.Ucx;

namespace RdmaKv.Server;

/// <summary>
/// Moving a slot to another node while clients read and write it. The owner (this node):
/// 1. tells the target (MoveIn); from then on every put and delete of the slot that this
///    node applies is also applied on the target before this node replies (MovePut, MoveDelete);
/// 2. copies the slot's keys with their current values (Import: the target keeps what it
///    already has and what it saw deleted, which are newer);
/// 3. under every local partition lock, adopts the map with the slot on the target and the
///    epoch one higher: its own requests for the slot now get WrongSlot;
/// 4. retires its regions (a new generation), so one-sided readers refresh and fetch the map;
/// 5. hands the map to every other node (AdoptMap), the target first, and drops its old copy.
/// </summary>
public sealed partial class StorageNode
{
    readonly Lock _moveGate = new();
    readonly ConcurrentDictionary<int, PeerSession> _outgoing = new();
    readonly ConcurrentDictionary<int, ConcurrentDictionary<string, byte>> _incoming = new();
    volatile string? _forwardFailure;

    /// <summary>
    /// Under the key's partition lock: may this node apply a write of <paramref name="key"/> from
    /// <paramref name="origin"/>? A client's, when it leads the slot and holds its lease; a moved
    /// one, while the slot moves in; a replicated one, see <see cref="AdmitReplica"/>.
    /// </summary>
    StoreStatus Admit(ReadOnlySpan<byte> key, WriteOrigin origin, out int slot)
    {
        slot = -1;
        // A store that cannot make writes durable refuses them before anything is applied.
        if (_store.WriteStatus is var disk and not StoreStatus.Ok) return disk;
        var map = _cluster;
        if (map is null) return StoreStatus.Ok;
        slot = map.SlotOf(key);
        if (!Incarnated(map)) return StoreStatus.WrongSlot;
        return origin.Source switch
        {
            WriteSource.Client => map.Owners[slot] == Options.NodeId && Leads(map, slot) && !AwaitsRelease(slot) ? StoreStatus.Ok : StoreStatus.WrongSlot,
            WriteSource.Move => map.Owners[slot] == Options.NodeId || _incoming.ContainsKey(slot) ? StoreStatus.Ok : StoreStatus.WrongSlot,
            _ => AdmitReplica(map, slot, origin),
        };
    }

    /// <summary>After a write applied under the lock: while its slot moves, the target applies it too.</summary>
    void Forward(int slot, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt, bool delete)
    {
        if (slot < 0 || !_outgoing.TryGetValue(slot, out var target)) return;
        try
        {
            if (delete) target.MoveDelete(key);
            else target.MovePut(key, value, expiresAt);
        }
        catch (Exception e) when (e is PeerConnectionException or PeerRefusedException)
        {
            // The write stands here; the move cannot finish without it on the target.
            _forwardFailure = $"forwarding a write to node {target.Node.Id} failed: {e.Message}";
            _outgoing.TryRemove(slot, out _);
        }
    }

    /// <summary>Incoming moved writes: a put clears, a delete records the key, so a later Import does not bring it back.</summary>
    void NoteMoved(int slot, ReadOnlySpan<byte> key, bool deleted)
    {
        if (slot < 0 || !_incoming.TryGetValue(slot, out var deletes)) return;
        string hex = Convert.ToHexString(key);
        if (deleted) deletes[hex] = 0;
        else deletes.TryRemove(hex, out _);
    }

    internal StoreStatus MoveIn(int slot)
    {
        var map = _cluster;
        if (map is null || slot < 0 || slot >= map.SlotCount) return StoreStatus.BadRequest;
        if (map.Owners[slot] == Options.NodeId) return StoreStatus.BadRequest;
        // Leftovers of an earlier move that stopped would look newer than the copy: start clean.
        _incoming.TryRemove(slot, out _);
        long stale = DropSlot(slot, map);
        if (stale > 0) _log.LogWarning("Dropped {Keys} keys left from an earlier, unfinished move of slot {Slot}", stale, slot);
        _incoming.TryAdd(slot, new ConcurrentDictionary<string, byte>(StringComparer.Ordinal));
        _log.LogInformation("Slot {Slot} is moving in from node {Owner}", slot, map.Owners[slot]);
        return StoreStatus.Ok;
    }

    /// <summary>Copied pairs: stored unless this node already holds the key or saw it deleted during the move.</summary>
    internal StoreStatus Import(ReadOnlySpan<(ReadOnlyMemory<byte> Key, ReadOnlyMemory<byte> Value)> pairs, long[]? expiries = null)
    {
        var map = _cluster;
        if (map is null) return StoreStatus.BadRequest;
        long address = -1;
        for (int i = 0; i < pairs.Length; i++)
        {
            var (key, value) = pairs[i];
            long expiresAt = expiries?[i] ?? Expiry.Never;
            int cp = map.SlotOf(key.Span);
            if (!_incoming.TryGetValue(cp, out var deletes)) return StoreStatus.WrongSlot;
            if (deletes.ContainsKey(Convert.ToHexString(key.Span))) continue;
            var partition = PartitionOf(key.Span);
            lock (partition.Lock)
            {
                var residence = partition.Writer.Lookup(key.Span, out _);
                if (residence is Residence.Resident or Residence.Damaged || (residence == Residence.MaybeCold && partition.Store.Contains(key.Span))) continue;
                StoreStatus status = partition.Writer.Put(key.Span, value.Span, expiresAt);
                if (status != StoreStatus.Ok) return status;
                address = partition.Store.Put(key.Span, value.Span, expiresAt);
            }
        }
        return _store.WaitDurable(address);
    }

    /// <summary>Moves <paramref name="slot"/> from this node (its owner) to <paramref name="targetId"/>; see the type's remarks.</summary>
    public MoveReport MoveSlot(int slot, string targetId)
    {
        lock (_moveGate)
        {
            var map = _cluster ?? throw new InvalidOperationException("this node is not in a cluster (start it with --cluster and --node-id)");
            if ((uint)slot >= (uint)map.SlotCount)
                throw new ArgumentOutOfRangeException(nameof(slot), $"slot {slot} is not between 0 and {map.SlotCount - 1}");
            string owner = map.Owners[slot];
            if (owner != Options.NodeId) throw new InvalidOperationException($"slot {slot} is owned by node {owner}, not by this node ({Options.NodeId}); ask node {owner}");
            var target = map.Node(targetId) ?? throw new ArgumentException($"node '{targetId}' is not in the cluster map ({string.Join(", ", map.Nodes.Select(n => n.Id))})", nameof(targetId));
            if (target.Id == Options.NodeId) throw new ArgumentException($"slot {slot} is already on node {targetId}", nameof(targetId));
            if (_coordination is not null && map.BackupsOf(slot).Contains(target.Id)) return HandOver(slot, target.Id);

            var clock = Stopwatch.StartNew();
            var scans = new Stopwatch();
            string token = ClusterToken!; // set with the map

            var peer = PeerSession.Open(target, token, TimeSpan.FromSeconds(10));
            long copied;
            ClusterMap moved;
            try
            {
                peer.MoveIn(slot);
                _forwardFailure = null;
                _outgoing[slot] = peer;
                copied = CopySlot(slot, map, peer, scans);
                moved = SwitchOwner(slot, target.Id);
            }
            catch (PeerConnectionException e)
            {
                _outgoing.TryRemove(slot, out _);
                peer.Dispose();
                // Its message names only an address; the admin answer names the move and the node.
                throw new PeerConnectionException($"the move of slot {slot} stopped: node {target.Id} failed: {e.Message}", e);
            }
            catch (PeerRefusedException e)
            {
                _outgoing.TryRemove(slot, out _);
                peer.Dispose();
                throw new InvalidOperationException($"the move of slot {slot} stopped: node {target.Id} refused: {e.Message}", e);
            }
            catch
            {
                _outgoing.TryRemove(slot, out _);
                peer.Dispose();
                throw;
            }
            // Before the target learns it may take writes (it is told next, and with etcd it waits for
            // that word) and before the drop below: readers of the old generation refresh, and fetch the map.
            long retireStart = Stopwatch.GetTimestamp();
            RetireFor(moved.Epoch);
            double retireMs = Stopwatch.GetElapsedTime(retireStart).TotalMilliseconds;
            var notTold = new List<string>();
            try
            {
                peer.AdoptMap(moved); // with etcd, the target's word that this node retired its regions (StorageNode.Release.cs)
            }
            catch (Exception e) when (e is PeerConnectionException or PeerRefusedException)
            {
                notTold.Add($"{target.Id}: {e.Message}");
            }
            finally
            {
                peer.Dispose();
            }
            if (_coordination is null) // with etcd every node learns the map from its watch
                foreach (var node in moved.Nodes.Where(n => n.Id != Options.NodeId && n.Id != target.Id)) TellMap(node, moved, token, notTold);
            long dropped = DropSlot(slot, moved, scans);
            _log.LogInformation("Slot {Slot} moved to node {Target} in {Ms} ms ({ScanMs} ms scanning the store, {RetireMs} ms retiring regions): {Copied} keys copied, {Dropped} dropped here, epoch {Epoch}",
                slot, target.Id, clock.ElapsedMilliseconds, scans.ElapsedMilliseconds, (long)retireMs, copied, dropped, moved.Epoch);
            return new MoveReport(slot, Options.NodeId!, target.Id, moved.Epoch, copied, dropped, Math.Round(clock.Elapsed.TotalMilliseconds, 1), notTold)
            {
                ScanMs = Math.Round(scans.Elapsed.TotalMilliseconds, 1),
                RetireMs = Math.Round(retireMs, 1),
            };
        }
    }

    /// <summary>
    /// Bytes of keys and values in one Import: half a frame, so that a batch and its encoding
    /// always fit in one message (a longer one is refused unread), and any single pair does.
    /// </summary>
    const int ImportBatchBytes = Protocol.Wire.MaxFrameLength / 2;

    /// <summary>The slot's keys (a scan of the store), then each key's current value read under its lock, sent in batches.</summary>
    long CopySlot(int slot, ClusterMap map, PeerSession peer, Stopwatch scans) => CopySlots(new HashSet<int> { slot }, map, peer, scans);

    /// <summary>As <see cref="CopySlot"/> for several slots, with one scan of the store.</summary>
    long CopySlots(IReadOnlySet<int> slots, ClusterMap map, PeerSession peer, Stopwatch scans)
    {
        string what = slots.Count == 1 ? $"the move of slot {slots.First()}" : $"the copy of {slots.Count} slots";
        var keys = KeysOf(slots, map, scans);
        long copied = 0;
        var batch = new List<(byte[] Key, byte[] Value)>(256);
        var expiries = new List<long>(256);
        int batchBytes = 0;
        foreach (byte[] key in keys)
        {
            var partition = PartitionOf(key);
            StoredValue? current;
            lock (partition.Lock) current = CurrentValue(partition, key);
            if (current is not { } stored) continue; // deleted (or expired) since the scan; a delete was forwarded
            byte[] value = stored.Value;
            if (batch.Count == 256 || (batch.Count > 0 && batchBytes + key.Length + value.Length > ImportBatchBytes))
            {
                peer.Import(batch, expiries);
                copied += batch.Count;
                batch.Clear();
                expiries.Clear();
                batchBytes = 0;
            }
            batch.Add((key, value));
            expiries.Add(stored.ExpiresAt);
            batchBytes += key.Length + value.Length;
            if (_forwardFailure is { } failure) throw new InvalidOperationException($"{what} stopped: {failure}");
        }
        if (batch.Count > 0) peer.Import(batch, expiries);
        copied += batch.Count;
        if (_forwardFailure is { } late) throw new InvalidOperationException($"{what} stopped: {late}");
        return copied;
    }

    /// <summary>Every key the store holds for <paramref name="slot"/> (and maybe some since deleted).</summary>
    List<byte[]> KeysOf(int slot, ClusterMap map, Stopwatch? scans = null) => KeysOf(new HashSet<int> { slot }, map, scans);

    /// <summary>Every key the store holds for any of <paramref name="slots"/>, from one scan.</summary>
    List<byte[]> KeysOf(IReadOnlySet<int> slots, ClusterMap map, Stopwatch? scans = null)
    {
        scans?.Start();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var keys = new List<byte[]>();
        _store.ForEachKey(key =>
        {
            if (!slots.Contains(map.SlotOf(key))) return;
            if (seen.Add(Convert.ToHexString(key))) keys.Add(key.ToArray());
        });
        scans?.Stop();
        return keys;
    }

    /// <summary>Under every local order lock (so no client write is between its check and its forward): the new map.</summary>
    ClusterMap SwitchOwner(int slot, string targetId) => UnderEveryOrderLock(() =>
    {
        if (_forwardFailure is { } failure) throw new InvalidOperationException($"the move of slot {slot} stopped: {failure}");
        ClusterMap moved;
        if (_coordination is { } coordination)
        {
            // With etcd the map changes only there; every node learns it from its watch.
            moved = coordination.UpdateMap(current => current.Owners[slot] == Options.NodeId ? current.WithOwner(slot, targetId) : null)
                ?? throw new InvalidOperationException($"the move of slot {slot} stopped: the map in etcd no longer gives it to this node");
            AdoptStored(moved);
        }
        else
        {
            moved = _cluster!.WithOwner(slot, targetId);
            Adopt(moved);
        }
        _outgoing.TryRemove(slot, out _);
        return moved;
    });

    void TellMap(ClusterNode node, ClusterMap map, string token, List<string> notTold)
    {
        try
        {
            using var peer = PeerSession.Open(node, token, TimeSpan.FromSeconds(5));
            peer.AdoptMap(map);
        }
        catch (Exception e) when (e is PeerConnectionException or PeerRefusedException)
        {
            notTold.Add($"{node.Id}: {e.Message}");
            _log.LogWarning("Node {Node} did not take the map of epoch {Epoch}: {Reason}; it learns it when it next asks (with etcd from its watch, and a slot it gained waits one lease TTL before it takes writes)", node.Id, map.Epoch, e.Message);
        }
    }

    /// <summary>Deletes this node's old copy of a slot it no longer owns (not forwarded, not refused).</summary>
    long DropSlot(int slot, ClusterMap map, Stopwatch? scans = null)
    {
        long dropped = 0;
        foreach (byte[] key in KeysOf(slot, map, scans))
        {
            var partition = PartitionOf(key);
            long address;
            lock (partition.Lock)
            {
                if (partition.Writer.Delete(key) != StoreStatus.Ok) continue;
                address = partition.Store.Delete(key);
            }
            _store.WaitDurable(address);
            dropped++;
        }
        return dropped;
    }
}
