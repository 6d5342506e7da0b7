using System.CommandLine;

namespace RdmaKv.Server;

/// <summary>The admin plane's options: --admin-urls, --admin-hosts, --admin-rate-limit, --admin-metrics-cache-ms.</summary>
sealed class AdminCommandLine
{
    static readonly StorageNodeOptions Defaults = new();

    readonly Option<string> _urls = new("--admin-urls")
    {
        Description = "where the admin plane (HTTP API, /metrics, /health, dashboard) listens, ';'-separated, or 'none'",
        DefaultValueFactory = _ => Defaults.AdminUrls,
    };

    readonly Option<string?> _hosts = new("--admin-hosts")
    {
        Description = "host names the admin plane answers besides localhost, 127.0.0.1, [::1], its --admin-urls hosts and this machine's name, ';'-separated, or '*' for any",
    };

    readonly Option<int> _rateLimit = new("--admin-rate-limit")
    {
        Description = "admin requests per second each address may make without the admin token (twice that in a burst); beyond it 429",
        DefaultValueFactory = _ => Defaults.AdminRateLimit,
    };

    readonly Option<int> _metricsCache = new("--admin-metrics-cache-ms")
    {
        Description = "how long one rendering of /metrics is served again, in milliseconds (0: every scrape renders)",
        DefaultValueFactory = _ => (int)Defaults.AdminMetricsCache.TotalMilliseconds,
    };

    public static AdminCommandLine AddTo(RootCommand root)
    {
        var options = new AdminCommandLine();
        root.Options.Add(options._urls);
        root.Options.Add(options._hosts);
        root.Options.Add(options._rateLimit);
        root.Options.Add(options._metricsCache);
        return options;
    }

    /// <summary>The operator named the admin URLs: failing to bind them stops the start.</summary>
    public bool Named(ParseResult parse) => parse.GetResult(_urls) is { Implicit: false };

    public StorageNodeOptions Apply(ParseResult parse, StorageNodeOptions options) => options with
    {
        AdminUrls = parse.GetValue(_urls)!,
        AdminHosts = parse.GetValue(_hosts),
        AdminRateLimit = parse.GetValue(_rateLimit),
        AdminMetricsCache = TimeSpan.FromMilliseconds(parse.GetValue(_metricsCache)),
    };
}
