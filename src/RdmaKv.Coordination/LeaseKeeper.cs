using System.Diagnostics;
using Etcdserverpb;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace RdmaKv.Coordination;

/// <summary>
/// Holds this node's etcd lease: grants it, renews it every quarter of its TTL over one keepalive
/// stream, and grants a new one when etcd says the old one is gone. It remembers when the last
/// successful renewal was sent: etcd restarts the lease's TTL when the request arrives, never
/// before it was sent, so the lease surely lives until that send time plus the TTL.
/// </summary>
sealed class LeaseKeeper
{
    readonly EtcdChannel _channel;
    readonly TimeSpan _requestedTtl;
    readonly ILogger _log;
    readonly object _gate = new();
    long _leaseId;
    long _ttlTicks;
    long _renewedAt;
    bool _connected = true;
    string? _problem;

    public LeaseKeeper(EtcdChannel channel, TimeSpan ttl, ILogger log)
    {
        _channel = channel;
        _requestedTtl = ttl;
        _ttlTicks = ttl.Ticks;
        _log = log;
    }

    /// <summary>Raised on the keeper's loop when etcd becomes unreachable (false) or reachable again (true).</summary>
    public event Action<bool>? ConnectivityChanged;

    /// <summary>The lease in use, 0 while there is none (before the first grant, and after etcd said it expired).</summary>
    public long LeaseId => Interlocked.Read(ref _leaseId);

    /// <summary>The TTL etcd granted (it may raise the requested one to its minimum).</summary>
    public TimeSpan Ttl => TimeSpan.FromTicks(Interlocked.Read(ref _ttlTicks));

    /// <summary>The <see cref="Stopwatch"/> timestamp at which the last successful grant or renewal was sent; 0 if none.</summary>
    public long RenewedAt => Interlocked.Read(ref _renewedAt);

    public bool Connected
    {
        get
        {
            lock (_gate) return _connected;
        }
    }

    public string? Problem
    {
        get
        {
            lock (_gate) return _problem;
        }
    }

    /// <summary>True while now &lt; the last successful renewal's send time + TTL − <paramref name="margin"/>.</summary>
    public bool SurelyHeld(TimeSpan margin)
    {
        long sent = RenewedAt;
        if (sent == 0 || LeaseId == 0) return false;
        return Stopwatch.GetElapsedTime(sent) < Ttl - margin;
    }

    /// <summary>Grants a new lease; throws when etcd does not answer.</summary>
    public async Task GrantAsync(TimeSpan timeout, CancellationToken cancel)
    {
        long sent = Stopwatch.GetTimestamp();
        var granted = await _channel.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = (long)_requestedTtl.TotalSeconds },
            deadline: DateTime.UtcNow + timeout, cancellationToken: cancel);
        if (!string.IsNullOrEmpty(granted.Error)) throw new CoordinationException($"etcd refused a lease: {granted.Error}");
        Interlocked.Exchange(ref _ttlTicks, TimeSpan.FromSeconds(granted.TTL).Ticks);
        Interlocked.Exchange(ref _renewedAt, sent);
        Interlocked.Exchange(ref _leaseId, granted.ID);
        if (granted.TTL != (long)_requestedTtl.TotalSeconds)
            _log.LogInformation("etcd granted lease {Lease:x} a TTL of {Granted} s instead of {Requested} s (its minimum follows its election timeout)", granted.ID, granted.TTL, _requestedTtl.TotalSeconds);
    }

    /// <summary>
    /// Renews the lease every TTL/4 until <paramref name="stop"/>. After each successful renewal it
    /// awaits <paramref name="afterRenewal"/> (the coordinator re-registers and campaigns there), and
    /// after every round, renewed or not, calls <paramref name="everyRound"/>. Never throws.
    /// </summary>
    public async Task RunAsync(Func<CancellationToken, Task> afterRenewal, Action everyRound, CancellationToken stop)
    {
        AsyncDuplexStreamingCall<LeaseKeepAliveRequest, LeaseKeepAliveResponse>? call = null;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                long roundStart = Stopwatch.GetTimestamp();
                try
                {
                    if (LeaseId == 0) await GrantAsync(Ttl, stop);
                    else
                    {
                        call ??= _channel.Lease.LeaseKeepAlive(cancellationToken: stop);
                        await RenewAsync(call, stop);
                    }
                    SetConnected(true, null);
                    await afterRenewal(stop);
                }
                catch (Exception e) when (!stop.IsCancellationRequested && CoordinationException.IsEtcdFailure(e))
                {
                    call?.Dispose();
                    call = null;
                    SetConnected(false, CoordinationException.Describe(e));
                }
                everyRound();
                var wait = Ttl / 4 - Stopwatch.GetElapsedTime(roundStart);
                if (wait > TimeSpan.Zero) await Task.Delay(wait, stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            _log.LogError(e, "the etcd lease keepalive stopped on an unexpected error; this node's lease will expire");
            SetConnected(false, $"the keepalive stopped: {e.Message}");
        }
        finally
        {
            call?.Dispose();
        }
    }

    async Task RenewAsync(AsyncDuplexStreamingCall<LeaseKeepAliveRequest, LeaseKeepAliveResponse> call, CancellationToken stop)
    {
        long lease = LeaseId;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(Ttl);
        long sent = Stopwatch.GetTimestamp();
        await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = lease }, timeout.Token);
        if (!await call.ResponseStream.MoveNext(timeout.Token))
            throw new RpcException(new Status(StatusCode.Unavailable, "etcd closed the keepalive stream"));
        var answer = call.ResponseStream.Current;
        if (answer.TTL <= 0)
        {
            // etcd answers TTL 0 for a lease it no longer has: it expired while this node could not renew it, or was revoked.
            _log.LogWarning("etcd lease {Lease:x} is gone (expired while unrenewed, or revoked); granting a new one and registering again", lease);
            Interlocked.CompareExchange(ref _leaseId, 0, lease);
            Interlocked.Exchange(ref _renewedAt, 0);
            return;
        }
        Interlocked.Exchange(ref _ttlTicks, TimeSpan.FromSeconds(answer.TTL).Ticks);
        Interlocked.Exchange(ref _renewedAt, sent);
    }

    /// <summary>Revokes the lease (a clean stop: the member and controller keys go at once); best effort.</summary>
    public async Task RevokeAsync(TimeSpan timeout)
    {
        long lease = Interlocked.Exchange(ref _leaseId, 0);
        if (lease == 0) return;
        try
        {
            await _channel.Lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease }, deadline: DateTime.UtcNow + timeout);
        }
        catch (Exception e) when (CoordinationException.IsEtcdFailure(e))
        {
            _log.LogInformation("could not revoke etcd lease {Lease:x} ({Problem}); it expires within its TTL", lease, CoordinationException.Describe(e));
        }
    }

    void SetConnected(bool connected, string? problem)
    {
        lock (_gate)
        {
            _problem = problem;
            if (_connected == connected) return;
            _connected = connected;
        }
        if (connected) _log.LogInformation("etcd at {Endpoints} is reachable again", _channel.Endpoints);
        else _log.LogWarning("etcd at {Endpoints} is unreachable: {Problem}. Serving with the map this node has; no failover can happen until it returns", _channel.Endpoints, problem);
        ConnectivityChanged?.Invoke(connected);
    }
}
