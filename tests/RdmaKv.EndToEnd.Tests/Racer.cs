using System.Runtime.ExceptionServices;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// A loop on a thread of its own (not the thread pool, which the clients' own parallel work and
/// the CLI's output readers need) that a test races against a fault; <see cref="Join"/> rethrows
/// what made it stop.
/// </summary>
sealed class Racer
{
    readonly Thread _thread;
    Exception? _failure;

    Racer(string name, Action body)
    {
        _thread = new Thread(() =>
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                _failure = e;
            }
        })
        { IsBackground = true, Name = name };
    }

    public static Racer Start(string name, Action body)
    {
        var racer = new Racer(name, body);
        racer._thread.Start();
        return racer;
    }

    /// <summary>Waits for the loop to end; fails if it does not within <paramref name="patience"/>, rethrows its exception.</summary>
    public void Join(TimeSpan patience)
    {
        Assert.True(_thread.Join(patience), $"{_thread.Name} did not finish within {patience}");
        if (_failure is not null) ExceptionDispatchInfo.Throw(_failure);
    }
}
