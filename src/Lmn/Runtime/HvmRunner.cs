using System.Diagnostics;
using System.Globalization;
using System.Text;
using Lmn.Hvm;
using Lmn.Net;

namespace Lmn.Runtime;

/// <summary>Runs a parsed book end to end and reports what HVM2 reports.</summary>
public static class HvmRunner
{
    public sealed record Outcome(string Output, long Interactions, TimeSpan Time, long PeakBytes, string? Error)
    {
        /// <summary>The result read as LMN, for a book LMN emitted.</summary>
        public string? LmnValue { get; init; }

        public double Mips => Interactions / Math.Max(Time.TotalSeconds, 1e-9) / 1_000_000.0;

        /// <summary>Interactions per rule (Rules.Total is Interactions).</summary>
        public RuleCounts Rules { get; init; }

        /// <summary>CPU time of the whole process while the net was reduced (Time's span): load on a shared machine moves it less than wall time.</summary>
        public TimeSpan CpuTime { get; init; }

        /// <summary>Time spent compiling definitions at load (not in Time).</summary>
        public TimeSpan CompileTime { get; init; }

        /// <summary>Whether the run used the parallel core (more than one thread, or LMN_SYNC=atomic).</summary>
        public bool UsedParallelCore { get; init; }

        /// <summary>HVM2's statistics lines, then one line per rule.</summary>
        public string StatsText() =>
            string.Create(CultureInfo.InvariantCulture, $"- ITRS: {Interactions}\n- TIME: {Time.TotalSeconds:F2}s\n- MIPS: {Mips:F2}\n") + Rules.Lines();
    }

    public static Outcome Run(HvmBook ast, long maxMemory = Engine.DefaultMaxMemory, IoHost? io = null, bool fastCalls = true, int threads = 1,
        Lmn.Language.CompiledProgram? lmn = null, EngineMode? mode = null, CancellationToken cancellation = default, Action<string>? mark = null, bool parallelCore = false)
    {
        var book = Book.FromHvm(ast);
        var m = mode ?? Engine.ModeOf(fastCalls);
        // parallelCore (lmn bench --atomic) or LMN_SYNC=atomic runs one thread on the parallel core (atomic
        // wires): what the atomics alone cost (docs/engine.md § Threads).
        bool atomicOne = threads == 1 && (parallelCore || Environment.GetEnvironmentVariable("LMN_SYNC") == "atomic");
        using INetRunner engine = threads > 1 || atomicOne
            ? new ParallelEngine(book, threads, maxMemory, m)
            : new Engine(book, maxMemory, m);
        // Compiled definitions are generated at load, before the clock starts (as HVM2's gen-c is compiled first).
        engine.Cancellation = cancellation;
        mark?.Invoke("engine created");
        var compile = engine.Precompile();
        mark?.Invoke("definitions compiled");
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        try
        {
            if (io != null) engine.RunIo(io);
            else engine.Run();
        }
        catch (Exception e) when (e is EngineFault or NumericFault)
        {
            return new Outcome("", engine.Interactions, sw.Elapsed, engine.PeakBytes, e.Message) { Rules = engine.Rules, CompileTime = compile, UsedParallelCore = engine is ParallelEngine };
        }
        sw.Stop();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
        mark?.Invoke("reduced");
        var sb = new StringBuilder();
        engine.ReadBack(engine.RootPort).Write(sb);
        string? value = null;
        if (lmn != null)
        {
            var rb = new Lmn.Language.ReadBack(engine, lmn);
            var term = rb.ReadRoot();
            value = rb.FirstError is { } f ? $"error at {f.Location}: {f.Message}" : Lmn.Language.Printer.Print(term);
        }
        return new Outcome(sb.ToString(), engine.Interactions, sw.Elapsed, engine.PeakBytes, null) { LmnValue = value, Rules = engine.Rules, CompileTime = compile, CpuTime = cpu, UsedParallelCore = engine is ParallelEngine };
    }
}
