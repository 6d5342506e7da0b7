using System.Collections.Concurrent;
using System.Diagnostics;
using RdmaKv.Client;
using RdmaKv.Core;
using RdmaKv.Transport.Ucx;

namespace RdmaKv.EndToEnd.Tests;

[CollectionDefinition(nameof(LinkCutTests), DisableParallelization = true)]
public sealed class LinkCutCollection;

/// <summary>
/// Two hosts: the server in its own network namespace behind a veth pair, the client in this
/// one. The link is cut while a put load runs: the client reports errors within its timeout and
/// recovers when the link returns, and no acknowledged put is lost. Needs root (CI runs as root);
/// runs alone, because it widens this process's UCX_NET_DEVICES to the veth for its duration.
/// </summary>
[Collection(nameof(LinkCutTests))]
public sealed class LinkCutTests : IDisposable
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);
    readonly string _data = TestNode.NewDataDirectory();
    readonly string _name = TestNode.UniqueName();
    ServerProcess? _server;
    VethNamespace? _net;

    string HostSide => _net!.HostSide;
    string NodeAddress => _net!.NodeAddress;

    [Fact]
    public void CuttingTheLinkFailsRequestsWithinTheTimeoutAndTheClientRecoversWhenItReturns()
    {
        _net = new VethNamespace("rdmakv-", 213);
        _server = ServerProcess.StartUnder(_net.Exec,
            new Dictionary<string, string> { ["UCX_TLS"] = "tcp", ["UCX_NET_DEVICES"] = _net.NodeSide },
            _name, _data, "--listen", $"{NodeAddress}:7400", "--admin-urls", "none");
        _server.WaitForOutput("remote clients connect with");
        string token = File.ReadAllText(Path.Combine(_data, "client-token")).Trim();

        UcxEnvironment.Set("UCX_NET_DEVICES", HostSide + ",lo");
        try
        {
            Run(token);
        }
        finally
        {
            UcxEnvironment.Set("UCX_NET_DEVICES", Environment.GetEnvironmentVariable("UCX_NET_DEVICES") ?? "lo");
        }
    }

    void Run(string token)
    {
        using var client = KvClient.Connect($"ucx://{NodeAddress}:7400", new KvClientOptions { Credential = token, Timeout = Timeout });
        var acknowledged = new ConcurrentDictionary<string, string>();
        var errors = new ConcurrentQueue<(long At, string Message)>();
        var clock = Stopwatch.StartNew();
        long cutAt = long.MaxValue, restoredAt = long.MaxValue, lastAck = 0;
        bool stop = false;
        var writer = new Thread(() =>
        {
            for (int i = 0; !Volatile.Read(ref stop) && clock.Elapsed < TimeSpan.FromSeconds(90); i++)
            {
                string key = $"k{i}", value = $"v{i}";
                try
                {
                    client.Put(key, value);
                    acknowledged[key] = value;
                    Volatile.Write(ref lastAck, clock.ElapsedMilliseconds);
                }
                catch (Exception e) when (e is KvConnectionException or KvException)
                {
                    errors.Enqueue((clock.ElapsedMilliseconds, e.Message));
                }
            }
        });
        writer.Start();
        try
        {
            Assert.True(SpinWait.SpinUntil(() => acknowledged.Count >= 50, TimeSpan.FromSeconds(30)), "the load did not start");
            Assert.True(errors.IsEmpty, $"errors before the cut: {string.Join("; ", errors.Select(e => e.Message).Take(3))}");

            cutAt = clock.ElapsedMilliseconds;
            VethNamespace.Ip("link", "set", HostSide, "down");
            Assert.True(SpinWait.SpinUntil(() => !errors.IsEmpty, Timeout * 3), "no error reached the client after the link was cut");
            long firstError = errors.First().At - cutAt;
            Assert.True(firstError <= (Timeout * 2).TotalMilliseconds, $"the first error came {firstError} ms after the cut, timeout {Timeout}");

            // The link stays down until a second request has failed too: requests keep failing, not hanging.
            Assert.True(SpinWait.SpinUntil(() => errors.Count >= 2, Timeout * 4), "requests hang while the link is down");
            restoredAt = clock.ElapsedMilliseconds;
            VethNamespace.Ip("link", "set", HostSide, "up");
            Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref lastAck) > restoredAt, Binaries.Patience),
                $"the client did not recover after the link came back; last errors: {string.Join("; ", errors.Reverse().Select(e => e.Message).Take(3))}");
        }
        finally
        {
            Volatile.Write(ref stop, true);
            writer.Join();
        }

        foreach (var (key, value) in acknowledged)
            Assert.True(client.Get(key) is { } got && System.Text.Encoding.UTF8.GetString(got) == value, $"acknowledged {key}={value} is lost");
        Assert.True(acknowledged.Count > 50, $"only {acknowledged.Count} puts were acknowledged");
        Assert.True(errors.All(e => e.At >= cutAt), "a request failed before the cut");
    }

    public void Dispose()
    {
        _server?.Dispose();
        _net?.Dispose();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
