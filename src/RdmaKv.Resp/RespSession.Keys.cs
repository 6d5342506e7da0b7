using System.Buffers.Text;
using RdmaKv.Core;

namespace RdmaKv.Resp;

/// <summary>The key commands: every key is a string; RdmaKv has no other types and no expiry yet.</summary>
public sealed partial class RespSession
{
    const string NotInteger = "ERR value is not an integer or out of range";
    const string ExpiryUnsupported = "ERR RdmaKv does not support expiry yet";

    /// <summary>
    /// True when this node serves every key of the command (arguments <paramref name="first"/>,
    /// <paramref name="first"/> + <paramref name="step"/>, ...). Otherwise answers MOVED (all keys
    /// in one slot of another node) or CROSSSLOT, as Redis Cluster does, and returns false.
    /// </summary>
    bool Serves(RespCommand command, int first = 1, int step = 1)
    {
        if (store.SlotCount is null) return true;
        string? elsewhere = null;
        int movedSlot = -1;
        bool oneSlot = true;
        int firstSlot = -1;
        for (int i = first; i < command.Count; i += step)
        {
            string? host = store.Redirect(command[i], out int slot);
            if (firstSlot < 0) firstSlot = slot;
            else if (slot != firstSlot) oneSlot = false;
            if (host is not null && elsewhere is null)
            {
                elsewhere = host;
                movedSlot = slot;
            }
        }
        if (elsewhere is null) return true;
        if (oneSlot) Error($"MOVED {movedSlot} {elsewhere}:{port}");
        else Error("CROSSSLOT Keys in request don't hash to the same slot");
        return false;
    }

    internal void Get(RespCommand command)
    {
        if (!Serves(command)) return;
        var key = command[1];
        StoreStatus status = store.Get(key, out byte[]? value);
        if (status == StoreStatus.Ok) Hit(value!);
        else if (status == StoreStatus.NotFound) Miss();
        else StoreError(status, key);
    }

    void Hit(byte[] value)
    {
        Interlocked.Increment(ref counters.KeyspaceHits);
        Writer.Bulk(value);
    }

    void Miss()
    {
        Interlocked.Increment(ref counters.KeyspaceMisses);
        Writer.Null();
    }

    /// <summary>SET key value [NX|XX] [GET] [KEEPTTL]; EX, PX, EXAT and PXAT are refused (no expiry yet) and nothing is set.</summary>
    internal void Set(RespCommand command)
    {
        bool nx = false, xx = false, get = false;
        for (int i = 3; i < command.Count; i++)
        {
            if (command.Is(i, "NX")) nx = true;
            else if (command.Is(i, "XX")) xx = true;
            else if (command.Is(i, "GET")) get = true;
            else if (command.Is(i, "KEEPTTL")) continue; // no key has a TTL to keep
            else if (command.Is(i, "EX") || command.Is(i, "PX") || command.Is(i, "EXAT") || command.Is(i, "PXAT"))
            {
                Error($"{ExpiryUnsupported}: SET with {command.Text(i).ToUpperInvariant()} was refused and the key was not set");
                return;
            }
            else
            {
                Error("ERR syntax error");
                return;
            }
        }
        if (nx && xx)
        {
            Error("ERR syntax error");
            return;
        }
        if (!Serves(command, 1, command.Count)) return;
        var key = command[1];
        if (!nx && !xx && !get)
        {
            StoreStatus put = store.Put(key, command[2]);
            if (put == StoreStatus.Ok) Writer.Ok();
            else StoreError(put, key);
            return;
        }
        byte[] value = command.ToArray(2);
        bool written = false;
        StoreStatus status = store.Update(key, current =>
        {
            written = !(nx && current is not null) && !(xx && current is null);
            return (written, written ? value : null);
        }, out byte[]? previous);
        if (status != StoreStatus.Ok)
        {
            StoreError(status, key);
            return;
        }
        if (get)
        {
            if (previous is null) Writer.Null();
            else Writer.Bulk(previous);
        }
        else if (written) Writer.Ok();
        else Writer.Null();
    }

    /// <summary>SETNX key value: 1 when it set the key, 0 when the key was there.</summary>
    internal void SetNx(RespCommand command)
    {
        if (!Serves(command, 1, command.Count)) return;
        var key = command[1];
        byte[] value = command.ToArray(2);
        StoreStatus status = store.Update(key, current => (current is null, current is null ? value : null), out byte[]? previous);
        if (status != StoreStatus.Ok) StoreError(status, key);
        else Writer.Integer(previous is null ? 1 : 0);
    }

    internal void GetDel(RespCommand command)
    {
        if (!Serves(command)) return;
        var key = command[1];
        StoreStatus status = store.Update(key, current => (current is not null, null), out byte[]? previous);
        if (status is not (StoreStatus.Ok or StoreStatus.NotFound)) StoreError(status, key);
        else if (previous is null) Miss();
        else Hit(previous);
    }

    internal void Del(RespCommand command)
    {
        if (!Serves(command)) return;
        long deleted = 0;
        for (int i = 1; i < command.Count; i++)
        {
            StoreStatus status = store.Delete(command[i]);
            if (status == StoreStatus.Ok) deleted++;
            else if (status is not (StoreStatus.NotFound or StoreStatus.KeyEmpty or StoreStatus.KeyTooLong))
            {
                StoreError(status, command[i]);
                return;
            }
        }
        Writer.Integer(deleted);
    }

    /// <summary>Counts a key as often as it is named, as Redis does.</summary>
    internal void Exists(RespCommand command)
    {
        if (!Serves(command)) return;
        long found = 0;
        for (int i = 1; i < command.Count; i++)
            if (store.Get(command[i], out _) == StoreStatus.Ok) found++;
        Writer.Integer(found);
    }

    internal void MGet(RespCommand command)
    {
        if (!Serves(command)) return;
        Writer.ArrayHeader(command.Count - 1);
        for (int i = 1; i < command.Count; i++)
        {
            if (store.Get(command[i], out byte[]? value) == StoreStatus.Ok) Hit(value!);
            else Miss();
        }
    }

    /// <summary>
    /// Every pair is checked against the limits before any is applied; then the pairs are applied in
    /// order, each on its own (RdmaKv has no multi-key transaction): a failure names the pair, and
    /// the pairs before it stay.
    /// </summary>
    internal void MSet(RespCommand command)
    {
        if (command.Count % 2 == 0)
        {
            Error("ERR wrong number of arguments for 'mset' command");
            return;
        }
        for (int i = 1; i < command.Count; i += 2)
        {
            StoreStatus valid = StoreStatusText.Validate(command[i].Length, command[i + 1].Length);
            if (valid != StoreStatus.Ok)
            {
                Error($"ERR pair {(i - 1) / 2 + 1}: {StoreStatusText.Describe(valid)}; nothing was set");
                return;
            }
        }
        if (!Serves(command, 1, 2)) return;
        for (int i = 1; i < command.Count; i += 2)
        {
            StoreStatus status = store.Put(command[i], command[i + 1]);
            if (status != StoreStatus.Ok)
            {
                Error($"ERR pair {(i - 1) / 2 + 1} of {(command.Count - 1) / 2}: {StoreStatusText.Describe(status)}; the pairs before it were set");
                return;
            }
        }
        Writer.Ok();
    }

    /// <summary>INCR, DECR, INCRBY, DECRBY: read, add and write under the key's partition lock on its owner, so concurrent increments all count.</summary>
    internal void IncrementBy(RespCommand command, long? by, bool negate = false)
    {
        long delta;
        if (by is { } fixedDelta) delta = fixedDelta;
        else if (!TryParseInteger(command[2], out delta) || (negate && delta == long.MinValue))
        {
            Error(NotInteger);
            return;
        }
        if (negate) delta = -delta;
        if (!Serves(command, 1, command.Count)) return;
        var key = command[1];
        string? problem = null;
        long result = 0;
        StoreStatus status = store.Update(key, current =>
        {
            long value = 0;
            if (current is not null && !TryParseInteger(current, out value))
            {
                problem = NotInteger;
                return (false, null);
            }
            if ((delta > 0 && value > long.MaxValue - delta) || (delta < 0 && value < long.MinValue - delta))
            {
                problem = "ERR increment or decrement would overflow";
                return (false, null);
            }
            result = value + delta;
            return (true, System.Text.Encoding.ASCII.GetBytes(result.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }, out _);
        if (status != StoreStatus.Ok) StoreError(status, key);
        else if (problem is not null) Error(problem);
        else Writer.Integer(result);
    }

    /// <summary>A whole signed decimal 64-bit integer with no sign '+', spaces or leading zeros, as Redis takes.</summary>
    static bool TryParseInteger(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        if (text.Length is 0 or > 20 || text[0] == (byte)'+') return false;
        int digits = text[0] == (byte)'-' ? 1 : 0;
        if (text.Length > digits + 1 && text[digits] == (byte)'0') return false;
        return Utf8Parser.TryParse(text, out value, out int used) && used == text.Length;
    }

    /// <summary>EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, SETEX, PSETEX: refused, and nothing is changed.</summary>
    internal void NoExpiry(RespCommand command) =>
        Error($"{ExpiryUnsupported}: {command.Text(0).ToUpperInvariant()} was refused and nothing was changed");

    /// <summary>TTL and PTTL: -2 for a missing key, -1 for one that exists (no key has an expiry), as Redis answers a key without one.</summary>
    internal void Ttl(RespCommand command)
    {
        if (!Serves(command)) return;
        StoreStatus status = store.Get(command[1], out _);
        Writer.Integer(status == StoreStatus.Ok ? -1 : -2);
    }

    /// <summary>0: no key has an expiry to remove, which is Redis's answer for such a key.</summary>
    internal void Persist(RespCommand command)
    {
        if (!Serves(command)) return;
        Writer.Integer(0);
    }
}
