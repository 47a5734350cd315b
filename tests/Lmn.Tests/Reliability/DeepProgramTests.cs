using System.Text;
using Lmn.Hvm;
using Lmn.Language;
using Lmn.Net;
using Lmn.Text;

namespace Lmn.Tests.Reliability;

/// <summary>
/// Issue 11, item 7: the compiler follows long chains (lets, else-if ladders, list elements, questions
/// nested in their last candidate) in loops, not by recursion. Each program here is compiled on a thread
/// with a 1 MB stack, where one recursive frame per line would overflow after a few thousand lines, and
/// its value is checked against what the program computes by arithmetic, not against a snapshot.
/// </summary>
[Collection("serial")]
public class DeepProgramTests
{
    /// <summary>Runs f on a thread with a 1 MB stack (a stack overflow would end the test run, not fail a test).</summary>
    private static T OnSmallStack<T>(Func<T> f)
    {
        T result = default!;
        Exception? error = null;
        var t = new Thread(() =>
        {
            try { result = f(); }
            catch (Exception e) { error = e; }
        }, 1 << 20);
        t.Start();
        t.Join();
        if (error != null) throw new Xunit.Sdk.XunitException("failed on the small stack: " + error);
        return result;
    }

    private static (CompiledProgram? Prog, List<Diagnostic> Diags) Compile(string text)
    {
        var diags = new List<Diagnostic>();
        var prog = LmnDriver.Compile(new SourceText("deep.lmn", text), diags);
        return (prog, diags);
    }

    private static string Errors(List<Diagnostic> diags) =>
        string.Join("\n", diags.Where(d => d.Severity == Severity.Error).Take(3).Select(d => d.Render()));

    private static string RunValue(string text) => OnSmallStack(() =>
    {
        var (prog, diags) = Compile(text);
        Assert.True(prog != null, Errors(diags));
        var run = Lmn.Runtime.LmnRunner.Run(prog!);
        Assert.True(run.Error == null, run.Error);
        return run.Output!;
    });

    [Theory]
    [InlineData(1_000, 3)]
    [InlineData(100_000, 7)]
    public void AChainOfLetsComputesItsSum(int n, int step)
    {
        var sb = new StringBuilder("def main =\n  let x0 = 0;\n");
        for (int i = 1; i <= n; i++) sb.Append($"  let x{i} = x{i - 1} + {step};\n");
        sb.Append($"  x{n}\n");
        Assert.Equal(((long)n * step).ToString(System.Globalization.CultureInfo.InvariantCulture), RunValue(sb.ToString()));
    }

    [Theory]
    [InlineData(30_000, 3)]
    [InlineData(30_000, 29_998)]
    public void AnElseIfLadderPicksItsBranch(int n, int arg)
    {
        var sb = new StringBuilder("def f(x) =\n");
        for (int i = 0; i < n; i++) sb.Append($"  if x == {i} then {i * 2 + 1} else\n");
        sb.Append("  0\n");
        sb.Append($"def main = f({arg})\n");
        Assert.Equal((arg * 2 + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), RunValue(sb.ToString()));
    }

    [Fact]
    public void ALongListLiteralKeepsEveryElement()
    {
        const int n = 50_000;
        var sb = new StringBuilder("def main = len([");
        for (int i = 0; i < n; i++) sb.Append(i == 0 ? "" : ", ").Append(i % 10);
        sb.Append("])\n");
        // len recurses once per element at run time: the engine, not the compiler, walks the list.
        Assert.Equal(n.ToString(System.Globalization.CultureInfo.InvariantCulture), RunValue(sb.ToString()));
    }

    [Fact]
    public void AListLiteralReadsBackWhole()
    {
        const int n = 20_000;
        var items = Enumerable.Range(0, n).Select(i => (i * 7 % 100).ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        string text = "def main = [" + string.Join(", ", items) + "]\n";
        Assert.Equal("[" + string.Join(", ", items) + "]", RunValue(text));
    }

    [Theory]
    [InlineData(200_000)]
    public void QuestionsNestedInTheirLastCandidateCompile(int n)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < n; i++) sb.Append("∿lov[joy,\n");
        sb.Append("pai").Append(']', n).Append('\n');
        var (prog, diags) = OnSmallStack(() => Compile(sb.ToString()));
        Assert.True(prog != null, Errors(diags));
        // One site per question, each with its own id, the outermost first.
        Assert.Equal(n, prog!.Sites.Count);
        Assert.Equal(n, prog.Sites.Select(s => s.Id).Distinct().Count());
        Assert.Equal(0, prog.Sites[0].Offset);
        var book = OnSmallStack(() => LmnDriver.BuildBook(prog));
        Assert.Equal(n, book.Defs.Count(d => d.SiteId >= 0));
    }

    [Fact]
    public void NestedQuestionsInsideOtherFormsParseLikeFlatOnes()
    {
        // The bracket forms read by the explicit stack, mixed with forms that are not (a typed question,
        // a collapse, a call), give the same trees as written flat.
        string[] programs =
        [
            "def main = ∿emo[joy, ∿emo[sad, ang] : emotion]",
            "def main = [1, [2, [3, [4]]], 5]",
            "def main = len([[1, 2], [3, [4, 5]], []])",
            "def main = fir[lov, [pai, hop], ∿lov[joy, pai]]",
            "def main = [[a, b] @ ctx, c]",
            "def main = [len([1, 2]) + 1, [3] , ...[4, 5]]",
            "def main = ~explain[[a, b], ∿lov[joy, pai]]",
        ];
        foreach (string p in programs)
        {
            var (prog, diags) = OnSmallStack(() => Compile(p));
            Assert.True(prog != null, p + "\n" + Errors(diags));
        }
        Assert.Equal("[1, [2, [3, [4]]], 5]", RunValue("def main = [1, [2, [3, [4]]], 5]"));
        Assert.Equal("[3, [3], 4, 5]", RunValue("def main = [len([1, 2]) + 1, [3] , ...[4, 5]]"));
        Assert.Equal("fir[lov, [pai, hop]]", RunValue("def main = fir[lov, [pai, hop]]"));
    }

    [Theory]
    [InlineData("def main = [1, 2", "',' or ']' to close the list opened at 1:12")]
    [InlineData("def main = [1, ...[2], 3]", "']' after the spread '...' (it comes last), to close the list opened at 1:12")]
    [InlineData("def main = fir[a, ...b]", "a spread '...' in compound fir[...]")]
    [InlineData("def main = ∿lov[]", "∿lov[] has no candidates, expected at least one")]
    [InlineData("def main = [[∿lov[]]]", "∿lov[] has no candidates, expected at least one")]
    [InlineData("def main = [1 2 3,", "an expression")]
    public void BracketErrorsAreLocatedAsBefore(string text, string expected)
    {
        var (prog, diags) = Compile(text);
        Assert.Null(prog);
        Assert.Contains(diags, d => d.Severity == Severity.Error && d.Message.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void NestingDeeperThanTheStackIsALocatedError()
    {
        // Parentheses are not a chain: each level recurses, so the compiler says where it stopped.
        const int n = 200_000;
        string text = "def main = " + string.Concat(Enumerable.Repeat("(1 + ", n)) + "1" + new string(')', n) + "\n";
        var (prog, diags) = OnSmallStack(() => Compile(text));
        Assert.Null(prog);
        var error = Assert.Single(diags, d => d.Severity == Severity.Error);
        Assert.Contains("nested too deeply", error.Message, StringComparison.Ordinal);
        Assert.True(error.Offset > 0 && error.Offset < text.Length);
        // The rendered line is a window around the column, not the whole megabyte.
        Assert.True(error.Render().Length < 600, error.Render().Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void AMillionLevelHvmTreeParsesAndBuilds()
    {
        // (x0 (* (x1 (* ... *)))) ... a chain of a million nodes, each variable used twice.
        const int n = 1_000_000;
        var sb = new StringBuilder("@main = (r ");
        for (int i = 0; i < n; i++) sb.Append("(* ");
        sb.Append('r').Append(')', n).Append(")\n");
        var book = OnSmallStack(() => Book.FromHvm(HvmParser.Parse("deep.hvm", sb.ToString())));
        var main = book.Defs[0];
        Assert.Equal(n + 1, main.Nodes.Count);
        Assert.Equal(1, main.Vars);
        // Node i + 1 is an eraser and node i + 2 (the order HVM2's ast.rs gives: a node before its children).
        for (int i = 1; i < n; i += 99_991)
        {
            Assert.Equal(Port.New(Tag.ERA, 0), Port.Fst(main.Nodes[i]));
            Assert.Equal(Port.New(Tag.CON, (uint)(i + 1)), Port.Snd(main.Nodes[i]));
        }
        Assert.Equal(Port.New(Tag.VAR, 0), Port.Fst(main.Nodes[0]));
        Assert.Equal(Port.New(Tag.VAR, 0), Port.Snd(main.Nodes[n]));
    }

    [Fact]
    public void ManyErrorsOnOneLongLineRenderQuickly()
    {
        // 20,000 variables used once each, on one line of about 200 KB: every error shows a window.
        const int n = 20_000;
        var sb = new StringBuilder("@main = ");
        for (int i = 0; i < n; i++) sb.Append("(v").Append(i).Append(' ');
        sb.Append('*').Append(')', n).Append('\n');
        var e = Assert.Throws<DiagnosticException>(() => HvmParser.Parse("once.hvm", sb.ToString()));
        Assert.True(e.Diagnostics.Count >= n / 2);
        Assert.True(e.Message.Length < e.Diagnostics.Count * 600);
    }

    [Fact]
    public void AnUnclosedDeepHvmTreeIsLocated()
    {
        string text = "@main = " + string.Concat(Enumerable.Repeat("(a ", 1000)) + "*" + new string(')', 999) + "\n";
        var e = Assert.Throws<DiagnosticException>(() => HvmParser.Parse("open.hvm", text));
        Assert.Contains("expected ')' to close the '(' opened at 1:9", e.Message, StringComparison.Ordinal);
    }
}
