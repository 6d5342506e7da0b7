using RdmaKv.Core;
using RdmaKv.Transport.Ucx;

namespace RdmaKv.Client;

/// <summary>
/// MultiGet over UCX with the READs of all keys in flight together: first every cached location's
/// extent in one batch, then both candidate buckets of every key left in one batch, then every
/// matching extent in one batch. A key still unresolved (absent, changing, large, or failing
/// validation) goes through the single-key lookup, which confirms a miss and retries.
/// </summary>
static class RemoteMultiGet
{
    const int MaxCandidates = 4;

    public static byte[]?[] Run(UcxClientConnection connection, RemotePartition[] partitions, ulong seed,
        IReadOnlyList<byte[]> keys, LocationCache cache, ReaderContext context, Func<byte[], byte[]?> single)
    {
        int n = keys.Count;
        var values = new byte[]?[n];
        var done = new bool[n];
        var hashes = new KeyHash[n];
        var owners = new RemotePartition[n];
        for (int i = 0; i < n; i++)
        {
            hashes[i] = KeyHash.Compute(keys[i], seed);
            owners[i] = partitions[hashes[i].Partition(partitions.Length)];
        }

        // 1. Cached locations: one READ per key.
        var parts = new List<ReadPart>();
        var who = new List<(int Key, IndexEntry Entry, ulong Sequence)>();
        for (int i = 0; i < n; i++)
        {
            if (cache.TryGet(hashes[i], owners[i].Generation, out IndexEntry entry, out ulong sequence) && !entry.IsLarge)
            {
                parts.Add(new ReadPart(owners[i].Region, entry.ExtentOffset, entry.ExtentLength));
                who.Add((i, entry, sequence));
            }
        }
        Accept(connection, parts, who, keys, hashes, owners, values, done, cache, context, remember: false);

        // 2. Both candidate buckets of every key left, then 3. every matching extent.
        var left = Enumerable.Range(0, n).Where(i => !done[i]).ToList();
        if (left.Count > 0)
        {
            parts.Clear();
            foreach (int i in left)
            {
                var (first, second) = TableReader.BucketOffsets(owners[i].Header, hashes[i]);
                parts.Add(new ReadPart(owners[i].Region, first, Bucket.Size));
                parts.Add(new ReadPart(owners[i].Region, second, Bucket.Size));
            }
            var buckets = new byte[parts.Count * Bucket.Size];
            if (connection.ReadMany([.. parts], buckets))
            {
                parts.Clear();
                who.Clear();
                Span<IndexEntry> candidates = stackalloc IndexEntry[MaxCandidates];
                for (int j = 0; j < left.Count; j++)
                {
                    int i = left[j];
                    int found = TableReader.MatchingEntries(buckets.AsSpan(j * 2 * Bucket.Size, 2 * Bucket.Size), hashes[i], candidates);
                    for (int c = 0; c < found; c++)
                    {
                        if (candidates[c].IsLarge) continue;
                        parts.Add(new ReadPart(owners[i].Region, candidates[c].ExtentOffset, candidates[c].ExtentLength));
                        who.Add((i, candidates[c], 0));
                    }
                }
                Accept(connection, parts, who, keys, hashes, owners, values, done, cache, context, remember: true);
            }
        }

        // 4. The rest one by one, with the full protocol (miss confirmation, retries, fallback).
        for (int i = 0; i < n; i++)
            if (!done[i]) values[i] = single(keys[i]);
        return values;
    }

    /// <summary>Accepts the extents read for <paramref name="who"/>; cached ones (<paramref name="remember"/> false) only with the cached write's sequence.</summary>
    static void Accept(UcxClientConnection connection, List<ReadPart> parts, List<(int Key, IndexEntry Entry, ulong Sequence)> who,
        IReadOnlyList<byte[]> keys, KeyHash[] hashes, RemotePartition[] owners, byte[]?[] values, bool[] done,
        LocationCache cache, ReaderContext context, bool remember)
    {
        if (parts.Count == 0) return;
        var bytes = new byte[parts.Sum(p => p.Length)];
        if (!connection.ReadMany([.. parts], bytes)) return;
        int at = 0;
        for (int j = 0; j < parts.Count; j++)
        {
            var (i, entry, sequence) = who[j];
            var extent = bytes.AsSpan(at, parts[j].Length);
            at += parts[j].Length;
            if (done[i]) continue;
            if (TableReader.TryAcceptExtent(extent, keys[i], context, out Range value, out bool expired) && (remember || context.LastSequence == sequence))
            {
                values[i] = expired ? null : extent[value].ToArray();
                done[i] = true;
                if (remember && !expired) cache.Set(hashes[i], owners[i].Generation, entry, context.LastSequence);
            }
            else if (!remember)
            {
                cache.Remove(hashes[i]);
            }
        }
    }
}
