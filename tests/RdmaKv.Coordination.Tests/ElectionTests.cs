using RdmaKv.Tests;

namespace RdmaKv.Coordination.Tests;

public sealed class ElectionTests(EtcdFixture fixture) : IClassFixture<EtcdFixture>
{
    EtcdProcess Etcd => fixture.Etcd;

    [Fact]
    public async Task ExactlyOneOfThreeCoordinatorsIsControllerAndAnotherTakesOverWhenItIsAbandoned()
    {
        string prefix = Setup.NewPrefix();
        var nodes = await Task.WhenAll(new[] { "a", "b", "c" }.Select(id => EtcdCoordinator.StartAsync(Setup.Options(Etcd, prefix, id), "{}")));
        try
        {
            // The others may learn the holder of the controller key from their watch before the
            // holder has taken its own win in: wait for both, then exactly one may say it leads.
            Eventually.True(() => nodes.All(n => n.Controller is not null) && nodes.Any(n => n.IsController), "every node knowing the controller, and it knowing it");
            var leader = Assert.Single(nodes, n => n.IsController);
            Assert.All(nodes, n => Assert.Equal(leader.NodeId, n.Controller));
            Assert.True(leader.ControllerFor > TimeSpan.Zero);
            var rest = nodes.Where(n => n != leader).ToArray();
            Assert.All(rest, n => Assert.Equal(TimeSpan.Zero, n.ControllerFor));
            var changed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            foreach (var n in rest) n.ControllerChanged += now => { if (now) changed.TrySetResult(n.NodeId); };

            leader.Abandon();

            string successor = await changed.Task.WaitAsync(Eventually.Patience);
            Eventually.True(() => rest.All(n => n.Controller == successor), "both survivors knowing the successor");
            Assert.Single(rest, n => n.IsController);
            Assert.False(leader.IsController);
        }
        finally
        {
            foreach (var n in nodes) n.Dispose();
        }
    }

    [Fact]
    public async Task AControllerThatStopsCleanlyHandsOverAtOnce()
    {
        string prefix = Setup.NewPrefix();
        var first = await EtcdCoordinator.StartAsync(Setup.Options(Etcd, prefix, "first", ttlSeconds: 60), "{}");
        using var second = await EtcdCoordinator.StartAsync(Setup.Options(Etcd, prefix, "second", ttlSeconds: 60), "{}");
        Assert.True(first.IsController);
        Assert.Equal("first", second.Controller);

        first.Dispose();

        // With a 60 s TTL only the revoked lease (and the watch's campaign) makes this quick.
        Eventually.True(() => second.IsController, "the second node taking over", TimeSpan.FromSeconds(30));
    }
}
