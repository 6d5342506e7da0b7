using RdmaKv.Client;
using RdmaKv.EndToEnd.Tests;

namespace RdmaKv.Extensions.Tests;

/// <summary>One real node for the tests of a class, and a raw client that reads its keys as they are stored (no refresh).</summary>
public sealed class NodeFixture : IDisposable
{
    readonly TestNode _node = new(o => o with { Partitions = 2, MemoryBytes = 64L << 20 });

    public NodeFixture() => Raw = TestNode.ConnectOrStop(_node, new KvClientOptions());

    /// <summary><c>local:NAME</c> of the node.</summary>
    public string Uri => _node.Uri;

    internal TestNode Node => _node;

    public KvClient Raw { get; }

    /// <summary>A prefix no other test uses, so tests sharing the node keep apart.</summary>
    public static string UniqueInstance() => "t" + Guid.NewGuid().ToString("N")[..12] + ":";

    public void Dispose()
    {
        Raw.Dispose();
        _node.Dispose();
    }
}
