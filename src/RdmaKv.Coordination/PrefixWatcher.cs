using Etcdserverpb;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Mvccpb;

namespace RdmaKv.Coordination;

/// <summary>
/// Lists every key under a prefix, then watches the prefix from the next revision, so that no
/// change falls between the two. When the watch breaks (etcd restarted, the link failed, the
/// revision was compacted) it lists again and watches from there: the snapshot carries whatever
/// happened while it was away. Callbacks run one at a time on the watcher's loop.
/// </summary>
sealed class PrefixWatcher
{
    static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);

    readonly EtcdChannel _channel;
    readonly ByteString _key;
    readonly ByteString _rangeEnd;
    readonly TimeSpan _requestTimeout;
    readonly ILogger _log;
    readonly Action<IReadOnlyList<KeyValue>, long> _onSnapshot;
    readonly Action<Event> _onEvent;
    CancellationTokenSource? _current;
    long _revision;

    /// <param name="onSnapshot">every key under the prefix at a revision (the second argument): the whole state.</param>
    /// <param name="onEvent">one put or delete after the last snapshot, in revision order.</param>
    public PrefixWatcher(EtcdChannel channel, string prefix, TimeSpan requestTimeout, ILogger log, Action<IReadOnlyList<KeyValue>, long> onSnapshot, Action<Event> onEvent)
    {
        _channel = channel;
        _key = ByteString.CopyFromUtf8(prefix);
        _rangeEnd = ByteString.CopyFromUtf8(prefix[..^1] + (char)(prefix[^1] + 1));
        _requestTimeout = requestTimeout;
        _log = log;
        _onSnapshot = onSnapshot;
        _onEvent = onEvent;
    }

    /// <summary>Lists the prefix and hands the snapshot over; throws when etcd does not answer.</summary>
    public async Task LoadAsync(CancellationToken cancel)
    {
        var listed = await _channel.Kv.RangeAsync(new RangeRequest { Key = _key, RangeEnd = _rangeEnd },
            deadline: DateTime.UtcNow + _requestTimeout, cancellationToken: cancel);
        _revision = listed.Header.Revision;
        _onSnapshot(listed.Kvs, listed.Header.Revision);
    }

    /// <summary>Breaks the current watch so that the loop lists and watches again (called when etcd is reachable again).</summary>
    public void Restart()
    {
        try
        {
            Volatile.Read(ref _current)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Watches until <paramref name="stop"/>, listing again after every break. Never throws.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        bool mustList = false;
        while (!stop.IsCancellationRequested)
        {
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stop);
            Volatile.Write(ref _current, attempt);
            try
            {
                if (mustList) await LoadAsync(attempt.Token);
                mustList = true;
                await WatchAsync(attempt.Token);
                backoff = TimeSpan.FromMilliseconds(100);
            }
            catch (Exception e) when (!stop.IsCancellationRequested && (CoordinationException.IsEtcdFailure(e) || e is CoordinationException))
            {
                _log.LogDebug("the etcd watch on {Prefix} broke ({Problem}); listing again", _key.ToStringUtf8(), CoordinationException.Describe(e));
            }
            catch (Exception e) when (!stop.IsCancellationRequested)
            {
                _log.LogError(e, "a handler of the etcd watch on {Prefix} failed; listing again", _key.ToStringUtf8());
            }
            Volatile.Write(ref _current, null);
            if (!attempt.IsCancellationRequested || stop.IsCancellationRequested)
            {
                await Task.Delay(backoff, stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }

    async Task WatchAsync(CancellationToken cancel)
    {
        using var call = _channel.Watch.Watch(cancellationToken: cancel);
        await call.RequestStream.WriteAsync(new WatchRequest
        {
            CreateRequest = new WatchCreateRequest { Key = _key, RangeEnd = _rangeEnd, StartRevision = _revision + 1 },
        }, cancel);
        while (await call.ResponseStream.MoveNext(cancel))
        {
            var answer = call.ResponseStream.Current;
            if (answer.CompactRevision > 0) throw new CoordinationException($"etcd compacted revision {answer.CompactRevision} past the watch's {_revision + 1}");
            if (answer.Canceled) throw new CoordinationException($"etcd cancelled the watch: {answer.CancelReason}");
            foreach (var change in answer.Events)
            {
                _onEvent(change);
                _revision = Math.Max(_revision, change.Kv.ModRevision);
            }
        }
        throw new CoordinationException("etcd closed the watch stream");
    }
}
