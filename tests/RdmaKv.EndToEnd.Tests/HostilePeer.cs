using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// A peer with no credential that sends what broke nodes before (issue 15), and what a node
/// process listens on, read from /proc.
/// </summary>
static class HostilePeer
{
    /// <summary>What each port of a node gets: 17 zero bytes, 1 MiB of zeros, 0xff×8 and random bytes, random chunks.</summary>
    public static IEnumerable<(string Name, byte[] Bytes)> Payloads(int seed)
    {
        var random = new Random(seed);
        yield return ("17 zero bytes", new byte[17]);
        yield return ("1 MiB of zeros", new byte[1 << 20]);
        var ff = new byte[8 + 4096];
        random.NextBytes(ff);
        ff.AsSpan(0, 8).Fill(0xff);
        yield return ("0xff x 8 and random bytes", ff);
        for (int i = 0; i < 16; i++)
        {
            var chunk = new byte[random.Next(1, 64 << 10)];
            random.NextBytes(chunk);
            yield return ($"random chunk {i} of {chunk.Length} bytes", chunk);
        }
    }

    /// <summary>
    /// Connects, sends <paramref name="bytes"/>, closes its side, and reads until the node hangs up
    /// or <paramref name="patience"/> ends. The send has the same patience: a listener that never
    /// reads (UCX's tcp transport may leave a connection in its accept queue) fills the socket's
    /// buffers, and a blocking send would wait for ever.
    /// </summary>
    /// <returns>True when the node hung up or reset the connection; false when the patience ran out first.</returns>
    public static bool SendAndDrain(IPEndPoint target, byte[] bytes, TimeSpan patience)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Connect(target);
        socket.ReceiveTimeout = (int)patience.TotalMilliseconds;
        socket.SendTimeout = (int)patience.TotalMilliseconds;
        try
        {
            socket.Send(bytes);
            socket.Shutdown(SocketShutdown.Send);
            var sink = new byte[4096];
            while (socket.Receive(sink) > 0)
            {
            }
            return true;
        }
        catch (SocketException e)
        {
            // The node hung up before it read everything or reset the connection, or kept it past the patience.
            return e.SocketErrorCode != SocketError.TimedOut;
        }
    }

    /// <summary>Connections that send <paramref name="prefix"/> (maybe nothing) and then nothing more.</summary>
    public static List<Socket> OpenHalfOpen(IPEndPoint target, int count, ReadOnlySpan<byte> prefix)
    {
        var sockets = new List<Socket>();
        for (int i = 0; i < count; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            sockets.Add(socket);
            socket.Connect(target);
            if (!prefix.IsEmpty) socket.Send(prefix);
        }
        return sockets;
    }

    /// <summary>Whether the node closed <paramref name="socket"/> (end of stream or reset) within <paramref name="patience"/>, whatever it sent first.</summary>
    public static bool ClosedByNode(Socket socket, TimeSpan patience)
    {
        socket.ReceiveTimeout = (int)patience.TotalMilliseconds;
        var sink = new byte[4096];
        try
        {
            while (socket.Receive(sink) > 0)
            {
            }
            return true;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode != SocketError.TimedOut;
        }
    }

    /// <summary>The TCP sockets process <paramref name="pid"/> listens on (IPv4 and IPv6), from /proc.</summary>
    public static List<IPEndPoint> ListeningSockets(int pid)
    {
        var inodes = new HashSet<string>();
        foreach (string fd in Directory.GetFiles($"/proc/{pid}/fd"))
        {
            try
            {
                if (File.ResolveLinkTarget(fd, returnFinalTarget: false)?.FullName is { } target && target.Contains("socket:[", StringComparison.Ordinal))
                    inodes.Add(target[(target.IndexOf('[') + 1)..target.IndexOf(']')]);
            }
            catch (IOException)
            {
                // closed meanwhile
            }
        }
        var listening = new List<IPEndPoint>();
        foreach (string table in new[] { "tcp", "tcp6" })
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/net/{table}").Skip(1))
            {
                string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length < 10 || f[3] != "0A" || !inodes.Contains(f[9])) continue; // 0A: LISTEN
                listening.Add(ParseEndPoint(f[1]));
            }
        }
        return listening;
    }

    /// <summary>"0100007F:1F90" (the address in the kernel's byte order, the port in hex) as 127.0.0.1:8080.</summary>
    static IPEndPoint ParseEndPoint(string text)
    {
        string[] parts = text.Split(':');
        byte[] address = Convert.FromHexString(parts[0]);
        // The kernel prints each 32-bit word of the address as a host-order (little-endian) number.
        for (int w = 0; w < address.Length; w += 4) Array.Reverse(address, w, 4);
        return new IPEndPoint(new IPAddress(address), int.Parse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
    }
}
