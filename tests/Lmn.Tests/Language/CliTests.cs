namespace Lmn.Tests.Language;

/// <summary>`lmn check`, `lmn compile --emit hvm|net` and `lmn run FILE.lmn`.</summary>
public class CliTests
{
    private static string Example(string name) => Path.Combine(TestUtil.RepoRoot, "examples", name);

    [Fact]
    public void CheckReportsOk()
    {
        var (code, o, _) = TestUtil.Cli("check", Example("sum.lmn"));
        Assert.Equal(0, code);
        Assert.EndsWith("sum.lmn: ok\n", o.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void EmitNetShowsDefinitionsTagsAndSites()
    {
        var (code, o, _) = TestUtil.Cli("compile", Example("lazy_sites.lmn"), "--emit", "net", "-q");
        Assert.Equal(0, code);
        Assert.Contains("@main", o);
        Assert.Contains("# data tags", o);
        Assert.Contains("@amb.0\tchoice\t", o);
        Assert.Contains("lazy_sites.lmn:2:14", o);
        Assert.Contains("type=Mind & Cognition / Emotions", o);
    }

    /// <summary>The emitted HVM2 text runs in LMN's HVM2 engine to the same net the LMN runner reads back.</summary>
    [Theory]
    [InlineData("sum.lmn", "5050")]
    [InlineData("factorial.lmn", null)]
    [InlineData("words.lmn", null)]
    public void EmitHvmRunsAsHvm2(string file, string? result)
    {
        var (code, hvm, _) = TestUtil.Cli("compile", Example(file), "--emit", "hvm", "-q");
        Assert.Equal(0, code);
        var (output, _) = TestUtil.Run(hvm);
        if (result != null) Assert.Equal(result, output);
        else Assert.NotEmpty(output);
    }

    [Fact]
    public void RunsWithContext()
    {
        var (code, o, e) = TestUtil.Cli("run", Example("anchors.lmn"), "--context", "now=present_moment", "-q");
        Assert.True(code == 0, e);
        Assert.StartsWith("[present_moment, joy, sad@now", o);
        var (code2, _, e2) = TestUtil.Cli("run", Example("anchors.lmn"));
        Assert.Equal(1, code2);
        Assert.Contains("error: unbound anchor @now; bind it with --context now=...", e2);
    }

    /// <summary>Issue 12: a context value is never a parse error; one that is not exactly one term is a string.</summary>
    [Fact]
    public void ContextValueThatIsNotOneTermIsAString()
    {
        var (code, o, e) = TestUtil.Cli("run", Example("anchors.lmn"), "--context", "now=[1,", "-q");
        Assert.True(code == 0, e);
        Assert.StartsWith("[\"[1,\", joy, sad@now", o);
    }
}
