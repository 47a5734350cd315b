using Lmn.Cli;
using Lmn.Hvm;
using Lmn.Net;
using Lmn.Words;
using Lmn.Runtime;

namespace Lmn.Tests.Net;

/// <summary>
/// Runs per thread count of the stress loops below (trait Category=Stress): 50 (1 + 2 x 50 = 101 runs per
/// program) by default; 5 (11 runs) when CI=true; LMN_STRESS_RUNS=N sets it.
/// </summary>
public static class StressRuns
{
    public static int PerThreadCount { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("LMN_STRESS_RUNS"), out int n) && n > 0 ? n
        : string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase) ? 5
        : 50;
}

/// <summary>
/// The parallel engine gives the same normal form and the same ITRS as one thread on every example and
/// benchmark program, 50 runs each at 2 threads and at 8 (more threads than cores; 5 when CI=true, see StressRuns).
/// </summary>
public class ParallelTests
{
    public static TheoryData<string> Programs()
    {
        var data = new TheoryData<string>();
        foreach (string dir in new[] { "examples", "bench" })
            foreach (string f in Directory.GetFiles(Path.Combine(TestUtil.RepoRoot, dir), "*.hvm").Order(StringComparer.Ordinal))
                data.Add(dir + "/" + Path.GetFileName(f));
        return data;
    }

    [Theory]
    [Trait("Category", "Stress")]
    [MemberData(nameof(Programs))]
    public void SameResultAndCountAtAnyThreadCount(string program)
    {
        string path = Path.Combine(TestUtil.RepoRoot, program);
        var ast = HvmParser.Parse(Lmn.Text.SourceText.FromFile(path));
        bool io = File.ReadAllText(path).Contains("0xD0CA11");
        HvmRunner.Outcome RunOnce(int threads) =>
            HvmRunner.Run(ast, 1L << 30, io ? new IoHost { StdOut = Stream.Null } : null, threads: threads);
        var one = RunOnce(1);
        Assert.Null(one.Error);
        foreach (int threads in new[] { 2, 8 })
        {
            for (int run = 0; run < StressRuns.PerThreadCount; run++)
            {
                var many = RunOnce(threads);
                Assert.True(many.Output == one.Output && many.Interactions == one.Interactions,
                    $"{program} at {threads} threads, run {run}: got {many.Output} / {many.Interactions}, expected {one.Output} / {one.Interactions}");
            }
        }
    }

    [Fact]
    public void AtomicEngineOnOneThreadMatchesPlain()
    {
        string src = File.ReadAllText(Path.Combine(TestUtil.RepoRoot, "examples/parallel_mix.hvm"));
        var book = Book.FromHvm(HvmParser.Parse("mix.hvm", src));
        using var plain = new Lmn.Net.Engine(book, 1L << 28);
        plain.Run();
        using var atomic = new ParallelEngine(book, 1, 1L << 28);
        atomic.Run();
        Assert.Equal(plain.ReadBack(plain.RootPort).Show(), atomic.ReadBack(atomic.RootPort).Show());
        Assert.Equal(plain.Interactions, atomic.Interactions);
    }

    [Fact]
    public void LmnSyncAtomicRunsOneThreadOnTheParallelCoreWithTheSameResult()
    {
        // The diagnostic switch behind docs/engine.md's figure for the atomics' cost: same output, same
        // counts per rule, and the parallel core really is used (its counts are the workers' sum).
        var ast = HvmParser.Parse("mix.hvm", File.ReadAllText(Path.Combine(TestUtil.RepoRoot, "examples/parallel_mix.hvm")));
        var plain = HvmRunner.Run(ast, 1L << 28, io: null, threads: 1);
        HvmRunner.Outcome atomic;
        Environment.SetEnvironmentVariable("LMN_SYNC", "atomic");
        try { atomic = HvmRunner.Run(ast, 1L << 28, io: null, threads: 1); }
        finally { Environment.SetEnvironmentVariable("LMN_SYNC", null); }
        Assert.Null(atomic.Error);
        Assert.Equal(plain.Output, atomic.Output);
        Assert.Equal(plain.Interactions, atomic.Interactions);
        Assert.Equal(plain.Rules.Lines(), atomic.Rules.Lines());
        Assert.True(atomic.UsedParallelCore, "LMN_SYNC=atomic did not select the parallel core");
        Assert.False(plain.UsedParallelCore);
    }

    /// <summary>
    /// Compiled, the parallel core swaps a slot only where a wire's far end may be on another thread: a slot
    /// the far end already filled is read, and compiled code names a variable met first instead of giving
    /// it a slot. On one thread the count is exact: sort_bitonic made 6,161,548 swaps before both, 3,007,918 after.
    /// </summary>
    [Fact]
    public void ParallelCoreSwapsOnlyWhereAWireMayBeShared()
    {
        var ast = HvmParser.Parse(Lmn.Text.SourceText.FromFile(Path.Combine(TestUtil.RepoRoot, "bench", "sort_bitonic.hvm")));
        var book = Book.FromHvm(ast);
        using var e = new ParallelEngine(book, 1, 1L << 30, EngineMode.Compiled);
        e.Precompile();
        e.Run();
        Assert.Equal("8386560", e.ReadBack(e.RootPort).ToString());
        Assert.Equal(9_480_165, e.Interactions);
        Assert.InRange(e.Swaps, 1, 3_100_000);
    }

    [Fact]
    public void FaultOnOneWorkerStopsAllAndIsReported()
    {
        // Every leaf divides by zero: whichever worker gets there first stops the run with a clear error.
        var ast = HvmParser.Parse("div.hvm", """
            @main = r & @t ~ (10 r)
            @t = (?((@leaf @t_s) r) r)
            @t_s = ({a b} r) & @t ~ (a x) & @t ~ (b y) & [+] ~ $(x $(y r))
            @leaf = r & [/5] ~ $(0 r)
            """);
        var outcome = HvmRunner.Run(ast, 1L << 28, io: null, threads: 4);
        Assert.Contains("integer division by zero", outcome.Error);
    }

    [Fact]
    public void FreeWiresAreNamedTheSameAtAnyThreadCount()
    {
        var ast = HvmParser.Parse("lam.hvm", "@main = a & @f ~ (1 a)\n@f = (* (x (y (x y))))");
        var one = HvmRunner.Run(ast, 1L << 26, io: null, threads: 1);
        var two = HvmRunner.Run(ast, 1L << 26, io: null, threads: 2);
        Assert.Equal("(v0 (v1 (v0 v1)))", one.Output);
        Assert.Equal(one.Output, two.Output);
    }
}

/// <summary>Every LMN example at 2 and 8 threads, 50 runs each (5 when CI=true): the same value and interaction count as one thread.</summary>
public class ParallelLmnTests
{
    public static TheoryData<string> Programs()
    {
        var data = new TheoryData<string>();
        foreach (string f in Directory.GetFiles(Path.Combine(TestUtil.RepoRoot, "examples"), "*.lmn").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(f));
        return data;
    }

    [Theory]
    [Trait("Category", "Stress")]
    [MemberData(nameof(Programs))]
    public void SameValueAndCountAtAnyThreadCount(string file)
    {
        string path = Path.Combine(TestUtil.RepoRoot, "examples", file);
        string text = File.ReadAllText(path);
        string? argsLine = text.Split('\n').FirstOrDefault(l => l.StartsWith("# args:", StringComparison.Ordinal));
        var args = argsLine == null ? [] : argsLine["# args:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var context = new List<KeyValuePair<string, string>>();
        string? script = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--context") { var kv = args[++i]; context.Add(new(kv[..kv.IndexOf('=')], kv[(kv.IndexOf('=') + 1)..])); }
            else if (args[i] == "--oracle") script = Path.Combine(TestUtil.RepoRoot, args[++i]["script:".Length..]);
        }
        var diags = new List<Lmn.Text.Diagnostic>();
        var ctx = Lmn.Language.LmnDriver.ParseContext(context, diags);
        var prog = Lmn.Language.LmnDriver.Compile(Lmn.Text.SourceText.FromFile(path), diags, ctx)!;
        var values = context.ToDictionary(kv => kv.Key, kv => kv.Value);
        (string?, long) RunOnce(int threads)
        {
            Lmn.Oracles.IOracle oracle = script != null ? new Lmn.Oracles.ScriptOracle(script) : new Lmn.Oracles.LexiconOracle(Lmn.Words.Lexicon.Default);
            var pipeline = new Lmn.Oracles.OraclePipeline(oracle, new Lmn.Language.LmnTermChecker(Lmn.Words.Lexicon.Default));
            var sup = new Lmn.Runtime.Supervisor(prog, pipeline, new Lmn.Runtime.SupervisorOptions { Context = values, Threads = threads, MaxMemory = 1L << 30 });
            var r = sup.RunAsync(CancellationToken.None).GetAwaiter().GetResult();
            Assert.Null(r.Error);
            return (r.Output, r.Interactions);
        }
        var one = RunOnce(1);
        foreach (int threads in new[] { 2, 8 })
            for (int run = 0; run < StressRuns.PerThreadCount; run++)
                Assert.Equal(one, RunOnce(threads));
    }
}
