namespace RdmaKv.Transport;

/// <summary>
/// A two-way path for length-prefixed frames between one client and one node: a socket, or a
/// shared-memory mailbox. Each side alternates: one sends, the other receives, then the reverse.
/// </summary>
public interface IFrameTransport : IDisposable
{
    /// <summary>Sends whole frames (each a 4-byte little-endian length and its payload).</summary>
    void Send(ReadOnlySpan<byte> frames);

    /// <summary>The next frame's payload, valid until the next receive; false when the peer has gone.</summary>
    bool TryReceive(out ReadOnlyMemory<byte> payload);

    ValueTask SendAsync(ReadOnlyMemory<byte> frames, CancellationToken cancel);

    ValueTask<ReadOnlyMemory<byte>?> ReceiveAsync(CancellationToken cancel);
}
