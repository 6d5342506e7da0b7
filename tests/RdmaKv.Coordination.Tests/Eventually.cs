using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RdmaKv.Core.Cluster;
using RdmaKv.Tests;

namespace RdmaKv.Coordination.Tests;

/// <summary>Waits for a state with a generous deadline (a loaded 2-core box); the wait is never the proof.</summary>
static class Eventually
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    public static void True(Func<bool> condition, string what, TimeSpan? patience = null)
    {
        var limit = patience ?? Patience;
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < limit, $"{what} did not happen within {limit}");
            Thread.Sleep(10);
        }
    }
}

/// <summary>Collects what a coordinator logs, to count its messages.</summary>
sealed class ListLogger : ILogger
{
    readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _lines.Enqueue($"{logLevel}: {formatter(state, exception)}");
}

/// <summary>Options and maps for one test: a prefix of its own, so tests can share one etcd.</summary>
static class Setup
{
    public static EtcdOptions Options(EtcdProcess etcd, string prefix, string node, int ttlSeconds = 1) => new()
    {
        Endpoints = [etcd.Endpoint],
        Prefix = prefix,
        NodeId = node,
        LeaseTtl = TimeSpan.FromSeconds(ttlSeconds),
    };

    public static string NewPrefix() => $"/test-{Guid.NewGuid():N}/";

    public static ClusterMap Map(long epoch) => ClusterMap.Parse(
        $$"""{"epoch": {{epoch}}, "slots": 4, "nodes": [{"id": "a", "ucx": "127.0.0.1:1"}, {"id": "b", "ucx": "127.0.0.1:2"}]}""");

    /// <summary>The same owners one epoch later.</summary>
    public static ClusterMap NextEpoch(ClusterMap map) => map.WithOwner(0, map.Owners[0]);
}

/// <summary>One etcd shared by the tests of a class; each test uses its own prefix.</summary>
public sealed class EtcdFixture : IDisposable
{
    internal EtcdProcess Etcd { get; } = new();

    public void Dispose() => Etcd.Dispose();
}
