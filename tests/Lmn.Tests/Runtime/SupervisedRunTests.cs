using Lmn.Words;
namespace Lmn.Tests.Runtime;

/// <summary>The Model B supervisor end to end through `lmn run FILE.lmn`.</summary>
public class SupervisedRunTests
{
    private static readonly string Answers = Path.Combine(TestUtil.RepoRoot, "examples", "answers.json");

    private static Dictionary<string, string> Stats(string stderr) =>
        stderr.Split('\n').Where(l => l.Contains(": ") && !l.Contains("error") && !l.Contains("warning"))
            .Select(l => l.Split(": ", 2)).Where(p => p[0].All(c => char.IsAsciiLetterLower(c) || c == '_'))
            .ToDictionary(p => p[0], p => p[1].Trim());

    private static (int Code, string Out, Dictionary<string, string> Stats, string Err) Run(string program, params string[] extra)
    {
        string path = TestUtil.TempFile(program + "\n", ".lmn");
        try
        {
            var (code, stdout, stderr) = TestUtil.Cli(["run", path, "-s", "-q", .. extra]);
            return (code, stdout.TrimEnd('\n'), Stats(stderr), stderr.Replace(path, "F.lmn"));
        }
        finally { File.Delete(path); }
    }

    /// <summary>Every row of LANGUAGE.md §9 with the script oracle: output, rounds, questions, batches.</summary>
    [Theory]
    [InlineData("fir[lov, pai]", "", "fir[lov, pai]", 0, 0, 0)]
    [InlineData("∿lov[joy, pai, hop]", "", "joy", 1, 1, 1)]
    [InlineData("@now ∿lov[joy, pai, hop]", "now=present_moment", "joy@now", 1, 1, 1)]
    [InlineData("fir[∿lov[joy, pai], ∿mov[run, sit]]", "", "fir[joy, run]", 1, 2, 1)]
    [InlineData("∿lov[joy, ∿lov[pai, ang]]", "", "joy", 2, 2, 2)]
    [InlineData("let x = ∿lov[joy, pai]; 42", "", "42", 0, 0, 0)]
    [InlineData("if 1 then sad else ∿lov[joy, pai]", "", "sad", 0, 0, 0)]
    [InlineData("def sum(n) = match n { 0 => 0; 1+p => n + sum(p) }\nsum(100)", "", "5050", 0, 0, 0)]
    [InlineData("[joy, pai, hop] → map(\\e. ∿lov[e, calm])", "", "[joy, calm, hop]", 1, 3, 1)]
    public void LanguageSpecTable(string program, string context, string output, int rounds, int questions, int batches)
    {
        string[] ctx = context.Length > 0 ? ["--context", context] : [];
        var (code, stdout, stats, err) = Run(program, ["--oracle", "script:" + Answers, "--no-cache", .. ctx]);
        Assert.True(code == 0, err);
        Assert.Equal(output, stdout);
        Assert.Equal((rounds.ToString(), questions.ToString(), batches.ToString()), (stats["rounds"], stats["questions"], stats["batches"]));
    }

    [Fact]
    public void DroppedSitesAreCountedAsSkipped()
    {
        var (code, stdout, stats, _) = Run("def pick(a, b) = b\npick(∿lov[joy, pai], 7)", "--oracle", "script:" + Answers, "--no-cache");
        Assert.Equal(0, code);
        Assert.Equal("7", stdout);
        // The question is never inspected, so it is never asked (nor even parked).
        Assert.Equal("0", stats["questions"]);
    }

    [Fact]
    public void TheLexiconAndTheDefaultSemanticOracleAnswerOffline()
    {
        var (code, stdout, stats, _) = Run("@now ∿lov[joy, pai, hop]", "--context", "now=present_moment", "--no-cache", "--oracle", "lexicon");
        Assert.Equal(0, code);
        Assert.Equal("joy@now", stdout);
        Assert.Equal("1", stats["questions"]);
        // The default (issue 12): no candidate matches a context word, so the embeddings decide.
        (code, stdout, stats, _) = Run("@now ∿lov[joy, pai, hop]", "--context", "now=present_moment", "--no-cache");
        Assert.Equal(0, code);
        Assert.Equal("hop@now", stdout);
        Assert.Equal("1", stats["questions"]);
    }

    [Fact]
    public void AnOracleThatRefusesEverythingEndsWithAClearError()
    {
        string script = TestUtil.TempFile("{}", ".json");
        try
        {
            var (code, _, _, err) = Run("fir[∿lov[joy, pai], ∿mov[run, sit]]", "--oracle", "script:" + script, "--no-cache", "--on-invalid", "retry");
            Assert.Equal(1, code);
            Assert.Contains("F.lmn:1:", err);
            Assert.Contains("error: no valid answer for ∿lov[joy, pai]", err);
            Assert.Contains("has no answer for ∿lov[joy, pai]", err);
        }
        finally { File.Delete(script); }
    }

    [Fact]
    public void AnswerNotACandidateFailsNamingTheSite()
    {
        string script = TestUtil.TempFile("""{"∿lov[joy, pai]": "hop"}""", ".json");
        try
        {
            var (code, _, _, err) = Run("∿lov[joy, pai]", "--oracle", "script:" + script, "--no-cache");
            Assert.Equal(1, code);
            Assert.Contains("F.lmn:1:1: error: no valid answer for ∿lov[joy, pai] (amb#1): `hop` is not one of the candidates joy, pai", err);
            var (code2, out2, _, _) = Run("∿lov[joy, pai]", "--oracle", "script:" + script, "--no-cache", "--on-invalid", "first");
            Assert.Equal((0, "joy"), (code2, out2));
        }
        finally { File.Delete(script); }
    }

    [Fact]
    public void MinConfidenceAppliesThePolicy()
    {
        string script = TestUtil.TempFile("""{"∿lov[joy, pai]": {"substitution": "pai", "confidence": 0.2}}""", ".json");
        try
        {
            var (code, _, _, err) = Run("∿lov[joy, pai]", "--oracle", "script:" + script, "--no-cache", "--min-confidence", "0.5");
            Assert.Equal(1, code);
            Assert.Contains("confidence 0.2 is below --min-confidence 0.5", err);
        }
        finally { File.Delete(script); }
    }

    [Fact]
    public void RecursiveAmbiguityAsksTheNestedQuestion()
    {
        string script = TestUtil.TempFile("""{"∿lov[joy, pai]": "∿lov[pai, ang]", "∿lov[pai, ang]": "ang"}""", ".json");
        try
        {
            var (strict, _, _, err) = Run("∿lov[joy, pai]", "--oracle", "script:" + script, "--no-cache");
            Assert.Equal(1, strict);
            Assert.Contains("strict mode refuses", err);
            var (code, stdout, stats, err2) = Run("∿lov[joy, pai]", "--oracle", "script:" + script, "--no-cache", "--ambiguity", "recursive[2]");
            Assert.True(code == 0, err2);
            Assert.Equal("ang", stdout);
            Assert.Equal("2", stats["questions"]);
        }
        finally { File.Delete(script); }
    }

    [Fact]
    public void LazyAmbiguityAsksAnAnswersQuestionsOnlyIfNeeded()
    {
        string script = TestUtil.TempFile("""{"∿lov[joy, pai]": "fir[∿lov[pai, ang], ∿mov[run, sit]]", "∿lov[pai, ang]": "ang", "∿mov[run, sit]": "run"}""", ".json");
        try
        {
            var all = Run("∿lov[joy, pai]", "--oracle", "script:" + script, "--no-cache", "--ambiguity", "lazy");
            Assert.True(all.Code == 0, all.Err);
            Assert.Equal(("fir[ang, run]", "3", "2"), (all.Out, all.Stats["questions"], all.Stats["rounds"]));
            // Only the second field is used: the first question in the answer is never asked.
            var one = Run("match ∿lov[joy, pai] { fir[a, b] => b; _ => sad }", "--oracle", "script:" + script, "--no-cache", "--ambiguity", "lazy");
            Assert.True(one.Code == 0, one.Err);
            Assert.Equal(("run", "2", "1"), (one.Out, one.Stats["questions"], one.Stats["skipped"]));
        }
        finally { File.Delete(script); }
    }

    [Fact]
    public void SecondRunAsksNothingAndAChangedAnchorReasksOnlyItsSites()
    {
        string dir = Path.Combine(Path.GetTempPath(), "lmn-cache-" + Guid.NewGuid().ToString("N"));
        try
        {
            // One site sees the local anchor @k, the other does not.
            string program = "fir[let @k = hop; ∿lov[joy, pai], ∿mov[run, sit]]";
            string[] opts = ["--oracle", "script:" + Answers, "--cache-dir", dir];
            var first = Run(program, opts);
            Assert.Equal(("fir[joy, run]", "2", "0"), (first.Out, first.Stats["questions"], first.Stats["cache_hits"]));
            var second = Run(program, opts);
            Assert.Equal(("fir[joy, run]", "0", "2"), (second.Out, second.Stats["questions"], second.Stats["cache_hits"]));
            var changed = Run(program.Replace("@k = hop", "@k = sad"), opts);
            Assert.Equal(("fir[joy, run]", "1", "1"), (changed.Out, changed.Stats["questions"], changed.Stats["cache_hits"]));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void TranscriptResumesAndReplays()
    {
        string transcript = Path.Combine(Path.GetTempPath(), "lmn-t-" + Guid.NewGuid().ToString("N") + ".jsonl");
        try
        {
            string program = "[joy, pai, hop] → map(\\e. ∿lov[e, calm])";
            var first = Run(program, "--oracle", "script:" + Answers, "--no-cache", "--transcript", transcript);
            Assert.Equal(("[joy, calm, hop]", "3"), (first.Out, first.Stats["questions"]));
            // Rerun with the same transcript (as after a kill -9): nothing is asked again.
            var again = Run(program, "--oracle", "script:" + Answers, "--no-cache", "--transcript", transcript);
            Assert.Equal(("[joy, calm, hop]", "0", "3"), (again.Out, again.Stats["questions"], again.Stats["cache_hits"]));
            // The replay oracle answers from the transcript alone.
            var replay = Run(program, "--oracle", "replay:" + transcript, "--no-cache");
            Assert.Equal("[joy, calm, hop]", replay.Out);
            var missing = Run("∿lov[joy, ang]", "--oracle", "replay:" + transcript, "--no-cache");
            Assert.Equal(1, missing.Code);
            Assert.Contains("nearest recorded question: ∿lov[joy, calm]", missing.Err);
        }
        finally { File.Delete(transcript); }
    }

    [Fact]
    public void SameProgramAndTranscriptGiveByteIdenticalOutputAtAnyThreadCount()
    {
        string transcript = Path.Combine(Path.GetTempPath(), "lmn-t-" + Guid.NewGuid().ToString("N") + ".jsonl");
        try
        {
            string program = "def go(n) = match n { 0 => []; 1+p => [∿lov[joy, pai, hop], ...go(p)] }\n[go(6), fir[∿mov[run, sit], @now ∿lov[joy, pai]]]";
            string[] opts = ["--context", "now=present_moment", "--no-cache", "--transcript", transcript];
            var reference = Run(program, opts);
            Assert.Equal(0, reference.Code);
            foreach (string threads in new[] { "1", Environment.ProcessorCount.ToString(), "8" })
                for (int i = 0; i < 20; i++)
                {
                    var r = Run(program, [.. opts, "--threads", threads]);
                    Assert.Equal(reference.Out, r.Out);
                    Assert.Equal("0", r.Stats["questions"]);
                }
        }
        finally { File.Delete(transcript); }
    }
}

/// <summary>Spans per round and the cache-hit counter, under the "Lmn.Oracles" source and meter.</summary>
public class SupervisorTelemetryTests
{
    [Fact]
    public async Task OneSpanPerRoundAndCacheHitsCounted()
    {
        var spans = new System.Collections.Concurrent.ConcurrentQueue<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = src => src.Name == Lmn.Oracles.OracleTelemetry.Name,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        long hits = 0;
        using var meters = new System.Diagnostics.Metrics.MeterListener();
        meters.InstrumentPublished = (inst, l) => { if (inst.Name == "lmn.oracle.cache_hits") l.EnableMeasurementEvents(inst); };
        meters.SetMeasurementEventCallback<long>((inst, value, tags, _) =>
        {
            foreach (var t in tags) if (t.Key == Lmn.Oracles.OracleTelemetry.OracleName && (string?)t.Value == "telemetry-script-oracle") Interlocked.Add(ref hits, value);
        });
        meters.Start();

        var diags = new List<Lmn.Text.Diagnostic>();
        var prog = Lmn.Language.LmnDriver.Compile(new Lmn.Text.SourceText("t.lmn", "∿lov[joy, ∿lov[pai, ang]]\n"), diags)!;
        var oracle = new Tests.Oracles.FakeOracle(r => new Lmn.Oracles.OracleResponse(r.AmbNodeId, r.Args[0], new Lmn.Oracles.OracleMetadata()), "telemetry-script-oracle");
        var cache = new Lmn.Oracles.OracleCache(null);
        for (int run = 0; run < 2; run++)
        {
            var pipeline = new Lmn.Oracles.OraclePipeline(oracle, new Lmn.Language.LmnTermChecker(Lmn.Words.Lexicon.Default), cache: cache);
            var r = await new Lmn.Runtime.Supervisor(prog, pipeline, new Lmn.Runtime.SupervisorOptions()).RunAsync(CancellationToken.None);
            Assert.Equal("joy", r.Output);
        }
        Assert.Equal(4, spans.Count(a => a.DisplayName.StartsWith("lmn round ", StringComparison.Ordinal) && (string?)a.GetTagItem(Lmn.Oracles.OracleTelemetry.OracleName) == "telemetry-script-oracle"));
        Assert.Equal(2, Interlocked.Read(ref hits)); // the second run: both questions from the cache
    }
}

/// <summary>A run killed with SIGKILL mid-way resumes from its transcript without asking again.</summary>
public class KillResumeTests
{
    [Fact]
    public void RerunAfterKillAsksOnlyWhatWasNotAnswered()
    {
        string dir = Path.Combine(Path.GetTempPath(), "lmn-kill-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string program = Path.Combine(dir, "p.lmn");
            File.WriteAllText(program, "∿lov[joy, ∿lov[pai, ang]]\n");
            string transcript = Path.Combine(dir, "t.jsonl");
            // A process oracle that answers the first round, then hangs on the second.
            string oracle = Path.Combine(dir, "oracle.py");
            File.WriteAllText(oracle, """
                import sys, json, time
                n = 0
                for line in sys.stdin:
                    msg = json.loads(line)
                    reqs = [msg["oracle_request"]] if "oracle_request" in msg else msg["parallel_requests"]
                    n += 1
                    if n > 1:
                        time.sleep(3600)
                    out = [{"oracle_response": {"amb_node_id": r["amb_node_id"], "substitution": r["args"][0], "metadata": {"confidence": 1}}} for r in reqs]
                    print(json.dumps(out[0] if len(out) == 1 else {"parallel_responses": out}), flush=True)
                """);
            var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "Lmn.Cli.dll"), "run", program, "--oracle", "exec:python3 " + oracle, "--transcript", transcript, "--no-cache" })
                psi.ArgumentList.Add(a);
            using var child = System.Diagnostics.Process.Start(psi)!;
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (DateTime.UtcNow < deadline && !(File.Exists(transcript) && File.ReadAllText(transcript).Contains("\"type\":\"response\"")))
                Thread.Sleep(50);
            Assert.True(File.ReadAllText(transcript).Contains("\"type\":\"response\""), "the first answer never reached the transcript");
            Thread.Sleep(300); // the second round's question is on its way to the hanging oracle
            child.Kill(entireProcessTree: true); // SIGKILL: no cleanup runs
            child.WaitForExit();

            string answers = Path.Combine(TestUtil.RepoRoot, "examples", "answers.json");
            var (code, stdout, stderr) = TestUtil.Cli("run", program, "--oracle", "script:" + answers, "--transcript", transcript, "--no-cache", "-s", "-q");
            Assert.True(code == 0, stderr);
            Assert.Equal("joy", stdout.Trim());
            Assert.True(stderr.Contains("questions: 1\n") && stderr.Contains("cache_hits: 1\n"), stderr + "\n" + File.ReadAllText(transcript));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}

/// <summary>`lmn run` escalating a low-confidence answer to a person whose answers come on stdin.</summary>
public class HumanEscalationRunTests
{
    [Fact]
    public async Task LowConfidenceGoesToThePipedHuman()
    {
        string dir = Path.Combine(Path.GetTempPath(), "lmn-human-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string program = Path.Combine(dir, "p.lmn");
            File.WriteAllText(program, "∿lov[joy, pai]\n");
            string script = Path.Combine(dir, "s.json");
            File.WriteAllText(script, """{"∿lov[joy, pai]": {"substitution": "joy", "confidence": 0.2}}""");
            var psi = new System.Diagnostics.ProcessStartInfo("dotnet")
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "Lmn.Cli.dll"), "run", program, "--oracle", "script:" + script,
                                      "--min-confidence", "0.5", "--escalate", "human", "--no-cache", "-s", "-q" })
                psi.ArgumentList.Add(a);
            using var p = System.Diagnostics.Process.Start(psi)!;
            p.StandardInput.WriteLine("2"); // the second candidate
            p.StandardInput.Close();
            var errTask = p.StandardError.ReadToEndAsync();
            string output = await p.StandardOutput.ReadToEndAsync();
            await p.WaitForExitAsync();
            string err = await errTask;
            Assert.True(p.ExitCode == 0, err);
            Assert.Equal("pai", output.Trim());
            Assert.Contains("joy", err);          // the question was shown with its candidates
            Assert.Contains("questions: 1\n", err);
        }
        finally { Directory.Delete(dir, true); }
    }
}

/// <summary>The request's reduction_trace: the chain of definitions from main to the site.</summary>
public class ReductionTraceTests
{
    [Fact]
    public async Task ChainFromMainToTheSite()
    {
        var diags = new List<Lmn.Text.Diagnostic>();
        var prog = Lmn.Language.LmnDriver.Compile(new Lmn.Text.SourceText("t.lmn",
            "def feel(x) = ∿lov[x, calm]\ndef map_over_states(xs) = map(feel, xs)\nmap_over_states([joy, pai])\n"), diags)!;
        var seen = new List<Lmn.Oracles.OracleRequest>();
        var oracle = new Tests.Oracles.FakeOracle(r => { lock (seen) seen.Add(r); return new Lmn.Oracles.OracleResponse(r.AmbNodeId, r.Args[0], new Lmn.Oracles.OracleMetadata()); });
        var pipeline = new Lmn.Oracles.OraclePipeline(oracle, new Lmn.Language.LmnTermChecker(Lmn.Words.Lexicon.Default));
        var r = await new Lmn.Runtime.Supervisor(prog, pipeline, new Lmn.Runtime.SupervisorOptions()).RunAsync(CancellationToken.None);
        Assert.Equal("[joy, pai]", r.Output);
        Assert.All(seen, q => Assert.Equal(["main", "map_over_states", "feel"], q.ReductionTrace));
    }
}
