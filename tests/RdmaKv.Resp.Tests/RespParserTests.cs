using System.Buffers;
using System.Text;

namespace RdmaKv.Resp.Tests;

public class RespParserTests
{
    sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, Segment? previous)
        {
            Memory = memory;
            if (previous is not null)
            {
                RunningIndex = previous.RunningIndex + previous.Memory.Length;
                previous.Next = this;
            }
        }
    }

    /// <summary>The bytes as a sequence of segments of at most <paramref name="size"/> bytes, as a socket may deliver them.</summary>
    static ReadOnlySequence<byte> InPieces(byte[] bytes, int size)
    {
        if (bytes.Length == 0) return ReadOnlySequence<byte>.Empty;
        Segment first = new(bytes.AsMemory(0, Math.Min(size, bytes.Length)), null), last = first;
        for (int at = size; at < bytes.Length; at += size) last = new Segment(bytes.AsMemory(at, Math.Min(size, bytes.Length - at)), last);
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    static List<List<string>> ParseAll(ReadOnlySequence<byte> buffer, RespParser? parser = null)
    {
        parser ??= new RespParser();
        var command = new RespCommand();
        var commands = new List<List<string>>();
        while (parser.TryRead(ref buffer, command))
            commands.Add([.. Enumerable.Range(0, command.Count).Select(i => Encoding.UTF8.GetString(command[i]))]);
        Assert.Equal(0, buffer.Length);
        return commands;
    }

    static string ProtocolError(string frame, RespLimits? limits = null)
    {
        var buffer = new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(frame));
        var e = Assert.Throws<RespProtocolException>(() => new RespParser(limits ?? RespLimits.Default).TryRead(ref buffer, new RespCommand()));
        return e.Message;
    }

    [Fact]
    public void ACommandArrayIsReadWithItsArguments()
    {
        var commands = ParseAll(new ReadOnlySequence<byte>(RespTestClient.Encode("SET", "key", "a value\r\nwith CRLF")));
        Assert.Equal([["SET", "key", "a value\r\nwith CRLF"]], commands);
    }

    [Fact]
    public void PipelinedCommandsAreReadInOrderFromOneBuffer()
    {
        byte[] bytes = [.. RespTestClient.Encode("SET", "a", "1"), .. RespTestClient.Encode("GET", "a"), .. "PING\r\n"u8, .. RespTestClient.Encode("DEL", "a")];
        Assert.Equal([["SET", "a", "1"], ["GET", "a"], ["PING"], ["DEL", "a"]], ParseAll(new ReadOnlySequence<byte>(bytes)));
    }

    [Fact]
    public void ACommandSplitAtAnyByteIsReadTheSame()
    {
        byte[] bytes = [.. RespTestClient.Encode("MSET", "k1", new string('v', 300), "k2", ""), .. "ECHO  hi\r\n"u8];
        var whole = ParseAll(new ReadOnlySequence<byte>(bytes));
        for (int size = 1; size <= 17; size++) Assert.Equal(whole, ParseAll(InPieces(bytes, size)));
    }

    [Fact]
    public void AnIncompleteCommandConsumesNothingUntilItsLastByteArrives()
    {
        byte[] bytes = RespTestClient.Encode("SET", "key", "value");
        var parser = new RespParser();
        for (int n = 0; n < bytes.Length; n++)
        {
            var buffer = new ReadOnlySequence<byte>(bytes, 0, n);
            Assert.False(parser.TryRead(ref buffer, new RespCommand()), $"{n} bytes of {bytes.Length} made a command");
            Assert.Equal(n, buffer.Length);
        }
    }

    [Fact]
    public void InlineCommandsSplitOnSpacesAndEmptyOnesAreSkipped()
    {
        var buffer = new ReadOnlySequence<byte>("  set   k\tv \r\n\r\n*0\r\nget k\n"u8.ToArray());
        var parser = new RespParser();
        var command = new RespCommand();
        var counts = new List<int>();
        while (parser.TryRead(ref buffer, command)) counts.Add(command.Count);
        Assert.Equal([3, 0, 0, 2], counts);
    }

    [Fact]
    public void ABulkLongerThanTheLargestValueIsAProtocolError()
    {
        Assert.Contains("invalid bulk length", ProtocolError($"*2\r\n$3\r\nSET\r\n${Core.Limits.MaxValueLength + 1}\r\n"));
        // The largest value itself is taken, and the parser waits for its bytes.
        var buffer = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes($"*1\r\n${Core.Limits.MaxValueLength}\r\n"));
        Assert.False(new RespParser().TryRead(ref buffer, new RespCommand()));
    }

    [Fact]
    public void MoreArgumentsThanTheLimitAreAProtocolError() =>
        Assert.Contains("invalid multibulk length", ProtocolError($"*{RespLimits.Default.MaxArguments + 1}\r\n"));

    [Fact]
    public void ACommandWhoseBulksTogetherPassTheLimitIsAProtocolErrorBeforeItsBytesArrive() =>
        Assert.Contains("larger than 100 bytes", ProtocolError("*3\r\n$60\r\n" + new string('a', 60) + "\r\n$60\r\n", new RespLimits { MaxCommandBytes = 100 }));

    [Fact]
    public void NestedArraysAndOtherTypesAreRefusedAsRedisRefusesThem()
    {
        Assert.Equal("expected '$', got '*'", ProtocolError("*2\r\n*1\r\n$1\r\na\r\n"));
        Assert.Equal("expected '$', got ':'", ProtocolError("*1\r\n:5\r\n"));
    }

    [Theory]
    [InlineData("*abc\r\n", "invalid multibulk length")]
    [InlineData("*1\n", "invalid multibulk length")]
    [InlineData("*1\r\n$-1\r\n", "invalid bulk length")]
    [InlineData("*1\r\n$x\r\n", "invalid bulk length")]
    [InlineData("*1\r\n$1\r\nabc\r\n", "expected CRLF after a bulk string")]
    [InlineData("*11111111111111111111111111111111111", "too big multibulk count string")]
    [InlineData("*1\r\n$99999999999999999999999999999999", "too big bulk count string")]
    public void MalformedHeadersAreProtocolErrors(string frame, string error) => Assert.Contains(error, ProtocolError(frame));

    [Fact]
    public void AnInlineLineLongerThanTheLimitIsAProtocolErrorEvenBeforeItsEnd()
    {
        Assert.Equal("too big inline request", ProtocolError(new string('a', 100), new RespLimits { MaxInlineLength = 64 }));
        Assert.Equal("too big inline request", ProtocolError(new string('a', 100) + "\n", new RespLimits { MaxInlineLength = 64 }));
    }
}
