using System.Text;

namespace RdmaKv.Storage.Tests;

/// <summary>The store on its own: logging, checkpoints, recovery from a torn log and a damaged checkpoint.</summary>
public sealed class DurableStoreTests : IDisposable
{
    readonly TempDirectory _dir = new();

    DurableStoreOptions Options(DurabilityMode mode = DurabilityMode.Sync) => new()
    {
        Directory = _dir.Path,
        Durability = mode,
        StoreMemoryBytes = 16L << 20,
        IndexBuckets = 1 << 12,
    };

    static byte[] K(int i) => Encoding.UTF8.GetBytes($"key-{i:D6}");

    static byte[] V(int i, int version) => Encoding.UTF8.GetBytes($"value-{i}-{version}-" + new string('x', i % 100));

    static Dictionary<string, string> Contents(DurableStore store)
    {
        var all = new Dictionary<string, string>();
        store.ForEach((k, v) => all[Encoding.UTF8.GetString(k)] = Encoding.UTF8.GetString(v));
        return all;
    }

    [Theory]
    [InlineData(DurabilityMode.Async)]
    [InlineData(DurabilityMode.Sync)]
    public void WritesAfterTheLastCheckpointAreReplayedFromTheLog(DurabilityMode mode)
    {
        using (var store = DurableStore.Open(Options(mode), out var first))
        {
            Assert.Null(first.Checkpoint);
            using var session = store.NewSession();
            for (int i = 0; i < 1000; i++) session.Put(K(i), V(i, 1));
            store.Checkpoint(store.LogTail);
            for (int i = 0; i < 1000; i += 2) session.Put(K(i), V(i, 2));
            for (int i = 1; i < 1000; i += 10) session.Delete(K(i));
            store.WaitDurable(session.Put(K(5000), V(5000, 1)));
            store.Log!.CommitNow();
            // No clean shutdown: the store is dropped without a last checkpoint.
        }
        using var reopened = DurableStore.Open(Options(mode), out var report);
        Assert.NotNull(report.Checkpoint);
        Assert.Equal(500 + 100 + 1, report.RecordsReplayed);
        Assert.Null(report.LogCutAt);
        var all = Contents(reopened);
        Assert.Equal(1000 - 100 + 1, all.Count);
        for (int i = 0; i < 1000; i++)
        {
            string key = $"key-{i:D6}";
            if (i % 10 == 1) Assert.False(all.ContainsKey(key), $"{key} was deleted but came back");
            else Assert.Equal(Encoding.UTF8.GetString(V(i, i % 2 == 0 ? 2 : 1)), all[key]);
        }
        using var s = reopened.NewSession();
        Assert.Equal(V(7, 1), s.Read(K(7)));
        Assert.Null(s.Read(K(11)));
    }

    public void Dispose() => _dir.Dispose();
}
