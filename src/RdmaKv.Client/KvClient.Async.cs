using RdmaKv.Core;

namespace RdmaKv.Client;

public sealed partial class KvClient
{
    /// <summary>Local GETs complete synchronously: they are memory reads.</summary>
    public ValueTask<byte[]?> GetAsync(ReadOnlyMemory<byte> key, CancellationToken cancel = default) =>
        cancel.IsCancellationRequested ? ValueTask.FromCanceled<byte[]?>(cancel) : ValueTask.FromResult(Get(key.Span));

    public ValueTask<byte[]?[]> MultiGetAsync(IReadOnlyList<byte[]> keys, CancellationToken cancel = default) =>
        cancel.IsCancellationRequested ? ValueTask.FromCanceled<byte[]?[]>(cancel) : ValueTask.FromResult(MultiGet(keys));

    public ValueTask PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, CancellationToken cancel = default) =>
        PutAsync(key, value, Expiry.Never, cancel);

    // RS0026 guards against calls that become ambiguous; these two overloads differ in a required
    // parameter (an expiry or none), so no call can match both.
#pragma warning disable RS0026
    /// <summary>As <see cref="Put(ReadOnlySpan{byte}, ReadOnlySpan{byte}, DateTimeOffset)"/>, asynchronously.</summary>
    public ValueTask PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, DateTimeOffset expiresAt, CancellationToken cancel = default) =>
        PutAsync(key, value, Expiry.From(expiresAt), cancel);
#pragma warning restore RS0026

    async ValueTask PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, long expiresAt, CancellationToken cancel)
    {
        Check(StoreStatusText.Validate(key.Length, value.Length));
        await OnOwnerAsync(key, route => route.Session.PutAsync(key, value, expiresAt, cancel)).ConfigureAwait(false);
    }

    public async ValueTask<bool> DeleteAsync(ReadOnlyMemory<byte> key, CancellationToken cancel = default)
    {
        Check(StoreStatusText.Validate(key.Length, 0));
        return await OnOwnerAsync(key, route => route.Session.DeleteAsync(key, cancel)).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
