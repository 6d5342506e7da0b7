using System.Buffers;
using Microsoft.Extensions.Caching.Distributed;
using RdmaKv.Client;
using RdmaKv.Core;

namespace RdmaKv.Extensions;

/// <summary>The <see cref="IBufferDistributedCache"/> half: reads straight into the caller's buffer, writes from pooled buffers.</summary>
public sealed partial class RdmaKvCache
{
    /// <summary>
    /// How much room a read asks the destination for first: the largest entry read so far, from
    /// 4 KiB up to 256 KiB. A larger entry is read again whole (one allocation).
    /// </summary>
    int _readHint = 4 << 10;
    const int MaxReadHint = 256 << 10;

    /// <inheritdoc/>
    public bool TryGet(string key, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        Span<byte> k = Key(key, stackalloc byte[Limits.MaxKeyLength]);
        if (!ReadInto(k, destination, out var refresh)) return false;
        if (refresh.Stored is not null)
        {
            try
            {
                Put(k, refresh.Stored.AsSpan(0, refresh.Length), refresh.StoreExpiryMs);
            }
            finally
            {
                refresh.Return();
            }
        }
        return true;
    }

    /// <inheritdoc/>
    public async ValueTask<bool> TryGetAsync(string key, IBufferWriter<byte> destination, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        token.ThrowIfCancellationRequested();
        byte[] k = ArrayPool<byte>.Shared.Rent(Limits.MaxKeyLength);
        try
        {
            int keyLength = Key(key, k).Length;
            // The client's reads are synchronous (memory reads, or READs it waits for); only a refresh is a message.
            if (!ReadInto(k.AsSpan(0, keyLength), destination, out var refresh)) return false;
            if (refresh.Stored is not null)
            {
                try
                {
                    await PutAsync(k.AsMemory(0, keyLength), refresh.Stored.AsMemory(0, refresh.Length), refresh.StoreExpiryMs, token).ConfigureAwait(false);
                }
                finally
                {
                    refresh.Return();
                }
            }
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(k);
        }
    }

    /// <inheritdoc/>
    public void Set(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options)
    {
        Span<byte> k = Key(key, stackalloc byte[Limits.MaxKeyLength]);
        byte[] stored = Entry(value, options, out int length, out long storeExpiryMs);
        try
        {
            Put(k, stored.AsSpan(0, length), storeExpiryMs);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(stored);
        }
    }

    /// <inheritdoc/>
    public async ValueTask SetAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        token.ThrowIfCancellationRequested();
        byte[] k = KeyArray(key);
        byte[] stored = Entry(value, options, out int length, out long storeExpiryMs);
        try
        {
            await PutAsync(k, stored.AsMemory(0, length), storeExpiryMs, token).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(stored);
        }
    }

    /// <summary>The stored form of <paramref name="value"/> (header, then value) in a pooled array the caller returns.</summary>
    byte[] Entry(ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, out int length, out long storeExpiryMs)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (value.Length > CacheEntryHeader.MaxValueLength) ThrowTooLarge(value.Length);
        var times = EntryTimes.For(options, _time.GetUtcNow());
        length = CacheEntryHeader.Size + (int)value.Length;
        byte[] stored = ArrayPool<byte>.Shared.Rent(length);
        CacheEntryHeader.Write(stored, times.AbsoluteMs, times.SlidingMs, times.StoreExpiryMs);
        value.CopyTo(stored.AsSpan(CacheEntryHeader.Size));
        storeExpiryMs = times.StoreExpiryMs;
        return stored;
    }

    /// <summary>
    /// Reads the entry of <paramref name="key"/> and writes its value to <paramref name="destination"/>;
    /// false when it is absent or expired (nothing written). When the read slides the entry along,
    /// <paramref name="refresh"/> holds the stored bytes to put again and their new store expiry.
    /// </summary>
    bool ReadInto(ReadOnlySpan<byte> key, IBufferWriter<byte> destination, out PendingRefresh refresh)
    {
        refresh = default;
        Span<byte> buffer = destination.GetSpan(Volatile.Read(ref _readHint));
        int length;
        try
        {
            if (!Client.TryGet(key, buffer, out length)) return false;
        }
        catch (ArgumentException e) when (e.ParamName == "destination")
        {
            return ReadWhole(key, destination, out refresh);
        }
        Span<byte> stored = buffer[..length];
        if (!Accept(stored, out long refreshTo)) return false;
        if (refreshTo != 0) refresh = PendingRefresh.Copy(stored, refreshTo);
        // The value moves to the front of the buffer, over the header.
        stored[CacheEntryHeader.Size..].CopyTo(buffer);
        destination.Advance(length - CacheEntryHeader.Size);
        return true;
    }

    /// <summary>The read of an entry larger than the room asked for: one GET that allocates, and a larger hint next time.</summary>
    bool ReadWhole(ReadOnlySpan<byte> key, IBufferWriter<byte> destination, out PendingRefresh refresh)
    {
        refresh = default;
        byte[]? stored = Client.Get(key);
        if (stored is null) return false;
        int hint = Volatile.Read(ref _readHint);
        if (stored.Length > hint && hint < MaxReadHint) Interlocked.CompareExchange(ref _readHint, Math.Min(stored.Length, MaxReadHint), hint);
        if (!Accept(stored, out long refreshTo)) return false;
        if (refreshTo != 0) refresh = new PendingRefresh(stored, stored.Length, refreshTo, Pooled: false);
        destination.Write(stored.AsSpan(CacheEntryHeader.Size));
        return true;
    }

    /// <summary>Stored bytes a read puts again with a later store expiry after it has handed the value over.</summary>
    readonly record struct PendingRefresh(byte[]? Stored, int Length, long StoreExpiryMs, bool Pooled)
    {
        public static PendingRefresh Copy(ReadOnlySpan<byte> stored, long storeExpiryMs)
        {
            byte[] copy = ArrayPool<byte>.Shared.Rent(stored.Length);
            stored.CopyTo(copy);
            return new(copy, stored.Length, storeExpiryMs, Pooled: true);
        }

        public void Return()
        {
            if (Pooled) ArrayPool<byte>.Shared.Return(Stored!);
        }
    }
}
