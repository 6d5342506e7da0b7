using RdmaKv.Core;

namespace RdmaKv.Client;

public sealed partial class KvClient
{
    /// <summary>Local GETs complete synchronously: they are memory reads.</summary>
    public ValueTask<byte[]?> GetAsync(ReadOnlyMemory<byte> key, CancellationToken cancel = default) =>
        cancel.IsCancellationRequested ? ValueTask.FromCanceled<byte[]?>(cancel) : ValueTask.FromResult(Get(key.Span));

    public ValueTask<byte[]?[]> MultiGetAsync(IReadOnlyList<byte[]> keys, CancellationToken cancel = default) =>
        cancel.IsCancellationRequested ? ValueTask.FromCanceled<byte[]?[]>(cancel) : ValueTask.FromResult(MultiGet(keys));

    public async ValueTask PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, CancellationToken cancel = default)
    {
        Check(StoreStatusText.Validate(key.Length, value.Length));
        if (_cluster is not null) await Task.Run(() => ClusterPut(key.Span, value.Span), cancel).ConfigureAwait(false);
        else await _session.PutAsync(key, value, cancel).ConfigureAwait(false);
    }

    public async ValueTask<bool> DeleteAsync(ReadOnlyMemory<byte> key, CancellationToken cancel = default)
    {
        Check(StoreStatusText.Validate(key.Length, 0));
        if (_cluster is not null) return await Task.Run(() => ClusterDelete(key.Span), cancel).ConfigureAwait(false);
        return await _session.DeleteAsync(key, cancel).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
