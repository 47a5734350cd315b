using Lmn.Cli;
using Lmn.Language;
using Lmn.Net;
using Lmn.Oracles;
using Lmn.Text;
using Lmn.Words;

namespace Lmn.Front;

/// <summary>Runs what <see cref="FrontArgs"/> accepted, through the code the managed CLI runs (<see cref="RunCore"/>).</summary>
internal static class FastRun
{
    public static int Execute(FastRunArgs a, CancellationToken cancellation)
    {
        var stdout = Console.Out;
        var stderr = Console.Error;
        // The last lines of defence, as the managed CLI's (RunCore.Ends, RunCore.Fail).
        try
        {
            var source = SourceText.FromFile(a.File);
            long memory = a.MaxMemory ?? Engine.DefaultMaxMemory;
            int threads = a.Threads ?? Environment.ProcessorCount;
            if (a.IsHvm)
            {
                // Without dynamic code the engine has no compiled definitions: a long run goes to the
                // managed CLI, which has them (docs/startup.md § Long runs).
                bool handOver = !a.Interpret && !System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported && Handoff.Managed() != null;
                return RunCore.Hvm(source, a.Emit, memory, !a.NoIo, a.Interpret, threads, a.Stats, stdout, stderr, cancellation,
                    handOver ? Budget() : TimeSpan.Zero, handOver ? () => Handoff.Exec(a.Args) : null);
            }
            return RunLmn(a, source, memory, threads, stdout, stderr, cancellation);
        }
        catch (Exception e) when (RunCore.Ends(e, cancellation))
        {
            return RunCore.Fail(e, cancellation, stderr);
        }
    }

    /// <summary>How long a .hvm run may take here before it is handed to the managed CLI: 50 ms, or $LMN_FRONT_BUDGET_MS (0: never).</summary>
    private static TimeSpan Budget() =>
        int.TryParse(Environment.GetEnvironmentVariable("LMN_FRONT_BUDGET_MS"), out int ms) && ms >= 0 ? TimeSpan.FromMilliseconds(ms) : TimeSpan.FromMilliseconds(50);

    private static int RunLmn(FastRunArgs a, SourceText source, long memory, int threads, TextWriter stdout, TextWriter stderr, CancellationToken cancellation)
    {
        var diags = new List<Diagnostic>();
        var prog = RunCore.Compile(source, a.Context, diags);
        // A program that asks the default (semantic) oracle needs the embedding model, which is managed
        // code: hand the whole command line over before anything is written.
        if (prog != null && prog.Sites.Count > 0 && a.Oracle == "semantic") return Handoff.Exec(a.Args);
        if (!RunCore.Report(source, diags, a.Quiet, stderr)) return 1;
        StartupTrace.Mark("compiled");
        IOracle oracle = a.Oracle switch
        {
            "first" => new FirstOracle(),
            "lexicon" => new LexiconOracle(Lexicon.Default),
            _ => new NotAsked(),
        };
        var policies = new OraclePolicies
        {
            MinConfidence = 0, OnInvalid = InvalidPolicy.Fail, Ambiguity = AmbiguityMode.Strict, RecursionLimit = 3, EscalateLowConfidence = false, Human = null,
        };
        var cache = a.NoCache ? null : new OracleCache(".lmn/cache");
        var pipeline = new OraclePipeline(oracle, new LmnTermChecker(Lexicon.Default), policies, cache, null, null);
        var side = new RunCore.OracleSide
        {
            Finish = w =>
            {
                if (cache?.WriteError is { } cacheError)
                    w.WriteLine($"lmn: warning: --cache-dir .lmn/cache: answers were not cached: {cacheError}");
            },
        };
        return RunCore.Supervise(prog!, pipeline, side, RunCore.Context(a.Context), memory, threads, !a.Interpret, a.Trace, a.Stats, stdout, stderr, cancellation);
    }

    /// <summary>The semantic oracle of a program without sites: never asked (a program with sites is handed over).</summary>
    private sealed class NotAsked : IOracle
    {
        public string Identity => "semantic";

        public Task<IReadOnlyList<OracleResult>> AskAsync(IReadOnlyList<OracleRequest> batch, CancellationToken cancellationToken) =>
            throw new System.Diagnostics.UnreachableException("the front's semantic oracle was asked: a program with sites is handed to the managed CLI");
    }
}
