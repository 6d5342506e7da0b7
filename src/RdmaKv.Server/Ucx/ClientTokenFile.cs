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

    public static string LoadOrCreate(string dataDirectory, out string path, out bool created)
    {
        path = Path.Combine(dataDirectory, FileName);
        created = false;
        if (File.Exists(path))
        {
            string text = File.ReadAllText(path).Trim();
            if (text.Length >= 16) return text;
            throw new InvalidDataException($"{path} holds no token (at least 16 characters); delete it to make a new one");
        }
        string token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        using (var f = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        using (var w = new StreamWriter(f))
            w.WriteLine(token);
        created = true;
        return token;
    }

    /// <summary>Compares in constant time, so the time of a refusal says nothing about the token.</summary>
    public static bool Matches(string expected, string? presented) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(expected), System.Text.Encoding.UTF8.GetBytes(presented));
}
