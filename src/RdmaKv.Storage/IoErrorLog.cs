using Microsoft.Extensions.Logging;

namespace RdmaKv.Storage;

/// <summary>
/// FASTER's store reports a failed device write only to its logger (the write is otherwise taken
/// as done): a snapshot or checkpoint file cut short by a full disk, or a page of the store's own
/// log. This logger counts those errors, so a checkpoint that met one is not recorded, and a store
/// whose log lost a page stops taking writes.
/// </summary>
sealed class IoErrorLog : ILogger
{
    long _errors;
    volatile string? _storeLogError;

    /// <summary>Errors reported so far (compare before and after a checkpoint).</summary>
    public long Errors => Interlocked.Read(ref _errors);

    public string? LastError { get; private set; }

    /// <summary>Set when a page of the store's own log could not be written: FASTER cannot go on past it.</summary>
    public string? StoreLogError => _storeLogError;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (logLevel < LogLevel.Error) return;
        string message = formatter(state, exception);
        LastError = message;
        // FASTER 2.6.5's hybrid log: "AsyncFlushPageCallback error: N" for a page of the log
        // itself; snapshots and checkpoint files use other callbacks.
        if (message.StartsWith("AsyncFlushPageCallback error", StringComparison.Ordinal)) _storeLogError ??= message;
        Interlocked.Increment(ref _errors);
    }
}
