using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text;
using RdmaKv.Core;

namespace RdmaKv.Storage.Tests;

/// <summary>
/// A put's expiry in the store: read back with the value, kept through in-place and copied
/// overwrites in memory and on disk, checkpoints, log replay and scans; stores written before
/// expiry existed read as never expiring.
/// </summary>
public sealed class StoreExpiryTests : IDisposable
{
    const long Soon = 1_767_225_600_000; // 2026-01-01T00:00:00Z
    readonly TempDirectory _dir = new();

    DurableStoreOptions Options(DurabilityMode mode) => new()
    {
        Directory = _dir.Path,
        Durability = mode,
        StoreMemoryBytes = 16L << 20,
        IndexBuckets = 1 << 12,
    };

    static byte[] K(int i) => Encoding.UTF8.GetBytes($"key-{i:D6}");

    static byte[] V(int i, int version) => Encoding.UTF8.GetBytes($"value-{i}-{version}-" + new string('x', i % 50));

    /// <summary>Every key the scan visits, with its value and expiry.</summary>
    static Dictionary<string, (string Value, long ExpiresAt)> Contents(DurableStore store, int threads = 1)
    {
        var all = new ConcurrentDictionary<string, (string, long)>();
        long visited = store.ForEach((k, v, expiresAt) =>
            Assert.True(all.TryAdd(Encoding.UTF8.GetString(k), (Encoding.UTF8.GetString(v), expiresAt)), "a key was visited twice"), threads);
        Assert.Equal(all.Count, visited);
        return new Dictionary<string, (string, long)>(all);
    }

    static void AssertStored(StoreSession session, byte[] key, byte[] value, long expiresAt, string step)
    {
        byte[]? read = session.Read(key, out long readExpiry);
        Assert.True(read is not null, $"{step}: the key is missing");
        Assert.True(value.AsSpan().SequenceEqual(read), $"{step}: value '{Encoding.UTF8.GetString(read)}', expected '{Encoding.UTF8.GetString(value)}'");
        Assert.True(expiresAt == readExpiry, $"{step}: expiry {readExpiry}, expected {expiresAt}");
        Assert.Equal(value, session.Read(key)); // the value alone, without the expiry's bytes
    }

    [Fact]
    public void APutsExpiryIsReadBackWithItsValueAndAPlainPutNeverExpires()
    {
        using var store = DurableStore.Open(Options(DurabilityMode.None), out _);
        using var session = store.NewSession();
        session.Put(K(1), V(1, 1), Soon);
        session.Put(K(2), V(2, 1));

        AssertStored(session, K(1), V(1, 1), Soon, "expiring");
        AssertStored(session, K(2), V(2, 1), 0, "plain");
        Assert.Null(session.Read(K(3), out long missing));
        Assert.Equal(0, missing);
        Assert.True(session.Contains(K(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => session.Put(K(4), V(4, 1), -5));
    }

    /// <summary>
    /// One key overwritten back and forth between expiring and plain values of lengths that make
    /// FASTER write in place (the new value fits the old one's room, with or without the expiry's 8
    /// bytes) or append a copy. On disk, every record is pushed out of memory before the next step,
    /// so writes append and reads come from the device. A metadata bit left from the value before
    /// shows as a wrong expiry or a value cut by 8 bytes.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OverwritesBetweenExpiringAndPlainValuesReadTheNewestExpiry(bool onDisk)
    {
        (string Value, long ExpiresAt)[] steps =
        [
            ("sixteen bytes...", Soon),
            ("sixteen bytes!!!", 0),                           // same room: in place, drops the expiry
            ("eight b.", Soon + 1),                            // 8 + 8 bytes in 16: in place, gains one
            ("sixteen bytes???", 0),                           // in place again
            ("thirty-two bytes of value here..", Soon + 2),     // longer: a new record
            ("four", 0),                                       // in place, shorter
            ("", Soon + 3),                                    // 8 bytes in 4: a new record
            ("", 0),                                           // in place
            ("twelve bytes", Soon + 4),                        // a new record
            ("twelve bytes", Soon + 5),                        // in place, only the expiry changes
        ];
        using var store = DurableStore.Open(Options(DurabilityMode.None), out _);
        using var session = store.NewSession();
        byte[] key = "the-key"u8.ToArray();
        byte[] neighbour = "neighbour"u8.ToArray();
        int filler = 0;
        for (int s = 0; s < steps.Length; s++)
        {
            long at = store.StoreTail;
            byte[] value = Encoding.UTF8.GetBytes(steps[s].Value);
            session.Put(key, value, steps[s].ExpiresAt);
            session.Put(neighbour, V(s, s), s % 2 == 0 ? 0 : Soon); // a record after it: a scan must not run into it
            if (onDisk)
            {
                // Pushes both records out of memory.
                while (store.StoreHeadAddress <= at + 1024) session.Put(Encoding.UTF8.GetBytes($"filler-{filler++}"), new byte[4000]);
            }
            AssertStored(session, key, value, steps[s].ExpiresAt, $"step {s} ({(onDisk ? "on disk" : "in memory")})");
            AssertStored(session, neighbour, V(s, s), s % 2 == 0 ? 0 : Soon, $"neighbour after step {s}");
        }
        var all = Contents(store);
        Assert.Equal((steps[^1].Value, steps[^1].ExpiresAt), all["the-key"]);
        Assert.Equal((Encoding.UTF8.GetString(V(steps.Length - 1, steps.Length - 1)), Soon), all["neighbour"]);
        Assert.Equal(2 + filler, all.Count);
    }

    /// <summary>Expiring and plain values, flipped both ways and deleted, for checkpoint and replay tests: key i ends as <see cref="Expected"/> says.</summary>
    static long Write(StoreSession session, int keys)
    {
        long last = -1;
        for (int i = 0; i < keys; i++) session.Put(K(i), V(i, 1), i % 2 == 0 ? Soon + i : 0);
        for (int i = 0; i < keys; i += 3) session.Put(K(i), V(i, 2), i % 2 == 0 ? 0 : Soon + i); // flipped
        for (int i = 5; i < keys; i += 7) last = session.Delete(K(i));
        return last;
    }

    static (byte[] Value, long ExpiresAt)? Expected(int i)
    {
        if (i % 7 == 5) return null;
        bool flipped = i % 3 == 0;
        bool expiring = (i % 2 == 0) != flipped;
        return (V(i, flipped ? 2 : 1), expiring ? Soon + i : 0);
    }

    static void AssertHolds(DurableStore store, int keys)
    {
        using var session = store.NewSession();
        for (int i = 0; i < keys; i++)
        {
            if (Expected(i) is not { } expected) Assert.Null(session.Read(K(i), out _));
            else AssertStored(session, K(i), expected.Value, expected.ExpiresAt, $"key {i}");
        }
        foreach (int threads in new[] { 1, 3 })
        {
            var all = Contents(store, threads);
            Assert.Equal(Enumerable.Range(0, keys).Count(i => Expected(i) is not null), all.Count);
            for (int i = 0; i < keys; i++)
            {
                if (Expected(i) is not { } expected) continue;
                Assert.Equal((Encoding.UTF8.GetString(expected.Value), expected.ExpiresAt), all[Encoding.UTF8.GetString(K(i))]);
            }
        }
    }

    [Fact]
    public void ExpiriesSurviveACheckpointAndReopen()
    {
        const int Keys = 3000;
        using (var store = DurableStore.Open(Options(DurabilityMode.Async), out _))
        {
            using var session = store.NewSession();
            Write(session, Keys);
            store.Checkpoint(store.LogTail);
        }
        using var reopened = DurableStore.Open(Options(DurabilityMode.Async), out var report);
        Assert.NotNull(report.Checkpoint);
        Assert.Equal(0, report.RecordsReplayed);
        AssertHolds(reopened, Keys);
    }

    [Fact]
    public void ExpiriesAreReplayedFromTheLogAfterACrashWithoutACheckpoint()
    {
        const int Keys = 3000;
        using (var store = DurableStore.Open(Options(DurabilityMode.Sync), out _))
        {
            using var session = store.NewSession();
            Assert.Equal(StoreStatus.Ok, store.WaitDurable(Write(session, Keys)));
            // No clean shutdown: the store is dropped without a last checkpoint.
        }
        using var reopened = DurableStore.Open(Options(DurabilityMode.Sync), out var report);
        Assert.Null(report.Checkpoint);
        Assert.Equal(Keys + (Keys + 2) / 3 + (Keys - 5 + 6) / 7, report.RecordsReplayed);
        AssertHolds(reopened, Keys);
    }

    [Fact]
    public void TheLogReplaysExpiringPutsAsPutsWithTheirExpiry()
    {
        using var store = DurableStore.Open(Options(DurabilityMode.Sync), out _);
        using var session = store.NewSession();
        session.Put(K(1), V(1, 1), Soon);
        session.Put(K(2), V(2, 1));
        session.Delete(K(1));
        store.Log!.CommitNow(); // replay reads what FasterLog reports committed

        var replayed = new List<(LogOp, string, string, long)>();
        Assert.Null(store.Log!.Replay(0, (op, key, value, expiresAt) =>
            replayed.Add((op, Encoding.UTF8.GetString(key), Encoding.UTF8.GetString(value), expiresAt)), out long records));

        Assert.Equal(3, records);
        var expected = new[]
        {
            (LogOp.Put, "key-000001", Encoding.UTF8.GetString(V(1, 1)), Soon),
            (LogOp.Put, "key-000002", Encoding.UTF8.GetString(V(2, 1)), 0L),
            (LogOp.Delete, "key-000001", "", 0L),
        };
        Assert.Equal(expected, replayed);
    }

    /// <summary>
    /// Data/old-store.zip is a data directory written by the storage code before expiry existed
    /// (commit b9737a9, sync durability, 16 MiB store memory, 1024 index buckets): keys old-000 to
    /// old-099 put as old-value-i-1, a checkpoint, then even keys put again as old-value-i-2, keys
    /// 1, 11, ..., 91 deleted and old-100 put, and no checkpoint at the end, so opening it
    /// recovers the checkpoint and replays 61 records of the old log.
    /// </summary>
    [Fact]
    public void AStoreWrittenBeforeExpiryExistedOpensAndNeverExpires()
    {
        using (var zip = typeof(StoreExpiryTests).Assembly.GetManifestResourceStream("old-store.zip")!)
            ZipFile.ExtractToDirectory(zip, _dir.Path);
        var options = Options(DurabilityMode.Sync) with { IndexBuckets = 1024 };
        static byte[] OldKey(int i) => Encoding.UTF8.GetBytes($"old-{i:D3}");
        static byte[]? OldValue(int i) =>
            i % 10 == 1 && i < 100 ? null : Encoding.UTF8.GetBytes($"old-value-{i}-{(i % 2 == 0 && i < 100 ? 2 : 1)}");

        using (var store = DurableStore.Open(options, out var report))
        {
            Assert.NotNull(report.Checkpoint);
            Assert.Equal(61, report.RecordsReplayed);
            Assert.Null(report.LogCutAt);
            using var session = store.NewSession();
            for (int i = 0; i <= 100; i++)
            {
                if (OldValue(i) is not { } value) Assert.Null(session.Read(OldKey(i), out _));
                else AssertStored(session, OldKey(i), value, 0, $"old key {i}");
            }
            var all = Contents(store);
            Assert.Equal(91, all.Count);
            Assert.All(all.Values, entry => Assert.Equal(0, entry.ExpiresAt));

            store.WaitDurable(session.Put(OldKey(2), "new"u8, Soon)); // an old record overwritten with an expiring one
            store.WaitDurable(session.Put(OldKey(3), "new"u8));
        }
        using (var store = DurableStore.Open(options, out _))
        {
            using var session = store.NewSession();
            AssertStored(session, OldKey(2), "new"u8.ToArray(), Soon, "old key overwritten with an expiry");
            AssertStored(session, OldKey(3), "new"u8.ToArray(), 0, "old key overwritten");
            AssertStored(session, OldKey(4), OldValue(4)!, 0, "old key untouched");
        }
    }

    public void Dispose() => _dir.Dispose();
}
