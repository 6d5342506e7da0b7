using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using Microsoft.Extensions.Caching.Distributed;
using RdmaKv.Client;
using RdmaKv.Core;

namespace RdmaKv.Extensions;

/// <summary>
/// An <see cref="IDistributedCache"/> (and <see cref="IBufferDistributedCache"/>) on RdmaKv: every
/// entry is one key of the store, its value a small header (<see cref="CacheEntryHeader"/>: the
/// absolute expiry, the sliding window, the store expiry) followed by the application's bytes.
/// Reads are the client's one-sided GETs; the node's own per-key expiry removes entries.
/// </summary>
/// <remarks>
/// <para>
/// Expiration: absolute (<see cref="DistributedCacheEntryOptions.AbsoluteExpiration"/>, or
/// <see cref="DistributedCacheEntryOptions.AbsoluteExpirationRelativeToNow"/>, which wins when both
/// are set) and sliding (<see cref="DistributedCacheEntryOptions.SlidingExpiration"/>). An entry is
/// stored with the store expiry min(absolute, now + sliding); a read or <see cref="Refresh"/> of a
/// sliding entry puts it again with a later store expiry, never past the absolute one. Reads that
/// follow each other within a twentieth of the window (at most a second) write once.
/// </para>
/// <para>
/// A refresh rewrites the value, because the store has no "touch": a <see cref="Set(string, byte[], DistributedCacheEntryOptions)"/> or
/// <see cref="Remove"/> of the same key that lands between a read and its refresh is undone by the
/// refresh. Entries without a sliding window are never rewritten by reads.
/// </para>
/// <para>"Now" is the <see cref="TimeProvider"/> given (the system clock by default); the node drops
/// entries by the reader's clock, so both should agree.</para>
/// </remarks>
public sealed partial class RdmaKvCache : IBufferDistributedCache
{
    readonly KvClientSource _client;
    readonly byte[] _prefix;
    readonly TimeProvider _time;

    /// <summary>A cache on <paramref name="client"/>, which stays the caller's to dispose.</summary>
    /// <param name="client">A connected client.</param>
    /// <param name="options">The instance name; null for none.</param>
    /// <param name="timeProvider">The clock expirations are computed with; null for the system clock.</param>
    public RdmaKvCache(KvClient client, RdmaKvCacheOptions? options = null, TimeProvider? timeProvider = null)
        : this(new KvClientSource(client ?? throw new ArgumentNullException(nameof(client))), options, timeProvider)
    {
    }

    internal RdmaKvCache(KvClientSource client, RdmaKvCacheOptions? options, TimeProvider? timeProvider)
    {
        _client = client;
        _prefix = Encoding.UTF8.GetBytes(options?.InstanceName ?? "");
        _time = timeProvider ?? TimeProvider.System;
        if (_prefix.Length >= Limits.MaxKeyLength)
            throw new ArgumentException($"the instance name is {_prefix.Length} bytes in UTF-8; with a key it must stay within {Limits.MaxKeyLength}", nameof(options));
    }

    KvClient Client => _client.Client;

    long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <inheritdoc/>
    public byte[]? Get(string key)
    {
        Span<byte> k = Key(key, stackalloc byte[Limits.MaxKeyLength]);
        byte[]? stored = Client.Get(k);
        if (stored is null || !Accept(stored, out long refreshTo)) return null;
        if (refreshTo != 0) Put(k, stored, refreshTo);
        return stored.AsSpan(CacheEntryHeader.Size).ToArray();
    }

    /// <inheritdoc/>
    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        token.ThrowIfCancellationRequested();
        byte[] k = KeyArray(key);
        byte[]? stored = await Client.GetAsync(k, token).ConfigureAwait(false);
        if (stored is null || !Accept(stored, out long refreshTo)) return null;
        if (refreshTo != 0) await PutAsync(k, stored, refreshTo, token).ConfigureAwait(false);
        return stored.AsSpan(CacheEntryHeader.Size).ToArray();
    }

    /// <inheritdoc/>
    public void Set(string key, byte[] value, DistributedCacheEntryOptions options)
    {
        ArgumentNullException.ThrowIfNull(value);
        Set(key, new ReadOnlySequence<byte>(value), options);
    }

    /// <inheritdoc/>
    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        return SetAsync(key, new ReadOnlySequence<byte>(value), options, token).AsTask();
    }

    /// <inheritdoc/>
    public void Refresh(string key)
    {
        Span<byte> k = Key(key, stackalloc byte[Limits.MaxKeyLength]);
        byte[]? stored = Client.Get(k);
        if (stored is not null && Accept(stored, out long refreshTo) && refreshTo != 0) Put(k, stored, refreshTo);
    }

    /// <inheritdoc/>
    public async Task RefreshAsync(string key, CancellationToken token = default)
    {
        token.ThrowIfCancellationRequested();
        byte[] k = KeyArray(key);
        byte[]? stored = await Client.GetAsync(k, token).ConfigureAwait(false);
        if (stored is not null && Accept(stored, out long refreshTo) && refreshTo != 0) await PutAsync(k, stored, refreshTo, token).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public void Remove(string key) => Client.Delete(Key(key, stackalloc byte[Limits.MaxKeyLength]));

    /// <inheritdoc/>
    public async Task RemoveAsync(string key, CancellationToken token = default)
    {
        token.ThrowIfCancellationRequested();
        await Client.DeleteAsync(KeyArray(key), token).ConfigureAwait(false);
    }

    /// <summary>
    /// True when <paramref name="stored"/> is a live entry at this instant. When the read should
    /// slide it along, <paramref name="refreshTo"/> is its new store expiry (else 0), already written
    /// into <paramref name="stored"/>'s header, so the caller puts <paramref name="stored"/> as it is.
    /// A value this cache did not write reads as absent.
    /// </summary>
    bool Accept(Span<byte> stored, out long refreshTo)
    {
        refreshTo = 0;
        if (!CacheEntryHeader.TryRead(stored, out long absolute, out long sliding, out long storeExpiry)) return false;
        var times = new EntryTimes(absolute, sliding, storeExpiry);
        long now = NowMs;
        if (!times.LiveAt(now)) return false;
        refreshTo = times.RefreshedStoreExpiry(now);
        if (refreshTo != 0) CacheEntryHeader.WriteStoreExpiry(stored, refreshTo);
        return true;
    }

    void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> stored, long storeExpiryMs)
    {
        if (storeExpiryMs == 0) Client.Put(key, stored);
        else Client.Put(key, stored, DateTimeOffset.FromUnixTimeMilliseconds(storeExpiryMs));
    }

    ValueTask PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> stored, long storeExpiryMs, CancellationToken token) =>
        storeExpiryMs == 0 ? Client.PutAsync(key, stored, token) : Client.PutAsync(key, stored, DateTimeOffset.FromUnixTimeMilliseconds(storeExpiryMs), token);

    /// <summary>The store key of <paramref name="key"/> (instance name, then the key in UTF-8) in <paramref name="buffer"/>.</summary>
    Span<byte> Key(string key, Span<byte> buffer)
    {
        int length = KeyLength(key);
        _prefix.CopyTo(buffer);
        Encoding.UTF8.GetBytes(key, buffer[_prefix.Length..]);
        return buffer[..length];
    }

    byte[] KeyArray(string key)
    {
        var k = new byte[KeyLength(key)];
        Key(key, k);
        return k;
    }

    int KeyLength(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length == 0) ThrowBadKey("a cache key must not be empty");
        int length = _prefix.Length + Encoding.UTF8.GetByteCount(key);
        if (length > Limits.MaxKeyLength)
            ThrowBadKey($"the key is {length} bytes in UTF-8 with the instance name; RdmaKv keys hold at most {Limits.MaxKeyLength}");
        return length;
    }

    [DoesNotReturn]
    static void ThrowBadKey(string message) => throw new ArgumentException(message, "key");

    [DoesNotReturn]
    static void ThrowTooLarge(long length) =>
        throw new ArgumentException($"the value is {length} bytes; an RdmaKv cache entry holds at most {CacheEntryHeader.MaxValueLength} (1 MiB less its {CacheEntryHeader.Size}-byte header)", "value");
}
