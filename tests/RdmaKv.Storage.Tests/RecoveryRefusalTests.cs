using System.Text;
using RdmaKv.Client;

namespace RdmaKv.Storage.Tests;

/// <summary>
/// Recovery never starts empty, or older than the log: when what it would need is missing it
/// refuses and says what it found. And a checkpoint that the disk cannot hold leaves the previous
/// one, and the log behind it, as they were.
/// </summary>
public sealed class RecoveryRefusalTests : IDisposable
{
    readonly TempDirectory _dir = new();

    DurableStoreOptions Options(string directory) => new()
    {
        Directory = directory,
        Durability = DurabilityMode.Sync,
        StoreMemoryBytes = 16L << 20,
        IndexBuckets = 1 << 12,
    };

    static byte[] K(int i) => Encoding.UTF8.GetBytes($"key-{i:D6}");

    static byte[] V(int i, int size) => Encoding.UTF8.GetBytes($"value-{i}-" + new string('x', size));

    [Fact]
    public void ANodeWhoseLogHasRecordsButNoCommitMetadataRefusesToStartAndSaysWhatItFound()
    {
        string name = "refuse-" + Guid.NewGuid().ToString("N")[..12];
        string[] args = ["--durability", "sync", "--checkpoint-interval", "0", "--listen", "none"];
        using (var server = new ServerProcess(name, _dir.Path, args))
        {
            server.WaitUntilUp();
            using (var client = KvClient.Connect("local:" + name))
            {
                for (int i = 0; i < 200; i++) client.Put($"key-{i}", $"value-{i}");
            }
            server.Kill();
        }
        string commits = Path.Combine(_dir.Path, "aof", "log-commits");
        Assert.True(Directory.Exists(commits) && Directory.EnumerateFiles(commits).Any(), $"no commit metadata in {commits}");
        Directory.Delete(commits, recursive: true);

        using var restarted = new ServerProcess(name, _dir.Path, args);
        int code = restarted.WaitForExit();
        Assert.NotEqual(0, code);
        Assert.Contains("no commit metadata", restarted.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("is up", restarted.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void AStoreWhoseLogWasCutBehindACheckpointThatIsGoneRefusesToOpen()
    {
        var options = Options(_dir.Path);
        using (var store = DurableStore.Open(options, out _))
        {
            using var session = store.NewSession();
            for (int i = 0; i < 500; i++) session.Put(K(i), V(i, 100));
            store.Checkpoint(store.LogTail); // the log is cut behind it
            store.WaitDurable(session.Put(K(1000), V(1000, 100)));
        }
        foreach (string entry in Directory.EnumerateFileSystemEntries(options.CheckpointDirectory))
        {
            if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
            else File.Delete(entry);
        }
        var refused = Assert.Throws<InvalidDataException>(() => DurableStore.Open(options, out _).Dispose());
        Assert.Contains("no checkpoint", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AStoreWhoseNewestLogCommitIsDamagedRefusesToOpenRatherThanStartFromAnOlderOne()
    {
        var options = Options(_dir.Path);
        using (var store = DurableStore.Open(options, out _))
        {
            using var session = store.NewSession();
            for (int i = 0; i < 100; i++) Assert.Equal(Core.StoreStatus.Ok, store.WaitDurable(session.Put(K(i), V(i, 100))));
        }
        // The commit before the newest is kept until the next one is safe.
        var commits = Directory.GetFiles(Path.Combine(options.LogDirectory, "log-commits"), "commit.*").Order().ToList();
        Assert.Equal(2, commits.Count);
        string newest = commits.OrderByDescending(f => long.Parse(Path.GetFileName(f).Split('.')[1], System.Globalization.CultureInfo.InvariantCulture)).First();
        var bytes = File.ReadAllBytes(newest);
        bytes[^3] ^= 0x5a; // inside FasterLog's recovery record, which carries a checksum
        File.WriteAllBytes(newest, bytes);

        var refused = Assert.Throws<InvalidDataException>(() => DurableStore.Open(options, out _).Dispose());
        Assert.Contains("unreadable", refused.Message, StringComparison.Ordinal);
        Assert.Contains(Path.GetFileName(newest), refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ACheckpointTheDiskCannotHoldFailsLeavesNoFilesAndKeepsThePreviousOne()
    {
        using var tmpfs = new SmallTmpfs(64);
        var options = Options(tmpfs.DataDirectory);
        using (var store = DurableStore.Open(options, out _))
        {
            using var session = store.NewSession();
            for (int i = 0; i < 1000; i++) session.Put(K(i), V(i, 4000));
            store.Checkpoint(store.LogTail);
            long address = -1;
            for (int i = 1000; i < 2000; i++) address = session.Put(K(i), V(i, 4000));
            store.WaitDurable(address);
            var before = Directory.EnumerateFiles(options.CheckpointDirectory, "*", SearchOption.AllDirectories).ToHashSet();

            // Room for the log, not for a second checkpoint (about 8 MiB of records and a 256 KiB index).
            tmpfs.Fill((int)(tmpfs.AvailableBytes >> 20) - 2);
            Assert.ThrowsAny<IOException>(() => store.Checkpoint(store.LogTail));
            var after = Directory.EnumerateFiles(options.CheckpointDirectory, "*", SearchOption.AllDirectories).ToHashSet();
            Assert.Equal(before.Order(), after.Order());
        }
        tmpfs.Free();
        using var reopened = DurableStore.Open(options, out var report);
        Assert.NotNull(report.Checkpoint);
        Assert.Equal(1000, report.RecordsReplayed);
        using var s = reopened.NewSession();
        for (int i = 0; i < 2000; i++) Assert.Equal(V(i, 4000), s.Read(K(i)));
    }

    public void Dispose() => _dir.Dispose();
}
