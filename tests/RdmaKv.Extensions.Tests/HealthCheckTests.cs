using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using RdmaKv.EndToEnd.Tests;

namespace RdmaKv.Extensions.Tests;

/// <summary>AddHealthChecks().AddRdmaKv(): healthy while the node answers, the failure status and the reason otherwise.</summary>
public sealed class HealthCheckTests
{
    static ServiceProvider Services(string connect, HealthStatus? failureStatus = null) =>
        new ServiceCollection()
            .AddLogging()
            .AddRdmaKv(o => o.Connect = connect)
            .AddHealthChecks().AddRdmaKv(failureStatus: failureStatus).Services
            .BuildServiceProvider();

    static Task<HealthReport> Check(ServiceProvider services) => services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

    [Fact]
    public async Task HealthyWhileTheNodeAnswersUnhealthyWithTheReasonWhenItStops()
    {
        var node = new TestNode(o => o with { Partitions = 1, MemoryBytes = 16L << 20 });
        using var services = Services(node.Uri);
        try
        {
            var report = await Check(services);
            Assert.Equal(HealthStatus.Healthy, report.Status);
            Assert.Contains(node.Name, report.Entries["rdmakv"].Description);
        }
        finally
        {
            node.Dispose();
        }
        var down = (await Check(services)).Entries["rdmakv"];
        Assert.Equal(HealthStatus.Unhealthy, down.Status);
        Assert.Contains(node.Name, down.Description);
    }

    [Fact]
    public async Task UnhealthyWithTheReasonWhenNoNodeRuns()
    {
        string name = TestNode.UniqueName();
        using var services = Services("local:" + name, HealthStatus.Degraded);
        var entry = (await Check(services)).Entries["rdmakv"];
        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Contains($"no node named '{name}' is running here", entry.Description);
    }

    [Fact]
    public async Task UnhealthyWithTheReasonWhenTheOptionsAreBad()
    {
        using var services = new ServiceCollection().AddLogging().AddHealthChecks().AddRdmaKv().Services.BuildServiceProvider();
        var entry = (await Check(services)).Entries["rdmakv"];
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Contains("RdmaKv:Connect is missing", entry.Description);
    }
}
