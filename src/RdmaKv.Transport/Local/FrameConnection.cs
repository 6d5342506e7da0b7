using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;

namespace RdmaKv.Transport;

/// <summary>
/// Length-prefixed frames over a stream socket (a Unix domain socket for local clients).
/// A frame is a 4-byte little-endian payload length and the payload. Receiving spins for a
/// bounded time before it blocks: waking a blocked thread costs far more than a request takes
/// (docs/measurements.md, Local GET and PUT).
/// </summary>
public sealed class FrameConnection : IFrameTransport
{
    readonly Socket _socket;
    readonly int _maxFrame;
    readonly long _spinTicks;
    byte[] _buffer = new byte[64 << 10];
    int _start;
    int _end;

    public FrameConnection(Socket socket, int maxFrameLength, TimeSpan spin)
    {
        _socket = socket;
        _maxFrame = maxFrameLength;
        _spinTicks = (long)(spin.TotalSeconds * Stopwatch.Frequency);
    }

    public Socket Socket => _socket;

    /// <summary>
    /// Receives the next frame. The payload is valid until the next receive. Returns false when
    /// the peer closed the connection; throws <see cref="InvalidDataException"/> on a frame over
    /// the limit (the stream cannot be resynchronized after that: close it).
    /// </summary>
    public bool TryReceive(out ReadOnlyMemory<byte> payload)
    {
        payload = default;
        if (!Fill(4)) return false;
        int length = BinaryPrimitives.ReadInt32LittleEndian(_buffer.AsSpan(_start));
        if (length < 0 || length > _maxFrame)
            throw new InvalidDataException($"frame of {(uint)length} bytes exceeds the limit of {_maxFrame}");
        if (!Fill(4 + length)) return false;
        payload = _buffer.AsMemory(_start + 4, length);
        _start += 4 + length;
        return true;
    }

    public void Send(ReadOnlySpan<byte> frames)
    {
        while (!frames.IsEmpty)
        {
            int sent = _socket.Send(frames);
            frames = frames[sent..];
        }
    }

    public async ValueTask<ReadOnlyMemory<byte>?> ReceiveAsync(CancellationToken cancel)
    {
        if (!await FillAsync(4, cancel)) return null;
        int length = BinaryPrimitives.ReadInt32LittleEndian(_buffer.AsSpan(_start));
        if (length < 0 || length > _maxFrame)
            throw new InvalidDataException($"frame of {(uint)length} bytes exceeds the limit of {_maxFrame}");
        if (!await FillAsync(4 + length, cancel)) return null;
        var payload = _buffer.AsMemory(_start + 4, length);
        _start += 4 + length;
        return payload;
    }

    public async ValueTask SendAsync(ReadOnlyMemory<byte> frames, CancellationToken cancel)
    {
        while (!frames.IsEmpty)
        {
            int sent = await _socket.SendAsync(frames, SocketFlags.None, cancel);
            frames = frames[sent..];
        }
    }

    bool Fill(int needed)
    {
        Prepare(needed);
        while (_end - _start < needed)
        {
            SpinUntilReadable();
            int n = _socket.Receive(_buffer.AsSpan(_end));
            if (n == 0) return false;
            _end += n;
        }
        return true;
    }

    async ValueTask<bool> FillAsync(int needed, CancellationToken cancel)
    {
        Prepare(needed);
        while (_end - _start < needed)
        {
            int n = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancel);
            if (n == 0) return false;
            _end += n;
        }
        return true;
    }

    /// <summary>Makes room for <paramref name="needed"/> bytes from <c>_start</c>: compact, then grow.</summary>
    void Prepare(int needed)
    {
        if (_start == _end) _start = _end = 0;
        if (_buffer.Length - _start >= needed) return;
        if (_buffer.Length < needed)
        {
            var bigger = new byte[Math.Max(needed, _buffer.Length * 2)];
            _buffer.AsSpan(_start, _end - _start).CopyTo(bigger);
            _buffer = bigger;
        }
        else
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
        }
        _end -= _start;
        _start = 0;
    }

    void SpinUntilReadable()
    {
        if (_spinTicks <= 0) return;
        long until = Stopwatch.GetTimestamp() + _spinTicks;
        while (_socket.Available == 0 && Stopwatch.GetTimestamp() < until) Thread.SpinWait(20);
    }

    public void Dispose() => _socket.Dispose();
}
