namespace Lmn.Tests.Cli;

/// <summary>Every program in examples/ and bench/ against its `.expected` file (result, ITRS and the count of each rule but LINK).</summary>
public class SnapshotTests
{
    public static TheoryData<string> Programs()
    {
        var data = new TheoryData<string>();
        foreach (string dir in new[] { "examples", "bench" })
        {
            string full = Path.Combine(TestUtil.RepoRoot, dir);
            if (!Directory.Exists(full)) continue;
            foreach (string f in Directory.GetFiles(full, "*.hvm").Order(StringComparer.Ordinal))
                if (File.Exists(Path.ChangeExtension(f, ".expected"))) data.Add(dir + "/" + Path.GetFileName(f));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Programs))]
    public void MatchesExpected(string program)
    {
        string path = Path.Combine(TestUtil.RepoRoot, program);
        string expected = File.ReadAllText(Path.ChangeExtension(path, ".expected")).ReplaceLineEndings("\n").TrimEnd('\n');
        // IO writes go to the process's stdout, so run the CLI as a child process to see them in order.
        var (code, stdout, stderr) = RunLmn("run", path, "-s");
        Assert.True(code == 0, stderr);
        Assert.Equal(expected, Actual(stdout));
    }

    /// <summary>What an .expected file holds of a `run -s` of a book: its output without the time, the MIPS and LINK.</summary>
    internal static string Actual(string stdout) =>
        string.Join("\n", stdout.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n')
            .Where(l => !l.StartsWith("- TIME:", StringComparison.Ordinal) && !l.StartsWith("- MIPS:", StringComparison.Ordinal)
                // LINK depends on the instantiation path and the thread count; the seven rules do not.
                && !l.StartsWith("- LINK:", StringComparison.Ordinal)));

    [Fact]
    public void ThereAreExamples() => Assert.True(Programs().Count >= 2);

    /// <summary>Runs the built CLI (the same build the tests use) as a child process.</summary>
    public static (int Code, string Out, string Err) RunLmn(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Lmn.Cli.dll");
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, o, err.Result);
    }
}
