using System.Text;

namespace RdmaKv.Core.Tests;

/// <summary>Writers, keys and one-sided lookups over the writer's own memory, shared by the tests.</summary>
static unsafe class TestKit
{
    public const ulong Seed = 0x5EED_CAFE_F00D_1234;

    /// <summary>Options with the test seed; retired regions stay mapped so a test can inspect them.</summary>
    public static PartitionWriterOptions Options() => new()
    {
        HashSeed = Seed,
        RetiredRegionGrace = TimeSpan.MaxValue,
    };

    public static PartitionWriter NewWriter(PartitionWriterOptions? options = null) =>
        new(options ?? Options(), new NativeRegionMemory.Factory());

    public static byte[] Key(string text) => Encoding.UTF8.GetBytes(text);

    public static byte[] Key(int i) => Encoding.UTF8.GetBytes($"key-{i:D6}");

    /// <summary>A value that differs per key and per version, of the given length.</summary>
    public static byte[] Value(int i, int version, int length)
    {
        var value = new byte[length];
        for (int j = 0; j < length; j++) value[j] = (byte)(i * 31 + version * 7 + j);
        return value;
    }

    public static KeyHash Hash(ReadOnlySpan<byte> key) => KeyHash.Compute(key, Seed);

    /// <summary>Looks <paramref name="key"/> up one-sided in <paramref name="region"/>, as a local client would.</summary>
    public static LookupResult Lookup(Region region, ReadOnlySpan<byte> key, ReaderContext context, LocationCache? cache = null)
    {
        var access = new MappedRegionAccess(region.Base, region.Length);
        RegionHeader header = region.Header;
        return TableReader.Lookup(ref access, header, key, Hash(key), cache, context);
    }

    /// <summary>The writer's own copy of a key's value, or null.</summary>
    public static byte[]? WriterValue(PartitionWriter writer, ReadOnlySpan<byte> key) =>
        writer.TryGetValue(key, out ReadOnlySpan<byte> value) ? value.ToArray() : null;

    /// <summary>The entry that holds <paramref name="key"/>, found by scanning both candidate buckets.</summary>
    public static IndexEntry EntryOf(Region region, ReadOnlySpan<byte> key)
    {
        KeyHash hash = Hash(key);
        ulong mask = region.Header.BucketMask;
        ulong primary = hash.PrimaryBucket(mask);
        foreach (ulong bucket in new[] { primary, KeyHash.AlternateBucket(primary, hash.Fingerprint, mask) })
        {
            for (int i = 0; i < Bucket.EntryCount; i++)
            {
                IndexEntry entry = region.ReadEntry(bucket, i);
                if (entry.IsEmpty || entry.Fingerprint != hash.Fingerprint) continue;
                ref ExtentHeader e = ref region.ExtentAt(entry.ExtentOffset);
                if (e.KeyLength == key.Length && region.Bytes(entry.ExtentOffset + ExtentHeader.Size, key.Length).SequenceEqual(key))
                    return entry;
            }
        }
        throw new InvalidOperationException("key not in the region");
    }

    /// <summary>Every occupied entry of a region.</summary>
    public static List<IndexEntry> LiveEntries(Region region)
    {
        var entries = new List<IndexEntry>();
        for (ulong b = 0; b < (ulong)region.Header.BucketCount; b++)
            for (int i = 0; i < Bucket.EntryCount; i++)
            {
                IndexEntry entry = region.ReadEntry(b, i);
                if (!entry.IsEmpty) entries.Add(entry);
            }
        return entries;
    }

    public static ulong BucketVersion(Region region, ulong bucket) => Volatile.Read(ref region.BucketAddress(bucket)[0]);
}

/// <summary>Counts what the writer allocates, so a test can bound the memory growth costs.</summary>
sealed class CountingMemoryFactory : IRegionMemoryFactory
{
    readonly NativeRegionMemory.Factory _inner = new();
    long _bytes;
    int _regions;

    public long Bytes => Volatile.Read(ref _bytes);
    public int Regions => Volatile.Read(ref _regions);

    public RegionMemory Allocate(int partition, ulong generation, long length)
    {
        Interlocked.Add(ref _bytes, length);
        Interlocked.Increment(ref _regions);
        return _inner.Allocate(partition, generation, length);
    }
}
