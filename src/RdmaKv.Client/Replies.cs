using RdmaKv.Core;
using RdmaKv.Protocol;

namespace RdmaKv.Client;

/// <summary>Checks replies and turns failures into exceptions.</summary>
static class Replies
{
    public static StoreStatus Status(Message reply)
    {
        if (reply.Type is not (MessageType.Reply or MessageType.ValueReply))
            throw new KvConnectionException($"unexpected {reply.Type} in answer to a request");
        if (reply.Status is StoreStatus.Ok or StoreStatus.NotFound) return reply.Status;
        throw new KvException(reply.Status, reply.Text);
    }

    /// <summary>The cluster map a node sent, or null when it is on its own.</summary>
    public static string? ClusterMapJson(Message reply) =>
        Status(reply) == StoreStatus.Ok && reply.HasValue ? System.Text.Encoding.UTF8.GetString(reply.Value.Span) : null;
}
