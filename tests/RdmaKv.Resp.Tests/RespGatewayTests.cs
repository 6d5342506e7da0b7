using System.Text;
using static RdmaKv.Resp.Tests.RespTestClient;

namespace RdmaKv.Resp.Tests;

/// <summary>The gateway's commands over a real node, through a bare RESP connection.</summary>
public sealed class RespGatewayTests : IDisposable
{
    readonly RespTestNode _node = new();

    static string ErrorText(object? reply) => Assert.IsType<RespError>(reply).Text;

    [Fact]
    public void EveryDataCommandBeforeAuthIsRefusedWithNoAuth()
    {
        using var client = new RespTestClient(_node.EndPoint);
        foreach (string[] command in new[] { ["GET", "k"], ["SET", "k", "v"], ["PING"], ["INFO"], ["DBSIZE"], new[] { "DEL", "k" } })
            Assert.Equal("NOAUTH Authentication required.", ErrorText(client.Call(command)));
        Assert.Equal("WRONGPASS invalid username-password pair or user is disabled.", ErrorText(client.Call("AUTH", "not-the-token")));
        Assert.Equal("WRONGPASS invalid username-password pair or user is disabled.", ErrorText(client.Call("AUTH", "someone", _node.Token)));
        Assert.Equal("NOAUTH Authentication required.", ErrorText(client.Call("GET", "k")));
        Assert.Equal("OK", client.Call("AUTH", "default", _node.Token));
        Assert.Null(client.Call("GET", "k"));
    }

    [Fact]
    public void HelloWithAuthSwitchesToResp3WhereNullIsUnderscore()
    {
        using var client = new RespTestClient(_node.EndPoint);
        Assert.StartsWith("NOAUTH HELLO must be called", ErrorText(client.Call("HELLO", "3")));
        Assert.Equal("NOPROTO unsupported protocol version", ErrorText(client.Call("HELLO", "4")));
        var hello = Assert.IsType<List<object?>>(client.Call("HELLO", "3", "AUTH", "default", _node.Token, "SETNAME", "tester"));
        Assert.Equal(3L, hello[Array.IndexOf([.. hello.Select(Text)], "proto") + 1]);
        client.Send(Encode("GET", "missing"));
        Assert.Null(client.Read()); // the test client reads "_" as null; the raw line is checked below
        client.Send("*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n"u8.ToArray());
        Assert.Null(client.Read());
        Assert.Equal("tester", Text(client.Call("CLIENT", "GETNAME")));
        using var raw = _node.Connect();
        raw.Send(Encode("HELLO", "3"));
        raw.Read();
        raw.Send(Encode("GET", "missing"));
        raw.Send(Encode("ECHO", "after"));
        Assert.Null(raw.Read());
        Assert.Equal("after", Text(raw.Read()));
    }

    [Fact]
    public void PipelinedCommandsInOneWriteAreAnsweredInOrder()
    {
        using var client = _node.Connect();
        var batch = new List<byte>();
        for (int i = 0; i < 200; i++) batch.AddRange(Encode("SET", $"p{i}", $"v{i}"));
        for (int i = 0; i < 200; i++) batch.AddRange(Encode("GET", $"p{i}"));
        batch.AddRange(Encode("INCR", "counter"));
        batch.AddRange(Encode("DBSIZE"));
        client.Send([.. batch]);
        for (int i = 0; i < 200; i++) Assert.Equal("OK", client.Read());
        for (int i = 0; i < 200; i++) Assert.Equal($"v{i}", Text(client.Read()));
        Assert.Equal(1L, client.Read());
        Assert.Equal(201L, client.Read());
    }

    [Fact]
    public void TheLargestValueGoesInAndComesBackWhole()
    {
        using var c = _node.Connect();
        string value = string.Concat(Enumerable.Range(0, Core.Limits.MaxValueLength / 8).Select(i => (i % 10_000_000).ToString("D8")));
        Assert.Equal("OK", c.Call("SET", "big", value));
        Assert.Equal(value, Text(c.Call("GET", "big")));
        Assert.Equal(value, Text(Assert.IsType<List<object?>>(c.Call("MGET", "big", "big"))[1]));
    }

    [Fact]
    public void SetOptionsNxXxAndGetBehaveAsInRedis()
    {
        using var c = _node.Connect();
        Assert.Null(c.Call("SET", "k", "1", "XX"));
        Assert.Null(c.Call("GET", "k"));
        Assert.Equal("OK", c.Call("SET", "k", "1", "NX"));
        Assert.Null(c.Call("SET", "k", "2", "NX"));
        Assert.Equal("1", Text(c.Call("SET", "k", "3", "XX", "GET")));
        Assert.Equal("3", Text(c.Call("GET", "k")));
        Assert.Equal("ERR syntax error", ErrorText(c.Call("SET", "k", "4", "NX", "XX")));
        Assert.Equal("ERR syntax error", ErrorText(c.Call("SET", "k", "4", "SOMETIMES")));
        Assert.Equal("3", Text(c.Call("GETDEL", "k")));
        Assert.Null(c.Call("GETDEL", "k"));
        Assert.Equal(0L, c.Call("EXISTS", "k"));
    }

    [Fact]
    public void ExpiryIsRefusedWithAClearErrorAndSetsNothing()
    {
        using var c = _node.Connect();
        Assert.Equal("ERR RdmaKv does not support expiry yet: SET with EX was refused and the key was not set", ErrorText(c.Call("SET", "e", "v", "EX", "10")));
        Assert.StartsWith("ERR RdmaKv does not support expiry yet", ErrorText(c.Call("SET", "e", "v", "px", "10")));
        Assert.Null(c.Call("GET", "e"));
        Assert.Equal(-2L, c.Call("TTL", "e"));
        Assert.Equal("OK", c.Call("SET", "e", "v"));
        Assert.StartsWith("ERR RdmaKv does not support expiry yet: EXPIRE", ErrorText(c.Call("EXPIRE", "e", "10")));
        Assert.StartsWith("ERR RdmaKv does not support expiry yet: PEXPIRE", ErrorText(c.Call("PEXPIRE", "e", "10")));
        Assert.Equal(-1L, c.Call("TTL", "e"));
        Assert.Equal(-1L, c.Call("PTTL", "e"));
        Assert.Equal(0L, c.Call("PERSIST", "e"));
    }

    [Fact]
    public void MultiKeyCommandsCountAndAnswerPerKey()
    {
        using var c = _node.Connect();
        Assert.Equal("OK", c.Call("MSET", "a", "1", "b", "2", "c", "3"));
        var values = Assert.IsType<List<object?>>(c.Call("MGET", "a", "nope", "c"));
        Assert.Equal(["1", "(nil)", "3"], values.Select(Text));
        Assert.Equal(3L, c.Call("EXISTS", "a", "a", "b"));
        Assert.Equal(2L, c.Call("DEL", "a", "b", "nope"));
        Assert.Equal(1L, c.Call("DBSIZE"));
        Assert.Equal("ERR wrong number of arguments for 'mset' command", ErrorText(c.Call("MSET", "a", "1", "b")));
        Assert.Equal("ERR pair 2: the key is longer than 1024 bytes; nothing was set", ErrorText(c.Call("MSET", "x", "1", new string('k', Core.Limits.MaxKeyLength + 1), "2")));
        Assert.Null(c.Call("GET", "x")); // nothing was set
    }

    [Fact]
    public void IncrementsParseAndCheckOverflowAsRedisDoes()
    {
        using var c = _node.Connect();
        Assert.Equal(1L, c.Call("INCR", "n"));
        Assert.Equal(11L, c.Call("INCRBY", "n", "10"));
        Assert.Equal(10L, c.Call("DECR", "n"));
        Assert.Equal(-5L, c.Call("DECRBY", "n", "15"));
        Assert.Equal("-5", Text(c.Call("GET", "n")));
        c.Call("SET", "text", "abc");
        Assert.Equal("ERR value is not an integer or out of range", ErrorText(c.Call("INCR", "text")));
        Assert.Equal("ERR value is not an integer or out of range", ErrorText(c.Call("INCRBY", "n", "1.5")));
        c.Call("SET", "big", long.MaxValue.ToString());
        Assert.Equal("ERR increment or decrement would overflow", ErrorText(c.Call("INCR", "big")));
        Assert.Equal(long.MaxValue.ToString(), Text(c.Call("GET", "big")));
    }

    [Fact]
    public void ConcurrentIncrementsFromManyConnectionsAllCount()
    {
        // Each connection pipelines its increments, so the gateway runs them back to back on
        // several threads at once: a read and write that were not atomic would lose some.
        const int threads = 4, each = 2000;
        byte[] batch = [.. Enumerable.Range(0, each).SelectMany(_ => Encode("INCR", "shared"))];
        var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
        {
            using var c = _node.Connect();
            c.Send(batch);
            for (int i = 0; i < each; i++) Assert.IsType<long>(c.Read());
        })).ToList();
        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());
        using var check = _node.Connect();
        Assert.Equal((threads * each).ToString(), Text(check.Call("GET", "shared")));
    }

    [Fact]
    public void ConnectionAndServerCommandsAnswerWhatClientsExpect()
    {
        using var c = _node.Connect();
        Assert.Equal("PONG", c.Call("PING"));
        Assert.Equal("hi", Text(c.Call("PING", "hi")));
        Assert.Equal("echo", Text(c.Call("ECHO", "echo")));
        Assert.Equal("OK", c.Call("SELECT", "0"));
        Assert.StartsWith("ERR DB index is out of range", ErrorText(c.Call("SELECT", "1")));
        Assert.Equal("OK", c.Call("CLIENT", "SETNAME", "me"));
        Assert.Equal("me", Text(c.Call("CLIENT", "GETNAME")));
        Assert.Equal("OK", c.Call("CLIENT", "SETINFO", "lib-name", "test"));
        Assert.IsType<long>(c.Call("CLIENT", "ID"));
        Assert.Empty(Assert.IsType<List<object?>>(c.Call("COMMAND")));
        Assert.Empty(Assert.IsType<List<object?>>(c.Call("COMMAND", "DOCS")));
        Assert.Empty(Assert.IsType<List<object?>>(c.Call("CONFIG", "GET", "databases")));
        Assert.True((long)c.Call("COMMAND", "COUNT")! >= 30);
        Assert.Equal("ERR unknown command 'FLUSHALL', with args beginning with: 'ASYNC' 'x' ", ErrorText(c.Call("FLUSHALL", "ASYNC", "x")));
        Assert.Equal("ERR wrong number of arguments for 'get' command", ErrorText(c.Call("GET")));
        Assert.Equal("ERR This instance has cluster support disabled", ErrorText(c.Call("CLUSTER", "SLOTS")));
        Assert.Equal("OK", c.Call("QUIT"));
        Assert.True(c.Closed());
    }

    [Fact]
    public void InfoHasRedisSectionsWithTheNodesCounters()
    {
        using var c = _node.Connect();
        c.Call("SET", "k", "v");
        c.Call("GET", "k");
        c.Call("GET", "nope");
        string info = Text(c.Call("INFO"));
        foreach (string line in new[] { "# Server", "redis_version:7.0.0", "# Clients", "connected_clients:1", "# Stats", "keyspace_hits:1", "keyspace_misses:1", "rdmakv_keys:1", "# Keyspace", "db0:keys=1,expires=0,avg_ttl=0" })
            Assert.Contains(line + "\r\n", info);
        string keyspace = Text(c.Call("INFO", "keyspace"));
        Assert.StartsWith("# Keyspace\r\n", keyspace);
        Assert.DoesNotContain("# Server", keyspace);
    }

    [Fact]
    public void AMalformedFrameGetsAProtocolErrorAndTheConnectionClosesWhileOthersGoOn()
    {
        using var other = _node.Connect();
        using var bad = _node.Connect();
        bad.Send(Encoding.ASCII.GetBytes("*1\r\n$99999999\r\n"));
        Assert.Equal("ERR Protocol error: invalid bulk length (0 to 1048576 bytes)", ErrorText(bad.Read()));
        Assert.True(bad.Closed());
        Assert.Equal("PONG", other.Call("PING"));
        Assert.Equal(1, _node.Gateway.Counters.ProtocolErrors);
    }

    public void Dispose() => _node.Dispose();
}
