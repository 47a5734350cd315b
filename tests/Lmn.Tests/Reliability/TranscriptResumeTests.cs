using System.Diagnostics;
using Lmn.Oracles;

namespace Lmn.Tests.Reliability;

/// <summary>
/// Issue 11, item 4, the kill -9 / resume test extended: a run killed mid-way, a torn last line, then two
/// more runs; and two runs on one transcript.
/// </summary>
public class TranscriptResumeTests
{

    // Three dependent questions: each one's candidates hold the answer of the one inside it.
    private const string Nested = "∿lov[joy, ∿lov[pai, ∿lov[ang, joy]]]\n";

    private static Dictionary<string, string> Stats(string stderr) =>
        stderr.Split('\n').Select(l => l.Split(": ", 2)).Where(p => p.Length == 2).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.Last()[1].Trim());

    private static Process StartHanging(string program, string oracle, string transcript, int hangAfter)
    {
        var p = Process.Start(CliProcess.StartInfo(["run", program, "--oracle", $"exec:python3 {oracle} {hangAfter}", "--transcript", transcript, "--no-cache"]))!;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        string want = hangAfter == 0 ? "\"type\":\"request\"" : "\"type\":\"response\"";
        while (DateTime.UtcNow < deadline && !(File.Exists(transcript) && File.ReadAllText(transcript).Contains(want)))
            Thread.Sleep(50);
        Assert.True(File.ReadAllText(transcript).Contains(want), "the run never got that far: " + File.ReadAllText(transcript));
        Thread.Sleep(300); // the next question is on its way to the hanging oracle
        return p;
    }

    [Fact]
    public void TornTailThenTwoMoreRuns()
    {
        string dir = CliProcess.TempDir();
        try
        {
            string program = Path.Combine(dir, "p.lmn"), oracle = Path.Combine(dir, "oracle.py"), transcript = Path.Combine(dir, "t.jsonl");
            File.WriteAllText(program, Nested);
            File.WriteAllText(oracle, TestUtil.FirstCandidateOracle);
            using (var child = StartHanging(program, oracle, transcript, hangAfter: 1))
            {
                child.Kill(entireProcessTree: true); // SIGKILL: no cleanup runs
                child.WaitForExit();
            }
            // The kill came in the middle of a line: half a line, no newline.
            File.AppendAllText(transcript, "{\"ts\":\"2026-01-01T00:00:00Z\",\"run\":\"run-x\",\"type\":\"resp");

            string[] rerun = ["run", program, "--oracle", "exec:python3 " + oracle, "--transcript", transcript, "--no-cache", "-s", "-q"];
            var (code, stdout, stderr) = TestUtil.Cli(rerun);
            Assert.True(code == 0, stderr + "\n" + File.ReadAllText(transcript));
            Assert.Equal("joy", stdout.Trim());
            var s = Stats(stderr);
            Assert.Equal("2", s["questions"]);   // exactly the two unanswered
            Assert.Equal("1", s["cache_hits"]);
            string text = File.ReadAllText(transcript);
            Assert.Contains("\"type\":\"repair\"", text);
            Assert.DoesNotContain("\"type\":\"resp{", text);

            (code, stdout, stderr) = TestUtil.Cli(rerun);
            Assert.True(code == 0, stderr + "\n" + File.ReadAllText(transcript));
            Assert.Equal("joy", stdout.Trim());
            s = Stats(stderr);
            Assert.Equal("0", s["questions"]);
            Assert.Equal("3", s["cache_hits"]);
            // Every line is whole and reads back.
            Assert.All(File.ReadAllLines(transcript), l => Assert.StartsWith("{\"ts\":", l));
            Assert.EndsWith("\n", File.ReadAllText(transcript));
            Assert.NotEmpty(Transcript.Read(transcript));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ASecondWriterIsRefused()
    {
        string dir = CliProcess.TempDir();
        try
        {
            string program = Path.Combine(dir, "p.lmn"), oracle = Path.Combine(dir, "oracle.py"), transcript = Path.Combine(dir, "t.jsonl");
            File.WriteAllText(program, Nested);
            File.WriteAllText(oracle, TestUtil.FirstCandidateOracle);
            using (var first = StartHanging(program, oracle, transcript, hangAfter: 0))
            {
                try
                {
                    long before = new FileInfo(transcript).Length;
                    var (code, _, stderr) = TestUtil.Cli("run", program, "--oracle", "exec:python3 " + oracle, "--transcript", transcript, "--no-cache", "-q");
                    Assert.Equal(1, code);
                    Assert.Contains($"--transcript {transcript}: another lmn run is writing this transcript", stderr);
                    Assert.Equal(before, new FileInfo(transcript).Length); // not a byte written
                }
                finally
                {
                    first.Kill(entireProcessTree: true);
                    first.WaitForExit();
                }
            }
            // The lock dies with its process: the next run resumes.
            var (c2, out2, err2) = TestUtil.Cli("run", program, "--oracle", "exec:python3 " + oracle, "--transcript", transcript, "--no-cache", "-q");
            Assert.True(c2 == 0, err2);
            Assert.Equal("joy", out2.Trim());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void TornTailIsCutWhenOpened()
    {
        string path = TestUtil.TempFile("", ".jsonl");
        try
        {
            using (var t = new Transcript(path, "run-1")) t.Write(Transcript.Request, "k", null, null, "one");
            File.AppendAllText(path, "{\"ts\":\"20");
            using (var t = new Transcript(path, "run-2"))
            {
                Assert.Equal(9, t.TornBytes);
                Assert.Equal(2, t.ReadExisting().Count); // the first line and the repair line
                t.Write(Transcript.Request, "k2", null, null, "two");
            }
            var all = Transcript.Read(path);
            Assert.Equal(["request", "repair", "request"], all.Select(e => e.Type));
        }
        finally { File.Delete(path); }
    }
}
