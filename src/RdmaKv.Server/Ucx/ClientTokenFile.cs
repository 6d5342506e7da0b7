using System.Security.Cryptography;

namespace RdmaKv.Server.Ucx;

/// <summary>
/// The shared secret remote clients present in Hello before they get any rkey: 32 random bytes
/// in hex, made on first start in the data directory with mode 0600. Clients read it from
/// RDMAKV_TOKEN, --token or --token-file.
/// </summary>
public static class ClientTokenFile
{
    public const string FileName = "client-token";

    /// <summary>The token in <paramref name="path"/>; made there when the file does not exist yet (nodes of a cluster may race to make a shared one).</summary>
    public static string LoadOrCreate(string path, out bool created)
    {
        created = false;
        if (File.Exists(path))
        {
            string text = File.ReadAllText(path).Trim();
            if (text.Length >= 16) return text;
            throw new InvalidDataException($"{path} holds no token (at least 16 characters); delete it to make a new one");
        }
        string token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        string temporary = $"{path}.{Environment.ProcessId}.tmp";
        using (var f = new FileStream(temporary, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        using (var w = new StreamWriter(f))
            w.WriteLine(token);
        try
        {
            // A move that may not overwrite (a hard link on Linux) fails when the file exists:
            // whoever moves first wins, and everyone reads the winner's token.
            File.Move(temporary, path, overwrite: false);
            created = true;
            return token;
        }
        catch (IOException) when (File.Exists(path))
        {
            return LoadOrCreate(path, out created);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>Compares in constant time, so the time of a refusal says nothing about the token.</summary>
    public static bool Matches(string expected, string? presented) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(expected), System.Text.Encoding.UTF8.GetBytes(presented));
}
