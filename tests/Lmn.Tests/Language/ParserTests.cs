namespace Lmn.Tests.Language;

/// <summary>Every form of the grammar, checked by running it (the printed value pins the parse).</summary>
public class ParserTests
{
    [Theory]
    // precedence, loosest first: → || && comparisons | ^ & shifts + - * / % prefix application postfix @
    [InlineData("1 + 2 * 3", "7")]
    [InlineData("(1 + 2) * 3", "9")]
    [InlineData("10 - 4 - 3", "3")]
    [InlineData("1 + 2 == 3", "1")]
    [InlineData("1 < 2 && 2 < 1 || 1", "1")]
    [InlineData("6 & 3 | 8", "10")]
    [InlineData("1 << 2 + 1", "8")]
    [InlineData("6 ^ 3 & 1", "7")]
    [InlineData("-2 * +3", "-6")]
    [InlineData("- 2", "16777214")]
    [InlineData("!0 + 1", "2")]
    [InlineData("def f(x) = x * 10\nf 1 + 2", "12")]
    [InlineData("def f(x, y) = x - y\nf(5, 3)", "2")]
    [InlineData("def f(x, y) = x - y\nf 5 3", "2")]
    [InlineData("def f(x) = x + 1\n1 → f → f", "3")]
    [InlineData("def f(x) = x + 1\n1 -> f", "2")]
    [InlineData("(\\x y. x - y) 9 2", "7")]
    [InlineData("(λx, y. x - y)(9, 2)", "7")]
    [InlineData("let x = 3; let y = 4 in x * y", "12")]
    [InlineData("if 0 then 1 else if 1 then 2 else 3", "2")]
    [InlineData("match 3 { 0 => a; 1+p => p }", "2")]
    [InlineData("match 3 { 0 => a; 1+p => p; }", "2")]
    [InlineData("match fir[1, 2] {\nfir[a, b] => b\n}", "2")]
    [InlineData("fir[]", "fir[]")]
    [InlineData("[1, ...[2, 3]]", "[1, 2, 3]")]
    [InlineData("[]", "[]")]
    [InlineData("let @a = joy; sad@a", "sad@a")]
    [InlineData("let @a = joy; @a sad", "sad@a")]
    [InlineData("let @a = joy; [@a]", "[joy]")]
    [InlineData("let @a = joy; fir[lov, pai]@a@a", "fir[lov, pai]@a@a")]
    [InlineData("def main =\n  let x = 1;\n  x + 1\n", "2")]
    [InlineData("def f = 1\n# comment\ndef main = f # trailing\n", "1")]
    public void Forms(string src, string expected) => Assert.Equal(expected, LmnTest.Out(src));

    [Fact]
    public void ColumnOneStartsANewDefinition()
    {
        // Without layout, `x * 2` would swallow the next line as arguments.
        Assert.Equal("42", LmnTest.Out("def double(x) = x * 2\ndouble(21)"));
    }

    [Fact]
    public void SitesParseInBothSpellings()
    {
        Assert.Equal("[42, 42]", LmnTest.Out("let a = ∿lov[joy, pai]; let b = amb lov[joy, pai] : emotion; let c = ~explain[a]; [42, 42]"));
    }
}
