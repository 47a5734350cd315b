using System.Diagnostics;
using CsCheck;
using Lmn.Cli;
using Lmn.Hvm;
using Lmn.Net;
using Xunit.Abstractions;
using Lmn.Runtime;

namespace Lmn.Tests.Net;

/// <summary>
/// Differential: compiled definitions (IL), the fast walk and the plain interpreter give the same normal
/// form and the same count of every rule (LINK aside: it is bookkeeping and differs by path), on every
/// example, every benchmark and on generated programs (<see cref="NetGen"/>).
/// </summary>
public class CompiledTests(ITestOutputHelper output)
{
    /// <summary>Generated programs compared per run (the issue asks for at least 1,000 per CI run).</summary>
    private const int Programs = 1000;

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (string dir in new[] { "examples", "bench" })
            foreach (string f in Directory.GetFiles(Path.Combine(TestUtil.RepoRoot, dir), "*.hvm").Order(StringComparer.Ordinal))
                if (!File.ReadAllText(f).Contains("0xD0CA11")) data.Add(dir + "/" + Path.GetFileName(f));
        return data;
    }

    private sealed record Result(string Text, RuleCounts Rules, bool OutOfMemory)
    {
        public string? Note { get; init; }
    }

    /// <summary>
    /// Runs a generated net with a redex limit: some random nets never reach a normal form (a duplicator
    /// copying itself, in constant space); those are skipped like the ones that run out of memory.
    /// </summary>
    private static Result RunLimited(HvmBook ast, EngineMode mode, long memory, string text)
    {
        var book = Book.FromHvm(ast);
        using var e = new Lmn.Net.Engine(book, memory, mode) { RedexLimit = 2_000_000 };
        e.Precompile();
        try
        {
            e.Run();
        }
        catch (EngineFault f)
        {
            return new Result("error: out of memory", default, OutOfMemory: true) { Note = f.Message };
        }
        catch (NumericFault f)
        {
            return new Result("error: " + f.Message, default, false);
        }
        catch (Exception f)
        {
            throw new InvalidOperationException($"{mode}: {f.Message}\n--- program ---\n{text}", f);
        }
        var sb = new System.Text.StringBuilder();
        e.ReadBack(e.RootPort).Write(sb);
        return new Result(sb.ToString(), e.Rules, false);
    }

    private static Result Run(HvmBook ast, EngineMode mode, long memory, int threads = 1)
    {
        var o = HvmRunner.Run(ast, memory, io: null, threads: threads, mode: mode);
        if (o.Error == null) return new Result(o.Output, o.Rules, false);
        // A numeric fault (division by zero) is the program's outcome on every path; counts at the fault may differ.
        bool oom = o.Error.Contains("out of memory", StringComparison.Ordinal);
        return new Result("error: " + (oom ? "out of memory" : o.Error), default, oom);
    }

    private static string? Compare(Result reference, Result other, string what)
    {
        if (reference.Text != other.Text) return $"{what}: result {other.Text}, interpreter {reference.Text}";
        if (!reference.Rules.SameInteractions(other.Rules)) return $"{what}: counts {other.Rules}, interpreter {reference.Rules}";
        return null;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void SameAsInterpreterOnExamplesAndBenchmarks(string file)
    {
        var ast = HvmParser.Parse(Lmn.Text.SourceText.FromFile(Path.Combine(TestUtil.RepoRoot, file)));
        var plain = Run(ast, EngineMode.Interpret, 1L << 30);
        Assert.False(plain.Text.StartsWith("error", StringComparison.Ordinal), plain.Text);
        Assert.Null(Compare(plain, Run(ast, EngineMode.Compiled, 1L << 30), "compiled"));
        Assert.Null(Compare(plain, Run(ast, EngineMode.Fast, 1L << 30), "fast"));
        Assert.Null(Compare(plain, Run(ast, EngineMode.Compiled, 1L << 30, threads: 2), "compiled, 2 threads"));
    }

    /// <summary>
    /// Tail loops around the compiled code's limit of 256 jumps per entry and 256 trampolined tail calls
    /// (and far past them), in the shapes the generator also makes: the stress counter, a safe accumulator,
    /// a count copied through a DUP and passed on through a second definition (two levels of inlining),
    /// a cycle of four definitions (the trampoline); on one and two threads.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(257)]
    [InlineData(513)]
    [InlineData(20000)]
    public void TailLoopsAroundTheJumpLimit(int n)
    {
        string[] programs =
        [
            $"@main = r & @lp ~ ({n} r)\n@lp = (?((0 @lp.n) r) r)\n@lp.n = c & @lp ~ c",
            $"@main = r & @lpa ~ ({n} (7 r))\n@lpa = (?(((a a) @lpa.s) r) r)\n@lpa.s = (p (a r)) & a ~ $([+3] b) & @lpa ~ (p (b r))",
            $"@main = r & @lpd ~ ({n} (1 r))\n@lpd = (?(((a a) @lpd.s) r) r)\n@lpd.s = ({{p q}} (a r)) & q ~ $([^] $(a b)) & @lpd.t ~ (p (b r))\n@lpd.t = (p (b r)) & @lpd ~ (p (b r))",
            $"@main = r & @m0 ~ ({n} r)\n@m0 = (?((0 @m1) r) r)\n@m1 = c & @m2 ~ c\n@m2 = c & @m3 ~ c\n@m3 = c & @m0 ~ c",
            // the loop's result is duplicated and erased by its caller, and its count comes through a variable
            $"@main = (x y) & {{x y}} ~ r & @lpa ~ (k (1 r)) & {n} ~ $([+0] k)\n@lpa = (?(((a a) @lpa.s) r) r)\n@lpa.s = (p (a r)) & a ~ $([*3] b) & @lpa ~ (p (b r))",
        ];
        foreach (string text in programs)
        {
            var ast = HvmParser.Parse("loop.hvm", text);
            var plain = Run(ast, EngineMode.Interpret, 1L << 28);
            Assert.False(plain.Text.StartsWith("error", StringComparison.Ordinal), plain.Text);
            Assert.True(plain.Rules.Call >= n, text);
            Assert.Null(Compare(plain, Run(ast, EngineMode.Compiled, 1L << 28), "compiled\n" + text));
            Assert.Null(Compare(plain, Run(ast, EngineMode.Compiled, 1L << 28, threads: 2), "compiled, 2 threads\n" + text));
        }
    }

    /// <summary>
    /// Shapes where compiled code names a variable instead of giving it a slot (a variable met first
    /// meeting a port, another variable or a subtree it does not occur in; a compile-time ANNI doing such
    /// a pair first), and where it must not (the variable inside the subtree it meets: a cycle).
    /// </summary>
    [Theory]
    [InlineData("@main = r & @f ~ (5 r)\n@f = (x r) & @g ~ (x r)\n@g = (y r) & y ~ $([+1] r)")]
    [InlineData("@main = r & @f ~ (5 r)\n@f = (p r) & ($([+1] q) r) ~ (p q)")]
    [InlineData("@main = r & @f ~ (5 r)\n@f = (p r) & (q $([*3] r)) ~ (p q)")]
    [InlineData("@main = r & @f ~ (1 r)\n@f = (a r) & x ~ (x a) & r ~ 7")]
    [InlineData("@main = r & @f ~ ((1 2) r)\n@f = ((a b) r) & c ~ a & d ~ c & (d b) ~ (e f) & r ~ $(e $([+0] f))")]
    [InlineData("@main = r & @f ~ (3 r)\n@f = ({a b} r) & @g ~ (a (b r))\n@g = (x (y r)) & (u v) ~ (x y) & r ~ $(u $([+0] v))")]
    public void VariablesNamedWithoutASlot(string text)
    {
        var ast = HvmParser.Parse("alias.hvm", text);
        var plain = Run(ast, EngineMode.Interpret, 1L << 24);
        Assert.False(plain.Text.StartsWith("error", StringComparison.Ordinal), plain.Text);
        Assert.Null(Compare(plain, Run(ast, EngineMode.Compiled, 1L << 24), "compiled\n" + text));
        Assert.Null(Compare(plain, Run(ast, EngineMode.Fast, 1L << 24), "fast\n" + text));
        Assert.Null(Compare(plain, Run(ast, EngineMode.Compiled, 1L << 24, threads: 2), "compiled, 2 threads\n" + text));
        var book = Book.FromHvm(ast);
        using var e = new Lmn.Net.Engine(book, 1L << 24, EngineMode.Compiled);
        e.Precompile();
        Assert.Equal(book.Defs.Count, e.CompiledDefinitions); // every definition compiled, none left to the fast walk
    }

    /// <summary>The benchmarks' definitions are really compiled (none left to the fast walk).</summary>
    [Fact]
    public void BenchmarkDefinitionsCompileToIl()
    {
        foreach (string f in Directory.GetFiles(Path.Combine(TestUtil.RepoRoot, "bench"), "*.hvm"))
        {
            var book = Book.FromHvm(HvmParser.Parse(Lmn.Text.SourceText.FromFile(f)));
            using var e = new Lmn.Net.Engine(book, 64L << 20, EngineMode.Compiled);
            e.Precompile();
            Assert.Equal(book.Defs.Count, e.CompiledDefinitions);
        }
    }

    /// <summary>A definition called fewer times than the threshold stays on the fast walk; then it is compiled.</summary>
    [Fact]
    public void CompiledAfterRepeatedCallsWithoutPrecompile()
    {
        var book = Book.FromHvm(HvmParser.Parse("t.hvm", "@main = a & @loop ~ (1000 a)\n@loop = (?((0 @loop) r) r)"));
        using var e = new Lmn.Net.Engine(book, 64L << 20, EngineMode.Compiled) { CompileAfterCalls = 64 };
        e.Run();
        Assert.Equal(1, e.CompiledDefinitions); // @loop, called 1001 times; @main once
        Assert.Equal("0", e.ReadBack(e.RootPort).ToString());
        // At the default threshold the same 1001 calls stay on the fast walk (compiling would cost more than it saves), with the same result and counts.
        var book2 = Book.FromHvm(HvmParser.Parse("t.hvm", "@main = a & @loop ~ (1000 a)\n@loop = (?((0 @loop) r) r)"));
        using var walk = new Lmn.Net.Engine(book2, 64L << 20, EngineMode.Compiled);
        Assert.Equal(Lmn.Net.Engine.DefaultCompileAfterCalls, walk.CompileAfterCalls);
        walk.Run();
        Assert.Equal(0, walk.CompiledDefinitions);
        Assert.Equal("0", walk.ReadBack(walk.RootPort).ToString());
        Assert.True(walk.Rules.SameInteractions(e.Rules), $"{walk.Rules} vs {e.Rules}");
    }

    /// <summary>`lmn bench` prints the interpreter's, the fast walk's and the compiled MIPS side by side.</summary>
    [Fact]
    public void BenchPrintsTheModesSideBySide()
    {
        string dir = Path.Combine(Path.GetTempPath(), "lmn-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string program = "@main = a & @loop ~ (20000 a)\n@loop = (?((0 @loop) r) r)";
            File.WriteAllText(Path.Combine(dir, "loop.hvm"), program);
            var (code, stdout, err) = TestUtil.Cli("bench", "--dir", dir, "--runs", "1", "--threads", "1,2", "--atomic");
            Assert.True(code == 0, err + stdout);
            var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            // one row per thread count and one for the parallel core on one thread (1a), measured in one
            // child process, the same ITRS on every row; then, only if some timed run was run again
            // because the runtime's JIT worked in the background during it, a note saying how many
            if (lines.Length == 5) Assert.Matches(@"^\(\d+ timed runs were run again: the runtime's JIT", lines[4]);
            else Assert.Equal(4, lines.Length);
            var row2 = lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var row1a = lines[3].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(["loop", "2"], row2[..2]);
            Assert.Equal(["loop", "1a"], row1a[..2]);
            Assert.Equal(lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[2], row2[2]);
            Assert.Equal(row2[2], row1a[2]);
            Assert.Contains("interp MIPS", lines[0]);
            Assert.Contains("fast MIPS", lines[0]);
            Assert.Contains("compiled", lines[0]);
            var row = lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal("loop", row[0]);
            long itrs = TestUtil.Run(program, fastCalls: false).Itrs;
            Assert.Equal(itrs.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), row[2]);
            foreach (int col in new[] { 3, 4, 5 }) Assert.True(double.Parse(row[col], System.Globalization.CultureInfo.InvariantCulture) > 0, lines[1]);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void GeneratedProgramsAreValidAndVaried()
    {
        var pcg = new PCG(14, 1);
        var gen = new NetGen();
        int ran = 0, oom = 0; // oom: out of memory or of the redex limit
        var rules = new RuleCounts();
        for (int i = 0; i < 200; i++)
        {
            string text = gen.Generate(pcg, null, out _);
            var r = RunLimited(HvmParser.Parse("g.hvm", text), EngineMode.Interpret, 16L << 20, text);
            if (r.OutOfMemory) oom++;
            else ran++;
            rules += r.Rules;
        }
        output.WriteLine($"{ran} ran, {oom} out of memory; {rules}");
        Assert.True(ran >= 150, $"only {ran} of 200 generated programs ran to the end");
        // Every rule is exercised.
        for (int r = Rule.CALL; r <= Rule.SWIT; r++) Assert.True(rules[r] > 0, $"{Rule.Names[r]} never fires: {rules}");
    }

    [Fact]
    public void SameAsInterpreterOnGeneratedPrograms()
    {
        var sw = Stopwatch.StartNew();
        // CI: the same stream every run (a landing never depends on luck); elsewhere new programs each run.
        ulong seed = Environment.GetEnvironmentVariable("CI") == "true" ? 20261202UL : (ulong)Stopwatch.GetTimestamp();
        var pcg = new PCG(14, seed);
        var gen = new NetGen();
        int compared = 0, skipped = 0, faults = 0;
        while (compared < Programs)
        {
            string text = gen.Generate(pcg, null, out _);
            var ast = HvmParser.Parse("g.hvm", text);
            var plain = RunLimited(ast, EngineMode.Interpret, 16L << 20, text);
            if (plain.OutOfMemory)
            {
                skipped++;
                Assert.True(skipped < 2 * Programs, "most generated programs run out of memory or of the redex limit");
                continue;
            }
            if (plain.Text.StartsWith("error", StringComparison.Ordinal)) faults++;
            var compiledRun = RunLimited(ast, EngineMode.Compiled, 16L << 20, text);
            var fastRun = RunLimited(ast, EngineMode.Fast, 16L << 20, text);
            // A net with a division by zero and a part that grows without end has no normal form: which of
            // the two a path meets first depends on its order, so a fault against a run out of memory (or
            // of the redex limit) is not a difference; a fault against a value is.
            if (plain.Text.StartsWith("error", StringComparison.Ordinal) && (compiledRun.OutOfMemory || fastRun.OutOfMemory))
            {
                skipped++;
                continue;
            }
            string? problem = Compare(plain, compiledRun, "compiled") ?? Compare(plain, fastRun, "fast");
            Assert.True(problem == null, $"{problem}\n(seed {seed}, program {compared + skipped})\n--- program ---\n{text}");
            compared++;
        }
        output.WriteLine($"{compared} programs compared ({faults} numeric faults), {skipped} skipped (out of memory or no normal form within the limit), seed {seed}, {sw.Elapsed.TotalSeconds:F1}s");
    }
}
