using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RdmaKv.Transport.Ucx;

/// <summary>
/// The out-of-band handshake on a plain TCP socket that precedes every UCX connection: the node
/// checks the protocol version and the credential before any UCX object exists for the peer, and
/// only then are the two workers' addresses exchanged. No byte a peer sends here reaches UCX
/// except the worker address of a peer that was accepted. Every length is bounded and the whole
/// exchange has a deadline. Byte order is little-endian.
/// <code>
/// hello, client to node (HelloHeader bytes, then the credential):
///   0  4  magic "RKVH"
///   4  2  handshake version (Version)
///   6  2  credential length C, at most MaxCredential
///   8  4  the application's protocol version
///  12  C  credential
/// answer, node to client (AnswerHeader bytes, then the body):
///   0  1  verdict (UcxVerdict): 0 accepted, else the reason it was refused
///   1  4  body length L, at most MaxBody
///   5  L  accepted: the node's worker address; refused: the reason, UTF-8
/// address, client to node, only after an accepted answer:
///   0  4  length A, at most MaxBody
///   4  A  the client's worker address
/// ready, node to client: an answer with an empty body once the node's endpoint exists
/// </code>
/// </summary>
public static class UcxHandshake
{
    public const int HelloHeader = 12;
    public const int AnswerHeader = 5;
    public const ushort Version = 1;
    public const int MaxCredential = 1024;

    /// <summary>The largest worker address or reason either side accepts (a UCX worker address over every device is a few KiB).</summary>
    public const int MaxBody = 64 << 10;

    static ReadOnlySpan<byte> Magic => "RKVH"u8;

    /// <summary>
    /// The client's side: the credential first, then <paramref name="worker"/>'s address for the
    /// node's; returns the node's worker address once the node's endpoint exists. Throws
    /// <see cref="UcxRefusedException"/> when the node refuses, <see cref="IOException"/> when it
    /// cannot be reached or does not finish within the options' timeout.
    /// </summary>
    internal static async Task<byte[]> ConnectAsync(UcxWorker worker, IPEndPoint node, string name, UcxClientOptions options)
    {
        using var deadline = new CancellationTokenSource(options.Timeout);
        using var socket = new Socket(node.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(node, deadline.Token).ConfigureAwait(false);
            await socket.SendAsync(Hello(options.ProtocolVersion, Encoding.UTF8.GetBytes(options.Credential ?? "")), deadline.Token).ConfigureAwait(false);
            byte[] nodeAddress = await ReadAnswerAsync(socket, name, deadline.Token).ConfigureAwait(false);
            byte[] local = await worker.AddressAsync().WaitAsync(deadline.Token).ConfigureAwait(false);
            await socket.SendAsync(LengthPrefixed(local), deadline.Token).ConfigureAwait(false);
            await ReadAnswerAsync(socket, name, deadline.Token).ConfigureAwait(false); // ready: the node's endpoint exists
            return nodeAddress;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new IOException($"connecting to {name} timed out");
        }
        catch (Exception e) when (e is SocketException or EndOfStreamException or InvalidDataException)
        {
            throw new IOException($"cannot connect to {name}: {e.Message}", e);
        }
    }

    internal static byte[] Hello(int protocolVersion, ReadOnlySpan<byte> credential)
    {
        if (credential.Length > MaxCredential) throw new ArgumentException($"a credential may have at most {MaxCredential} bytes", nameof(credential));
        var hello = new byte[HelloHeader + credential.Length];
        Magic.CopyTo(hello);
        BinaryPrimitives.WriteUInt16LittleEndian(hello.AsSpan(4), Version);
        BinaryPrimitives.WriteUInt16LittleEndian(hello.AsSpan(6), (ushort)credential.Length);
        BinaryPrimitives.WriteInt32LittleEndian(hello.AsSpan(8), protocolVersion);
        credential.CopyTo(hello.AsSpan(HelloHeader));
        return hello;
    }

    /// <summary>Checks a hello's header: the credential length, or a refusal of a hello that is not one this node reads.</summary>
    internal static UcxRefusal? ReadHelloHeader(ReadOnlySpan<byte> header, out int protocolVersion, out int credentialLength)
    {
        protocolVersion = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        credentialLength = BinaryPrimitives.ReadUInt16LittleEndian(header[6..]);
        if (!header[..4].SequenceEqual(Magic))
            return new UcxRefusal(UcxVerdict.Malformed, "not an RdmaKv handshake: connect with an RdmaKv client (ucx://HOST:PORT)");
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(header[4..]);
        if (version != Version)
            return new UcxRefusal(UcxVerdict.WrongVersion, $"this node speaks handshake version {Version}, the client {version}");
        if (credentialLength > MaxCredential)
            return new UcxRefusal(UcxVerdict.Malformed, $"a credential of {credentialLength} bytes exceeds the {MaxCredential}-byte limit");
        return null;
    }

    internal static byte[] Answer(UcxVerdict verdict, ReadOnlySpan<byte> body)
    {
        var answer = new byte[AnswerHeader + body.Length];
        answer[0] = (byte)verdict;
        BinaryPrimitives.WriteInt32LittleEndian(answer.AsSpan(1), body.Length);
        body.CopyTo(answer.AsSpan(AnswerHeader));
        return answer;
    }

    internal static byte[] Refusal(UcxRefusal refusal)
    {
        string reason = refusal.Reason.Length > 1000 ? refusal.Reason[..1000] : refusal.Reason;
        return Answer(refusal.Verdict, Encoding.UTF8.GetBytes(reason));
    }

    internal static byte[] LengthPrefixed(ReadOnlySpan<byte> body)
    {
        var bytes = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, body.Length);
        body.CopyTo(bytes.AsSpan(4));
        return bytes;
    }

    /// <summary>Reads a 4-byte length and that many bytes, refusing a length over <see cref="MaxBody"/>.</summary>
    internal static async ValueTask<byte[]> ReadBodyAsync(Socket socket, int length, CancellationToken cancel)
    {
        if (length is < 0 or > MaxBody) throw new InvalidDataException($"a handshake body of {length} bytes exceeds the {MaxBody}-byte limit");
        var body = new byte[length];
        await ReadExactlyAsync(socket, body, cancel).ConfigureAwait(false);
        return body;
    }

    internal static async ValueTask<int> ReadLengthAsync(Socket socket, CancellationToken cancel)
    {
        var prefix = new byte[4];
        await ReadExactlyAsync(socket, prefix, cancel).ConfigureAwait(false);
        return BinaryPrimitives.ReadInt32LittleEndian(prefix);
    }

    /// <summary>Fills <paramref name="buffer"/>; throws <see cref="EndOfStreamException"/> when the peer hangs up first.</summary>
    internal static async ValueTask ReadExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancel)
    {
        while (!buffer.IsEmpty)
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, cancel).ConfigureAwait(false);
            if (n == 0) throw new EndOfStreamException("the peer closed the connection during the handshake");
            buffer = buffer[n..];
        }
    }

    /// <summary>Reads an answer: the body when accepted; throws <see cref="UcxRefusedException"/> when refused.</summary>
    internal static async ValueTask<byte[]> ReadAnswerAsync(Socket socket, string node, CancellationToken cancel)
    {
        var header = new byte[AnswerHeader];
        await ReadExactlyAsync(socket, header, cancel).ConfigureAwait(false);
        var verdict = (UcxVerdict)header[0];
        byte[] body = await ReadBodyAsync(socket, BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(1)), cancel).ConfigureAwait(false);
        if (verdict == UcxVerdict.Accepted) return body;
        throw new UcxRefusedException(verdict, $"{node} refused the connection: {Encoding.UTF8.GetString(body)}");
    }
}

/// <summary>What the node answers a handshake.</summary>
public enum UcxVerdict : byte
{
    Accepted = 0,
    WrongVersion = 1,
    Unauthorized = 2,
    Busy = 3,
    Malformed = 4,
    Failed = 5,
}

/// <summary>Why a node refuses a handshake, in words the client shows its user.</summary>
public sealed record UcxRefusal(UcxVerdict Verdict, string Reason);

/// <summary>A handshake's hello as the node's check sees it.</summary>
public readonly record struct UcxHandshakeRequest(string Peer, int ProtocolVersion, ReadOnlyMemory<byte> Credential);

/// <summary>The node refused the handshake; <see cref="Verdict"/> says why.</summary>
public sealed class UcxRefusedException(UcxVerdict verdict, string message) : IOException(message)
{
    public UcxVerdict Verdict { get; } = verdict;
}
