using Lmn.Language;
using Lmn.Text;

namespace Lmn.Tests.Language;

[CollectionDefinition("serial", DisableParallelization = true)]
public sealed class SerialCollection;

/// <summary>
/// The 10,000-line program compiles (the speed target is a benchmark, not a timed test:
/// `lmn bench compile` prints the median time).
/// </summary>
[Collection("serial")]
public class CompileSpeedTests
{
    [Fact]
    public void TenThousandLineProgramCompiles()
    {
        string text = Lmn.Cli.CompileBench.Generate(10_000);
        Assert.Equal(10_000, text.Count(c => c == '\n'));
        var diags = new List<Diagnostic>();
        var prog = LmnDriver.Compile(new SourceText("big.lmn", text), diags);
        Assert.True(prog != null, string.Join("\n", diags.Where(d => d.Severity == Severity.Error).Take(3).Select(d => d.Render())));
        Assert.True(prog!.Book.Defs.Count > 10_000);
    }

    [Fact]
    public void BenchCommandPrintsTheMedian()
    {
        var (code, output, err) = TestUtil.Cli("bench", "compile", "--lines", "2000", "--runs", "1");
        Assert.True(code == 0, err);
        Assert.Matches(@"compile_ms_median: \d+", output);
    }
}
