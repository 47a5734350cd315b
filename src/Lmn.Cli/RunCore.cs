using System.Globalization;
using Lmn.Hvm;
using Lmn.Language;
using Lmn.Net;
using Lmn.Oracles;
using Lmn.Runtime;
using Lmn.Text;

namespace Lmn.Cli;

/// <summary>
/// The part of `lmn run` that the managed CLI and the NativeAOT front (src/Lmn.Front, docs/startup.md) share,
/// compiled into both: parsing and running a .hvm book, loading a .lmn program, and the supervised run with
/// its output and counters. One copy of the code is what keeps the two outputs the same bytes. It uses
/// src/Lmn only (no System.CommandLine, no oracle SDK), so that it compiles ahead of time.
/// </summary>
public static class RunCore
{
    /// <summary>
    /// The runtime settings a batch run (`lmn run FILE --inputs …`) starts with, unless the environment
    /// sets them already: the front sets them before it hands the command line to the managed CLI, and
    /// `lmn bench batch` gives them to its child runs. Without tiered compilation the runtime keeps the
    /// ahead-of-time code and compiles the rest once, fully: a batch's many short, varied paths otherwise
    /// spend its first second in the JIT and the rest in instrumented code (10,000 inputs with an instant
    /// oracle: 0.75 s against 1.07 s, medians of five; 50,000: 2.5 s against 3.9 s; after the day's other
    /// changes, 0.63-0.72 s against 0.71-0.93 s). One long program gains from tiering instead (the
    /// engine's interpreter ran 8-24% slower without it on four of the five benchmarks), so only batch runs turn it off.
    /// </summary>
    public static readonly (string Name, string Value)[] BatchRuntime = [("DOTNET_TieredCompilation", "0")];

    /// <summary>Whether a command line is a batch run (`run` with `--inputs`).</summary>
    public static bool IsBatch(IReadOnlyList<string> args)
    {
        if (args.Count == 0 || args[0] != "run") return false;
        foreach (string a in args)
            if (a == "--inputs" || a.StartsWith("--inputs=", StringComparison.Ordinal)) return true;
        return false;
    }

    /// <summary>
    /// Whether an exception that ended a command is reported by <see cref="Fail"/>: Ctrl+C, input/output
    /// and permission errors always; anything else too (the last line of defence), unless LMN_DEBUG=1
    /// asks for the stack trace. The managed CLI and the front end the same way.
    /// </summary>
    public static bool Ends(Exception e, CancellationToken cancellation) => e switch
    {
        OperationCanceledException when cancellation.IsCancellationRequested => true,
        IOException or UnauthorizedAccessException => true,
        _ => Environment.GetEnvironmentVariable("LMN_DEBUG") != "1",
    };

    /// <summary>One line on stderr for an exception that ended a command, and its exit code (130 interrupted, else 1); never a stack trace.</summary>
    public static int Fail(Exception e, CancellationToken cancellation, TextWriter stderr)
    {
        switch (e)
        {
            case OperationCanceledException when cancellation.IsCancellationRequested:
                // Ctrl+C: the transcript is already flushed (each entry is written as it happens); nothing partial is cached.
                TryWrite(stderr, "lmn: interrupted");
                return 130;
            case IOException:
                // Output that cannot be written (stdout on a full disk, a device that refuses writes) or a
                // file that cannot be read: a message, never a stack trace.
                TryWrite(stderr, $"lmn: input/output error: {e.Message}");
                return 1;
            case UnauthorizedAccessException:
                TryWrite(stderr, $"lmn: permission denied: {e.Message}");
                return 1;
            default:
                TryWrite(stderr, $"lmn: internal error: {e.Message} (this is a bug in lmn; please report it with the command that caused it)");
                return 1;
        }
    }

    private static void TryWrite(TextWriter w, string line)
    {
        try { w.WriteLine(line); }
        catch (IOException) { }
    }

    /// <summary>`lmn run FILE.hvm` and `lmn fmt`: parse, then print the book (emit) or run it.</summary>
    /// <remarks>
    /// With <paramref name="handOver"/> (the NativeAOT front, whose engine has no compiled definitions), a
    /// reduction still running after <paramref name="budget"/> and before any IO call had an effect is
    /// abandoned, nothing written, and handOver's exit code returned: the managed CLI then runs the same
    /// command line with compiled definitions (docs/startup.md § Long runs).
    /// </remarks>
    public static int Hvm(SourceText source, bool emit, long maxMemory, bool io, bool interpret, int threads, bool stats,
        TextWriter stdout, TextWriter stderr, CancellationToken cancellation, TimeSpan budget = default, Func<int>? handOver = null)
    {
        HvmBook ast;
        try
        {
            ast = HvmParser.Parse(source);
        }
        catch (DiagnosticException e)
        {
            foreach (var d in e.Diagnostics) stderr.WriteLine(d.Render());
            stderr.WriteLine($"{e.Diagnostics.Count(d => d.Severity == Severity.Error)} error(s)");
            return 1;
        }
        StartupTrace.Mark("book parsed");
        if (emit)
        {
            stdout.Write(ast.Show());
            return 0;
        }
        // A book LMN emitted (`lmn compile --emit hvm`) says in comments how to read its result as LMN.
        var lmn = CompiledProgram.FromHvmComments(source.Text, ast);
        HvmRunner.Outcome result;
        if (handOver == null || budget <= TimeSpan.Zero)
            result = HvmRunner.Run(ast, maxMemory, io ? new IoHost() : null, fastCalls: !interpret, threads: threads, lmn: lmn,
                cancellation: cancellation, mark: StartupTrace.Mark);
        else
        {
            // The budget's timer cancels the run only while no IO call has begun; the first IO call stops it.
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            var gate = new object();
            bool ioStarted = false, overBudget = false;
            using var timer = new Timer(_ =>
            {
                lock (gate)
                {
                    if (ioStarted) return;
                    overBudget = true;
                    cts.Cancel();
                }
            }, null, budget, Timeout.InfiniteTimeSpan);
            var host = io ? new IoHost
            {
                BeforeFirstCall = () =>
                {
                    lock (gate)
                    {
                        if (overBudget) throw new OperationCanceledException(cts.Token);
                        ioStarted = true;
                    }
                },
            } : null;
            try
            {
                result = HvmRunner.Run(ast, maxMemory, host, fastCalls: !interpret, threads: threads, lmn: lmn,
                    cancellation: cts.Token, mark: StartupTrace.Mark);
            }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested && Volatile.Read(ref overBudget) && !Volatile.Read(ref ioStarted))
            {
                StartupTrace.Mark("handed over after the budget");
                return handOver();
            }
        }
        StartupTrace.Mark("run");
        if (result.Error != null)
        {
            stderr.WriteLine($"{source.Path}: error: {result.Error}");
            return 1;
        }
        stdout.WriteLine("Result: " + result.Output);
        if (result.LmnValue != null) stdout.WriteLine("Value: " + result.LmnValue);
        if (stats) stdout.Write(result.StatsText());
        return 0;
    }

    /// <summary>Checks and compiles; prints diagnostics. Null (and exit status 1) on errors.</summary>
    public static CompiledProgram? Load(SourceText source, List<KeyValuePair<string, string>> context, bool quiet, TextWriter stderr)
    {
        var diags = new List<Diagnostic>();
        var prog = Compile(source, context, diags);
        return Report(source, diags, quiet, stderr) ? prog : null;
    }

    /// <summary>Checks and compiles, collecting the diagnostics (null on errors).</summary>
    public static CompiledProgram? Compile(SourceText source, List<KeyValuePair<string, string>> context, List<Diagnostic> diags)
    {
        var ctx = LmnDriver.ParseContext(context, diags);
        return diags.Count == 0 ? LmnDriver.Compile(source, diags, ctx) : null;
    }

    /// <summary>Writes the diagnostics (warnings unless quiet) in source order; false when one is an error.</summary>
    public static bool Report(SourceText source, List<Diagnostic> diags, bool quiet, TextWriter stderr)
    {
        int errors = diags.Count(d => d.Severity == Severity.Error);
        var sorted = diags.Select((d, i) => (d, i)).OrderBy(x => x.d.Source.Path != source.Path).ThenBy(x => x.d.Offset).ThenBy(x => x.i).Select(x => x.d);
        foreach (var d in sorted)
            if (d.Severity == Severity.Error || !quiet) stderr.WriteLine(d.Render());
        if (errors > 0)
        {
            stderr.WriteLine($"{errors} error{(errors == 1 ? "" : "s")}");
            return false;
        }
        return true;
    }

    /// <summary>The anchor bindings of a run: the last binding of each name, as LMN text.</summary>
    public static Dictionary<string, string> Context(List<KeyValuePair<string, string>> bindings)
    {
        // One loop from the end, each name kept the first time it is seen (a batch run calls this per input).
        var context = new Dictionary<string, string>(bindings.Count, StringComparer.Ordinal);
        for (int i = bindings.Count - 1; i >= 0; i--)
            if (!context.ContainsKey(bindings[i].Key)) context[bindings[i].Key] = LmnDriver.ContextText(bindings[i].Key, bindings[i].Value);
        return context;
    }

    /// <summary>What the supervised run needs from the oracle side, besides the pipeline.</summary>
    public sealed class OracleSide
    {
        /// <summary>Warnings that only the end of a run knows (the cache's), written to stderr.</summary>
        public Action<TextWriter> Finish { get; init; } = _ => { };
        /// <summary>Counters of the endpoint pool and the shared cache tier, after the run's own.</summary>
        public Action<TextWriter> Stats { get; init; } = _ => { };
        /// <summary>Whether the sentence-embedding model was loaded (the `embedding_model_loaded` counter).</summary>
        public Func<bool> EmbeddingModelLoaded { get; init; } = () => false;
        public string? Transcript { get; init; }
    }

    /// <summary>`lmn run FILE.lmn` once the oracle pipeline is built: the Model B supervisor, status line and counters.</summary>
    public static int Supervise(CompiledProgram prog, OraclePipeline pipeline, OracleSide side, IReadOnlyDictionary<string, string> context, long maxMemory,
        int threads, bool fastCalls, bool trace, bool stats, TextWriter stdout, TextWriter stderr, CancellationToken cancellation)
    {
        bool terminal = !Console.IsErrorRedirected && ReferenceEquals(stderr, Console.Error);
        StartupTrace.Mark("oracles ready");
        var sup = new Supervisor(prog, pipeline, new SupervisorOptions
        {
            Context = context,
            MaxMemory = maxMemory,
            Threads = threads,
            FastCalls = fastCalls,
            Trace = trace ? line => stderr.WriteLine(line) : null,
            Status = terminal ? line => stderr.Write("\r\x1b[2K" + line) : null,
        });
        SupervisedRun r;
        try
        {
            r = sup.RunAsync(cancellation).GetAwaiter().GetResult();
            StartupTrace.Mark("supervised run");
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // Interrupted: what was asked is in the transcript (flushed entry by entry); the partial result is not cached.
            if (terminal) stderr.Write("\r\x1b[2K");
            side.Finish(stderr);
            throw;
        }
        catch (TranscriptWriteException e)
        {
            if (terminal) stderr.Write("\r\x1b[2K");
            stderr.WriteLine($"lmn: --transcript {side.Transcript}: {e.Message}; the run was stopped (a run that cannot be recorded cannot be resumed)");
            return 1;
        }
        if (terminal) stderr.Write("\r\x1b[2K");
        side.Finish(stderr);
        if (r.Error != null)
        {
            stderr.WriteLine(r.Error);
            if (stats) { WriteStats(r, side.EmbeddingModelLoaded(), stderr); side.Stats(stderr); }
            return 1;
        }
        stdout.WriteLine(r.Output);
        if (stats) { WriteStats(r, side.EmbeddingModelLoaded(), stderr); side.Stats(stderr); }
        return 0;
    }

    private static void WriteStats(SupervisedRun r, bool modelLoaded, TextWriter w)
    {
        var s = r.Oracle;
        w.Write(string.Create(CultureInfo.InvariantCulture, $"""
            interactions: {r.Interactions}
            time: {r.Time.TotalSeconds:F3}s
            mips: {r.Mips:F2}
            rounds: {r.Rounds}
            questions: {s.Questions}
            batches: {s.Batches}
            cache_hits: {s.CacheHits}
            deduplicated: {s.Deduplicated}
            skipped: {r.Skipped}
            retries: {s.Retries}
            fallbacks: {s.Fallbacks}
            oracle_ms: {s.OracleMs}
            tokens: {s.TokensUsed}
            calls_saved_by_cache: {s.CacheHits}
            calls_saved_by_batching: {Math.Max(0, s.Questions - s.Batches)}
            calls_saved_by_dedup: {s.Deduplicated}
            embedding_model_loaded: {(modelLoaded ? "yes" : "no")}

            """));
        // Interactions per rule, as `rule_call: N` lines (rule names lower-case, HVM2's order).
        foreach (var (name, n) in r.Rules.ByName())
            w.Write(string.Create(CultureInfo.InvariantCulture, $"rule_{name.ToLowerInvariant()}: {n}\n"));
    }
}
