using System.Diagnostics;
using RdmaKv.Bench.Results;
using RdmaKv.Bench.Stores;
using RdmaKv.Bench.Ycsb;

namespace RdmaKv.Bench;

/// <summary>
/// One run-phase thread's operations, as YCSB's CoreWorkload.doTransaction* with
/// readallfields=true and writeallfields=false: an update changes one field, chosen uniformly,
/// and writes the whole record back; a read checks the record's length; an insert takes the next
/// insert number and acknowledges it whatever the outcome, as YCSB does.
/// </summary>
sealed class RunWorker(BenchSettings settings, Workload workload, KeyChooser chooser, IStoreSession session, OperationRecorder recorder, Rng rng)
{
    readonly byte[] _key = new byte[RecordKey.MaxLength];
    readonly byte[] _value = InitialValue(settings, rng);
    readonly byte[] _read = new byte[settings.RecordBytes];

    static byte[] InitialValue(BenchSettings settings, Rng rng)
    {
        var value = new byte[settings.RecordBytes];
        rng.FillPrintable(value);
        return value;
    }

    /// <summary>Does one operation; returns the timestamp at which it ended.</summary>
    public long Step()
    {
        var operation = workload.NextOperation(rng);
        long keyNumber = operation == Operation.Insert ? chooser.Inserts.Next() : chooser.Next(rng);
        var key = _key.AsSpan(0, RecordKey.Write(keyNumber, _key));
        if (operation is Operation.Update or Operation.ReadModifyWrite)
        {
            int field = (int)rng.NextLong(settings.FieldCount);
            rng.FillPrintable(_value.AsSpan(field * settings.FieldLength, settings.FieldLength));
        }
        else if (operation == Operation.Insert)
        {
            rng.FillPrintable(_value);
        }

        long? retries = session.Retries;
        long t0 = Stopwatch.GetTimestamp();
        string? error;
        try
        {
            error = operation switch
            {
                Operation.Read => Read(key),
                Operation.ReadModifyWrite => Read(key) ?? Write(key),
                _ => Write(key),
            };
        }
        catch (Exception e)
        {
            error = BenchRunner.Describe(e);
        }
        long t1 = Stopwatch.GetTimestamp();
        if (operation == Operation.Insert) chooser.Inserts.Acknowledge(keyNumber);
        long retried = BenchRunner.Delta(session, retries);
        if (error is null) recorder.Success(operation, BenchRunner.Nanoseconds(t0, t1), retried);
        else recorder.Failure(operation, error, retried);
        return t1;
    }

    string? Read(ReadOnlySpan<byte> key)
    {
        int length = session.Read(key, _read);
        if (length < 0) return "not found";
        return length == _read.Length ? null : $"the record has {length} bytes, not {_read.Length}";
    }

    string? Write(ReadOnlySpan<byte> key)
    {
        session.Write(key, _value);
        return null;
    }
}
