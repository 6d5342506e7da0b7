namespace RdmaKv.Deploy.Tests;

/// <summary>deploy/rdmakv.service and the configuration it reads, deploy/rdmakv.conf.example.</summary>
[Collection(DeployCollection.Name)]
public sealed class SystemdUnitTests(PublishedBuild build)
{
    /// <summary>Key=value lines by section; a key given twice keeps its last value.</summary>
    static Dictionary<string, Dictionary<string, string>> ReadUnit(string path)
    {
        var sections = new Dictionary<string, Dictionary<string, string>>();
        Dictionary<string, string>? current = null;
        foreach (string raw in File.ReadAllLines(path))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#') || line.StartsWith(';')) continue;
            if (line.StartsWith('[') && line.EndsWith(']'))
            {
                current = sections[line[1..^1]] = [];
                continue;
            }
            Assert.True(current is not null, $"'{line}' in {path} is outside any section");
            int eq = line.IndexOf('=');
            Assert.True(eq > 0, $"'{line}' in {path} is not Key=Value");
            current[line[..eq]] = line[(eq + 1)..];
        }
        return sections;
    }

    [Fact]
    public void SystemdAcceptsTheUnit()
    {
        // verify loads the unit as systemd would and reports unknown keys and missing executables on stderr.
        var verified = Tool.Run("systemd-analyze", ["verify", Repository.SystemdUnit], Repository.Deploy);
        Assert.True(verified.ExitCode == 0 && verified.Error.Trim().Length == 0 && verified.Output.Trim().Length == 0, verified.Describe());
    }

    [Fact]
    public void TheUnitRunsAsItsOwnUserWithUnlimitedMemlockAndTimeToCheckpointOnStop()
    {
        var unit = ReadUnit(Repository.SystemdUnit);
        var service = unit["Service"];
        Assert.Equal("rdmakv", service["User"]);
        Assert.Equal("infinity", service["LimitMEMLOCK"]);
        Assert.Equal("on-failure", service["Restart"]);
        Assert.Equal("SIGTERM", service["KillSignal"]);
        Assert.Equal("/etc/rdmakv/rdmakv.conf", service["EnvironmentFile"]);
        Assert.Equal("/usr/bin/dotnet /opt/rdmakv/rdmakv-server.dll $RDMAKV_ARGS", service["ExecStart"]);
        Assert.Equal("rdmakv", service["StateDirectory"]);
        string stop = service["TimeoutStopSec"];
        Assert.True(stop.EndsWith("min", StringComparison.Ordinal) && int.Parse(stop[..^3], System.Globalization.CultureInfo.InvariantCulture) >= 2,
            $"TimeoutStopSec={stop}: a checkpoint at stop needs minutes, not the default 90 s");
        Assert.Equal("multi-user.target", unit["Install"]["WantedBy"]);
    }

    [Fact]
    public void TheExampleConfigurationGivesOnlyOptionsTheNodeHas()
    {
        var settings = File.ReadAllLines(Repository.SystemdConfigExample)
            .Select(l => l.Trim()).Where(l => l.Length > 0)
            .Select(l => l.TrimStart('#')).Where(l => l.StartsWith("RDMAKV_ARGS=", StringComparison.Ordinal))
            .ToList();
        Assert.True(settings.Count >= 2, "rdmakv.conf.example shows a single node and a cluster node");
        Assert.Contains(settings, s => s.Contains("--cluster ", StringComparison.Ordinal) && s.Contains("--client-token-file ", StringComparison.Ordinal));
        Assert.Contains(File.ReadAllLines(Repository.SystemdConfigExample), l => l.StartsWith("RDMAKV_ARGS=", StringComparison.Ordinal));

        var help = Tool.Run(Tool.Dotnet, [build.Dll("rdmakv-server.dll"), "--help"], build.Output).Succeeded();
        foreach (string setting in settings)
        {
            foreach (string option in setting.Split(' ').Where(w => w.StartsWith("--", StringComparison.Ordinal)))
                Assert.Contains(option, help.Output);
        }
    }
}
