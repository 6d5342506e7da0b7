using System.Buffers;
using System.Buffers.Text;

namespace RdmaKv.Resp;

/// <summary>
/// Reads client commands from a connection's buffered bytes: RESP arrays of bulk strings (what
/// every client library sends) and inline commands (a line of words, as typed into telnet).
/// A command is a flat array, as Redis requires, so nesting never goes deeper than one level.
/// Every length is checked against <see cref="RespLimits"/> before anything waits for its bytes;
/// a frame that breaks the protocol or a limit throws <see cref="RespProtocolException"/>, after
/// which the stream cannot be resynchronized and the connection closes.
/// </summary>
public sealed class RespParser(RespLimits limits)
{
    public RespParser() : this(RespLimits.Default)
    {
    }

    public RespLimits Limits { get; } = limits;

    /// <summary>
    /// True with the next command in <paramref name="command"/> and <paramref name="buffer"/> sliced
    /// past it; false when the buffer does not hold a whole command yet (nothing is consumed).
    /// A command may have no arguments (an empty line, "*0"): the caller skips it.
    /// </summary>
    public bool TryRead(ref ReadOnlySequence<byte> buffer, RespCommand command)
    {
        command.Clear();
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryPeek(out byte first)) return false;
        bool complete = first == (byte)'*' ? TryReadArray(ref reader, command) : TryReadInline(ref reader, command);
        if (!complete)
        {
            command.Clear();
            return false;
        }
        buffer = buffer.Slice(reader.Position);
        return true;
    }

    bool TryReadArray(ref SequenceReader<byte> reader, RespCommand command)
    {
        reader.Advance(1);
        if (!TryReadNumber(ref reader, "multibulk", out long count)) return false;
        if (count > Limits.MaxArguments) throw new RespProtocolException($"invalid multibulk length (more than {Limits.MaxArguments} arguments)");
        long total = 0;
        for (long i = 0; i < count; i++)
        {
            if (!reader.TryRead(out byte marker)) return false;
            if (marker != (byte)'$') throw new RespProtocolException($"expected '$', got '{Printable(marker)}'");
            if (!TryReadNumber(ref reader, "bulk", out long length)) return false;
            if (length < 0 || length > Limits.MaxBulkLength) throw new RespProtocolException($"invalid bulk length (0 to {Limits.MaxBulkLength} bytes)");
            total += length;
            if (total > Limits.MaxCommandBytes) throw new RespProtocolException($"the command is larger than {Limits.MaxCommandBytes} bytes");
            if (reader.Remaining < length + 2) return false;
            var start = reader.Position;
            reader.Advance(length);
            command.Add(reader.Sequence.Slice(start, reader.Position));
            if (!reader.IsNext("\r\n"u8, advancePast: true)) throw new RespProtocolException("expected CRLF after a bulk string");
        }
        return true;
    }

    /// <summary>The digits of a "*N" or "$N" line up to its CRLF; a negative count means an empty command, as in Redis.</summary>
    bool TryReadNumber(ref SequenceReader<byte> reader, string what, out long value)
    {
        value = 0;
        if (!reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
        {
            if (reader.Remaining > RespLimits.MaxHeaderLength) throw new RespProtocolException($"too big {what} count string");
            return false;
        }
        if (line.Length > RespLimits.MaxHeaderLength) throw new RespProtocolException($"too big {what} count string");
        Span<byte> digits = stackalloc byte[RespLimits.MaxHeaderLength];
        line.CopyTo(digits);
        var text = digits[..(int)line.Length];
        if (text.Length == 0 || text[^1] != (byte)'\r' || !Utf8Parser.TryParse(text[..^1], out value, out int used) || used != text.Length - 1)
            throw new RespProtocolException($"invalid {what} length");
        if (what == "multibulk" && value < 0) value = 0;
        return true;
    }

    bool TryReadInline(ref SequenceReader<byte> reader, RespCommand command)
    {
        if (!reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
        {
            if (reader.Remaining > Limits.MaxInlineLength) throw new RespProtocolException("too big inline request");
            return false;
        }
        if (line.Length > Limits.MaxInlineLength) throw new RespProtocolException("too big inline request");
        var words = new SequenceReader<byte>(line);
        while (!words.End)
        {
            words.AdvancePastAny((byte)' ', (byte)'\t', (byte)'\r');
            if (words.End) break;
            var start = words.Position;
            if (!words.TryAdvanceToAny(" \t\r"u8, advancePastDelimiter: false)) words.AdvanceToEnd();
            command.Add(line.Slice(start, words.Position));
        }
        return true;
    }

    static string Printable(byte b) => b is >= 0x20 and < 0x7f ? ((char)b).ToString() : $"\\x{b:x2}";
}
