using System.Diagnostics;
using Lmn.Cli;
using Lmn.Oracles;
using Lmn.Tests.Reliability;

namespace Lmn.Tests.Cli;

/// <summary>Issue 18, item 1: the command line on System.CommandLine: help, usage errors, `run -`, Ctrl+C.</summary>
public class CommandLineTests
{
    // Every command (and subcommand) with options it must name in its help.
    public static TheoryData<string, string[]> Help() => new()
    {
        { "run", ["--stats", "--emit", "--max-memory", "--no-io", "--threads", "--interpret", "--oracle", "--transcript", "--context", "--inputs", "--shard"] },
        { "fmt", ["FILE"] },
        { "check", ["--context", "--context-file", "--quiet"] },
        { "compile", ["--emit", "--context"] },
        { "words", ["QUERY"] },
        { "repl", ["--oracle", "--context", "--max-memory", "--interpret"] },
        { "viz", ["--output", "--format", "--steps", "--at-sites", "--limit"] },
        { "debug", ["--port", "--open", "--limit", "--oracle"] },
        { "cache", ["--dir", "--binding", "--cache-url"] },
        { "bench", ["--runs", "--threads", "--dir", "transmigrate", "oracle", "startup"] },
        { "bench transmigrate", ["--nodes", "--runs", "--warmup", "--seed", "--sites"] },
        { "bench oracle", ["--sites", "--delay-ms", "--runs"] },
        { "bench compile", ["--lines", "--runs"] },
        { "bench oracle-quality", ["--file", "--misses"] },
        { "bench compile-shapes", ["--sizes", "--shapes", "--timeout", "--memory"] },
        { "bench fuzz", ["--inputs", "--seed", "--depth", "--line", "--dir"] },
        { "bench viz", ["--limit", "--debug-limit"] },
        { "bench batch", ["--inputs", "--endpoints", "--delay-ms", "--batch-size", "--cache-url", "--no-postgres"] },
        { "bench startup", ["--runs", "--file", "--command", "--compare"] },
        { "oracle-ask", ["--request", "--events", "--oracle", "--model"] },
        { "help", ["COMMAND"] },
    };

    [Theory]
    [MemberData(nameof(Help))]
    public void HelpOfEveryCommandExitsZeroAndNamesItsOptions(string command, string[] names)
    {
        foreach (var args in new string[][] { [.. command.Split(' '), "--help"], ["help", .. command.Split(' ')] })
        {
            var (code, output, err) = TestUtil.Cli(args);
            Assert.True(code == 0, string.Join(' ', args) + ": " + err);
            Assert.Contains("Usage:", output);
            Assert.Contains("lmn " + command, output);
            foreach (var n in names) Assert.Contains(n, output);
        }
    }

    [Fact]
    public void TheTopLevelHelpListsTheCommands()
    {
        var (code, output, _) = TestUtil.Cli("--help");
        Assert.Equal(0, code);
        foreach (var c in new[] { "run", "fmt", "check", "compile", "words", "repl", "viz", "debug", "cache", "bench", "help" })
            Assert.Contains("  " + c, output);
        Assert.DoesNotContain("bench-child", output); // hidden: the bench's own child processes
        var (none, _, err) = TestUtil.Cli();
        Assert.Equal(2, none);
        Assert.Contains("Usage:", err);
    }

    [Theory]
    [InlineData("unknown command 'frobnicate'", "", "frobnicate")]
    [InlineData("missing FILE", "run", "run")]
    [InlineData("unknown option '--bogus'", "run", "run", "x.hvm", "--bogus")]
    [InlineData("option '--max-memory' needs a value", "run", "run", "x.hvm", "--max-memory")]
    [InlineData("--max-memory lots: expected a size such as 512M or 8G", "run", "run", "x.hvm", "--max-memory", "lots")]
    [InlineData("--threads 0: expected a number of threads from 1 to 1024", "run", "run", "x.hvm", "-t", "0")]
    [InlineData("--runs x: expected a whole number of at least 1", "bench oracle", "bench", "oracle", "--runs", "x")]
    [InlineData("--emit xml: expected 'hvm' or 'net'", "compile", "compile", "x.lmn", "--emit", "xml")]
    [InlineData("unexpected argument 'b.hvm' (one file at a time)", "run", "run", "a.hvm", "b.hvm")]
    [InlineData("--on-invalid maybe: expected fail, retry, first or human", "run", "run", "a.lmn", "--on-invalid", "maybe")]
    public void UsageErrorsExitTwoWithTheCommandsHelpNamed(string message, string command, params string[] args)
    {
        var (code, _, err) = TestUtil.Cli(args);
        Assert.Equal(2, code);
        Assert.Contains("lmn: " + message, err);
        Assert.Contains(command == "" ? "run 'lmn --help' for usage" : $"run 'lmn {command} --help' for usage", err);
    }

    [Fact]
    public void OracleOptionsOnAnHvmBookAreAUsageError()
    {
        var (code, _, err) = TestUtil.Cli("run", Path.Combine(TestUtil.RepoRoot, "examples", "sum100.hvm"), "--oracle", "first");
        Assert.Equal(2, code);
        Assert.Contains("lmn: --oracle: an option for .lmn programs", err);
    }

    [Fact]
    public void ResponseFilesAreOff()
    {
        var (code, _, err) = TestUtil.Cli("run", "@args.rsp");
        Assert.Equal(1, code);
        Assert.Contains("@args.rsp: no such file", err);
    }

    [Fact]
    public void SuggestDirectiveCompletes()
    {
        var (code, output, _) = TestUtil.Cli("[suggest]", "ru");
        Assert.Equal(0, code);
        Assert.Contains("run", output);
    }

    private static (int Code, string Out, string Err) Stdin(string input, params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Commands.Execute(args, new CliContext { Out = o, Err = e, In = new StringReader(input) });
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void RunDashReadsAnHvmProgramFromStdin()
    {
        var (code, output, err) = Stdin("\n  @main = 42\n", "run", "-");
        Assert.True(code == 0, err);
        Assert.Equal("Result: 42", output.Trim());
    }

    [Fact]
    public void RunDashReadsAnLmnProgramFromStdin()
    {
        var (code, output, err) = Stdin("joy\n", "run", "-", "--oracle", "first", "--no-cache");
        Assert.True(code == 0, err);
        Assert.Equal("joy", output.Trim());
    }

    [Fact]
    public void ErrorsInStdinNameStdin()
    {
        var (code, _, err) = Stdin("@main = (\n", "run", "-");
        Assert.Equal(1, code);
        Assert.Contains("<stdin>:", err);
        (code, _, err) = Stdin("let x = \n", "run", "-", "--oracle", "first", "--no-cache");
        Assert.Equal(1, code);
        Assert.Contains("<stdin>:", err);
    }


    [Fact]
    public async Task CtrlCExits130WithACompleteTranscriptAndTheRerunResumes()
    {
        string dir = CliProcess.TempDir();
        try
        {
            string program = Path.Combine(dir, "p.lmn"), oracle = Path.Combine(dir, "oracle.py"), transcript = Path.Combine(dir, "t.jsonl");
            File.WriteAllText(program, "∿lov[joy, ∿lov[pai, ∿lov[ang, joy]]]\n");
            File.WriteAllText(oracle, TestUtil.FirstCandidateOracle);
            // SIGINT at its default disposition in the child: a test host started in the background by a
            // non-interactive shell has SIGINT ignored, the child inherits that, and .NET keeps it ignored.
            var psi = CliProcess.StartInfo(["run", program, "--oracle", $"exec:python3 {oracle} 1", "--transcript", transcript, "--no-cache"]);
            List<string> inner = [psi.FileName, .. psi.ArgumentList];
            psi.FileName = "python3";
            psi.ArgumentList.Clear();
            foreach (var a in (string[])["-c", "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])", .. inner])
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            var output = p.StandardOutput.ReadToEndAsync();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (DateTime.UtcNow < deadline && !(File.Exists(transcript) && File.ReadAllText(transcript).Contains("\"type\":\"response\"")))
                Thread.Sleep(50);
            Thread.Sleep(500); // the second question is with the oracle, which sleeps
            Assert.False(p.HasExited, p.HasExited ? await err : "");
            using (var kill = Process.Start("kill", ["-INT", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
            Assert.True(p.WaitForExit(90_000), "no exit after SIGINT");
            string stderrText = await err;
            Assert.True(p.ExitCode == 130, $"exit {p.ExitCode}: {stderrText}");
            Assert.Contains("lmn: interrupted", stderrText);
            Assert.Equal("", (await output).Trim());
            // Every line whole; the first answer is there.
            string text = File.ReadAllText(transcript);
            Assert.EndsWith("\n", text);
            Assert.All(File.ReadAllLines(transcript), l => Assert.StartsWith("{\"ts\":", l));
            Assert.NotEmpty(Transcript.Read(transcript));

            var (code, stdout, stderr) = TestUtil.Cli("run", program, "--oracle", "exec:python3 " + oracle, "--transcript", transcript, "--no-cache", "-s", "-q");
            Assert.True(code == 0, stderr);
            Assert.Equal("joy", stdout.Trim());
            Assert.Contains("cache_hits: 1", stderr); // the answer from before Ctrl+C, from the transcript
            Assert.Contains("questions: 2", stderr);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ACancelledTokenStopsAnEngineRun()
    {
        // An endless loop in constant space: without the token's check every 65,536 interactions it would never return.
        var ast = Lmn.Hvm.HvmParser.Parse("loop.hvm", "@f = (a b)\n  & @f ~ (a b)\n@main = (x y)\n  & @f ~ (x y)\n");
        foreach (int threads in new[] { 1, 2 })
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            var sw = Stopwatch.StartNew();
            Assert.ThrowsAny<OperationCanceledException>(() => Lmn.Runtime.HvmRunner.Run(ast, 64L << 20, threads: threads, cancellation: cts.Token));
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20));
        }
    }
}
