using StackExchange.Redis;

namespace RdmaKv.Resp.Tests;

/// <summary>StackExchange.Redis, the common .NET Redis client, against a node's gateway in RESP2 and RESP3.</summary>
public sealed class StackExchangeRedisTests : IDisposable
{
    readonly RespTestNode _node = new();

    ConnectionMultiplexer Connect(RedisProtocol protocol)
    {
        var options = new ConfigurationOptions
        {
            EndPoints = { _node.EndPoint },
            Password = _node.Token,
            Protocol = protocol,
            AbortOnConnectFail = true,
            ConnectTimeout = 30_000,
            SyncTimeout = 30_000,
            AsyncTimeout = 30_000,
        };
        var log = new StringWriter();
        try
        {
            return ConnectionMultiplexer.Connect(options, log);
        }
        catch (RedisConnectionException e)
        {
            throw new InvalidOperationException($"{e.Message}\n{log}", e);
        }
    }

    [Theory]
    [InlineData(RedisProtocol.Resp2)]
    [InlineData(RedisProtocol.Resp3)]
    public void StringsCanBeSetReadIncrementedAndDeleted(RedisProtocol protocol)
    {
        using var redis = Connect(protocol);
        var db = redis.GetDatabase();
        Assert.True(db.StringSet("se:key", "value"));
        Assert.Equal("value", db.StringGet("se:key"));
        Assert.False(db.StringSet("se:key", "other", when: When.NotExists));
        Assert.Equal(1, db.StringIncrement("se:n"));
        Assert.Equal(11, db.StringIncrement("se:n", 10));
        Assert.Equal(10, db.StringDecrement("se:n"));
        Assert.True(db.KeyDelete("se:key"));
        Assert.False(db.KeyDelete("se:key"));
        Assert.True(db.StringGet("se:key").IsNull);
        Assert.True(db.KeyExists("se:n"));
        Assert.True(db.Ping() >= TimeSpan.Zero);
    }

    [Fact]
    public async Task APipelinedBatchIsAnsweredInFull()
    {
        using var redis = Connect(RedisProtocol.Resp2);
        var db = redis.GetDatabase();
        var batch = db.CreateBatch();
        var sets = Enumerable.Range(0, 500).Select(i => batch.StringSetAsync($"batch:{i}", $"v{i}")).ToList();
        var gets = Enumerable.Range(0, 500).Select(i => batch.StringGetAsync($"batch:{i}")).ToList();
        var incr = batch.StringIncrementAsync("batch:count", 500);
        batch.Execute();
        Assert.All(await Task.WhenAll(sets).WaitAsync(TimeSpan.FromMinutes(1)), Assert.True);
        var values = await Task.WhenAll(gets).WaitAsync(TimeSpan.FromMinutes(1));
        for (int i = 0; i < 500; i++) Assert.Equal($"v{i}", values[i]);
        Assert.Equal(500, await incr.WaitAsync(TimeSpan.FromMinutes(1)));
        var many = db.StringGet([.. Enumerable.Range(0, 500).Select(i => (RedisKey)$"batch:{i}")]);
        Assert.Equal(500, many.Count(v => v.HasValue));
    }

    [Fact]
    public void AnExpiryIsRefusedAsAnErrorTheClientSees()
    {
        using var redis = Connect(RedisProtocol.Resp2);
        var db = redis.GetDatabase();
        var e = Assert.Throws<RedisServerException>(() => db.StringSet("se:ttl", "v", TimeSpan.FromSeconds(10)));
        Assert.Contains("does not support expiry", e.Message);
        Assert.True(db.StringGet("se:ttl").IsNull);
    }

    public void Dispose() => _node.Dispose();
}
