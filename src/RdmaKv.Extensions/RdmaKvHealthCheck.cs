using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace RdmaKv.Extensions;

/// <summary>
/// Healthy when every node the client uses answers a request (its counters: a round trip that
/// the node itself serves, unlike a GET, which a local client answers from shared memory);
/// otherwise the registration's failure status, with the reason: the node that did not answer and
/// why, a connection that could not be made, or options that are not valid.
/// </summary>
sealed class RdmaKvHealthCheck(KvClientSource client) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            // The client's calls block (up to KvClientOptions.Timeout); the check's own timeout cancels the wait.
            var nodes = await Task.Run(() => client.Client.StatsByNode(), cancellationToken).WaitAsync(cancellationToken).ConfigureAwait(false);
            var down = nodes.Where(n => !n.Reached).ToList();
            var data = new Dictionary<string, object>
            {
                ["nodes"] = nodes.Count,
                ["unreachable"] = down.Count,
            };
            if (down.Count == 0)
                return HealthCheckResult.Healthy(nodes.Count == 1 ? $"node '{nodes[0].Node}' answered" : $"all {nodes.Count} nodes answered", data);
            string reasons = string.Join("; ", down.Select(n => $"node '{n.Node}' did not answer: {n.Error}"));
            return new HealthCheckResult(context.Registration.FailureStatus, $"{down.Count} of {nodes.Count} nodes did not answer: {reasons}", data: data);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"RdmaKv is not reachable: {e.Message}", e);
        }
    }
}
