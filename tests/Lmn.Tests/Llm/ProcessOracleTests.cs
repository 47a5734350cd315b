using Lmn.Oracles;
using static Lmn.Tests.Llm.LlmTestUtil;

namespace Lmn.Tests.Llm;

/// <summary>The process oracle with small python3 and bash programs.</summary>
public class ProcessOracleTests
{
    /// <summary>
    /// Answers every request with its first candidate (or a fixed term); logs to stderr. With an argument N
    /// it dies with status 3 on reading request N+1 (mid-run, with that request unanswered: not between
    /// requests, where the oracle would start it again).
    /// </summary>
    private const string FirstCandidate = """
        import json, sys
        n = 0
        for line in sys.stdin:
            n += 1
            if len(sys.argv) > 1 and n > int(sys.argv[1]):
                sys.exit(3)
            msg = json.loads(line)
            reqs = [msg["oracle_request"]] if "oracle_request" in msg else msg["parallel_requests"]
            print(f"got {len(reqs)} request(s)", file=sys.stderr, flush=True)
            out = [{"oracle_response": {"amb_node_id": r["amb_node_id"], "substitution": r["args"][0],
                    "metadata": {"confidence": 0.75, "alternatives_considered": r["args"][1:], "reasoning": "first", "model": "script", "tokens_used": 0}}}
                   for r in reversed(reqs)]
            print(json.dumps(out[0] if "oracle_request" in msg else {"parallel_responses": out}), flush=True)
        """;

    private static string Script(string text, string ext = ".py") => TestUtil.TempFile(text, ext);

    [Fact]
    public async Task AnswersOneRequestAndABatch()
    {
        var log = new StringWriter();
        await using var p = new ProcessOracle($"python3 {Script(FirstCandidate)}", log);
        Assert.Equal("joy", Answer(await p.AskAsync([Request()], CancellationToken.None)).Substitution);
        var batch = await p.AskAsync([Request("a", "x", "y"), Request("b", "u", "v")], CancellationToken.None);
        Assert.Equal("x", Answer(batch, 0).Substitution);
        Assert.Equal("u", Answer(batch, 1).Substitution);
        Assert.Equal(0.75, Answer(batch, 1).Metadata.Confidence);
        await Task.Delay(100);
        Assert.Contains("got 2 request(s)", log.ToString());
    }

    [Fact]
    public async Task CrashMidRunNamesTheLastRequestAndTheStatus()
    {
        var events = new RecordingOracleEvents();
        await using var p = new ProcessOracle($"python3 {Script(FirstCandidate)} 1", TextWriter.Null, events);
        Assert.Equal("joy", Answer(await p.AskAsync([Request("amb#1")], CancellationToken.None)).Substitution);
        var ex = await Assert.ThrowsAsync<OracleProcessException>(() => p.AskAsync([Request("amb#2")], CancellationToken.None));
        Assert.Equal(3, ex.ExitStatus);
        Assert.Contains("exited with status 3", ex.Message);
        Assert.Contains("\"amb_node_id\":\"amb#2\"", ex.Message);
        Assert.Contains("amb#2", ex.LastRequest);
        Assert.Contains(events.Events, e => e.Kind == OracleEventKind.Process && e.Status == 3);
    }

    [Fact]
    public async Task BashOracleThatDiesAtOnce()
    {
        await using var p = new ProcessOracle($"bash {Script("read line; echo 'dying' >&2; exit 7", ".sh")}");
        var ex = await Assert.ThrowsAsync<OracleProcessException>(() => p.AskAsync([Request()], CancellationToken.None));
        Assert.Equal(7, ex.ExitStatus);
        Assert.Contains("amb#42", ex.Message);
    }

    [Fact]
    public async Task MalformedReplyAndMissingAnswer()
    {
        const string script = """
            read line; echo 'this is not json'
            read line; echo '{"parallel_responses": [{"oracle_response": {"amb_node_id": "a", "substitution": "joy", "metadata": {"confidence": 1}}}]}'
            read line
            """;
        await using var p = new ProcessOracle($"bash {Script(script, ".sh")}");
        var e = Error(await p.AskAsync([Request()], CancellationToken.None));
        Assert.Equal("invalid", e.Kind);
        Assert.Contains("malformed reply", e.Message);
        var batch = await p.AskAsync([Request("a"), Request("b")], CancellationToken.None);
        Assert.Equal("joy", Answer(batch, 0).Substitution);
        Assert.Contains("no answer for b", Error(batch, 1).Message);
    }

    [Fact]
    public async Task NoAnswerInTimeIsATimeoutAndTheProcessRestarts()
    {
        string marker = Path.Combine(Path.GetTempPath(), "lmn-test-" + Guid.NewGuid().ToString("N"));
        string script = "if [ ! -f " + marker + " ]; then touch " + marker + "; sleep 30; fi\n" + """
            read line; echo '{"oracle_response": {"amb_node_id": "amb#42", "substitution": "hop", "metadata": {"confidence": 1}}}'
            read line
            """;
        await using var p = new ProcessOracle($"bash {Script(script, ".sh")}") { Timeout = TimeSpan.FromMilliseconds(500) };
        Assert.Equal("timeout", Error(await p.AskAsync([Request()], CancellationToken.None)).Kind);
        Assert.Equal("hop", Answer(await p.AskAsync([Request()], CancellationToken.None)).Substitution);
    }

    [Fact]
    public async Task ProgramThatDoesNotExist()
    {
        await using var p = new ProcessOracle("/nonexistent/oracle --flag");
        var ex = await Assert.ThrowsAsync<OracleProcessException>(() => p.AskAsync([Request()], CancellationToken.None));
        Assert.Contains("cannot start the oracle process '/nonexistent/oracle'", ex.Message);
    }

    [Theory]
    [InlineData("python3 my.py", new[] { "python3", "my.py" })]
    [InlineData("prog 'a b' \"c \\\"d\\\"\" e\\ f", new[] { "prog", "a b", "c \"d\"", "e f" })]
    [InlineData("  x  ", new[] { "x" })]
    public void SplitsCommandLines(string line, string[] words) => Assert.Equal(words, ProcessOracle.SplitCommandLine(line));
}
