namespace RdmaKv.Verification;

/// <summary>Hand-made histories for the checker's self-tests; times in milliseconds.</summary>
sealed class HistoryBuilder
{
    readonly List<Operation> _operations = [];

    public HistoryBuilder Put(int client, string key, string value, long invoke, long complete) => Add(client, OperationKind.Put, key, value, invoke, complete);

    public HistoryBuilder UnknownPut(int client, string key, string value, long invoke) => Add(client, OperationKind.Put, key, value, invoke, Operation.Never);

    public HistoryBuilder Delete(int client, string key, long invoke, long complete) => Add(client, OperationKind.Delete, key, null, invoke, complete);

    public HistoryBuilder UnknownDelete(int client, string key, long invoke) => Add(client, OperationKind.Delete, key, null, invoke, Operation.Never);

    public HistoryBuilder Get(int client, string key, string? read, long invoke, long complete) => Add(client, OperationKind.Get, key, read, invoke, complete);

    HistoryBuilder Add(int client, OperationKind kind, string key, string? value, long invoke, long complete)
    {
        _operations.Add(new Operation(_operations.Count, client, kind, key, value, invoke, complete));
        return this;
    }

    public History Build() => new(_operations, ticksPerMillisecond: 1);
}
