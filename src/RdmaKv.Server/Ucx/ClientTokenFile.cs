using System.Security.Cryptography;

namespace RdmaKv.Server.Ucx;

/// <summary>
/// The shared secret remote clients present in the handshake, before UCX makes anything for them, and again in Hello: 32 random bytes
/// in hex, made on first start in the data directory with mode 0600. Clients read it from
/// RDMAKV_TOKEN or RDMAKV_TOKEN_FILE, or the CLI's --token-file.
/// </summary>
public static class ClientTokenFile
{
    public const string FileName = "client-token";

    /// <summary>The token in <paramref name="path"/>; made there when the file does not exist yet (nodes of a cluster may race to make a shared one).</summary>
    public static string LoadOrCreate(string path, out bool created)
    {
        created = false;
        if (File.Exists(path)) return Read(path);
        string token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        try
        {
            // CreateNew is O_EXCL: of nodes racing to make a shared file, exactly one makes it
            // (File.Move without overwrite is not atomic here: several racers each "made" it).
            using (var f = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }))
            {
                using var w = new StreamWriter(f);
                w.WriteLine(token);
                w.Flush();
                f.Flush(flushToDisk: true);
            }
            created = true;
            return token;
        }
        catch (IOException) when (File.Exists(path))
        {
            return Read(path);
        }
    }

    static string Read(string path)
    {
        string text = File.ReadAllText(path).Trim();
        // Another node made the file a moment ago and has not written its line yet.
        for (long deadline = Environment.TickCount64 + 2000; text.Length == 0 && Environment.TickCount64 < deadline;)
        {
            Thread.Sleep(10);
            text = File.ReadAllText(path).Trim();
        }
        if (text.Length >= 16) return text;
        throw new InvalidDataException($"{path} holds no token (at least 16 characters); delete it to make a new one");
    }

    /// <summary>Compares in constant time, so the time of a refusal says nothing about the token.</summary>
    public static bool Matches(string expected, string? presented) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(expected), System.Text.Encoding.UTF8.GetBytes(presented));

    /// <summary>Compares the UTF-8 bytes a handshake presented, in constant time.</summary>
    public static bool Matches(string expected, ReadOnlySpan<byte> presented) =>
        CryptographicOperations.FixedTimeEquals(System.Text.Encoding.UTF8.GetBytes(expected), presented);
}
