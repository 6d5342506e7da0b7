using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace RdmaKv.Resp;

/// <summary>
/// Writes replies into a connection's output buffer, in RESP2 or RESP3 as the connection
/// negotiated with HELLO: the two differ here only in null ("$-1" / "_") and maps (a flat array of
/// pairs / "%").
/// </summary>
public sealed class RespWriter(IBufferWriter<byte> output)
{
    /// <summary>2 or 3: the protocol the connection speaks (HELLO changes it).</summary>
    public int Protocol { get; set; } = 2;

    public void SimpleString(string text) => Line((byte)'+', text);

    public void Ok() => Raw("+OK\r\n"u8);

    /// <summary>An error reply; <paramref name="text"/> starts with its code (ERR, NOAUTH, MOVED, ...). Line breaks become spaces.</summary>
    public void Error(string text) => Line((byte)'-', text);

    public void Integer(long value)
    {
        var span = output.GetSpan(24);
        span[0] = (byte)':';
        Utf8Formatter.TryFormat(value, span[1..], out int written);
        span[1 + written] = (byte)'\r';
        span[2 + written] = (byte)'\n';
        output.Advance(3 + written);
    }

    public void Bulk(ReadOnlySpan<byte> value)
    {
        Header((byte)'$', value.Length);
        var span = output.GetSpan(value.Length + 2);
        value.CopyTo(span);
        span[value.Length] = (byte)'\r';
        span[value.Length + 1] = (byte)'\n';
        output.Advance(value.Length + 2);
    }

    public void Bulk(string text) => Bulk(Encoding.UTF8.GetBytes(text));

    /// <summary>A missing value: a null bulk string in RESP2, RESP3's null.</summary>
    public void Null() => Raw(Protocol == 3 ? "_\r\n"u8 : "$-1\r\n"u8);

    public void ArrayHeader(int count) => Header((byte)'*', count);

    /// <summary>A map of <paramref name="pairs"/> entries: RESP3's map, in RESP2 a flat array of keys and values.</summary>
    public void MapHeader(int pairs)
    {
        if (Protocol == 3) Header((byte)'%', pairs);
        else Header((byte)'*', 2 * pairs);
    }

    void Header(byte marker, long count)
    {
        var span = output.GetSpan(24);
        span[0] = marker;
        Utf8Formatter.TryFormat(count, span[1..], out int written);
        span[1 + written] = (byte)'\r';
        span[2 + written] = (byte)'\n';
        output.Advance(3 + written);
    }

    void Line(byte marker, string text)
    {
        int length = Encoding.UTF8.GetByteCount(text);
        var span = output.GetSpan(length + 3);
        span[0] = marker;
        Encoding.UTF8.GetBytes(text, span[1..]);
        for (int i = 1; i <= length; i++)
            if (span[i] is (byte)'\r' or (byte)'\n') span[i] = (byte)' ';
        span[1 + length] = (byte)'\r';
        span[2 + length] = (byte)'\n';
        output.Advance(length + 3);
    }

    void Raw(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }
}
