using Microsoft.Extensions.Hosting;
using RdmaKv.Core;

namespace RdmaKv.Admin;

/// <summary>Latency percentiles of one operation over one sampling interval, in microseconds.</summary>
public sealed record LatencyPoint(long Count, double? P50Us, double? P99Us, double? P999Us);

/// <summary>One point of the dashboard's series: rates over the interval that ended at <see cref="Time"/>.</summary>
public sealed record Sample(
    long Time,
    double Seconds,
    IReadOnlyDictionary<string, double> Rates,
    IReadOnlyDictionary<string, LatencyPoint> Latency,
    long ClientsConnected,
    long Keys,
    long Errors);

/// <summary>
/// Every <see cref="AdminOptions.SampleInterval"/>, reads the node's counters and latency
/// histograms and keeps the differences as a bounded series: what the dashboard draws and what
/// /api/stats reports as rates.
/// </summary>
public sealed class StatsSampler(NodeHolder holder, AdminOptions options) : BackgroundService
{
    /// <summary>
    /// The counters that become per-second rates. The client_* ones are what clients report of
    /// their one-sided reads, about once a second per reading thread, so their rate over one
    /// interval is uneven; the dashboard averages them over a few intervals.
    /// </summary>
    public static readonly string[] RateCounters =
    [
        StatNames.Puts, StatNames.Deletes, StatNames.FallbackGets, StatNames.MultiPuts, StatNames.AdminGets, StatNames.AdminPuts, StatNames.AdminDeletes,
        StatNames.Errors, StatNames.BadFrames, StatNames.BytesIn,
        StatNames.ClientLookups, StatNames.ClientOneSidedGets, StatNames.ClientCacheHits, StatNames.ClientRetries, StatNames.ClientFallbacks,
    ];

    /// <summary>
    /// What counts as a node's operations: the requests it serves and the GETs clients read
    /// one-sided from its memory (their fallbacks are already among its fallback_gets).
    /// </summary>
    public static readonly string[] OperationCounters =
    [
        StatNames.Puts, StatNames.Deletes, StatNames.MultiPuts, StatNames.FallbackGets, StatNames.ClientOneSidedGets,
        StatNames.AdminGets, StatNames.AdminPuts, StatNames.AdminDeletes,
    ];

    /// <summary>How far back <see cref="OperationsPerSecond"/> averages: several client reports.</summary>
    public static readonly TimeSpan OperationsWindow = TimeSpan.FromSeconds(5);

    readonly Queue<Sample> _samples = new();
    readonly Lock _lock = new();
    IAdminNode? _baselineNode;
    IReadOnlyDictionary<string, long>? _lastCounters;
    Dictionary<string, LatencySnapshot> _lastLatency = [];
    long _lastTimestamp;

    public Sample? Latest
    {
        get
        {
            lock (_lock) return _samples.Count == 0 ? null : _samples.Last();
        }
    }

    /// <summary>Samples taken after <paramref name="sinceUnixMs"/>, oldest first.</summary>
    public IReadOnlyList<Sample> Since(long sinceUnixMs)
    {
        lock (_lock) return [.. _samples.Where(s => s.Time > sinceUnixMs)];
    }

    /// <summary>
    /// <see cref="OperationCounters"/> per second, averaged over the newest samples that cover
    /// <see cref="OperationsWindow"/> (client reports arrive about once a second, so one interval
    /// may hold none or two); null before the first sample.
    /// </summary>
    public double? OperationsPerSecond()
    {
        lock (_lock)
        {
            double seconds = 0, operations = 0;
            foreach (var sample in _samples.Reverse())
            {
                if (seconds >= OperationsWindow.TotalSeconds) break;
                seconds += sample.Seconds;
                foreach (string name in OperationCounters) operations += sample.Rates.GetValueOrDefault(name) * sample.Seconds;
            }
            return seconds == 0 ? null : Math.Round(operations / seconds, 1);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.SampleInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) SampleOnce();
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Takes one sample now (the timer calls it; tests may too).</summary>
    public void SampleOnce()
    {
        var node = holder.Node;
        if (node is null) return;
        lock (_lock)
        {
            long now = System.Diagnostics.Stopwatch.GetTimestamp();
            var counters = node.Counters();
            var latency = node.Latencies.ToDictionary(l => l.Operation, l => l.Histogram.Snapshot());
            if (!ReferenceEquals(node, _baselineNode) || _lastCounters is null)
            {
                _baselineNode = node;
                Remember(counters, latency, now);
                return;
            }
            double seconds = System.Diagnostics.Stopwatch.GetElapsedTime(_lastTimestamp, now).TotalSeconds;
            var rates = new Dictionary<string, double>();
            foreach (string name in RateCounters)
            {
                if (counters.TryGetValue(name, out long value))
                    rates[name] = Math.Max(0, value - _lastCounters.GetValueOrDefault(name)) / seconds;
            }
            var points = new Dictionary<string, LatencyPoint>();
            foreach (var (operation, snapshot) in latency)
            {
                var interval = snapshot.Minus(_lastLatency.GetValueOrDefault(operation) ?? LatencySnapshot.Empty);
                points[operation] = new LatencyPoint(interval.Count, Us(interval.Percentile(0.5)), Us(interval.Percentile(0.99)), Us(interval.Percentile(0.999)));
            }
            long errors = Delta(counters, StatNames.Errors);
            long badFrames = Delta(counters, StatNames.BadFrames);
            if (badFrames > 0) node.RecentErrors.Add("clients", $"{badFrames} malformed frame(s) from clients in the last {seconds:0.#} s");
            Add(new Sample(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), seconds, rates, points,
                counters.GetValueOrDefault(StatNames.ConnectionsOpen), counters.GetValueOrDefault(StatNames.Keys), errors + badFrames));
            Remember(counters, latency, now);
        }
    }

    long Delta(IReadOnlyDictionary<string, long> counters, string name) =>
        Math.Max(0, counters.GetValueOrDefault(name) - _lastCounters!.GetValueOrDefault(name));

    static double? Us(double? nanos) => nanos is null ? null : Math.Round(nanos.Value / 1000, 2);

    void Remember(IReadOnlyDictionary<string, long> counters, Dictionary<string, LatencySnapshot> latency, long timestamp)
    {
        _lastCounters = counters;
        _lastLatency = latency;
        _lastTimestamp = timestamp;
    }

    void Add(Sample sample)
    {
        if (_samples.Count == options.HistoryLength) _samples.Dequeue();
        _samples.Enqueue(sample);
    }
}
