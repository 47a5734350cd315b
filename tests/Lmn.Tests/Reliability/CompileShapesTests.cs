using Lmn.Hvm;
using Lmn.Net;

namespace Lmn.Tests.Reliability;

/// <summary>Issue 11, item 7 (the parts outside the compiler): Book.FromHvm by index, and `lmn bench compile-shapes`.</summary>
[Collection("serial")]
public class CompileShapesTests
{
    [Fact]
    public void ManyDefinitionsBuildWithTheRightFidsAndSafety()
    {
        // 50,000 definitions in a chain; the last one holds a DUP, so every one before it is unsafe
        // (the old fixed-point loop needed one pass per link, the old look-up one scan per definition).
        const int n = 50_000;
        var sb = new System.Text.StringBuilder("@main = @f0\n");
        for (int i = 0; i < n; i++) sb.Append($"@f{i} = (* @f{i + 1})\n");
        sb.Append($"@f{n} = {{a a}}\n@zz_safe = *\n");
        var ast = HvmParser.Parse("many.hvm", sb.ToString());
        var book = Book.FromHvm(ast);
        Assert.Equal(n + 3, book.Defs.Count);
        Assert.Equal("main", book.Defs[0].Name);
        Assert.All(book.Defs.Where(d => d.Name != "zz_safe"), d => Assert.False(d.Safe, d.Name));
        Assert.True(book.Defs[book.Fids["zz_safe"]].Safe);
        Assert.Equal(book.Defs.Select(d => d.Name).Skip(1), book.Defs.Select(d => d.Name).Skip(1).Order(StringComparer.Ordinal));
        Assert.Same(ast.Defs[^1], ast.Find("zz_safe"));
        Assert.Null(ast.Find("nope"));
    }

    [Fact]
    public void EveryShapeIsAValidProgram()
    {
        foreach (string shape in Lmn.Cli.CompileShapesBench.Shapes)
        {
            string text = Lmn.Cli.CompileShapesBench.Generate(shape, 300);
            Assert.InRange(text.Count(c => c == '\n'), 295, 305);
            if (shape == "hvm-defs") Book.FromHvm(HvmParser.Parse("s.hvm", text));
            else
            {
                var diags = new List<Lmn.Text.Diagnostic>();
                Assert.True(Lmn.Language.LmnDriver.Compile(new Lmn.Text.SourceText("s.lmn", text), diags) != null,
                    shape + ": " + string.Join("\n", diags.Select(d => d.Render())));
            }
        }
    }

    [Fact]
    public void BenchPrintsARowPerShapeAndSize()
    {
        var (code, stdout, err) = CliProcess.Run(["bench", "compile-shapes", "--sizes", "100,200", "--timeout", "120"]);
        Assert.True(code == 0, err);
        foreach (string shape in Lmn.Cli.CompileShapesBench.Shapes)
        {
            Assert.Matches($@"\n{shape} +100 +\d+\.\d+ +\d+\.\d+ +\d+\.\d+ +\d+\.\d+ +\d+ +\d+", stdout);
            Assert.Matches($@"\n{shape} +200 ", stdout);
        }
    }

    [Fact]
    public void ASizeOverTheHeapLimitIsReportedAsMemory()
    {
        // 16 MB of heap cannot hold the runtime, let alone a 50,000-line program.
        var (code, stdout, err) = CliProcess.Run(["bench", "compile-shapes", "--sizes", "50000", "--shapes", "amb", "--memory", "16M", "--timeout", "120"]);
        Assert.True(code == 0, err);
        Assert.Matches(@"\namb +50000 +(memory|failed)", stdout);
    }

    [Fact]
    public void ASizeThatTakesTooLongIsReportedAsTimeout()
    {
        // No child process starts in a millisecond: every size is cut off, and the command still ends.
        var (code, stdout, err) = CliProcess.Run(["bench", "compile-shapes", "--sizes", "100", "--shapes", "lets", "--timeout", "0.001"]);
        Assert.True(code == 0, err);
        Assert.Matches(@"\nlets +100 +timeout", stdout);
    }

    [Theory]
    [InlineData("--timeout", "0")]
    [InlineData("--timeout", "NaN")]
    [InlineData("--shapes", "spirals")]
    [InlineData("--sizes", "5")]
    [InlineData("--memory", "lots")]
    public void BadOptions(string option, string value)
    {
        var (code, _, err) = TestUtil.Cli("bench", "compile-shapes", option, value);
        Assert.Equal(2, code);
        Assert.StartsWith("lmn: ", err);
    }
}
