using System.Net;
using System.Text.RegularExpressions;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>A node listens only where <c>--listen</c> tells it, UCX's own sockets included (issue 15, item 1).</summary>
public sealed partial class ListenAddressTests : IDisposable
{
    readonly string _name = TestNode.UniqueName();
    readonly string _data = TestNode.NewDataDirectory();
    ServerProcess? _server;

    [Fact]
    public void ANodeToldToListenOnLoopbackOpensNoSocketOnAnotherAddressWhenUcxNetDevicesIsUnset()
    {
        TestNode.UseLoopbackUcx(); // for this process; the node below runs without UCX_NET_DEVICES
        _server = ServerProcess.StartUnder(["env", "-u", "UCX_NET_DEVICES"], new Dictionary<string, string> { ["UCX_TLS"] = "tcp" },
            _name, _data, "--listen", "127.0.0.1:0", "--admin-urls", "none");
        _server.WaitForOutput("remote clients connect with");

        var listening = HostilePeer.ListeningSockets(_server.Process.Id);
        Assert.NotEmpty(listening);
        var elsewhere = listening.Where(e => !IPAddress.IsLoopback(e.Address)).ToList();
        Assert.True(elsewhere.Count == 0, $"the node listens on {string.Join(", ", elsewhere)} besides loopback");
        Assert.Matches(DevicesLo(), _server.Output); // and says so
    }

    [GeneratedRegex(@"UCX_NET_DEVICES=lo\b")]
    private static partial Regex DevicesLo();

    public void Dispose()
    {
        _server?.Dispose();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
