using System.Diagnostics;

namespace Lmn.Cli;

/// <summary>
/// LMN_STARTUP_TRACE=1: milliseconds since the process started at each phase of a run, written to stderr at
/// exit (the marks themselves only take a timestamp; docs/startup.md).
/// </summary>
public static class StartupTrace
{
    public static readonly bool On = Environment.GetEnvironmentVariable("LMN_STARTUP_TRACE") == "1";
    private static readonly List<(long Ticks, string Phase)> s_marks = [];

    public static void Mark(string phase)
    {
        if (On) s_marks.Add((Stopwatch.GetTimestamp(), phase));
    }

    public static void Write()
    {
        if (!On) return;
        // The process start, on the Stopwatch clock: now minus the time since it started.
        long now = Stopwatch.GetTimestamp();
        double sinceStart = (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalMilliseconds;
        foreach (var (t, phase) in s_marks)
            Console.Error.WriteLine($"startup: {sinceStart - Stopwatch.GetElapsedTime(t, now).TotalMilliseconds,7:F1} ms  {phase}");
    }
}
