using System.Diagnostics;
using Spectre.Console;

namespace RdmaKv.Bench;

/// <summary>Shows a phase while it runs; returns when <c>finished</c> is set.</summary>
public interface IProgressView
{
    void Watch(string title, long total, Func<long> done, WaitHandle finished);
}

/// <summary>Shows nothing: for redirected output, tests and scripts.</summary>
public sealed class QuietProgress : IProgressView
{
    public static readonly QuietProgress Instance = new();

    public void Watch(string title, long total, Func<long> done, WaitHandle finished) => finished.WaitOne();
}

/// <summary>A live bar with the current rate, for a terminal (Spectre.Console); cleared when the phase ends.</summary>
public sealed class TerminalProgress : IProgressView
{
    /// <summary>The live view when standard output is a terminal, else the quiet one.</summary>
    public static IProgressView ForConsole() => Console.IsOutputRedirected ? QuietProgress.Instance : new TerminalProgress();

    public void Watch(string title, long total, Func<long> done, WaitHandle finished)
    {
        AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var task = context.AddTask(title, maxValue: Math.Max(1, total));
                long last = 0;
                var window = Stopwatch.StartNew();
                while (!finished.WaitOne(250))
                {
                    long now = done();
                    double rate = (now - last) / window.Elapsed.TotalSeconds;
                    window.Restart();
                    last = now;
                    task.Value = Math.Min(now, total);
                    task.Description = $"{title}: {now:N0} ops, {rate:N0} ops/s";
                }
                task.Value = total;
            });
    }
}
