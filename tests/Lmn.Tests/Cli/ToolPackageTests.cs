using System.Diagnostics;

namespace Lmn.Tests.Cli;

/// <summary>
/// Issue 18, item 3: `dotnet pack` makes the tool package `lmn`; installed into a temporary tool path it runs an
/// example. Kept fast: no rebuild (--no-build) and no ReadyToRun compilation in this pack (the package the
/// release ships is packed with it; docs/startup.md); about 20 s on a quiet machine, plus the NativeAOT front's
/// publish the first time (about 90 s; then incremental).
/// </summary>
[Trait("Category", "Pack")]
[Collection(FrontPublish.Name)]
public class ToolPackageTests
{
    private static (int Code, string Out, string Err) Run(string exe, string dir, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dir };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(600_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException(exe + " " + string.Join(' ', args));
        }
        return (p.ExitCode, output.GetAwaiter().GetResult(), err.GetAwaiter().GetResult());
    }

    [Fact]
    public void PackInstallAndRunAnExample()
    {
        string tmp = Path.Combine(Path.GetTempPath(), "lmn-tool-" + Guid.NewGuid().ToString("N")[..8]);
        string nupkg = Path.Combine(tmp, "nupkg"), tools = Path.Combine(tmp, "tools");
        Directory.CreateDirectory(tmp);
        try
        {
            string project = Path.Combine(TestUtil.RepoRoot, "src", "Lmn.Cli", "Lmn.Cli.csproj");
            var pack = Run("dotnet", TestUtil.RepoRoot, "pack", project, "-c", "Release", "--no-build", "--nologo", "-v", "q", "-o", nupkg, "-p:PublishReadyToRun=false");
            Assert.True(pack.Code == 0, pack.Out + pack.Err);
            Assert.Single(Directory.GetFiles(nupkg, "lmn.*.nupkg"));

            var install = Run("dotnet", tmp, "tool", "install", "--tool-path", tools, "--add-source", nupkg, "lmn");
            Assert.True(install.Code == 0, install.Out + install.Err);

            string lmn = Path.Combine(tools, "lmn");
            var run = Run(lmn, tmp, "run", Path.Combine(TestUtil.RepoRoot, "examples", "sum100.hvm"));
            Assert.True(run.Code == 0, run.Err);
            Assert.Equal("Result: 5050", run.Out.Trim());
            var help = Run(lmn, tmp, "run", "--help");
            Assert.Equal(0, help.Code);
            Assert.Contains("lmn run", help.Out);
            // The entry point is the NativeAOT front when the pack could build it (docs/startup.md); either way
            // what it hands over keeps its exit code.
            var usage = Run(lmn, tmp, "run", Path.Combine(TestUtil.RepoRoot, "examples", "sum100.hvm"), "--bogus");
            Assert.Equal(2, usage.Code);
            Assert.StartsWith("lmn: unknown option '--bogus'", usage.Err);
            string entry = new FileInfo(lmn).ResolveLinkTarget(returnFinalTarget: true)?.Name ?? Path.GetFileName(lmn);
            bool front = File.Exists(Path.Combine(TestUtil.RepoRoot, "src", "Lmn.Cli", "obj", "front", "lmn-front"));
            Assert.Equal(front ? "lmn-front" : "Lmn.Cli", entry);
            if (!front) Console.Error.WriteLine("ToolPackageTests: no NativeAOT front was built (no C toolchain?); the tool's entry point is the managed apphost");
        }
        finally { Directory.Delete(tmp, true); }
    }
}
