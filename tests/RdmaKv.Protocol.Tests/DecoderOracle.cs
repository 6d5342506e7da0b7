using RdmaKv.Core;

namespace RdmaKv.Protocol.Tests;

/// <summary>
/// Runs the decoder on hostile input and checks what it promises: it never throws, a refusal
/// carries a short "malformed" reason and a default message, and an accepted message respects
/// every limit and points into the payload it came from.
/// </summary>
sealed class DecoderOracle
{
    public int Accepted { get; private set; }
    public int Refused { get; private set; }

    public bool Check(ReadOnlyMemory<byte> payload, string origin)
    {
        Message m;
        string error;
        bool ok;
        try
        {
            ok = MessageDecoder.TryDecode(payload, out m, out error);
        }
        catch (Exception e)
        {
            Assert.Fail($"TryDecode threw {e.GetType().Name} ({e.Message}) on {origin}: {Hex(payload)}");
            throw;
        }
        if (ok) Accepted++; else Refused++;
        string where = $"{origin}: {Hex(payload)}";
        if (!ok)
        {
            Assert.True(error.StartsWith("malformed", StringComparison.Ordinal) && error.Length <= Wire.MaxTextLength, $"{error} for {where}");
            Assert.True(m.Type == default && m.Id == 0 && m.Key.IsEmpty && m.Value.IsEmpty && m.Pairs is null && m.Node is null, where);
            return false;
        }
        Assert.True(error.Length == 0, where);
        Assert.True(Enum.IsDefined(m.Type), where);
        Within(payload, m.Key, Limits.MaxKeyLength, where);
        Within(payload, m.Value, Limits.MaxValueLength, where);
        Assert.True(!m.HasValue || m.Type == MessageType.ValueReply, where);
        Assert.True(m.Text is null || m.Text.Length <= Wire.MaxTextLength, where);
        Assert.True(m.Credential is null || m.Credential.Length <= Wire.MaxTextLength, where);
        if (m.Pairs is { } pairs)
        {
            Assert.True(m.Type == MessageType.MultiPut && pairs.Length <= Wire.MaxMultiPutPairs, where);
            foreach (var (key, value) in pairs)
            {
                Within(payload, key, Limits.MaxKeyLength, where);
                Within(payload, value, Limits.MaxValueLength, where);
            }
        }
        if (m.Node is { } node)
        {
            Assert.True(node.Regions.Count <= Wire.MaxRegions && node.PartitionCount is >= 1 and <= Wire.MaxRegions, where);
            Assert.True(node.NodeName.Length <= Wire.MaxTextLength, where);
            foreach (var r in node.Regions)
                Assert.True(r.Partition >= 0 && r.Partition < node.PartitionCount && r.Length >= 0 && (r.Path?.Length ?? 0) <= Wire.MaxTextLength, where);
        }
        if (m.Stats is { } stats)
            Assert.True(stats.Count <= Wire.MaxStats && stats.Keys.All(k => k.Length <= Wire.MaxTextLength), where);
        return true;
    }

    static void Within(ReadOnlyMemory<byte> payload, ReadOnlyMemory<byte> field, int max, string where)
    {
        Assert.True(field.Length <= max, $"{field.Length} > {max} for {where}");
        Assert.True(field.IsEmpty || payload.Span.Overlaps(field.Span), $"a field outside the payload for {where}");
    }

    static string Hex(ReadOnlyMemory<byte> payload) =>
        payload.Length <= 256 ? Convert.ToHexString(payload.Span) : Convert.ToHexString(payload.Span[..256]) + $"... ({payload.Length} bytes)";
}
