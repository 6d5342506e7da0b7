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
    readonly ClientSession<SpanByte, SpanByte, SpanByte, SpanByteAndMemory, Empty, SpanByteFunctions<Empty>> _session;
    byte[] _record = new byte[4096];

    internal StoreSession(DurableStore store, FasterKV<SpanByte, SpanByte> kv)
    {
        _store = store;
        _session = kv.For(new SpanByteFunctions<Empty>()).NewSession<SpanByteFunctions<Empty>>();
    }

    /// <summary>Logs and applies a put; returns the log address to wait on in sync mode (-1 without a log).</summary>
    public long Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        long address = Log(LogOp.Put, key, value);
        Upsert(key, value);
        return address;
    }

    /// <summary>Logs and applies a delete; returns the log address to wait on in sync mode (-1 without a log).</summary>
    public long Delete(ReadOnlySpan<byte> key)
    {
        long address = Log(LogOp.Delete, key, default);
        Remove(key);
        return address;
    }

    /// <summary>The stored value of <paramref name="key"/> (from memory or disk), or null.</summary>
    public byte[]? Read(ReadOnlySpan<byte> key)
    {
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
                return output.IsSpanByte ? output.SpanByte.AsReadOnlySpan().ToArray() : output.Memory.Memory.Span[..output.Length].ToArray();
            }
            finally
            {
                output.Memory?.Dispose();
            }
        }
    }

    /// <inheritdoc />
    public bool Contains(ReadOnlySpan<byte> key) => Read(key) is not null;

    internal void Upsert(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        fixed (byte* k = key, v = value)
        {
            var keySpan = SpanByte.FromPointer(k, key.Length);
            var valueSpan = SpanByte.FromPointer(v, value.Length);
            Status status = _session.Upsert(ref keySpan, ref valueSpan);
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

    long Log(LogOp op, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        var log = _store.Log;
        if (log is null) return -1;
        int length = LogRecord.Length(key.Length, value.Length);
        if (_record.Length < length) _record = new byte[Math.Max(length, _record.Length * 2)];
        LogRecord.Write(_record, op, key, value);
        return log.Append(_record.AsSpan(0, length));
    }

    /// <summary>
    /// True when the scanned record at <paramref name="address"/> holding <paramref name="value"/>
    /// is <paramref name="key"/>'s newest and the key is not deleted. When the newest record is in
    /// memory the index's address decides. When it is on disk, FASTER 2.6.5 reports the address
    /// where its disk read started, not where it found the key, so the values are compared: an
    /// older record with the very same value may then pass too, which loads the same value twice.
    /// </summary>
    internal bool IsLatest(ref SpanByte key, long address, ReadOnlySpan<byte> value)
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
                    var stored = done.Output.IsSpanByte ? done.Output.SpanByte.AsReadOnlySpan() : done.Output.Memory.Memory.Span[..done.Output.Length];
                    same = stored.SequenceEqual(value);
                }
                done.Output.Memory?.Dispose();
            }
        }
        return same;
    }

    public void Dispose() => _session.Dispose();
}
