using System.Buffers.Text;
using System.Diagnostics;
using Xunit.Abstractions;

namespace RdmaKv.Core.Tests;

/// <summary>
/// One writer thread mutates and grows a partition without pause while reader threads look keys
/// up one-sided. Every value is "key|seq|filler" with a length and filler that follow from key
/// and seq, so a reader can tell a torn, misplaced or outdated value from a good one.
/// </summary>
public class ConcurrentReadWriteTests(ITestOutputHelper output)
{
    const int KeyCount = 224;
    const int PinnedCount = 24;    // put before the readers start, only ever overwritten
    const int TargetPresent = 76;  // with the pinned keys 100 in 16 buckets (112 entries): inserts displace
    const int HotStart = 16;       // half of all operations hit keys 16..31: pinned and deletable ones
    const int HotCount = 16;
    const int LargeKey = 20;       // sometimes carries a value too long for the entry's length field
    const int ReaderCount = 3;
    const int GrowEvery = 3_000;
    const int MaxForcedGrows = 150;
    const long MaxLookupsPerReader = 20_000_000;
    const long MinOperations = 40_000;
    static readonly TimeSpan Duration = TimeSpan.FromSeconds(3);     // the run lasts this long,
    static readonly TimeSpan MaxDuration = TimeSpan.FromSeconds(10); // or up to this on a loaded machine

    sealed class Shared
    {
        public readonly long[] Acked = new long[KeyCount];     // seq of the last acknowledged put, -seq of a delete
        public readonly long[] PutIssued = new long[KeyCount]; // seq of the last put started
        public readonly long[] OpIssued = new long[KeyCount];  // seq of the last put or delete started
        public readonly byte[][] Keys = Enumerable.Range(0, KeyCount).Select(TestKit.Key).ToArray();
        public readonly Stopwatch Clock = Stopwatch.StartNew();
        public string? Failure;
        bool _stopped;

        /// <summary>The writer runs for <see cref="Duration"/> and at least <see cref="MinOperations"/>, within <see cref="MaxDuration"/>.</summary>
        public bool WriterGoesOn(long operations)
        {
            TimeSpan elapsed = Clock.Elapsed;
            bool goOn = Volatile.Read(ref Failure) is null
                && (elapsed < Duration || (operations < MinOperations && elapsed < MaxDuration));
            if (!goOn) Volatile.Write(ref _stopped, true);
            return goOn;
        }

        public bool ReadersGoOn => !Volatile.Read(ref _stopped) && Volatile.Read(ref Failure) is null;
        public void Fail(string message) => Interlocked.CompareExchange(ref Failure, message, null);
    }

    sealed class ReaderTally
    {
        public long Lookups, Found, NotFound, Fallbacks, Refreshes, CacheHits, ChecksumFailures, SupersededSeen;
    }

    static int ValueLength(int k, long seq)
    {
        ulong h = ((ulong)k * 0x9E3779B97F4A7C15UL) ^ ((ulong)seq * 0xBF58476D1CE4E5B9UL);
        h ^= h >> 31;
        if (k == LargeKey && seq % 16 == 0) return 140_000 + (int)(h % 2_000);
        return 32 + (int)(h % 480);
    }

    static byte Filler(long seq) => (byte)('a' + seq % 26);

    static int FillValue(Span<byte> buffer, byte[] key, int k, long seq)
    {
        key.CopyTo(buffer);
        int at = key.Length;
        buffer[at++] = (byte)'|';
        Assert.True(Utf8Formatter.TryFormat(seq, buffer[at..], out int written));
        at += written;
        buffer[at++] = (byte)'|';
        int length = ValueLength(k, seq);
        buffer[at..length].Fill(Filler(seq));
        return length;
    }

    /// <summary>Null when <paramref name="value"/> is a whole value of key k no older than <paramref name="lower"/> allows.</summary>
    static string? CheckValue(ReadOnlySpan<byte> value, byte[] key, int k, long lower, long upper)
    {
        if (value.Length <= key.Length + 2 || !value.StartsWith(key) || value[key.Length] != '|')
            return $"key {k}: value of another key or torn: '{Show(value)}'";
        ReadOnlySpan<byte> rest = value[(key.Length + 1)..];
        if (!Utf8Parser.TryParse(rest, out long seq, out int digits) || digits >= rest.Length || rest[digits] != '|')
            return $"key {k}: unparsable value '{Show(value)}'";
        if (value.Length != ValueLength(k, seq)) return $"key {k} seq {seq}: length {value.Length}, written {ValueLength(k, seq)}";
        if (rest[(digits + 1)..].ContainsAnyExcept(Filler(seq))) return $"key {k} seq {seq}: filler of another version";
        if (lower >= 0 ? seq < lower : seq <= -lower)
            return $"key {k}: read seq {seq}, but {(lower >= 0 ? "a put" : "a delete")} of seq {Math.Abs(lower)} was acknowledged before the read";
        if (seq > upper) return $"key {k}: read seq {seq} that no put had started (last {upper})";
        return null;
    }

    static string Show(ReadOnlySpan<byte> value) =>
        System.Text.Encoding.ASCII.GetString(value[..Math.Min(value.Length, 40)]);

    static int PickKey(Random random) =>
        random.Next(2) == 0 ? HotStart + random.Next(HotCount) : random.Next(KeyCount);

    /// <summary>
    /// Overwrites (half on hot keys) and churn: inserts of absent keys, each past the target size
    /// preceded by a delete. The table so stays about 90% full and inserts displace entries.
    /// </summary>
    static (long Operations, int ForcedGrows) RunWriter(PartitionWriter writer, Shared shared)
    {
        var random = new Random(1234);
        byte[] buffer = new byte[150_000];
        var present = new List<int>();
        var absent = Enumerable.Range(PinnedCount, KeyCount - PinnedCount).ToList();
        int[] at = new int[KeyCount];
        for (int i = 0; i < absent.Count; i++) at[absent[i]] = i;
        long seq = PinnedCount, operations = 0;
        int forcedGrows = 0;

        void Move(List<int> from, List<int> to, int k)
        {
            int last = from[^1];
            from[at[k]] = last;
            at[last] = at[k];
            from.RemoveAt(from.Count - 1);
            at[k] = to.Count;
            to.Add(k);
        }

        void Put(int k)
        {
            long s = ++seq;
            Interlocked.Exchange(ref shared.OpIssued[k], s);
            Interlocked.Exchange(ref shared.PutIssued[k], s);
            int length = FillValue(buffer, shared.Keys[k], k, s);
            StoreStatus status = writer.Put(shared.Keys[k], buffer.AsSpan(0, length));
            if (status != StoreStatus.Ok) shared.Fail($"put of key {k}: {status}");
            Volatile.Write(ref shared.Acked[k], s);
        }

        void Insert(int k)
        {
            if (present.Count >= TargetPresent)
            {
                int victim = present[random.Next(present.Count)];
                long s = ++seq;
                Interlocked.Exchange(ref shared.OpIssued[victim], s);
                StoreStatus status = writer.Delete(shared.Keys[victim]);
                if (status != StoreStatus.Ok) shared.Fail($"delete of key {victim}: {status}");
                Volatile.Write(ref shared.Acked[victim], -s);
                Move(present, absent, victim);
            }
            Put(k);
            Move(absent, present, k);
        }

        while (shared.WriterGoesOn(operations))
        {
            operations++;
            if (operations % GrowEvery == 0 && forcedGrows < MaxForcedGrows)
            {
                if (!writer.Grow()) shared.Fail("a forced grow failed");
                forcedGrows++;
            }
            else if (random.Next(10) < 6)
            {
                int k = PickKey(random);
                if (k < PinnedCount || (at[k] < present.Count && present[at[k]] == k)) Put(k);
                else Insert(k);
            }
            else
            {
                Insert(absent[random.Next(absent.Count)]);
            }
        }
        return (operations, forcedGrows);
    }

    static unsafe MappedRegionAccess Mapped(Region region) => new(region.Base, region.Length);

    static unsafe GappedPairAccess Gapped(Region region) => new(region.Base, region.Length, 2);

    static void RunReader<TAccess>(PartitionWriter writer, Func<Region, TAccess> open, Shared shared, LocationCache cache, int seed, ReaderTally tally)
        where TAccess : struct, IRegionAccess
    {
        var random = new Random(seed);
        var context = new ReaderContext();
        Region region = writer.Region;
        TAccess access = open(region);
        RegionHeader header = region.Header;
        KeyHash[] hashes = shared.Keys.Select(k => TestKit.Hash(k)).ToArray();

        while ((tally.Lookups & 255) != 0 || (shared.ReadersGoOn && tally.Lookups < MaxLookupsPerReader))
        {
            tally.Lookups++;
            int k = PickKey(random);
            byte[] key = shared.Keys[k];
            long lower = Volatile.Read(ref shared.Acked[k]);
            LookupResult result;
            int refreshes = 0;
            while ((result = TableReader.Lookup(ref access, header, key, hashes[k], cache, context)) == LookupResult.Stale)
            {
                if (++refreshes > 100) { shared.Fail($"key {k}: stale after 100 refreshes"); return; }
                region = writer.Region;
                access = open(region);
                header = region.Header;
                tally.Refreshes++;
            }
            long upper = Interlocked.Read(ref shared.PutIssued[k]);
            long lastOp = Interlocked.Read(ref shared.OpIssued[k]);
            switch (result)
            {
                case LookupResult.Found:
                    tally.Found++;
                    string? problem = CheckValue(context.LastValue, key, k, lower, upper);
                    if (problem is not null) { shared.Fail(problem); return; }
                    break;
                case LookupResult.NotFound:
                    tally.NotFound++;
                    if (k < PinnedCount) { shared.Fail($"pinned key {k} reported not found"); return; }
                    if (lower > 0 && lastOp == lower) { shared.Fail($"key {k} not found, though put {lower} was acknowledged and nothing followed it"); return; }
                    break;
                case LookupResult.Fallback:
                    tally.Fallbacks++;
                    break;
            }
        }
        tally.CacheHits = context.CacheHits;
        tally.ChecksumFailures = context.ChecksumFailures;
        tally.SupersededSeen = context.SupersededSeen;
    }

    [Fact]
    public void ReadersNeverSeeTornOutdatedOrMissingValuesWhileTheWriterMutatesAndGrows()
    {
        var memory = new CountingMemoryFactory();
        var options = TestKit.Options() with { InitialBucketCount = 4, InitialExtentBytes = 16 * 1024, MaxLoadFactor = 0.95 };
        using var writer = new PartitionWriter(options, memory);
        var shared = new Shared();
        byte[] buffer = new byte[150_000];
        for (int k = 0; k < PinnedCount; k++)
        {
            Assert.Equal(StoreStatus.Ok, writer.Put(shared.Keys[k], buffer.AsSpan(0, FillValue(buffer, shared.Keys[k], k, k + 1))));
            shared.Acked[k] = shared.PutIssued[k] = shared.OpIssued[k] = k + 1;
        }

        var cache = new LocationCache(1024);
        var tallies = Enumerable.Range(0, ReaderCount).Select(_ => new ReaderTally()).ToArray();
        long operations = 0;
        int forcedGrows = 0;
        var threads = new List<Thread> { new(() => Guard(shared, () => (operations, forcedGrows) = RunWriter(writer, shared))) };
        for (int r = 0; r < ReaderCount; r++)
        {
            ReaderTally tally = tallies[r];
            int seed = 100 + r;
            // The last reader widens the gap between its two bucket reads, as two RDMA READs in flight can have.
            threads.Add(r < ReaderCount - 1
                ? new Thread(() => Guard(shared, () => RunReader(writer, Mapped, shared, cache, seed, tally)))
                : new Thread(() => Guard(shared, () => RunReader(writer, Gapped, shared, cache, seed, tally))));
        }
        shared.Clock.Restart();
        foreach (Thread t in threads) t.Start();
        foreach (Thread t in threads) Assert.True(t.Join(TimeSpan.FromSeconds(60)), "a thread did not finish");

        PartitionStats stats = writer.Stats;
        long lookups = tallies.Sum(t => t.Lookups);
        long fallbacks = tallies.Sum(t => t.Fallbacks);
        output.WriteLine($"writer: {operations} ops, {stats.Grows} grows ({forcedGrows} forced), {stats.CuckooMoves} cuckoo moves, " +
            $"{stats.BucketCount} buckets, {stats.Count} keys, {memory.Regions} regions / {memory.Bytes >> 20} MiB allocated");
        foreach (ReaderTally t in tallies)
            output.WriteLine($"reader: {t.Lookups} lookups, {t.Found} found, {t.NotFound} not found, {t.Fallbacks} fallbacks, " +
                $"{t.Refreshes} refreshes, {t.CacheHits} cache hits, {t.ChecksumFailures} checksum failures, {t.SupersededSeen} superseded seen");

        Assert.Null(shared.Failure);
        Assert.True(lookups > 50_000, $"only {lookups} lookups");
        Assert.True(operations >= MinOperations, $"only {operations} writer operations");
        Assert.True(tallies.All(t => t.Found > 1_000 && t.NotFound > 0), "every reader saw both outcomes");
        Assert.True(fallbacks * 100 < lookups, $"{fallbacks} fallbacks in {lookups} lookups");
        Assert.True(stats.Grows > 10 && stats.CuckooMoves > 0, "growth and cuckoo moves raced the readers");
        Assert.True(tallies.Sum(t => t.Refreshes) > 0 && tallies.Sum(t => t.CacheHits) > 0);
    }

    static void Guard(Shared shared, Action body)
    {
        try { body(); }
        catch (Exception e) { shared.Fail(e.ToString()); }
    }
}
