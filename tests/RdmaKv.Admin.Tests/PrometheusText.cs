using System.Globalization;
using System.Text.RegularExpressions;

namespace RdmaKv.Admin.Tests;

/// <summary>One sample line of the Prometheus text exposition format.</summary>
sealed record PromSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public bool Has(string label, string value) => Labels.TryGetValue(label, out var v) && v == value;
}

/// <summary>
/// A strict parser of the Prometheus text format (version 0.0.4): every line is a HELP, a TYPE,
/// another comment or a sample; every sample belongs to a family whose TYPE came first; a
/// histogram's buckets rise with 'le', end at +Inf, and +Inf equals _count. Anything else throws.
/// </summary>
static partial class PrometheusText
{
    public static IReadOnlyList<PromSample> Parse(string text)
    {
        var types = new Dictionary<string, string>();
        var samples = new List<PromSample>();
        int lineNumber = 0;
        foreach (string line in text.Split('\n'))
        {
            lineNumber++;
            if (line.Length == 0) continue;
            if (line.StartsWith('#'))
            {
                var meta = Meta().Match(line);
                if (meta.Success && meta.Groups[1].Value == "TYPE")
                {
                    string type = meta.Groups[3].Value;
                    if (type is not ("counter" or "gauge" or "histogram" or "summary" or "untyped"))
                        throw new FormatException($"line {lineNumber}: unknown metric type '{type}'");
                    if (!types.TryAdd(meta.Groups[2].Value, type)) throw new FormatException($"line {lineNumber}: a second TYPE for {meta.Groups[2].Value}");
                }
                continue;
            }
            var m = SampleLine().Match(line);
            if (!m.Success) throw new FormatException($"line {lineNumber} is not a sample: '{line}'");
            string name = m.Groups["name"].Value;
            var labels = new Dictionary<string, string>();
            foreach (Match l in Label().Matches(m.Groups["labels"].Value))
                if (!labels.TryAdd(l.Groups[1].Value, Regex.Unescape(l.Groups[2].Value))) throw new FormatException($"line {lineNumber}: label {l.Groups[1].Value} twice");
            string raw = m.Groups["value"].Value;
            double value = raw switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                _ => double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            if (!types.ContainsKey(Family(name, types))) throw new FormatException($"line {lineNumber}: {name} has no TYPE before it");
            samples.Add(new PromSample(name, labels, value));
        }
        CheckHistograms(samples, types);
        return samples;
    }

    static string Family(string name, Dictionary<string, string> types)
    {
        foreach (string suffix in (ReadOnlySpan<string>)["_bucket", "_sum", "_count"])
        {
            if (name.EndsWith(suffix, StringComparison.Ordinal))
            {
                string baseName = name[..^suffix.Length];
                if (types.TryGetValue(baseName, out var t) && t is "histogram" or "summary") return baseName;
            }
        }
        return name;
    }

    static void CheckHistograms(List<PromSample> samples, Dictionary<string, string> types)
    {
        foreach (var (family, type) in types)
        {
            if (type != "histogram") continue;
            var series = samples.Where(s => s.Name == family + "_bucket")
                .GroupBy(s => string.Join(",", s.Labels.Where(l => l.Key != "le").OrderBy(l => l.Key).Select(l => $"{l.Key}={l.Value}")));
            foreach (var group in series)
            {
                double lastLe = double.NegativeInfinity, lastCount = 0;
                foreach (var bucket in group)
                {
                    double le = bucket.Labels["le"] == "+Inf" ? double.PositiveInfinity : double.Parse(bucket.Labels["le"], CultureInfo.InvariantCulture);
                    if (le <= lastLe) throw new FormatException($"{family}{{{group.Key}}}: le {le} does not rise");
                    if (bucket.Value < lastCount) throw new FormatException($"{family}{{{group.Key}}}: bucket le={le} holds fewer than the one before");
                    lastLe = le;
                    lastCount = bucket.Value;
                }
                if (!double.IsPositiveInfinity(lastLe)) throw new FormatException($"{family}{{{group.Key}}}: no +Inf bucket");
                var count = samples.Single(s => s.Name == family + "_count" && Key(s) == group.Key);
                if (count.Value != lastCount) throw new FormatException($"{family}{{{group.Key}}}: _count {count.Value} differs from the +Inf bucket {lastCount}");
            }
        }
    }

    static string Key(PromSample s) => string.Join(",", s.Labels.OrderBy(l => l.Key).Select(l => $"{l.Key}={l.Value}"));

    public static double Value(this IReadOnlyList<PromSample> samples, string name, params (string Label, string Value)[] labels)
    {
        var found = samples.Where(s => s.Name == name && labels.All(l => s.Has(l.Label, l.Value))).ToList();
        Assert.True(found.Count == 1, $"expected one sample {name} {string.Join(",", labels)}, found {found.Count}");
        return found[0].Value;
    }

    [GeneratedRegex(@"^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)$")]
    private static partial Regex Meta();

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?|[-+]Inf|NaN)( -?\d+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();
}
