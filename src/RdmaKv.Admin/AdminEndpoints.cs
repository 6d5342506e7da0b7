using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using RdmaKv.Core;

namespace RdmaKv.Admin;

/// <summary>The read-only JSON API: node, stats, partitions, cluster map, recent errors, dashboard series.</summary>
static class AdminEndpoints
{
    public static readonly string Version =
        typeof(AdminEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "unknown";

    public static void Map(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");
        api.MapGet("/node", (NodeHolder holder, AdminOptions options, HttpContext http) => WithNode(holder, node => TypedResults.Ok(NodeInfo(node, options, ShowsPaths(http)))));
        api.MapGet("/stats", (NodeHolder holder, StatsSampler sampler) => WithNode(holder, node => TypedResults.Ok(Stats(node, sampler))));
        api.MapGet("/partitions", (NodeHolder holder) => WithNode(holder, node => TypedResults.Ok(Partitions(node))));
        api.MapGet("/cluster", (NodeHolder holder, HttpContext http) => WithNode(holder, node => TypedResults.Ok(Cluster(node, ShowsPaths(http)))));
        api.MapGet("/errors", (NodeHolder holder) => WithNode(holder, node => TypedResults.Ok(node.RecentErrors.Snapshot())));
        api.MapGet("/dashboard", (NodeHolder holder, StatsSampler sampler, AdminOptions options, HttpContext http, long? since) =>
            WithNode(holder, node => TypedResults.Ok(new
            {
                node = NodeInfo(node, options, ShowsPaths(http)),
                intervalMs = (long)options.SampleInterval.TotalMilliseconds,
                samples = sampler.Since(since ?? 0),
                partitions = Partitions(node),
                errors = node.RecentErrors.Snapshot(),
            })));
        api.MapPost("/checkpoint", (NodeHolder holder) => WithNode(holder, Checkpoint)).RequireAuthorization(AdminPlane.TokenPolicy);
        api.MapPost("/cluster/move", (NodeHolder holder, MoveRequest move) => WithNode(holder, node => Move(node, move))).RequireAuthorization(AdminPlane.TokenPolicy);
        KeyEndpoints.Map(api);
    }

    /// <summary>Runs <paramref name="answer"/> with the node, or answers 503 while there is none.</summary>
    public static IResult WithNode(NodeHolder holder, Func<IAdminNode, IResult> answer)
    {
        var node = holder.Node;
        return node is null
            ? Problems.Result(StatusCodes.Status503ServiceUnavailable, "the node is starting or stopping; try again shortly", "Node not available")
            : answer(node);
    }

    static IResult Checkpoint(IAdminNode node)
    {
        try
        {
            return TypedResults.Ok(node.Checkpoint());
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
        {
            node.RecentErrors.Add("admin", $"checkpoint failed: {e.Message}");
            return Problems.Result(StatusCodes.Status500InternalServerError, $"the checkpoint failed: {e.Message}", "Checkpoint failed");
        }
    }

    /// <summary>File system paths (data directory, region files) are shown only with the admin token.</summary>
    static bool ShowsPaths(HttpContext http) => http.User.Identity?.IsAuthenticated == true;

    static object NodeInfo(IAdminNode node, AdminOptions options, bool paths) => new
    {
        name = node.Name,
        version = Version,
        protocolVersion = Protocol.Wire.ProtocolVersion,
        startedAt = node.StartedAt,
        uptimeSeconds = Math.Round((DateTimeOffset.UtcNow - node.StartedAt).TotalSeconds, 1),
        partitions = node.View().PartitionCount,
        dataDirectory = paths ? Path.GetFullPath(node.DataDirectory) : null,
        adminUrls = options.Urls,
        ready = node.Readiness().All(c => c.Ready),
        readiness = node.Readiness(),
    };

    static object Stats(IAdminNode node, StatsSampler sampler)
    {
        var counters = node.Counters();
        var latest = sampler.Latest;
        long Get(string name) => counters.GetValueOrDefault(name);
        return new
        {
            operations = new
            {
                puts = Get(StatNames.Puts),
                deletes = Get(StatNames.Deletes),
                fallbackGets = Get(StatNames.FallbackGets),
                multiPuts = Get(StatNames.MultiPuts),
                adminGets = Get(StatNames.AdminGets),
                adminPuts = Get(StatNames.AdminPuts),
                adminDeletes = Get(StatNames.AdminDeletes),
            },
            rates = new
            {
                intervalSeconds = latest?.Seconds,
                perSecond = latest?.Rates ?? new Dictionary<string, double>(),
                // Served and client-reported operations over the last few seconds (the cluster overview).
                operationsPerSecond = sampler.OperationsPerSecond(),
            },
            // One-sided reads never reach the node: clients report them (KvClientOptions.ReportInterval).
            reportedByClients = new
            {
                lookups = Get(StatNames.ClientLookups),
                oneSidedGets = Get(StatNames.ClientOneSidedGets),
                cacheHits = Get(StatNames.ClientCacheHits),
                retries = Get(StatNames.ClientRetries),
                checksumFailures = Get(StatNames.ClientChecksumFailures),
                fallbacks = Get(StatNames.ClientFallbacks),
            },
            errors = new { requests = Get(StatNames.Errors), badFrames = Get(StatNames.BadFrames), recorded = node.RecentErrors.Added },
            bytesIn = Get(StatNames.BytesIn),
            clients = new { connected = Get(StatNames.ConnectionsOpen), total = Get(StatNames.ConnectionsTotal) },
            keys = Get(StatNames.Keys),
            regionBytes = Get(StatNames.RegionBytes),
            grows = Get(StatNames.Grows),
            latency = node.Latencies.ToDictionary(l => l.Operation, l => LatencySummary(l.Histogram.Snapshot())),
            latestInterval = latest?.Latency,
            counters,
        };
    }

    static object LatencySummary(LatencySnapshot s) => new
    {
        count = s.Count,
        meanUs = s.Count == 0 ? (double?)null : Math.Round(s.SumsNanos.Sum() / 1000.0 / s.Count, 2),
        p50Us = Us(s.Percentile(0.5)),
        p99Us = Us(s.Percentile(0.99)),
        p999Us = Us(s.Percentile(0.999)),
    };

    static double? Us(double? nanos) => nanos is null ? null : Math.Round(nanos.Value / 1000, 2);

    static object[] Partitions(IAdminNode node) =>
    [
        .. node.PartitionStats().Select(s => new
        {
            partition = s.Partition,
            generation = s.Generation,
            bucketCount = s.BucketCount,
            entries = s.BucketCount * Bucket.EntryCount,
            keys = s.Count,
            residentKeys = s.Count - s.ColdCount,
            coldKeys = s.ColdCount,
            evictions = s.Evictions,
            promotions = s.Promotions,
            loadFactor = Math.Round(s.LoadFactor, 4),
            regionBytes = s.RegionBytes,
            extents = new
            {
                capacityBytes = s.Extents.Capacity,
                allocatedBytes = s.Extents.AllocatedBytes,
                liveBytes = s.Extents.RequestedBytes,
                freeListBytes = s.Extents.FreeListBytes,
                quarantinedBytes = s.Extents.QuarantinedBytes,
                untouchedBytes = s.Extents.UntouchedBytes,
                use = s.Extents.Capacity == 0 ? 0 : Math.Round((double)(s.Extents.Capacity - s.Extents.UntouchedBytes - s.Extents.FreeListBytes) / s.Extents.Capacity, 4),
                fragmentation = Math.Round(s.Extents.Fragmentation, 4),
            },
            grows = s.Grows,
            cuckooMoves = s.CuckooMoves,
        }),
    ];

    /// <summary>A slot move as posted: which slot, to which node.</summary>
    public sealed record MoveRequest(int Slot, string Node);

    static IResult Move(IAdminNode node, MoveRequest move)
    {
        if (node.ClusterMap is null)
            return Problems.Result(StatusCodes.Status409Conflict, "this node is not in a cluster (start it with --cluster and --node-id)", "Not in a cluster");
        try
        {
            return TypedResults.Ok(node.MoveSlot(move.Slot, move.Node ?? ""));
        }
        catch (ArgumentException e)
        {
            return Problems.Result(StatusCodes.Status400BadRequest, ErrorText.Of(e), "Bad move");
        }
        catch (InvalidOperationException e)
        {
            node.RecentErrors.Add("admin", $"slot move failed: {e.Message}");
            return Problems.Result(StatusCodes.Status409Conflict, e.Message, "Move refused or stopped");
        }
        catch (IOException e)
        {
            node.RecentErrors.Add("admin", $"slot move failed: {e.Message}");
            return Problems.Result(StatusCodes.Status502BadGateway, e.Message, "Another node did not answer");
        }
    }

    /// <summary>
    /// The cluster map as this node sees it: the nodes and the slots each owns, or for a node on
    /// its own, itself and its local partitions. The hash seed is left out: whoever knows it can
    /// craft keys that collide; clients get it in their handshake.
    /// </summary>
    static object Cluster(IAdminNode node, bool paths)
    {
        if (node.ClusterMap is { } map)
        {
            var replication = node.Replication;
            return new
            {
                nodeId = node.NodeId,
                epoch = map.Epoch,
                slotCount = map.SlotCount,
                replicas = map.Replicas,
                nodes = map.Nodes.Select(n => new
                {
                    id = n.Id,
                    ucx = n.Ucx,
                    admin = n.Admin,
                    slots = map.LedBy(n.Id),
                    backs = map.BackedBy(n.Id),
                    up = replication?.LiveNodes.Contains(n.Id),
                }),
                owners = map.Owners,
                backups = map.Replicas > 1 ? Enumerable.Range(0, map.SlotCount).Select(map.BackupsOf) : null,
                replication,
            };
        }
        var view = node.View();
        return new
        {
            nodes = new[]
            {
                new
                {
                    name = view.NodeName,
                    protocolVersion = view.ProtocolVersion,
                    partitionCount = view.PartitionCount,
                    regions = view.Regions.Select(r => new { partition = r.Partition, generation = r.Generation, length = r.Length, path = paths ? r.Path : null }),
                },
            },
            partitions = view.Regions.Select(r => new { partition = r.Partition, node = view.NodeName }),
        };
    }
}
