using Lmn.Language;
using Lmn.Text;

namespace Lmn.Tests.Language;

/// <summary>Every examples/*.lmn against its .expected file (value and ITRS), and the printed value parses back to itself.</summary>
public class LmnSnapshotTests
{
    public static TheoryData<string> Programs()
    {
        var data = new TheoryData<string>();
        foreach (string f in Directory.GetFiles(Path.Combine(TestUtil.RepoRoot, "examples"), "*.lmn").Order(StringComparer.Ordinal))
            if (File.Exists(Path.ChangeExtension(f, ".expected"))) data.Add(Path.GetFileName(f));
        return data;
    }

    /// <summary>Extra command-line arguments from a `# args:` line.</summary>
    internal static string[] Args(string text)
    {
        string? line = text.Split('\n').FirstOrDefault(l => l.StartsWith("# args:", StringComparison.Ordinal));
        if (line == null) return [];
        // Paths into examples/ are relative to the repository root (tests run elsewhere).
        return line["# args:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(a => a.Replace("script:examples/", "script:" + Path.Combine(TestUtil.RepoRoot, "examples") + "/")).ToArray();
    }

    [Theory]
    [MemberData(nameof(Programs))]
    public void MatchesExpected(string file)
    {
        string path = Path.Combine(TestUtil.RepoRoot, "examples", file);
        string expected = File.ReadAllText(Path.ChangeExtension(path, ".expected")).ReplaceLineEndings("\n").TrimEnd('\n');
        var (code, stdout, stderr) = TestUtil.Cli(["run", path, "-s", "-q", .. Args(File.ReadAllText(path))]);
        Assert.True(code == 0, stderr);
        Assert.Equal(expected, Actual(stdout, stderr));
    }

    /// <summary>What an .expected file holds of a `run -s -q`: the value on stdout and the ITRS from the `--stats` counters on stderr (`key: value` lines).</summary>
    internal static string Actual(string stdout, string stderr)
    {
        string itrs = stderr.Split('\n').FirstOrDefault(l => l.StartsWith("interactions: ", StringComparison.Ordinal))?["interactions: ".Length..].Trim() ?? "(no interactions line)";
        return stdout.ReplaceLineEndings("\n").TrimEnd('\n') + "\n- ITRS: " + itrs;
    }

    [Fact]
    public void AtLeastFifteenExamples() => Assert.True(Programs().Count >= 15);

    /// <summary>The printed value, read as an expression beside the program's definitions, prints the same.</summary>
    [Theory]
    [MemberData(nameof(Programs))]
    public void PrintedValueParsesBackToTheSameValue(string file)
    {
        string path = Path.Combine(TestUtil.RepoRoot, "examples", file);
        string text = File.ReadAllText(path);
        string printed = File.ReadAllText(Path.ChangeExtension(path, ".expected")).Split('\n')[0];
        var diags = new List<Diagnostic>();
        var args = Args(text);
        var ctx = LmnDriver.ParseContext(args.Where(a => a.Contains('=')).Select(a =>
            new KeyValuePair<string, string>(a[..a.IndexOf('=')], a[(a.IndexOf('=') + 1)..])), diags);
        // The same definitions, with the printed value as the entry point.
        var src = new SourceText("F.lmn", text);
        var ast = Parser.Parse(src, diags);
        var value = Parser.ParseExpression(new SourceText("printed", printed), diags);
        Assert.True(value != null, string.Join("\n", diags.Select(d => d.Render())));
        var defs = ast.Defs.Where(d => d.Name != "main").ToList();
        var program = new ProgramAst(defs, value);
        var prelude = Parser.Parse(new SourceText(LmnDriver.PreludePath, LmnDriver.PreludeText), diags);
        var core = Lowering.Lower(src, program, prelude, new SourceText(LmnDriver.PreludePath, LmnDriver.PreludeText), ctx, diags);
        Assert.True(core != null, string.Join("\n", diags.Select(d => d.Render())));
        var run = Lmn.Runtime.LmnRunner.Run(Compiler.Compile(core!), 64L << 20);
        Assert.Null(run.Error);
        Assert.Equal(printed, run.Output);
    }
}
