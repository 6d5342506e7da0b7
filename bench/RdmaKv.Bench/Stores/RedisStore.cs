using System.Net;
using StackExchange.Redis;

namespace RdmaKv.Bench.Stores;

/// <summary>
/// A RESP server (Redis, Garnet, an RdmaKv node's RESP gateway) at <c>redis://[:PASSWORD@]HOST:PORT</c>, through StackExchange.Redis. Each
/// worker thread has its own connection (as YCSB's Redis binding has), and a record is one string
/// value written with SET and read with GET, so every store moves the same bytes per operation.
/// </summary>
public sealed class RedisStore : IBenchStore
{
    readonly EndPoint _endPoint;
    readonly string? _password;
    readonly List<ConnectionMultiplexer> _connections = [];

    public RedisStore(string uri)
    {
        _endPoint = ParseEndPoint(uri);
        // An RdmaKv gateway needs the node's client token: redis://:TOKEN@HOST:PORT.
        string userInfo = Uri.TryCreate(uri, UriKind.Absolute, out var parsed) ? Uri.UnescapeDataString(parsed.UserInfo) : "";
        _password = userInfo.Contains(':') ? userInfo[(userInfo.IndexOf(':') + 1)..] : null;
        using var probe = Connect();
        var server = probe.GetServer(_endPoint);
        string info = string.Join('\n', (server.InfoRaw("server") ?? "").Split('\n').Select(l => l.Trim()));
        bool garnet = info.Contains("garnet", StringComparison.OrdinalIgnoreCase);
        bool rdmakv = info.Contains("rdmakv_version:", StringComparison.Ordinal);
        Store = garnet ? "Garnet" : rdmakv ? "RdmaKv (RESP gateway)" : "Redis";
        string? version = info.Split('\n').FirstOrDefault(l => l.StartsWith("garnet_version:", StringComparison.Ordinal))
            ?? info.Split('\n').FirstOrDefault(l => l.StartsWith("redis_version:", StringComparison.Ordinal));
        ServerInfo = version;
        Transport = IsLoopback(_endPoint) ? "RESP over TCP loopback" : "RESP over TCP";
    }

    public string Store { get; }
    public string Transport { get; }
    public string? ServerInfo { get; }

    /// <summary>redis://[:PASSWORD@]HOST:PORT (the port defaults to 6379).</summary>
    public static EndPoint ParseEndPoint(string uri)
    {
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || parsed.Scheme != "redis" || string.IsNullOrEmpty(parsed.Host))
            throw new ArgumentException($"--target '{uri}' is not redis://HOST:PORT");
        int port = parsed.IsDefaultPort || parsed.Port < 0 ? 6379 : parsed.Port;
        string host = parsed.Host.Trim('[', ']');
        return IPAddress.TryParse(host, out var ip) ? new IPEndPoint(ip, port) : new DnsEndPoint(host, port);
    }

    static bool IsLoopback(EndPoint endPoint) => endPoint switch
    {
        IPEndPoint ip => IPAddress.IsLoopback(ip.Address),
        DnsEndPoint dns => dns.Host == "localhost",
        _ => false,
    };

    ConnectionMultiplexer Connect()
    {
        var options = new ConfigurationOptions
        {
            EndPoints = { _endPoint },
            AbortOnConnectFail = true,
            ConnectTimeout = 5000,
            SyncTimeout = 10000,
            AllowAdmin = true,
            ClientName = $"rdmakv-bench/{Environment.ProcessId}",
            Password = _password,
        };
        try
        {
            return ConnectionMultiplexer.Connect(options);
        }
        catch (RedisConnectionException e)
        {
            throw new IOException($"cannot connect to the RESP server at {_endPoint}: {e.Message}", e);
        }
    }

    public IStoreSession OpenSession()
    {
        var connection = Connect();
        lock (_connections) _connections.Add(connection);
        return new Session(connection.GetDatabase());
    }

    public void Dispose()
    {
        lock (_connections)
        {
            foreach (var c in _connections) c.Dispose();
            _connections.Clear();
        }
    }

    sealed class Session(IDatabase db) : IStoreSession
    {
        public int Read(ReadOnlySpan<byte> key, Span<byte> buffer)
        {
            using var lease = db.StringGetLease(key.ToArray());
            if (lease is null) return -1;
            var value = lease.Span;
            if (value.Length > buffer.Length) throw new InvalidOperationException($"the value is {value.Length} bytes, more than a record's {buffer.Length}");
            value.CopyTo(buffer);
            return value.Length;
        }

        public void Write(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) => db.StringSet(key.ToArray(), value.ToArray());

        public long? Retries => null;

        public void Dispose()
        {
        }
    }
}
