using System.Diagnostics;
using CsCheck;
using Lmn.Language;
using Lmn.Oracles;
using Lmn.Runtime;
using Lmn.Text;
using Xunit.Abstractions;
using Lmn.Words;

namespace Lmn.Tests.Reference;

/// <summary>What the compiled pipeline gave for a program: its output or error, and the questions it asked.</summary>
public sealed record CompiledRun(string? Output, string? Error, string? ErrorLocation, IReadOnlyList<RefQuestion> Questions);

/// <summary>
/// Generated programs against the reference interpreter.
///
/// <see cref="GeneratedProgramsAreSelfConsistent"/> (always on) checks the generator and the interpreter alone.
/// <see cref="CompiledPipelineAgreesWithTheInterpreter"/> compares the compiled pipeline (LmnDriver.Compile and
/// the Model B supervisor, at 1 and 2 threads) with the interpreter on every generated program: it runs
/// only while <see cref="CompilerIsChecked"/> is true. Today's compiler is unsound (issue 10), so it is
/// false on this branch; the lead turns it on with the sound compiler. <see cref="CompareWithCompiler"/>
/// is the comparison itself, for one program.
/// </summary>
public class DifferentialTests(ITestOutputHelper output)
{
    /// <summary>Flip to true when the sound compiler lands: the differential facts then compare with it.</summary>
    public static readonly bool CompilerIsChecked = true;

    /// <summary>Programs per run of each property (the issue asks for at least 5,000 per CI run).</summary>
    public const int Programs = 5000;

    public const string Path = "F.lmn";

    public static readonly ProgramGen Generator = new() { MaxDepth = 3, MaxDefs = 3 };

    /// <summary>Runs the interpreter with the test oracle.</summary>
    public static RefResult Interpret(string source) => RefInterpreter.Run(Path, source, new TestOracle());

    /// <summary>Runs the compiled pipeline with the test oracle (no cache) at the given thread count.</summary>
    public static CompiledRun RunCompiled(string source, int threads, long maxMemory = 64L << 20) =>
        RunCompiled(source, threads, new TestOracle(), maxMemory);

    /// <summary>The questions the compiled pipeline asks another oracle (1 thread).</summary>
    public static IReadOnlyList<RefQuestion> RunCompiledWith(string source, IOracle oracle) => RunCompiled(source, 1, oracle).Questions;

    public static CompiledRun RunCompiled(string source, int threads, IOracle inner, long maxMemory = 64L << 20)
    {
        var src = new SourceText(Path, source);
        var diags = new List<Diagnostic>();
        var prog = LmnDriver.Compile(src, diags);
        if (prog == null)
        {
            var d = diags.First(x => x.Severity == Severity.Error);
            return new CompiledRun(null, d.Render(), $"{Path}:{d.Line}:{d.Column}", []);
        }
        var oracle = new RecordingOracle(inner);
        var pipeline = new OraclePipeline(oracle, new LmnTermChecker(Lexicon.Default), new OraclePolicies());
        var sup = new Supervisor(prog, pipeline, new SupervisorOptions { Threads = threads, MaxMemory = maxMemory });
        SupervisedRun r;
        try { r = sup.RunAsync(CancellationToken.None).GetAwaiter().GetResult(); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new CompiledRun(null, $"crash: {e.GetType().Name}: {e.Message}", null, []);
        }
        var questions = oracle.Asked
            .Select(q => new RefQuestion(CacheKey.NormaliseSpaces(q.Expression), TestOracle.BindingsText(q.LexicalBindings), q.SourceLocation))
            .Distinct().ToList();
        if (r.Error != null) return new CompiledRun(null, r.Error, LocationOf(r.Error), questions);
        return new CompiledRun(r.Output, null, null, questions);
    }

    /// <summary>`F.lmn:3:7` from `F.lmn:3:7: error: ...`, null if the message names no line and column.</summary>
    public static string? LocationOf(string error)
    {
        var m = System.Text.RegularExpressions.Regex.Match(error, @"^(\S+?:\d+:\d+): ");
        return m.Success ? m.Groups[1].Value : null;
    }

    /// <summary>
    /// Compares the compiled pipeline with the interpreter on one program; null if they agree, else what
    /// differs. Agreement: the same printed value (or an error at the same location); for successful
    /// runs the same set of distinct questions (expression and bindings; every compiled question's
    /// location is one the interpreter asked it at); the same at 1 and 2 threads.
    /// </summary>
    public static string? CompareWithCompiler(string source)
    {
        var want = Interpret(source);
        var one = RunCompiled(source, 1);
        var two = RunCompiled(source, 2);
        var problems = new List<string>();
        string Show(CompiledRun c) => c.Output ?? c.Error ?? "?";
        if (want.Ok)
        {
            if (one.Output != want.Output) problems.Add($"1 thread printed {Show(one)}, expected {want.Output}");
            else
            {
                var wantKeys = want.Questions.Select(q => q.Key).ToHashSet();
                var gotKeys = one.Questions.Select(q => q.Key).ToHashSet();
                var missing = wantKeys.Except(gotKeys).ToList();
                var extra = gotKeys.Except(wantKeys).ToList();
                if (missing.Count > 0) problems.Add("not asked: " + string.Join(", ", missing));
                if (extra.Count > 0) problems.Add("asked but should not be: " + string.Join(", ", extra));
                foreach (var q in one.Questions)
                    if (wantKeys.Contains(q.Key) && !want.Questions.Any(w => w.Key == q.Key && w.Location == q.Location))
                        problems.Add($"{q.Key} asked at {q.Location}, expected at {string.Join(" or ", want.Questions.Where(w => w.Key == q.Key).Select(w => w.Location))}");
            }
        }
        else if (one.Output != null || one.ErrorLocation != want.ErrorLocation)
            problems.Add($"1 thread gave {Show(one)}, expected the error {want.Error}");
        if (one.Output != two.Output || one.ErrorLocation != two.ErrorLocation)
            problems.Add($"1 thread gave {Show(one)} but 2 threads gave {Show(two)}");
        else if (one.Output != null && !one.Questions.Select(q => q.Key).ToHashSet().SetEquals(two.Questions.Select(q => q.Key)))
            problems.Add("1 and 2 threads asked different questions");
        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    /// <summary>
    /// The generator and the interpreter alone: every generated program parses back to the same text,
    /// evaluates without an internal failure and without a run-time error (the generator only writes
    /// well-typed programs), twice to the same result, and its printed output re-parses to itself.
    /// </summary>
    public static string? SelfCheck(string source)
    {
        var diags = new List<Diagnostic>();
        var ast = Parser.Parse(new SourceText(Path, source), diags);
        if (diags.Count > 0) return "does not parse: " + diags[0].Render();
        if (SourcePrinter.Print(ast) != source) return "prints back differently: " + SourcePrinter.Print(ast);
        RefResult a, b;
        try
        {
            a = Interpret(source);
            b = Interpret(source);
        }
        catch (Exception e) when (e is RefInternalException or RefFuelExhausted)
        {
            return "interpreter: " + e.Message;
        }
        if (a.Output != b.Output || a.Error != b.Error || !a.Questions.SequenceEqual(b.Questions)) return "not deterministic";
        if (!a.Ok)
        {
            // Only the deliberate failures: an empty list's head, or % 0; located in the program.
            if (!(a.Error!.Contains("empty list") || a.Error.Contains("division by zero")) || !a.ErrorLocation!.StartsWith(Path + ":", StringComparison.Ordinal))
                return "unexpected run-time error in a generated program: " + a.Error;
            return null;
        }
        // Several top-level expressions print one value per line.
        foreach (string line in a.Output!.Split('\n'))
        {
            var value = Parser.ParseExpression(new SourceText("printed", line), diags);
            if (value == null) return "the output does not parse: " + line;
            if (!DataTerms.TryParse(line, out var term, out string err)) return "the output is not data: " + err;
            if (Printer.Print(term) != line) return "the output prints back as " + Printer.Print(term);
        }
        return null;
    }

    [Fact]
    public void GeneratedProgramsAreSelfConsistent()
    {
        var sw = Stopwatch.StartNew();
        int n = 0, questions = 0, errors = 0;
        Generator.Sample(p =>
        {
            Interlocked.Increment(ref n);
            if (!Interpret(p.Source).Ok) Interlocked.Increment(ref errors);
            string? problem = SelfCheck(p.Source);
            Assert.True(problem == null, problem + "\n--- program ---\n" + p.Source);
        }, iter: Programs, threads: 1, print: p => "\n" + p.Source);
        Assert.True(n >= Programs, $"only {n} programs");
        foreach (var p in Generator.Array[100].Single()) questions += Interpret(p.Source).Questions.Count;
        output.WriteLine($"{n} generated programs checked in {sw.Elapsed.TotalSeconds:F1}s; {errors} end in a run-time error; {questions} questions in a sample of 100");
    }

    /// <summary>A few generated programs with their interpreter results, in the test output (to see what the generator writes).</summary>
    [Fact]
    public void SamplesAreShown()
    {
        foreach (var p in Generator.Array[8].Single())
        {
            var r = Interpret(p.Source);
            output.WriteLine(p.Source + "=> " + r + "  (" + r.Questions.Count + " questions)\n");
            Assert.Null(SelfCheck(p.Source));
        }
    }

    /// <summary>
    /// A report, not a check: with LMN_DIFF_REPORT=N set, compares N generated programs (small ones) with
    /// the compiled pipeline and lists the smallest disagreeing program of each kind in the test output.
    /// Without the variable it does nothing.
    /// </summary>
    [Fact]
    public void DisagreementReport()
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable("LMN_DIFF_REPORT"), out int count)) return;
        int depth = int.TryParse(Environment.GetEnvironmentVariable("LMN_DIFF_DEPTH"), out int dd) ? dd : 2;
        bool pure = Environment.GetEnvironmentVariable("LMN_DIFF_PURE") == "1";
        var gen = new ProgramGen { MaxDepth = depth, MaxDefs = depth, Mixed = !pure, Questions = !pure,
            DataEquality = Environment.GetEnvironmentVariable("LMN_DIFF_NUMEQ") != "1" };
        var smallest = new Dictionary<string, (GenProgram P, string Problem)>();
        int failing = 0;
        var all = new List<(GenProgram P, string Problem)>();
        var sw = Stopwatch.StartNew();
        foreach (var p in gen.Array[count].Single())
        {
            string? problem = CompareWithCompiler(p.Source);
            if (problem == null) continue;
            failing++;
            all.Add((p, problem));
            string kind = System.Text.RegularExpressions.Regex.Replace(problem, @"(printed|gave) .*?, expected", "$1 ?, expected");
            kind = System.Text.RegularExpressions.Regex.Replace(kind, @"expected .*", "expected ?");
            kind = System.Text.RegularExpressions.Regex.Replace(kind, @"[∿~]\S+", "Q");
            if (!smallest.TryGetValue(kind, out var best) || p.Nodes < best.P.Nodes) smallest[kind] = (p, problem);
        }
        output.WriteLine($"{failing} of {count} programs disagree ({sw.Elapsed.TotalSeconds:F1}s); the 20 smallest:");
        foreach (var (p, problem) in all.OrderBy(x => x.P.Nodes).Take(20))
            output.WriteLine($"--- {p.Nodes} nodes\n{p.Source}interpreter: {Interpret(p.Source)}\ncompiler: {problem}\n");
        output.WriteLine("smallest of each kind:");
        foreach (var (kind, (p, problem)) in smallest.OrderBy(kv => kv.Value.P.Nodes))
        {
            var want = Interpret(p.Source);
            output.WriteLine($"--- {kind}\n{p.Source}interpreter: {want}\ncompiler: {problem}\n");
        }
    }

    [Fact]
    [Trait("Category", "Differential")]
    public void CompiledPipelineAgreesWithTheInterpreter()
    {
        if (!CompilerIsChecked)
        {
            // Until the sound compiler lands: the interpreter side of the property (kept green).
            Generator.Sample(p => Assert.Null(SelfCheck(p.Source)), iter: 200, threads: 1, print: p => "\n" + p.Source);
            return;
        }
        var sw = Stopwatch.StartNew();
        if (Environment.GetEnvironmentVariable("CI") == "true")
        {
            // CI: the same 5,000 programs every run (a fixed PCG stream), so a landing never depends on
            // luck; a run elsewhere draws new ones (and shrinks a failure), finding new cases to keep.
            var pcg = new PCG(11, 20261202);
            for (int i = 0; i < Programs; i++)
            {
                var p = Generator.Generate(pcg, null, out _);
                string? problem = CompareWithCompiler(p.Source);
                Assert.True(problem == null, problem + "\n--- program ---\n" + p.Source);
            }
            output.WriteLine($"{Programs} programs (fixed stream) compared in {sw.Elapsed.TotalSeconds:F1}s");
            return;
        }
        Generator.Sample(p =>
        {
            string? problem = CompareWithCompiler(p.Source);
            Assert.True(problem == null, problem + "\n--- program ---\n" + p.Source);
        }, iter: Programs, threads: 1, print: p => "\n" + p.Source);
        output.WriteLine($"{Programs} programs compared in {sw.Elapsed.TotalSeconds:F1}s");
    }
}
