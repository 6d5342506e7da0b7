using System.Globalization;
using System.Security.Cryptography;

namespace RdmaKv.Server;

/// <summary>
/// The node's hash seed, chosen at random on first start and kept in the data directory, so keys
/// land in the same partitions after a restart and an outsider cannot aim keys at one bucket.
/// </summary>
static class HashSeedFile
{
    const string FileName = "hash-seed";

    public static ulong LoadOrCreate(string dataDirectory)
    {
        string path = Path.Combine(dataDirectory, FileName);
        if (File.Exists(path))
        {
            string text = File.ReadAllText(path).Trim();
            if (ulong.TryParse(text, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong seed)) return seed;
            throw new InvalidDataException($"{path} does not hold a hex hash seed; restore it from a backup (a new seed would scatter existing keys)");
        }
        ulong fresh = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
        File.WriteAllText(path, fresh.ToString("x16", CultureInfo.InvariantCulture) + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return fresh;
    }
}
