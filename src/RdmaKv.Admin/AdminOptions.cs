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
        if (HistoryLength is < 2 or > 100_000) throw new ArgumentException($"the admin history length {HistoryLength} is out of range (2 to 100000)");
    }
}
