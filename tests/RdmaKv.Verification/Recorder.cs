using System.Diagnostics;
using RdmaKv.Client;
using RdmaKv.Core;

namespace RdmaKv.Verification;

/// <summary>How a <see cref="Recorder"/> loads the store.</summary>
public sealed record RecorderOptions
{
    /// <summary>A new client; called again after a failure when each thread has its own.</summary>
    public required Func<KvClient> Connect { get; init; }

    public int Threads { get; init; } = 6;

    /// <summary>Few keys, so operations on a key overlap.</summary>
    public int Keys { get; init; } = 4;

    /// <summary>One client shared by all threads (it reconnects by itself); otherwise one per thread, replaced after a failure.</summary>
    public bool SharedClient { get; init; }

    /// <summary>A prefix no earlier run used: every key starts absent.</summary>
    public string KeyPrefix { get; init; } = "v" + Guid.NewGuid().ToString("N")[..8] + "-";

    /// <summary>The threads stop after this many operations in all, or at <see cref="Recorder.Stop"/>.</summary>
    public int MaxOperations { get; init; } = 20_000;

    /// <summary>Of the threads, how many only read (a reader that never fails never reconnects: it must still see new writes).</summary>
    public int ReadOnlyThreads { get; init; } = 2;

    /// <summary>Of the other threads' operations, the percentage that are reads (a tenth of the rest are deletes).</summary>
    public int ReadPercent { get; init; } = 50;

    /// <summary>Bytes added to each value written (to fill a disk sooner).</summary>
    public int ValuePadding { get; init; }

    /// <summary>Without <see cref="ValuePadding"/>: each value gets 0 to this many bytes more, by its id, so values vary in size (<see cref="RecordedValues"/>).</summary>
    public int MaxValuePadding { get; init; }
}

/// <summary>
/// Threads that put, delete and get a few keys through <see cref="KvClient"/> and record each call
/// with its invocation and completion on one monotonic clock (<see cref="Stopwatch.GetTimestamp"/>).
/// Values are unique (thread and counter); some threads only read. A write that throws has an unknown outcome; a read
/// that throws is dropped. Exceptions are counted by type.
/// </summary>
public sealed class Recorder : IDisposable
{
    readonly RecorderOptions _options;
    readonly List<Thread> _threads = [];
    readonly List<Operation>[] _recorded;
    readonly Operation?[] _inFlight;
    readonly object _gate = new();
    readonly Dictionary<string, (int Count, string First)> _errors = [];
    readonly ManualResetEventSlim _resume = new(true);
    KvClient? _shared;
    int _parked;
    int _started;
    int _acknowledged;
    volatile bool _stop;

    public Recorder(RecorderOptions options)
    {
        _options = options;
        _recorded = [.. Enumerable.Range(0, options.Threads).Select(_ => new List<Operation>())];
        _inFlight = new Operation?[options.Threads];
    }

    public IEnumerable<string> Keys => Enumerable.Range(0, _options.Keys).Select(i => _options.KeyPrefix + i);

    /// <summary>Operations that completed without an exception so far.</summary>
    public int Acknowledged => Volatile.Read(ref _acknowledged);

    public int Started => Volatile.Read(ref _started);

    public bool Finished => _threads.All(t => !t.IsAlive);

    public void Start()
    {
        if (_options.SharedClient) _shared = _options.Connect();
        for (int t = 0; t < _options.Threads; t++)
        {
            int id = t;
            var thread = new Thread(() => Run(id)) { IsBackground = true, Name = $"recorder-{id}" };
            _threads.Add(thread);
            thread.Start();
        }
    }

    /// <summary>Waits until <paramref name="more"/> further operations were acknowledged; false if the threads stopped or the patience ran out first.</summary>
    public bool WaitForProgress(int more, TimeSpan patience)
    {
        int target = Acknowledged + more;
        return SpinWait.SpinUntil(() => Acknowledged >= target || Finished, patience) && Acknowledged >= target;
    }

    /// <summary>Stops the threads; returns how many are still inside a client call after <paramref name="patience"/> (they hang).</summary>
    public int Stop(TimeSpan patience)
    {
        _stop = true;
        _resume.Set();
        long deadline = Environment.TickCount64 + (long)patience.TotalMilliseconds;
        return _threads.Count(t => !t.Join(TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64))));
    }

    /// <summary>Parks every thread before its next operation; false if some are still in a call after <paramref name="patience"/>.</summary>
    public bool Hold(TimeSpan patience)
    {
        _resume.Reset();
        return SpinWait.SpinUntil(() => Volatile.Read(ref _parked) + _threads.Count(t => !t.IsAlive) >= _threads.Count, patience);
    }

    public void Resume() => _resume.Set();

    void Run(int thread)
    {
        var random = new Random(thread * 7919 + Environment.ProcessId);
        var log = _recorded[thread];
        KvClient? own = null;
        int counter = 0;
        bool probing = false; // after a failure: read until the node answers (see below)
        while (!_stop)
        {
            if (!_resume.IsSet)
            {
                Interlocked.Increment(ref _parked);
                _resume.Wait();
                Interlocked.Decrement(ref _parked);
                continue;
            }
            var client = _shared ?? (own ??= TryConnect());
            if (client is null) continue;
            if (Interlocked.Increment(ref _started) > _options.MaxOperations) break;
            string key = _options.KeyPrefix + random.Next(_options.Keys);
            int dice = random.Next(100);
            bool readOnly = thread >= _options.Threads - _options.ReadOnlyThreads;
            var kind = dice < _options.ReadPercent || readOnly || probing ? OperationKind.Get : dice < 90 + _options.ReadPercent / 10 ? OperationKind.Put : OperationKind.Delete;
            if (readOnly) Thread.Sleep(1); // readers keep pace with writers instead of filling the history
            string? value = kind == OperationKind.Put ? $"{thread}-{counter++}" : null;
            long invoke = Stopwatch.GetTimestamp();
            Volatile.Write(ref _inFlight[thread], new Operation(0, thread, kind, key, value, invoke, Operation.Never));
            try
            {
                switch (kind)
                {
                    case OperationKind.Get:
                        value = RecordedValues.Read(client.Get(key), _options.ValuePadding, _options.MaxValuePadding);
                        break;
                    case OperationKind.Put:
                        client.Put(key, RecordedValues.Make(value!, _options.ValuePadding, _options.MaxValuePadding));
                        break;
                    default:
                        client.Delete(key);
                        break;
                }
                long complete = Stopwatch.GetTimestamp();
                lock (log) log.Add(new Operation(0, thread, kind, key, value, invoke, complete));
                Interlocked.Increment(ref _acknowledged);
                probing = false;
            }
            catch (Exception e)
            {
                Count(e);
                // A connection failure leaves a write's outcome unknown, and so does Unavailable (a
                // backup may have applied it); a refusal with another status (DiskFull,
                // ShuttingDown...) means the node did not apply it.
                if (kind != OperationKind.Get && e is not KvException { Status: not StoreStatus.Unavailable })
                    lock (log) log.Add(new Operation(0, thread, kind, key, value, invoke, Operation.Never));
                if (own is not null)
                {
                    Dispose(own);
                    own = null;
                }
                Thread.Sleep(10); // an application backs off before it tries again
                // ... and reads until the node answers before it writes again: each write that
                // fails against a dead node is one of unknown outcome, and hundreds of them on a
                // key (every thread, every 10 ms) left the check undecided within its budget.
                probing = !_stop;
            }
            finally
            {
                Volatile.Write(ref _inFlight[thread], null);
            }
        }
        if (own is not null) Dispose(own);
    }

    KvClient? TryConnect()
    {
        try
        {
            return _options.Connect();
        }
        catch (Exception e)
        {
            Count(e);
            Thread.Sleep(20); // the node is down: try again shortly, as an application would
            return null;
        }
    }

    void Dispose(KvClient client)
    {
        try
        {
            client.Dispose();
        }
        catch (Exception e)
        {
            Count(e);
        }
    }

    void Count(Exception e)
    {
        string type = e.GetType().Name;
        lock (_gate) _errors[type] = _errors.TryGetValue(type, out var seen) ? (seen.Count + 1, seen.First) : (1, e.Message);
    }

    /// <summary>Exceptions the clients threw, by type: how many, and the first one's message.</summary>
    public IReadOnlyDictionary<string, (int Count, string First)> Errors
    {
        get
        {
            lock (_gate) return new Dictionary<string, (int, string)>(_errors);
        }
    }

    /// <summary>
    /// Reads every key once with a new client (retrying until the node answers), recorded like any
    /// read, and returns the values read; kept as a snapshot for counting lost writes. Call while
    /// the threads are held (after a restart) or stopped (at the end).
    /// </summary>
    public IReadOnlyDictionary<string, string?> ReadAll(TimeSpan patience)
    {
        long start = Stopwatch.GetTimestamp();
        var final = new Dictionary<string, string?>(StringComparer.Ordinal);
        var log = new List<Operation>();
        long deadline = Environment.TickCount64 + (long)patience.TotalMilliseconds;
        KvClient? client = null;
        foreach (string key in Keys)
        {
            while (!final.ContainsKey(key) && Environment.TickCount64 < deadline)
            {
                try
                {
                    client ??= _options.Connect();
                    long invoke = Stopwatch.GetTimestamp();
                    string? value = RecordedValues.Read(client.Get(key), _options.ValuePadding, _options.MaxValuePadding);
                    log.Add(new Operation(0, _options.Threads, OperationKind.Get, key, value, invoke, Stopwatch.GetTimestamp()));
                    final[key] = value;
                }
                catch (Exception e)
                {
                    Count(e);
                    if (client is not null) Dispose(client);
                    client = null;
                    Thread.Sleep(50);
                }
            }
        }
        if (client is not null) Dispose(client);
        lock (_gate)
        {
            _reads.AddRange(log);
            _snapshots.Add((start, final));
        }
        return final;
    }

    readonly List<Operation> _reads = [];
    readonly List<(long Start, IReadOnlyDictionary<string, string?> Values)> _snapshots = [];

    /// <summary>The values read by each <see cref="ReadAll"/>, with the time it began.</summary>
    public IReadOnlyList<(long Start, IReadOnlyDictionary<string, string?> Values)> Snapshots
    {
        get
        {
            lock (_gate) return [.. _snapshots];
        }
    }

    /// <summary>Everything recorded, numbered in order of invocation.</summary>
    public History History()
    {
        // A write still in a call that never returned (a hung thread) has an unknown outcome.
        var hung = Enumerable.Range(0, _inFlight.Length).Select(i => Volatile.Read(ref _inFlight[i])).OfType<Operation>().Where(o => o.IsWrite);
        var all = _recorded.SelectMany(r =>
        {
            lock (r) return r.ToList();
        }).Concat(hung).Concat(_reads).OrderBy(o => o.Invoke).Select((o, i) => o with { Id = i });
        return new History(all);
    }

    public void Dispose()
    {
        if (!_stop) Stop(TimeSpan.FromSeconds(30));
        if (_shared is not null) Dispose(_shared);
        // _resume stays undisposed: a thread that hung in a call may still come back and look at it.
    }
}
