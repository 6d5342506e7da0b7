namespace RdmaKv.Sample.Web;

/// <summary>A slow computation worth caching: each call takes a while and says which app instance made it.</summary>
public sealed class QuoteBook
{
    static readonly string[] s_quotes =
    [
        "Memory is the new disk.",
        "A GET that never wakes the server's CPU.",
        "Check every byte you read from memory you do not own.",
    ];

    int _computed;

    /// <summary>An id for this app instance, so a response shows which instance computed it.</summary>
    public string Instance { get; } = Guid.NewGuid().ToString("N")[..8];

    /// <summary>How many quotes this instance has computed.</summary>
    public int Computed => Volatile.Read(ref _computed);

    /// <summary>The quote for <paramref name="id"/>, after a delay that stands for real work.</summary>
    public async Task<Quote> ComputeAsync(int id, CancellationToken cancel)
    {
        Interlocked.Increment(ref _computed);
        await Task.Delay(100, cancel);
        return new Quote(id, s_quotes[id % s_quotes.Length], Instance, DateTimeOffset.UtcNow);
    }
}

/// <summary>A cached response: the quote, and who made it when.</summary>
public sealed record Quote(int Id, string Text, string ComputedBy, DateTimeOffset ComputedAt);
