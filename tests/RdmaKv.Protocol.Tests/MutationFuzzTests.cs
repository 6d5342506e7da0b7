using Xunit.Abstractions;

namespace RdmaKv.Protocol.Tests;

/// <summary>Deterministic fuzzing of the decoder with random bytes and with damaged valid frames.</summary>
public class MutationFuzzTests(ITestOutputHelper output)
{
    static readonly byte[] Interesting =
        [0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xc4, 0xc5, 0xc6, 0xcc, 0xcd, 0xce, 0xcf,
         0xd0, 0xd3, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff];

    [Fact]
    public void RandomBytesNeverMakeTheDecoderThrow()
    {
        var oracle = new DecoderOracle();
        var random = new Random(20240601);
        for (int i = 0; i < 20_000; i++)
        {
            var bytes = new byte[random.Next(4097)];
            random.NextBytes(bytes);
            // Half the inputs start like a message so the decoder gets past the array header.
            if (bytes.Length >= 2 && i % 2 == 0)
            {
                bytes[0] = (byte)(0x92 + random.Next(8));
                bytes[1] = (byte)random.Next(Frames.TypeBytes);
            }
            oracle.Check(bytes, $"random input {i}");
        }
        output.WriteLine($"accepted {oracle.Accepted}, refused {oracle.Refused}");
        Assert.True(oracle.Refused > 0);
    }

    [Fact]
    public void DamagedFramesOfEveryTypeAreRefusedOrDecodeWithinLimits()
    {
        var oracle = new DecoderOracle();
        foreach (var (name, payload) in Frames.Samples)
        {
            for (int cut = 0; cut < payload.Length; cut++)
                Assert.False(oracle.Check(payload.AsMemory(0, cut), $"{name} cut at {cut}"));

            for (int bit = 0; bit < payload.Length * 8; bit++)
            {
                byte[] flipped = (byte[])payload.Clone();
                flipped[bit / 8] ^= (byte)(1 << (bit % 8));
                oracle.Check(flipped, $"{name} with bit {bit} flipped");
            }

            for (int at = 0; at < payload.Length; at++)
            {
                foreach (byte b in Interesting)
                {
                    byte[] changed = (byte[])payload.Clone();
                    changed[at] = b;
                    oracle.Check(changed, $"{name} with byte {at} set to {b:x2}");
                }
                oracle.Check(Pack.Concat(payload[..at], payload[(at + 1)..]), $"{name} without byte {at}");
                oracle.Check(Pack.Concat(payload[..at], [0xc0], payload[at..]), $"{name} with nil inserted at {at}");
            }
        }

        var random = new Random(7);
        for (int i = 0; i < 60_000; i++)
        {
            byte[] input = Mutate(random, Frames.Samples[random.Next(Frames.Samples.Count)].Payload);
            oracle.Check(input, $"random mutation {i}");
        }

        output.WriteLine($"accepted {oracle.Accepted}, refused {oracle.Refused}");
        // Both outcomes must occur, or the mutations never reach past the first bytes of the decoder.
        Assert.True(oracle.Accepted > 1000, $"only {oracle.Accepted} mutated frames decoded");
        Assert.True(oracle.Refused > 1000, $"only {oracle.Refused} mutated frames were refused");
    }

    /// <summary>Applies one to four random edits: flip, set, insert, delete, duplicate, truncate or splice.</summary>
    static byte[] Mutate(Random random, byte[] payload)
    {
        var bytes = new List<byte>(payload);
        int edits = 1 + random.Next(4);
        for (int e = 0; e < edits; e++)
        {
            int at = random.Next(bytes.Count + 1);
            switch (random.Next(7))
            {
                case 0 when at < bytes.Count: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                case 1 when at < bytes.Count: bytes[at] = random.Next(2) == 0 ? Interesting[random.Next(Interesting.Length)] : (byte)random.Next(256); break;
                case 2: bytes.InsertRange(at, RandomBytes(random, 1 + random.Next(8))); break;
                case 3: bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + random.Next(8))); break;
                case 4: bytes.InsertRange(at, bytes.GetRange(at, Math.Min(bytes.Count - at, 1 + random.Next(16)))); break;
                case 5: bytes.RemoveRange(at, bytes.Count - at); break;
                default:
                    byte[] other = Frames.Samples[random.Next(Frames.Samples.Count)].Payload;
                    int from = random.Next(other.Length + 1);
                    bytes.RemoveRange(at, bytes.Count - at);
                    bytes.AddRange(other[from..]);
                    break;
            }
        }
        return bytes.ToArray();
    }

    static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
