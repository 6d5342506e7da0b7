using Etcdserverpb;
using Google.Protobuf;

namespace RdmaKv.Coordination;

public sealed partial class EtcdCoordinator
{
    /// <summary>
    /// The live members read from etcd now (a linearizable range read of the members prefix), not
    /// the watch's copy in <see cref="Members"/>, which may lag after a reconnect: node id to payload.
    /// </summary>
    /// <exception cref="CoordinationException">etcd did not answer.</exception>
    public IReadOnlyDictionary<string, string> ReadMembers()
    {
        var end = ByteString.CopyFromUtf8(_membersPrefix[..^1] + (char)(_membersPrefix[^1] + 1));
        try
        {
            var read = _channel.Kv.Range(new RangeRequest { Key = ByteString.CopyFromUtf8(_membersPrefix), RangeEnd = end },
                deadline: DateTime.UtcNow + _options.RequestTimeout);
            return read.Kvs.ToDictionary(kv => kv.Key.ToStringUtf8()[_membersPrefix.Length..], kv => kv.Value.ToStringUtf8(), StringComparer.Ordinal);
        }
        catch (Exception e) when (CoordinationException.IsEtcdFailure(e))
        {
            throw new CoordinationException($"etcd at {_channel.Endpoints} did not answer: {CoordinationException.Describe(e)}", e);
        }
    }
}
