using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Lmn.Tests.Llm;
using Lmn.Tests.Reliability;

namespace Lmn.Tests.Cli;

/// <summary>`lmn run prog.lmn --inputs FILE`: one JSON line per input, in input order, against fake endpoints on 127.0.0.1.</summary>
public class BatchRunTests
{
    private static List<JsonElement> Lines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    /// <summary>
    /// examples/batch: the README's batch example, run by the built CLI as a child process with the
    /// default offline oracle and no cache: its JSONL output is the file beside it, and the CSV of three of
    /// the same messages gives their answers.
    /// </summary>
    [Fact]
    public void TheBatchExampleClassifiesItsMessages()
    {
        string dir = Path.Combine(TestUtil.RepoRoot, "examples", "batch");
        var (code, stdout, stderr) = CliProcess.Run(["run", Path.Combine(dir, "classify.lmn"), "--inputs", Path.Combine(dir, "messages.jsonl"), "--no-cache"]);
        Assert.True(code == 0, stderr);
        Assert.Equal(File.ReadAllText(Path.Combine(dir, "messages.expected.jsonl")).ReplaceLineEndings("\n"), stdout.ReplaceLineEndings("\n"));
        // The child wrote to its stdout as bytes; in process the lines go to a TextWriter as strings: the same text.
        var (inCode, inOut, inErr) = TestUtil.Cli("run", Path.Combine(dir, "classify.lmn"), "--inputs", Path.Combine(dir, "messages.jsonl"), "--no-cache");
        Assert.True(inCode == 0, inErr);
        Assert.Equal(stdout, inOut);
        (code, stdout, stderr) = CliProcess.Run(["run", Path.Combine(dir, "classify.lmn"), "--inputs", Path.Combine(dir, "messages.csv"), "--no-cache", "-q"]);
        Assert.True(code == 0, stderr);
        Assert.Equal(["joy", "pai", "hop"], Lines(stdout).Select(l => l.GetProperty("questions")[0].GetProperty("answer").GetString()));
    }

    /// <summary>Without --jobs a batch keeps as many inputs in progress as its oracle can use: few for one that answers at once, two batches per call slot of a pool, 1000 when it cannot tell.</summary>
    [Fact]
    public void InputsInProgressFollowTheOracle()
    {
        Assert.Equal(200, Lmn.Cli.BatchCommand.DefaultJobs(new Lmn.Oracles.FirstOracle(), 50, null));
        Assert.Equal(40, Lmn.Cli.BatchCommand.DefaultJobs(new Lmn.Oracles.FirstOracle(), 10, null));
        Assert.Equal(1000, Lmn.Cli.BatchCommand.DefaultJobs(new Lmn.Oracles.FirstOracle(), 5000, null)); // never above 1000
        Assert.Equal(400, Lmn.Cli.BatchCommand.DefaultJobs(new SlowOracle(), 50, 4));                 // 4 call slots: 2 batches each
        Assert.Equal(100, Lmn.Cli.BatchCommand.DefaultJobs(new SlowOracle(), 50, 1));                 // at least 2 batches
        Assert.Equal(1000, Lmn.Cli.BatchCommand.DefaultJobs(new SlowOracle(), 50, 64));
        Assert.Equal(1000, Lmn.Cli.BatchCommand.DefaultJobs(new SlowOracle(), 50, null));             // latency unknown
        Assert.Equal(1000, Lmn.Cli.BatchCommand.DefaultJobs(new SlowOracle(), 600, 4));               // a batch larger than 500: still at most 1000
        Assert.Equal(1000, Lmn.Cli.BatchCommand.DefaultJobs(new Lmn.Oracles.FirstOracle(), int.MaxValue, null));
        // `lmn run --inputs` starts the managed CLI with the batch's runtime settings; other commands do not get them.
        Assert.True(Lmn.Cli.RunCore.IsBatch(["run", "p.lmn", "--inputs", "d.jsonl"]));
        Assert.True(Lmn.Cli.RunCore.IsBatch(["run", "p.lmn", "--inputs=d.jsonl", "-q"]));
        Assert.False(Lmn.Cli.RunCore.IsBatch(["run", "p.lmn"]));
        Assert.False(Lmn.Cli.RunCore.IsBatch(["bench", "batch", "--inputs", "10"]));
        Assert.Contains(Lmn.Cli.RunCore.BatchRuntime, kv => kv.Name == "DOTNET_TieredCompilation" && kv.Value == "0");
    }

    /// <summary>`lmn bench batch` prints the endpoints' run against its ideal and the runtime's own cost per input: the median of five runs and the marginal cost.</summary>
    [Fact]
    public void BenchBatchPrintsTheMedianAndTheMarginalCostPerInput()
    {
        var (code, stdout, err) = TestUtil.Cli("bench", "batch", "--inputs", "400", "--delay-ms", "5", "--no-postgres");
        Assert.True(code == 0, err + stdout);
        Assert.Matches(@"endpoints, no cache: +wall [0-9.]+ s = [0-9.]+x ideal .*oracle calls 8 ", stdout);
        var overhead = System.Text.RegularExpressions.Regex.Match(stdout, @"runtime overhead: +([0-9.]+) µs per input wall, [0-9.]+ µs per input cpu \(instant oracle, 400 inputs, median of 5 runs");
        Assert.True(overhead.Success, stdout);
        var marginal = System.Text.RegularExpressions.Regex.Match(stdout, @"marginal: +(-?[0-9.]+) µs per input wall \(40 inputs: [0-9.]+ s, 400: [0-9.]+ s; runs: ([0-9.]+ ){5}µs per input\)");
        Assert.True(marginal.Success, stdout);
        Assert.True(double.Parse(overhead.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, stdout);
    }

    private sealed class SlowOracle : Lmn.Oracles.IOracle
    {
        public string Identity => "slow";
        public Task<IReadOnlyList<Lmn.Oracles.OracleResult>> AskAsync(IReadOnlyList<Lmn.Oracles.OracleRequest> batch, CancellationToken cancellationToken) =>
            throw new NotSupportedException("not asked in this test");
    }

    [Fact]
    public async Task OrderIsKeptWhileInputsRunConcurrentlyAndAnswersComeBackOutOfOrder()
    {
        await using var s = await FakeLlmServer.StartAsync();
        var rnd = new Random(7);
        var answering = ScalingUtil.Answering(anthropic: false);
        // Each call takes 0-120 ms: later batches often come back first.
        s.Responder = r => answering(r) with { Delay = TimeSpan.FromMilliseconds(rnd.Next(0, 120)) };
        string dir = ScalingUtil.TempDir();
        try
        {
            string prog = Path.Combine(dir, "p.lmn");
            File.WriteAllText(prog, ScalingUtil.Program);
            string inputs = ScalingUtil.Inputs(dir, 60, "order");
            var (code, stdout, stderr) = TestUtil.Cli("run", prog, "--inputs", inputs, "--oracle", "openai", "--base-url", s.Url + "/v1", "--batch",
                "--no-cache", "--jobs", "16", "--batch-size", "4", "--concurrency", "8", "-q", "-s");
            Assert.True(code == 0, stderr);
            var lines = Lines(stdout);
            Assert.Equal(60, lines.Count);
            for (int k = 1; k <= 60; k++)
            {
                Assert.Equal(k, lines[k - 1].GetProperty("input").GetInt32());
                Assert.Equal(ScalingUtil.Expected(k, "order"), lines[k - 1].GetProperty("value").GetString());
                Assert.Equal(JsonValueKind.Null, lines[k - 1].GetProperty("error").ValueKind);
                var q = Assert.Single(lines[k - 1].GetProperty("questions").EnumerateArray());
                Assert.Equal("∿lov[joy, pai]", q.GetProperty("expression").GetString());
            }
            // Questions of different inputs went out together: at most 4 per call, so at least 15 calls, far fewer than 60.
            Assert.InRange(s.Requests.Count, 15, 30);
            Assert.Equal(60, s.Requests.Sum(r => ScalingUtil.Questions(r).Count));
            Assert.Contains("oracle_calls: ", stderr);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void BatchValuesAreTheValuesOfSingleRuns()
    {
        // Two implementations: the batch compiles inputs from a template, a single run compiles its own context.
        string dir = ScalingUtil.TempDir();
        try
        {
            string prog = Path.Combine(dir, "p.lmn");
            File.WriteAllText(prog, "def f = \\x. fir[x, @tag, @n]\ndef main = f(lov[@msg, ∿lov[joy, pai]])\n");
            var rows = new[]
            {
                new { msg = "a plain text", tag = "sol", n = "3" },
                new { msg = "sol", tag = "sol", n = "4" },           // a word, not a string
                new { msg = "x \"quoted\" y", tag = "lun", n = "5" },
                new { msg = "same", tag = "same text", n = "6" },
                new { msg = "same text", tag = "same text", n = "7" }, // two fields with one text: one symbol
                new { msg = "[joy, pai]", tag = "lov[joy]", n = "8" },
            };
            string inputs = Path.Combine(dir, "in.jsonl");
            File.WriteAllLines(inputs, rows.Select(r => JsonSerializer.Serialize(r)));
            var (code, stdout, stderr) = TestUtil.Cli("run", prog, "--inputs", inputs, "--oracle", "first", "--no-cache", "-q");
            Assert.True(code == 0, stderr);
            var lines = Lines(stdout);
            for (int i = 0; i < rows.Length; i++)
            {
                var (c1, single, e1) = TestUtil.Cli("run", prog, "--oracle", "first", "--no-cache", "-q",
                    "--context", "msg=" + rows[i].msg, "--context", "tag=" + rows[i].tag, "--context", "n=" + rows[i].n);
                Assert.True(c1 == 0, e1);
                Assert.Equal(single.Trim(), lines[i].GetProperty("value").GetString());
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void AnInputsOwnFieldWinsOverContextAndEqualsASingleRun()
    {
        // --context binds every input; a field of the input with the same name replaces it (in the
        // program and in the question's anchors), one without it keeps the --context value.
        string dir = ScalingUtil.TempDir();
        try
        {
            string prog = Path.Combine(dir, "p.lmn");
            File.WriteAllText(prog, "fir[@msg, @tag, ∿lov[joy, pai]]\n");
            string inputs = Path.Combine(dir, "in.jsonl");
            File.WriteAllText(inputs, "{\"msg\": \"own text one\"}\n{\"tag\": \"lun\"}\n{\"tag\": \"sol\", \"msg\": \"own text three\"}\n");
            var (code, stdout, stderr) = TestUtil.Cli("run", prog, "--inputs", inputs, "--context", "msg=base text", "--context", "tag=nox",
                "--oracle", "first", "--no-cache", "-q");
            Assert.True(code == 0, stderr);
            var lines = Lines(stdout);
            Assert.Equal(3, lines.Count);
            string[][] expected = [["own text one", "nox"], ["base text", "lun"], ["own text three", "sol"]];
            for (int i = 0; i < 3; i++)
            {
                var (c1, single, e1) = TestUtil.Cli("run", prog, "--oracle", "first", "--no-cache", "-q",
                    "--context", "msg=" + expected[i][0], "--context", "tag=" + expected[i][1]);
                Assert.True(c1 == 0, e1);
                Assert.Equal(single.Trim(), lines[i].GetProperty("value").GetString());
                Assert.Contains(expected[i][0], single);
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>
    /// The program is checked once before the inputs run (the first input's template, which the inputs of
    /// its shape then use): its errors stop the run with their locations, its warnings are printed once,
    /// and neither shows the placeholder text the template is compiled with.
    /// </summary>
    [Fact]
    public void TheProgramsErrorsStopTheRunAndItsWarningsArePrintedOnce()
    {
        string dir = ScalingUtil.TempDir();
        try
        {
            string inputs = Path.Combine(dir, "in.jsonl");
            File.WriteAllText(inputs, "{\"msg\": \"one thing\"}\n{\"msg\": \"another thing\"}\n{\"msg\": \"a third\"}\n");
            string bad = Path.Combine(dir, "bad.lmn");
            File.WriteAllText(bad, "@msg ∿lov[joy, pai]\nlet = 3\n");
            var (code, stdout, stderr) = TestUtil.Cli("run", bad, "--inputs", inputs, "--oracle", "first", "--no-cache");
            Assert.Equal(1, code);
            Assert.Equal("", stdout);
            Assert.Contains($"{bad}:2:5: error: unexpected '='", stderr);
            Assert.DoesNotContain('\u0001', stderr);
            CliProcess.AssertNoTrace(stderr);

            string warn = Path.Combine(dir, "warn.lmn");
            File.WriteAllText(warn, "def f(x) = match x { joy => 1; 0 => 2; _ => 3 }\n[f(∿lov[joy, pai]), @msg]\n");
            (code, stdout, stderr) = TestUtil.Cli("run", warn, "--inputs", inputs, "--oracle", "first", "--no-cache");
            Assert.Equal(0, code);
            Assert.Single(System.Text.RegularExpressions.Regex.Matches(stderr, "warning: unreachable match arm"));
            Assert.Contains($"{warn}:1:32: warning: unreachable match arm", stderr);
            Assert.DoesNotContain('\u0001', stderr);
            var lines = Lines(stdout);
            Assert.Equal(["[1, \"one thing\"]", "[1, \"another thing\"]", "[1, \"a third\"]"], lines.Select(l => l.GetProperty("value").GetString()));
            // -q keeps the warning off stderr
            (code, _, stderr) = TestUtil.Cli("run", warn, "--inputs", inputs, "--oracle", "first", "--no-cache", "-q");
            Assert.Equal(0, code);
            Assert.DoesNotContain("warning", stderr);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void OneBadInputIsReportedOnItsLineAndTheOthersRun()
    {
        string dir = ScalingUtil.TempDir();
        try
        {
            string prog = Path.Combine(dir, "p.lmn");
            File.WriteAllText(prog, "fir[@msg, @n + 1, ∿lov[joy, pai]]\n");
            string inputs = Path.Combine(dir, "in.jsonl");
            File.WriteAllText(inputs, "{\"msg\": \"one\", \"n\": 1}\n{\"msg\": \"two\", \"n\": \n{\"msg\": \"three\"}\n[1, 2]\n{\"msg\": \"five\", \"n\": 5}\n");
            var (code, stdout, stderr) = TestUtil.Cli("run", prog, "--inputs", inputs, "--oracle", "first", "--no-cache", "-q");
            Assert.Equal(1, code);
            CliProcess.AssertNoTrace(stderr);
            var lines = Lines(stdout);
            Assert.Equal(5, lines.Count);
            Assert.Equal("fir[one, 2, joy]", lines[0].GetProperty("value").GetString());
            Assert.StartsWith($"{inputs}:2:", lines[1].GetProperty("error").GetString());
            Assert.Contains("not valid JSON", lines[1].GetProperty("error").GetString());
            // A missing field is the program's error for that input: the unbound anchor, with its location.
            Assert.Contains("unbound anchor @n", lines[2].GetProperty("error").GetString());
            Assert.Contains("p.lmn:1:", lines[2].GetProperty("error").GetString());
            Assert.Contains($"{inputs}:4:1: expected a JSON object", lines[3].GetProperty("error").GetString());
            Assert.Equal("fir[five, 6, joy]", lines[4].GetProperty("value").GetString());
            Assert.Equal(JsonValueKind.Null, lines[4].GetProperty("error").ValueKind);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void CsvWithAHeaderRowAndQuotedFields()
    {
        string dir = ScalingUtil.TempDir();
        try
        {
            string prog = Path.Combine(dir, "p.lmn");
            File.WriteAllText(prog, "fir[@msg, @who, ∿lov[joy, pai]]\n");
            string inputs = Path.Combine(dir, "in.csv");
            File.WriteAllText(inputs, "msg,who\r\n\"hello, world\",sol\r\n\"she said \"\"hi\"\"\",lun\r\nonly-one-field\r\n\"two\nlines\",sol\r\n");
            var (code, stdout, stderr) = TestUtil.Cli("run", prog, "--inputs", inputs, "--oracle", "first", "--no-cache", "-q");
            Assert.Equal(1, code);
            var lines = Lines(stdout);
            Assert.Equal(4, lines.Count);
            Assert.Equal("fir[\"hello, world\", sol, joy]", lines[0].GetProperty("value").GetString());
            Assert.Equal("fir[\"she said \\\"hi\\\"\", lun, joy]", lines[1].GetProperty("value").GetString());
            Assert.Equal($"{inputs}:4:1: 1 field, but the header has 2", lines[2].GetProperty("error").GetString());
            Assert.Equal(5, lines[3].GetProperty("line").GetInt32());
            Assert.Equal("fir[\"two\\nlines\", sol, joy]", lines[3].GetProperty("value").GetString());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ShardsSplitTheInputsWithoutOverlap()
    {
        string dir = ScalingUtil.TempDir();
        try
        {
            string prog = Path.Combine(dir, "p.lmn");
            File.WriteAllText(prog, ScalingUtil.Program);
            string inputs = ScalingUtil.Inputs(dir, 20, "shard");
            var (c0, whole, e0) = TestUtil.Cli("run", prog, "--inputs", inputs, "--oracle", "first", "--no-cache", "-q");
            Assert.True(c0 == 0, e0);
            var all = Lines(whole).Select(l => l.GetRawText()).ToList();
            var seen = new List<string>();
            for (int i = 1; i <= 3; i++)
            {
                var (c, part, e) = TestUtil.Cli("run", prog, "--inputs", inputs, "--oracle", "first", "--no-cache", "-q", "--shard", $"{i}/3");
                Assert.True(c == 0, e);
                var lines = Lines(part);
                Assert.All(lines, l => Assert.Equal(i, (l.GetProperty("input").GetInt32() - 1) % 3 + 1));
                Assert.Equal(Enumerable.Range(0, 20).Count(k => k % 3 == i - 1), lines.Count);
                seen.AddRange(lines.Select(l => l.GetRawText()));
            }
            Assert.Equal(all.Order(), seen.Order());
            var (bad, _, err) = TestUtil.Cli("run", prog, "--inputs", inputs, "--oracle", "first", "--shard", "4/3");
            Assert.Equal(2, bad);
            Assert.Contains("--shard 4/3: expected i/n with 1 <= i <= n", err);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task KilledRunResumesAskingNothingTwiceAndWritesTheSameFile()
    {
        await using var s = await FakeLlmServer.StartAsync();
        var answered = new ConcurrentBag<string>();
        s.Responder = ScalingUtil.Answering(anthropic: false, TimeSpan.FromMilliseconds(150), answered);
        string dir = ScalingUtil.TempDir();
        try
        {
            string prog = Path.Combine(dir, "p.lmn");
            File.WriteAllText(prog, ScalingUtil.Program);
            string inputs = ScalingUtil.Inputs(dir, 24, "resume");
            string transcript = Path.Combine(dir, "run.jsonl");
            string[] args = ["run", prog, "--inputs", inputs, "--oracle", "openai", "--base-url", s.Url + "/v1", "--batch", "--batch-size", "2",
                "--jobs", "4", "--concurrency", "1", "--transcript", transcript, "--no-cache", "-q"];

            // The reference: an uninterrupted run (its own transcript) over the same endpoint.
            var (rc, reference, rerr) = TestUtil.Cli([.. args[..^4], "--transcript", Path.Combine(dir, "ref.jsonl"), "--no-cache", "-q"]);
            Assert.True(rc == 0, rerr);
            answered.Clear();
            int before = s.Requests.Count;

            string outFile = Path.Combine(dir, "out.jsonl");
            var psi = CliProcess.StartInfo(args);
            using (var p = Process.Start(psi)!)
            {
                p.StandardInput.Close();
                var lines = new List<string>();
                var readAll = Task.Run(async () =>
                {
                    string? l;
                    while ((l = await p.StandardOutput.ReadLineAsync()) != null) lock (lines) lines.Add(l);
                });
                var sw = Stopwatch.StartNew();
                while (sw.Elapsed < TimeSpan.FromSeconds(60))
                {
                    lock (lines) if (lines.Count >= 6) break;
                    await Task.Delay(20);
                }
                p.Kill(); // SIGKILL: no handler runs
                p.WaitForExit();
                await readAll;
                lock (lines) File.WriteAllLines(outFile, lines);
                Assert.InRange(lines.Count, 6, 23);
            }
            // What the killed run recorded as answered (a call in flight at the kill was sent but never answered).
            var askedBefore = new HashSet<string>();
            foreach (var line in File.ReadAllLines(transcript))
            {
                if (!line.Contains("\"type\":\"response\"")) continue;
                using var doc = JsonDocument.Parse(line);
                askedBefore.Add(doc.RootElement.GetProperty("request").GetProperty("scope").GetProperty("lexical_bindings").GetProperty("@msg").GetString()!.Trim('"'));
            }
            Assert.NotEmpty(askedBefore);
            answered.Clear();

            var (code, stdout, stderr) = TestUtil.Cli(args);
            Assert.True(code == 0, stderr);
            Assert.Equal(reference, stdout);
            // Nothing answered before the kill is asked again; everything else is asked once.
            var askedAfter = answered.ToList();
            Assert.Empty(askedAfter.Intersect(askedBefore));
            Assert.Equal(askedAfter.Count, askedAfter.Distinct().Count());
            Assert.Equal(24, askedBefore.Count + askedAfter.Count);
        }
        finally { Directory.Delete(dir, true); }
    }
}

/// <summary>The progress bar: drawn on a terminal (a pseudo-terminal from script(1)), never into a file or pipe.</summary>
public class BatchProgressTests
{
    [Fact]
    public void ABarOnATerminalAndNothingInAPipe()
    {
        string dir = ScalingUtil.TempDir();
        try
        {
            string prog = Path.Combine(dir, "p.lmn");
            File.WriteAllText(prog, ScalingUtil.Program);
            string inputs = ScalingUtil.Inputs(dir, 40, "bar");
            string outFile = Path.Combine(dir, "out.jsonl");
            string cmd = $"dotnet '{CliProcess.Dll}' run '{prog}' --inputs '{inputs}' --oracle first --no-cache -q > '{outFile}'";
            var psi = new System.Diagnostics.ProcessStartInfo("script") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "-qec", cmd, "/dev/null" }) psi.ArgumentList.Add(a);
            using var p = System.Diagnostics.Process.Start(psi)!;
            string tty = p.StandardOutput.ReadToEnd();
            p.WaitForExit(120_000);
            Assert.Equal(0, p.ExitCode);
            Assert.Matches(@"\[#{24}\] 40/40 · \d+/s · ETA --:--:-- · asked 40 · cached 0", tty);
            Assert.Equal(40, File.ReadAllLines(outFile).Length);
            Assert.DoesNotContain("#", File.ReadAllText(outFile));

            var (code, _, err) = CliProcess.Run(["run", prog, "--inputs", inputs, "--oracle", "first", "--no-cache", "-q"]);
            Assert.Equal(0, code);
            Assert.Equal("", err);
        }
        finally { Directory.Delete(dir, true); }
    }
}
