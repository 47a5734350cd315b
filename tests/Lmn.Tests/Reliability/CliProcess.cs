using System.Diagnostics;

namespace Lmn.Tests.Reliability;

/// <summary>Runs the built `lmn` (Lmn.Cli.dll) as a child process: its own environment, real stdout and stderr files.</summary>
public static class CliProcess
{
    /// <summary>The CLI's own build output (its dependencies complete), else the copy beside the tests.</summary>
    public static string Dll { get; } = File.Exists(Path.Combine(TestUtil.RepoRoot, "src", "Lmn.Cli", "bin", "Release", "net10.0", "Lmn.Cli.dll"))
        ? Path.Combine(TestUtil.RepoRoot, "src", "Lmn.Cli", "bin", "Release", "net10.0", "Lmn.Cli.dll")
        : Path.Combine(AppContext.BaseDirectory, "Lmn.Cli.dll");

    public static ProcessStartInfo StartInfo(IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env != null) foreach (var (k, v) in env) psi.Environment[k] = v;
        return psi;
    }

    /// <summary>Runs to the end (at most 120 s) and returns its exit code and output.</summary>
    public static (int Code, string Out, string Err) Run(IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null)
    {
        using var p = Process.Start(StartInfo(args, env))!;
        p.StandardInput.Close();
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("lmn " + string.Join(' ', args) + " did not finish within 120 s");
        }
        p.WaitForExit();
        return (p.ExitCode, output.Result, err.Result);
    }

    /// <summary>Runs through `sh -c` so that stdout can be redirected to a file such as /dev/full.</summary>
    public static (int Code, string Err) RunShell(string redirect, params string[] args)
    {
        var psi = new ProcessStartInfo("sh") { RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec dotnet \"$0\" \"$@\" " + redirect);
        psi.ArgumentList.Add(Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("lmn " + string.Join(' ', args) + " did not finish within 120 s");
        }
        p.WaitForExit();
        return (p.ExitCode, err.Result);
    }

    public static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "lmn-rel-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static void AssertNoTrace(string err)
    {
        Assert.DoesNotContain("   at ", err);
        Assert.DoesNotContain("Exception", err);
        Assert.DoesNotContain("Unhandled", err);
    }
}
