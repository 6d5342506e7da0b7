using Etcdserverpb;
using Grpc.Net.Client;

namespace RdmaKv.Coordination.Tests;

/// <summary>What an operator (or a fault) does to etcd behind the coordinators' backs, through dotnet-etcd's generated clients.</summary>
sealed class EtcdAdmin(string endpoint) : IDisposable
{
    readonly GrpcChannel _channel = GrpcChannel.ForAddress(endpoint);

    public void Revoke(long lease) => new Lease.LeaseClient(_channel).LeaseRevoke(new LeaseRevokeRequest { ID = lease });

    public void Put(string key, string value) =>
        new KV.KVClient(_channel).Put(new PutRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8(key), Value = Google.Protobuf.ByteString.CopyFromUtf8(value) });

    public void Dispose() => _channel.Dispose();
}
