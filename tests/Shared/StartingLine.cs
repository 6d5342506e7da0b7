namespace RdmaKv.Tests;

/// <summary>Threads that start the same call at the same moment (a barrier), for races such as nodes making a shared file.</summary>
public static class StartingLine
{
    /// <summary>Runs <paramref name="call"/> on <paramref name="count"/> threads released together; each one's result, or what it threw.</summary>
    public static (T? Result, Exception? Failure)[] Run<T>(int count, Func<int, T> call)
    {
        var outcomes = new (T? Result, Exception? Failure)[count];
        using var start = new Barrier(count);
        var threads = Enumerable.Range(0, count).Select(i => new Thread(() =>
        {
            start.SignalAndWait();
            try
            {
                outcomes[i] = (call(i), null);
            }
            catch (Exception e)
            {
                outcomes[i] = (default, e);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        return outcomes;
    }
}
