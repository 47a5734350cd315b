using Lmn.Oracles;
using Lmn.Words;

namespace Lmn.Tests.Reference;

/// <summary>
/// examples/programs/*.lmn (hand-written programs of the kinds users write) against their .expected
/// files: the first line is the printed value; a `- ITRS: N` line, once present, is the compiled run's
/// interaction count. The interpreter is always checked; `lmn run` when
/// <see cref="DifferentialTests.CompilerIsChecked"/> is on.
/// </summary>
public class ExampleProgramsTests
{
    private static readonly string Dir = Path.Combine(TestUtil.RepoRoot, "examples", "programs");

    public static TheoryData<string> Programs()
    {
        var data = new TheoryData<string>();
        foreach (string f in Directory.GetFiles(Dir, "*.lmn").Order(StringComparer.Ordinal))
            if (File.Exists(Path.ChangeExtension(f, ".expected"))) data.Add(Path.GetFileName(f));
        return data;
    }

    [Fact]
    public void AtLeastThirtyPrograms() => Assert.True(Programs().Count >= 30);

    /// <summary>The `# args:` line, with paths into examples/ made absolute (as LmnSnapshotTests does).</summary>
    public static string[] Args(string text)
    {
        string? line = text.Split('\n').FirstOrDefault(l => l.StartsWith("# args:", StringComparison.Ordinal));
        if (line == null) return [];
        return line["# args:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(a => a.Replace("script:examples/", "script:" + Path.Combine(TestUtil.RepoRoot, "examples") + "/")).ToArray();
    }

    public static (IOracle Oracle, Dictionary<string, string> Context) OracleOf(string[] args)
    {
        // As `lmn run`: the offline lexicon oracle unless --oracle names another.
        IOracle oracle = new LexiconOracle(Lmn.Words.Lexicon.Default);
        var ctx = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--oracle" && args[i + 1].StartsWith("script:", StringComparison.Ordinal)) oracle = new ScriptOracle(args[i + 1]["script:".Length..]);
            else if (args[i] == "--oracle" && args[i + 1] != "first") throw new ArgumentException("examples/programs use --oracle first or script:FILE");
            if (args[i] == "--context")
            {
                string kv = args[i + 1];
                ctx[kv[..kv.IndexOf('=')]] = kv[(kv.IndexOf('=') + 1)..];
            }
        }
        return (oracle, ctx);
    }

    private static string Expected(string file) =>
        File.ReadAllText(Path.ChangeExtension(Path.Combine(Dir, file), ".expected")).ReplaceLineEndings("\n").Split('\n')[0];

    [Theory]
    [MemberData(nameof(Programs))]
    public void InterpreterGivesTheExpectedValue(string file)
    {
        string text = File.ReadAllText(Path.Combine(Dir, file));
        var (oracle, ctx) = OracleOf(Args(text));
        var r = RefInterpreter.Run(file, text, oracle, ctx);
        Assert.True(r.Ok, r.Error);
        Assert.Equal(Expected(file), r.Output);
    }

    [Theory]
    [MemberData(nameof(Programs))]
    [Trait("Category", "Differential")]
    public void CompiledRunGivesTheExpectedValue(string file)
    {
        if (!DifferentialTests.CompilerIsChecked) return;
        string path = Path.Combine(Dir, file);
        var (code, stdout, stderr) = TestUtil.Cli(["run", path, "-s", "-q", .. Args(File.ReadAllText(path))]);
        Assert.True(code == 0, stderr);
        Assert.Equal(Expected(file), stdout.ReplaceLineEndings("\n").TrimEnd('\n'));
        string[] lines = File.ReadAllText(Path.ChangeExtension(path, ".expected")).ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        if (lines.Length > 1)
        {
            string itrs = stderr.Split('\n').First(l => l.StartsWith("interactions: ", StringComparison.Ordinal))["interactions: ".Length..].Trim();
            Assert.Equal(lines[1], "- ITRS: " + itrs);
        }
    }
}
