namespace RdmaKv.Coordination;

/// <summary>
/// Where etcd is and how this node uses it: the endpoints, the key prefix every RdmaKv key lives
/// under, the lease TTL that bounds how long a dead node stays a member, and this node's id.
/// </summary>
public sealed class EtcdOptions
{
    /// <summary>The smallest TTL accepted: etcd counts leases in whole seconds.</summary>
    public static readonly TimeSpan MinLeaseTtl = TimeSpan.FromSeconds(1);

    /// <summary>The default TTL: a dead node's lease, and so its membership, ends 2 s after its last renewal.</summary>
    public static readonly TimeSpan DefaultLeaseTtl = TimeSpan.FromSeconds(2);

    /// <summary>etcd client URLs, <c>http://HOST:PORT</c>; calls go round-robin to the ones that answer.</summary>
    public string[] Endpoints { get; set; } = [];

    /// <summary>Every key this cluster uses starts with it; it starts and ends with '/'.</summary>
    public string Prefix { get; set; } = "/rdmakv/";

    /// <summary>
    /// The lease TTL, in whole seconds (etcd's unit). etcd may grant more than this (its minimum is
    /// 1.5 election timeouts, rounded up to a second): <see cref="EtcdCoordinator.LeaseTtl"/> is the one granted.
    /// </summary>
    public TimeSpan LeaseTtl { get; set; } = DefaultLeaseTtl;

    /// <summary>This node's id: its member key is <c>{Prefix}members/{NodeId}</c> and it is the controller key's value while it leads.</summary>
    public string NodeId { get; set; } = "";

    /// <summary>The longest one call to etcd may take before it counts as unreachable.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Throws <see cref="ArgumentException"/> saying what is wrong when the options cannot work.</summary>
    public void Validate()
    {
        if (Endpoints is null || Endpoints.Length == 0) throw new ArgumentException("no etcd endpoint is given; pass --etcd http://HOST:PORT[,http://HOST:PORT...]");
        foreach (string e in Endpoints)
        {
            if (!IsEndpoint(e)) throw new ArgumentException($"the etcd endpoint '{e}' is not an absolute http URL with a host and a port, such as http://127.0.0.1:2379");
        }
        if (string.IsNullOrEmpty(Prefix) || Prefix[0] != '/' || Prefix[^1] != '/') throw new ArgumentException($"the etcd key prefix '{Prefix}' must start and end with '/'");
        if (LeaseTtl < MinLeaseTtl) throw new ArgumentException($"the lease TTL {LeaseTtl.TotalSeconds} s is below etcd's 1 s unit");
        if (LeaseTtl.Ticks % TimeSpan.TicksPerSecond != 0) throw new ArgumentException($"the lease TTL {LeaseTtl.TotalSeconds} s is not a whole number of seconds, etcd's unit");
        if (string.IsNullOrWhiteSpace(NodeId) || NodeId.Length > 64 || NodeId.Contains('/')) throw new ArgumentException($"the node id '{NodeId}' must be 1 to 64 characters without '/'");
        if (RequestTimeout <= TimeSpan.Zero) throw new ArgumentException($"the etcd request timeout {RequestTimeout} must be positive");
    }

    /// <summary>
    /// Splits an <c>--etcd URL[,URL...]</c> value into its endpoints, each checked; a bare
    /// <c>HOST:PORT</c> gets <c>http://</c> in front.
    /// </summary>
    public static string[] ParseEndpoints(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var endpoints = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(e => e.Contains("://", StringComparison.Ordinal) ? e : "http://" + e)
            .ToArray();
        if (endpoints.Length == 0) throw new ArgumentException($"'{value}' names no etcd endpoint; give http://HOST:PORT[,http://HOST:PORT...]");
        foreach (string e in endpoints)
        {
            if (!IsEndpoint(e)) throw new ArgumentException($"the etcd endpoint '{e}' is not an http URL with a host and a port, such as http://127.0.0.1:2379");
        }
        return endpoints;
    }

    /// <summary>An http URL with a host and an explicit port, and nothing after them.</summary>
    static bool IsEndpoint(string? url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp || uri.Host.Length == 0) return false;
        if (uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0) return false;
        string authority = url!["http://".Length..].TrimEnd('/');
        int colon = authority.LastIndexOf(':');
        return colon > 0 && colon < authority.Length - 1 && authority[(colon + 1)..].All(char.IsAsciiDigit);
    }
}
