using System.Diagnostics;
using FASTER.core;
using RdmaKv.Core;

namespace RdmaKv.Storage;

/// <summary>
/// One partition's handle on the store: appends to the log, applies to FASTER, reads cold values.
/// Not thread-safe: the partition's writer lock serializes its callers, as FASTER sessions need.
/// </summary>
public sealed unsafe class StoreSession : IColdTier, IDisposable
{
    readonly DurableStore _store;
    readonly ClientSession<SpanByte, SpanByte, SpanByte, SpanByteAndMemory, Empty, ExpiringValueFunctions> _session;
    byte[] _record = new byte[4096];
    byte[] _value = new byte[4096]; // an expiring value with its expiry before it, as FASTER stores it

    internal StoreSession(DurableStore store, FasterKV<SpanByte, SpanByte> kv)
    {
        _store = store;
        _session = kv.For(new ExpiringValueFunctions()).NewSession<ExpiringValueFunctions>();
    }

    /// <summary>
    /// Logs and applies a put; returns the log address to wait on in sync mode (-1 without a log).
    /// <paramref name="expiresAt"/> is stored with the value and returned by reads, scans and
    /// recovery: milliseconds since the Unix epoch (UTC), 0 when it never expires. The store never
    /// drops a value because it expired.
    /// </summary>
    public long Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt = 0)
    {
        if (expiresAt < 0) throw new ArgumentOutOfRangeException(nameof(expiresAt), expiresAt, "an expiry is milliseconds since the epoch, or 0 for never");
        long address = Log(LogOp.Put, key, value, expiresAt);
        Upsert(key, value, expiresAt);
        return address;
    }

    /// <summary>Logs and applies a delete; returns the log address to wait on in sync mode (-1 without a log).</summary>
    public long Delete(ReadOnlySpan<byte> key)
    {
        long address = Log(LogOp.Delete, key, default, 0);
        Remove(key);
        return address;
    }

    /// <summary>The stored value of <paramref name="key"/> (from memory or disk), or null.</summary>
    public byte[]? Read(ReadOnlySpan<byte> key) => Read(key, out _);

    /// <summary>
    /// The stored value of <paramref name="key"/> (from memory or disk), or null; <paramref name="expiresAt"/>
    /// is its expiry (0 when it never expires or is not there). An expired value is returned as any other.
    /// </summary>
    public byte[]? Read(ReadOnlySpan<byte> key, out long expiresAt)
    {
        expiresAt = 0;
        fixed (byte* k = key)
        {
            var keySpan = SpanByte.FromPointer(k, key.Length);
            var output = new SpanByteAndMemory();
            Status status = _session.Read(ref keySpan, ref output);
            if (status.IsPending)
            {
                _session.CompletePendingWithOutputs(out var outputs, wait: true);
                using (outputs)
                {
                    while (outputs.Next())
                    {
                        status = outputs.Current.Status;
                        output = outputs.Current.Output;
                    }
                }
            }
            try
            {
                if (!status.Found) return null;
                return ExpiringValueFunctions.Split(ExpiringValueFunctions.Bytes(ref output), out expiresAt).ToArray();
            }
            finally
            {
                output.Memory?.Dispose();
            }
        }
    }

    /// <inheritdoc />
    public bool Contains(ReadOnlySpan<byte> key) => Read(key) is not null;

    internal void Upsert(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt = 0)
    {
        if (expiresAt != 0)
        {
            // FASTER stores the expiry as the value's extra metadata: 8 bytes before it, with a bit in its length.
            int length = sizeof(long) + value.Length;
            if (_value.Length < length) _value = new byte[Math.Max(length, _value.Length * 2)];
            value.CopyTo(_value.AsSpan(sizeof(long)));
            fixed (byte* v = _value)
            {
                var expiring = SpanByte.FromPointer(v, length);
                expiring.ExtraMetadata = expiresAt;
                Debug.Assert(expiring.MetadataSize == sizeof(long) && expiring.AsReadOnlySpan().SequenceEqual(value), "the expiry is metadata before the value");
                Upsert(key, ref expiring);
            }
            return;
        }
        fixed (byte* v = value)
        {
            var valueSpan = SpanByte.FromPointer(v, value.Length);
            Upsert(key, ref valueSpan);
        }
    }

    void Upsert(ReadOnlySpan<byte> key, ref SpanByte value)
    {
        fixed (byte* k = key)
        {
            var keySpan = SpanByte.FromPointer(k, key.Length);
            Status status = _session.Upsert(ref keySpan, ref value);
            if (status.IsPending) _session.CompletePending(wait: true);
        }
    }

    internal void Remove(ReadOnlySpan<byte> key)
    {
        fixed (byte* k = key)
        {
            var keySpan = SpanByte.FromPointer(k, key.Length);
            Status status = _session.Delete(ref keySpan);
            if (status.IsPending) _session.CompletePending(wait: true);
        }
    }

    long Log(LogOp op, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt)
    {
        var log = _store.Log;
        if (log is null) return -1;
        int length = LogRecord.Length(key.Length, value.Length, expiresAt);
        if (_record.Length < length) _record = new byte[Math.Max(length, _record.Length * 2)];
        LogRecord.Write(_record, op, key, value, expiresAt);
        return log.Append(_record.AsSpan(0, length));
    }

    /// <summary>
    /// True when the scanned record at <paramref name="address"/> holding <paramref name="value"/>
    /// and <paramref name="expiresAt"/> is <paramref name="key"/>'s newest and the key is not
    /// deleted. When the newest record is in memory the index's address decides. When it is on
    /// disk, FASTER 2.6.5 reports the address where its disk read started, not where it found the
    /// key, so values and expiries are compared: an older record with the very same value and
    /// expiry may then pass too, which loads the same value twice.
    /// </summary>
    internal bool IsLatest(ref SpanByte key, long address, ReadOnlySpan<byte> value, long expiresAt)
    {
        var input = default(SpanByte);
        var output = new SpanByteAndMemory();
        var options = default(ReadOptions);
        Status status = _session.Read(ref key, ref input, ref output, ref options, out RecordMetadata found);
        if (!status.IsPending)
        {
            output.Memory?.Dispose();
            return status.Found && found.Address == address;
        }
        _session.CompletePendingWithOutputs(out var outputs, wait: true);
        bool same = false;
        using (outputs)
        {
            while (outputs.Next())
            {
                ref var done = ref outputs.Current;
                if (done.Status.Found)
                {
                    var stored = ExpiringValueFunctions.Split(ExpiringValueFunctions.Bytes(ref done.Output), out long storedExpiry);
                    same = storedExpiry == expiresAt && stored.SequenceEqual(value);
                }
                done.Output.Memory?.Dispose();
            }
        }
        return same;
    }

    public void Dispose() => _session.Dispose();
}
