using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;

namespace RdmaKv.Admin;

/// <summary>
/// What keeps the admin plane from being used against the node: the Host names it answers (DNS
/// rebinding) and the rate at which requests without the admin token are served. A request
/// with the token is never limited; one without it draws from its address's token bucket and
/// from one shared by all addresses. A refused request waits <see cref="AdminOptions.RejectDelay"/>
/// and then gets 429 with Retry-After.
/// </summary>
static class AdminProtection
{
    /// <summary>
    /// The Host names the admin plane answers: loopback names, the hosts it listens on (a
    /// wildcard address adds nothing), this machine's name and the operator's extra names.
    /// </summary>
    public static IReadOnlyList<string> AllowedHosts(AdminOptions options)
    {
        var hosts = new List<string> { "localhost", "127.0.0.1", "[::1]" };
        foreach (string url in options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)) continue;
            bool wildcard = uri.Host is "0.0.0.0" or "[::]" or "*" or "+"
                || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)));
            if (!wildcard) hosts.Add(uri.Host);
        }
        string machine = Environment.MachineName;
        if (!string.IsNullOrEmpty(machine)) hosts.Add(machine);
        hosts.AddRange(AdminOptions.HostList(options.AllowedHosts));
        return [.. hosts.Distinct(StringComparer.OrdinalIgnoreCase)];
    }

    public static void AddHostFilter(IServiceCollection services, AdminOptions options) =>
        services.AddHostFiltering(h =>
        {
            h.AllowedHosts = [.. AllowedHosts(options)];
            h.IncludeFailureMessage = false;
        });

    public static void AddRateLimits(IServiceCollection services, AdminOptions options)
    {
        var perAddress = PartitionedRateLimiter.Create<HttpContext, string>(http => Unlimited(http)
            ? RateLimitPartition.GetNoLimiter("token")
            : RateLimitPartition.GetTokenBucketLimiter(http.Connection.RemoteIpAddress?.ToString() ?? "unknown", _ => Bucket(options.UnauthenticatedBurst, options.UnauthenticatedPerSecond)));
        var total = PartitionedRateLimiter.Create<HttpContext, string>(http => Unlimited(http)
            ? RateLimitPartition.GetNoLimiter("token")
            : RateLimitPartition.GetTokenBucketLimiter("all", _ => Bucket(options.UnauthenticatedTotalPerSecond, options.UnauthenticatedTotalPerSecond)));
        services.AddRateLimiter(r =>
        {
            r.GlobalLimiter = PartitionedRateLimiter.CreateChained(perAddress, total);
            r.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            r.OnRejected = (context, cancel) => Refuse(context.HttpContext, context.Lease, options, cancel);
        });
    }

    /// <summary>Requests that carry the admin token (authentication has run) are the operator's: never limited.</summary>
    static bool Unlimited(HttpContext http) => http.User.Identity?.IsAuthenticated == true;

    static TokenBucketRateLimiterOptions Bucket(int burst, int perSecond) => new()
    {
        TokenLimit = burst,
        TokensPerPeriod = perSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    static async ValueTask Refuse(HttpContext http, RateLimitLease lease, AdminOptions options, CancellationToken cancel)
    {
        try
        {
            // A timer, not CPU: the connection cannot send its next request until this one is answered.
            if (options.RejectDelay > TimeSpan.Zero) await Task.Delay(options.RejectDelay, cancel);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        TimeSpan retry = lease.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan after) ? after : TimeSpan.FromSeconds(1);
        http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retry.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        await Problems.Write(http, StatusCodes.Status429TooManyRequests, "Too many requests",
            "this address made more requests without the admin token than the node serves; wait as Retry-After says, or send 'Authorization: Bearer TOKEN'");
    }
}
