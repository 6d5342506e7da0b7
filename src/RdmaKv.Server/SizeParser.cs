using System.Globalization;

namespace RdmaKv.Server;

/// <summary>Parses sizes such as <c>256m</c>, <c>1g</c>, <c>65536</c> (binary units: k = 1024).</summary>
public static class SizeParser
{
    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        text = text.Trim().ToLowerInvariant();
        if (text.EndsWith('b')) text = text[..^1];
        if (text.Length == 0) return false;
        int shift = text[^1] switch { 'k' => 10, 'm' => 20, 'g' => 30, 't' => 40, _ => 0 };
        if (shift != 0) text = text[..^1];
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n <= 0 || n > (long.MaxValue >> shift))
            return false;
        bytes = n << shift;
        return true;
    }
}
