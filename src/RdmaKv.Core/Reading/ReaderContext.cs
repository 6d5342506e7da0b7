using System.Numerics;
using System.Runtime.CompilerServices;

namespace RdmaKv.Core;

/// <summary>
/// What one reading thread needs: a scratch buffer the extents are copied into before they are
/// validated (a value is checked where it cannot change any more) and counters of what went wrong.
/// Not thread-safe: one per thread.
/// </summary>
public sealed class ReaderContext
{
    byte[] _scratch = GC.AllocateUninitializedArray<byte>(16 << 10, pinned: true);

    public Span<byte> Scratch(int length)
    {
        if (_scratch.Length < length)
            _scratch = GC.AllocateUninitializedArray<byte>((int)BitOperations.RoundUpToPowerOf2((uint)length), pinned: true);
        return _scratch.AsSpan(0, length);
    }

    /// <summary>The validated extent of the last successful lookup.</summary>
    public ReadOnlySpan<byte> LastValue => _scratch.AsSpan(ValueStart, ValueLength);

    internal int ValueStart;
    internal int ValueLength;

    /// <summary>The write sequence number of the last extent that validated.</summary>
    public ulong LastSequence { get; internal set; }

    // Counted by TableReader; read by anyone.
    public long Lookups { get; internal set; }
    public long Retries { get; internal set; }
    public long ChecksumFailures { get; internal set; }
    public long SupersededSeen { get; internal set; }
    public long CacheHits { get; internal set; }
    public long Fallbacks { get; internal set; }

    /// <summary>How often the caller refreshed its view of the regions after a stale lookup (<see cref="CountRefresh"/>).</summary>
    public long Refreshes { get; private set; }

    public void CountRefresh() => Refreshes++;

    /// <summary>When this thread last reported its counters to a node (Environment.TickCount64).</summary>
    public long LastReport { get; set; }

    long _reportedLookups, _reportedCacheHits, _reportedRetries, _reportedChecksumFailures, _reportedFallbacks;

    /// <summary>What changed since the last call, by the names nodes count them under; empty when nothing did.</summary>
    public Dictionary<string, long> TakeReport()
    {
        var report = new Dictionary<string, long>();
        void Add(string name, long now, ref long reported)
        {
            if (now != reported) report[name] = now - reported;
            reported = now;
        }
        Add(StatNames.Reported.Lookups, Lookups, ref _reportedLookups);
        Add(StatNames.Reported.CacheHits, CacheHits, ref _reportedCacheHits);
        Add(StatNames.Reported.Retries, Retries, ref _reportedRetries);
        Add(StatNames.Reported.ChecksumFailures, ChecksumFailures, ref _reportedChecksumFailures);
        Add(StatNames.Reported.Fallbacks, Fallbacks, ref _reportedFallbacks);
        return report;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void SetValue(int start, int length)
    {
        ValueStart = start;
        ValueLength = length;
    }
}
