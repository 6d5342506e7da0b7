namespace RdmaKv.Admin;

/// <summary>How the admin plane listens and samples. The server fills it from its command line.</summary>
public sealed record AdminOptions
{
    /// <summary>Where the admin plane listens, separated by ';'. Loopback only unless an operator says otherwise.</summary>
    public string Urls { get; init; } = DefaultUrls;

    public const string DefaultUrls = "http://127.0.0.1:7480";

    /// <summary>Where the admin token file (<see cref="AdminToken.FileName"/>) is kept: the node's data directory.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>The admin token file when not DATA_DIR/admin-token: a cluster's nodes may share one, so one token steers them all.</summary>
    public string? TokenFile { get; init; }

    /// <summary>How often the dashboard's series get a new point.</summary>
    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How many points each series keeps (300 at 1 s: five minutes).</summary>
    public int HistoryLength { get; init; } = 300;

    /// <summary>Largest request body: one value at most (<see cref="Core.Limits.MaxValueLength"/>).</summary>
    public long MaxRequestBodyBytes { get; init; } = Core.Limits.MaxValueLength;

    /// <summary>
    /// Host names the admin plane answers besides its defaults (localhost, 127.0.0.1, [::1], the
    /// hosts of <see cref="Urls"/> and this machine's name), ';'-separated; a request naming any
    /// other Host gets 400 (no DNS rebinding). "*" accepts every name.
    /// </summary>
    public string? AllowedHosts { get; init; }

    /// <summary>Requests per second each client address may make without the admin token (a token bucket refilled at this rate).</summary>
    public int UnauthenticatedPerSecond { get; init; } = DefaultUnauthenticatedPerSecond;

    public const int DefaultUnauthenticatedPerSecond = 20;

    /// <summary>How many requests without the token one address may make at once before the rate applies.</summary>
    public int UnauthenticatedBurst { get; init; } = 2 * DefaultUnauthenticatedPerSecond;

    /// <summary>Requests per second without the token from all addresses together.</summary>
    public int UnauthenticatedTotalPerSecond { get; init; } = DefaultUnauthenticatedTotalPerSecond;

    public const int DefaultUnauthenticatedTotalPerSecond = 200;

    /// <summary>
    /// How long a refused request waits for its 429: a client looping on one keep-alive connection
    /// is held to one refusal per this delay, so a flood costs the node timers, not CPU.
    /// </summary>
    public TimeSpan RejectDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Open HTTP connections the admin plane accepts at once; Kestrel closes any beyond.</summary>
    public int MaxConnections { get; init; } = 256;

    /// <summary>How long a rendering of /metrics is served again before the next scrape renders anew.</summary>
    public TimeSpan MetricsCacheDuration { get; init; } = DefaultMetricsCacheDuration;

    public static readonly TimeSpan DefaultMetricsCacheDuration = TimeSpan.FromSeconds(1);

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Urls)) throw new ArgumentException("--admin-urls is empty; give one or more URLs such as http://127.0.0.1:7480, separated by ';'");
        foreach (string url in Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp || uri.AbsolutePath != "/")
                throw new ArgumentException($"--admin-urls '{url}' is not an http URL like http://127.0.0.1:7480 (https and paths are not supported)");
        }
        if (SampleInterval < TimeSpan.FromMilliseconds(50) || SampleInterval > TimeSpan.FromMinutes(1))
            throw new ArgumentException($"the admin sample interval {SampleInterval} is out of range (50 ms to 1 minute)");
        if (UnauthenticatedPerSecond is < 1 or > 1_000_000) throw new ArgumentException($"the admin rate limit {UnauthenticatedPerSecond} requests/s is out of range (1 to 1000000)");
        if (UnauthenticatedBurst < 1 || UnauthenticatedBurst > 1_000_000) throw new ArgumentException($"the admin burst {UnauthenticatedBurst} is out of range (1 to 1000000)");
        if (UnauthenticatedTotalPerSecond < UnauthenticatedPerSecond) throw new ArgumentException($"the admin total rate {UnauthenticatedTotalPerSecond} requests/s is below the per-address rate {UnauthenticatedPerSecond}");
        if (RejectDelay < TimeSpan.Zero || RejectDelay > TimeSpan.FromMinutes(1)) throw new ArgumentException($"the admin reject delay {RejectDelay} is out of range (0 to 1 minute)");
        if (MaxConnections is < 8 or > 100_000) throw new ArgumentException($"the admin connection limit {MaxConnections} is out of range (8 to 100000)");
        if (MetricsCacheDuration < TimeSpan.Zero || MetricsCacheDuration > TimeSpan.FromMinutes(1)) throw new ArgumentException($"the /metrics cache duration {MetricsCacheDuration} is out of range (0 to 1 minute)");
        foreach (string host in HostList(AllowedHosts))
        {
            if (host != "*" && Uri.CheckHostName(host.Trim('[', ']')) == UriHostNameType.Unknown)
                throw new ArgumentException($"--admin-hosts '{host}' is not a host name or address");
        }
        if (HistoryLength is < 2 or > 100_000) throw new ArgumentException($"the admin history length {HistoryLength} is out of range (2 to 100000)");
    }

    /// <summary>The names in a ';'- or ','-separated list, trimmed, empty ones dropped.</summary>
    public static string[] HostList(string? list) =>
        list is null ? [] : list.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
