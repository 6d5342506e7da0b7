using System.Text;
using RdmaKv.Client;
using RdmaKv.Core;
using RdmaKv.Server;
using Xunit.Abstractions;

namespace RdmaKv.Storage.Tests;

/// <summary>A node in this process: clean restarts in every mode, and data many times its region budget.</summary>
public sealed class NodeDurabilityTests(ITestOutputHelper output) : IDisposable
{
    readonly TempDirectory _dir = new();
    readonly string _name = "dur-" + Guid.NewGuid().ToString("N")[..12];

    NodeHost Start(DurabilityMode mode, Func<StorageNodeOptions, StorageNodeOptions>? configure = null)
    {
        var options = new StorageNodeOptions { Name = _name, DataDirectory = _dir.Path, Durability = mode, Partitions = 2, MemoryBytes = 64L << 20, StoreMemoryBytes = 16L << 20, AdminUrls = "none" };
        return NodeHost.Start(configure is null ? options : configure(options));
    }

    [Fact]
    public void ASyncPutManyWaitsForOneCommitNotOnePerPair()
    {
        using (var host = Start(DurabilityMode.Sync))
        {
            var node = host.Node;
            using var client = KvClient.Connect("local:" + _name);
            client.Put("before", "x");
            long commits = node.Stats()["aof_commits"];
            client.PutMany([.. Enumerable.Range(0, 256).Select(i => (Encoding.UTF8.GetBytes($"many-{i}"), Encoding.UTF8.GetBytes($"value-{i}")))]);
            long used = node.Stats()["aof_commits"] - commits;
            Assert.True(used <= 4, $"256 pairs took {used} commits");
            for (int i = 0; i < 256; i++) Assert.Equal($"value-{i}", Encoding.UTF8.GetString(client.Get($"many-{i}")!));
        }
        using (var host = Start(DurabilityMode.Sync))
        {
            var node = host.Node;
            using var client = KvClient.Connect("local:" + _name);
            for (int i = 0; i < 256; i++) Assert.Equal($"value-{i}", Encoding.UTF8.GetString(client.Get($"many-{i}")!));
        }
    }

    [Theory]
    [InlineData(DurabilityMode.None)]
    [InlineData(DurabilityMode.Async)]
    [InlineData(DurabilityMode.Sync)]
    public void RestartAfterACleanShutdownLosesNothing(DurabilityMode mode)
    {
        using (var host = Start(mode))
        {
            var node = host.Node;
            using var client = KvClient.Connect("local:" + _name);
            for (int i = 0; i < 500; i++) client.Put($"k{i}", $"v{i}");
            for (int i = 0; i < 500; i += 5) Assert.True(client.Delete($"k{i}"));
            client.Put("k1", "v1-again");
            node.Checkpoint();
            client.Put("k2", "v2-after-the-checkpoint");
            Assert.True(client.Delete("k3"));
        }
        using (var host = Start(mode))
        {
            var node = host.Node;
            Assert.Equal(0, node.Recovery.RecordsReplayed); // the shutdown checkpoint holds everything
            using var client = KvClient.Connect("local:" + _name);
            Assert.Equal(500 - 100 - 1, node.Stats()["keys"]);
            for (int i = 0; i < 500; i++)
            {
                string? expected = i % 5 == 0 || i == 3 ? null : i == 1 ? "v1-again" : i == 2 ? "v2-after-the-checkpoint" : $"v{i}";
                byte[]? value = client.Get($"k{i}");
                Assert.Equal(expected, value is null ? null : Encoding.UTF8.GetString(value));
            }
        }
    }

    [Fact]
    public void DataEightTimesTheRegionBudgetReadsBackHotOneSidedAndColdFromTheStore()
    {
        const int valueSize = 4096;
        const int keys = 65_536; // 256 MiB of values
        using var host = Start(DurabilityMode.None, o => o with { MemoryBytes = 32L << 20, Partitions = 4 });
        var node = host.Node;
        using var client = KvClient.Connect("local:" + _name);
        var value = new byte[valueSize];
        for (int i = 0; i < keys; i += 64)
        {
            var batch = new List<(byte[], byte[])>();
            for (int j = i; j < i + 64; j++) batch.Add((Key(j), Fill(new byte[valueSize], j)));
            client.PutMany(batch);
        }
        var stats = node.Stats();
        output.WriteLine($"after loading: {stats["keys"]} keys, {stats["cold_keys"]} not resident, {stats["evictions"]} evictions, regions {stats["region_bytes"] >> 20} MiB");
        Assert.Equal(keys, stats["keys"]);
        Assert.True(stats["region_bytes"] <= 32L << 20, $"the regions use {stats["region_bytes"]} bytes, more than the 32 MiB budget");
        Assert.True(stats["cold_keys"] > keys / 2, $"only {stats["cold_keys"]} keys were evicted");

        var before = KvClient.ThreadReads;
        var read = new byte[valueSize];
        // Newest first: the keys written last are resident (one-sided); the rest come from the store.
        // (A scan in write order would promote each cold key just before evicting the next hot one.)
        for (int i = keys - 1; i >= 0; i--)
        {
            Assert.True(client.TryGet(Key(i), read, out int n), $"key {i} is missing");
            Assert.Equal(valueSize, n);
            Assert.True(read.AsSpan().SequenceEqual(Fill(value, i)), $"key {i} has the wrong value");
        }
        long fallbacks = (KvClient.ThreadReads - before).Fallbacks;
        var after = node.Stats();
        output.WriteLine($"read back {keys} keys: {keys - fallbacks} one-sided, {fallbacks} through the node ({after["cold_reads"]} from the store, {after["promotions"]} promoted)");
        Assert.True(keys - fallbacks > 1000, "hardly any key was read one-sided");
        Assert.True(after["cold_reads"] > keys / 2, "cold keys were not read from the store");
    }

    static byte[] Key(int i) => Encoding.UTF8.GetBytes($"big-{i:D7}");

    static byte[] Fill(byte[] value, int i)
    {
        for (int j = 0; j < value.Length; j += 8) BitConverter.TryWriteBytes(value.AsSpan(j), (long)i * 1_000_003 + j);
        return value;
    }

    public void Dispose() => _dir.Dispose();
}
