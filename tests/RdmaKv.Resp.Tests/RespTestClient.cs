using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RdmaKv.Resp.Tests;

/// <summary>
/// A bare RESP client for tests: sends raw bytes or commands and reads one reply at a time as
/// plain objects (string for simple strings, RespError, long, byte[] for bulk, null, List for
/// arrays and maps).
/// </summary>
sealed class RespTestClient : IDisposable
{
    readonly Socket _socket;
    readonly NetworkStream _stream;
    readonly BufferedStream _input;

    public RespTestClient(IPEndPoint at, TimeSpan? timeout = null)
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _socket.Connect(at);
        _socket.ReceiveTimeout = (int)(timeout ?? TimeSpan.FromSeconds(30)).TotalMilliseconds;
        _stream = new NetworkStream(_socket, ownsSocket: true);
        _input = new BufferedStream(_stream);
    }

    public sealed record RespError(string Text)
    {
        public override string ToString() => "-" + Text;
    }

    public static byte[] Encode(params string[] arguments)
    {
        var text = new StringBuilder().Append('*').Append(arguments.Length).Append("\r\n");
        foreach (string a in arguments) text.Append('$').Append(Encoding.UTF8.GetByteCount(a)).Append("\r\n").Append(a).Append("\r\n");
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    public void Send(byte[] bytes) => _stream.Write(bytes);

    /// <summary>Sends one command and reads its reply.</summary>
    public object? Call(params string[] arguments)
    {
        Send(Encode(arguments));
        return Read();
    }

    public object? Read()
    {
        string line = ReadLine();
        switch (line[0])
        {
            case '+': return line[1..];
            case '-': return new RespError(line[1..]);
            case ':': return long.Parse(line[1..]);
            case '_': return null;
            case '$':
                {
                    int length = int.Parse(line[1..]);
                    if (length < 0) return null;
                    var value = new byte[length + 2];
                    _input.ReadExactly(value);
                    return value[..length];
                }
            case '*':
            case '%':
                {
                    int count = int.Parse(line[1..]);
                    if (count < 0) return null;
                    if (line[0] == '%') count *= 2;
                    var items = new List<object?>();
                    for (int i = 0; i < count; i++) items.Add(Read());
                    return items;
                }
            default: throw new InvalidDataException($"not a RESP reply: {line}");
        }
    }

    /// <summary>True when the server closed the connection (end of stream) before sending more.</summary>
    public bool Closed()
    {
        try
        {
            return _input.ReadByte() < 0;
        }
        catch (IOException)
        {
            return true;
        }
    }

    string ReadLine()
    {
        var line = new StringBuilder();
        while (true)
        {
            int b = _input.ReadByte();
            if (b < 0) throw new EndOfStreamException($"the server closed the connection after '{line}'");
            if (b == '\n' && line.Length > 0 && line[^1] == '\r') return line.ToString(0, line.Length - 1);
            line.Append((char)b);
        }
    }

    public static string Text(object? reply) => reply switch
    {
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        null => "(nil)",
        _ => reply.ToString()!,
    };

    public void Dispose() => _stream.Dispose();
}
