using System.Buffers;
using System.Globalization;
using System.Text;
using RdmaKv.Core;
using RdmaKv.Core.Cluster;
using RdmaKv.Protocol;
using RdmaKv.Transport.Ucx;

namespace RdmaKv.Server.Cluster;

/// <summary>
/// A node's session with another node of its cluster, for moving a slot: the owner opens
/// the receiver's MoveIn, copies with Import, forwards the writes it applies meanwhile, and hands
/// every node the new map. One UCX connection, authenticated in the handshake and in Hello with
/// the cluster credential (never the client token), which makes the session a peer on the other
/// node. A call whose reply is a failure status throws <see cref="PeerRefusedException"/>; a lost
/// connection throws <see cref="PeerConnectionException"/>. Thread-safe.
/// </summary>
public sealed class PeerSession : IDisposable
{
    readonly UcxClientConnection _connection;
    volatile string? _failure;

    PeerSession(ClusterNode node, UcxClientConnection connection)
    {
        Node = node;
        _connection = connection;
    }

    public ClusterNode Node { get; }

    public static PeerSession Open(ClusterNode node, string token, TimeSpan timeout)
    {
        if (!ClusterMap.TrySplitAddress(node.Ucx, out string host, out int port))
            throw new PeerConnectionException($"node {node.Id} has no usable ucx address ('{node.Ucx}')");
        UcxClientConnection connection;
        try
        {
            connection = UcxClientConnection.Connect(host, port, new UcxClientOptions
            {
                Timeout = timeout,
                MaxReplyLength = Wire.MaxFrameLength,
                Credential = token,
                ProtocolVersion = Wire.ProtocolVersion,
            });
        }
        catch (UcxRefusedException e) when (e.Verdict is UcxVerdict.Unauthorized or UcxVerdict.WrongVersion)
        {
            throw new PeerRefusedException(e.Verdict == UcxVerdict.Unauthorized ? StoreStatus.Unauthorized : StoreStatus.UnsupportedVersion, e.Message);
        }
        catch (IOException e)
        {
            throw new PeerConnectionException($"node {node.Id} (ucx://{node.Ucx}) is unreachable: {e.Message}", e);
        }
        var session = new PeerSession(node, connection);
        try
        {
            session.Call((w, id) => MessageEncoder.Hello(w, id, "rdmakv-peer", token));
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    public void MoveIn(int slot) =>
        Call((w, id) => MessageEncoder.KeyOnly(w, MessageType.MoveIn, id, Encoding.UTF8.GetBytes(slot.ToString(CultureInfo.InvariantCulture))));

    /// <summary>Copied pairs, each with its expiry in <paramref name="expiries"/> (0 for none).</summary>
    public void Import(IReadOnlyList<(byte[] Key, byte[] Value)> pairs, IReadOnlyList<long>? expiries = null) =>
        Call((w, id) => MessageEncoder.MultiPut(w, id, pairs, MessageType.Import, expiries));

    public void MovePut(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt = Expiry.Never)
    {
        var output = new ArrayBufferWriter<byte>(256);
        ulong id = _connection.NextId();
        MessageEncoder.Put(output, id, key, value, MessageType.MovePut, expiresAt);
        Send(output, id);
    }

    public void MoveDelete(ReadOnlySpan<byte> key)
    {
        var output = new ArrayBufferWriter<byte>(256);
        ulong id = _connection.NextId();
        MessageEncoder.KeyOnly(output, MessageType.MoveDelete, id, key);
        Send(output, id);
    }

    public void AdoptMap(ClusterMap map) =>
        Call((w, id) => MessageEncoder.Put(w, id, "cluster-map"u8, Encoding.UTF8.GetBytes(map.ToJson()), MessageType.AdoptMap));

    /// <summary>A write the primary <paramref name="sender"/> replicates under map <paramref name="epoch"/>: a delete when <paramref name="value"/> is null.</summary>
    public void Replicate(long epoch, string sender, ReadOnlySpan<byte> key, byte[]? value) => Replicate(epoch, sender, key, value, value is null);

    public void Replicate(long epoch, string sender, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool delete, long expiresAt = Expiry.Never)
    {
        var output = new ArrayBufferWriter<byte>(key.Length + value.Length + 64);
        ulong id = _connection.NextId();
        MessageEncoder.Replica(output, delete ? MessageType.ReplicaDelete : MessageType.ReplicaPut, id, epoch, sender, key, value, delete ? Expiry.Never : expiresAt);
        Send(output, id);
    }

    /// <summary>Asks for a read lease; returns normally when it was granted.</summary>
    public void Grant(long epoch, string sender) => Call((w, id) => MessageEncoder.Replica(w, MessageType.Grant, id, epoch, sender));

    /// <summary>The controller: this node is to refuse <paramref name="node"/>'s writes and lease requests made under <paramref name="epoch"/> or older.</summary>
    /// Returns how long ago it last granted that node a read lease (or started), or null when it did not say (an older node).
    public TimeSpan? Fence(long epoch, string node)
    {
        var reply = Call((w, id) => MessageEncoder.Replica(w, MessageType.Fence, id, epoch, node));
        return reply.HasValue && long.TryParse(reply.Value.Span, System.Globalization.NumberStyles.None, CultureInfo.InvariantCulture, out long ms)
            ? TimeSpan.FromMilliseconds(ms) : null;
    }

    /// <summary>The controller asks a primary to copy <paramref name="slots"/> to <paramref name="target"/>, which becomes their backup; returns when it has.</summary>
    public void AddBackup(long epoch, string target, IEnumerable<int> slots) =>
        Call((w, id) => MessageEncoder.Replica(w, MessageType.AddBackup, id, epoch, target, Encoding.UTF8.GetBytes(string.Join(',', slots.Select(s => s.ToString(CultureInfo.InvariantCulture))))));

    /// <summary>The slots an AddBackup request lists, or null when the list is malformed.</summary>
    public static int[]? ParseSlots(ReadOnlySpan<byte> key)
    {
        var slots = new List<int>();
        foreach (var part in Encoding.UTF8.GetString(key).Split(','))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int slot)) return null;
            slots.Add(slot);
        }
        return [.. slots];
    }

    /// <summary>The slot number a MoveIn request carries as its key, or -1.</summary>
    public static int ParseSlot(ReadOnlySpan<byte> key) =>
        int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out int p) ? p : -1;

    Message Call(Action<ArrayBufferWriter<byte>, ulong> encode)
    {
        var output = new ArrayBufferWriter<byte>(256);
        ulong id = _connection.NextId();
        encode(output, id);
        return Send(output, id);
    }

    Message Send(ArrayBufferWriter<byte> output, ulong id)
    {
        // Never reconnects: once the peer failed, the move has failed, and a write forwarded to it
        // fails at once instead of holding the node's request thread through connect attempts.
        if (_failure is { } failure) throw new PeerConnectionException($"the connection to {Address} failed: {failure}");
        byte[] reply;
        try
        {
            reply = _connection.Call(output.WrittenSpan[Wire.LengthPrefix..], id);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            _failure ??= e.Message;
            throw new PeerConnectionException($"{Address}: {e.Message}", e);
        }
        if (!MessageDecoder.TryDecode(reply, out var message, out string error))
            throw new PeerConnectionException($"{Address} sent a malformed reply: {error}");
        if (message.Type is not (MessageType.Reply or MessageType.ValueReply or MessageType.HelloReply))
            throw new PeerConnectionException($"{Address}: unexpected {message.Type} in answer to a request");
        if (message.Status is not (StoreStatus.Ok or StoreStatus.NotFound)) throw new PeerRefusedException(message.Status, message.Text);
        return message;
    }

    string Address => $"ucx://{Node.Ucx}";

    /// <summary>True once a call failed on the connection: every later call fails at once.</summary>
    public bool Failed => _failure is not null;

    public void Dispose()
    {
        _failure ??= "closed";
        _connection.Dispose();
    }
}
