using System.Numerics;
using System.Runtime.CompilerServices;

namespace RdmaKv.Core;

/// <summary>
/// Where a key's extent was last found, so a hot GET is a single read. Direct-mapped, lock-free
/// and allowed to be wrong: threads may race and tear a line, and a location may go stale,
/// because every extent read through it is validated (checksum, key, superseded) like any other.
/// A line also holds the sequence number of the write it found there: once the extent's memory
/// is reused by a newer write of the same key, the extent validates but its sequence differs, and
/// the reader goes to the buckets (a write not yet published must not be read through the cache).
/// </summary>
public sealed class LocationCache
{
    struct Line
    {
        public ulong Hash;
        public ulong Entry;
        public ulong Generation;
        public ulong Sequence;
    }

    readonly Line[] _lines;
    readonly int _shift;

    public LocationCache(int capacity = 1 << 16)
    {
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(capacity, 16));
        _lines = new Line[size];
        _shift = 64 - BitOperations.Log2((uint)size);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    int IndexOf(ulong hash) => (int)((hash * 0x9E3779B97F4A7C15UL) >> _shift);

    public bool TryGet(KeyHash hash, ulong generation, out IndexEntry entry, out ulong sequence)
    {
        ref Line e = ref _lines[IndexOf(hash.Value)];
        entry = new IndexEntry(e.Entry);
        sequence = e.Sequence;
        return e.Hash == hash.Value && e.Generation == generation && !entry.IsEmpty;
    }

    public void Set(KeyHash hash, ulong generation, IndexEntry entry, ulong sequence)
    {
        ref Line e = ref _lines[IndexOf(hash.Value)];
        e.Hash = hash.Value;
        e.Entry = entry.Raw;
        e.Generation = generation;
        e.Sequence = sequence;
    }

    public void Remove(KeyHash hash)
    {
        ref Line e = ref _lines[IndexOf(hash.Value)];
        if (e.Hash == hash.Value) e.Entry = 0;
    }
}
