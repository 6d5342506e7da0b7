using Microsoft.Extensions.Diagnostics.HealthChecks;
using RdmaKv.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds RdmaKv to an application's health checks.</summary>
public static class RdmaKvHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a check that is healthy when the node (every node, for a cluster) that the shared client
    /// uses answers a request, and reports <paramref name="failureStatus"/> with the reason otherwise.
    /// It uses the client that <see cref="RdmaKvServiceCollectionExtensions.AddRdmaKv(IServiceCollection, Configuration.IConfiguration)"/> registers.
    /// </summary>
    /// <param name="builder">The application's health checks.</param>
    /// <param name="name">The check's name in reports.</param>
    /// <param name="failureStatus">What a failed check reports; null for <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">Tags to filter checks by (e.g. "ready").</param>
    /// <param name="timeout">How long the check may take; null for no limit of its own (the client's timeout still applies).</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    public static IHealthChecksBuilder AddRdmaKv(this IHealthChecksBuilder builder, string name = "rdmakv", HealthStatus? failureStatus = null, IEnumerable<string>? tags = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        RdmaKvServiceCollectionExtensions.AddClient(builder.Services);
        builder.Add(new HealthCheckRegistration(name, sp => new RdmaKvHealthCheck(sp.GetRequiredService<KvClientSource>()), failureStatus, tags, timeout));
        return builder;
    }
}
