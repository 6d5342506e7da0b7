using System.Buffers;
using System.Diagnostics;
using System.Text;
using RdmaKv.Core;
using RdmaKv.Protocol;

namespace RdmaKv.Server;

/// <summary>
/// Answers one decoded request. The same handler serves every transport; a connection must say
/// Hello (with a protocol version this node speaks) before anything else. Node-to-node messages
/// (<see cref="IsNodeToNode"/>) are answered only for a <paramref name="peer"/> session, one whose
/// Hello presented the cluster credential; anyone else gets Unauthorized and keeps the session.
/// </summary>
public sealed class RequestHandler(StorageNode node)
{
    public void Handle(in Message request, ref bool greeted, ArrayBufferWriter<byte> reply, bool peer = false)
    {
        long started = Stopwatch.GetTimestamp();
        Dispatch(in request, ref greeted, peer, reply);
        node.Counters.RecordLatency(request.Type, started);
    }

    /// <summary>The messages one node sends another during a move: never accepted on a client's credential.</summary>
    public static bool IsNodeToNode(MessageType type) =>
        type is MessageType.MoveIn or MessageType.Import or MessageType.MovePut or MessageType.MoveDelete or MessageType.AdoptMap
            or MessageType.ReplicaPut or MessageType.ReplicaDelete or MessageType.Grant or MessageType.Fence or MessageType.AddBackup;

    void Dispatch(in Message request, ref bool greeted, bool peer, ArrayBufferWriter<byte> reply)
    {
        if (!greeted && request.Type != MessageType.Hello)
        {
            MessageEncoder.Reply(reply, request.Id, StoreStatus.BadRequest, "say Hello first");
            return;
        }
        if (!peer && IsNodeToNode(request.Type))
        {
            // Counted and logged, but the session stays: its client credential still holds for
            // data, and closing would only make a probing client reconnect.
            node.Counters.CountError("cluster", $"refused {request.Type} from a session without the cluster credential");
            MessageEncoder.Reply(reply, request.Id, StoreStatus.Unauthorized,
                $"{request.Type} is a node-to-node message: it needs the cluster credential in Hello, and this session presented a client's");
            return;
        }
        switch (request.Type)
        {
            case MessageType.Hello:
                if (request.Version != Wire.ProtocolVersion)
                {
                    MessageEncoder.Refusal(reply, request.Id, StoreStatus.UnsupportedVersion,
                        $"this node speaks protocol version {Wire.ProtocolVersion}, the client {request.Version}");
                    return;
                }
                if (node.IsFenced && !peer)
                {
                    // Its regions may hold what another node now leads: a client learns the map elsewhere.
                    MessageEncoder.Refusal(reply, request.Id, StoreStatus.WrongSlot, $"node {node.Options.NodeId} is not serving: {node.FenceReason}");
                    return;
                }
                greeted = true;
                MessageEncoder.NodeView(reply, MessageType.HelloReply, request.Id, node.View());
                return;
            case MessageType.Regions when node.IsFenced:
            case MessageType.Get when node.IsFenced:
                Interlocked.Increment(ref node.Counters.WrongSlot);
                MessageEncoder.Reply(reply, request.Id, StoreStatus.WrongSlot, $"node {node.Options.NodeId} is not serving: {node.FenceReason}");
                return;
            case MessageType.Regions:
                MessageEncoder.NodeView(reply, MessageType.Regions, request.Id, node.View());
                return;
            // Puts and deletes are checked where they are applied, under the partition lock.
            case MessageType.Get when node.NotOwned(request.Key.Span) is { } moved:
                Interlocked.Increment(ref node.Counters.WrongSlot);
                MessageEncoder.Reply(reply, request.Id, StoreStatus.WrongSlot, moved);
                return;
            case MessageType.MoveIn:
                Reply(reply, request.Id, node.MoveIn(Cluster.PeerSession.ParseSlot(request.Key.Span)));
                return;
            case MessageType.Import:
                Reply(reply, request.Id, node.Import(request.Pairs!, request.PairExpiries));
                return;
            case MessageType.MovePut:
                {
                    long address = -1;
                    StoreStatus status = node.Put(request.Key.Span, request.Value.Span, ref address, WriteOrigin.Move, request.ExpiresAt);
                    if (status == StoreStatus.Ok) status = node.WaitDurable(address);
                    Reply(reply, request.Id, status);
                    return;
                }
            case MessageType.MoveDelete:
                Reply(reply, request.Id, node.Delete(request.Key.Span, WriteOrigin.Move));
                return;
            case MessageType.ReplicaPut or MessageType.ReplicaDelete:
                {
                    StoreStatus status = node.ApplyReplica(request.Epoch, request.Text ?? "", request.Key.Span, request.Value.Span, request.Type == MessageType.ReplicaDelete, request.ExpiresAt);
                    if (status is StoreStatus.Ok or StoreStatus.NotFound) Interlocked.Increment(ref node.Counters.ReplicaWrites);
                    ReplicaReply(reply, request, status);
                    return;
                }
            case MessageType.Grant:
                ReplicaReply(reply, request, node.GrantLease(request.Text ?? "", request.Epoch));
                return;
            case MessageType.Fence:
                var fenced = node.FenceOut(request.Text ?? "", request.Epoch, out var sinceGrant);
                if (fenced != StoreStatus.Ok)
                {
                    ReplicaReply(reply, request, fenced);
                    return;
                }
                // How long ago the fenced node's last read lease was granted, in whole milliseconds (rounded down).
                MessageEncoder.ValueReply(reply, request.Id, StoreStatus.Ok,
                    Encoding.ASCII.GetBytes(((long)sinceGrant.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture)), hasValue: true);
                return;
            case MessageType.AddBackup:
                ReplicaReply(reply, request, node.AddBackup(request.Epoch, request.Text ?? "", Cluster.PeerSession.ParseSlots(request.Key.Span)));
                return;
            case MessageType.AdoptMap:
                AdoptMap(request, reply);
                return;
            case MessageType.ClusterMap:
                if (node.Cluster is { } map) MessageEncoder.ValueReply(reply, request.Id, StoreStatus.Ok, System.Text.Encoding.UTF8.GetBytes(map.ToJson()), hasValue: true);
                else MessageEncoder.Reply(reply, request.Id, StoreStatus.NotFound, "this node is not in a cluster");
                return;
            case MessageType.Put:
                Interlocked.Increment(ref node.Counters.Puts);
                Reply(reply, request.Id, node.Put(request.Key.Span, request.Value.Span, request.ExpiresAt), request.Key.Span);
                return;
            case MessageType.Delete:
                Interlocked.Increment(ref node.Counters.Deletes);
                Reply(reply, request.Id, node.Delete(request.Key.Span), request.Key.Span);
                return;
            case MessageType.Get:
                Interlocked.Increment(ref node.Counters.FallbackGets);
                node.Get(request.Key.Span, request.Id, reply);
                return;
            case MessageType.MultiPut:
                Interlocked.Increment(ref node.Counters.MultiPuts);
                MultiPut(request, reply);
                return;
            case MessageType.ClientReport:
                if (node.Counters.AddClientReport(request.Stats!)) MessageEncoder.Reply(reply, request.Id, StoreStatus.Ok);
                else MessageEncoder.Reply(reply, request.Id, StoreStatus.BadRequest, $"a reported count is negative or above {NodeCounters.MaxReportedCount}; the report was not added");
                return;
            case MessageType.Stats:
                MessageEncoder.StatsReply(reply, request.Id, node.Stats());
                return;
            default:
                MessageEncoder.Reply(reply, request.Id, StoreStatus.BadRequest, $"{request.Type} is not a request");
                return;
        }
    }

    void MultiPut(in Message request, ArrayBufferWriter<byte> reply)
    {
        var pairs = request.Pairs!;
        if (request.PairExpiries is not null)
        {
            MessageEncoder.Reply(reply, request.Id, StoreStatus.BadRequest, "a multi-put takes no expiries: put a key that expires with a put; no pair was applied");
            return;
        }
        for (int i = 0; i < pairs.Length; i++)
        {
            if (node.NotOwned(pairs[i].Key.Span) is { } moved)
            {
                Interlocked.Increment(ref node.Counters.WrongSlot);
                MessageEncoder.Reply(reply, request.Id, StoreStatus.WrongSlot, $"pair {i} of {pairs.Length}: {moved}; no pair was applied");
                return;
            }
        }
        // A replicated cluster applies pair by pair (each replicated first), below.
        if (node.Durability == Storage.DurabilityMode.Sync && !node.Replicates)
        {
            StoreStatus done = node.PutManyDurableFirst(pairs, out int applied);
            if (done == StoreStatus.Ok)
            {
                MessageEncoder.Reply(reply, request.Id, StoreStatus.Ok);
                return;
            }
            if (done == StoreStatus.WrongSlot) Interlocked.Increment(ref node.Counters.WrongSlot);
            else node.Counters.CountError("multi-put", $"pair {applied} of {pairs.Length}: {StoreStatusText.Describe(done)}");
            MessageEncoder.Reply(reply, request.Id, done, $"pair {applied} of {pairs.Length}: {StoreStatusText.Describe(done)}; pairs before it were applied");
            return;
        }
        long address = -1;
        for (int i = 0; i < pairs.Length; i++)
        {
            // In async mode the reply waits once, for the commit holding the last pair.
            StoreStatus status = node.Put(pairs[i].Key.Span, pairs[i].Value.Span, ref address);
            if (status != StoreStatus.Ok) node.WaitDurable(address);
            if (status == StoreStatus.WrongSlot)
            {
                // A slot moved between the check above and this pair: the client regroups and resends.
                Interlocked.Increment(ref node.Counters.WrongSlot);
                MessageEncoder.Reply(reply, request.Id, status, $"pair {i} of {pairs.Length}: {node.NotOwned(pairs[i].Key.Span)}; pairs before it were applied");
                return;
            }
            if (status != StoreStatus.Ok)
            {
                // Pairs before i are applied; the caller learns exactly where it stopped.
                node.Counters.CountError("multi-put", $"pair {i} of {pairs.Length}: {StoreStatusText.Describe(status)}");
                MessageEncoder.Reply(reply, request.Id, status, $"pair {i} of {pairs.Length}: {StoreStatusText.Describe(status)}; pairs before it were applied");
                return;
            }
        }
        Reply(reply, request.Id, node.WaitDurable(address));
    }

    void AdoptMap(in Message request, ArrayBufferWriter<byte> reply)
    {
        Core.Cluster.ClusterMap map;
        try
        {
            map = Core.Cluster.ClusterMap.Parse(System.Text.Encoding.UTF8.GetString(request.Value.Span));
        }
        catch (InvalidDataException e)
        {
            MessageEncoder.Reply(reply, request.Id, StoreStatus.BadRequest, $"the cluster map is not valid: {e.Message}");
            return;
        }
        if (node.Coordination is null && node.Cluster is { } current && map.Epoch == current.Epoch && map.ToJson() == current.ToJson())
        {
            MessageEncoder.Reply(reply, request.Id, StoreStatus.Ok, $"this node already has epoch {current.Epoch}");
            return;
        }
        try
        {
            node.AdoptCluster(map);
            MessageEncoder.Reply(reply, request.Id, StoreStatus.Ok);
        }
        catch (InvalidOperationException e)
        {
            node.Counters.CountError("cluster", $"refused a map: {e.Message}");
            MessageEncoder.Reply(reply, request.Id, StoreStatus.BadRequest, $"the cluster map was refused: {e.Message}");
        }
    }

    /// <summary>A replication message's answer; a refusal says why, from this node's side.</summary>
    void ReplicaReply(ArrayBufferWriter<byte> reply, in Message request, StoreStatus status)
    {
        if (status is StoreStatus.Ok or StoreStatus.NotFound)
        {
            MessageEncoder.Reply(reply, request.Id, status);
            return;
        }
        string why = $"node {node.Options.NodeId} (map epoch {node.Cluster?.Epoch}) refused {request.Type} from {request.Text} at epoch {request.Epoch}: {StoreStatusText.Describe(status)}";
        node.Counters.CountError("replication", why);
        MessageEncoder.Reply(reply, request.Id, status, why);
    }

    /// <summary>A key's WrongSlot says who owns it now.</summary>
    void Reply(ArrayBufferWriter<byte> reply, ulong id, StoreStatus status, ReadOnlySpan<byte> key)
    {
        if (status == StoreStatus.WrongSlot)
        {
            Interlocked.Increment(ref node.Counters.WrongSlot);
            MessageEncoder.Reply(reply, id, status, node.NotOwned(key) ?? "the slot moved while the request waited");
            return;
        }
        Reply(reply, id, status);
    }

    void Reply(ArrayBufferWriter<byte> reply, ulong id, StoreStatus status)
    {
        if (status is not (StoreStatus.Ok or StoreStatus.NotFound)) node.Counters.CountError("request", StoreStatusText.Describe(status));
        MessageEncoder.Reply(reply, id, status, status is StoreStatus.Ok or StoreStatus.NotFound ? null : StoreStatusText.Describe(status));
    }
}
