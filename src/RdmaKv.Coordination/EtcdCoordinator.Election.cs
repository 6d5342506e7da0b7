using System.Diagnostics;
using Etcdserverpb;
using Microsoft.Extensions.Logging;
using Mvccpb;

namespace RdmaKv.Coordination;

/// <summary>
/// The controller election: <c>{prefix}controller</c> holds the controller's node id under its
/// lease, created only where absent (compare create_revision == 0). It goes when that lease ends
/// (revoked on a clean stop, expired after a crash), and the watch then tells every other node to
/// campaign; the keepalive also campaigns on each renewal while the key is absent.
/// </summary>
public sealed partial class EtcdCoordinator
{
    readonly string _controllerKey;
    string? _controller;
    long _controllerLease;
    bool _isController;
    long _controllerSince;
    long _controllerRevision;

    /// <summary>The node id holding the controller key now, as the watch last saw it; null when none does.</summary>
    public string? Controller
    {
        get
        {
            lock (_gate) return _controller;
        }
    }

    /// <summary>
    /// True while this node holds the controller key under its current lease and that lease is
    /// surely held (<see cref="LeaseSurelyHeld"/> with no margin). A new controller should wait one
    /// <see cref="LeaseTtl"/> (see <see cref="ControllerFor"/>) before acting, so that the one before it has surely stopped.
    /// </summary>
    public bool IsController
    {
        get
        {
            lock (_gate) return _isController;
        }
    }

    /// <summary>How long this node has been controller without a break; zero when it is not.</summary>
    public TimeSpan ControllerFor
    {
        get
        {
            lock (_gate) return _isController ? Stopwatch.GetElapsedTime(_controllerSince) : TimeSpan.Zero;
        }
    }

    /// <summary>Raised when this node becomes controller (true) or stops being it (false).</summary>
    public event Action<bool>? ControllerChanged;

    /// <summary>Creates the controller key if it is absent; otherwise learns who holds it.</summary>
    async Task CampaignIfVacantAsync(CancellationToken cancel)
    {
        long lease = _lease.LeaseId;
        lock (_gate)
        {
            if (_controller is not null || lease == 0) return;
        }
        var key = Utf8(_controllerKey);
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = key, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = key, Value = Utf8(NodeId), Lease = lease } });
        txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = key } });
        var result = await _channel.Kv.TxnAsync(txn, deadline: DateTime.UtcNow + _options.RequestTimeout, cancellationToken: cancel);
        if (result.Succeeded) SetController(NodeId, lease, result.Header.Revision);
        else if (result.Responses[0].ResponseRange.Kvs is { Count: > 0 } held) SetController(held[0].Value.ToStringUtf8(), held[0].Lease, held[0].ModRevision);
    }

    /// <param name="revision">the revision at which the key was seen absent (a delete's, or a listing's).</param>
    void OnControllerValue(KeyValue? kv, long revision)
    {
        if (kv is null) SetController(null, 0, revision);
        else SetController(kv.Value.ToStringUtf8(), kv.Lease, kv.ModRevision);
        if (kv is null && Volatile.Read(ref _stopped) == 0) CampaignSoon();
    }

    /// <summary>Campaigns off the watch's loop (which must not wait for etcd); failures wait for the next renewal's campaign.</summary>
    void CampaignSoon() => _ = Task.Run(async () =>
    {
        try
        {
            await CampaignIfVacantAsync(_stop.Token);
        }
        catch (Exception e) when (CoordinationException.IsEtcdFailure(e) || Volatile.Read(ref _stopped) != 0)
        {
            _log.LogDebug("etcd: campaign for controller failed ({Problem}); the next renewal tries again", CoordinationException.Describe(e));
        }
        catch (Exception e)
        {
            _log.LogError(e, "etcd: campaign for controller failed; the next renewal tries again");
        }
    });

    /// <param name="revision">the revision of this view of the key: a view older than the last one is ignored.</param>
    void SetController(string? holder, long lease, long revision)
    {
        lock (_eventGate)
        {
            lock (_gate)
            {
                if (revision < _controllerRevision) return;
                _controllerRevision = revision;
                _controller = holder;
                _controllerLease = lease;
            }
            RecheckController();
        }
    }

    /// <summary>Recomputes <see cref="IsController"/> from the key's holder and the lease, raising the event on a change.</summary>
    void RecheckController()
    {
        lock (_eventGate)
        {
            bool now, changed;
            lock (_gate)
            {
                now = Volatile.Read(ref _stopped) == 0 && _controller == NodeId && _controllerLease != 0
                    && _controllerLease == _lease.LeaseId && _lease.SurelyHeld(TimeSpan.Zero);
                changed = now != _isController;
                _isController = now;
                if (changed && now) _controllerSince = Stopwatch.GetTimestamp();
            }
            if (!changed) return;
            if (now) _log.LogInformation("etcd: node {Node} is the controller", NodeId);
            else _log.LogWarning("etcd: node {Node} is no longer the controller", NodeId);
            Raise(() => ControllerChanged?.Invoke(now), nameof(ControllerChanged));
        }
    }

    /// <summary>Drops the controller role at stop; call under <c>_gate</c>.</summary>
    void SetNotController() => _isController = false;
}
