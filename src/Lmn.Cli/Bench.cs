using System.Diagnostics;
using System.Globalization;
using Lmn.Hvm;
using Lmn.Net;
using Lmn.Text;
using Lmn.Runtime;

namespace Lmn.Cli;

/// <summary>
/// `lmn bench`: runs each benchmark program in a child process of its own (so its peak memory is its own),
/// several times, and prints ITRS, the median time, MIPS and the peak resident memory.
/// </summary>
public static class Bench
{
    public static int Execute(string[] names, int runs, List<int> threadCounts, string? dir, TextWriter stdout, TextWriter stderr, bool atomic = false)
    {
        dir ??= FindBenchDir();
        if (dir == null || !Directory.Exists(dir))
        {
            stderr.WriteLine("lmn bench: no bench/ directory found; pass --dir DIR");
            return 1;
        }
        var files = Directory.GetFiles(dir, "*.hvm").Order(StringComparer.Ordinal)
            .Where(f => names.Length == 0 || names.Contains(Path.GetFileNameWithoutExtension(f))).ToList();
        if (files.Count == 0)
        {
            stderr.WriteLine($"lmn bench: no matching .hvm programs in {dir}");
            return 1;
        }
        stdout.WriteLine($"{"program",-14} {"threads",7} {"ITRS",13} {"interp MIPS",11} {"fast MIPS",10} {"compiled",9} {"comp/int",8} {"speedup",8} {"load ms",8} {"peak MB",8} {"cpu MIPS",9}   (medians of {runs} rounds, modes and thread counts interleaved in one process per program, after 2 warm-up rounds, each timed run with the JIT idle; speedup: compiled, the median over the rounds of each round's time on the first thread count over its time on this one; peak MB: that process; cpu MIPS: compiled, ITRS per second of the process's CPU time, which load on a shared machine moves less than wall time)");
        int failures = 0, totalRepeated = 0;
        string threadList = string.Join(",", threadCounts.Select(t => t.ToString(CultureInfo.InvariantCulture))) + (atomic ? ",1a" : "");
        foreach (string f in files)
        {
            // One child per program runs every thread count, interleaved round by round with the modes: the
            // speedup compares runs made at the same moments, not two processes minutes apart on a shared machine.
            int repeated = 0;
            var (code, output, err) = Child(["bench-child", f, "--runs", runs.ToString(CultureInfo.InvariantCulture), "--thread-list", threadList]);
            if (code != 0)
            {
                failures++;
                stdout.WriteLine($"{Path.GetFileNameWithoutExtension(f),-14} {threadList,7} failed: {err.Trim()}");
                continue;
            }
            // The child prints, per thread count: name threads itrs interp fast compiled (MIPS, medians) compiled-median-seconds load-ms peak cpu-mips paired-speedup repeated-runs
            foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var p = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                repeated = int.Parse(p[11], CultureInfo.InvariantCulture);
                string t = p[1];
                double interp = double.Parse(p[3], CultureInfo.InvariantCulture), fast = double.Parse(p[4], CultureInfo.InvariantCulture);
                double compiled = double.Parse(p[5], CultureInfo.InvariantCulture), speedup = double.Parse(p[10], CultureInfo.InvariantCulture);
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{p[0],-14} {t,7} {p[2],13} {interp,11:F1} {fast,10:F1} {compiled,9:F1} {compiled / interp,7:F2}x {speedup,7:F2}x {p[7],8} {p[8],8} {double.Parse(p[9], CultureInfo.InvariantCulture),9:F1}"));
            }
            totalRepeated += repeated;
            stdout.Flush();
        }
        if (totalRepeated > 0)
            stdout.WriteLine($"({totalRepeated} timed runs were run again: the runtime's JIT recompiled methods in the background during them)");
        return failures == 0 ? 0 : 1;
    }

    private static readonly EngineMode[] Modes = [EngineMode.Interpret, EngineMode.Fast, EngineMode.Compiled];

    /// <summary>
    /// Runs one program `runs` times per engine mode and thread count in this process, modes and thread
    /// counts interleaved round by round (a machine shared with other work slows every one alike; within a
    /// round a mode's thread counts run one after the other), and prints one table row per thread count.
    /// </summary>
    internal static int One(string file, int runs, IReadOnlyList<string> threadCounts, TextWriter stdout, TextWriter stderr)
    {
        HvmBook ast;
        try { ast = HvmParser.Parse(SourceText.FromFile(file)); }
        catch (DiagnosticException e)
        {
            stderr.WriteLine(e.Diagnostics[0].Render());
            return 1;
        }
        int n = threadCounts.Count;
        // "1a": one thread on the parallel core (atomic wires)
        var core = threadCounts.Select(t => t == "1a").ToArray();
        var threadsOf = threadCounts.Select(t => t == "1a" ? 1 : int.Parse(t, CultureInfo.InvariantCulture)).ToArray();
        var times = new List<double>[n, Modes.Length];
        for (int t = 0; t < n; t++) for (int m = 0; m < Modes.Length; m++) times[t, m] = [];
        var cpu = Enumerable.Range(0, n).Select(_ => new List<double>()).ToArray(); // compiled: seconds of the process's CPU time per run
        long itrs = -1;
        double load = 0;
        int repeated = 0;
        Settle(Enumerable.Range(0, n).Select(t => (threadsOf[t], core[t])).Distinct().ToArray());
        // Two untimed rounds first: the JIT compiles and tiers up the engine's methods during them.
        for (int r = -2; r < runs; r++)
        {
            if (r == 0) WaitForJitIdle(TimeSpan.FromMilliseconds(300));
            // Within a round, each mode's thread counts back to back: the runs a speedup pairs are adjacent.
            for (int m = 0; m < Modes.Length; m++)
            {
                for (int t = 0; t < n; t++)
                {
                    HvmRunner.Outcome o;
                    for (int attempt = 0; ; attempt++)
                    {
                        // The last run's engine and compiled code are collected now, not by the finalizer and
                        // the GC during this run (on two threads they would take a core from a worker).
                        GC.Collect();
                        GC.WaitForPendingFinalizers();
                        GC.Collect();
                        if (r >= 0) WaitForJitIdle(TimeSpan.FromMilliseconds(50));
                        long jit = BackgroundJit();
                        o = HvmRunner.Run(ast, Engine.DefaultMaxMemory, io: null, threads: threadsOf[t], mode: Modes[m], parallelCore: core[t]);
                        // A timed run during which the runtime recompiled methods in the background is run
                        // again (the JIT took a core from it; see Settle), at most twice.
                        if (r < 0 || o.Error != null || BackgroundJit() == jit || attempt == 2) break;
                        repeated++;
                    }
                    if (o.Error != null)
                    {
                        stderr.WriteLine(o.Error);
                        return 1;
                    }
                    if (itrs >= 0 && o.Interactions != itrs)
                    {
                        stderr.WriteLine($"{Modes[m]} on {threadCounts[t]} threads: {o.Interactions} interactions, another run {itrs}");
                        return 1;
                    }
                    itrs = o.Interactions;
                    if (Modes[m] == EngineMode.Compiled) load = Math.Max(load, o.CompileTime.TotalMilliseconds);
                    if (r >= 0) times[t, m].Add(o.Time.TotalSeconds);
                    if (r >= 0 && Modes[m] == EngineMode.Compiled) cpu[t].Add(Math.Max(1e-6, o.CpuTime.TotalSeconds));
                }
            }
        }
        double peak = PeakRssMb();
        for (int t = 0; t < n; t++)
        {
            double[] medians = Enumerable.Range(0, Modes.Length).Select(m => BenchMath.Median(times[t, m])).ToArray();
            // The speedup over the first thread count, round by round (the two compiled runs of a round are
            // adjacent, so a slow minute on a shared machine slows both), then the median of those ratios.
            int c = Array.IndexOf(Modes, EngineMode.Compiled);
            var paired = times[0, c].Zip(times[t, c], (a, b) => a / b).ToList();
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Path.GetFileNameWithoutExtension(file)} {threadCounts[t]} {itrs:N0} {itrs / medians[0] / 1e6:F2} {itrs / medians[1] / 1e6:F2} {itrs / medians[2] / 1e6:F2} {medians[2]:F4} {load:F0} {peak:F0} {itrs / BenchMath.Median(cpu[t]) / 1e6:F2} {BenchMath.Median(paired):F3} {repeated}"));
        }
        return 0;
    }

    /// <summary>
    /// Brings the methods every run calls a few times (the book, the engine and its threads, the emitter
    /// of compiled definitions, the read-back) to their final code before anything is timed: a small
    /// program is run in every mode and thread count, in batches with pauses, until a batch makes the
    /// runtime recompile nothing. The runtime's tiered JIT recompiles a method in the background after
    /// it has been called 30 times (twice, with profile-guided optimisation: instrumented code, then the
    /// final one), and starts counting calls only 100 ms after the last new method. Left to the timed
    /// rounds, these recompilations ran during timed runs, 20-70 ms of JIT on a thread of its own: on two
    /// cores it took a core from a two-thread run (its workers waited for a CPU half their span, seen in
    /// /proc's schedstat with LMN_DEBUG_WORKERS), never from a one-thread run, whose second core was free,
    /// and the speedup fell at random.
    /// </summary>
    private static void Settle((int Threads, bool Core)[] configs)
    {
        var tiny = HvmParser.Parse(new SourceText("<settle>", "@main = a\n  & @f ~ (3 a)\n@f = (?((1 @g) r) r)\n@g = ({x y} r)\n  & @f ~ (x $([+] $(z r)))\n  & @f ~ (y z)\n"));
        for (int batch = 0; batch < 12; batch++)
        {
            long before = BackgroundJit();
            for (int i = 0; i < 32; i++)
                foreach (var mode in Modes)
                    foreach (var (threads, parallelCore) in configs)
                        HvmRunner.Run(tiny, 1 << 24, io: null, threads: threads, mode: mode, parallelCore: parallelCore);
            WaitForJitIdle(TimeSpan.FromMilliseconds(200));
            if (batch >= 2 && BackgroundJit() == before) break;
        }
    }

    /// <summary>Methods the JIT compiled on threads other than this one: the runtime's background recompilations.</summary>
    private static long BackgroundJit() => System.Runtime.JitInfo.GetCompiledMethodCount() - System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: true);

    /// <summary>Waits until the JIT has compiled no method for <paramref name="quiet"/> (at most 10 s).</summary>
    private static void WaitForJitIdle(TimeSpan quiet)
    {
        var total = Stopwatch.StartNew();
        long last = System.Runtime.JitInfo.GetCompiledMethodCount();
        var still = Stopwatch.StartNew();
        while (still.Elapsed < quiet && total.Elapsed < TimeSpan.FromSeconds(10))
        {
            Thread.Sleep(10);
            long now = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (now != last)
            {
                last = now;
                still.Restart();
            }
        }
    }

    /// <summary>Peak resident set size of this process in MB (VmHWM), or NaN where /proc is missing.</summary>
    public static double PeakRssMb()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
        }
        catch (IOException) { }
        return double.NaN;
    }

    private static string? FindBenchDir()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            var d = new DirectoryInfo(start);
            while (d != null)
            {
                string b = Path.Combine(d.FullName, "bench");
                if (Directory.Exists(b) && Directory.GetFiles(b, "*.hvm").Length > 0) return b;
                d = d.Parent;
            }
        }
        return null;
    }

    private static (int Code, string Out, string Err) Child(string[] args)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(psi.FileName) == "dotnet")
            psi.ArgumentList.Add(typeof(Bench).Assembly.Location);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, o, err.Result);
    }

}

