using System.Text;

namespace RdmaKv.Storage.Tests;

/// <summary>
/// <see cref="DurableStore.ForEach"/> (what regions are rebuilt from at start) over a store whose
/// log has spilled to disk: every live key exactly once, with its newest value.
/// </summary>
public sealed class StoreScanTests : IDisposable
{
    readonly TempDirectory _dir = new();

    [Fact]
    public void EveryLiveKeyComesOnceWithItsNewestValueWhenMostRecordsAreOnDisk()
    {
        const int Keys = 200_000;
        var options = new DurableStoreOptions { Directory = _dir.Path, Durability = DurabilityMode.None, StoreMemoryBytes = 16L << 20 };
        static byte[] K(int i) => Encoding.UTF8.GetBytes($"user{i:D12}");
        static byte[] V(int i, int version) => Encoding.UTF8.GetBytes($"{i}:{version}:" + new string('v', 80 + (version * 17 % 40)));
        using (var store = DurableStore.Open(options, out _))
        {
            using var session = store.NewSession();
            for (int i = 0; i < Keys; i++) session.Put(K(i), V(i, 1));
            for (int i = 0; i < Keys; i += 2) session.Put(K(i), V(i, 2)); // larger: appended at the tail
            for (int i = 0; i < Keys; i += 6) session.Put(K(i), V(i, 3)); // smaller: in place when still in memory
            for (int i = 0; i < Keys; i += 10) session.Delete(K(i));
            for (int i = 0; i < Keys; i += 30) session.Put(K(i), V(i, 1)); // deleted, then the first value again
            store.Checkpoint(store.LogTail);
        }

        using var reopened = DurableStore.Open(options, out _);
        var seen = new Dictionary<string, string>();
        long visited = reopened.ForEach((k, v) =>
        {
            string key = Encoding.UTF8.GetString(k);
            Assert.True(seen.TryAdd(key, Encoding.UTF8.GetString(v)), $"{key} came twice");
        });
        int expected = 0;
        for (int i = 0; i < Keys; i++)
        {
            string key = Encoding.UTF8.GetString(K(i));
            int? version = i % 30 == 0 ? 1 : i % 10 == 0 ? null : i % 6 == 0 ? 3 : i % 2 == 0 ? 2 : 1;
            if (version is null)
            {
                Assert.False(seen.ContainsKey(key), $"{key} was deleted but came back");
                continue;
            }
            expected++;
            Assert.True(seen.TryGetValue(key, out string? value), $"{key} is missing from the scan");
            Assert.Equal(Encoding.UTF8.GetString(V(i, version.Value)), value);
        }
        Assert.Equal(expected, visited);
    }

    public void Dispose() => _dir.Dispose();
}
