using System.Diagnostics;
using Lmn.Tests.Reliability;
using Xunit.Abstractions;

namespace Lmn.Tests.Cli;

/// <summary>The tests that publish the front (this class and the tool pack) share its obj/: one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class FrontPublish
{
    public const string Name = "front publish";
}

/// <summary>
/// The NativeAOT front (src/Lmn.Front, docs/startup.md), published once for these tests into
/// src/Lmn.Front/bin/Release/aot (incremental: a few seconds when nothing changed). Null, with the reason,
/// when it cannot be built (NativeAOT needs clang or gcc and zlib1g-dev; scripts/setup installs them).
/// </summary>
public sealed class AotFront
{
    public string? Path { get; }
    public string Why { get; } = "";

    public AotFront()
    {
        string out_ = System.IO.Path.Combine(TestUtil.RepoRoot, "src", "Lmn.Front", "bin", "Release", "aot");
        var (code, stdout, stderr) = FrontTests.Exec("dotnet", null, TestUtil.RepoRoot,
            ["publish", System.IO.Path.Combine(TestUtil.RepoRoot, "src", "Lmn.Front", "Lmn.Front.csproj"), "-c", "Release", "--nologo", "-v", "q", "-o", out_]);
        string exe = System.IO.Path.Combine(out_, "lmn-front");
        if (code == 0 && File.Exists(exe)) Path = exe;
        else Why = "no AOT build of the front: dotnet publish src/Lmn.Front failed (NativeAOT needs clang or gcc and zlib1g-dev; scripts/setup installs them): "
            + string.Join(" | ", (stdout + stderr).Split('\n').Where(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)).Take(3));
    }
}

/// <summary>
/// The front against the managed CLI (src/Lmn.Cli/bin/Release, what every CLI test runs): every program of
/// examples/ and bench/ gives the same stdout, stderr and exit code through both; command lines the front does
/// not run itself reach the managed CLI unchanged, exit codes 0, 1 and 2 included. Skipped, with the reason
/// on the test output, only when the front cannot be built.
/// </summary>
[Trait("Category", "Aot")]
[Collection(FrontPublish.Name)]
public sealed class FrontTests(AotFront front, ITestOutputHelper output) : IClassFixture<AotFront>
{
    public static (int Code, string Out, string Err) Exec(string exe, IEnumerable<string>? prefix, string cwd, IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false, WorkingDirectory = cwd };
        foreach (var a in prefix ?? []) psi.ArgumentList.Add(a);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment.Remove("LMN_MANAGED");
        psi.Environment.Remove("LMN_STARTUP_TRACE");
        if (env != null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var err = p.StandardError.ReadToEndAsync();
        var o = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(600_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException(exe + " " + string.Join(' ', args));
        }
        p.WaitForExit();
        return (p.ExitCode, o.GetAwaiter().GetResult(), err.GetAwaiter().GetResult());
    }

    /// <summary>The managed CLI the front hands over to, and the tests compare with.</summary>
    private static Dictionary<string, string> ManagedEnv => new() { ["LMN_MANAGED"] = CliProcess.Dll };

    private (int Code, string Out, string Err) Front(string cwd, IEnumerable<string> args, Dictionary<string, string>? env = null) =>
        Exec(front.Path!, null, cwd, args, env ?? ManagedEnv);

    private static (int Code, string Out, string Err) Managed(string cwd, IEnumerable<string> args) =>
        Exec("dotnet", [CliProcess.Dll], cwd, args);

    private bool Skip()
    {
        if (front.Path != null) return false;
        output.WriteLine("SKIPPED: " + front.Why);
        Console.Error.WriteLine("FrontTests skipped: " + front.Why);
        return true;
    }

    public static TheoryData<string> Programs()
    {
        var data = new TheoryData<string>();
        foreach (string dir in new[] { "examples", "bench" })
            foreach (string f in Directory.GetFiles(Path.Combine(TestUtil.RepoRoot, dir), "*.*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                if (f.EndsWith(".hvm", StringComparison.Ordinal) || f.EndsWith(".lmn", StringComparison.Ordinal))
                    data.Add(Path.GetRelativePath(TestUtil.RepoRoot, f));
        return data;
    }

    /// <summary>
    /// Counter lines that are not the same from one run to the next (times, rates) or from one instantiation
    /// path to the other (LINK: the front walks templates, the managed CLI runs compiled definitions; the
    /// other seven rules and ITRS do not depend on it).
    /// </summary>
    private static string Steady(string text) => string.Join("\n", text.Split('\n').Where(l =>
        !(l.StartsWith("- TIME:", StringComparison.Ordinal) || l.StartsWith("- MIPS:", StringComparison.Ordinal) || l.StartsWith("- LINK:", StringComparison.Ordinal)
          || l.StartsWith("time:", StringComparison.Ordinal) || l.StartsWith("mips:", StringComparison.Ordinal)
          || l.StartsWith("rule_link:", StringComparison.Ordinal) || l.StartsWith("oracle_ms:", StringComparison.Ordinal))));

    private void Same(string program, string[] args, bool steadyOnly)
    {
        // Each executable in a directory of its own: the answer cache (.lmn/cache) starts empty for both.
        string a = CliProcess.TempDir(), b = CliProcess.TempDir();
        try
        {
            var f = Front(a, args);
            var m = Managed(b, args);
            string what = $"lmn {string.Join(' ', args)}";
            Assert.True(m.Code == f.Code, $"{what}: exit {f.Code} through the front, {m.Code} managed\nfront stderr: {f.Err}\nmanaged stderr: {m.Err}");
            if (steadyOnly)
            {
                Assert.Equal(Steady(m.Out), Steady(f.Out));
                Assert.Equal(Steady(m.Err), Steady(f.Err));
            }
            else
            {
                Assert.Equal(m.Out, f.Out);
                Assert.Equal(m.Err, f.Err);
            }
        }
        finally
        {
            Directory.Delete(a, true);
            Directory.Delete(b, true);
        }
    }

    [Theory]
    [MemberData(nameof(Programs))]
    public void EveryProgramGivesTheSameOutput(string program)
    {
        if (Skip()) return;
        string path = Path.Combine(TestUtil.RepoRoot, program);
        if (program.EndsWith(".hvm", StringComparison.Ordinal))
        {
            // -s prints the result and every counter; the examples are short, so also compared byte for byte.
            Same(program, ["run", path, "-s"], steadyOnly: true);
            if (program.StartsWith("examples", StringComparison.Ordinal)) Same(program, ["run", path], steadyOnly: false);
            return;
        }
        // Sites answered by an oracle that needs no SDK (natively in the front), from an empty answer cache.
        Same(program, ["run", path, "--oracle", "first"], steadyOnly: false);
        Same(program, ["run", path, "-s", "--oracle", "lexicon", "--no-cache", "-t", "1"], steadyOnly: true);
        // The default (semantic) oracle: native for a program without sites, handed over otherwise (the
        // embedding model is managed code); only the programs without a site are run here (it is slow).
        string text = File.ReadAllText(path);
        if (!text.Contains('∿') && !text.Contains('~')) Same(program, ["run", path], steadyOnly: false);
    }

    /// <summary>Command lines the front hands over, and the ones it runs, against the managed CLI: output and exit code.</summary>
    [Theory]
    [InlineData(0, "version")]
    [InlineData(0, "run", "--help")]
    [InlineData(2)]
    [InlineData(2, "bogus")]
    [InlineData(1, "run", "no-such-file.hvm")]
    [InlineData(1, "run", "no-such-file.lmn")]
    [InlineData(2, "run", "{sum100}", "--bogus")]
    [InlineData(2, "run", "{sum100}", "--threads", "0")]
    [InlineData(2, "run", "{sum100}", "--oracle", "first")]
    [InlineData(2, "run", "{arith}", "--emit", "hvm")]
    [InlineData(0, "run", "{sum100}", "--threads=1")]
    [InlineData(0, "run", "{sum100}", "--emit", "hvm")]
    [InlineData(0, "run", "{sum100}", "--max-memory", "64M", "-t", "2", "--no-io")]
    [InlineData(0, "run", "{sum100}", "--stats", "false")]
    [InlineData(0, "run", "{arith}", "--context", "who=world", "-q")]
    [InlineData(1, "run", "{bad.hvm}")]
    [InlineData(1, "run", "{bad.lmn}")]
    [InlineData(0, "check", "{arith}")]
    [InlineData(0, "compile", "{arith}", "--emit", "hvm")]
    [InlineData(2, "run", "{amb}", "--oracle", "script:no-such.json")]
    public void HandsOverOrRunsWithTheSameExitCode(int code, params string[] args)
    {
        if (Skip()) return;
        string dir = CliProcess.TempDir();
        try
        {
            File.WriteAllText(Path.Combine(dir, "bad.hvm"), "@main = (1\n");
            File.WriteAllText(Path.Combine(dir, "bad.lmn"), "def main = 1 +\n");
            string[] a = [.. args.Select(x => x switch
            {
                "{sum100}" => Path.Combine(TestUtil.RepoRoot, "examples", "sum100.hvm"),
                "{arith}" => Path.Combine(TestUtil.RepoRoot, "examples", "arith.lmn"),
                "{amb}" => Path.Combine(TestUtil.RepoRoot, "examples", "amb_choice.lmn"),
                "{bad.hvm}" => Path.Combine(dir, "bad.hvm"),
                "{bad.lmn}" => Path.Combine(dir, "bad.lmn"),
                _ => x,
            })];
            var f = Front(dir, a);
            var m = Managed(dir, a);
            Assert.True(code == m.Code, $"managed lmn {string.Join(' ', a)}: exit {m.Code}, expected {code}: {m.Err}");
            Assert.True(code == f.Code, $"front lmn {string.Join(' ', a)}: exit {f.Code}, expected {code}: {f.Err}");
            Assert.Equal(m.Out, f.Out);
            Assert.Equal(m.Err, f.Err);
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>With no managed CLI to hand over to, what runs natively still runs; everything else says where it looked.</summary>
    [Fact]
    public void RunsTheFastPathsWithoutTheManagedCli()
    {
        if (Skip()) return;
        string dir = CliProcess.TempDir();
        try
        {
            var none = new Dictionary<string, string> { ["LMN_MANAGED"] = Path.Combine(dir, "no-such-cli") };
            var hvm = Front(dir, ["run", Path.Combine(TestUtil.RepoRoot, "examples", "sum100.hvm"), "-t", "1"], none);
            Assert.True(hvm.Code == 0, hvm.Err);
            Assert.Equal("Result: 5050\n", hvm.Out);
            var lmn = Front(dir, ["run", Path.Combine(TestUtil.RepoRoot, "examples", "arith.lmn")], none);
            Assert.True(lmn.Code == 0, lmn.Err);
            var sites = Front(dir, ["run", Path.Combine(TestUtil.RepoRoot, "examples", "amb_choice.lmn"), "--oracle", "first"], none);
            Assert.True(sites.Code == 0, sites.Err);
            foreach (string[] handed in new string[][] { ["version"], ["run", Path.Combine(TestUtil.RepoRoot, "examples", "amb_choice.lmn")] })
            {
                var r = Front(dir, handed, none);
                Assert.Equal(1, r.Code);
                Assert.Contains("the managed CLI (Lmn.Cli) is not beside", r.Err);
                Assert.Equal("", r.Out);
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>
    /// A .hvm run still going after the budget is handed to the managed CLI (which has compiled
    /// definitions) with the same arguments, nothing written first; with the budget at 0 it stays.
    /// </summary>
    [Fact]
    public void ALongRunIsHandedToTheManagedCliBeforeAnyIo()
    {
        if (Skip()) return;
        string dir = CliProcess.TempDir();
        try
        {
            // A stand-in for the managed CLI that says what it was given.
            string fake = Path.Combine(dir, "fake-cli");
            File.WriteAllText(fake, "#!/bin/sh\necho \"managed: $*\"\nexit 7\n");
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            string sumTree = Path.Combine(TestUtil.RepoRoot, "bench", "sum_tree.hvm");
            var env = new Dictionary<string, string> { ["LMN_MANAGED"] = fake, ["LMN_FRONT_BUDGET_MS"] = "1" };
            var handed = Front(dir, ["run", sumTree, "-s", "-t", "1"], env);
            Assert.Equal(7, handed.Code);
            Assert.Equal($"managed: run {sumTree} -s -t 1\n", handed.Out);
            Assert.Equal("", handed.Err);

            env["LMN_FRONT_BUDGET_MS"] = "0";
            var stays = Front(dir, ["run", sumTree, "-t", "1"], env);
            Assert.True(stays.Code == 0, stays.Err);
            Assert.Equal("Result: 1048576\n", stays.Out);

            // A program whose IO call begins before the budget runs out stays (HVM2 expands the
            // continuation before the call, so the long part of a program comes before its first IO).
            env["LMN_FRONT_BUDGET_MS"] = "200";
            var io = Front(dir, ["run", Path.Combine(TestUtil.RepoRoot, "examples", "io_write.hvm"), "-t", "1"], env);
            Assert.True(io.Code == 0, io.Err);
            Assert.StartsWith("hi\nResult: ", io.Out, StringComparison.Ordinal);
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>
    /// Ctrl+C during a run the front reduces itself: exit 130 and `lmn: interrupted`, as the managed CLI;
    /// also for a reference that expands to itself for ever without a redex (HVM2's IO loop expands it).
    /// </summary>
    [Theory]
    [InlineData("sum_rec")]
    [InlineData("self")]
    public async Task CtrlCDuringANativeRunExits130(string which)
    {
        if (Skip()) return;
        string dir = CliProcess.TempDir();
        try
        {
            // bench/sum_rec.hvm at depth 30: about a thousand times its 25 million interactions.
            string program = Path.Combine(dir, "long.hvm");
            File.WriteAllText(program, which == "self" ? "@main = @loop\n@loop = @loop\n"
                : File.ReadAllText(Path.Combine(TestUtil.RepoRoot, "bench", "sum_rec.hvm")).Replace("(20 (0 ret))", "(30 (0 ret))", StringComparison.Ordinal));
            // SIGINT at its default disposition in the child (see CommandLineTests: a background test host has it ignored).
            var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dir };
            foreach (var a in (string[])["-c", "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])",
                         front.Path!, "run", program, "-t", "1"])
                psi.ArgumentList.Add(a);
            psi.Environment["LMN_MANAGED"] = Path.Combine(dir, "no-such-cli"); // it must not be handed over
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            var o = p.StandardOutput.ReadToEndAsync();
            Thread.Sleep(1500);
            Assert.False(p.HasExited, "the run ended before Ctrl+C");
            using (var kill = Process.Start("kill", ["-INT", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
            Assert.True(p.WaitForExit(60_000), "no exit after SIGINT");
            string stderr = await err;
            Assert.True(p.ExitCode == 130, $"exit {p.ExitCode}: {stderr}");
            Assert.Equal("lmn: interrupted\n", stderr);
            Assert.Equal("", await o);
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>Standard input reaches the managed CLI through a hand-over (`run -`); `bench startup` measures the front.</summary>
    [Fact]
    public void StandardInputPassesThroughAndBenchStartupMeasuresTheFront()
    {
        if (Skip()) return;
        string dir = CliProcess.TempDir();
        try
        {
            var psi = new ProcessStartInfo(front.Path!) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false, WorkingDirectory = dir };
            psi.ArgumentList.Add("run");
            psi.ArgumentList.Add("-");
            psi.Environment["LMN_MANAGED"] = CliProcess.Dll;
            using (var p = Process.Start(psi)!)
            {
                p.StandardInput.Write("@main = 7\n");
                p.StandardInput.Close();
                string o = p.StandardOutput.ReadToEnd();
                Assert.True(p.WaitForExit(120_000));
                Assert.True(p.ExitCode == 0, p.StandardError.ReadToEnd());
                Assert.Equal("Result: 7\n", o);
            }
            var bench = Managed(dir, ["bench", "startup", "--runs", "3", "--command", front.Path!]);
            Assert.True(bench.Code == 0, bench.Err);
            Assert.Contains($"startup: {front.Path} run one.hvm: median ", bench.Out);
            Assert.Contains("load average: ", bench.Out);
        }
        finally { Directory.Delete(dir, true); }
    }
}
