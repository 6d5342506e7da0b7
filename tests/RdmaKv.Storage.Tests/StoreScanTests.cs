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
    public void EveryLiveKeyComesOnceWithItsNewestValueWhenMostRecordsAreOnDiskOnOneThreadOrSeveral()
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
        Check(reopened, threads: 1);
        Check(reopened, threads: 3); // the log cut into ranges of pages, each scanned on its own thread

        static void Check(DurableStore store, int threads)
        {
            var seen = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
            var twice = new System.Collections.Concurrent.ConcurrentBag<string>();
            long visited = store.ForEach((k, v) =>
            {
                string key = Encoding.UTF8.GetString(k);
                if (!seen.TryAdd(key, Encoding.UTF8.GetString(v))) twice.Add(key);
            }, threads);
            Assert.Empty(twice);
            int expected = 0;
            for (int i = 0; i < Keys; i++)
            {
                string key = Encoding.UTF8.GetString(K(i));
                int? version = i % 30 == 0 ? 1 : i % 10 == 0 ? null : i % 6 == 0 ? 3 : i % 2 == 0 ? 2 : 1;
                if (version is null)
                {
                    Assert.False(seen.ContainsKey(key), $"{key} was deleted but came back ({threads} threads)");
                    continue;
                }
                expected++;
                Assert.True(seen.TryGetValue(key, out string? value), $"{key} is missing from the scan ({threads} threads)");
                Assert.Equal(Encoding.UTF8.GetString(V(i, version.Value)), value);
            }
            Assert.Equal(expected, visited);
        }
    }

    [Theory]
    [InlineData(0, 100, 10, 3, "0-40 40-80 80-100")]
    [InlineData(64, 100, 10, 3, "64-80 80-100")] // begins mid-page: the first range ends at a page start
    [InlineData(64, 100, 10, 8, "64-70 70-80 80-90 90-100")]
    [InlineData(64, 100, 10, 1, "64-100")]
    [InlineData(64, 64, 10, 4, "64-64")]
    public void TheLogIsCutAtPageStartsIntoAtMostTheRangesAsked(long begin, long end, long page, int count, string expected)
    {
        var ranges = DurableStore.Ranges(begin, end, page, count);

        Assert.Equal(expected, string.Join(" ", ranges.Select(r => $"{r.Begin}-{r.End}")));
        Assert.True(ranges.Count <= count);
    }

    public void Dispose() => _dir.Dispose();
}
