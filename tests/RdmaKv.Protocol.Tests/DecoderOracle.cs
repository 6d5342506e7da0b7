using System.Runtime.CompilerServices;
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
            Assert.Fail($"TryDecode threw {e} on {new Where(origin, payload)}");
            throw;
        }
        if (ok) Accepted++; else Refused++;
        // Formatting the input for every check would dominate the run; only a failure needs it.
        var where = new Where(origin, payload);
        if (!ok)
        {
            if (!error.StartsWith("malformed", StringComparison.Ordinal) || error.Length > Wire.MaxTextLength)
                Assert.Fail($"reason '{error}' for {where}");
            Require(m.Type == default && m.Id == 0 && m.Key.IsEmpty && m.Value.IsEmpty && m.Pairs is null && m.Node is null, where);
            return false;
        }
        Require(error.Length == 0, where);
        Require(Enum.IsDefined(m.Type), where);
        Within(payload, m.Key, Limits.MaxKeyLength, where);
        Within(payload, m.Value, Limits.MaxValueLength, where);
        Require(!m.HasValue || m.Type == MessageType.ValueReply, where);
        Require(m.Text is null || m.Text.Length <= Wire.MaxTextLength, where);
        Require(m.Credential is null || m.Credential.Length <= Wire.MaxTextLength, where);
        Require(m.ExpiresAt >= 0, where);
        Require(m.ExpiresAt == 0 || m.Type is MessageType.Put or MessageType.MovePut or MessageType.ReplicaPut or MessageType.ValueReply, where);
        Require(m.PairExpiries is null || (m.Pairs is { } withExpiries && m.PairExpiries.Length == withExpiries.Length && m.PairExpiries.All(e => e >= 0)), where);
        if (m.Pairs is { } pairs)
        {
            Require(m.Type is MessageType.MultiPut or MessageType.Import && pairs.Length <= Wire.MaxMultiPutPairs, where);
            foreach (var (key, value) in pairs)
            {
                Within(payload, key, Limits.MaxKeyLength, where);
                Within(payload, value, Limits.MaxValueLength, where);
            }
        }
        if (m.Node is { } node)
        {
            Require(node.Regions.Count <= Wire.MaxRegions && node.PartitionCount is >= 1 and <= Wire.MaxRegions, where);
            Require(node.NodeName.Length <= Wire.MaxTextLength, where);
            foreach (var r in node.Regions)
                Require(r.Partition >= 0 && r.Partition < node.PartitionCount && r.Length >= 0 && (r.Path?.Length ?? 0) <= Wire.MaxTextLength, where);
        }
        if (m.Stats is { } stats)
            Require(stats.Count <= Wire.MaxStats && stats.Keys.All(k => k.Length <= Wire.MaxTextLength), where);
        return true;
    }

    static void Within(ReadOnlyMemory<byte> payload, ReadOnlyMemory<byte> field, int max, Where where)
    {
        Require(field.Length <= max, where);
        Require(field.IsEmpty || payload.Span.Overlaps(field.Span), where);
    }

    static void Require(bool condition, Where where, [CallerArgumentExpression(nameof(condition))] string check = "")
    {
        if (!condition) Assert.Fail($"{check} does not hold for {where}");
    }

    readonly record struct Where(string Origin, ReadOnlyMemory<byte> Payload)
    {
        public override string ToString() => $"{Origin}: {Hex(Payload)}";
    }

    static string Hex(ReadOnlyMemory<byte> payload) =>
        payload.Length <= 256 ? Convert.ToHexString(payload.Span) : Convert.ToHexString(payload.Span[..256]) + $"... ({payload.Length} bytes)";
}
