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


    [Fact]
    public void TornLastLogRecordIsCutWithAWarningAndTheStoreKeepsWorking()
    {
        long last;
        using (var store = DurableStore.Open(Options(), out _))
        {
            using var session = store.NewSession();
            for (int i = 0; i < 99; i++) session.Put(K(i), V(i, 1));
            last = session.Put(K(99), V(99, 1));
            store.WaitDurable(last);
        }
        // A torn write: the last record's bytes on disk are not what was written.
        string segment = Directory.GetFiles(Path.Combine(_dir.Path, "aof"), "*.log.0").Single();
        using (var file = File.OpenWrite(segment))
        {
            file.Position = last + 16;
            file.Write("garbage!"u8);
        }

        using (var store = DurableStore.Open(Options(), out var report))
        {
            Assert.Equal(last, report.LogCutAt);
            Assert.Equal(99, report.RecordsReplayed);
            Assert.Contains(report.Warnings, w => w.Contains("torn", StringComparison.Ordinal));
            var all = Contents(store);
            Assert.Equal(99, all.Count);
            Assert.False(all.ContainsKey("key-000099"));
            using var session = store.NewSession();
            store.WaitDurable(session.Put(K(1000), V(1000, 1)));
        }
        // The damage is behind the recovery checkpoint now: the next start is clean and keeps the new write.
        using (var store = DurableStore.Open(Options(), out var again))
        {
            Assert.Null(again.LogCutAt);
            Assert.Empty(again.Warnings);
            var all = Contents(store);
            Assert.Equal(100, all.Count);
            Assert.True(all.ContainsKey("key-001000"));
        }
    }

    [Fact]
    public void DamagedNewestCheckpointFallsBackToTheOneBeforeAndLosesNothing()
    {
        Guid newest;
        using (var store = DurableStore.Open(Options(DurabilityMode.Async), out _))
        {
            using var session = store.NewSession();
            for (int i = 0; i < 300; i++) session.Put(K(i), V(i, 1));
            store.Checkpoint(store.LogTail);
            for (int i = 0; i < 300; i += 3) session.Put(K(i), V(i, 2));
            session.Delete(K(1));
            newest = store.Checkpoint(store.LogTail).Token;
            session.Put(K(400), V(400, 1));
            store.Log!.CommitNow();
        }
        string victim = Directory.GetFiles(Path.Combine(_dir.Path, "store", "checkpoints"), "*", SearchOption.AllDirectories)
            .Where(f => f.Contains(newest.ToString(), StringComparison.Ordinal))
            .OrderByDescending(f => new FileInfo(f).Length).First();
        byte[] bytes = File.ReadAllBytes(victim);
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(victim, bytes);

        using var reopened = DurableStore.Open(Options(DurabilityMode.Async), out var report);
        Assert.Equal([newest], report.SkippedCheckpoints);
        Assert.NotNull(report.Checkpoint);
        Assert.NotEqual(newest, report.Checkpoint);
        Assert.Contains(report.Warnings, w => w.Contains(newest.ToString(), StringComparison.Ordinal));
        var all = Contents(reopened);
        Assert.Equal(300, all.Count); // 300 - key 1 + key 400
        Assert.False(all.ContainsKey("key-000001"));
        Assert.Equal(Encoding.UTF8.GetString(V(3, 2)), all["key-000003"]);
        Assert.Equal(Encoding.UTF8.GetString(V(4, 1)), all["key-000004"]);
        Assert.True(all.ContainsKey("key-000400"));
    }

    [Fact]
    public void NoRecoverableCheckpointRefusesToStartWithAClearMessage()
    {
        using (var store = DurableStore.Open(Options(DurabilityMode.None), out _))
        {
            using var session = store.NewSession();
            session.Put(K(1), V(1, 1));
            store.Checkpoint(store.LogTail);
        }
        string[] files = Directory.GetFiles(Path.Combine(_dir.Path, "store", "checkpoints"), "*", SearchOption.AllDirectories);
        foreach (string f in files.Where(f => !f.EndsWith(".manifest", StringComparison.Ordinal))) File.WriteAllBytes(f, [1, 2, 3]);
        var e = Assert.Throws<InvalidDataException>(() => DurableStore.Open(Options(DurabilityMode.None), out _));
        Assert.Contains("move it aside", e.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _dir.Dispose();
}
