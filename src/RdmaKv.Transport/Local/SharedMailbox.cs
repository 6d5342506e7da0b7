using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.MemoryMappedFiles;
using System.Net.Sockets;

namespace RdmaKv.Transport;

/// <summary>
/// Request/reply frames through a shared-memory file instead of socket writes: the client writes
/// a request into the request area and bumps a sequence word; the node's thread, spinning on it,
/// answers in the reply area the same way. No system call while both sides are busy.
/// A side that waited past its spin budget announces that it sleeps (a flag) and blocks on the
/// connection's socket; the other side then sends one doorbell byte. The socket also tells
/// either side when the other has gone.
/// <code>
/// 0 request sequence | 64 reply sequence | 128 node sleeps | 192 client sleeps
/// 4096 request area (a frame) | 4096 + area: reply area (a frame)
/// </code>
/// Each side copies a received frame out of the shared area before decoding it, so the peer
/// cannot change bytes under the decoder.
/// </summary>
public sealed class SharedMailbox : IFrameTransport
{
    const int RequestSeq = 0, ReplySeq = 64, NodeSleeps = 128, ClientSleeps = 192, AreasStart = 4096;

    readonly MemoryMappedFile _file;
    readonly MemoryMappedViewAccessor _view;
    readonly unsafe byte* _base;
    readonly long _area;
    readonly Socket _doorbell;
    readonly bool _isNode;
    readonly long _baseSpinTicks;
    readonly long _maxSpinTicks;
    long _spinTicks;
    readonly string? _ownedPath;
    byte[] _received = new byte[64 << 10];
    ulong _sequence;

    unsafe SharedMailbox(string path, long area, Socket doorbell, bool isNode, TimeSpan spin, bool create)
    {
        long length = AreasStart + 2 * area;
        if (create)
        {
            using var stream = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.ReadWrite,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            stream.SetLength(length);
            _file = MemoryMappedFile.CreateFromFile(stream, null, length, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, false);
            _ownedPath = path;
        }
        else
        {
            _file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
        }
        _view = _file.CreateViewAccessor(0, length, MemoryMappedFileAccess.ReadWrite);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _base = p + _view.PointerOffset;
        _area = area;
        _doorbell = doorbell;
        _isNode = isNode;
        _baseSpinTicks = _spinTicks = (long)(spin.TotalSeconds * Stopwatch.Frequency);
        _maxSpinTicks = Math.Max(_baseSpinTicks, Stopwatch.Frequency / 1000);
    }

    /// <summary>The node's side: creates the mailbox file for one connection.</summary>
    public static SharedMailbox Create(string path, int maxFrameLength, Socket doorbell, TimeSpan spin) =>
        new(path, AreaFor(maxFrameLength), doorbell, isNode: true, spin, create: true);

    /// <summary>The client's side: maps the file the node created.</summary>
    public static SharedMailbox Open(string path, int maxFrameLength, Socket doorbell, TimeSpan spin) =>
        new(path, AreaFor(maxFrameLength), doorbell, isNode: false, spin, create: false);

    static long AreaFor(int maxFrameLength) => (maxFrameLength + 4 + 4095) & ~4095L;

    unsafe ref ulong Word(int offset) => ref *(ulong*)(_base + offset);
    unsafe byte* OutArea => _base + AreasStart + (_isNode ? _area : 0);
    unsafe byte* InArea => _base + AreasStart + (_isNode ? 0 : _area);
    ref ulong OutSeq => ref Word(_isNode ? ReplySeq : RequestSeq);
    ref ulong InSeq => ref Word(_isNode ? RequestSeq : ReplySeq);
    ref ulong PeerSleeps => ref Word(_isNode ? ClientSleeps : NodeSleeps);
    ref ulong ISleep => ref Word(_isNode ? NodeSleeps : ClientSleeps);

    public unsafe void Send(ReadOnlySpan<byte> frames)
    {
        if (frames.Length > _area) throw new InvalidDataException($"frames of {frames.Length} bytes exceed the mailbox area of {_area}");
        // A client whose last wait was cancelled still owes the node that reply: until it comes, the
        // node may be copying the request area, so overwriting it now could hand the node a torn frame.
        if (!_isNode && !HasArrived() && !WaitForArrival()) throw new SocketException((int)SocketError.ConnectionReset);
        frames.CopyTo(new Span<byte>(OutArea, frames.Length));
        if (!_isNode) _sequence++; // a reply carries the number of the request it answers
        Volatile.Write(ref OutSeq, _sequence);
        Interlocked.MemoryBarrier(); // publish before looking at the peer's sleep flag (Dekker)
        if (Interlocked.Exchange(ref PeerSleeps, 0) == 1) Ring();
    }

    public bool TryReceive(out ReadOnlyMemory<byte> payload)
    {
        payload = default;
        return WaitForArrival() && Take(out payload);
    }

    /// <summary>Spins, then sleeps until the frame is there; false when the connection closed.</summary>
    bool WaitForArrival()
    {
        if (Arrived()) return true;
        long slept = Stopwatch.GetTimestamp();
        // A bell can be stale (rung for a wait that was cancelled): after each one, look again.
        do
        {
            if (!Sleep()) return false;
        }
        while (!HasArrived());
        AdaptSpin(Stopwatch.GetTimestamp() - slept);
        return true;
    }

    /// <summary>
    /// A busy peer that lost its core for a moment (a small machine, other threads) looks idle:
    /// when the frame came soon after we gave up spinning, spin longer next time (up to 1 ms);
    /// when the peer really was idle, come back down to the configured budget.
    /// </summary>
    void AdaptSpin(long sleptTicks)
    {
        if (sleptTicks < _spinTicks) _spinTicks = Math.Min(_spinTicks * 2, _maxSpinTicks);
        else if (sleptTicks > 64 * _spinTicks) _spinTicks = Math.Max(_spinTicks / 2, _baseSpinTicks);
    }

    public ValueTask SendAsync(ReadOnlyMemory<byte> frames, CancellationToken cancel)
    {
        Send(frames.Span);
        return ValueTask.CompletedTask;
    }

    public async ValueTask<ReadOnlyMemory<byte>?> ReceiveAsync(CancellationToken cancel)
    {
        while (!Arrived()) // a stale bell wakes without a frame: look again
        {
            Volatile.Write(ref ISleep, 1);
            Interlocked.MemoryBarrier();
            bool cleared = HasArrived() && Interlocked.Exchange(ref ISleep, 0) == 1;
            if (!cleared && !await ReceiveBellAsync(cancel).ConfigureAwait(false)) return null;
        }
        return Take(out var payload) ? payload : null;
    }

    /// <summary>Client: the reply to request number _sequence is there. Node: a request newer than _sequence is.</summary>
    bool HasArrived()
    {
        ulong seen = Volatile.Read(ref InSeq);
        return _isNode ? seen != _sequence : seen == _sequence;
    }

    bool Arrived()
    {
        long until = Stopwatch.GetTimestamp() + _spinTicks;
        while (!HasArrived())
        {
            if (Stopwatch.GetTimestamp() >= until) return false;
            Thread.SpinWait(8);
        }
        return true;
    }

    /// <summary>
    /// Blocks until the frame arrives; false when the connection closed. Each raised sleep flag is
    /// cleared by exactly one exchange: ours (no bell comes) or the peer's (exactly one bell comes,
    /// after the frame was published), so bells never pile up.
    /// </summary>
    bool Sleep()
    {
        Volatile.Write(ref ISleep, 1);
        Interlocked.MemoryBarrier();
        if (HasArrived()) return Interlocked.Exchange(ref ISleep, 0) == 1 || ReceiveBell();
        return ReceiveBell();
    }

    unsafe bool Take(out ReadOnlyMemory<byte> payload)
    {
        if (_isNode) _sequence = Volatile.Read(ref InSeq);
        int length = BinaryPrimitives.ReadInt32LittleEndian(new ReadOnlySpan<byte>(InArea, 4));
        if (length < 0 || length > _area - 4) throw new InvalidDataException($"mailbox frame of {(uint)length} bytes exceeds the area of {_area}");
        if (_received.Length < length) _received = new byte[Math.Max(length, _received.Length * 2)];
        new ReadOnlySpan<byte>(InArea + 4, length).CopyTo(_received);
        payload = _received.AsMemory(0, length);
        return true;
    }

    void Ring()
    {
        try
        {
            _doorbell.Send([1]);
        }
        catch (SocketException)
        {
            // The peer has gone; it will not wait for this bell.
        }
    }

    /// <summary>False when the peer has gone; a receive timeout on the socket is thrown to the caller.</summary>
    bool ReceiveBell()
    {
        Span<byte> bell = stackalloc byte[1];
        try
        {
            return _doorbell.Receive(bell) == 1;
        }
        catch (SocketException e) when (e.SocketErrorCode is not (SocketError.TimedOut or SocketError.WouldBlock))
        {
            return false;
        }
    }

    async ValueTask<bool> ReceiveBellAsync(CancellationToken cancel)
    {
        var bell = new byte[1];
        try
        {
            return await _doorbell.ReceiveAsync(bell, SocketFlags.None, cancel).ConfigureAwait(false) == 1;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public unsafe void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
        _doorbell.Dispose();
        if (_ownedPath is not null) File.Delete(_ownedPath);
    }
}
