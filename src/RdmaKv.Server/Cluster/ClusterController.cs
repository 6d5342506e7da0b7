using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RdmaKv.Core.Cluster;

namespace RdmaKv.Server.Cluster;

/// <summary>
/// Runs on every node; acts only while its node is the elected controller. Each pass compares
/// the map with the live members, both read from etcd then (not from a watch's copy, which may
/// lag after a reconnect and would make live nodes look dead):
/// <list type="number">
/// <item>nodes gone (lease expired, or restarted) are failed over (<see cref="Failover.Plan"/>):
///   the backups that take over first refuse the old primary (Fence), the controller waits until
///   every read lease those backups granted it has run out (one TTL after the newest grant, which
///   each backup reports), then stores the next map by compare-and-swap;</item>
/// <item>when the map is whole, missing copies are made (<see cref="Failover.Rereplicate"/>): the
///   primary of each slot copies it to a live node, which then backs it.</item>
/// </list>
/// Slots with no live copy are logged, not served empty. While etcd is out of reach nothing is
/// decided: deaths are logged, and acted on once it answers again.
/// </summary>
public sealed class ClusterController : IDisposable
{
    readonly ICoordination _coordination;
    readonly Func<ClusterMap?> _map;
    readonly string _token;
    readonly string _self;
    readonly ILogger _log;
    readonly AutoResetEvent _wake = new(false);
    readonly CancellationTokenSource _stop = new();
    readonly Thread _thread;
    string _lastReport = "";

    public ClusterController(ICoordination coordination, Func<ClusterMap?> map, string token, string self, ILogger log)
    {
        _coordination = coordination;
        _map = map;
        _token = token;
        _self = self;
        _log = log;
        coordination.MembersChanged += Wake;
        coordination.MapChanged += WakeOnMap;
        coordination.ControllerChanged += WakeOnElection;
        _thread = new Thread(Run) { IsBackground = true, Name = "rdmakv-controller" };
        _thread.Start();
    }

    /// <summary>Slots whose every copy is gone, as of the last pass (for the admin plane).</summary>
    public IReadOnlyList<int> Unavailable { get; private set; } = [];

    /// <summary>The last failover this controller made: what, and how long from deciding to storing the map.</summary>
    public string? LastFailover { get; private set; }

    void Wake() => _wake.Set();
    void WakeOnMap(ClusterMap _) => _wake.Set();
    void WakeOnElection(bool _) => _wake.Set();

    void Run()
    {
        while (!_stop.IsCancellationRequested)
        {
            _wake.WaitOne(TimeSpan.FromMilliseconds(500));
            if (_stop.IsCancellationRequested) return;
            if (!_coordination.IsController) continue;
            try
            {
                Pass();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                if (_coordination.Connected) _log.LogWarning("The controller's pass failed: {Reason}", e.Message);
            }
        }
    }

    void Pass()
    {
        if (!_coordination.Connected) return;
        var map = _coordination.ReadMap();
        if (map is null) return;
        var live = new Dictionary<string, string>(_coordination.ReadMembers(), StringComparer.Ordinal);
        var plan = Failover.Plan(map, live);
        Report(plan, map);
        if (plan.Next is not null)
        {
            FailOver(map, live, plan);
            return;
        }
        foreach (var copy in Failover.Rereplicate(map, live)) Rereplicate(map, copy);
    }

    void FailOver(ClusterMap map, Dictionary<string, string> live, FailoverPlan plan)
    {
        var clock = Stopwatch.StartNew();
        if (plan.Fences.Count > 0)
        {
            // Every read lease those backups granted the old primary lasts at most one TTL from its
            // request, which was before the grant: wait until the newest grant is a TTL old (a
            // whole TTL from now when a backup does not say). A primary killed more than a TTL ago
            // holds no grant by the time its etcd lease expired, so this is mostly no wait at all.
            var wait = TimeSpan.Zero;
            foreach (var (backup, primary) in plan.Fences)
            {
                TimeSpan? since = null;
                Call(backup, session => since = session.Fence(map.Epoch, primary), TimeSpan.FromSeconds(5));
                var left = _coordination.LeaseTtl - (since ?? TimeSpan.Zero);
                if (left > wait) wait = left;
            }
            if (wait > TimeSpan.Zero && _stop.Token.WaitHandle.WaitOne(wait)) return;
        }
        bool fenced = plan.Fences.Count > 0;
        // Stored against the map as it is now, and only while the nodes it fails over for a lost
        // lease are still not members: one that registered again meanwhile holds a fresh lease and
        // may be serving, so it keeps its slots.
        var deposed = plan.Fences.Select(f => f.Primary).Distinct().ToList();
        var stored = _coordination.UpdateMap(current =>
        {
            var now = Failover.Plan(current, live);
            // A promotion whose backup was not fenced waits for the next pass, which fences it.
            return now.Fences.Any(f => !plan.Fences.Contains(f)) ? null : now.Next;
        }, deposed);
        if (stored is null && fenced)
        {
            // The fences stand against epochs up to this one: a new epoch lets the fenced node,
            // still primary, write and hold leases again once it has it.
            stored = _coordination.UpdateMap(current => current.Edit().Build());
            _log.LogWarning("Controller {Node}: the failover of {Nodes} was not stored (one came back or the map changed); stored epoch {Epoch} so the fences lapse",
                _self, string.Join(", ", deposed), stored?.Epoch);
            return;
        }
        if (stored is null) return;
        string promoted = string.Join(", ", plan.Promoted.GroupBy(p => p.Value).Select(g => $"{g.Count()} slots to node {g.Key}"));
        LastFailover = $"epoch {stored.Epoch}: {(promoted.Length > 0 ? "promoted " + promoted : "membership recorded")} in {clock.ElapsedMilliseconds} ms";
        _log.LogWarning("Controller {Node} stored map epoch {Epoch}: {What}", _self, stored.Epoch, LastFailover);
    }

    void Rereplicate(ClusterMap map, Rereplication copy)
    {
        _log.LogInformation("Controller {Node}: node {Primary} copies {Slots} slots to node {Target}", _self, copy.Primary, copy.Slots.Length, copy.Target);
        Call(copy.Primary, session => session.AddBackup(map.Epoch, copy.Target, copy.Slots), TimeSpan.FromMinutes(10));
    }

    /// <summary>Logs what changed since the last pass: nodes gone and slots with no copy left.</summary>
    void Report(FailoverPlan plan, ClusterMap map)
    {
        Unavailable = plan.Unavailable;
        string report = plan.Unavailable.Count == 0 ? "" : $"{plan.Unavailable.Count} slots have no live copy (first: {plan.Unavailable[0]}, led by node {map.Owners[plan.Unavailable[0]]}): they are unavailable until one of their nodes returns";
        if (report == _lastReport) return;
        _lastReport = report;
        if (report.Length > 0) _log.LogError("Controller {Node}: {Report}", _self, report);
    }

    void Call(string nodeId, Action<PeerSession> call, TimeSpan timeout)
    {
        var node = (_map() ?? _coordination.ReadMap())?.Node(nodeId) ?? throw new InvalidOperationException($"node {nodeId} is not in the map");
        using var session = PeerSession.Open(node, _token, timeout);
        call(session);
    }

    public void Dispose()
    {
        _coordination.MembersChanged -= Wake;
        _coordination.MapChanged -= WakeOnMap;
        _coordination.ControllerChanged -= WakeOnElection;
        _stop.Cancel();
        _wake.Set();
        _thread.Join(TimeSpan.FromSeconds(10));
        _stop.Dispose();
        _wake.Dispose();
    }
}
