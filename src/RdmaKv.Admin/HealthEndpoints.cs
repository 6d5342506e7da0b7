using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace RdmaKv.Admin;

/// <summary>
/// Liveness: the process answers. Readiness: the node exists and every condition it reports
/// holds (recovery finished, transports listening, serving its slots); otherwise 503 with what is
/// missing. A condition that holds but is degraded (etcd out of reach: no failover) answers 200
/// with status Degraded.
/// </summary>
static class HealthEndpoints
{
    public const string LiveTag = "live";
    public const string ReadyTag = "ready";

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", Options(LiveTag));
        app.MapHealthChecks("/health/ready", Options(ReadyTag));
    }

    static HealthCheckOptions Options(string tag) => new()
    {
        Predicate = check => check.Tags.Contains(tag),
        ResponseWriter = WriteJson,
        ResultStatusCodes =
        {
            [HealthStatus.Healthy] = StatusCodes.Status200OK,
            [HealthStatus.Degraded] = StatusCodes.Status200OK,
            [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
        },
    };

    static Task WriteJson(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        return JsonSerializer.SerializeAsync(context.Response.Body, new
        {
            status = report.Status.ToString(),
            checks = report.Entries.Select(e => new { name = e.Key, status = e.Value.Status.ToString(), detail = e.Value.Description }),
        }, cancellationToken: context.RequestAborted);
    }
}

sealed class LiveCheck : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancel) =>
        Task.FromResult(HealthCheckResult.Healthy("the admin plane answers"));
}

sealed class ReadyCheck(NodeHolder holder) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancel)
    {
        var node = holder.Node;
        if (node is null) return Task.FromResult(HealthCheckResult.Unhealthy("the node is starting (recovering) or stopping"));
        var checks = node.Readiness();
        var missing = checks.Where(c => !c.Ready).ToList();
        string detail = string.Join("; ", checks.Select(c => $"{c.Name}: {c.Detail}"));
        if (missing.Count > 0) return Task.FromResult(HealthCheckResult.Unhealthy(detail));
        return Task.FromResult(checks.Any(c => c.Degraded) ? HealthCheckResult.Degraded(detail) : HealthCheckResult.Healthy(detail));
    }
}
