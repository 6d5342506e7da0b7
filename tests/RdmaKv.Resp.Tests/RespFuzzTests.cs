using System.Net.Sockets;
using System.Text;
using Xunit.Abstractions;
using static RdmaKv.Resp.Tests.RespTestClient;

namespace RdmaKv.Resp.Tests;

/// <summary>
/// Random and mutated frames against the gateway: each connection gets replies or a protocol
/// error and is closed, never hangs, and the node keeps serving RESP and KvClients afterwards.
/// </summary>
public sealed class RespFuzzTests(ITestOutputHelper output) : IDisposable
{
    readonly RespTestNode _node = new();

    static readonly string[][] Seeds =
    [
        ["SET", "fuzz", "value"], ["GET", "fuzz"], ["MSET", "a", "1", "b", "2"], ["MGET", "a", "b", "c"],
        ["INCRBY", "n", "7"], ["HELLO", "3"], ["DEL", "a", "b"], ["SET", "k", "v", "NX", "GET"], ["CLIENT", "SETNAME", "x"],
        ["INFO", "stats"], ["COMMAND", "DOCS"], ["EXISTS", "a"], ["GETDEL", "k"], ["PING"],
    ];

    byte[] Frame(Random random)
    {
        switch (random.Next(4))
        {
            case 0:
                return [.. Enumerable.Range(0, random.Next(1, 512)).Select(_ => (byte)random.Next(256))];
            case 1:
                {
                    // Valid commands with bytes flipped, inserted, removed, or the frame cut short.
                    var bytes = Seeds.OrderBy(_ => random.Next()).Take(random.Next(1, 4)).SelectMany(s => Encode(s)).ToList();
                    for (int m = random.Next(1, 6); m > 0 && bytes.Count > 0; m--)
                    {
                        int at = random.Next(bytes.Count);
                        switch (random.Next(4))
                        {
                            case 0: bytes[at] = (byte)random.Next(256); break;
                            case 1: bytes.Insert(at, (byte)"*$:\r\n-0123456789"[random.Next(16)]); break;
                            case 2: bytes.RemoveAt(at); break;
                            default: bytes.RemoveRange(at, bytes.Count - at); break;
                        }
                    }
                    return [.. bytes];
                }
            case 2:
                // Headers with hostile lengths and counts.
                return Encoding.ASCII.GetBytes(random.Next(6) switch
                {
                    0 => $"*{random.NextInt64()}\r\n",
                    1 => $"*1\r\n${random.Next(-5, int.MaxValue)}\r\n",
                    2 => $"*{random.Next(1, 100000)}\r\n" + string.Concat(Enumerable.Repeat("$1\r\nx\r\n", random.Next(50))),
                    3 => new string('*', random.Next(1, 200)),
                    4 => string.Concat(Enumerable.Repeat("*1\r\n", random.Next(1, 100))),
                    _ => new string('a', random.Next(60_000, 70_000)),
                });
            default:
                return Encoding.ASCII.GetBytes(string.Join(" ", Seeds[random.Next(Seeds.Length)]) + (random.Next(2) == 0 ? "\r\n" : "\n"));
        }
    }

    [Fact]
    public void RandomAndMutatedFramesNeverStopTheGatewayOrTheNode()
    {
        int seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        for (int i = 0; i < 300; i++)
        {
            byte[] frame = Frame(random);
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 30_000 };
            socket.Connect(_node.EndPoint);
            if (random.Next(2) == 0) socket.Send(Encode("AUTH", _node.Token));
            try
            {
                socket.Send(frame);
                socket.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
                // The gateway closed first (a protocol error early in the frame): it may.
            }
            // The gateway answers what it parsed and then closes: reading reaches the end.
            var buffer = new byte[64 * 1024];
            try
            {
                while (socket.Receive(buffer) > 0)
                {
                }
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
            }
            catch (SocketException e)
            {
                Assert.Fail($"frame {i} (seed {seed}): the gateway neither answered nor closed: {e.SocketErrorCode}; frame {Convert.ToHexString(frame.AsSpan(0, Math.Min(frame.Length, 200)))}");
            }
        }
        using (var c = _node.Connect())
        {
            Assert.Equal("PONG", c.Call("PING"));
            Assert.Equal("OK", c.Call("SET", "after-fuzz", "fine"));
            Assert.Equal("fine", Text(c.Call("GET", "after-fuzz")));
        }
        using var client = _node.Node.Connect();
        Assert.Equal("fine", Encoding.UTF8.GetString(client.Get("after-fuzz")!));
        client.Put("kv-after-fuzz", "also");
        Assert.Equal("also", Encoding.UTF8.GetString(client.Get("kv-after-fuzz")!));
        output.WriteLine($"protocol errors {_node.Gateway.Counters.ProtocolErrors}, commands {_node.Gateway.Counters.Commands}");
        Assert.True(_node.Gateway.Counters.ProtocolErrors > 0, "no frame was malformed: the fuzzer did not fuzz");
    }

    public void Dispose() => _node.Dispose();
}
