using System.Diagnostics;
using System.Text;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using RdmaKv.Client;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>The client's meter and activity source are process-wide: no other test's client may count into them meanwhile.</summary>
[CollectionDefinition(nameof(ClientTelemetryTests), DisableParallelization = true)]
public sealed class ClientTelemetryCollection;

/// <summary>
/// What the client publishes to OpenTelemetry, collected with the SDK's in-memory exporters while
/// a client works against a node in this process: every call it made is counted and timed under
/// its operation and outcome, the lookup counters match the reading thread's own, and writes and
/// the one fallback are traced with their node and outcome.
/// </summary>
[Collection(nameof(ClientTelemetryTests))]
public sealed class ClientTelemetryTests : IDisposable
{
    const string TestSourceName = "RdmaKv.EndToEnd.Tests.Telemetry";
    readonly TestNode _node = new(o => o with { Partitions = 1 });

    static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void PutsGetsDeletesAFallbackAndAFailedPutAreCountedTimedAndTraced()
    {
        var metrics = new List<MetricSnapshot>();
        var activities = new List<Activity>();
        using var testSource = new ActivitySource(TestSourceName);
        using var meters = Sdk.CreateMeterProviderBuilder().AddMeter(KvClientTelemetry.MeterName).AddInMemoryExporter(metrics).Build();
        using var tracer = Sdk.CreateTracerProviderBuilder().AddSource(KvClientTelemetry.ActivitySourceName, TestSourceName).AddInMemoryExporter(activities).Build();
        using var client = _node.Connect();

        meters.ForceFlush();
        var before = Sums(metrics);
        var readsBefore = KvClient.ThreadReads;
        using (var test = testSource.StartActivity("test"))
        {
            Assert.NotNull(test);
            for (int i = 0; i < 10; i++) client.Put($"key-{i}", $"value-{i}");                // put ok x10
            for (int i = 0; i < 10; i++) Assert.NotNull(client.Get($"key-{i}"));                 // get ok x10
            for (int i = 0; i < 10; i++) Assert.True(client.TryGet(B($"key-{i}"), new byte[64], out _)); // get ok x10, from the location cache
            for (int i = 0; i < 3; i++) Assert.Null(client.Get($"absent-{i}"));                  // get not_found x3
            Assert.True(client.Delete("key-9"));                                                 // delete ok
            Assert.False(client.Delete("key-9"));                                                // delete not_found
            Assert.Equal(3, client.MultiGet([B("key-0"), B("key-1"), B("absent")]).Length);      // multiget ok (its keys are no gets)
            client.PutMany([(B("many-0"), B("v")), (B("many-1"), B("v"))]);                      // putmany ok

            // A damaged value fails its checksum on every read: the reader gives up and asks the node.
            client.Put("damaged", "value-intact");                                                // put ok (11)
            var partition = _node.Node.Partitions[0];
            lock (partition.Lock) DamagedRegionTests.Find(partition.Writer.Region, "value-intact"u8)[^6..].Fill((byte)'X');
            Assert.Equal(B("value-intact"), client.Get("damaged"));                               // get ok (21), through a fallback

            _node.Host.Dispose();
            Assert.Throws<KvConnectionException>(() => client.Put("key-0", "too late"));        // put connection
        }
        var reads = KvClient.ThreadReads - readsBefore;
        meters.ForceFlush();
        var after = Sums(metrics);
        long Delta(string name, string tags = "") => after.GetValueOrDefault((name, tags)) - before.GetValueOrDefault((name, tags));

        // Every call, by operation and outcome; the histogram counts the same calls.
        var expected = new Dictionary<string, long>
        {
            ["get,ok"] = 21,
            ["get,not_found"] = 3,
            ["put,ok"] = 11,
            ["put,connection"] = 1,
            ["delete,ok"] = 1,
            ["delete,not_found"] = 1,
            ["multiget,ok"] = 1,
            ["putmany,ok"] = 1,
        };
        var operations = Last(metrics, "rdmakv.client.operations");
        Assert.Equal("{operation}", operations.Unit);
        Assert.Equal(expected.OrderBy(e => e.Key), operations.MetricPoints.Select(p => KeyValuePair.Create(Tags(p), p.GetSumLong())).OrderBy(e => e.Key));
        var duration = Last(metrics, "rdmakv.client.operation.duration");
        Assert.Equal("s", duration.Unit);
        Assert.Equal(expected.OrderBy(e => e.Key), duration.MetricPoints.Select(p => KeyValuePair.Create(Tags(p), p.GetHistogramCount())).OrderBy(e => e.Key));
        foreach (var point in duration.MetricPoints)
        {
            Assert.InRange(point.GetHistogramSum() / point.GetHistogramCount(), 1e-8, 5.0); // seconds, not ticks or milliseconds
            var buckets = point.GetHistogramBuckets().GetEnumerator();
            Assert.True(buckets.MoveNext());
            Assert.Equal(1e-6, buckets.Current.ExplicitBound); // the client's bucket advice: a local GET takes about a microsecond
        }

        // The readers' counters, observed: what this thread counted, no more (no other thread read).
        Assert.Equal(21 + 3 + 3, reads.Lookups); // each get, and each of the multi-get's keys
        Assert.Equal(reads.Lookups, Delta("rdmakv.client.lookups"));
        Assert.True(reads.CacheHits >= 10, $"only {reads.CacheHits} lookups hit the location cache");
        Assert.Equal(reads.CacheHits, Delta("rdmakv.client.location_cache.hits"));
        Assert.True(reads.Retries > 0 && reads.ChecksumFailures > 0, "the damaged value was not read again");
        Assert.Equal(reads.Retries, Delta("rdmakv.client.lookup.retries"));
        Assert.Equal(reads.ChecksumFailures, Delta("rdmakv.client.lookup.checksum_failures"));
        Assert.Equal(reads.SupersededSeen, Delta("rdmakv.client.lookup.superseded"));
        Assert.Equal(reads.Refreshes, Delta("rdmakv.client.region.refreshes"));
        Assert.Equal(1, reads.Fallbacks);
        Assert.Equal(1, Delta("rdmakv.client.fallbacks"));

        // Activities: writes and the fallback, none for one-sided reads; each under the test's trace.
        var traced = activities.Where(a => a.Source.Name == KvClientTelemetry.ActivitySourceName).ToList();
        Assert.All(traced, a => Assert.Equal(ActivityKind.Client, a.Kind));
        Assert.All(traced, a => Assert.NotEqual(default, a.ParentSpanId));
        Assert.Equal(
            new Dictionary<string, int> { ["rdmakv.put"] = 12, ["rdmakv.delete"] = 2, ["rdmakv.putmany"] = 1, ["rdmakv.get.fallback"] = 1 }.OrderBy(e => e.Key),
            traced.GroupBy(a => a.OperationName).Select(g => KeyValuePair.Create(g.Key, g.Count())).OrderBy(e => e.Key));
        Assert.All(traced, a => Assert.Equal(_node.Name, a.GetTagItem("rdmakv.node")));
        Assert.All(traced, a => Assert.Equal("rdmakv", a.GetTagItem("db.system.name")));

        var puts = traced.Where(a => a.OperationName == "rdmakv.put").ToList();
        Assert.Equal(11, puts.Count(a => a.Status == ActivityStatusCode.Unset && (string?)a.GetTagItem("rdmakv.outcome") == "ok"));
        Assert.Equal("key-3".Length, puts[3].GetTagItem("rdmakv.key.length"));
        var failed = Assert.Single(puts, a => a.Status == ActivityStatusCode.Error);
        Assert.Equal("connection", failed.GetTagItem("rdmakv.outcome"));
        Assert.Equal("connection", failed.GetTagItem("error.type"));
        Assert.False(string.IsNullOrEmpty(failed.StatusDescription));
        Assert.Contains(failed.Events, e => e.Name == "exception");

        Assert.Equal(new[] { "ok", "not_found" }, traced.Where(a => a.OperationName == "rdmakv.delete").Select(a => (string?)a.GetTagItem("rdmakv.outcome")));
        Assert.Equal(2, Assert.Single(traced, a => a.OperationName == "rdmakv.putmany").GetTagItem("rdmakv.batch.size"));
        var fallback = Assert.Single(traced, a => a.OperationName == "rdmakv.get.fallback");
        Assert.Equal("ok", fallback.GetTagItem("rdmakv.outcome"));
        Assert.Equal("damaged".Length, fallback.GetTagItem("rdmakv.key.length"));
    }

    /// <summary>The latest export of the metric named <paramref name="name"/>.</summary>
    static MetricSnapshot Last(List<MetricSnapshot> metrics, string name) =>
        metrics.LastOrDefault(m => m.Name == name) ?? throw new Xunit.Sdk.XunitException($"no metric {name} was exported; exported: {string.Join(", ", metrics.Select(m => m.Name).Distinct())}");

    /// <summary>The latest value of every counter point, by metric name and tags.</summary>
    static Dictionary<(string Name, string Tags), long> Sums(List<MetricSnapshot> metrics)
    {
        var sums = new Dictionary<(string, string), long>();
        foreach (var metric in metrics.Where(m => m.MetricType == MetricType.LongSum))
            foreach (var point in metric.MetricPoints) sums[(metric.Name, Tags(point))] = point.GetSumLong();
        return sums;
    }

    /// <summary>"operation,outcome", or "" for a point without tags.</summary>
    static string Tags(MetricPoint point)
    {
        string? operation = null, outcome = null;
        foreach (var tag in point.Tags)
        {
            if (tag.Key == "rdmakv.operation") operation = (string?)tag.Value;
            else if (tag.Key == "rdmakv.outcome") outcome = (string?)tag.Value;
            else throw new Xunit.Sdk.XunitException($"unexpected tag {tag.Key}");
        }
        return operation is null && outcome is null ? "" : $"{operation},{outcome}";
    }

    public void Dispose() => _node.Dispose();
}
