using RdmaKv.Core;

namespace RdmaKv.Client;

/// <summary>
/// Every reading thread's counters (<see cref="ReaderContext"/>), added up for the observable
/// instruments of <see cref="KvClientTelemetry"/>. Each thread counts into its own context with
/// plain increments; a collection reads them from another thread (a 64-bit read is atomic, a count
/// may be a moment old). The sum never goes down: a thread's last counts are kept when it ends.
/// </summary>
static class ThreadReaders
{
    static readonly Lock s_gate = new();
    static readonly List<Entry> s_entries = [];
    static ReadStatistics s_ended; // what the threads that ended had counted

    /// <summary>Keeps the entry alive as long as its thread lives, and hands its counts over when the thread ends.</summary>
    [ThreadStatic] static Tracker? t_tracker;

    public static ReaderContext New()
    {
        var context = new ReaderContext();
        var entry = new Entry(context);
        lock (s_gate) s_entries.Add(entry);
        t_tracker = new Tracker(entry, context);
        return context;
    }

    public static ReadStatistics Sum()
    {
        lock (s_gate)
        {
            var sum = s_ended;
            foreach (var entry in s_entries) sum = Plus(sum, entry.Counts());
            return sum;
        }
    }

    static void Ended(Entry entry, ReaderContext context)
    {
        lock (s_gate)
        {
            s_ended = Plus(s_ended, ReadStatistics.Of(context));
            s_entries.Remove(entry);
        }
    }

    static ReadStatistics Plus(ReadStatistics a, ReadStatistics b) => new(
        a.Lookups + b.Lookups, a.CacheHits + b.CacheHits, a.Retries + b.Retries, a.ChecksumFailures + b.ChecksumFailures,
        a.SupersededSeen + b.SupersededSeen, a.Refreshes + b.Refreshes, a.Fallbacks + b.Fallbacks);

    /// <summary>
    /// One thread's context, held weakly so that the list does not keep a dead thread's scratch
    /// buffer. Once the weak reference is cleared and before the tracker's finalizer hands the
    /// final counts over, the last counts seen stand in, so a sum taken in between is not smaller.
    /// </summary>
    sealed class Entry(ReaderContext context)
    {
        readonly WeakReference<ReaderContext> _context = new(context);
        ReadStatistics _seen;

        public ReadStatistics Counts() => _context.TryGetTarget(out var c) ? _seen = ReadStatistics.Of(c) : _seen;
    }

    /// <summary>
    /// Reachable only from its thread's static, like the context it holds: when the thread ends,
    /// both become garbage together, and the finalizer (which keeps the context alive until it ran)
    /// reads the thread's final counts.
    /// </summary>
    sealed class Tracker(Entry entry, ReaderContext context)
    {
        ~Tracker() => Ended(entry, context);
    }
}
