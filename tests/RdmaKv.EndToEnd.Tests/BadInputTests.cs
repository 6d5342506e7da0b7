using System.Text;
using RdmaKv.Client;
using RdmaKv.Core;
using RdmaKv.Server;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>Requests the store must refuse, each with the right status and a message a person can act on; the store stays intact.</summary>
public abstract class BadInputTests : IDisposable
{
    readonly TestNode _node = new();
    readonly TestTransport _writes;
    readonly KvClient _client;

    protected BadInputTests(TestTransport writes)
    {
        _writes = writes;
        _client = TestNode.ConnectOrStop(_node, writes);
        _client.Put("kept", "intact");
    }

    static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    void AssertStoreIntact()
    {
        Assert.Equal(B("intact"), _client.Get("kept"));
        _client.Put("after", "still serving");
        Assert.Equal(B("still serving"), _client.Get("after"));
    }

    static void AssertRefused(StoreStatus expected, string messagePart, Action action)
    {
        var e = Assert.Throws<KvException>(action);
        Assert.Equal(expected, e.Status);
        Assert.Contains(messagePart, e.Message);
    }

    [Fact]
    public async Task EmptyKeyIsRefusedWithKeyEmpty()
    {
        AssertRefused(StoreStatus.KeyEmpty, "the key is empty", () => _client.Put([], B("v")));
        AssertRefused(StoreStatus.KeyEmpty, "the key is empty", () => _client.Get(""));
        AssertRefused(StoreStatus.KeyEmpty, "the key is empty", () => _client.TryGet([], new byte[8], out _));
        AssertRefused(StoreStatus.KeyEmpty, "the key is empty", () => _client.Delete(""));
        AssertRefused(StoreStatus.KeyEmpty, "the key is empty", () => _client.PutMany([(B("ok"), B("v")), ([], B("v"))]));
        var e = await Assert.ThrowsAsync<KvException>(async () => await _client.PutAsync(Array.Empty<byte>(), B("v")));
        Assert.Equal(StoreStatus.KeyEmpty, e.Status);

        Assert.Null(_client.Get("ok")); // PutMany checks every pair before it sends any
        AssertStoreIntact();
    }

    [Fact]
    public void KeyOverTheLimitIsRefusedWithKeyTooLong()
    {
        byte[] key = new byte[Limits.MaxKeyLength + 1];
        string limit = $"longer than {Limits.MaxKeyLength} bytes";

        AssertRefused(StoreStatus.KeyTooLong, limit, () => _client.Put(key, B("v")));
        AssertRefused(StoreStatus.KeyTooLong, limit, () => _client.Get(key));
        AssertRefused(StoreStatus.KeyTooLong, limit, () => _client.Delete(key));
        Assert.Equal(StoreStatus.KeyTooLong, _node.Node.Put(key, B("v"))); // the node checks too

        AssertStoreIntact();
    }

    [Fact]
    public async Task ValueOverTheLimitIsRefusedWithValueTooLong()
    {
        byte[] value = new byte[Limits.MaxValueLength + 1];
        string limit = $"longer than {Limits.MaxValueLength} bytes";

        AssertRefused(StoreStatus.ValueTooLong, limit, () => _client.Put(B("big"), value));
        AssertRefused(StoreStatus.ValueTooLong, limit, () => _client.PutMany([(B("big"), value)]));
        var e = await Assert.ThrowsAsync<KvException>(async () => await _client.PutAsync(B("big"), value));
        Assert.Equal(StoreStatus.ValueTooLong, e.Status);
        Assert.Equal(StoreStatus.ValueTooLong, _node.Node.Put(B("big"), value));

        Assert.Null(_client.Get("big"));
        AssertStoreIntact();
    }

    [Fact]
    public void FullRegionRefusesPutsWithRegionFullAndKeepsEveryEarlierKey()
    {
        using var small = new TestNode(o => o with { Partitions = 1, MemoryBytes = 3L << 20, ColdTier = false });
        using var client = small.Connect(_writes);
        byte[] value = new byte[64 << 10];
        var stored = new List<int>();

        KvException? full = null;
        for (int i = 0; i < 100 && full is null; i++)
        {
            value[0] = (byte)i;
            try
            {
                client.Put(B($"k{i}"), value);
                stored.Add(i);
            }
            catch (KvException e)
            {
                full = e;
            }
        }

        Assert.NotNull(full);
        Assert.Equal(StoreStatus.RegionFull, full.Status);
        Assert.Contains("--memory", full.Message);
        Assert.True(stored.Count >= 10, $"only {stored.Count} values of 64 KiB fit in 3 MiB");
        foreach (int i in stored) Assert.Equal((byte)i, client.Get(B($"k{i}"))![0]);
        Assert.True(small.Stat("errors") >= 1);

        // Freeing room lets puts succeed again: the node kept serving.
        Assert.True(client.Delete(B($"k{stored[0]}")));
        Assert.True(client.Delete(B($"k{stored[1]}")));
        client.Put(B("small"), B("fits"));
        Assert.Equal(B("fits"), client.Get("small"));
        Assert.Equal(stored.Count - 1, small.Stat("keys"));
        small.StopAndCheckRemoved();
    }

    [Fact]
    public void ConnectingToANameNobodyRunsSaysNoNodeOfThatNameRuns()
    {
        string name = TestNode.UniqueName();

        var e = Assert.Throws<KvConnectionException>(() => KvClient.Connect("local:" + name));

        Assert.Contains($"no node named '{name}' is running", e.Message);
    }

    [Fact]
    public void UnknownAddressSchemeIsRefusedWithTheFormItExpects()
    {
        var e = Assert.Throws<ArgumentException>(() => KvClient.Connect("tcp://somewhere:1234"));

        Assert.Contains("local:NAME", e.Message);
    }

    [Fact]
    public void StartingASecondNodeWithTheSameNameFailsNamingItAndTheFirstKeepsServing()
    {
        var e = Assert.Throws<NodeStartException>(() => new TestNode(name: _node.Name));

        Assert.Equal("node", e.Stage);
        Assert.IsType<InvalidOperationException>(e.InnerException);
        Assert.Contains($"'{_node.Name}'", e.Message);
        Assert.Contains("already running", e.Message);
        AssertStoreIntact();
        using var second = _node.Connect(_writes);
        Assert.Equal(B("intact"), second.Get("kept"));
    }

    public void Dispose()
    {
        _client.Dispose();
        _node.Dispose();
    }
}

public sealed class BadInputOverMailboxTests() : BadInputTests(TestTransport.Mailbox);

public sealed class BadInputOverSocketTests() : BadInputTests(TestTransport.Socket);

public sealed class BadInputOverUcxTests() : BadInputTests(TestTransport.Ucx);
