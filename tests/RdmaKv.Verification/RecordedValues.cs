using System.Text;

namespace RdmaKv.Verification;

/// <summary>
/// What the recorder writes for a unique id: the id, then (when padding is asked for) '|' and a
/// run of one letter whose length and letter follow from the id. Varying lengths free and reuse
/// extents of many sizes, the case where a stale cached location could point at another key's
/// bytes; and a read can check every byte, so a torn or foreign value is caught, not trusted.
/// </summary>
static class RecordedValues
{
    /// <summary>The stored form of <paramref name="id"/>: a fixed padding when <paramref name="fixedPadding"/> &gt; 0, else one of 0..<paramref name="maxPadding"/> bytes.</summary>
    public static string Make(string id, int fixedPadding, int maxPadding)
    {
        uint hash = Fnv(id);
        int length = fixedPadding > 0 ? fixedPadding : maxPadding > 0 ? (int)(hash % (uint)(maxPadding + 1)) : 0;
        return length == 0 && fixedPadding == 0 ? id : id + "|" + new string((char)('a' + hash % 26), length);
    }

    /// <summary>The id a read value stands for; a value that is not exactly what its id would store comes back as "corrupt:..." (never written, so the checker flags it).</summary>
    public static string? Read(byte[]? bytes, int fixedPadding, int maxPadding)
    {
        if (bytes is null) return null;
        string text = Encoding.UTF8.GetString(bytes);
        int bar = text.IndexOf('|', StringComparison.Ordinal);
        string id = bar < 0 ? text : text[..bar];
        return Make(id, fixedPadding, maxPadding) == text ? id : $"corrupt({bytes.Length} bytes):{text[..Math.Min(text.Length, 48)]}";
    }

    static uint Fnv(string text)
    {
        uint hash = 2166136261;
        foreach (char c in text) hash = (hash ^ c) * 16777619;
        return hash;
    }
}
