using System.Text.Json;
using Microsoft.Extensions.Logging;
using RdmaKv.Coordination;
using RdmaKv.Core.Cluster;

namespace RdmaKv.Server.Cluster;

/// <summary>
/// <see cref="ICoordination"/> over etcd (<see cref="EtcdCoordinator"/>): the node registers with
/// a payload naming its run (a fresh id per process start) and its addresses.
/// </summary>
public sealed class EtcdCoordination : ICoordination
{
    readonly EtcdCoordinator _etcd;
    readonly ILogger _log;

    EtcdCoordination(EtcdCoordinator etcd, string incarnation, ILogger log)
    {
        _etcd = etcd;
        Incarnation = incarnation;
        _log = log;
        _etcd.MembersChanged += OnMembers;
        _etcd.MapChanged += OnMap;
        _etcd.ControllerChanged += OnController;
        _etcd.ConnectivityChanged += OnConnectivity;
    }

    /// <summary>Connects to etcd at <paramref name="endpoints"/> (comma-separated URLs) and registers <paramref name="node"/>; throws <see cref="CoordinationException"/> when etcd does not answer.</summary>
    public static EtcdCoordination Start(string endpoints, string node, TimeSpan leaseTtl, string? ucx, string? admin, ILogger log)
    {
        string incarnation = Guid.NewGuid().ToString("N")[..16];
        string payload = JsonSerializer.Serialize(new Dictionary<string, string?> { ["run"] = incarnation, ["ucx"] = ucx, ["admin"] = admin });
        var etcd = EtcdCoordinator.Start(new EtcdOptions { Endpoints = EtcdOptions.ParseEndpoints(endpoints), NodeId = node, LeaseTtl = leaseTtl }, payload, log);
        return new EtcdCoordination(etcd, incarnation, log);
    }

    public string Incarnation { get; }
    public TimeSpan LeaseTtl => _etcd.LeaseTtl;
    public long LeaseId => _etcd.LeaseId;
    public bool LeaseSurelyHeld(TimeSpan margin) => _etcd.LeaseSurelyHeld(margin);
    public bool Connected => _etcd.Connected;
    public string? Problem => _etcd.Problem;
    public IReadOnlyDictionary<string, string> LiveMembers => Runs(_etcd.Members);
    public IReadOnlyDictionary<string, string> ReadMembers() => Runs(_etcd.ReadMembers());
    public ClusterMap? ReadMap() => _etcd.ReadMap().Map;
    public ClusterMap? UpdateMap(Func<ClusterMap, ClusterMap?> change, IReadOnlyCollection<string>? whileAbsent = null) => _etcd.UpdateMap(change, whileAbsent);
    public string? Controller => _etcd.Controller;
    public bool IsController => _etcd.IsController;
    public TimeSpan ControllerFor => _etcd.ControllerFor;

    public event Action? MembersChanged;
    public event Action<ClusterMap>? MapChanged;
    public event Action<bool>? ControllerChanged;

    void OnMembers(IReadOnlyCollection<string> _) => MembersChanged?.Invoke();
    void OnMap(ClusterMap map, long _) => MapChanged?.Invoke(map);
    void OnController(bool now) => ControllerChanged?.Invoke(now);

    void OnConnectivity(bool connected)
    {
        if (connected) _log.LogInformation("etcd answers again: failover is possible again");
        else _log.LogWarning("etcd does not answer ({Problem}): reads and writes go on under the map this node has, but no failover can happen until it answers", Problem);
    }

    /// <summary>Node id to the run each member registered; a payload that is not ours counts as a run of its own text.</summary>
    static Dictionary<string, string> Runs(IReadOnlyDictionary<string, string> members)
    {
        var runs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (id, payload) in members)
        {
            string run = payload;
            try
            {
                if (JsonSerializer.Deserialize<Dictionary<string, string?>>(payload) is { } fields && fields.GetValueOrDefault("run") is { } r) run = r;
            }
            catch (JsonException)
            {
            }
            runs[id] = run;
        }
        return runs;
    }

    public void Dispose()
    {
        _etcd.MembersChanged -= OnMembers;
        _etcd.MapChanged -= OnMap;
        _etcd.ControllerChanged -= OnController;
        _etcd.ConnectivityChanged -= OnConnectivity;
        _etcd.Dispose();
    }
}
