using System.Diagnostics;
using System.Text.Json;

namespace RdmaKv.Verification;

/// <summary>
/// Operations on single-key registers, every key starting absent, with times in ticks of one
/// monotonic clock (<see cref="Stopwatch"/> unless built by hand). Saved as JSON lines: one
/// operation a line, the first line the clock's rate.
/// </summary>
public sealed class History
{
    readonly List<Operation> _operations;

    public History(IEnumerable<Operation> operations, double ticksPerMillisecond = 0)
    {
        _operations = [.. operations];
        TicksPerMillisecond = ticksPerMillisecond > 0 ? ticksPerMillisecond : Stopwatch.Frequency / 1000.0;
    }

    public IReadOnlyList<Operation> Operations => _operations;

    public double TicksPerMillisecond { get; }

    public int Count => _operations.Count;

    /// <summary>Each key's operations, in order of invocation (a register's history is checked on its own).</summary>
    public IEnumerable<(string Key, IReadOnlyList<Operation> Operations)> ByKey() =>
        _operations.GroupBy(o => o.Key, StringComparer.Ordinal)
            .Select(g => (g.Key, (IReadOnlyList<Operation>)[.. g.OrderBy(o => o.Invoke).ThenBy(o => o.Id)]));

    public string Describe(IEnumerable<Operation> operations) =>
        string.Join("\n", operations.OrderBy(o => o.Invoke).ThenBy(o => o.Id).Select(o => "  " + o.Describe(TicksPerMillisecond)));

    sealed record Header(double TicksPerMillisecond);

    static readonly JsonSerializerOptions Json = new() { IncludeFields = false };

    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var writer = new StreamWriter(path);
        writer.WriteLine(JsonSerializer.Serialize(new Header(TicksPerMillisecond), Json));
        foreach (var o in _operations) writer.WriteLine(JsonSerializer.Serialize(o, Json));
    }

    public static History Load(string path)
    {
        using var reader = new StreamReader(path);
        var header = JsonSerializer.Deserialize<Header>(reader.ReadLine() ?? throw new InvalidDataException($"{path} is empty"), Json)!;
        var operations = new List<Operation>();
        for (string? line; (line = reader.ReadLine()) is not null;)
            if (line.Length > 0) operations.Add(JsonSerializer.Deserialize<Operation>(line, Json)!);
        return new History(operations, header.TicksPerMillisecond);
    }
}
