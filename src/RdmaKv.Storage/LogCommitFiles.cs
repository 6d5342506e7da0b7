using System.Buffers.Binary;
using System.Globalization;
using FASTER.core;

namespace RdmaKv.Storage;

/// <summary>
/// The append-only log's commit metadata (<c>aof/log-commits/commit.N.0</c>, FASTER's layout: a
/// length, then FasterLog's recovery info). FASTER's default manager deletes the previous commit
/// before the next one is safely written and ignores write errors, so a full disk left a log
/// with no metadata: the node then started empty. Here each commit is written to a temporary
/// file, flushed and renamed, the one before it is kept, and a failed write is reported (and the
/// log's durable address does not move) instead of being ignored.
/// </summary>
sealed class LogCommitFiles : ILogCommitManager
{
    const string Prefix = "commit.";
    const string Suffix = ".0";
    /// <summary>Present from a fresh log's creation until its first commit: data without metadata is then never acknowledged.</summary>
    const string NeverCommitted = "never-committed";

    readonly string _directory;
    readonly Action<long> _committed;
    readonly Action<Exception> _failed;

    public LogCommitFiles(string logDirectory, Action<long> committed, Action<Exception> failed)
    {
        _directory = Path.Combine(logDirectory, "log-commits");
        _committed = committed;
        _failed = failed;
    }

    /// <summary>
    /// Checks a log directory before FasterLog opens it: recovery must not start empty or older
    /// than the log. Throws <see cref="InvalidDataException"/> saying what it found when the log
    /// holds data but no commit says how much of it counts, or when the newest commit is unreadable.
    /// </summary>
    public static void CheckBeforeOpen(string logDirectory, List<string> warnings)
    {
        string commits = Path.Combine(logDirectory, "log-commits");
        var data = Directory.Exists(logDirectory)
            ? new DirectoryInfo(logDirectory).GetFiles("fasterlog.log.*").Where(f => f.Length > 0).ToList()
            : [];
        long bytes = data.Sum(f => f.Length);
        var numbers = List(commits).ToList();
        if (numbers.Count > 0)
        {
            string? damage = Damage(commits, numbers[0]);
            if (damage is not null)
            {
                throw new InvalidDataException(
                    $"the log's newest commit ({PathOf(commits, numbers[0])}) is unreadable ({damage}); recovering from an older one would drop writes it acknowledged. " +
                    $"The log holds {bytes} bytes in {data.Count} segment file(s). Move that file aside to recover from the commit before it, or restore the data directory from a backup.");
            }
            return;
        }
        if (bytes == 0) return;
        if (File.Exists(Path.Combine(commits, NeverCommitted)))
        {
            warnings.Add($"the log holds {bytes} bytes that were never committed (the node stopped before its first commit); they were never acknowledged and are dropped");
            return;
        }
        throw new InvalidDataException(
            $"the log in {logDirectory} holds {bytes} bytes in {data.Count} segment file(s) ({string.Join(", ", data.Select(f => f.Name))}) but no commit metadata " +
            $"({commits} is {(Directory.Exists(commits) ? "empty" : "missing")}): starting would lose every write in it. " +
            "Restore the data directory from a backup, or move it aside to start empty.");
    }

    /// <summary>Marks a log that has no data and no commit yet (see <see cref="CheckBeforeOpen"/>).</summary>
    public void MarkIfFresh(string logDirectory)
    {
        Directory.CreateDirectory(_directory);
        bool empty = !new DirectoryInfo(logDirectory).GetFiles("fasterlog.log.*").Any(f => f.Length > 0);
        if (empty && !List(_directory).Any()) File.WriteAllBytes(Path.Combine(_directory, NeverCommitted), []);
    }

    public void Commit(long beginAddress, long untilAddress, byte[] commitMetadata, long commitNum, bool forceWriteMetadata)
    {
        string path = PathOf(_directory, commitNum);
        string temporary = path + ".tmp";
        try
        {
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                Span<byte> length = stackalloc byte[4];
                BinaryPrimitives.WriteInt32LittleEndian(length, commitMetadata.Length);
                file.Write(length);
                file.Write(commitMetadata);
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
            File.Delete(Path.Combine(_directory, NeverCommitted));
            // Keep this commit and the one before it; older ones go.
            foreach (long older in List(_directory).Where(n => n < commitNum).Skip(1)) File.Delete(PathOf(_directory, older));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try
            {
                File.Delete(temporary);
            }
            catch (IOException)
            {
            }
            _failed(new IOException($"writing the log's commit {commitNum} ({path}) failed: {e.Message}", e));
            return;
        }
        _committed(untilAddress);
    }

    public byte[] GetCommitMetadata(long commitNum)
    {
        byte[] all = File.ReadAllBytes(PathOf(_directory, commitNum));
        if (all.Length < 4 || BinaryPrimitives.ReadInt32LittleEndian(all) is <= 0 or > int.MaxValue - 4 || BinaryPrimitives.ReadInt32LittleEndian(all) > all.Length - 4)
            throw new InvalidDataException($"commit {commitNum} in {_directory} is damaged");
        return all[4..(4 + BinaryPrimitives.ReadInt32LittleEndian(all))];
    }

    public IEnumerable<long> ListCommits() => List(_directory);

    public void RemoveCommit(long commitNum) => File.Delete(PathOf(_directory, commitNum));

    public void RemoveAllCommits()
    {
        foreach (long n in List(_directory).ToList()) RemoveCommit(n);
    }

    /// <summary>FASTER's default deletes every other commit after recovery; here the one before is kept.</summary>
    public void OnRecovery(long commitNum)
    {
    }

    public void Dispose()
    {
    }

    /// <summary>Commit numbers in <paramref name="directory"/>, newest first (temporary files are not commits).</summary>
    static IEnumerable<long> List(string directory)
    {
        if (!Directory.Exists(directory)) return [];
        var numbers = new List<long>();
        foreach (string file in Directory.EnumerateFiles(directory, Prefix + "*" + Suffix))
        {
            string name = Path.GetFileName(file);
            if (long.TryParse(name.AsSpan(Prefix.Length, name.Length - Prefix.Length - Suffix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out long n))
                numbers.Add(n);
        }
        numbers.Sort((a, b) => b.CompareTo(a));
        return numbers;
    }

    /// <summary>Null when the commit file holds a whole recovery record that passes its checksum; otherwise why not.</summary>
    static string? Damage(string directory, long commitNum)
    {
        var file = new FileInfo(PathOf(directory, commitNum));
        if (!file.Exists) return $"{file.FullName} is missing";
        byte[] all = File.ReadAllBytes(file.FullName);
        if (all.Length < 4) return $"{file.FullName} is {all.Length} bytes, too short for a commit";
        int length = BinaryPrimitives.ReadInt32LittleEndian(all);
        if (length <= 0 || length > all.Length - 4) return $"{file.FullName} says it holds {length} bytes but is {all.Length} bytes long";
        try
        {
            using var reader = new BinaryReader(new MemoryStream(all, 4, length));
            new FasterLogRecoveryInfo().Initialize(reader);
        }
        catch (Exception e) when (e is FasterException or IOException)
        {
            return $"{file.FullName} does not hold a valid commit: {e.Message}";
        }
        return null;
    }

    static string PathOf(string directory, long commitNum) =>
        Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"{Prefix}{commitNum}{Suffix}"));
}
