using System.Globalization;
using System.IO.Hashing;
using System.Text;

namespace RdmaKv.Storage;

/// <summary>A completed checkpoint: FASTER's token, where log replay starts, and a checksum of each of its files.</summary>
sealed record CheckpointManifest(long Sequence, Guid Token, long LogStart, DateTimeOffset Taken, IReadOnlyList<CheckpointFile> Files);

sealed record CheckpointFile(string RelativePath, long Length, ulong Checksum);

/// <summary>
/// The checkpoints a node may recover from. FASTER writes a checkpoint's files; once they are
/// complete this catalog writes a manifest beside them (temporary file, flush, rename), so a
/// checkpoint without a manifest was never finished, and one whose files no longer match their
/// checksums is damaged: recovery skips both and falls back to the one before.
/// </summary>
static class CheckpointCatalog
{
    const string Suffix = ".manifest";
    const string Magic = "rdmakv-checkpoint 1";

    /// <summary>Manifests in <paramref name="directory"/>, newest first; unreadable ones are reported and skipped.</summary>
    public static List<CheckpointManifest> Load(string directory, List<string> warnings)
    {
        var found = new List<CheckpointManifest>();
        if (!Directory.Exists(directory)) return found;
        foreach (string path in Directory.EnumerateFiles(directory, "*" + Suffix))
        {
            var manifest = TryParse(File.ReadAllLines(path));
            if (manifest is null) warnings.Add($"checkpoint manifest {path} is unreadable; it is skipped");
            else found.Add(manifest);
        }
        found.Sort((a, b) => b.Sequence.CompareTo(a.Sequence));
        return found;
    }

    /// <summary>Records a finished checkpoint: checksums every file FASTER wrote for <paramref name="token"/>.</summary>
    public static CheckpointManifest Write(string directory, long sequence, Guid token, long logStart)
    {
        var files = new List<CheckpointFile>();
        foreach (string file in FilesOf(directory, token))
            files.Add(new CheckpointFile(Path.GetRelativePath(directory, file), new FileInfo(file).Length, Checksum(file)));
        if (files.Count == 0) throw new IOException($"checkpoint {token} left no files in {directory}");
        var manifest = new CheckpointManifest(sequence, token, logStart, DateTimeOffset.UtcNow, files);

        var text = new StringBuilder();
        text.AppendLine(Magic);
        text.AppendLine(CultureInfo.InvariantCulture, $"sequence {sequence}");
        text.AppendLine(CultureInfo.InvariantCulture, $"token {token}");
        text.AppendLine(CultureInfo.InvariantCulture, $"log-start {logStart}");
        text.AppendLine(CultureInfo.InvariantCulture, $"taken {manifest.Taken.ToUnixTimeMilliseconds()}");
        foreach (var f in files) text.AppendLine(CultureInfo.InvariantCulture, $"file {f.Length} {f.Checksum:x16} {f.RelativePath}");
        text.AppendLine("end");

        string path = PathOf(directory, manifest);
        string temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(Encoding.UTF8.GetBytes(text.ToString()));
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
        return manifest;
    }

    /// <summary>Null when every file is there with its length and checksum; otherwise what is wrong.</summary>
    public static string? Verify(string directory, CheckpointManifest manifest)
    {
        foreach (var f in manifest.Files)
        {
            string file = Path.Combine(directory, f.RelativePath);
            if (!File.Exists(file)) return $"{f.RelativePath} is missing";
            long length = new FileInfo(file).Length;
            if (length != f.Length) return $"{f.RelativePath} is {length} bytes, the manifest says {f.Length}";
            if (Checksum(file) != f.Checksum) return $"{f.RelativePath} does not match its checksum";
        }
        return null;
    }

    /// <summary>Deletes a checkpoint: its manifest first (so it is never half there), then its files.</summary>
    public static void Delete(string directory, CheckpointManifest manifest)
    {
        File.Delete(PathOf(directory, manifest));
        DeleteFiles(directory, manifest.Token);
    }

    /// <summary>Deletes FASTER's files for a checkpoint that has no manifest (unfinished or already dropped).</summary>
    public static void DeleteFiles(string directory, Guid token)
    {
        if (!Directory.Exists(directory)) return;
        foreach (string dir in Directory.EnumerateDirectories(directory, token.ToString(), SearchOption.AllDirectories).ToList())
            Directory.Delete(dir, recursive: true);
    }

    /// <summary>Tokens of every checkpoint FASTER has files for.</summary>
    public static IEnumerable<Guid> TokensOnDisk(string directory)
    {
        if (!Directory.Exists(directory)) yield break;
        foreach (string dir in Directory.EnumerateDirectories(directory, "*", SearchOption.AllDirectories))
            if (Guid.TryParse(Path.GetFileName(dir), out Guid token)) yield return token;
    }

    static IEnumerable<string> FilesOf(string directory, Guid token) =>
        Directory.EnumerateDirectories(directory, token.ToString(), SearchOption.AllDirectories)
            .SelectMany(d => Directory.EnumerateFiles(d, "*", SearchOption.AllDirectories))
            .Order(StringComparer.Ordinal);

    static string PathOf(string directory, CheckpointManifest m) =>
        Path.Combine(directory, $"{m.Sequence:D10}-{m.Token}{Suffix}");

    static ulong Checksum(string file)
    {
        var hash = new XxHash64();
        using var stream = File.OpenRead(file);
        hash.Append(stream);
        return hash.GetCurrentHashAsUInt64();
    }

    static CheckpointManifest? TryParse(string[] lines)
    {
        if (lines.Length < 6 || lines[0] != Magic || lines[^1] != "end") return null;
        long sequence = 0, logStart = 0, taken = 0;
        Guid token = Guid.Empty;
        var files = new List<CheckpointFile>();
        foreach (string line in lines[1..^1])
        {
            string[] parts = line.Split(' ', 4);
            bool ok = parts[0] switch
            {
                "sequence" => long.TryParse(parts[1], CultureInfo.InvariantCulture, out sequence),
                "token" => Guid.TryParse(parts[1], out token),
                "log-start" => long.TryParse(parts[1], CultureInfo.InvariantCulture, out logStart),
                "taken" => long.TryParse(parts[1], CultureInfo.InvariantCulture, out taken),
                "file" => parts.Length == 4 && TryAddFile(parts, files),
                _ => false,
            };
            if (!ok) return null;
        }
        return token == Guid.Empty || files.Count == 0
            ? null
            : new CheckpointManifest(sequence, token, logStart, DateTimeOffset.FromUnixTimeMilliseconds(taken), files);
    }

    static bool TryAddFile(string[] parts, List<CheckpointFile> files)
    {
        if (!long.TryParse(parts[1], CultureInfo.InvariantCulture, out long length)
            || !ulong.TryParse(parts[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong checksum))
            return false;
        files.Add(new CheckpointFile(parts[3], length, checksum));
        return true;
    }
}
