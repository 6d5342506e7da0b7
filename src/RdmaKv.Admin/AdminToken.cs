using System.Security.Cryptography;
using System.Text;

namespace RdmaKv.Admin;

/// <summary>
/// The bearer token every mutating request and every key lookup must carry. Generated at the
/// node's first start into its data directory (mode 0600, 256 random bits, base64url) and kept
/// across restarts; an operator rotates it by deleting the file and restarting the node.
/// </summary>
public sealed class AdminToken
{
    public const string FileName = "admin-token";
    const int MinLength = 32;
    const int MaxLength = 256;

    readonly byte[] _bytes;

    AdminToken(string value, string path, bool created)
    {
        Value = value;
        Path = path;
        Created = created;
        _bytes = Encoding.ASCII.GetBytes(value);
    }

    public string Value { get; }
    public string Path { get; }

    /// <summary>True when this start generated the token (so it is printed once, now).</summary>
    public bool Created { get; }

    public static AdminToken LoadOrCreate(string dataDirectory) => LoadOrCreateFile(System.IO.Path.Combine(dataDirectory, FileName));

    /// <summary>The token in <paramref name="file"/>, made there when missing (the nodes of a cluster may share one file).</summary>
    public static AdminToken LoadOrCreateFile(string file)
    {
        string path = System.IO.Path.GetFullPath(file);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        if (!File.Exists(path))
        {
            string fresh = Base64Url(RandomNumberGenerator.GetBytes(32));
            try
            {
                using var stream = new FileStream(path, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = FileAccess.Write,
                    UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                });
                stream.Write(Encoding.ASCII.GetBytes(fresh + "\n"));
                stream.Flush(flushToDisk: true);
                return new AdminToken(fresh, path, created: true);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process created it between the check and the open: use theirs.
            }
        }
        var mode = File.GetUnixFileMode(path);
        if ((mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
            throw new InvalidOperationException($"the admin token file {path} can be read or written by other users (mode {Convert.ToString((int)mode, 8)}); run 'chmod 600 {path}' or delete it to get a new token");
        string value = File.ReadAllText(path).Trim();
        // Another node sharing the file made it a moment ago and has not written its one line yet.
        for (long deadline = Environment.TickCount64 + 2000; value.Length == 0 && Environment.TickCount64 < deadline;)
        {
            Thread.Sleep(10);
            value = File.ReadAllText(path).Trim();
        }
        if (value.Length is < MinLength or > MaxLength || value.Any(c => c is <= ' ' or > '~'))
            throw new InvalidOperationException($"the admin token file {path} does not hold a token of {MinLength} to {MaxLength} printable characters; delete it and restart to get a new one");
        return new AdminToken(value, path, created: false);
    }

    /// <summary>Compares in constant time, so the answer's timing does not leak the token.</summary>
    public bool Matches(ReadOnlySpan<char> presented)
    {
        if (presented.Length != _bytes.Length || Encoding.ASCII.GetByteCount(presented) != _bytes.Length) return false;
        Span<byte> bytes = stackalloc byte[_bytes.Length];
        Encoding.ASCII.GetBytes(presented, bytes);
        return CryptographicOperations.FixedTimeEquals(bytes, _bytes);
    }

    static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
