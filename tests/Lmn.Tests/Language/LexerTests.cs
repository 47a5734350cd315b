using Lmn.Language;
using Lmn.Net;
using Lmn.Text;

namespace Lmn.Tests.Language;

public class LexerTests
{
    private static List<Token> Lex(string s, out List<Diagnostic> diags)
    {
        diags = [];
        return Lexer.Lex(new SourceText("F.lmn", s), diags);
    }

    [Theory]
    [InlineData("∿ amb", "Amb Amb")]
    [InlineData("→ ->", "Arrow Arrow")]
    [InlineData("λ \\", "Lambda Lambda")]
    [InlineData("def let in if then else match", "Def Let In If Then Else Match")]
    [InlineData("=> == = != ! <= < << >= > >> && & || | ^", "FatArrow EqEq Eq NotEq Bang Le Lt Shl Ge Gt Shr AndAnd Amp OrOr Pipe Caret")]
    [InlineData("... . , ; : @ ~", "Ellipsis Dot Comma Semi Colon At Tilde")]
    [InlineData("x # a comment\ny", "Ident Ident")]
    [InlineData("x-1 x - 1", "Ident Minus Number Ident Minus Number")]
    [InlineData("f(-1) [+2, -3]", "Ident LParen Number RParen LBracket Number Comma Number RBracket")]
    public void Kinds(string src, string kinds)
    {
        var toks = Lex(src, out var diags);
        Assert.Empty(diags);
        Assert.Equal(kinds, string.Join(" ", toks.Where(t => t.Kind != Tok.Eof).Select(t => t.Kind)));
    }

    [Theory]
    [InlineData("42", "42")]
    [InlineData("16777215", "16777215")]
    [InlineData("0x1F", "31")]
    [InlineData("0b101", "5")]
    [InlineData("+42", "+42")]
    [InlineData("-42", "-42")]
    [InlineData("-8388608", "-8388608")]
    [InlineData("+8388607", "+8388607")]
    [InlineData("-0x10", "-16")]
    [InlineData("1.5", "1.5")]
    [InlineData("-0.25", "-0.25")]
    [InlineData("1e-5", "1.0000076e-5")]
    [InlineData("1.0e3", "1000.0")]
    [InlineData("+inf", "+inf")]
    [InlineData("-inf", "-inf")]
    [InlineData("+NaN", "+NaN")]
    public void Numbers(string src, string shown)
    {
        var toks = Lex(src, out var diags);
        Assert.Empty(diags);
        Assert.Equal(Tok.Number, toks[0].Kind);
        Assert.Equal(shown, Numb.Show(toks[0].Numb));
    }

    [Theory]
    [InlineData("16777216", "out of range for u24")]
    [InlineData("+8388608", "out of range for i24")]
    [InlineData("-8388609", "out of range for i24")]
    [InlineData("0x1000000", "out of range for u24")]
    [InlineData("1.0e39", "out of range for f24")]
    [InlineData("12abc", "invalid number literal")]
    [InlineData("0b102", "invalid number literal")]
    public void BadNumbers(string src, string message)
    {
        Lex(src, out var diags);
        Assert.Contains(message, Assert.Single(diags).Message);
    }

    [Theory]
    [InlineData("\"plain\"", "plain")]
    [InlineData("\"a\\\"b\"", "a\"b")]
    [InlineData("\"a\\\\b\"", "a\\b")]
    [InlineData("\"a\\nb\\tc\"", "a\nb\tc")]
    [InlineData("\"\\u{41}\\u{1F600}\"", "A😀")]
    [InlineData("\"λ ∿\"", "λ ∿")]
    public void Strings(string src, string value)
    {
        var toks = Lex(src, out var diags);
        Assert.Empty(diags);
        Assert.Equal(value, toks[0].Text);
    }

    [Theory]
    [InlineData("\"a\\qb\"", "unknown escape '\\q'")]
    [InlineData("\"abc", "unterminated string")]
    [InlineData("\"\\u{D800}\"", "invalid code point")]
    [InlineData("\"\\u{110000}\"", "invalid code point")]
    [InlineData("\"\\u41\"", "malformed unicode escape")]
    public void BadStrings(string src, string message)
    {
        Lex(src, out var diags);
        Assert.Contains(message, diags[0].Message);
    }

    [Fact]
    public void MarksSpacingAndColumnOne()
    {
        var toks = Lex("f(x) g (y)\n  h\ni", out _);
        Assert.False(toks[1].SpaceBefore);   // f(
        Assert.True(toks[5].SpaceBefore);    // g (
        Assert.False(toks[8].Column1);       // indented h
        Assert.True(toks[9].Column1);        // i
    }
}
