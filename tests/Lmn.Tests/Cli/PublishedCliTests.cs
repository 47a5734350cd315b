using System.Diagnostics;

namespace Lmn.Tests.Cli;

/// <summary>
/// The CLI as users run it: published ReadyToRun, as the `lmn` command publishes it, with code inlined across
/// assemblies and generic code over the program's own types compiled ahead of time (Lmn.Cli.csproj,
/// docs/startup.md). The other tests run the JIT-compiled build; these run the ahead-of-time code, which the
/// runtime checks against the framework it loads (a method whose inlined framework code changed is
/// compiled again instead), against the same expected outputs.
/// </summary>
public sealed class PublishedCli : IDisposable
{
    public string Dir { get; } = Path.Combine(Path.GetTempPath(), "lmn-published-" + Guid.NewGuid().ToString("N")[..8]);

    /// <summary>The configuration the tests were built in (--no-build publishes that build).</summary>
#if DEBUG
    public const string Configuration = "Debug";
#else
    public const string Configuration = "Release";
#endif

    /// <summary>
    /// The runtime pack the images were compiled against (from the CLI's restore), or null if it cannot be
    /// read. Their cross-module code is checked against the runtime that loads them: on another patch
    /// some of it may be compiled by the JIT again.
    /// </summary>
    public static string? CompiledAgainst()
    {
        string assets = Path.Combine(TestUtil.RepoRoot, "src", "Lmn.Cli", "obj", "project.assets.json");
        if (!File.Exists(assets)) return null;
        var m = System.Text.RegularExpressions.Regex.Match(File.ReadAllText(assets),
            "\"name\":\\s*\"Microsoft\\.NETCore\\.App\\.Runtime\\.[^\"]+\",\\s*\"version\":\\s*\"\\[([0-9.]+)");
        return m.Success ? m.Groups[1].Value : null;
    }

    /// <summary>Null when the publish worked, else its output.</summary>
    public string? Failure { get; }

    public PublishedCli()
    {
        // --no-build: the build the tests run on, compiled ahead of time into a directory of its own (the
        // bin/ and obj/ the other tests use are not written).
        var r = Run("dotnet", TestUtil.RepoRoot, null, 600, "publish", Path.Combine(TestUtil.RepoRoot, "src", "Lmn.Cli", "Lmn.Cli.csproj"),
            "-c", Configuration, "--no-build", "--nologo", "-v", "q", "-nodeReuse:false", "-o", Dir);
        if (r.Code != 0 || !File.Exists(Path.Combine(Dir, "Lmn.Cli.dll"))) Failure = r.Out + r.Err;
    }

    /// <summary>Runs the published CLI (its apphost) with these arguments and extra environment.</summary>
    public (int Code, string Out, string Err) Lmn(IReadOnlyDictionary<string, string>? env, params string[] args)
    {
        Assert.True(Failure == null, "the publish failed:\n" + Failure);
        return Run(Path.Combine(Dir, "Lmn.Cli"), TestUtil.RepoRoot, env, 300, args);
    }

    /// <summary>A child process to its end, its output read as it goes; exit code -1 and a message if it outlives the timeout.</summary>
    internal static (int Code, string Out, string Err) Run(string exe, string cwd, IReadOnlyDictionary<string, string>? env, int timeoutSeconds, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env != null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var o = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(entireProcessTree: true);
            return (-1, "", $"{exe} {string.Join(' ', args)} did not finish within {timeoutSeconds} s");
        }
        p.WaitForExit();
        return (p.ExitCode, o.Result, err.Result);
    }

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}

// One at a time with the other tests that publish or pack the CLI (they share its obj/).
[Collection(FrontPublish.Name)]
public class PublishedCliTests(PublishedCli cli) : IClassFixture<PublishedCli>
{
    /// <summary>What a batch run starts with (Lmn.Cli.RunCore.BatchRuntime): only the ahead-of-time code and one full compilation of the rest.</summary>
    private static readonly Dictionary<string, string> Batch = global::Lmn.Cli.RunCore.BatchRuntime.ToDictionary(p => p.Name, p => p.Value);

    [Fact]
    public void EveryExampleGivesItsExpectedOutput()
    {
        int checkedCount = 0;
        var wrong = new List<string>();
        string examples = Path.Combine(TestUtil.RepoRoot, "examples");
        foreach (string path in Directory.GetFiles(examples, "*.lmn").Order(StringComparer.Ordinal))
        {
            string expectedFile = Path.ChangeExtension(path, ".expected");
            if (!File.Exists(expectedFile)) continue;
            string expected = File.ReadAllText(expectedFile).ReplaceLineEndings("\n").TrimEnd('\n');
            var (code, stdout, stderr) = cli.Lmn(null, ["run", path, "-s", "-q", .. Language.LmnSnapshotTests.Args(File.ReadAllText(path))]);
            string actual = Language.LmnSnapshotTests.Actual(stdout, stderr);
            checkedCount++;
            if (code != 0 || actual != expected) wrong.Add($"{Path.GetFileName(path)} (exit {code}):\n{actual}\nexpected:\n{expected}\n{stderr}");
        }
        foreach (string dir in new[] { "examples", "bench" })
        {
            foreach (string path in Directory.GetFiles(Path.Combine(TestUtil.RepoRoot, dir), "*.hvm").Order(StringComparer.Ordinal))
            {
                string expectedFile = Path.ChangeExtension(path, ".expected");
                if (!File.Exists(expectedFile)) continue;
                string expected = File.ReadAllText(expectedFile).ReplaceLineEndings("\n").TrimEnd('\n');
                var (code, stdout, stderr) = cli.Lmn(null, "run", path, "-s");
                string actual = SnapshotTests.Actual(stdout);
                checkedCount++;
                if (code != 0 || actual != expected) wrong.Add($"{dir}/{Path.GetFileName(path)} (exit {code}):\n{actual}\nexpected:\n{expected}\n{stderr}");
            }
        }
        Assert.True(checkedCount >= 30, $"only {checkedCount} programs with expected outputs");
        Assert.True(wrong.Count == 0, string.Join("\n\n", wrong));
    }

    [Fact]
    public void TheBatchExampleGivesItsExpectedLinesWithFewMethodsLeftToTheJit()
    {
        string dir = Path.Combine(TestUtil.RepoRoot, "examples", "batch");
        var (code, stdout, stderr) = cli.Lmn(Batch, "run", Path.Combine(dir, "classify.lmn"), "--inputs", Path.Combine(dir, "messages.jsonl"), "--no-cache", "-s");
        Assert.True(code == 0, stderr);
        Assert.Equal(File.ReadAllText(Path.Combine(dir, "messages.expected.jsonl")).ReplaceLineEndings("\n"), stdout.ReplaceLineEndings("\n"));
        // With the instant oracle (the runtime's own cost, as `lmn bench batch` measures it): without
        // cross-module generics the runtime compiled 491 methods for this run (List<ParkedSite>,
        // Dictionary<string, int>, System.CommandLine's Option<int?> and the like), 0.16-0.21 s of JIT; with
        // them 156 (the engine's hot loops, compiled by the JIT on purpose, and the async steps' boxes).
        (code, _, stderr) = cli.Lmn(Batch, "run", Path.Combine(dir, "classify.lmn"), "--inputs", Path.Combine(dir, "messages.jsonl"), "--no-cache", "--oracle", "first", "-s");
        Assert.True(code == 0, stderr);
        int jitted = int.Parse(stderr.Split('\n').First(l => l.StartsWith("jit_methods: ", StringComparison.Ordinal))["jit_methods: ".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        string? pack = PublishedCli.CompiledAgainst();
        string runtime = Environment.Version.ToString();
        Assert.True(pack != null, "the runtime pack's version was not found in src/Lmn.Cli/obj/project.assets.json");
        if (pack == runtime) Assert.True(jitted < 300, $"{jitted} methods compiled at run time");
        // On another patch of the runtime the checks may turn some of that code down (docs/startup.md): the
        // outputs above must hold, the count need not.
        else Console.Error.WriteLine($"PublishedCliTests: images compiled against {pack}, running on {runtime}: {jitted} methods compiled at run time (not checked)");
    }

    /// <summary>
    /// The images on another patch of the runtime than the one they were compiled against (the case the
    /// runtime's checks of cross-module code are for): scripts/other-runtime.sh restores that runtime's packs,
    /// lays them out as a private dotnet root and compares every example's output under both.
    /// </summary>
    [Fact]
    public void EveryExampleGivesTheSameOutputOnAnotherPatchOfTheRuntime()
    {
        Assert.True(cli.Failure == null, "the publish failed:\n" + cli.Failure);
        // A patch other than the installed one (both are on the NuGet source).
        string other = Environment.Version.ToString() == "10.0.15" ? "10.0.12" : "10.0.15";
        var (code, output, err) = PublishedCli.Run("bash", TestUtil.RepoRoot, new Dictionary<string, string> { ["LMN_APP"] = Path.Combine(cli.Dir, "Lmn.Cli") }, 600,
            Path.Combine(TestUtil.RepoRoot, "scripts", "other-runtime.sh"), other);
        Assert.True(code == 0, output + err);
        Assert.Contains($"Microsoft.NETCore.App {other}", output);
        string last = output.TrimEnd('\n').Split('\n')[^1];
        Assert.Matches("^[0-9]+ programs, 0 differ$", last);
        Assert.True(int.Parse(last.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) >= 30, last);
    }
}
