using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using RdmaKv.Client;
using RdmaKv.Core;
using RdmaKv.Server;
using Xunit.Abstractions;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// A node whose data is several times its region budget, so values leave the region for the store
/// (eviction) and come back when read (promotion), read over each transport: a cold key that is
/// deleted or overwritten never comes back from the store (through GET, MultiGet or a restart),
/// and one-sided readers racing eviction and promotion read whole values, never older than the
/// last write acknowledged before the read began.
/// </summary>
public abstract class ColdTierTests(TestTransport transport, ITestOutputHelper output) : IDisposable
{
    const int Keys = 3_000;
    readonly string _name = TestNode.UniqueName();
    readonly string _data = TestNode.NewDataDirectory();

    /// <summary>One partition with a 4 MiB budget: 3,000 values of 1 to 3 KiB are far more than it holds.</summary>
    TestNode StartNode() => new(o => o with { Partitions = 1, MemoryBytes = 4L << 20, StoreMemoryBytes = 16L << 20 }, _name, _data);

    static byte[] Key(int k) => Encoding.UTF8.GetBytes($"cold-{k:D5}");

    /// <summary>"K|VERSION|" and a filler that depends on both, 1 to 3 KiB long.</summary>
    static byte[] Value(int k, long version)
    {
        var value = new byte[1024 + (int)((k * 31 + version * 977) % 2048)];
        string head = $"{k}|{version}|";
        Encoding.ASCII.GetBytes(head, value);
        for (int i = head.Length; i < value.Length; i++) value[i] = (byte)(k * 7 + version * 13 + i);
        return value;
    }

    /// <summary>The version a value says it is, or null when it is not a whole value of key <paramref name="k"/>.</summary>
    static long? VersionOf(int k, byte[] value)
    {
        string[] parts = Encoding.ASCII.GetString(value, 0, Math.Min(value.Length, 32)).Split('|');
        if (parts.Length < 3 || parts[0] != k.ToString(CultureInfo.InvariantCulture) || !long.TryParse(parts[1], CultureInfo.InvariantCulture, out long version)) return null;
        return value.AsSpan().SequenceEqual(Value(k, version)) ? version : null;
    }

    static List<int> ColdKeys(TestNode node, int count)
    {
        var partition = node.Node.Partitions[0];
        var cold = new List<int>();
        lock (partition.Lock)
        {
            for (int k = 0; k < Keys && cold.Count < count; k++)
                if (partition.Writer.Lookup(Key(k), out _) == Residence.MaybeCold) cold.Add(k);
        }
        return cold;
    }

    static void Load(KvClient client, long version)
    {
        for (int k = 0; k < Keys; k += 100)
            client.PutMany([.. Enumerable.Range(k, Math.Min(100, Keys - k)).Select(i => (Key(i), Value(i, version)))]);
    }

    [Fact]
    public void ADeletedOrOverwrittenColdKeyNeverComesBackFromTheStore()
    {
        var expected = new Dictionary<int, byte[]?>();
        void CheckAll(KvClient client, string when)
        {
            foreach (var (k, value) in expected)
            {
                byte[]? got = client.Get(Key(k));
                Assert.True(value is null ? got is null : got is not null && got.AsSpan().SequenceEqual(value),
                    $"{when}: key {k} read {(got is null ? "nothing" : $"version {VersionOf(k, got)?.ToString(CultureInfo.InvariantCulture) ?? "(torn)"}")}, expected {(value is null ? "nothing" : "the overwrite")}");
            }
            var keys = expected.Keys.ToList();
            var many = client.MultiGet([.. keys.Select(Key)]);
            for (int i = 0; i < keys.Count; i++)
            {
                byte[]? value = expected[keys[i]];
                Assert.True(value is null ? many[i] is null : many[i] is not null && many[i]!.AsSpan().SequenceEqual(value), $"{when}: MultiGet of key {keys[i]} is wrong");
            }
        }

        using (var node = StartNode())
        using (var client = node.Connect(transport))
        {
            Load(client, version: 1);
            var cold = ColdKeys(node, 60);
            Assert.True(cold.Count == 60, $"only {cold.Count} of {Keys} keys are cold: the node did not evict");
            for (int i = 0; i < cold.Count; i++)
            {
                int k = cold[i];
                if (i % 2 == 0)
                {
                    Assert.True(client.Delete(Key(k)), $"deleting cold key {k} found nothing");
                    expected[k] = null;
                }
                else
                {
                    client.Put(Key(k), Value(k, 2));
                    expected[k] = Value(k, 2);
                }
            }
            CheckAll(client, "at once");
            // Everything else written again: the overwrites are evicted in turn, the deletes stay deleted.
            for (int k = 0; k < Keys; k += 100)
                client.PutMany([.. Enumerable.Range(k, Math.Min(100, Keys - k)).Where(i => !expected.ContainsKey(i)).Select(i => (Key(i), Value(i, 3)))]);
            Assert.True(ColdKeys(node, Keys).Intersect(expected.Where(e => e.Value is not null).Select(e => e.Key)).Any(), "no overwritten key was evicted again");
            CheckAll(client, "after more evictions");
            output.WriteLine($"{transport}: {node.Stat("evictions")} evictions, {node.Stat("promotions")} promotions, {node.Stat("cold_reads")} cold reads");
        }
        using (var node = StartNode())
        using (var client = node.Connect(transport))
        {
            CheckAll(client, "after a restart");
            var keys = Enumerable.Range(0, Keys).Where(k => !expected.ContainsKey(k)).ToList();
            var values = client.MultiGet([.. keys.Select(Key)]);
            for (int i = 0; i < keys.Count; i++)
                Assert.True(values[i] is not null && VersionOf(keys[i], values[i]!) == 3, $"after a restart, key {keys[i]} is not its last version");
        }
    }

    [Fact]
    public void OneSidedReadersRacingEvictionAndPromotionReadWholeValuesNeverOlderThanAcknowledged()
    {
        using var node = StartNode();
        using var writer = node.Connect(transport);
        using var reader = node.Connect(transport);
        Load(writer, version: 1);
        var acked = Enumerable.Repeat(1L, Keys).ToArray();
        var failures = new ConcurrentQueue<string>();
        long reads = 0, writes = 0;
        long evictionsBefore = node.Stat("evictions"), promotionsBefore = node.Stat("promotions");
        // Until the race has done its counts: writes that evict, reads that promote (cold keys read
        // through the node come back into the region). The writer keeps to one write per four reads,
        // so that readers are not starved on a loaded machine. The deadline bounds a hang only.
        const long Reads = 3_000, Writes = 500, Evictions = 300, Promotions = 200;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var deadline = TimeSpan.FromMinutes(2);
        var done = new ManualResetEventSlim();
        bool Going() => !done.IsSet;
        void Race(Action body)
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                failures.Enqueue(e.ToString());
            }
        }
        var threads = new List<Thread>
        {
            new(() => Race(() =>
            {
                var random = new Random(1);
                for (long version = 2; Going(); version++)
                {
                    while (Going() && Interlocked.Read(ref writes) > Interlocked.Read(ref reads) / 4) Thread.Sleep(1);
                    int k = random.Next(Keys);
                    writer.Put(Key(k), Value(k, version));
                    Volatile.Write(ref acked[k], version);
                    Interlocked.Increment(ref writes);
                }
            })),
        };
        for (int r = 0; r < 2; r++)
        {
            int seed = 10 + r;
            threads.Add(new(() => Race(() =>
            {
                var random = new Random(seed);
                while (Going())
                {
                    int k = random.Next(Keys);
                    long floor = Volatile.Read(ref acked[k]);
                    byte[]? value = reader.Get(Key(k));
                    Interlocked.Increment(ref reads);
                    long? version = value is null ? null : VersionOf(k, value);
                    if (version is null) failures.Enqueue($"key {k} read {(value is null ? "nothing" : "a torn value")}");
                    else if (version < floor) failures.Enqueue($"key {k} read version {version} after {floor} was acknowledged");
                }
            })));
        }
        foreach (var t in threads) t.Start();
        while (failures.IsEmpty && clock.Elapsed < deadline
            && (Interlocked.Read(ref reads) < Reads || Interlocked.Read(ref writes) < Writes
                || node.Stat("evictions") - evictionsBefore < Evictions || node.Stat("promotions") - promotionsBefore < Promotions))
            Thread.Sleep(10);
        done.Set();
        foreach (var t in threads) Assert.True(t.Join(deadline + TimeSpan.FromSeconds(30)), "a racing thread hung");
        long evictions = node.Stat("evictions") - evictionsBefore, promotions = node.Stat("promotions") - promotionsBefore;
        output.WriteLine($"{transport}: {writes} writes, {reads} reads, {evictions} evictions, {promotions} promotions in {clock.ElapsedMilliseconds} ms");
        Assert.True(failures.IsEmpty, $"{failures.Count} failures, first: {string.Join("; ", failures.Take(3))}");
        Assert.True(reads >= Reads && writes >= Writes && evictions >= Evictions && promotions >= Promotions,
            $"{writes} writes, {reads} reads, {evictions} evictions, {promotions} promotions in {deadline}: the race made no progress");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

public sealed class ColdTierOverMailboxTests(ITestOutputHelper output) : ColdTierTests(TestTransport.Mailbox, output);

public sealed class ColdTierOverUcxTests(ITestOutputHelper output) : ColdTierTests(TestTransport.Ucx, output);
