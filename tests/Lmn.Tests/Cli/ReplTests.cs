using Lmn.Cli;

namespace Lmn.Tests.Cli;

/// <summary>`lmn repl` driven through the piped stdin of the real `lmn` process, and its session in process.</summary>
public class ReplTests
{
    private static string Answers => Path.Combine(TestUtil.RepoRoot, "examples", "answers.json");

    /// <summary>Runs the built CLI with <paramref name="input"/> on its standard input.</summary>
    private static (int Code, string Out, string Err) Repl(string input, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Lmn.Cli.dll");
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = TestUtil.RepoRoot,
        };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add("repl");
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEndAsync();
        p.StandardInput.Write(input);
        p.StandardInput.Close();
        p.WaitForExit();
        Assert.DoesNotContain("   at ", err.Result);
        return (p.ExitCode, output.Result.Replace("\r\n", "\n"), err.Result);
    }

    private static Dictionary<string, string> Stats(string output) =>
        output.Split('\n').Where(l => l.Contains(": ")).Select(l => l.Split(": ", 2)).GroupBy(kv => kv[0]).ToDictionary(g => g.Key, g => g.Last()[1]);

    [Fact]
    public void DefinitionsAndValuesPersistAcrossLines()
    {
        var (code, output, err) = Repl("""
            let x = 21
            def double(n) = n * 2
            double(x)
            def pair = fir[x, 'joy]
            [pair, x + 1]
            let inc = \y. y + 1
            inc(double(x))
            let x = 5
            [x, pair]

            """, "--no-cache", "-q");
        Assert.Equal("", err);
        Assert.Equal(0, code);
        Assert.Equal("""
            x = 21
            double defined
            42
            pair = fir[21, joy]
            [fir[21, joy], 22]
            inc = λy. y + 1
            43
            x = 5
            [5, fir[21, joy]]

            """, output);
    }

    [Fact]
    public void EveryLineRegionExitsWithTheClosureVerifierOn()
    {
        var (code, output, _) = Repl("""
            let a = [1, 2, 3]
            let b = fir[a, "text", 'joy]
            [a, b]
            def f(n) = n + 1
            f(3)
            :stats

            """, "--no-cache", "-q");
        Assert.Equal(0, code);
        var s = Stats(output);
        Assert.Equal("on", s["closure_verifier"]);
        // Five inputs, each with its own region, every one of them exited; only the session region is left.
        Assert.Equal("5", s["line_regions_created"]);
        Assert.Equal("5", s["line_regions_exited"]);
        Assert.Equal("1", s["live_regions"]);
        Assert.Equal("2 (a, b)", s["values"]);
        Assert.Equal("1 (f)", s["definitions"]);
    }

    [Fact]
    public async Task SessionRegionHoldsExactlyTheKeptValues()
    {
        // In process: after each line only the session region is live, and the session region grows by the
        // nodes of the value's encoding (a tree, counted here from DataTerms.Encode, not from the session).
        var err = new StringWriter();
        using var s = new ReplSession(new ReplOptions { Oracle = Oracle("first"), Quiet = true }, new StringWriter(), err);
        Assert.True(s.Open());
        uint before = s.SessionRegion.NodeCount;
        Assert.True(await s.EvalAsync("let v = fir[[1, 2], \"s\", 'joy]", "repl", 1, default), err.ToString());
        Assert.Equal(1, s.LiveRegions);
        var tree = Lmn.Language.DataTerms.Encode(new Lmn.Language.TCompound("fir", [
            new Lmn.Language.TList([new Lmn.Language.TNum(Lmn.Net.Numb.NewU24(1)), new Lmn.Language.TNum(Lmn.Net.Numb.NewU24(2))], null),
            new Lmn.Language.TStr("s"), new Lmn.Language.TWord("joy")]), new Lmn.Language.SymbolTable());
        Assert.Equal(CountNodes(tree), (int)(s.SessionRegion.NodeCount - before));
        Assert.True(await s.EvalAsync("v", "repl", 2, default));
        Assert.False(await s.EvalAsync("nope(v)", "repl", 3, default));
        Assert.Equal(1, s.LiveRegions);
        Assert.Equal(s.RegionsCreated, s.RegionsExited);
        // Using v copies it out: the session region did not grow.
        Assert.Equal(CountNodes(tree), (int)(s.SessionRegion.NodeCount - before));
    }

    private static int CountNodes(Lmn.Hvm.Tree t) => t.Fst == null ? 0 : 1 + CountNodes(t.Fst) + CountNodes(t.Snd!);

    private static RunOptions Oracle(string name)
    {
        return new RunOptions { Oracle = name, Cache = false };
    }

    [Fact]
    public void ALetThatRebindsItsNameReadsTheOldValue()
    {
        var (code, output, err) = Repl("""
            let n = 1
            let n = n + 1
            let n = n * 10
            let xs = [n]
            let xs = [0, ...xs]
            n
            len(xs)

            """, "--no-cache", "-q");
        Assert.True(code == 0, err);
        Assert.Equal("n = 1\nn = 2\nn = 20\nxs = [20]\nxs = [0, 20]\n20\n2\n", output);
    }

    [Fact]
    public void ErrorsDoNotEndTheSession()
    {
        var (code, output, err) = Repl("""
            let x = 2
            [x,
              )
            nope(1)
            let y =
            x * 10
            :frobnicate
            x + 1

            """, "--no-cache", "-q");
        // A piped session with errors exits 1, but every line after an error was still read and run.
        Assert.Equal(1, code);
        Assert.Equal("x = 2\ny = 20\n3\n", output);
        Assert.Contains("repl:3:3: error:", err);
        Assert.Contains("repl:4:1: error: unknown function nope", err);
        Assert.Contains("repl:7: error: unknown command :frobnicate", err);
        Assert.DoesNotContain("Exception", err);
    }

    [Fact]
    public void QuestionsGoThroughTheScriptOracleAndReplayFromTheTranscript()
    {
        string transcript = Path.Combine(Path.GetTempPath(), $"lmn-repl-{Guid.NewGuid():N}.jsonl");
        try
        {
            const string session = """
                let mood = ∿lov[joy, pai]
                [mood, ∿mov[run, sit]]
                :stats

                """;
            var first = Repl(session, "--oracle", "script:" + Answers, "--no-cache", "-q", "--transcript", transcript);
            Assert.Equal(0, first.Code);
            Assert.StartsWith("mood = joy\n[joy, run]\n", first.Out);
            Assert.Equal("2", Stats(first.Out)["questions"]);
            Assert.Contains("\"∿lov[joy, pai]\"", File.ReadAllText(transcript));

            // The same session answered by the transcript alone; a question it has no answer for is an
            // error on that line only.
            var again = Repl(session.Replace(":stats", "∿lov[pai, ang]\nmood"), "--oracle", "replay:" + transcript, "--no-cache", "-q");
            Assert.Equal(1, again.Code);
            Assert.Equal("mood = joy\n[joy, run]\njoy\n", again.Out);
            Assert.Contains("lov[pai, ang]", again.Err);
        }
        finally { File.Delete(transcript); }
    }

    [Fact]
    public void CommandsTypeNetContextOracleLoadAndQuit()
    {
        string file = TestUtil.TempFile("def add(a, b) = a + b\ndef three =\n  add(1, 2)\n", ".lmn");
        try
        {
            var (code, output, err) = Repl($"""
                :load {file}
                add(three, 10)
                :type add(1, 2)
                :type fir[1]
                :net three
                :context now=present_moment
                @now ∿lov[joy, pai, hop]
                :oracle first
                ∿mov[sit, run]
                :oracle nonsense
                :quit
                add(1, 1)

                """, "--oracle", "script:" + Answers, "--no-cache", "-q");
            Assert.Equal(1, code);
            var lines = output.Split('\n');
            Assert.Equal(["add defined", "three = 3", "13", "add(1, 2) : a number", "fir[1] : a compound"], lines[..5]);
            Assert.StartsWith("@main = ", lines[5]);
            Assert.Contains("@three", lines[5]);
            Assert.Equal(["@now = present_moment", "joy@now", "oracle: first", "sit", ""], lines[6..]);
            Assert.Contains("--oracle nonsense", err);
            Assert.Contains("the oracle stays first", err);
        }
        finally { File.Delete(file); }
    }

    [Theory]
    [InlineData("1 + 2", false)]
    [InlineData("1 +", true)]
    [InlineData("let x =", true)]
    [InlineData("[1, 2", true)]
    [InlineData("[1, 2]", false)]
    [InlineData("\"a [ string\"", false)]
    [InlineData("f(1) # a comment (", false)]
    [InlineData("x →", true)]
    [InlineData("let a = 1;", true)]
    public void AnInputContinuesWhileItIsIncomplete(string line, bool more) => Assert.Equal(more, ChunkReader.NeedsMore(line));
}
