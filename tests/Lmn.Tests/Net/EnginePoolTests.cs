using CsCheck;
using Lmn.Hvm;
using Lmn.Language;
using Lmn.Net;
using Lmn.Oracles;
using Lmn.Runtime;
using Lmn.Tests.Reference;
using Lmn.Text;
using Lmn.Words;

namespace Lmn.Tests.Net;

/// <summary>
/// Engines reused between runs (<see cref="EnginePool"/>, <see cref="EngineCore{TSync}.Reset"/>) and the
/// definitions' native copy shared by every net of a book (<see cref="BookImage"/>): a run on a reset
/// engine equals a run on a new one (value and every rule's count), also after a run that stopped
/// half-way; nets of one book share one copy and never write into it, also on several threads at once.
/// </summary>
public class EnginePoolTests
{
    private sealed record Outcome(string Text, RuleCounts Rules);

    private static Outcome RunOn(Lmn.Net.Engine e, long limit = 2_000_000)
    {
        e.RedexLimit = limit;
        try { e.Run(); }
        catch (EngineFault f) { return new Outcome("fault: " + f.Message, default); }
        catch (NumericFault f) { return new Outcome("numeric: " + f.Message, default); }
        var sb = new System.Text.StringBuilder();
        e.ReadBack(e.RootPort).Write(sb);
        return new Outcome(sb.ToString(), e.Rules);
    }

    private static void AssertSame(Outcome want, Outcome got, string what, string program)
    {
        Assert.True(want.Text == got.Text, $"{what}: {got.Text}, a new engine gives {want.Text}\n{program}");
        // LINK is bookkeeping and differs by path: an engine may meet a definition already compiled by
        // another net of the book (their code is shared) where a new engine's first calls took the fast walk.
        Assert.True(want.Rules.SameInteractions(got.Rules), $"{what}: counts {got.Rules}, a new engine gives {want.Rules}\n{program}");
    }

    /// <summary>
    /// 1,000 generated nets, each run on a new engine, then three times on one engine reset in between:
    /// after a full run, after a run stopped by the redex limit half-way (its bags, free lists and bump
    /// pointers left dirty), and after a run of another definition of the book.
    /// </summary>
    [Theory]
    [InlineData(EngineMode.Compiled)]
    [InlineData(EngineMode.Interpret)]
    public void AResetEngineRunsLikeANewOne(EngineMode mode)
    {
        var pcg = new PCG(16, 20261202);
        var gen = new NetGen();
        int compared = 0;
        for (int i = 0; i < 1000; i++)
        {
            string text = gen.Generate(pcg, null, out _);
            var book = Book.FromHvm(HvmParser.Parse("g.hvm", text));
            Outcome fresh;
            using (var e = new Lmn.Net.Engine(book, 16L << 20, mode)) fresh = RunOn(e);
            if (fresh.Text.StartsWith("fault", StringComparison.Ordinal)) continue;
            compared++;
            using var reused = new Lmn.Net.Engine(book, 16L << 20, mode);
            AssertSame(fresh, RunOn(reused), "first run", text);
            reused.Reset();
            AssertSame(fresh, RunOn(reused), "after a reset", text);
            reused.Reset();
            RunOn(reused, limit: 1 + fresh.Rules.Total / 2); // stopped half-way (or finished, if tiny)
            reused.Reset();
            AssertSame(fresh, RunOn(reused), "after a reset of a run stopped half-way", text);
            reused.Reset();
            reused.RedexLimit = 2_000_000;
            try { reused.Run(book.Defs.Count - 1); }
            catch (Exception x) when (x is EngineFault or NumericFault) { }
            reused.Reset();
            AssertSame(fresh, RunOn(reused), "after a reset of a run of another definition", text);
        }
        Assert.True(compared >= 700, $"only {compared} of 1000 generated nets ran");
    }

    /// <summary>Nets of one book share one native copy of its definitions; the template words are the same after thousands of runs on several threads.</summary>
    [Fact]
    public unsafe void NetsOfOneBookShareTheDefinitionsAndNeverWriteThem()
    {
        // Many small computations (a DUP meeting a lambda, number copies, OPERs; @sq and @t called more
        // often than the compiled engines' CompileAfterCalls, 64 here, so compiled to IL on the way).
        var book = Book.FromHvm(HvmParser.Parse("t.hvm", File.ReadAllText(Path.Combine(TestUtil.RepoRoot, "examples", "parallel_mix.hvm"))));
        using var first = new Lmn.Net.Engine(book, 64L << 20, EngineMode.Compiled) { CompileAfterCalls = 64 };
        using var second = new Lmn.Net.Engine(book, 64L << 20, EngineMode.Interpret);
        Assert.True(first.Memory.Defs == second.Memory.Defs, "one native copy per book");
        var before = Words(first.Memory);
        var want = RunOn(first);
        first.Reset();
        var failures = new string?[4];
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            using var e = new Lmn.Net.Engine(book, 64L << 20, t % 2 == 0 ? EngineMode.Compiled : EngineMode.Interpret) { CompileAfterCalls = 64 };
            for (int k = 0; k < 150 && failures[t] == null; k++)
            {
                var got = RunOn(e);
                if (got.Text != want.Text || !got.Rules.SameInteractions(want.Rules)) failures[t] = $"thread {t} run {k}: {got.Text} {got.Rules}";
                e.Reset();
            }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.All(failures, Assert.Null);
        AssertSame(want, RunOn(first), "the first engine after the others ran", "parallel_mix");
        var after = Words(first.Memory);
        Assert.Equal(before, after);

        // Another book (the same text, parsed again) has its own copy.
        var other = Book.FromHvm(HvmParser.Parse("t.hvm", "@main = 1"));
        using var third = new Lmn.Net.Engine(other, 1L << 20);
        Assert.False(third.Memory.Defs == first.Memory.Defs);
    }

    /// <summary>Every word of every definition's native template, with its flags (the calls counter aside: it only decides when to compile).</summary>
    private static unsafe List<string> Words(NetMemory m)
    {
        var list = new List<string>();
        for (int i = 0; i < m.DefCount; i++)
        {
            var d = m.Defs[i];
            var sb = new System.Text.StringBuilder($"{i}: root {d.Root} vars {d.VarLen} safe {d.Safe} site {d.SiteId} poison {d.Poison} deep {d.Deep} |");
            for (int k = 0; k < d.NodeLen * 2; k++) sb.Append(' ').Append(d.Nodes[k]);
            sb.Append(" |");
            for (int k = 0; k < d.RedexLen * 2; k++) sb.Append(' ').Append(d.Redexes[k]);
            list.Add(sb.ToString());
        }
        return list;
    }

    [Fact]
    public void ThePoolReusesUpToItsCapacityAndFreesEnginesThatGrewLarge()
    {
        // @main loops in constant space; @big builds a tree of 2^16 leaves (more than MaxKeptBytes of nodes).
        string tree = File.ReadAllText(Path.Combine(TestUtil.RepoRoot, "bench", "sum_tree.hvm")).Replace("@main", "@big").Replace("(20 ", "(16 ");
        var book = Book.FromHvm(HvmParser.Parse("t.hvm", "@main = a & @loop ~ (3000 a)\n@loop = (?((0 @loop) r) r)\n" + tree));
        using var pool = new EnginePool(2);
        var a = pool.Rent(book, 64L << 20, EngineMode.Compiled);
        var b = pool.Rent(book, 64L << 20, EngineMode.Compiled);
        var c = pool.Rent(book, 64L << 20, EngineMode.Compiled);
        Assert.Equal(3, pool.Created);
        foreach (var e in new[] { a, b, c }) e.Run();
        pool.Return(a);
        pool.Return(b);
        pool.Return(c); // over capacity: freed
        var again = pool.Rent(book, 64L << 20, EngineMode.Compiled);
        Assert.Same(b, again); // the last returned goes out first
        Assert.Equal(1, pool.Reused);
        Assert.Equal(0, again.Interactions);
        again.Run();
        Assert.Equal("0", again.ReadBack(again.RootPort).ToString());
        // Another memory limit is another kind of engine.
        using (var other = pool.Rent(book, 32L << 20, EngineMode.Compiled)) Assert.Equal(4, pool.Created);
        // An engine that touched more than MaxKeptBytes is freed, not kept.
        again.Reset();
        again.Run(book.Fids["big"]);
        Assert.Equal("65536", again.ReadBack(again.RootPort).ToString());
        Assert.True(again.PeakBytes > EnginePool.MaxKeptBytes, $"{again.PeakBytes} bytes");
        pool.Return(again);
        Assert.Equal(1, pool.Large);
        Assert.Same(a, pool.Rent(book, 64L << 20, EngineMode.Compiled));
        Assert.NotSame(again, pool.Rent(book, 64L << 20, EngineMode.Compiled));
        Assert.Equal(5, pool.Created);
    }

    /// <summary>
    /// 1,500 generated LMN programs (with questions, answered by the test oracle) run by the supervisor
    /// three times each with one engine pool, against a run with new engines: the same value or error
    /// and the same interaction count every time.
    /// </summary>
    [Fact]
    public void SupervisedRunsOnPooledEnginesEqualRunsOnNewOnes()
    {
        var pcg = new PCG(17, 20261202);
        using var pool = new EnginePool(4);
        int compared = 0;
        for (int i = 0; i < 1500; i++)
        {
            var p = DifferentialTests.Generator.Generate(pcg, null, out _);
            var diags = new List<Diagnostic>();
            var prog = LmnDriver.Compile(new SourceText(DifferentialTests.Path, p.Source), diags);
            if (prog == null) continue;
            var fresh = Supervise(prog, null);
            compared++;
            for (int k = 0; k < 3; k++)
            {
                var got = Supervise(prog, pool);
                Assert.True(fresh.Output == got.Output && fresh.Error == got.Error, $"run {k} on a pooled engine: {got.Output ?? got.Error}, a new engine: {fresh.Output ?? fresh.Error}\n{p.Source}");
                Assert.True(fresh.Interactions == got.Interactions, $"run {k}: {got.Interactions} interactions, a new engine {fresh.Interactions}\n{p.Source}");
            }
        }
        Assert.True(compared >= 1000, $"only {compared} of 1500 generated programs compiled");
        Assert.True(pool.Reused >= 2 * compared, $"{pool.Reused} reuses for {compared} programs; {pool.Created} engines made, {pool.Large} freed as large");
    }

    private static SupervisedRun Supervise(CompiledProgram prog, EnginePool? pool)
    {
        var pipeline = new OraclePipeline(new TestOracle(), new LmnTermChecker(Lexicon.Default), new OraclePolicies());
        var sup = new Supervisor(prog, pipeline, new SupervisorOptions { MaxMemory = 16L << 20, Engines = pool });
        return sup.RunAsync(CancellationToken.None).GetAwaiter().GetResult();
    }
}
