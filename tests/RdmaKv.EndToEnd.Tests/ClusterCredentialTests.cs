using System.Buffers;
using System.Text;
using RdmaKv.Core;
using RdmaKv.Protocol;
using RdmaKv.Transport.Ucx;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// Node-to-node messages (MoveIn, Import, MovePut, MoveDelete, AdoptMap) over a real UCX
/// connection to a node in cluster mode: a client token never authorizes them, and a peer with the
/// cluster credential still cannot hand a node a map that is not a successor of its own. A client
/// once gave 7 of 8 slots to a node "evil" with a javascript: admin URL and epoch 9·10^18.
/// </summary>
public sealed class ClusterCredentialTests : IDisposable
{
    readonly InProcessCluster _cluster;

    public ClusterCredentialTests()
    {
        TestNode.UseLoopbackUcx();
        _cluster = new InProcessCluster();
    }

    string SavedMap => Path.Combine(_cluster.Nodes[0].Node.Node.Options.DataDirectory, "cluster-map.json");

    [Fact]
    public void AClientTokenHoldersNodeToNodeMessagesAreRefusedAndTheMapIsUnchanged()
    {
        using var raw = Open(_cluster.Token);
        int slot = _cluster.Map.Owners.ToList().FindIndex(o => o != "node1");
        string hostile = Evil(_cluster.Map.Epoch + 1, "javascript:alert(1)");

        var refusals = new[]
        {
            Call(raw, 2, (w, id) => MessageEncoder.KeyOnly(w, MessageType.MoveIn, id, Encoding.UTF8.GetBytes(slot.ToString(System.Globalization.CultureInfo.InvariantCulture)))),
            Call(raw, 3, (w, id) => MessageEncoder.MultiPut(w, id, [("k"u8.ToArray(), "v"u8.ToArray())], MessageType.Import)),
            Call(raw, 4, (w, id) => MessageEncoder.Put(w, id, "k"u8, "v"u8, MessageType.MovePut)),
            Call(raw, 5, (w, id) => MessageEncoder.KeyOnly(w, MessageType.MoveDelete, id, "k"u8)),
            Call(raw, 6, (w, id) => MessageEncoder.Put(w, id, "cluster-map"u8, Encoding.UTF8.GetBytes(hostile), MessageType.AdoptMap)),
            Call(raw, 7, (w, id) => MessageEncoder.Put(w, id, "cluster-map"u8, Encoding.UTF8.GetBytes(_cluster.Map.WithOwner(slot, "node1").ToJson()), MessageType.AdoptMap)),
        };

        Assert.All(refusals, r => Assert.Equal(StoreStatus.Unauthorized, r.Status));
        Assert.All(refusals, r => Assert.Contains("cluster credential", r.Text));
        Assert.Equal(_cluster.Map.ToJson(), _cluster.Nodes[0].Node.Node.Cluster!.ToJson());
        Assert.False(File.Exists(SavedMap));
        // The session was not closed: the client's data access still holds.
        var get = Call(raw, 8, (w, id) => MessageEncoder.KeyOnly(w, MessageType.Get, id, "k"u8));
        Assert.True(get.Status is StoreStatus.Ok or StoreStatus.NotFound or StoreStatus.WrongSlot, $"{get.Status} {get.Text}");
    }

    [Fact]
    public void TheClusterCredentialIsNotTheClientTokenAndTheNodeSaysWhichOneItNeeds()
    {
        Assert.NotEqual(_cluster.Token, _cluster.ClusterToken);
        using var raw = UcxClientConnection.Connect("127.0.0.1", Port, new UcxClientOptions { Credential = _cluster.Token, ProtocolVersion = Wire.ProtocolVersion });
        var hello = Call(raw, 1, (w, id) => MessageEncoder.Hello(w, id, "rdmakv-peer", _cluster.Token));
        Assert.Equal(StoreStatus.Ok, hello.Status);
        var refused = Call(raw, 2, (w, id) => MessageEncoder.Put(w, id, "cluster-map"u8, Encoding.UTF8.GetBytes(_cluster.Map.ToJson()), MessageType.AdoptMap));
        Assert.Equal(StoreStatus.Unauthorized, refused.Status);
    }

    [Theory]
    [InlineData("epoch not newer", "same-epoch", "not newer")]
    [InlineData("epoch absurdly far ahead", "far-epoch", "ahead")]
    [InlineData("unknown node", "evil-node", "not in this node's map")]
    [InlineData("javascript: admin URL", "javascript-admin", "http or https")]
    [InlineData("changed slot count", "slot-count", "slots")]
    [InlineData("a known node at another address", "moved-address", "ucx")]
    public void APeerWithTheClusterCredentialButABadMapIsRefusedWithAReasonAndNothingIsSaved(string what, string map, string reason)
    {
        using var peer = Open(_cluster.ClusterToken);
        var reply = Call(peer, 2, (w, id) => MessageEncoder.Put(w, id, "cluster-map"u8, Encoding.UTF8.GetBytes(BadMap(map)), MessageType.AdoptMap));

        Assert.True(reply.Status == StoreStatus.BadRequest, $"{what}: {reply.Status} {reply.Text}");
        Assert.Contains(reason, reply.Text);
        Assert.Equal(_cluster.Map.ToJson(), _cluster.Nodes[0].Node.Node.Cluster!.ToJson());
        Assert.False(File.Exists(SavedMap), $"{what}: the node saved the map");
    }

    [Fact]
    public void APeerWithTheClusterCredentialAndASuccessorMapIsHeard()
    {
        using var peer = Open(_cluster.ClusterToken);
        int slot = _cluster.Map.Owners.ToList().FindIndex(o => o != "node1");
        var moved = _cluster.Map.WithOwner(slot, "node1");
        var reply = Call(peer, 2, (w, id) => MessageEncoder.Put(w, id, "cluster-map"u8, Encoding.UTF8.GetBytes(moved.ToJson()), MessageType.AdoptMap));

        Assert.Equal(StoreStatus.Ok, reply.Status);
        Assert.Equal(moved.Epoch, _cluster.Nodes[0].Node.Node.Cluster!.Epoch);
        Assert.True(File.Exists(SavedMap));
    }

    string BadMap(string kind)
    {
        var map = _cluster.Map;
        string Nodes(string? extra = null, int movePort = 0) => string.Join(",", map.Nodes.Select((n, i) =>
            $$"""{ "id": "{{n.Id}}", "ucx": "{{(i == 0 && movePort != 0 ? $"127.0.0.1:{movePort}" : n.Ucx)}}" }""").Concat(extra is null ? [] : [extra]));
        string Owners(string? owner = null) => string.Join(",", map.Owners.Select((o, i) => $"\"{(owner is not null && i % 8 != 0 ? owner : o)}\""));
        return kind switch
        {
            "same-epoch" => $$"""{ "epoch": {{map.Epoch}}, "slots": {{map.SlotCount}}, "nodes": [{{Nodes()}}], "owners": [{{Owners("node2")}}] }""",
            "far-epoch" => $$"""{ "epoch": 9000000000000000000, "slots": {{map.SlotCount}}, "nodes": [{{Nodes()}}], "owners": [{{Owners("node2")}}] }""",
            "evil-node" => Evil(map.Epoch + 1, "http://127.0.0.1:9"),
            "javascript-admin" => Evil(map.Epoch + 1, "javascript:alert(1)"),
            "slot-count" => $$"""{ "epoch": {{map.Epoch + 1}}, "slots": 8, "nodes": [{{Nodes()}}] }""",
            "moved-address" => $$"""{ "epoch": {{map.Epoch + 1}}, "slots": {{map.SlotCount}}, "nodes": [{{Nodes(movePort: 9)}}], "owners": [{{Owners()}}] }""",
            _ => throw new ArgumentException(kind),
        };
    }

    /// <summary>The attack as it was: most slots to a node "evil" at 127.0.0.1:9.</summary>
    string Evil(long epoch, string admin)
    {
        var map = _cluster.Map;
        string nodes = string.Join(",", map.Nodes.Select(n => $$"""{ "id": "{{n.Id}}", "ucx": "{{n.Ucx}}" }""")) +
            $$""", { "id": "evil", "ucx": "127.0.0.1:9", "admin": "{{admin}}" }""";
        string owners = string.Join(",", map.Owners.Select((o, i) => i % 8 == 0 ? $"\"{o}\"" : "\"evil\""));
        return $$"""{ "epoch": {{epoch}}, "slots": {{map.SlotCount}}, "nodes": [{{nodes}}], "owners": [{{owners}}] }""";
    }

    int Port => _cluster.Nodes[0].Listener.EndPoint.Port;

    UcxClientConnection Open(string credential)
    {
        var raw = UcxClientConnection.Connect("127.0.0.1", Port, new UcxClientOptions { Credential = credential, ProtocolVersion = Wire.ProtocolVersion });
        var hello = Call(raw, 1, (w, id) => MessageEncoder.Hello(w, id, "rdmakv-peer", credential));
        Assert.Equal(StoreStatus.Ok, hello.Status);
        return raw;
    }

    static Message Call(UcxClientConnection raw, ulong id, Action<ArrayBufferWriter<byte>, ulong> encode)
    {
        var output = new ArrayBufferWriter<byte>();
        encode(output, id);
        byte[] frame = raw.Call(output.WrittenSpan[Wire.LengthPrefix..], id);
        Assert.True(MessageDecoder.TryDecode(frame, out var message, out string error), error);
        return message;
    }

    public void Dispose() => _cluster.Dispose();
}
