namespace Lmn.Tests.Reference;

/// <summary>
/// The interpreter on examples/*.lmn: it gives the value their .expected files record (today's compiler's
/// output), except where SEMANTICS-10.md says otherwise (listed in <see cref="Differs"/>).
/// </summary>
public class ExistingExamplesTests
{
    /// <summary>A closure prints with its parameters as written (`λx. x`), not as the read-back names them (`λa. a`).</summary>
    public static readonly Dictionary<string, string> Differs = new(StringComparer.Ordinal)
    {
        ["closures.lmn"] = "[[6, 15, 25], [101, 102], [add, λx. x]]",
    };

    public static TheoryData<string> Programs()
    {
        var data = new TheoryData<string>();
        foreach (string f in Directory.GetFiles(Path.Combine(TestUtil.RepoRoot, "examples"), "*.lmn").Order(StringComparer.Ordinal))
            if (File.Exists(Path.ChangeExtension(f, ".expected"))) data.Add(Path.GetFileName(f));
        return data;
    }

    [Theory]
    [MemberData(nameof(Programs))]
    public void InterpreterGivesTheRecordedValue(string file)
    {
        string path = Path.Combine(TestUtil.RepoRoot, "examples", file);
        string text = File.ReadAllText(path);
        var args = ExampleProgramsTests.Args(text);
        var (oracle, ctx) = ExampleProgramsTests.OracleOf(args);
        var r = RefInterpreter.Run(file, text, oracle, ctx, fuel: 2_000_000_000);
        Assert.True(r.Ok, r.Error);
        string expected = Differs.TryGetValue(file, out var d) ? d : File.ReadAllText(Path.ChangeExtension(path, ".expected")).Split('\n')[0];
        Assert.Equal(expected, r.Output);
    }
}
