using System.Diagnostics;
using RdmaKv.Tests;

namespace RdmaKv.Coordination.Tests;

/// <summary>Each test kills its own etcd.</summary>
public sealed class EtcdOutageTests
{
    [Fact]
    public async Task WhenEtcdIsKilledTheLeaseStopsBeingSurelyHeldAndAfterItsRestartEverythingResumes()
    {
        using var etcd = new EtcdProcess();
        string prefix = Setup.NewPrefix();
        var log = new ListLogger();
        using var node = await EtcdCoordinator.StartAsync(Setup.Options(etcd, prefix, "node", ttlSeconds: 2), "{}", log);
        Assert.True(node.TryInitMap(Setup.Map(1)));
        Eventually.True(() => node.CurrentMap?.Epoch == 1 && node.IsController, "the map and the controller role");
        var connectivity = new List<bool>();
        node.ConnectivityChanged += up => { lock (connectivity) connectivity.Add(up); };
        var margin = TimeSpan.FromMilliseconds(500);

        etcd.Kill();

        Eventually.True(() => !node.Connected, "Connected turning false");
        Assert.NotNull(node.Problem);
        long lastSent = node.LastRenewedSendTimestamp!.Value;
        Eventually.True(() => !node.LeaseSurelyHeld(margin), "the lease ceasing to be surely held");
        var held = Stopwatch.GetElapsedTime(lastSent);
        Assert.True(held >= node.LeaseTtl - margin, $"LeaseSurelyHeld turned false {held} after the last renewal was sent, before TTL − margin");
        Eventually.True(() => !node.IsController, "the controller role dropped with the lease");
        long lease = node.LeaseId;
        Eventually.True(() => !node.LeaseSurelyHeld(TimeSpan.Zero), "a whole TTL passing without etcd");

        etcd.Restart();

        Eventually.True(() => node.Connected && node.LeaseSurelyHeld(margin), "reconnecting and renewing");
        using var other = await EtcdCoordinator.StartAsync(Setup.Options(etcd, prefix, "other"), "{}");
        Assert.Contains("node", other.LiveMembers);
        Assert.True(other.TryReplaceMap(Setup.Map(2), other.ReadMap().Revision));
        Eventually.True(() => node.CurrentMap?.Epoch == 2, "the map watch delivering a change made after the restart");
        Eventually.True(() => node.IsController || other.IsController, "a controller again");
        lock (connectivity) Assert.Equal([false, true], connectivity);
        Assert.Single(log.Lines, l => l.Contains("is unreachable", StringComparison.Ordinal));
        Assert.Single(log.Lines, l => l.Contains("reachable again", StringComparison.Ordinal));
        // etcd restores its leases at restart with a fresh TTL: the node kept its lease and member key through an outage longer than the TTL.
        Assert.DoesNotContain(log.Lines, l => l.Contains("is gone", StringComparison.Ordinal));
        Assert.Equal(lease, node.LeaseId);
    }

    [Fact]
    public async Task EtcdRaisesATtlBelowItsMinimumAndTheCoordinatorUsesTheGrantedOne()
    {
        // etcd's defaults: 100 ms heartbeat, 1 s election timeout, so leases of at least 2 s.
        using var etcd = new EtcdProcess(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1));
        var log = new ListLogger();
        using var node = await EtcdCoordinator.StartAsync(Setup.Options(etcd, Setup.NewPrefix(), "node", ttlSeconds: 1), "{}", log);

        Assert.Equal(TimeSpan.FromSeconds(2), node.LeaseTtl);
        Assert.Contains(log.Lines, l => l.Contains("instead of 1 s", StringComparison.Ordinal));
    }
}
