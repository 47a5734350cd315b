namespace Lmn.Tests.Cli;

/// <summary>Every malformed input gets `file:line:col: error: ...`, the line, a caret, exit 1, no stack trace.</summary>
public class BadInputTests
{
    private static (int Code, string Err) RunFile(string text, params string[] extra)
    {
        string path = TestUtil.TempFile(text);
        try
        {
            var (code, _, err) = TestUtil.Cli(["run", path, .. extra]);
            Assert.DoesNotContain("   at ", err);
            Assert.DoesNotContain("Exception", err);
            return (code, err.Replace(path, "F.hvm"));
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData("@main = (a a", "F.hvm:1:13: error: unexpected end of file, expected ')' to close the '(' opened at 1:9")]
    [InlineData("@main = (a a))\n", "F.hvm:1:14: error: unexpected ')', expected '@' to start a definition")]
    [InlineData("@main = {a (b b) a}", "F.hvm:1:18: error: unexpected 'a', expected '}' to close the '{' opened at 1:9")]
    [InlineData("@main = a\n  & @nope ~ (1 a)", "F.hvm:2:5: error: unknown definition @nope")]
    [InlineData("@start = *", "error: missing @main definition")]
    [InlineData("@main = (a b)", "F.hvm:1:10: error: variable `a` occurs once in @main, expected exactly twice")]
    [InlineData("@main = (a (a a))", "F.hvm:1:15: error: variable `a` occurs 3 times in @main, expected exactly twice")]
    [InlineData("@main = 16777216", "F.hvm:1:9: error: number 16777216 out of range for u24, expected 0 to 16777215")]
    [InlineData("@main = +8388608", "F.hvm:1:9: error: number +8388608 out of range for i24, expected -8388608 to +8388607")]
    [InlineData("@main = 0x1000000", "F.hvm:1:9: error: number 0x1000000 out of range for u24")]
    [InlineData("@main = 12abc", "F.hvm:1:9: error: invalid number literal `12abc`")]
    [InlineData("@main = [@]", "F.hvm:1:10: error: unknown operator `@`")]
    [InlineData("@main = [+ 1", "F.hvm:1:13: error: unexpected end of file, expected ']'")]
    [InlineData("@main = *\n@main = *", "F.hvm:2:1: error: duplicate definition @main, first defined at 1:1")]
    [InlineData("@main = r & a ~ r", "F.hvm:1:13: error: variable `a` occurs once")]
    [InlineData("@main = r & (a a) r", "F.hvm:1:19: error: unexpected 'r', expected '~' between the two sides of a redex")]
    [InlineData("@main = )", "F.hvm:1:9: error: unexpected ')', expected a tree")]
    public void ReportsWithLocation(string text, string expected)
    {
        var (code, err) = RunFile(text);
        Assert.Equal(1, code);
        Assert.Contains(expected, err);
    }

    [Fact]
    public void ShowsTheLineAndACaret()
    {
        var (_, err) = RunFile("@main = a\n  & @nope ~ (1 a)");
        Assert.Contains(" 2 |   & @nope ~ (1 a)\n   |     ^", err);
    }

    [Fact]
    public void ReportsSeveralErrors()
    {
        var (code, err) = RunFile("@main = (a b)\n@f = (\n@g = @h\n");
        Assert.Equal(1, code);
        Assert.Contains("F.hvm:1:10: error: variable `a` occurs once", err);
        Assert.Contains("F.hvm:3:4: error: unexpected '=', expected a tree", err);
        Assert.DoesNotContain("missing @main", err);
    }

    [Fact]
    public void MemoryLimitIsAClearError()
    {
        // Each call wraps its argument in one more node and never finishes.
        var (code, err) = RunFile("@main = r & @f ~ (0 r)\n@f = (x r) & @f ~ ((x *) r)", "--max-memory", "1M");
        Assert.Equal(1, code);
        Assert.Contains("error: out of memory", err);
        Assert.Contains("--max-memory=1M", err);
    }

    [Fact]
    public void DivisionByZeroIsARuntimeError()
    {
        var (code, err) = RunFile("@main = r & [/5] ~ $(0 r)");
        Assert.Equal(1, code);
        Assert.Contains("integer division by zero", err);
    }

    [Fact]
    public void MissingFile()
    {
        var (code, _, err) = TestUtil.Cli("run", "/nonexistent/x.hvm");
        Assert.Equal(1, code);
        Assert.Contains("no such file", err);
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("run")]
    [InlineData("run", "x.hvm", "--bogus")]
    [InlineData("run", "x.hvm", "--max-memory", "lots")]
    public void BadUsageExitsTwo(params string[] args)
    {
        var (code, _, err) = TestUtil.Cli(args);
        Assert.Equal(2, code);
        Assert.StartsWith("lmn: ", err);
    }
}
