namespace RdmaKv.Resp;

/// <summary>
/// Every command the gateway answers, with its arity in Redis's convention (N: exactly N
/// arguments with the name; -N: at least N) and whether it is allowed before AUTH.
/// </summary>
static class RespCommandTable
{
    public readonly record struct Entry(string Name, int Arity, bool BeforeAuth, Action<RespSession, RespCommand> Run);

    static readonly Entry[] Entries =
    [
        new("PING", -1, false, (s, c) => s.Ping(c)),
        new("ECHO", 2, false, (s, c) => s.Echo(c)),
        new("HELLO", -1, true, (s, c) => s.Hello(c)),
        new("AUTH", -2, true, (s, c) => s.Auth(c)),
        new("QUIT", -1, true, (s, c) => s.Quit()),
        new("SELECT", 2, false, (s, c) => s.Select(c)),
        new("CLIENT", -2, false, (s, c) => s.Client(c)),
        new("COMMAND", -1, false, (s, c) => s.CommandInfo(c)),
        new("CONFIG", -2, false, (s, c) => s.Config(c)),
        new("INFO", -1, false, (s, c) => s.Info(c)),
        new("DBSIZE", 1, false, (s, c) => s.DbSize()),
        new("CLUSTER", -2, false, (s, c) => s.Cluster(c)),
        new("GET", 2, false, (s, c) => s.Get(c)),
        new("SET", -3, false, (s, c) => s.Set(c)),
        new("SETNX", 3, false, (s, c) => s.SetNx(c)),
        new("SETEX", 4, false, (s, c) => s.NoExpiry(c)),
        new("PSETEX", 4, false, (s, c) => s.NoExpiry(c)),
        new("GETDEL", 2, false, (s, c) => s.GetDel(c)),
        new("DEL", -2, false, (s, c) => s.Del(c)),
        new("UNLINK", -2, false, (s, c) => s.Del(c)),
        new("EXISTS", -2, false, (s, c) => s.Exists(c)),
        new("MGET", -2, false, (s, c) => s.MGet(c)),
        new("MSET", -3, false, (s, c) => s.MSet(c)),
        new("INCR", 2, false, (s, c) => s.IncrementBy(c, 1)),
        new("DECR", 2, false, (s, c) => s.IncrementBy(c, -1)),
        new("INCRBY", 3, false, (s, c) => s.IncrementBy(c, null)),
        new("DECRBY", 3, false, (s, c) => s.IncrementBy(c, null, negate: true)),
        new("EXPIRE", -3, false, (s, c) => s.NoExpiry(c)),
        new("PEXPIRE", -3, false, (s, c) => s.NoExpiry(c)),
        new("EXPIREAT", -3, false, (s, c) => s.NoExpiry(c)),
        new("PEXPIREAT", -3, false, (s, c) => s.NoExpiry(c)),
        new("TTL", 2, false, (s, c) => s.Ttl(c)),
        new("PTTL", 2, false, (s, c) => s.Ttl(c)),
        new("PERSIST", 2, false, (s, c) => s.Persist(c)),
    ];

    static readonly Dictionary<string, Entry> ByName = Entries.ToDictionary(e => e.Name, StringComparer.OrdinalIgnoreCase);

    static readonly Dictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>> ByChars = ByName.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>Names are at most this long; a longer first argument is an unknown command.</summary>
    const int LongestName = 16;

    public static int Count => Entries.Length;

    public static IEnumerable<string> Names => Entries.Select(e => e.Name.ToLowerInvariant());

    public static bool TryFind(ReadOnlySpan<byte> name, out Entry entry)
    {
        entry = default;
        if (name.Length > LongestName) return false;
        Span<char> chars = stackalloc char[LongestName];
        int n = System.Text.Encoding.Latin1.GetChars(name, chars);
        return ByChars.TryGetValue(chars[..n], out entry);
    }

    public static bool ArityFits(in Entry entry, int count) => entry.Arity >= 0 ? count == entry.Arity : count >= -entry.Arity;
}
