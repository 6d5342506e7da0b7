using RdmaKv.Core.Cluster;
using RdmaKv.Server.Cluster;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// A node's session with a move's target never reconnects: once the target failed, the move has
/// failed, and a write forwarded to it must fail at once rather than hold the node's request
/// thread through connect and Hello attempts (a source node once answered nothing for 30 s
/// while its target was dying).
/// </summary>
public sealed class PeerSessionTests : IDisposable
{
    readonly string _name = TestNode.UniqueName();
    readonly string _data = TestNode.NewDataDirectory();
    ServerProcess? _server;

    public PeerSessionTests() => TestNode.UseLoopbackUcx();

    [Fact]
    public void APeerSessionWhoseTargetDiedFailsEveryCallWithoutReconnectingEvenWhenTheTargetIsBack()
    {
        _server = ServerProcess.StartOnFreePorts(_name, _data);
        _server.WaitForOutput("remote clients connect with");
        string ucx = _server.UcxAddress!;
        string token = File.ReadAllText(Path.Combine(_data, "client-token")).Trim();
        using var peer = PeerSession.Open(new ClusterNode("target", ucx, null), token, TimeSpan.FromSeconds(3));

        _server.Signal(Binaries.SigKill);
        _server.WaitForExit();
        Assert.Throws<PeerConnectionException>(() => peer.MovePut("k"u8, "v"u8));

        _server.Dispose();
        _server = ServerProcess.Start(_name, _data, "--listen", ucx, "--admin-urls", "none");
        _server.WaitForOutput("remote clients connect with");
        var again = Assert.Throws<PeerConnectionException>(() => peer.MovePut("k"u8, "v"u8));
        Assert.Contains("failed", again.Message);
        Assert.DoesNotContain("cannot reach", again.Message);
    }

    [Fact]
    public void APeerSessionWhoseTargetStoppedAnsweringFailsTheNextCallAtOnceInsteadOfWaitingAgain()
    {
        _server = ServerProcess.StartOnFreePorts(_name, _data);
        _server.WaitForOutput("remote clients connect with");
        string token = File.ReadAllText(Path.Combine(_data, "client-token")).Trim();
        using var peer = PeerSession.Open(new ClusterNode("target", _server.UcxAddress!, null), token, TimeSpan.FromSeconds(1));

        // A stopped node keeps its connection open, so the connection itself never fails: only
        // the session remembers that the first call went unanswered.
        _server.Signal(SigStop);
        try
        {
            var first = Assert.Throws<PeerConnectionException>(() => peer.MovePut("k"u8, "v"u8));
            Assert.Contains("did not answer within 1 s", first.Message);
            var next = Assert.Throws<PeerConnectionException>(() => peer.MoveDelete("k"u8));
            Assert.StartsWith("the connection to ucx://", next.Message);
            Assert.Contains("did not answer within 1 s", next.Message);
        }
        finally
        {
            _server.Signal(SigCont);
        }
    }

    const int SigStop = 19, SigCont = 18;

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
