using Microsoft.Extensions.DependencyInjection;
using RdmaKv.Client;

namespace RdmaKv.Extensions;

/// <summary>
/// The shared client as the cache and the health check reach it: resolved from the container on
/// first use, not when they are built, so an application starts while its node is not up yet, and
/// a failed connect is tried again at the next use (the container keeps no failed singleton).
/// </summary>
sealed class KvClientSource
{
    readonly IServiceProvider? _services;
    KvClient? _client;

    public KvClientSource(IServiceProvider services) => _services = services;

    public KvClientSource(KvClient client) => _client = client;

    public KvClient Client => Volatile.Read(ref _client) ?? Resolve();

    KvClient Resolve()
    {
        var client = _services!.GetRequiredService<KvClient>();
        Volatile.Write(ref _client, client);
        return client;
    }
}
