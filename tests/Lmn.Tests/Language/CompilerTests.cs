namespace Lmn.Tests.Language;

/// <summary>Compiled programs reduce to the right values, lazily, without wasting interactions.</summary>
public class CompilerTests
{
    public const string Unreached = "oracle site reached, but this run has no oracle";

    [Theory]
    // The spec's examples (section 9) that ask the oracle nothing.
    [InlineData("fir[lov, pai]", "fir[lov, pai]")]
    [InlineData("let x = ∿lov[joy, pai]; 42", "42")]
    [InlineData("if 1 then sad else ∿lov[joy, pai]", "sad")]
    [InlineData("def sum(n) = match n { 0 => 0; 1+p => n + sum(p) }\nsum(100)", "5050")]
    // sharing, erasure, recursion
    [InlineData("def f(n) = n * 2\nlet x = f(4); [x, x, x]", "[8, 8, 8]")]
    [InlineData("def loop(n) = loop(n)\nlet x = loop(1); 5", "5")]
    [InlineData("def loop(n) = loop(n)\nif 0 then loop(1) else 6", "6")]
    [InlineData("def even(n) = match n { 0 => 1; 1+p => odd(p) }\ndef odd(n) = match n { 0 => 0; 1+p => even(p) }\neven(101)", "0")]
    [InlineData("def f(x) = x + x\nmap(f, [1, 2, 3])", "[2, 4, 6]")]
    [InlineData("let g = \\x. x + x; [g(1), g(2)]", "[2, 4]")]
    [InlineData("def g(x) = match x { 0 => 0; 1+p => x + p }\nmap(g, [1, 2, 3])", "[1, 3, 5]")]
    // words, compounds, lists, strings, anchors
    [InlineData("match hop { joy => 1; hop => 2; _ => 3 }", "2")]
    [InlineData("match fir[1, joy] { fir[x, sad] => x; fir[x, joy] => x + 10; _ => 0 }", "11")]
    [InlineData("match [1, 2, 3] { [a, b, ...r] => [b, a, r]; _ => no }", "[2, 1, [3]]")]
    [InlineData("match [1] { [] => e; [a, b] => two; [a] => one[a]; _ => many }", "one[1]")]
    [InlineData("match \"b\" { \"a\" => 1; \"b\" => 2; _ => 3 }", "2")]
    [InlineData("match sad { joy => 1; x => x }", "sad")]
    [InlineData("match fir[1, 2] { x => x }", "fir[1, 2]")]
    [InlineData("[joy == joy, joy == sad, \"a\" != \"a\"]", "[1, 0, 0]")]
    [InlineData("match 7 { 1000 => a; +0 => b; x => x }", "7")]
    [InlineData("match 1003 { 0 => a; 1000+k => k; _ => c }", "3")]
    [InlineData("match 5 { 1000+k => k; _ => c }", "c")]
    [InlineData("let [a, ...t] = [1, 2, 3]; let fir[x, y] = fir[a, t]; y", "[2, 3]")]
    [InlineData("[len([]), reverse([1, 2]), range(3, 6), sum([1, 2, 3]), tail([7, 8])]", "[0, [2, 1], [3, 4, 5], 6, [8]]")]
    // A closure prints as its source, with what it captured in place.
    [InlineData("[\\x. x, \\x y. y, \\f. f 1, \\x. x * 3, \\x. x < 3]", "[λx. x, λx y. y, λf. f 1, λx. x * 3, λx. x < 3]")]
    [InlineData("let k = 3; let f = \\x. x * x + k; [f, f(2)]", "[λx. x * x + 3, 7]")]
    [InlineData("def xs = [1, 2]\n[0, ...xs]", "[0, 1, 2]")]
    public void Evaluates(string src, string expected) => Assert.Equal(expected, LmnTest.Out(src));

    [Theory]
    [InlineData("@now ∿lov[joy, pai]", "now=present_moment", "joy")]
    [InlineData("[@now, sad@now]", "now=present_moment", "[present_moment, sad@now]")]
    [InlineData("[@who, @who]", "who=fir[lov, pai]", "[fir[lov, pai], fir[lov, pai]]")]
    public void Context(string src, string binding, string expectedOrSite)
    {
        int eq = binding.IndexOf('=');
        string got = LmnTest.Out(src, (binding[..eq], binding[(eq + 1)..]));
        if (src.Contains('∿')) Assert.Contains(Unreached, got);
        else Assert.Equal(expectedOrSite, got);
    }

    [Theory]
    [InlineData("∿lov[joy, pai, hop]", "F.lmn:1:1: error: " + Unreached)]
    [InlineData("fir[∿lov[joy, pai], 1]", "F.lmn:1:5: error: " + Unreached)]
    [InlineData("~explain[joy]", "F.lmn:1:1: error: " + Unreached)]
    [InlineData("def f(x) = ∿lov[x, calm]\n[joy] → map(f)", "F.lmn:1:12: error: " + Unreached)]
    [InlineData("def f(x, y) = ∿lov[x, y]\nf(joy, pai)", "F.lmn:1:15: error: " + Unreached)]
    public void ReachedSitesAreErrorsForNow(string src, string expected)
    {
        var (output, _) = LmnTest.Run(src);
        Assert.StartsWith(expected, output);
        Assert.Contains("^", output);
    }

    [Theory]
    // A site under a lambda that is never applied is not reached: it prints as written.
    [InlineData("[\\x. ∿lov[x, pai], 1]", "[λx. ∿lov[x, pai], 1]")]
    [InlineData("def f(x, y) = ∿lov[joy, x]\nlet g = f(hop); 5", "5")]
    [InlineData("(\\y. 7)(∿mov[run, sit])", "7")]
    public void UnreachedSitesAskNothing(string src, string expected) => Assert.Equal(expected, LmnTest.Out(src));

    /// <summary>HVM2's sum_tree (44,040,165) and sum_rec (25,165,807), written in LMN: at most 1.5x.</summary>
    [Theory]
    [InlineData("sum_tree.lmn", 1048576, 44_040_165)]
    [InlineData("sum_rec.lmn", 16252928, 25_165_807)]
    public void SpeedWithinOneAndAHalfTimesHvm2(string file, int result, long hvm2)
    {
        var (output, itrs) = LmnTest.Run(File.ReadAllText(Path.Combine(TestUtil.RepoRoot, "examples", file)));
        Assert.Equal(result.ToString(System.Globalization.CultureInfo.InvariantCulture), output);
        Assert.True(itrs <= hvm2 * 3 / 2, $"{file}: {itrs:N0} interactions, HVM2 {hvm2:N0}");
    }

    [Fact]
    public void FastCallsAndInterpreterAgree()
    {
        string src = File.ReadAllText(Path.Combine(TestUtil.RepoRoot, "examples", "match_words.lmn"));
        var diags = new List<Lmn.Text.Diagnostic>();
        var prog = Lmn.Language.LmnDriver.Compile(new Lmn.Text.SourceText("F.lmn", src), diags)!;
        var a = Lmn.Runtime.LmnRunner.Run(prog, 64L << 20, fastCalls: true);
        var b = Lmn.Runtime.LmnRunner.Run(prog, 64L << 20, fastCalls: false);
        Assert.Equal(a.Output, b.Output);
        Assert.Equal(a.Interactions, b.Interactions);
    }
}
