namespace Lmn.Tests.Language;

/// <summary>Bad input: `file:line:col: error: what, expected what`, the line, a caret, exit 1, no stack trace.</summary>
public class DiagnosticsTests
{
    private static (int Code, string Err) Check(string text)
    {
        string path = TestUtil.TempFile(text, ".lmn");
        try
        {
            var (code, _, err) = TestUtil.Cli("check", path);
            Assert.DoesNotContain("   at ", err);
            Assert.DoesNotContain("Exception", err);
            return (code, err.Replace(path, "F.lmn"));
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData("unclosed bracket", "def main = [1, 2", "F.lmn:1:17: error: unexpected end of file, expected ',' or ']' to close the list opened at 1:12")]
    [InlineData("unclosed paren", "def main = (1 + 2", "F.lmn:1:18: error: unexpected end of file, expected ')' to close the '(' opened at 1:12")]
    [InlineData("unclosed match", "def main = match 1 { 0 => 1", "F.lmn:1:28: error: unexpected end of file, expected ';' between match arms or '}' to close the match")]
    [InlineData("unbound anchor", "def main = @mood", "F.lmn:1:12: error: unbound anchor @mood; bind it with --context mood=... or let @mood = ...")]
    [InlineData("unbound anchor in a let", "def main = let x = @mood; x", "F.lmn:1:20: error: unbound anchor @mood")]
    [InlineData("duplicate definition", "def f = 1\ndef f = 2\ndef main = f", "F.lmn:2:1: error: duplicate definition 'f', first defined at 1:1; expected each name once")]
    [InlineData("wrong arity in a let pattern", "def main = let fir[a, b, c] = fir[1, 2]; a", "F.lmn:1:16: error: pattern fir[...] has 3 fields, expected 2 as fir is built at 1:31")]
    [InlineData("wrong arity in a match pattern", "def main = match fir[1] { fir[a, b] => a; _ => 0 }", "F.lmn:1:27: error: pattern fir[...] has 2 fields, expected 1")]
    [InlineData("u24 out of range", "def main = 16777216", "F.lmn:1:12: error: number 16777216 out of range for u24, expected 0 to 16777215")]
    [InlineData("i24 out of range", "def main = +8388608", "F.lmn:1:12: error: number +8388608 out of range for i24, expected -8388608 to +8388607")]
    [InlineData("f24 out of range", "def main = 1.5e99", "F.lmn:1:12: error: number 1.5e99 out of range for f24")]
    [InlineData("malformed number", "def main = 12abc", "F.lmn:1:12: error: invalid number literal `12abc`, expected a number such as 42")]
    [InlineData("unknown escape", "def main = \"a\\qb\"", "F.lmn:1:14: error: unknown escape '\\q' in string, expected one of")]
    [InlineData("bad code point", "def main = \"\\u{D800}\"", "F.lmn:1:13: error: invalid code point \\u{D800}, expected 1 to 6 hex digits")]
    [InlineData("unterminated string", "def main = \"abc", "F.lmn:1:12: error: unterminated string, expected a closing '\"' before the end of the line")]
    [InlineData("match with no arms", "def main = match 1 { }", "F.lmn:1:12: error: match with no arms, expected at least one 'pattern => expression'")]
    [InlineData("stray =>", "def main = 1 => 2", "F.lmn:1:14: error: unexpected '=>' outside a match arm, expected an operator or the end of the definition")]
    [InlineData("missing then", "def main = if 1 2 else 3", "F.lmn:1:19: error: unexpected 'else', expected 'then' after the condition of 'if'")]
    [InlineData("missing else", "def main = if 1 then 2", "F.lmn:1:23: error: unexpected end of file, expected 'else' (every 'if' has an else branch)")]
    [InlineData("missing =>", "def main = match 1 { 0 1 }", "F.lmn:1:24: error: unexpected number 1, expected '=>' after the pattern")]
    [InlineData("missing = in def", "def f(x) x\ndef main = 1", "F.lmn:1:10: error: unexpected 'x', expected '=' after 'def f(...)'")]
    [InlineData("keyword as a name", "def let = 1", "F.lmn:1:5: error: unexpected 'let', expected a definition name ('let' is a keyword)")]
    [InlineData("unknown character", "def main = 5 $ 3", "F.lmn:1:14: error: unexpected character '$', expected an expression, an operator or a bracket")]
    [InlineData("empty parentheses", "def main = ()", "F.lmn:1:13: error: unexpected ')', expected an expression inside '()'")]
    [InlineData("let without ; or in", "def main = let x = 5 x", "F.lmn:1:23: error: unexpected end of file, expected ';' or 'in' after the let binding")]
    [InlineData("duplicate parameter", "def f(x, x) = x\ndef main = f(1, 2)", "F.lmn:1:10: error: parameter 'x' appears twice in 'def f', expected distinct names")]
    [InlineData("name bound twice in a pattern", "def main = match [1] { [x, ...x] => x }", "F.lmn:1:31: error: 'x' is bound twice in one pattern, expected distinct names")]
    [InlineData("anchor without a name", "def main = @ now", "F.lmn:1:14: error: unexpected 'now', expected an anchor name right after '@', such as @now")]
    [InlineData("amb without candidates", "def main = ∿lov", "F.lmn:1:16: error: unexpected end of file, expected '[' after ∿lov, to list its candidates")]
    [InlineData("amb with an empty list", "def main = ∿lov[]", "F.lmn:1:16: error: ∿lov[] has no candidates, expected at least one")]
    [InlineData("else without if", "def main = else 1", "F.lmn:1:12: error: unexpected 'else', expected an expression ('else' without 'if ... then')")]
    [InlineData("lambda without parameters", "def main = \\ . 1", "F.lmn:1:14: error: unexpected '.', expected a parameter name after the lambda")]
    [InlineData("spread in a compound", "def main = fir[1, ...xs]", "F.lmn:1:22: error: a spread '...' in compound fir[...], expected fields only")]
    [InlineData("two entry points", "def main = 1\n2", "F.lmn:2:1: error: a program expression and a 'def main' (at 1:1), expected one entry point")]
    [InlineData("no entry point", "def f = 1", "F.lmn:1:10: error: no entry point, expected 'def main = ...' or an expression at the end of the file")]
    [InlineData("stray closing bracket", "def main = 1)", "F.lmn:1:13: error: unexpected ')', expected an operator or the end of the definition")]
    public void ReportsWithLocation(string mistake, string text, string expected)
    {
        var (code, err) = Check(text);
        Assert.True(code == 1, mistake);
        Assert.Contains(expected, err);
        // The first line names file, line and column; the source line follows with a caret.
        var lines = err.Split('\n');
        Assert.StartsWith("F.lmn:", lines[0]);
        Assert.Contains(" | ", lines[1]);
        Assert.EndsWith("^", lines[2].TrimEnd());
    }

    [Fact]
    public void ReportsEveryErrorInAFile()
    {
        var (code, err) = Check("def a = [1, 2\ndef b = @mood\ndef c = 16777216\ndef d = if 1 then 2\ndef main = \"\\q\"\n");
        Assert.Equal(1, code);
        Assert.Contains("F.lmn:1:", err);
        Assert.Contains("F.lmn:2:9: error: unbound anchor @mood", err);
        Assert.Contains("F.lmn:3:9: error: number 16777216 out of range", err);
        Assert.Contains("F.lmn:4:", err);
        Assert.Contains("F.lmn:5:13: error: unknown escape", err);
        // Sorted by position.
        Assert.True(err.IndexOf("F.lmn:2:9", StringComparison.Ordinal) < err.IndexOf("F.lmn:3:9", StringComparison.Ordinal));
        Assert.Contains("5 errors", err);
    }

    [Fact]
    public void UnknownWordsAreWarningsWithSuggestions()
    {
        var (code, err) = Check("def main = [jyo, lov, sadd]");
        Assert.Equal(0, code);
        Assert.Contains("F.lmn:1:13: warning: 'jyo' is not a Limn word; did you mean joy", err);
        Assert.Contains("warning: 'sadd' is not a Limn word; did you mean sad", err);
        Assert.DoesNotContain("'lov'", err);
    }

    [Fact]
    public void WarnsWhenAPatternWordLooksLikeAVariable()
    {
        var diags = LmnTest.Check("def f(x) = match x { acc => acc + 1 }\nf(1)");
        Assert.Contains(diags, d => d.Message.Contains("'acc' in this pattern is the Limn word acc, not a variable"));
    }

    [Fact]
    public void ReachedSiteExitsWithStatusOne()
    {
        string path = TestUtil.TempFile("1 + 1\n", ".lmn");
        string site = TestUtil.TempFile("∿lov[joy, pai]\n", ".lmn");
        try
        {
            Assert.Equal(0, TestUtil.Cli("run", path).Code);
            // The first oracle refuses open questions: the run ends with an error naming the site.
            File.WriteAllText(site, "~explain[joy]\n");
            var (code, _, err) = TestUtil.Cli("run", site, "--oracle", "first", "--no-cache");
            Assert.Equal(1, code);
            Assert.Contains(":1:1: error: no valid answer for ~explain[joy] (amb#1): refused", err);
        }
        finally
        {
            File.Delete(path);
            File.Delete(site);
        }
    }

    [Fact]
    public void DivisionByZeroIsAnError()
    {
        string path = TestUtil.TempFile("def f(x) = 1 / x\nf(0)\n", ".lmn");
        try
        {
            var (code, _, err) = TestUtil.Cli("run", path);
            Assert.Equal(1, code);
            Assert.Contains(":1:14: error: division by zero", err);
        }
        finally { File.Delete(path); }
    }
}
