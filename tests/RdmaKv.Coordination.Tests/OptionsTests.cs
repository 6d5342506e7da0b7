using System.Diagnostics;

namespace RdmaKv.Coordination.Tests;

public sealed class OptionsTests
{
    [Fact]
    public void AnEtcdFlagSplitsIntoEndpointsAndABareHostPortBecomesHttp()
    {
        Assert.Equal(["http://10.0.0.1:2379", "http://10.0.0.2:2379"], EtcdOptions.ParseEndpoints("http://10.0.0.1:2379, 10.0.0.2:2379"));
    }

    [Theory]
    [InlineData("", "names no etcd endpoint")]
    [InlineData("http://host", "not an http URL with a host and a port")]
    [InlineData("https://host:2379", "not an http URL")]
    [InlineData("http://host:2379/v3", "not an http URL")]
    [InlineData("http://:x", "not an http URL")]
    public void AMalformedEtcdFlagSaysWhatIsWrong(string flag, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => EtcdOptions.ParseEndpoints(flag));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void InvalidOptionsAreRefusedWithTheReason()
    {
        EtcdOptions Valid() => new() { Endpoints = ["http://127.0.0.1:2379"], NodeId = "n" };
        Valid().Validate();
        Assert.Contains("below etcd's 1 s", Refusal(o => o.LeaseTtl = TimeSpan.FromMilliseconds(500)));
        Assert.Contains("whole number of seconds", Refusal(o => o.LeaseTtl = TimeSpan.FromMilliseconds(1500)));
        Assert.Contains("must start and end with '/'", Refusal(o => o.Prefix = "rdmakv"));
        Assert.Contains("node id", Refusal(o => o.NodeId = ""));
        Assert.Contains("no etcd endpoint", Refusal(o => o.Endpoints = []));
        Assert.Contains("'localhost'", Refusal(o => o.Endpoints = ["localhost"]));

        string Refusal(Action<EtcdOptions> spoil)
        {
            var options = Valid();
            spoil(options);
            return Assert.Throws<ArgumentException>(options.Validate).Message;
        }
    }

    [Fact]
    public async Task StartingAgainstAnEndpointWhereNoEtcdListensFailsSoonNamingIt()
    {
        int port = RdmaKv.Tests.ProcessOutput.FreeLoopbackPort();
        var options = new EtcdOptions { Endpoints = [$"http://127.0.0.1:{port}"], NodeId = "n" };
        var clock = Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<CoordinationException>(() => EtcdCoordinator.StartAsync(options, "{}"));

        Assert.Contains($"http://127.0.0.1:{port}", e.Message);
        Assert.Contains("cannot be reached", e.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"it took {clock.Elapsed}");
    }
}
