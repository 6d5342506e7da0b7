using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using RdmaKv.Core;

namespace RdmaKv.Client;

/// <summary>
/// The client's metrics (<see cref="System.Diagnostics.Metrics"/>, meter <see cref="MeterName"/>) and
/// traces (<see cref="ActivitySource"/> <see cref="ActivitySourceName"/>), for OpenTelemetry or any
/// other listener: <c>AddMeter(KvClientTelemetry.MeterName)</c>, <c>AddSource(KvClientTelemetry.ActivitySourceName)</c>.
/// Process-wide: every client of the process counts into the same instruments (docs/telemetry.md lists them).
/// </summary>
/// <remarks>
/// A GET over shared memory takes about a microsecond, so with nothing listening it pays one check of
/// <see cref="Instrument.Enabled"/> per instrument, and the lookup counters (lookups, cache hits,
/// retries...) are the per-thread ones the reader keeps anyway (<see cref="ReadStatistics"/>), added
/// up over threads only when a listener collects them. One-sided reads get no activity: starting one
/// costs a good part of the read itself; a fallback, a put or a delete is a message to a node and gets one.
/// </remarks>
public static class KvClientTelemetry
{
    /// <summary>The <see cref="Meter"/> name of the client's instruments.</summary>
    public const string MeterName = "RdmaKv.Client";

    /// <summary>The <see cref="ActivitySource"/> name of the client's activities (puts, deletes, fallbacks).</summary>
    public const string ActivitySourceName = "RdmaKv.Client";

    internal const string OperationTag = "rdmakv.operation";
    internal const string OutcomeTag = "rdmakv.outcome";
    internal const string Ok = "ok";
    internal const string NotFound = "not_found";

    /// <summary><see cref="Started"/>'s answer when only the operation counter listens: count, read no clock.</summary>
    const long CountOnly = 1;

    static readonly string? s_version = typeof(KvClientTelemetry).Assembly.GetName().Version?.ToString();
    static readonly Meter s_meter = new(MeterName, s_version);
    static readonly ActivitySource s_source = new(ActivitySourceName, s_version);

    static readonly Counter<long> s_operations = s_meter.CreateCounter<long>(
        "rdmakv.client.operations", "{operation}", "Operations the client's callers made, by rdmakv.operation and rdmakv.outcome.");

    // From one microsecond (a local GET) to seconds (a write waiting for a sync commit or a failover).
    static readonly Histogram<double> s_duration = s_meter.CreateHistogram(
        "rdmakv.client.operation.duration", "s", "How long the client's operations took, by rdmakv.operation and rdmakv.outcome.",
        advice: new InstrumentAdvice<double>
        {
            HistogramBucketBoundaries = [1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10],
        });

    static readonly Counter<long> s_fallbacks = s_meter.CreateCounter<long>(
        "rdmakv.client.fallbacks", "{fallback}", "GETs the node answered because the one-sided read gave up (a writer kept changing what it read, or the region moved).");

    // No static constructor (it would make every use on the GET path check the class's initialization).
    static readonly ObservableCounter<long>[] s_readerCounters = ObserveReaders();

    /// <summary>Counted by every reading thread anyway (TableReader); added up here only when collected.</summary>
    static ObservableCounter<long>[] ObserveReaders() =>
    [
        s_meter.CreateObservableCounter("rdmakv.client.lookups", () => ThreadReaders.Sum().Lookups, "{lookup}",
            "One-sided lookups: GETs read from the node's regions (shared memory or RDMA) without the node's CPU."),
        s_meter.CreateObservableCounter("rdmakv.client.location_cache.hits", () => ThreadReaders.Sum().CacheHits, "{hit}",
            "Lookups a cached location answered in one read."),
        s_meter.CreateObservableCounter("rdmakv.client.lookup.retries", () => ThreadReaders.Sum().Retries, "{retry}",
            "Lookups read again because what they read was changing under a writer."),
        s_meter.CreateObservableCounter("rdmakv.client.lookup.checksum_failures", () => ThreadReaders.Sum().ChecksumFailures, "{failure}",
            "Extents whose checksum did not match when read (torn by a writer, or damaged)."),
        s_meter.CreateObservableCounter("rdmakv.client.lookup.superseded", () => ThreadReaders.Sum().SupersededSeen, "{extent}",
            "Extents found replaced by a newer write when read."),
        s_meter.CreateObservableCounter("rdmakv.client.region.refreshes", () => ThreadReaders.Sum().Refreshes, "{refresh}",
            "Times a reader asked a node where its regions are after they moved or grew."),
    ];

    /// <summary>A new thread's reader context, whose counters the observable instruments include.</summary>
    internal static ReaderContext NewThreadReader() => ThreadReaders.New();

    /// <summary>When an operation starts: 0 when nothing listens, <see cref="CountOnly"/> when only the counter does, else a timestamp.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static long Started() => s_duration.Enabled ? Stopwatch.GetTimestamp() : s_operations.Enabled ? CountOnly : 0;

    /// <summary>Counts and times a GET that found its key or did not.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Completed(KvOperation operation, long started, bool found)
    {
        if (started != 0) Record(operation, started, found ? Ok : NotFound);
    }

    internal static void Record(KvOperation operation, long started, string outcome)
    {
        if (started == 0) return;
        var operationTag = new KeyValuePair<string, object?>(OperationTag, Names[(int)operation]);
        var outcomeTag = new KeyValuePair<string, object?>(OutcomeTag, outcome);
        s_operations.Add(1, operationTag, outcomeTag);
        if (started != CountOnly) s_duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, operationTag, outcomeTag);
    }

    /// <summary>
    /// Records a failed operation and ends its activity; false, so that an exception filter calling
    /// it lets the exception go on unchanged. Mistakes in the caller's arguments are not counted.
    /// </summary>
    internal static bool Failed(KvOperation operation, long started, Exception e, Activity? activity = null, string? node = null)
    {
        string? outcome = OutcomeOf(e);
        if (outcome is null) return false;
        Record(operation, started, outcome);
        if (activity is not null) Stop(activity, node, outcome, e);
        return false;
    }

    /// <summary>An activity for a message to a node, or null when no listener wants it.</summary>
    internal static Activity? StartActivity(KvOperation operation, int keyLength = -1, int pairs = -1)
    {
        if (!s_source.HasListeners()) return null;
        var activity = s_source.StartActivity(ActivityNames[(int)operation], ActivityKind.Client);
        if (activity is null || !activity.IsAllDataRequested) return activity;
        activity.SetTag("db.system.name", "rdmakv");
        activity.SetTag(OperationTag, Names[(int)operation]);
        if (keyLength >= 0) activity.SetTag("rdmakv.key.length", keyLength);
        if (pairs >= 0) activity.SetTag("rdmakv.batch.size", pairs);
        return activity;
    }

    /// <summary>Tags the activity with where it went and how it ended, and stops it.</summary>
    internal static void Stop(Activity activity, string? node, string outcome, Exception? error = null)
    {
        if (activity.IsAllDataRequested)
        {
            if (node is not null) activity.SetTag("rdmakv.node", node);
            activity.SetTag(OutcomeTag, outcome);
            if (error is not null)
            {
                activity.SetTag("error.type", outcome);
                activity.SetStatus(ActivityStatusCode.Error, error.Message);
                activity.AddException(error);
            }
        }
        activity.Stop();
    }

    /// <summary>One fallback: the one-sided read gave up and the node is asked.</summary>
    internal static void CountFallback() => s_fallbacks.Add(1);

    /// <summary>The outcome tag of a failure; null for a mistake in the caller's arguments (the client refused it before any node saw it).</summary>
    internal static string? OutcomeOf(Exception e) => e switch
    {
        KvConnectionException => "connection",
        KvException { Status: StoreStatus.KeyEmpty or StoreStatus.KeyTooLong or StoreStatus.ValueTooLong } => null,
        KvException k => (int)k.Status < StatusNames.Length ? StatusNames[(int)k.Status] : "error",
        ArgumentException => null,
        OperationCanceledException => "canceled",
        _ => "error",
    };

    /// <summary>The operation a write came from, by the public method that called (Put, PutAsync, Delete...).</summary>
    internal static KvOperation WriteNamed(string caller) => caller.StartsWith("Delete", StringComparison.Ordinal) ? KvOperation.Delete : KvOperation.Put;

    static readonly string[] Names = ["get", "multiget", "put", "putmany", "delete", "get"];
    static readonly string[] ActivityNames = ["rdmakv.get", "rdmakv.multiget", "rdmakv.put", "rdmakv.putmany", "rdmakv.delete", "rdmakv.get.fallback"];

    // StoreStatus values in order, as outcome tags (wrong_slot: the node refused, the slot is not its).
    static readonly string[] StatusNames =
    [
        Ok, NotFound, "key_empty", "key_too_long", "value_too_long", "region_full", "bad_request", "unsupported_version",
        "unauthorized", "shutting_down", "wrong_slot", "internal_error", "disk_full", "unavailable",
    ];
}

/// <summary>What a caller asked the client for; <see cref="Fallback"/> is the GET message of a read that gave up, traced only.</summary>
enum KvOperation
{
    Get,
    MultiGet,
    Put,
    PutMany,
    Delete,
    Fallback,
}
