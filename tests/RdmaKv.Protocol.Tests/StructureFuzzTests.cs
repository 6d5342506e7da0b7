using MessagePack;
using Xunit.Abstractions;

namespace RdmaKv.Protocol.Tests;

/// <summary>Feeds the decoder well-formed MessagePack of random shape: every structure the wire format can express.</summary>
public class StructureFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void RandomMessagePackStructuresAreRefusedOrDecodeWithinLimits()
    {
        var oracle = new DecoderOracle();
        var random = new Random(424242);
        for (int i = 0; i < 30_000; i++)
        {
            // Most inputs look like a message ([type, id, fields...]) so the type-specific readers run.
            object? value = random.Next(4) == 0 ? RandomValue(random, depth: 0) : RandomMessage(random);
            oracle.Check(Pack.Value(value), $"random structure {i}");
        }
        output.WriteLine($"accepted {oracle.Accepted}, refused {oracle.Refused}");
        Assert.True(oracle.Accepted > 100, $"only {oracle.Accepted} random structures decoded");
        Assert.True(oracle.Refused > 100, $"only {oracle.Refused} random structures were refused");
    }

    [Fact]
    public void DeeplyNestedArraysAreRefusedWithoutExhaustingTheStack()
    {
        var oracle = new DecoderOracle();
        Assert.False(oracle.Check(BuildNested(100_000), "100k nested arrays"));
        Assert.False(oracle.Check(Pack.Concat([0x93, (byte)MessageType.MultiPut, 0x01], BuildNested(50_000)), "multi-put of nested arrays"));
    }

    /// <summary>Nested single-element arrays written directly: the recursive packer would exhaust its own stack.</summary>
    static byte[] BuildNested(int depth) => Pack.Concat(Enumerable.Repeat((byte)0x91, depth).ToArray(), [0xc0]);

    static object?[] RandomMessage(Random random)
    {
        var elements = new object?[2 + random.Next(8)];
        elements[0] = random.Next(10) == 0 ? RandomScalar(random) : (byte)random.Next(Frames.TypeBytes);
        elements[1] = random.Next(10) == 0 ? RandomScalar(random) : (ulong)random.NextInt64();
        for (int i = 2; i < elements.Length; i++) elements[i] = RandomValue(random, depth: 1);
        return elements;
    }

    static object? RandomValue(Random random, int depth)
    {
        int kind = random.Next(depth >= 4 ? 1 : 4);
        switch (kind)
        {
            case 0: return RandomScalar(random);
            case 1: return Enumerable.Range(0, random.Next(5)).Select(_ => RandomValue(random, depth + 1)).ToArray();
            case 2:
                return Enumerable.Range(0, random.Next(4))
                    .Select(_ => new KeyValuePair<object?, object?>(RandomValue(random, depth + 1), RandomValue(random, depth + 1)))
                    .ToList();
            default:
                // A pair or a region descriptor shaped array, the nested structures the decoder reads.
                return random.Next(2) == 0
                    ? new object?[] { RandomBytes(random, 40), RandomBytes(random, 40) }
                    : new object?[] { random.Next(3), (ulong)random.Next(3), (long)random.Next(-1, 3), RandomScalar(random), 0ul, RandomScalar(random) };
        }
    }

    static object? RandomScalar(Random random) => random.Next(16) switch
    {
        0 => null,
        1 => random.Next(2) == 0,
        2 => (byte)random.Next(256),
        3 => random.Next(-40, 40),
        4 => random.NextInt64(long.MinValue, long.MaxValue),
        5 => ulong.MaxValue - (ulong)random.Next(3),
        6 => int.MaxValue + (long)random.Next(-1, 2),
        7 => random.NextDouble() * 1e6,
        8 => new string('s', random.Next(3) == 0 ? Wire.MaxTextLength + random.Next(-1, 2) : random.Next(20)),
        9 => new ExtensionResult((sbyte)random.Next(-128, 128), RandomBytes(random, 10)),
        10 => (byte)random.Next(Frames.TypeBytes),
        11 => random.Next(1, 9),
        _ => RandomBytes(random, random.Next(8) == 0 ? 1100 : 24),
    };

    static byte[] RandomBytes(Random random, int max)
    {
        var bytes = new byte[random.Next(max + 1)];
        random.NextBytes(bytes);
        return bytes;
    }
}
