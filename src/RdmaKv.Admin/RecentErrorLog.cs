namespace RdmaKv.Admin;

/// <summary>One thing that went wrong, for the dashboard's "recent errors" list.</summary>
public sealed record RecentError(DateTimeOffset Time, string Source, string Message);

/// <summary>
/// The last <see cref="Capacity"/> errors a node met, newest last. Adding is cheap and happens
/// only on failure paths; it never throws and never grows past its capacity.
/// </summary>
public sealed class RecentErrorLog(int capacity = 50)
{
    readonly Queue<RecentError> _entries = new(capacity);
    readonly Lock _lock = new();
    long _added;

    public int Capacity { get; } = capacity;

    /// <summary>Errors added since the node started, including those that fell off the list.</summary>
    public long Added => Volatile.Read(ref _added);

    public void Add(string source, string message)
    {
        var entry = new RecentError(DateTimeOffset.UtcNow, source, message.Length > 500 ? message[..500] : message);
        lock (_lock)
        {
            if (_entries.Count == Capacity) _entries.Dequeue();
            _entries.Enqueue(entry);
            _added++;
        }
    }

    public IReadOnlyList<RecentError> Snapshot()
    {
        lock (_lock) return [.. _entries];
    }
}
