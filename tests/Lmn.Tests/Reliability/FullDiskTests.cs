namespace Lmn.Tests.Reliability;

/// <summary>Issue 11, item 1: the CLI on a full disk (/dev/full) and with directories it cannot write.</summary>
public class FullDiskTests
{
    private static string Program(string dir)
    {
        string p = Path.Combine(dir, "p.lmn");
        File.WriteAllText(p, "∿lov[joy, pai]\n");
        return p;
    }

    [Theory]
    [InlineData("lmn")]
    [InlineData("hvm")]
    [InlineData("check")]
    [InlineData("compile")]
    [InlineData("fmt")]
    public void StdoutOnAFullDisk(string what)
    {
        string dir = CliProcess.TempDir();
        try
        {
            string lmn = Program(dir), hvm = Path.Combine(dir, "p.hvm");
            File.WriteAllText(hvm, "@main = 1\n");
            string[] args = what switch
            {
                "lmn" => ["run", lmn, "--no-cache"],
                "hvm" => ["run", hvm],
                "fmt" => ["fmt", hvm],
                _ => [what, lmn],
            };
            var (code, err) = CliProcess.RunShell(">/dev/full", args);
            Assert.Equal(1, code);
            Assert.Contains("No space left on device", err);
            CliProcess.AssertNoTrace(err);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void TranscriptOnAFullDisk()
    {
        string dir = CliProcess.TempDir();
        try
        {
            var (code, _, err) = CliProcess.Run(["run", Program(dir), "--no-cache", "--transcript", "/dev/full"]);
            Assert.Equal(1, code);
            Assert.Contains("--transcript /dev/full: cannot write the transcript", err);
            CliProcess.AssertNoTrace(err);
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>A directory below a regular file cannot be created, whoever runs the test (root too).</summary>
    [Fact]
    public void UnwritableCacheDirIsAWarning()
    {
        string dir = CliProcess.TempDir();
        try
        {
            string file = Path.Combine(dir, "plain-file");
            File.WriteAllText(file, "");
            var (code, stdout, err) = CliProcess.Run(["run", Program(dir), "--cache-dir", Path.Combine(file, "cache")]);
            Assert.True(code == 0, err);
            Assert.Equal("joy", stdout.Trim());
            Assert.Contains("warning: --cache-dir", err);
            Assert.Contains("answers were not cached", err);
            CliProcess.AssertNoTrace(err);

            (code, _, err) = CliProcess.Run(["run", Program(dir), "--no-cache", "--transcript", Path.Combine(file, "t.jsonl")]);
            Assert.Equal(1, code);
            Assert.Contains("--transcript", err);
            CliProcess.AssertNoTrace(err);
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>Permission bits (only meaningful when the tests do not run as root).</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    [Fact]
    public void ReadOnlyCacheDir()
    {
        string dir = CliProcess.TempDir();
        string ro = Path.Combine(dir, "ro");
        Directory.CreateDirectory(ro);
        try
        {
            File.SetUnixFileMode(ro, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            var (code, stdout, err) = CliProcess.Run(["run", Program(dir), "--cache-dir", ro]);
            Assert.True(code == 0, err);
            Assert.Equal("joy", stdout.Trim());
            CliProcess.AssertNoTrace(err);
            (code, _, err) = CliProcess.Run(["cache", "clear", "--dir", ro]);
            CliProcess.AssertNoTrace(err);
            Assert.True(code is 0 or 1, err);
        }
        finally
        {
            File.SetUnixFileMode(ro, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Directory.Delete(dir, true);
        }
    }
}
