using System.Runtime.CompilerServices;
using RdmaKv.Client.Routing;
using RdmaKv.Core;

namespace RdmaKv.Client;

/// <summary>
/// Writes, multi-key calls and fallbacks on their way to the router, counted, timed and traced
/// (<see cref="KvClientTelemetry"/>). The writes' callers call these by the names the routed calls
/// had, so a write is measured once, whatever public method made it; single-key GETs are measured
/// in <see cref="Get(ReadOnlySpan{byte})"/> and <see cref="TryGet"/>, where no activity is started.
/// </summary>
public sealed partial class KvClient
{
    /// <summary>A single-key write (Put, Delete and their overloads), named after <paramref name="caller"/>, then <see cref="OnOwnerRouted"/>.</summary>
    T OnOwner<TState, T>(ReadOnlySpan<byte> key, TState state, Func<NodeRoute, TState, T> call, [CallerMemberName] string caller = "")
        where TState : allows ref struct
    {
        var operation = KvClientTelemetry.WriteNamed(caller);
        long started = KvClientTelemetry.Started();
        var activity = KvClientTelemetry.StartActivity(operation, key.Length);
        try
        {
            T result = OnOwnerRouted(key, state, call);
            Completed(operation, started, activity, result is not false, key);
            return result;
        }
        catch (Exception e) when (KvClientTelemetry.Failed(operation, started, e, activity, NodeOf(activity, key)))
        {
            throw;
        }
        finally
        {
            activity?.Dispose();
        }
    }

    /// <summary>As <see cref="OnOwner"/>, for a call that completes later.</summary>
    async ValueTask<T> OnOwnerAsync<T>(ReadOnlyMemory<byte> key, Func<NodeRoute, ValueTask<T>> call, [CallerMemberName] string caller = "")
    {
        var operation = KvClientTelemetry.WriteNamed(caller);
        long started = KvClientTelemetry.Started();
        using var activity = KvClientTelemetry.StartActivity(operation, key.Length);
        try
        {
            T result = await OnOwnerRoutedAsync(key, call).ConfigureAwait(false);
            Completed(operation, started, activity, result is not false, key.Span);
            return result;
        }
        catch (Exception e) when (KvClientTelemetry.Failed(operation, started, e, activity, NodeOf(activity, key.Span)))
        {
            throw;
        }
    }

    /// <summary>One batch of <see cref="PutMany"/> (one message per owner), then <see cref="PutManyRouted"/>.</summary>
    void RoutedPutMany(IReadOnlyList<(byte[] Key, byte[] Value)> pairs)
    {
        long started = KvClientTelemetry.Started();
        using var activity = KvClientTelemetry.StartActivity(KvOperation.PutMany, pairs: pairs.Count);
        try
        {
            PutManyRouted(pairs);
            KvClientTelemetry.Record(KvOperation.PutMany, started, KvClientTelemetry.Ok);
            if (activity is not null) KvClientTelemetry.Stop(activity, _router.SlotCount == 0 ? NodeName : null, KvClientTelemetry.Ok);
        }
        catch (Exception e) when (KvClientTelemetry.Failed(KvOperation.PutMany, started, e, activity))
        {
            throw;
        }
    }

    byte[]?[] MeasuredMultiGet(IReadOnlyList<byte[]> keys)
    {
        long started = KvClientTelemetry.Started();
        try
        {
            var values = RoutedMultiGet(keys);
            KvClientTelemetry.Record(KvOperation.MultiGet, started, KvClientTelemetry.Ok);
            return values;
        }
        catch (Exception e) when (KvClientTelemetry.Failed(KvOperation.MultiGet, started, e))
        {
            throw;
        }
    }

    /// <summary>The GET message of a one-sided read that gave up: counted and traced (the GET around it is measured by its caller).</summary>
    static byte[]? FallbackGet(NodeRoute route, INodeSession session, ReadOnlySpan<byte> key)
    {
        KvClientTelemetry.CountFallback();
        using var activity = KvClientTelemetry.StartActivity(KvOperation.Fallback, key.Length);
        try
        {
            var value = session.FallbackGet(key);
            if (activity is not null) KvClientTelemetry.Stop(activity, NodeOf(route), value is null ? KvClientTelemetry.NotFound : KvClientTelemetry.Ok);
            return value;
        }
        catch (Exception e) when (activity is not null && KvClientTelemetry.OutcomeOf(e) is { } outcome)
        {
            KvClientTelemetry.Stop(activity, NodeOf(route), outcome, e);
            throw;
        }
    }

    void Completed(KvOperation operation, long started, System.Diagnostics.Activity? activity, bool found, ReadOnlySpan<byte> key)
    {
        string outcome = found ? KvClientTelemetry.Ok : KvClientTelemetry.NotFound;
        KvClientTelemetry.Record(operation, started, outcome);
        if (activity is not null) KvClientTelemetry.Stop(activity, NodeOf(activity, key), outcome);
    }

    /// <summary>The node a key's call went to, named for an activity (null when there is none to tag).</summary>
    string? NodeOf(System.Diagnostics.Activity? activity, ReadOnlySpan<byte> key) => activity is null ? null : NodeOf(_router.Route(key));

    static string NodeOf(NodeRoute route) => route.Node?.Id ?? route.Session.View.NodeName;
}
