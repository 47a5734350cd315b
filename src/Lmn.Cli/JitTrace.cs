using System.Diagnostics.Tracing;
using System.Globalization;

namespace Lmn.Cli;

/// <summary>
/// LMN_JIT_TRACE=1: the methods the JIT compiled in this process and how long each took (from the runtime's
/// own JIT events), the slowest first, on stderr at exit. What startup work is left to the JIT after the
/// ahead-of-time code (docs/startup.md). A time is the wall time between a method's start and end events
/// (a preemption or a type load in between counts); the events arrive asynchronously, so the last few
/// compilations before exit may be missing, and compilations before `main` are not seen.
/// </summary>
internal sealed class JitTrace : EventListener
{
    private const int MethodLoadVerbose = 143, MethodJittingStarted = 145;
    private readonly Dictionary<ulong, (DateTime Start, string Name)> _open = [];
    private readonly List<(double Ms, string Name)> _done = [];

    public static JitTrace? StartIfAsked() => Environment.GetEnvironmentVariable("LMN_JIT_TRACE") == "1" ? new JitTrace() : null;

    protected override void OnEventSourceCreated(EventSource source)
    {
        // The runtime's provider, JIT keyword (0x10): a start event and a load event per compiled method.
        if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x10);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.Payload is not { Count: > 5 } p) return;
        ulong id = Convert.ToUInt64(p[0], CultureInfo.InvariantCulture);
        lock (_open)
        {
            if (e.EventId == MethodJittingStarted) _open[id] = (e.TimeStamp, $"{p[4]}::{p[5]}");
            else if (e.EventId == MethodLoadVerbose && _open.Remove(id, out var s)) _done.Add(((e.TimeStamp - s.Start).TotalMilliseconds, s.Name));
        }
    }

    /// <summary>The 40 slowest compilations and the total.</summary>
    public void Write(TextWriter w)
    {
        lock (_open)
        {
            foreach (var (ms, name) in _done.OrderByDescending(x => x.Ms).Take(40))
                w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"jit {ms,8:F2} ms  {name}"));
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"jit total {_done.Sum(x => x.Ms):F1} ms, {_done.Count} methods"));
        }
    }
}
