using Prometheus;
using RdmaKv.Core;

namespace RdmaKv.Admin;

/// <summary>
/// The node's counters as Prometheus metrics, in a registry of this admin plane's own (several
/// nodes may live in one test process). Nothing is counted twice: before each scrape, totals are
/// copied from the node's counters and each latency histogram's new observations are replayed
/// bucket by bucket at their exact mean, so bucket counts and _sum match what the node measured.
/// A rendering is served again for <see cref="AdminOptions.MetricsCacheDuration"/>: a scrape
/// reads every partition's stats under its writer's lock and the process's stats from /proc,
/// so a flood of scrapes must not do that per request.
/// </summary>
public sealed class MetricsExporter
{
    static readonly Dictionary<string, (string Metric, string Label)> Totals = new()
    {
        [StatNames.Puts] = ("rdmakv_requests_total", "put"),
        [StatNames.Deletes] = ("rdmakv_requests_total", "delete"),
        [StatNames.FallbackGets] = ("rdmakv_requests_total", "fallback_get"),
        [StatNames.MultiPuts] = ("rdmakv_requests_total", "multi_put"),
        [StatNames.AdminGets] = ("rdmakv_admin_requests_total", "get"),
        [StatNames.AdminPuts] = ("rdmakv_admin_requests_total", "put"),
        [StatNames.AdminDeletes] = ("rdmakv_admin_requests_total", "delete"),
    };

    readonly NodeHolder _holder;
    readonly Lock _lock = new();
    readonly Counter _renders, _requests, _adminRequests, _errors, _badFrames, _bytesIn, _connections, _grows, _cuckooMoves, _evictions, _promotions, _recentErrors;
    readonly Gauge _connectionsOpen, _keys, _ready, _info, _partitionKeys, _loadFactor, _buckets, _generation, _regionBytes,
        _extentCapacity, _extentLive, _fragmentation, _otherStats;
    readonly Histogram _latency;
    readonly Dictionary<string, LatencySnapshot> _exported = [];
    IAdminNode? _exportedNode;
    readonly TimeSpan _cacheFor;
    readonly SemaphoreSlim _rendering = new(1, 1);
    byte[] _rendered = [];
    long _renderedAt;

    public MetricsExporter(NodeHolder holder, AdminOptions options)
    {
        _holder = holder;
        _cacheFor = options.MetricsCacheDuration;
        Registry = Metrics.NewCustomRegistry();
        DotNetStats.Register(Registry);
        var f = Metrics.WithCustomRegistry(Registry);
        _renders = f.CreateCounter("rdmakv_metrics_renders_total", "Renderings of this text; scrapes within the cache duration of one get its text again.");
        _requests = f.CreateCounter("rdmakv_requests_total", "Requests the node answered over its transports, by operation.", "operation");
        _adminRequests = f.CreateCounter("rdmakv_admin_requests_total", "Key operations through the admin HTTP API, by operation.", "operation");
        _errors = f.CreateCounter("rdmakv_request_errors_total", "Requests that failed (not counting 'not found').");
        _badFrames = f.CreateCounter("rdmakv_bad_frames_total", "Malformed frames received from clients.");
        _bytesIn = f.CreateCounter("rdmakv_received_bytes_total", "Bytes of requests received, framing included.");
        _connections = f.CreateCounter("rdmakv_connections_total", "Client connections accepted since the node started.");
        _recentErrors = f.CreateCounter("rdmakv_recorded_errors_total", "Errors added to the node's recent-errors list.");
        _connectionsOpen = f.CreateGauge("rdmakv_connections_open", "Client connections open now.");
        _keys = f.CreateGauge("rdmakv_keys", "Keys stored on the node.");
        _ready = f.CreateGauge("rdmakv_ready", "1 when the node is ready to serve (the same as /health/ready), else 0.");
        _info = f.CreateGauge("rdmakv_node_info", "Always 1; labels name the node and its version.", "node", "version");
        _otherStats = f.CreateGauge("rdmakv_node_stat", "Node counters without a metric of their own, by name.", "name");
        string[] p = ["partition"];
        _partitionKeys = f.CreateGauge("rdmakv_partition_keys", "Keys in the partition, by where their values are: resident in the region or cold.", "partition", "state");
        _loadFactor = f.CreateGauge("rdmakv_partition_load_factor", "Occupied share of the partition's index entries.", p);
        _buckets = f.CreateGauge("rdmakv_partition_buckets", "Buckets in the partition's current region.", p);
        _generation = f.CreateGauge("rdmakv_partition_generation", "Generation of the partition's current region (grows with every online growth).", p);
        _regionBytes = f.CreateGauge("rdmakv_partition_region_bytes", "Size of the partition's current region.", p);
        _extentCapacity = f.CreateGauge("rdmakv_partition_extent_capacity_bytes", "Size of the region's extent area.", p);
        _extentLive = f.CreateGauge("rdmakv_partition_extent_live_bytes", "Bytes of live keys and values in the extent area.", p);
        _fragmentation = f.CreateGauge("rdmakv_partition_extent_fragmentation_ratio", "Share of the touched extent area that holds no live data.", p);
        _grows = f.CreateCounter("rdmakv_partition_grows_total", "Online growths of the partition's region.", p);
        _evictions = f.CreateCounter("rdmakv_partition_evictions_total", "Values moved out of the region to the cold tier.", p);
        _promotions = f.CreateCounter("rdmakv_partition_promotions_total", "Cold values brought back into the region.", p);
        _cuckooMoves = f.CreateCounter("rdmakv_partition_cuckoo_moves_total", "Index entries moved by cuckoo displacement.", p);
        _latency = f.CreateHistogram("rdmakv_request_duration_seconds", "Time the node took to answer a request, from decoded request to encoded reply.",
            new HistogramConfiguration
            {
                LabelNames = ["operation"],
                Buckets = [.. LatencyHistogram.UpperBoundsNanos.Select(n => n / 1e9)],
            });
        Registry.AddBeforeCollectCallback(Update);
    }

    public CollectorRegistry Registry { get; }

    /// <summary>The Prometheus text format (0.0.4): the last rendering while it is fresh, else a new one.</summary>
    public async Task<byte[]> RenderAsync(CancellationToken cancel)
    {
        if (Fresh()) return Volatile.Read(ref _rendered);
        // One rendering at a time; scrapes that waited for it take its result.
        await _rendering.WaitAsync(cancel);
        try
        {
            if (Fresh()) return _rendered;
            using var text = new MemoryStream();
            _renders.Inc();
            await Registry.CollectAndExportAsTextAsync(text, cancel);
            Volatile.Write(ref _rendered, text.ToArray());
            Volatile.Write(ref _renderedAt, System.Diagnostics.Stopwatch.GetTimestamp());
            return _rendered;
        }
        finally
        {
            _rendering.Release();
        }
    }

    bool Fresh()
    {
        long at = Volatile.Read(ref _renderedAt);
        return at != 0 && System.Diagnostics.Stopwatch.GetElapsedTime(at) < _cacheFor;
    }

    void Update()
    {
        var node = _holder.Node;
        if (node is null)
        {
            _ready.Set(0);
            return;
        }
        lock (_lock)
        {
            _ready.Set(node.Readiness().All(c => c.Ready) ? 1 : 0);
            _info.WithLabels(node.Name, AdminEndpoints.Version).Set(1);
            var counters = node.Counters();
            foreach (var (name, value) in counters)
            {
                if (Totals.TryGetValue(name, out var metric))
                    (metric.Metric == "rdmakv_requests_total" ? _requests : _adminRequests).WithLabels(metric.Label).IncTo(value);
                else
                {
                    switch (name)
                    {
                        case StatNames.Errors: _errors.IncTo(value); break;
                        case StatNames.BadFrames: _badFrames.IncTo(value); break;
                        case StatNames.BytesIn: _bytesIn.IncTo(value); break;
                        case StatNames.ConnectionsTotal: _connections.IncTo(value); break;
                        case StatNames.ConnectionsOpen: _connectionsOpen.Set(value); break;
                        case StatNames.Keys: _keys.Set(value); break;
                        default: _otherStats.WithLabels(name).Set(value); break;
                    }
                }
            }
            _recentErrors.IncTo(node.RecentErrors.Added);
            foreach (var s in node.PartitionStats())
            {
                string label = s.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture);
                _partitionKeys.WithLabels(label, "resident").Set(s.Count - s.ColdCount);
                _partitionKeys.WithLabels(label, "cold").Set(s.ColdCount);
                _evictions.WithLabels(label).IncTo(s.Evictions);
                _promotions.WithLabels(label).IncTo(s.Promotions);
                _loadFactor.WithLabels(label).Set(s.LoadFactor);
                _buckets.WithLabels(label).Set(s.BucketCount);
                _generation.WithLabels(label).Set(s.Generation);
                _regionBytes.WithLabels(label).Set(s.RegionBytes);
                _extentCapacity.WithLabels(label).Set(s.Extents.Capacity);
                _extentLive.WithLabels(label).Set(s.Extents.RequestedBytes);
                _fragmentation.WithLabels(label).Set(s.Extents.Fragmentation);
                _grows.WithLabels(label).IncTo(s.Grows);
                _cuckooMoves.WithLabels(label).IncTo(s.CuckooMoves);
            }
            if (!ReferenceEquals(node, _exportedNode))
            {
                _exported.Clear();
                _exportedNode = node;
            }
            foreach (var (operation, histogram) in node.Latencies) Replay(operation, histogram.Snapshot());
        }
    }

    void Replay(string operation, LatencySnapshot now)
    {
        var fresh = now.Minus(_exported.GetValueOrDefault(operation) ?? LatencySnapshot.Empty);
        var child = _latency.WithLabels(operation);
        for (int i = 0; i < fresh.Counts.Length; i++)
        {
            // The mean of a bucket's new observations lies inside the bucket, so they land in the
            // right Prometheus bucket and add their exact total to _sum.
            // Clamped, so a rounding ulp or a sum read ahead of its count cannot cross a bound.
            if (fresh.Counts[i] == 0) continue;
            var bounds = LatencyHistogram.UpperBoundsNanos;
            double low = i == 0 ? 0 : Math.BitIncrement(bounds[i - 1] / 1e9);
            double high = i < bounds.Length ? bounds[i] / 1e9 : double.MaxValue;
            child.Observe(Math.Clamp(fresh.SumsNanos[i] / 1e9 / fresh.Counts[i], low, high), fresh.Counts[i]);
        }
        _exported[operation] = now;
    }
}
