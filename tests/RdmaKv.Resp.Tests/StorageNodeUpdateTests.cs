using System.Text;
using RdmaKv.Core;
using RdmaKv.EndToEnd.Tests;

namespace RdmaKv.Resp.Tests;

/// <summary>StorageNode.Update, which INCR, SET NX/XX/GET and GETDEL stand on.</summary>
public sealed class StorageNodeUpdateTests : IDisposable
{
    readonly TestNode _node = new();

    static (bool, byte[]?) Increment(byte[]? current) =>
        (true, Encoding.ASCII.GetBytes((current is null ? 0 : long.Parse(Encoding.ASCII.GetString(current)) + 1).ToString()));

    [Fact]
    public void UpdatesRacingOnOneKeyFromManyThreadsAllCount()
    {
        const int threads = 4, each = 20_000;
        byte[] key = "counter"u8.ToArray();
        Assert.Equal(StoreStatus.Ok, _node.Node.Update(key, Increment, out byte[]? _));
        var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
        {
            for (int i = 0; i < each; i++) Assert.Equal(StoreStatus.Ok, _node.Node.Update(key, Increment, out byte[]? _));
        })).ToList();
        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());
        Assert.Equal(StoreStatus.Ok, _node.Node.Read(key, out byte[]? value));
        Assert.Equal((threads * each).ToString(), Encoding.ASCII.GetString(value!));
    }

    [Fact]
    public void AnUpdateThatDeletesAMissingKeyAnswersNotFoundAndOneThatKeepsChangesNothing()
    {
        Assert.Equal(StoreStatus.NotFound, _node.Node.Update("gone"u8, _ => (true, null), out byte[]? previous));
        Assert.Null(previous);
        _node.Node.Put("k"u8, "v"u8);
        Assert.Equal(StoreStatus.Ok, _node.Node.Update("k"u8, _ => (false, null), out previous));
        Assert.Equal("v"u8.ToArray(), previous);
        Assert.Equal(StoreStatus.Ok, _node.Node.Update("k"u8, _ => (true, null), out _));
        Assert.Equal(StoreStatus.NotFound, _node.Node.Read("k"u8, out _));
    }

    public void Dispose() => _node.Dispose();
}
