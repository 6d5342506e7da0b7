using System.Buffers;
using MessagePack;

namespace RdmaKv.Protocol.Tests;

/// <summary>Stands for an array header that claims a different count than the elements written after it.</summary>
sealed record LyingArray(int Claimed, object?[] Elements);

/// <summary>
/// Writes arbitrary MessagePack payloads (no length prefix) from plain values, so tests can build
/// frames the encoder would never write: null is nil, byte[] is binary, string is str, object?[] is
/// an array, a dictionary is a map, integers keep their declared type.
/// </summary>
static class Pack
{
    public static byte[] Array(params object?[] elements) => Value(elements);

    public static byte[] Value(object? value)
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(output);
        Write(ref writer, value);
        writer.Flush();
        return output.WrittenSpan.ToArray();
    }

    public static void Write(ref MessagePackWriter w, object? value)
    {
        switch (value)
        {
            case null: w.WriteNil(); break;
            case byte[] b: w.Write(b); break;
            case string s: w.Write(s); break;
            case bool b: w.Write(b); break;
            case byte n: w.Write(n); break;
            case int n: w.Write(n); break;
            case long n: w.Write(n); break;
            case ulong n: w.Write(n); break;
            case double d: w.Write(d); break;
            case ExtensionResult e: w.WriteExtensionFormat(e); break;
            case LyingArray a:
                w.WriteArrayHeader(a.Claimed);
                foreach (object? e in a.Elements) Write(ref w, e);
                break;
            case object?[] a:
                w.WriteArrayHeader(a.Length);
                foreach (object? e in a) Write(ref w, e);
                break;
            case IReadOnlyList<KeyValuePair<object?, object?>> map:
                w.WriteMapHeader(map.Count);
                foreach (var (k, v) in map)
                {
                    Write(ref w, k);
                    Write(ref w, v);
                }
                break;
            default: throw new ArgumentException($"cannot pack {value.GetType()}");
        }
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}
