using Etcdserverpb;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace RdmaKv.Coordination;

/// <summary>
/// One gRPC channel to the etcd endpoints, round-robin over the ones that answer, with dotnet-etcd's
/// generated clients on it. It has no retry policy: a call that fails says so at once, and the
/// caller (the keepalive, the watch, a map update) decides when to try again.
/// </summary>
sealed class EtcdChannel : IDisposable
{
    readonly GrpcChannel _channel;
    readonly ServiceProvider _services;

    public EtcdChannel(string[] endpoints)
    {
        var addresses = endpoints.Select(e => new Uri(e)).Select(u => new BalancerAddress(u.Host, u.Port)).ToArray();
        var collection = new ServiceCollection();
        collection.AddSingleton<ResolverFactory>(new StaticResolverFactory(_ => addresses));
        _services = collection.BuildServiceProvider();
        _channel = GrpcChannel.ForAddress("static://etcd", new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Insecure,
            ServiceProvider = _services,
            ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new RoundRobinConfig() } },
            ThrowOperationCanceledOnCancellation = true,
            // gRPC's default backoff grows to 2 minutes between reconnects; etcd's return must be noticed within a second.
            InitialReconnectBackoff = TimeSpan.FromMilliseconds(200),
            MaxReconnectBackoff = TimeSpan.FromSeconds(1),
            HttpHandler = new SocketsHttpHandler
            {
                ConnectTimeout = TimeSpan.FromSeconds(2),
                // etcd drops a client that pings more often than every 5 s (--grpc-keepalive-min-time).
                KeepAlivePingDelay = TimeSpan.FromSeconds(5),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
                KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
                EnableMultipleHttp2Connections = true,
            },
            DisposeHttpClient = true,
        });
        Kv = new KV.KVClient(_channel);
        Lease = new Lease.LeaseClient(_channel);
        Watch = new Watch.WatchClient(_channel);
        Endpoints = string.Join(",", endpoints);
    }

    public KV.KVClient Kv { get; }
    public Lease.LeaseClient Lease { get; }
    public Watch.WatchClient Watch { get; }

    /// <summary>The endpoints, for messages.</summary>
    public string Endpoints { get; }

    public void Dispose()
    {
        _channel.Dispose();
        _services.Dispose();
    }
}
