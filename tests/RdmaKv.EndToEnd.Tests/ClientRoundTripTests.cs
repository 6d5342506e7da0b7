using System.Text;
using RdmaKv.Client;
using RdmaKv.Core;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>A node in this process and a client mapping its regions: every public operation, end to end, over each write path.</summary>
public abstract class ClientRoundTripTests : IDisposable
{
    readonly TestNode _node = new();
    readonly TestTransport _writes;
    readonly KvClient _client;

    protected ClientRoundTripTests(TestTransport writes)
    {
        _writes = writes;
        _client = TestNode.ConnectOrStop(_node, writes);
    }

    static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public void PutGetOverwriteAndDeleteAreSeenByTheNextGet()
    {
        Assert.Equal(_node.Name, _client.NodeName);
        Assert.Null(_client.Get("k"));

        _client.Put("k", "first");
        Assert.Equal(B("first"), _client.Get("k"));

        _client.Put("k", "second, and longer than the first");
        Assert.Equal(B("second, and longer than the first"), _client.Get("k"));

        Assert.True(_client.Delete("k"));
        Assert.Null(_client.Get("k"));
        Assert.False(_client.Delete("k"));

        _client.Put("k", "back");
        Assert.Equal(B("back"), _client.Get("k"));
    }

    [Fact]
    public void EmptyValueIsStoredAndDiffersFromAnAbsentKey()
    {
        _client.Put(B("empty"), []);

        byte[]? value = _client.Get("empty");
        Assert.NotNull(value);
        Assert.Empty(value);
        Assert.True(_client.TryGet(B("empty"), [], out int length));
        Assert.Equal(0, length);
        Assert.Null(_client.Get("absent"));
    }

    [Fact]
    public void TryGetCopiesTheValueIntoTheCallersBuffer()
    {
        _client.Put("k", "twelve bytes");
        Span<byte> buffer = stackalloc byte[64];

        Assert.True(_client.TryGet(B("k"), buffer, out int length));
        Assert.Equal("twelve bytes", Encoding.UTF8.GetString(buffer[..length]));

        Assert.False(_client.TryGet(B("absent"), buffer, out length));
        Assert.Equal(0, length);
    }

    [Fact]
    public void TryGetIntoATooSmallBufferThrowsAndSaysHowLargeTheValueIs()
    {
        _client.Put("k", "twelve bytes");

        var e = Assert.Throws<ArgumentException>(() => _client.TryGet(B("k"), new byte[11], out _));

        Assert.Equal("destination", e.ParamName);
        Assert.Contains("12 bytes", e.Message);
        Assert.Contains("holds 11", e.Message);
    }

    [Fact]
    public void MultiGetReturnsValuesInOrderWithNullForAbsentKeys()
    {
        _client.Put("a", "1");
        _client.Put("c", "3");

        var values = _client.MultiGet([B("a"), B("b"), B("c"), B("a")]);

        Assert.Equal([B("1"), null, B("3"), B("1")], values);
    }

    [Fact]
    public void MultiGetOfManyKeysFollowsOverwritesDeletesLargeValuesAndNewGenerations()
    {
        const int n = 300;
        byte[] Value(int i, int version) => Encoding.UTF8.GetBytes($"{i}:{version}:" + new string('v', i % 7 == 0 ? 200_000 : i % 50));
        for (int i = 0; i < n; i++) if (i % 3 != 0) _client.Put(B($"m{i}"), Value(i, 1));
        var keys = Enumerable.Range(0, n).Select(i => B($"m{i}")).ToList();
        var first = _client.MultiGet(keys); // fills the location cache
        for (int i = 0; i < n; i++) Assert.Equal(i % 3 != 0 ? Value(i, 1) : null, first[i]);

        for (int i = 0; i < n; i += 2) _client.Put(B($"m{i}"), Value(i, 2));  // cached locations go stale
        for (int i = 1; i < n; i += 10) _client.Delete(B($"m{i}"));
        foreach (var p in _node.Node.Partitions) lock (p.Lock) p.Writer.Grow(); // a new generation everywhere

        var second = _client.MultiGet(keys);
        for (int i = 0; i < n; i++)
        {
            byte[]? expected = i % 10 == 1 ? null : i % 2 == 0 ? Value(i, 2) : i % 3 != 0 ? Value(i, 1) : null;
            Assert.True(expected is null ? second[i] is null : second[i] is not null && second[i]!.AsSpan().SequenceEqual(expected),
                $"key m{i}: expected {(expected is null ? "absent" : $"{expected.Length} bytes")}, got {(second[i] is null ? "absent" : $"{second[i]!.Length} bytes")}");
        }
    }

    [Fact]
    public void ClientsReportTheirOneSidedReadsSoTheNodeCanCountThem()
    {
        _client.Put("reported", "value");
        _client.ReportNow(); // start from a clean slate for this thread
        var before = _node.Node.Stats();
        var readsBefore = KvClient.ThreadReads;
        for (int i = 0; i < 500; i++) Assert.NotNull(_client.Get("reported"));
        for (int i = 0; i < 100; i++) Assert.Null(_client.Get($"absent-{i}"));
        _client.ReportNow();

        var after = _node.Node.Stats();
        var reads = KvClient.ThreadReads - readsBefore;
        Assert.Equal(600, reads.Lookups);
        Assert.Equal(reads.Lookups, after["client_lookups"] - before["client_lookups"]);
        Assert.Equal(reads.Fallbacks, (after["client_lookups"] - after["client_one_sided_gets"]) - (before["client_lookups"] - before["client_one_sided_gets"]));
        Assert.True(after["client_cache_hits"] - before["client_cache_hits"] >= 499, "repeated GETs of one key did not hit the location cache");
        Assert.Equal(before["fallback_gets"], after["fallback_gets"]); // every GET above was one-sided
    }

    [Fact]
    public void PutManyStoresEveryPairInOneMessage()
    {
        var pairs = Enumerable.Range(0, 500).Select(i => (B($"key-{i}"), Pattern(i % 300, i))).ToList();
        long multiPuts = _node.Stat("multi_puts");

        _client.PutMany(pairs);

        Assert.Equal(multiPuts + 1, _node.Stat("multi_puts"));
        foreach (var (key, value) in pairs) Assert.Equal(value, _client.Get(key));
        Assert.Equal(500, _node.Stat("keys"));
    }

    [Fact]
    public void PutManyLargerThanOneMessageIsSentInBatchesAndStoresEveryPair()
    {
        // 12 values of 300 KB: three and a half times what one message may carry.
        var pairs = Enumerable.Range(0, 12).Select(i => (B($"big-{i}"), Pattern(300_000 + i, i))).ToList();
        long multiPuts = _node.Stat("multi_puts");

        _client.PutMany(pairs);

        Assert.InRange(_node.Stat("multi_puts") - multiPuts, 4, 12);
        foreach (var (key, value) in pairs) Assert.Equal(value, _client.Get(key));
    }

    [Fact]
    public async Task AsyncOperationsBehaveLikeTheSynchronousOnes()
    {
        await _client.PutAsync(B("k"), B("v1"));
        Assert.Equal(B("v1"), await _client.GetAsync(B("k")));

        await _client.PutAsync(B("k"), B("v2"));
        await _client.PutAsync(B("other"), B("o"));
        Assert.Equal([B("v2"), null, B("o")], await _client.MultiGetAsync([B("k"), B("nope"), B("other")]));

        Assert.True(await _client.DeleteAsync(B("k")));
        Assert.False(await _client.DeleteAsync(B("k")));
        Assert.Null(await _client.GetAsync(B("k")));

        // Synchronous and asynchronous calls share one connection; they must not confuse replies.
        _client.Put("sync", "s");
        Assert.Equal(B("s"), await _client.GetAsync(B("sync")));
        await Assert.ThrowsAsync<TaskCanceledException>(async () => await _client.GetAsync(B("sync"), new CancellationToken(canceled: true)));
    }

    [Fact]
    public void ValueOfExactlyTheLargestAllowedLengthRoundTrips()
    {
        byte[] key = Pattern(Limits.MaxKeyLength, 1);
        byte[] value = Pattern(Limits.MaxValueLength, 2);

        _client.Put(key, value);

        Assert.Equal(value, _client.Get(key));
        var buffer = new byte[Limits.MaxValueLength];
        Assert.True(_client.TryGet(key, buffer, out int length));
        Assert.Equal(Limits.MaxValueLength, length);
        Assert.Equal(value, buffer);

        byte[] smaller = Pattern(Limits.MaxValueLength - 1, 3);
        _client.Put(key, smaller);
        Assert.Equal(smaller, _client.Get(key));
    }

    [Fact]
    public void StatsCountWhatTheNodeServed()
    {
        var before = _client.Stats();

        for (int i = 0; i < 10; i++) _client.Put($"k{i}", "v");
        _client.Delete("k0");
        _client.Delete("never-there");
        _client.PutMany([(B("m1"), B("v")), (B("m2"), B("v"))]);
        var after = _client.Stats();

        Assert.Equal(before["puts"] + 10, after["puts"]);
        Assert.Equal(before["deletes"] + 2, after["deletes"]);
        Assert.Equal(before["multi_puts"] + 1, after["multi_puts"]);
        Assert.Equal(before["keys"] + 11, after["keys"]);
        Assert.True(after["bytes_in"] > before["bytes_in"], "bytes_in did not move");
        Assert.Equal(0, after["errors"]);
        Assert.Equal(_node.Node.Options.Partitions, after["partitions"]);
        Assert.Equal(1, after["connections_open"]);
    }

    [Fact]
    public void ClientWritesThroughThePathItAskedForAndTheNodeCleansUpWhenItLeaves()
    {
        _client.Put("k", "v");
        Assert.Equal(_writes == TestTransport.Mailbox ? 1 : 0, _node.MailboxFiles);
        Assert.Equal(1, _node.Stat("connections_open"));

        _client.Dispose();

        Assert.True(SpinWait.SpinUntil(() => _node.Stat("connections_open") == 0 && _node.MailboxFiles == 0, Binaries.Patience),
            $"{_node.Stat("connections_open")} connections and {_node.MailboxFiles} mailboxes remain after the client left");
        using var again = _node.Connect(_writes);
        Assert.Equal("v"u8.ToArray(), again.Get("k"));
    }

    [Fact]
    public void StoppingTheNodeRemovesItsSharedMemoryWhileAClientIsStillConnected()
    {
        _client.Put("k", "v");
        Assert.True(File.Exists(Path.Combine(_node.SharedMemoryPath, "node.sock")));

        _node.StopAndCheckRemoved();

        Assert.Throws<KvConnectionException>(() => _client.Put("k", "w"));
        Assert.Throws<KvConnectionException>(() => _client.Put("k", "w")); // reconnecting finds no node
    }

    [Fact]
    public void AStoppedNodesValuesAreNotServedFromTheClientsMapping()
    {
        _client.Put("k", "v");
        Assert.Equal("v"u8.ToArray(), _client.Get("k"));

        _node.StopAndCheckRemoved();

        // The node retired its regions on the way out: the read refreshes and finds no node.
        Assert.Throws<KvConnectionException>(() => _client.Get("k"));
    }

    public void Dispose()
    {
        _client.Dispose();
        _node.Dispose();
    }
}

public sealed class ClientRoundTripOverMailboxTests() : ClientRoundTripTests(TestTransport.Mailbox);

public sealed class ClientRoundTripOverSocketTests() : ClientRoundTripTests(TestTransport.Socket);

public sealed class ClientRoundTripOverUcxTests() : ClientRoundTripTests(TestTransport.Ucx);
