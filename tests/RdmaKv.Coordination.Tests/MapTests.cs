using System.Collections.Concurrent;
using RdmaKv.Core.Cluster;
using RdmaKv.Tests;

namespace RdmaKv.Coordination.Tests;

public sealed class MapTests(EtcdFixture fixture) : IClassFixture<EtcdFixture>
{
    EtcdProcess Etcd => fixture.Etcd;

    [Fact]
    public async Task TheMapIsCreatedOnceAndOnlyItsCurrentRevisionCanReplaceIt()
    {
        using var store = EtcdMapStore.Open([Etcd.Endpoint], Setup.NewPrefix());
        Assert.Equal((null, 0), await store.ReadMapAsync());

        Assert.True(await store.TryInitMapAsync(Setup.Map(1)));
        Assert.False(await store.TryInitMapAsync(Setup.Map(7)));
        var (map, revision) = await store.ReadMapAsync();
        Assert.Equal(1, map!.Epoch);

        Assert.True(await store.TryReplaceMapAsync(Setup.NextEpoch(map), revision));
        Assert.False(await store.TryReplaceMapAsync(Setup.Map(9), revision));
        var (now, fresh) = await store.ReadMapAsync();
        Assert.Equal(2, now!.Epoch);
        Assert.True(fresh > revision);
        Assert.True(await store.TryReplaceMapAsync(Setup.NextEpoch(now), fresh));
        Assert.Equal(3, (await store.ReadMapAsync()).Map!.Epoch);
    }

    [Fact]
    public async Task RacingUpdatesFromTwoCoordinatorsLoseNoIncrement()
    {
        string prefix = Setup.NewPrefix();
        using var a = await EtcdCoordinator.StartAsync(Setup.Options(Etcd, prefix, "a"), "{}");
        using var b = await EtcdCoordinator.StartAsync(Setup.Options(Etcd, prefix, "b"), "{}");
        Assert.True(a.TryInitMap(Setup.Map(1)));
        const int threadsEach = 2, incrementsEach = 25;
        int conflicts = 0;
        using var start = new Barrier(threadsEach * 2);
        var threads = new[] { a, b }.SelectMany(c => Enumerable.Range(0, threadsEach).Select(_ => new Thread(() =>
        {
            start.SignalAndWait();
            for (int i = 0; i < incrementsEach; i++)
            {
                int calls = 0;
                c.UpdateMap(m =>
                {
                    if (++calls > 1) Interlocked.Increment(ref conflicts);
                    return Setup.NextEpoch(m);
                });
            }
        })).ToList()).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.Equal(1 + threadsEach * 2 * incrementsEach, a.ReadMap().Map!.Epoch);
        Assert.True(conflicts > 0, "the threads never collided, so the compare-and-swap was not exercised");
    }

    [Fact]
    public async Task AWatcherSeesEveryMapChangeInOrder()
    {
        string prefix = Setup.NewPrefix();
        using var writer = await EtcdCoordinator.StartAsync(Setup.Options(Etcd, prefix, "writer"), "{}");
        using var watcher = await EtcdCoordinator.StartAsync(Setup.Options(Etcd, prefix, "watcher"), "{}");
        var seen = new ConcurrentQueue<long>();
        watcher.MapChanged += (map, _) => seen.Enqueue(map.Epoch);

        Assert.True(writer.TryInitMap(Setup.Map(1)));
        for (int i = 0; i < 40; i++) writer.UpdateMap(Setup.NextEpoch);

        Eventually.True(() => watcher.CurrentMap?.Epoch == 41, "the watcher reaching epoch 41");
        Assert.Equal(Enumerable.Range(1, 41).Select(e => (long)e), seen);
        Assert.Equal(writer.ReadMap().Revision, watcher.Current.Revision);
    }

    [Fact]
    public async Task AMapThatDoesNotParseIsLoggedAndSkippedAndTheNextOneArrives()
    {
        string prefix = Setup.NewPrefix();
        var log = new ListLogger();
        using var watcher = await EtcdCoordinator.StartAsync(Setup.Options(Etcd, prefix, "watcher"), "{}", log);
        using (var admin = new EtcdAdmin(Etcd.Endpoint)) admin.Put(prefix + "map", "{not a map");
        Eventually.True(() => log.Lines.Any(l => l.Contains("skipped the map", StringComparison.Ordinal)), "the bad map being logged");

        using var store = EtcdMapStore.Open([Etcd.Endpoint], prefix);
        Assert.Throws<InvalidDataException>(() => store.ReadMap());
        Assert.False(store.TryInitMap(Setup.Map(5)));
        Assert.Null(watcher.CurrentMap);
        using (var admin = new EtcdAdmin(Etcd.Endpoint)) admin.Put(prefix + "map", Setup.Map(5).ToJson());
        Eventually.True(() => watcher.CurrentMap?.Epoch == 5, "the good map arriving");
    }

    [Fact]
    public async Task UpdatingWhenNoMapIsStoredSaysHowToSeedOne()
    {
        using var store = EtcdMapStore.Open([Etcd.Endpoint], Setup.NewPrefix());
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => store.UpdateMapAsync(Setup.NextEpoch));
        Assert.Contains("rdmakv cluster init", e.Message);
    }
}
