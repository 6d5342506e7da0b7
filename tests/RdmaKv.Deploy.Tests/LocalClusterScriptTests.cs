namespace RdmaKv.Deploy.Tests;

/// <summary>The deployment's shell scripts, without running a cluster.</summary>
[Collection(DeployCollection.Name)]
public sealed class LocalClusterScriptTests
{
    public static TheoryData<string> Scripts() => [.. Directory.GetFiles(Repository.Deploy, "*.sh").Select(f => Path.GetFileName(f))];

    [Theory]
    [MemberData(nameof(Scripts))]
    public void TheScriptParses(string script)
    {
        Tool.Run("bash", "-n", Path.Combine(Repository.Deploy, script)).Succeeded();
    }

    [Fact]
    public void WithoutACommandTheScriptPrintsItsUsageAndFails()
    {
        var usage = Tool.Run("bash", Repository.LocalClusterScript);
        Assert.Equal(2, usage.ExitCode);
        foreach (string command in new[] { "start", "stop", "status", "topology", "stop-node", "start-node", "restart-node", "kill-node", "isolate", "heal" })
            Assert.Contains($"deploy/local-cluster.sh {command}", usage.Output);
    }

    [Fact]
    public void StatusOfAClusterThatNeverStartedFails()
    {
        string state = Path.Combine(Path.GetTempPath(), "rdmakv-never-" + Guid.NewGuid().ToString("N"));
        var status = Tool.Run("bash", [Repository.LocalClusterScript, "status"], environment: new Dictionary<string, string?> { ["RDMAKV_LOCAL_CLUSTER_DIR"] = state });
        Assert.Equal(1, status.ExitCode);
        Assert.Contains("no cluster", status.Output);
    }
}
