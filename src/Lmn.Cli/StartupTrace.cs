using System.Diagnostics;

namespace Lmn.Cli;

/// <summary>LMN_STARTUP_TRACE=1: milliseconds since the process started at each phase of a run, on stderr (docs/startup.md).</summary>
public static class StartupTrace
{
    public static readonly bool On = Environment.GetEnvironmentVariable("LMN_STARTUP_TRACE") == "1";

    public static void Mark(string phase)
    {
        if (!On) return;
        double ms = (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalMilliseconds;
        Console.Error.WriteLine($"startup: {ms,7:F1} ms  {phase}");
    }
}
