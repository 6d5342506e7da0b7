using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using RdmaKv.Client;
using RdmaKv.Protocol;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// A bounded fuzz of a real node process's local socket: random bytes, mutated requests, short and
/// oversized frames, and connections left half open. Afterwards the node is alive and still holds
/// what was stored before. <see cref="RawSocketTests"/> checks each bad input's exact answer;
/// this checks that no mix of them brings the node down.
/// </summary>
public sealed class LocalSocketFuzzTests : IDisposable
{
    const int Rounds = 2000;
    const int HeldOpenAtMost = 48;
    static readonly TimeSpan Budget = TimeSpan.FromSeconds(20);

    readonly string _name = TestNode.UniqueName();
    readonly string _data = TestNode.NewDataDirectory();
    readonly ServerProcess _server;
    readonly List<Socket> _held = [];
    readonly int _seed = Environment.TickCount;
    readonly Random _random;

    public LocalSocketFuzzTests()
    {
        _random = new Random(_seed);
        _server = ServerProcess.Start(_name, _data, "--listen", "none", "--admin-urls", "none");
        try
        {
            _server.WaitUntilUp();
        }
        catch
        {
            Dispose(); // xunit does not dispose a test class whose constructor threw
            throw;
        }
    }

    string SocketPath => Path.Combine(_server.SharedMemoryPath, "node.sock");

    Socket Open()
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { SendTimeout = (int)Binaries.Patience.TotalMilliseconds };
        socket.Connect(new UnixDomainSocketEndPoint(SocketPath));
        return socket;
    }

    byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        _random.NextBytes(bytes);
        return bytes;
    }

    static byte[] Frame(ReadOnlySpan<byte> payload)
    {
        var frame = new byte[4 + payload.Length];
        BinaryPrimitives.WriteInt32LittleEndian(frame, payload.Length);
        payload.CopyTo(frame.AsSpan(4));
        return frame;
    }

    static byte[] Encoded(Action<ArrayBufferWriter<byte>> encode)
    {
        var w = new ArrayBufferWriter<byte>();
        encode(w);
        return w.WrittenSpan.ToArray();
    }

    /// <summary>A well-formed client request (with its length prefix), for mutation.</summary>
    byte[] Request() => _random.Next(7) switch
    {
        0 => Encoded(w => MessageEncoder.Hello(w, 1, "fuzz", credential: null)),
        1 => Encoded(w => MessageEncoder.Put(w, 2, RandomBytes(_random.Next(1, 40)), RandomBytes(_random.Next(0, 300)))),
        2 => Encoded(w => MessageEncoder.KeyOnly(w, MessageType.Get, 3, RandomBytes(_random.Next(1, 40)))),
        3 => Encoded(w => MessageEncoder.MultiPut(w, 4, [(RandomBytes(8), RandomBytes(8)), (RandomBytes(3), [])])),
        4 => Encoded(w => MessageEncoder.Empty(w, MessageType.Regions, 5)),
        5 => Encoded(w => MessageEncoder.Empty(w, MessageType.Stats, 6)),
        _ => Encoded(w => MessageEncoder.ClientReport(w, 7, new Dictionary<string, long> { ["client_retries"] = _random.NextInt64() })),
    };

    /// <summary>The payload of a request with a few bytes flipped, cut short, or grown.</summary>
    byte[] MutatedPayload()
    {
        byte[] payload = Request()[4..];
        for (int flips = _random.Next(1, 4); flips > 0; flips--) payload[_random.Next(payload.Length)] = (byte)_random.Next(256);
        return _random.Next(4) switch
        {
            0 => payload[.._random.Next(payload.Length)],
            1 => [.. payload, .. RandomBytes(_random.Next(1, 64))],
            _ => payload,
        };
    }

    /// <summary>One hostile connection; returns it when it is to stay open, half-sent.</summary>
    Socket? Attack(int round)
    {
        var socket = Open();
        try
        {
            switch (round % 6)
            {
                case 0: // noise, from one byte to beyond the largest frame's header
                    socket.Send(RandomBytes(_random.Next(1, 64 << 10)));
                    break;
                case 1: // a length over the limit or negative, then noise
                    var prefix = new byte[4];
                    BinaryPrimitives.WriteInt32LittleEndian(prefix, _random.Next(2) == 0 ? _random.Next(Wire.MaxFrameLength + 1, int.MaxValue) : -_random.Next(1, int.MaxValue));
                    socket.Send([.. prefix, .. RandomBytes(_random.Next(0, 64))]);
                    break;
                case 2: // a frame cut short: the length promises more than ever comes
                    byte[] frame = Frame(RandomBytes(_random.Next(1, 4096)));
                    socket.Send(frame.AsSpan(0, _random.Next(1, frame.Length)));
                    socket.Shutdown(SocketShutdown.Send);
                    break;
                case 3: // mutated requests before any Hello
                    for (int i = _random.Next(1, 8); i > 0; i--) socket.Send(Frame(MutatedPayload()));
                    break;
                case 4: // a Hello, then mutated requests from a greeted client
                    socket.Send(Encoded(w => MessageEncoder.Hello(w, 1, "fuzz", credential: null)));
                    for (int i = _random.Next(1, 16); i > 0; i--) socket.Send(Frame(MutatedPayload()));
                    break;
                default: // half open: a few bytes of a frame, or nothing, and the connection kept
                    socket.Send(RandomBytes(_random.Next(0, 4)));
                    return socket;
            }
        }
        catch (SocketException)
        {
            // The node hung up on this connection first (an oversized frame): what it should do.
        }
        socket.Dispose();
        return null;
    }

    [Fact]
    public void TheNodeSurvivesRandomBytesBadFramesAndHalfOpenConnectionsAndKeepsWhatItStored()
    {
        using (var client = KvClient.Connect("local:" + _name)) client.Put("stored-before", "intact");
        var clock = Stopwatch.StartNew();
        int round = 0;
        for (; round < Rounds && clock.Elapsed < Budget; round++)
        {
            Assert.False(_server.Process.HasExited, $"the node exited during round {round} (seed {_seed}):\n{_server.Errors}");
            if (Attack(round) is { } held)
            {
                _held.Add(held);
                if (_held.Count > HeldOpenAtMost)
                {
                    _held[0].Dispose();
                    _held.RemoveAt(0);
                }
            }
        }

        // A client is served while the held connections are still open, and after they go.
        using (var during = KvClient.Connect("local:" + _name))
            Assert.Equal("intact"u8.ToArray(), during.Get("stored-before"));
        foreach (var s in _held) s.Dispose();
        _held.Clear();
        Assert.False(_server.Process.HasExited, $"the node exited after {round} rounds (seed {_seed}):\n{_server.Errors}");
        using var after = KvClient.Connect("local:" + _name);
        Assert.Equal("intact"u8.ToArray(), after.Get("stored-before"));
        after.Put("stored-after", "fine");
        Assert.Equal("fine"u8.ToArray(), after.Get("stored-after"));
        Assert.True(after.Stats()["bad_frames"] > 0, $"no frame reached the decoder as bad in {round} rounds (seed {_seed})");
        // Bad input is answered, never logged as a failure of the node.
        Assert.DoesNotContain(" fail:", _server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(" crit:", _server.Output, StringComparison.Ordinal);
        Assert.Equal("", _server.Errors);
    }

    public void Dispose()
    {
        foreach (var s in _held) s.Dispose();
        _server.Dispose();
        if (Directory.Exists(_data)) Directory.Delete(_data, recursive: true);
    }
}
