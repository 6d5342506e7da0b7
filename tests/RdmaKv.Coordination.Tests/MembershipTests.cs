using System.Diagnostics;
using RdmaKv.Tests;

namespace RdmaKv.Coordination.Tests;

public sealed class MembershipTests(EtcdFixture fixture) : IClassFixture<EtcdFixture>
{
    EtcdProcess Etcd => fixture.Etcd;

    [Fact]
    public async Task AMemberRegisteredByOneCoordinatorAppearsInAnothersLiveMembersWithItsPayload()
    {
        string prefix = Setup.NewPrefix();
        using var a = await EtcdCoordinator.StartAsync(Setup.Options(Etcd, prefix, "a"), """{"ucx":"127.0.0.1:1"}""");
        using var b = await EtcdCoordinator.StartAsync(Setup.Options(Etcd, prefix, "b"), """{"ucx":"127.0.0.1:2"}""");

        Eventually.True(() => a.LiveMembers.Contains("b"), "a seeing b");
        Assert.Equal(["a", "b"], b.LiveMembers.Order());
        Assert.Equal("""{"ucx":"127.0.0.1:2"}""", a.Members["b"]);
        Assert.Equal("""{"ucx":"127.0.0.1:1"}""", b.Members["a"]);
    }

    [Fact]
    public async Task AnAbandonedMemberDisappearsWhenItsLeaseExpiresAndNotBefore()
    {
        string prefix = Setup.NewPrefix();
        using var watcher = await EtcdCoordinator.StartAsync(Setup.Options(Etcd, prefix, "watcher"), "{}");
        var crashed = await EtcdCoordinator.StartAsync(Setup.Options(Etcd, prefix, "crashed", ttlSeconds: 2), "{}");
        Eventually.True(() => watcher.LiveMembers.Contains("crashed"), "the watcher seeing the member");
        var gone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        watcher.MembersChanged += live =>
        {
            if (!live.Contains("crashed")) gone.TrySetResult();
        };

        var clock = Stopwatch.StartNew();
        crashed.Abandon();
        await gone.Task.WaitAsync(Eventually.Patience);

        // The last renewal was sent at most TTL/3 before Abandon, so the lease lived at least 2/3 TTL after it.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"the member went after {clock.Elapsed}: sooner than its lease can have expired");
        Assert.DoesNotContain("crashed", watcher.LiveMembers);
    }

    [Fact]
    public async Task ADisposedMemberDisappearsAtOnceBecauseItRevokesItsLease()
    {
        string prefix = Setup.NewPrefix();
        using var watcher = await EtcdCoordinator.StartAsync(Setup.Options(Etcd, prefix, "watcher"), "{}");
        var leaving = await EtcdCoordinator.StartAsync(Setup.Options(Etcd, prefix, "leaving", ttlSeconds: 60), "{}");
        Eventually.True(() => watcher.LiveMembers.Contains("leaving"), "the watcher seeing the member");

        leaving.Dispose();

        // With a 60 s TTL only the revoke can remove it this soon.
        Eventually.True(() => !watcher.LiveMembers.Contains("leaving"), "the member going", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task ACoordinatorWhoseLeaseIsRevokedGrantsANewOneRegistersAgainAndIsControllerAgain()
    {
        string prefix = Setup.NewPrefix();
        var log = new ListLogger();
        using var only = await EtcdCoordinator.StartAsync(Setup.Options(Etcd, prefix, "only"), "{}", log);
        Eventually.True(() => only.IsController, "the only node becoming controller");
        Assert.Equal(TimeSpan.FromSeconds(1), only.LeaseTtl); // EtcdProcess's short election timeout allows 1 s
        long first = only.LeaseId;

        using (var admin = new EtcdAdmin(Etcd.Endpoint)) admin.Revoke(first);

        Eventually.True(() => only.LeaseId != 0 && only.LeaseId != first, "a new lease");
        Eventually.True(() => only.LiveMembers.Contains("only") && only.IsController, "registering and leading again");
        Assert.Contains(log.Lines, l => l.Contains("is gone", StringComparison.Ordinal));
        using var other = await EtcdCoordinator.StartAsync(Setup.Options(Etcd, prefix, "other"), "{}");
        Assert.Contains("only", other.LiveMembers);
        Assert.Equal("only", other.Controller);
    }

    [Fact]
    public async Task ACoordinatorGivenADeadAndALiveEndpointWorksThroughTheLiveOne()
    {
        string prefix = Setup.NewPrefix();
        var options = Setup.Options(Etcd, prefix, "two-endpoints");
        options.Endpoints = [$"http://127.0.0.1:{ProcessOutput.FreeLoopbackPort()}", Etcd.Endpoint];
        using var node = await EtcdCoordinator.StartAsync(options, "{}");
        using var other = await EtcdCoordinator.StartAsync(Setup.Options(Etcd, prefix, "other"), "{}");

        Assert.True(node.TryInitMap(Setup.Map(1)));
        for (int i = 0; i < 5; i++) node.UpdateMap(Setup.NextEpoch);
        Eventually.True(() => other.CurrentMap?.Epoch == 6 && other.LiveMembers.Contains("two-endpoints"), "the other node seeing its map and membership");
        Assert.True(node.Connected);
    }
}
