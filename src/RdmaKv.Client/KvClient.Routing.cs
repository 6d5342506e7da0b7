using RdmaKv.Client.Routing;
using RdmaKv.Core;

namespace RdmaKv.Client;

/// <summary>
/// Every call on its way through the router: each key goes to its route's node (GETs read that
/// node's regions one-sided); in a cluster a WrongSlot answer refreshes the map and retries, and a
/// node that is down is routed around when a newer map names another owner, unseen by the caller.
/// A node on its own has nowhere to redirect, so its failures reach the caller as they came.
/// </summary>
public sealed partial class KvClient
{
    /// <summary>
    /// For a read, WrongSlot (the slot moved or failed over, or its node lost its lease) and
    /// Unavailable are worth a retry under the newest map.
    /// </summary>
    bool Moved(KvException e, int attempt) => e.Status is StoreStatus.WrongSlot or StoreStatus.Unavailable && attempt < _router.MovedRetries;

    /// <summary>
    /// For a write, only a refusal is: WrongSlot means nothing was applied. After Unavailable (a
    /// backup may have applied it) or a connection lost once the request had left, the write may
    /// have taken effect, and applying it again later could undo a write that came in between and
    /// that readers saw (the failover nemesis caught 0-80, 1-78, 0-80 on one key): the caller
    /// gets that outcome as it is.
    /// </summary>
    bool Refused(KvException e, int attempt) => e.Status == StoreStatus.WrongSlot && attempt < _router.MovedRetries;

    /// <summary>
    /// Looks <paramref name="key"/> up on its owner: true when the value is in the reader's
    /// LastValue; false with the node's answer when the one-sided read gave up (null: absent).
    /// </summary>
    bool Find(ReadOnlySpan<byte> key, ReaderContext reader, out byte[]? fromNode)
    {
        Check(StoreStatusText.Validate(key.Length, 0));
        for (int attempt = 0; ; attempt++)
        {
            var version = _router.Version;
            var route = _router.Route(key);
            try
            {
                var session = route.Session;
                var result = Lookup(key, reader, session, route.Cache);
                // A node retires its regions after it gave a slot away, and a session fetches
                // the map before it uses new regions (RemoteSession.BeforeNewRegions). So when the
                // map changed while this read ran, what it read may be the old owner's copy of a
                // moved key (an old value, or nothing once dropped): read again from the new owner.
                if (!ReferenceEquals(_router.Version, version) && _router.Route(key) != route) continue;
                fromNode = result is LookupResult.Found or LookupResult.NotFound ? null : FallbackGet(route, session, key);
                return result == LookupResult.Found;
            }
            catch (KvException e) when (Moved(e, attempt))
            {
                _router.Redirected(route, attempt);
            }
            catch (KvConnectionException) when (attempt < _router.MovedRetries && _router.Rerouted(route))
            {
                // The node is down, and another node's map says the key lives elsewhere now.
            }
            catch (KvConnectionException e) when (!route.Names(e))
            {
                throw route.Failed(e);
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="call"/> (a write) on the key's owner. On WrongSlot fetches the map and
    /// retries; on a connection failure retries only when the request never left and another node
    /// has a newer map, else fails naming the node (see <see cref="Refused"/>).
    /// </summary>
    T OnOwnerRouted<TState, T>(ReadOnlySpan<byte> key, TState state, Func<NodeRoute, TState, T> call) where TState : allows ref struct
    {
        for (int attempt = 0; ; attempt++)
        {
            var route = _router.Route(key);
            try
            {
                return call(route, state);
            }
            catch (KvException e) when (Refused(e, attempt))
            {
                _router.Redirected(route, attempt);
            }
            catch (KvConnectionException e) when (e.NotSent && attempt < _router.MovedRetries && _router.Rerouted(route))
            {
                // The node is down, and another node's map says the key lives elsewhere now.
            }
            catch (KvConnectionException e) when (!route.Names(e))
            {
                if (!e.NotSent) _router.Rerouted(route); // the next call goes to the new owner
                throw route.Failed(e);
            }
        }
    }

    /// <summary>As <see cref="OnOwnerRouted"/>, for a call that completes later.</summary>
    async ValueTask<T> OnOwnerRoutedAsync<T>(ReadOnlyMemory<byte> key, Func<NodeRoute, ValueTask<T>> call)
    {
        for (int attempt = 0; ; attempt++)
        {
            var route = _router.Route(key.Span);
            try
            {
                return await call(route).ConfigureAwait(false);
            }
            catch (KvException e) when (Refused(e, attempt))
            {
                _router.Redirected(route, attempt);
            }
            catch (KvConnectionException e) when (e.NotSent && attempt < _router.MovedRetries && _router.Rerouted(route))
            {
                // The node is down, and another node's map says the key lives elsewhere now.
            }
            catch (KvConnectionException e) when (!route.Names(e))
            {
                if (!e.NotSent) _router.Rerouted(route);
                throw route.Failed(e);
            }
        }
    }

    /// <summary>One multi-put per owner; a group refused as WrongSlot (none of it applied) is regrouped under the new map, a group that may have been applied is not sent again.</summary>
    void PutManyRouted(IReadOnlyList<(byte[] Key, byte[] Value)> pairs)
    {
        var pending = pairs;
        for (int attempt = 0; pending.Count > 0; attempt++)
        {
            var retry = new List<(byte[] Key, byte[] Value)>();
            foreach (var group in pending.GroupBy(p => _router.Route(p.Key)).ToList())
            {
                var route = group.Key;
                try
                {
                    route.Session.PutMany([.. group]);
                }
                catch (KvException e) when (Refused(e, attempt))
                {
                    _router.Redirected(route, attempt);
                    retry.AddRange(group);
                }
                catch (KvConnectionException e) when (e.NotSent && attempt < _router.MovedRetries && _router.Rerouted(route))
                {
                    retry.AddRange(group); // never sent: the node is down and a newer map names other owners
                }
                catch (KvConnectionException e) when (!route.Names(e))
                {
                    if (!e.NotSent) _router.Rerouted(route);
                    throw route.Failed(e);
                }
            }
            pending = retry;
        }
    }

    /// <summary>The keys of each owner, owners in parallel (over UCX each batch keeps its READs in flight together).</summary>
    byte[]?[] RoutedMultiGet(IReadOnlyList<byte[]> keys)
    {
        var values = new byte[]?[keys.Count];
        var version = _router.Version;
        var groups = Enumerable.Range(0, keys.Count).GroupBy(i => _router.Route(keys[i])).ToList();
        if (groups.Count == 1) MultiGetOn(groups[0].Key, [.. groups[0]], keys, values, version);
        else Parallel.ForEach(groups, group => MultiGetOn(group.Key, [.. group], keys, values, version));
        return values;
    }

    /// <summary>The keys at <paramref name="indexes"/>, read through <paramref name="route"/> into <paramref name="values"/>.</summary>
    void MultiGetOn(NodeRoute route, int[] indexes, IReadOnlyList<byte[]> keys, byte[]?[] values, object version)
    {
        byte[][] mine = [.. indexes.Select(i => keys[i])];
        byte[]?[] got;
        try
        {
            got = route.Session.MultiGet(mine, route.Cache, ThreadReader, k => GetValue(k));
        }
        catch (KvException e) when (e.Status == StoreStatus.WrongSlot && _router.MovedRetries > 0)
        {
            got = [.. mine.Select(k => GetValue(k))];
        }
        catch (KvConnectionException) when (_router.Rerouted(route))
        {
            got = [.. mine.Select(k => GetValue(k))];
        }
        catch (KvConnectionException e) when (!route.Names(e))
        {
            throw route.Failed(e);
        }
        // As for a single GET: keys whose owner changed meanwhile are read again from it.
        if (!ReferenceEquals(_router.Version, version))
            for (int j = 0; j < mine.Length; j++)
                if (_router.Route(mine[j]) != route) got[j] = GetValue(mine[j]);
        for (int j = 0; j < indexes.Length; j++) values[indexes[j]] = got[j];
    }
}
