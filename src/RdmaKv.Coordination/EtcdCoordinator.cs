using System.Diagnostics;
using Etcdserverpb;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mvccpb;

namespace RdmaKv.Coordination;

/// <summary>
/// A node's link to etcd: its lease and member key, the live members, the cluster map and the
/// controller election, all under <see cref="EtcdOptions.Prefix"/> (see docs/coordination.md).
/// One keepalive loop renews the lease and re-registers; one watch on the prefix keeps members,
/// map and controller current, listing again whenever it breaks. Events run on those loops, one at
/// a time: handlers must return quickly and not block on this coordinator's calls. Thread-safe.
/// </summary>
public sealed partial class EtcdCoordinator : IDisposable
{
    readonly EtcdOptions _options;
    readonly ILogger _log;
    readonly EtcdChannel _channel;
    readonly LeaseKeeper _lease;
    readonly PrefixWatcher _watcher;
    readonly CancellationTokenSource _stop = new();
    readonly object _gate = new();
    readonly object _eventGate = new();
    Task _keepalive = Task.CompletedTask;
    Task _watch = Task.CompletedTask;
    int _stopped;

    EtcdCoordinator(EtcdOptions options, string memberPayload, ILogger log)
    {
        _options = options;
        _log = log;
        _memberPayload = memberPayload;
        _channel = new EtcdChannel(options.Endpoints);
        _lease = new LeaseKeeper(_channel, options.LeaseTtl, log);
        _lease.ConnectivityChanged += OnConnectivityChanged;
        MapStore = EtcdMapStore.Over(_channel, options.Prefix, options.RequestTimeout);
        _membersPrefix = options.Prefix + "members/";
        _memberKey = _membersPrefix + options.NodeId;
        _controllerKey = options.Prefix + "controller";
        _watcher = new PrefixWatcher(_channel, options.Prefix, options.RequestTimeout, log, OnSnapshot, OnEvent);
    }

    /// <summary>
    /// Connects: grants the lease, registers <c>{prefix}members/{NodeId}</c> = <paramref name="memberPayload"/>
    /// under it, reads members, map and controller, campaigns if there is no controller, and starts
    /// the keepalive and the watch. Returns with every property current.
    /// </summary>
    /// <param name="memberPayload">what others read about this node (e.g. JSON with its ucx and admin addresses).</param>
    /// <exception cref="ArgumentException">The options are invalid; the message says which.</exception>
    /// <exception cref="CoordinationException">etcd did not answer; the message names the endpoints and why.</exception>
    public static async Task<EtcdCoordinator> StartAsync(EtcdOptions options, string memberPayload, ILogger? log = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(memberPayload);
        options.Validate();
        var coordinator = new EtcdCoordinator(options, memberPayload, log ?? NullLogger.Instance);
        try
        {
            await coordinator._lease.GrantAsync(options.RequestTimeout, cancel);
            await coordinator.RegisterAsync(cancel);
            await coordinator._watcher.LoadAsync(cancel);
            await coordinator.CampaignIfVacantAsync(cancel);
        }
        catch (Exception e) when (CoordinationException.IsEtcdFailure(e) && !cancel.IsCancellationRequested)
        {
            coordinator.Abandon();
            throw new CoordinationException($"etcd at {string.Join(",", options.Endpoints)} cannot be reached: {CoordinationException.Describe(e)}", e);
        }
        catch
        {
            coordinator.Abandon();
            throw;
        }
        var stop = coordinator._stop.Token;
        coordinator._keepalive = coordinator.RunLoop(() => coordinator._lease.RunAsync(coordinator.AfterRenewalAsync, coordinator.EveryRound, stop));
        coordinator._watch = coordinator.RunLoop(() => coordinator._watcher.RunAsync(stop));
        coordinator._log.LogInformation("etcd: node {Node} registered at {Endpoints} with lease {Lease:x} (TTL {Ttl} s)",
            options.NodeId, coordinator._channel.Endpoints, coordinator._lease.LeaseId, coordinator.LeaseTtl.TotalSeconds);
        return coordinator;
    }

    /// <summary>Blocking <see cref="StartAsync"/>.</summary>
    public static EtcdCoordinator Start(EtcdOptions options, string memberPayload, ILogger? log = null) =>
        StartAsync(options, memberPayload, log).GetAwaiter().GetResult();

    /// <summary>This node's id.</summary>
    public string NodeId => _options.NodeId;

    /// <summary>The map key's store: read, create, compare-and-replace (also forwarded below).</summary>
    public EtcdMapStore MapStore { get; }

    /// <summary>True while the last call to etcd succeeded (starts true: <see cref="StartAsync"/> reached it).</summary>
    public bool Connected => _lease.Connected;

    /// <summary>Why etcd is unreachable (a gRPC status and detail), for logs and health; null while it answers.</summary>
    public string? Problem => _lease.Problem;

    /// <summary>Raised once per change of <see cref="Connected"/>: false when etcd stops answering, true when it answers again.</summary>
    public event Action<bool>? ConnectivityChanged;

    /// <summary>The lease this node holds now (0 between losing one and being granted the next).</summary>
    public long LeaseId => _lease.LeaseId;

    /// <summary>The TTL etcd granted, which may exceed <see cref="EtcdOptions.LeaseTtl"/> (etcd raises TTLs to its minimum).</summary>
    public TimeSpan LeaseTtl => _lease.Ttl;

    /// <summary>
    /// The <see cref="Stopwatch"/> timestamp at which the last successful renewal (or grant) was sent,
    /// null if none holds: the lease surely lives until then + <see cref="LeaseTtl"/>.
    /// </summary>
    public long? LastRenewedSendTimestamp => _lease.RenewedAt is var sent and not 0 && _lease.LeaseId != 0 ? sent : null;

    /// <summary>The wall-clock time of <see cref="LastRenewedSendTimestamp"/>, for display only (decide with <see cref="LeaseSurelyHeld"/>).</summary>
    public DateTime? LastRenewedSendTime => LastRenewedSendTimestamp is { } sent ? DateTime.UtcNow - Stopwatch.GetElapsedTime(sent) : null;

    /// <summary>
    /// True while now &lt; last successful renewal's send time + <see cref="LeaseTtl"/> − <paramref name="margin"/>,
    /// on the monotonic clock: until then no other node can have seen this lease expire. A primary
    /// acknowledges writes only while this holds.
    /// </summary>
    public bool LeaseSurelyHeld(TimeSpan margin) => _lease.SurelyHeld(margin);

    /// <summary>Runs a background loop whose end, however it comes, is never an unobserved exception.</summary>
    Task RunLoop(Func<Task> loop) => Task.Run(async () =>
    {
        try
        {
            await loop();
        }
        catch (Exception e) when (_stop.IsCancellationRequested)
        {
            _log.LogDebug("etcd: a loop ended at stop with {Error}", e.GetType().Name);
        }
        catch (Exception e)
        {
            _log.LogError(e, "etcd: a background loop failed; this node's lease will expire");
        }
    });

    async Task AfterRenewalAsync(CancellationToken cancel)
    {
        if (Interlocked.Read(ref _registeredLease) != _lease.LeaseId) await RegisterAsync(cancel);
        await CampaignIfVacantAsync(cancel);
    }

    void EveryRound() => RecheckController();

    void OnConnectivityChanged(bool connected)
    {
        // A watch stream over a link that failed silently may hang: list and watch again.
        if (connected) _watcher.Restart();
        Raise(() => ConnectivityChanged?.Invoke(connected), nameof(ConnectivityChanged));
    }

    void OnSnapshot(IReadOnlyList<KeyValue> kvs, long revision)
    {
        var members = new Dictionary<string, string>(StringComparer.Ordinal);
        KeyValue? map = null, controller = null;
        foreach (var kv in kvs)
        {
            string key = kv.Key.ToStringUtf8();
            if (key.StartsWith(_membersPrefix, StringComparison.Ordinal)) members[key[_membersPrefix.Length..]] = kv.Value.ToStringUtf8();
            else if (key == MapStore.Key) map = kv;
            else if (key == _controllerKey) controller = kv;
        }
        SetMembers(members);
        if (map is not null) OnMapValue(map);
        OnControllerValue(controller, revision);
    }

    void OnEvent(Event change)
    {
        string key = change.Kv.Key.ToStringUtf8();
        bool deleted = change.Type == Event.Types.EventType.Delete;
        if (key.StartsWith(_membersPrefix, StringComparison.Ordinal)) OnMemberEvent(key[_membersPrefix.Length..], deleted ? null : change.Kv.Value.ToStringUtf8());
        else if (key == MapStore.Key)
        {
            if (deleted) _log.LogWarning("etcd: someone deleted the cluster map at {Key}; keeping map epoch {Epoch}", key, CurrentMap?.Epoch);
            else OnMapValue(change.Kv);
        }
        else if (key == _controllerKey) OnControllerValue(deleted ? null : change.Kv, change.Kv.ModRevision);
    }

    /// <summary>Invokes a caller's handler, serialised with every other event; its exception is logged, never thrown into etcd's loops.</summary>
    void Raise(Action handler, string name)
    {
        lock (_eventGate)
        {
            t_inHandler = true;
            try
            {
                handler();
            }
            catch (Exception e)
            {
                _log.LogError(e, "a handler of EtcdCoordinator.{Event} threw", name);
            }
            finally
            {
                t_inHandler = false;
            }
        }
    }

    /// <summary>Set while a handler runs on this thread: a Dispose from there must not wait for the loop it runs on.</summary>
    [ThreadStatic]
    static bool t_inHandler;

    static ByteString Utf8(string s) => ByteString.CopyFromUtf8(s);

    /// <summary>Stops the loops and revokes the lease, so this node's member and controller keys go at once.</summary>
    public void Dispose() => Stop(revoke: true);

    /// <summary>
    /// Stops the loops without revoking the lease, as a crash would: the member (and controller)
    /// keys stay until the lease's TTL runs out. For tests of failover.
    /// </summary>
    public void Abandon() => Stop(revoke: false);

    void Stop(bool revoke)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0) return;
        _stop.Cancel();
        if (!t_inHandler)
        {
            try
            {
                Task.WaitAll([_keepalive, _watch], TimeSpan.FromSeconds(10));
            }
            catch (AggregateException)
            {
                // The loops end on cancellation; that is all that can surface here.
            }
        }
        if (revoke) _lease.RevokeAsync(_options.RequestTimeout).GetAwaiter().GetResult();
        lock (_gate) SetNotController();
        // _stop stays undisposed: a campaign started by the watch may still read its token.
        _channel.Dispose();
    }
}
