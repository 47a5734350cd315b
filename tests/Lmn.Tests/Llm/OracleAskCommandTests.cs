using Lmn.Cli;
using Lmn.Llm;
using Lmn.Oracles;
using static Lmn.Tests.Llm.LlmTestUtil;

namespace Lmn.Tests.Llm;

/// <summary>`lmn oracle-ask` end to end: request file in, protocol response out.</summary>
public class OracleAskCommandTests
{
    internal static OracleEnvironment Env(string input = "", string? anthropicKey = AnthropicKey, string? openAiKey = null) => new()
    {
        HumanInput = new StringReader(input),
        HumanOutput = new StringWriter(),
        Log = new StringWriter(),
        GetEnvironmentVariable = n => n == "ANTHROPIC_API_KEY" ? anthropicKey : n == "OPENAI_API_KEY" ? openAiKey : null,
        TuneResilience = r => Fast(r.Timeout, r.MaxRetries),
    };

    internal static (int Code, string Out, string Err) Ask(OracleEnvironment env, params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = OracleAskCommand.Execute(args, o, e, env with { HumanOutput = env.HumanOutput == Console.Error ? e : env.HumanOutput });
        return (code, o.ToString(), e.ToString());
    }

    private static string RequestFile(params OracleRequest[] rs) => TestUtil.TempFile(OracleJson.Serialize(rs), ".json");

    [Fact]
    public async Task AnthropicEndToEnd()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Enqueue(new Scripted(200, Wire.AnthropicMessage(Wire.Answer("joy", 0.9, "now", "pai"))));
        var (code, stdout, stderr) = Ask(Env(), "--oracle", "anthropic", "--base-url", s.Url, "--request", RequestFile(Request()), "--events");
        Assert.Equal(0, code);
        var result = Answer(OracleJson.ParseResults(stdout));
        Assert.Equal("joy", result.Substitution);
        Assert.StartsWith("{\"oracle_response\":{\"amb_node_id\":\"amb#42\",\"substitution\":\"joy\"", stdout);
        Assert.Contains("\"event\":\"attempt\"", stderr);
        Assert.Contains("\"event\":\"response\"", stderr);
    }

    [Fact]
    public async Task OpenAiBatchWithAMissingAnswerExitsOne()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Enqueue(new Scripted(200, Wire.OpenAiCompletion(Wire.Batch(("b", "pai", 0.9)))));
        var (code, stdout, stderr) = Ask(Env(), "--oracle", "openai", "--base-url", s.Url + "/v1", "--batch", "--request", RequestFile(Request("a"), Request("b")));
        Assert.Equal(1, code);
        var results = OracleJson.ParseResults(stdout);
        Assert.Equal("invalid", Error(results, 0).Kind);
        Assert.Equal("pai", Answer(results, 1).Substitution);
        Assert.Contains("the oracle could not answer (invalid)", stderr);
    }

    [Fact]
    public async Task ValidationVerdictsGoToStderr()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Enqueue(new Scripted(200, Wire.AnthropicMessage(Wire.Answer("sad"))));
        var (code, _, stderr) = Ask(Env(), "--oracle", "anthropic", "--base-url", s.Url, "--request", RequestFile(Request()));
        Assert.Equal(1, code);
        Assert.Contains("not one of the candidates joy, pai, hop", stderr);
    }

    [Fact]
    public void HumanAndExecOracles()
    {
        var (code, stdout, _) = Ask(Env("3\n"), "--oracle", "human", "--request", RequestFile(Request()));
        Assert.Equal(0, code);
        Assert.Equal("hop", Answer(OracleJson.ParseResults(stdout)).Substitution);

        string script = TestUtil.TempFile("""
            import json, sys
            for line in sys.stdin:
                r = json.loads(line)["oracle_request"]
                print(json.dumps({"oracle_response": {"amb_node_id": r["amb_node_id"], "substitution": r["args"][1], "metadata": {"confidence": 0.9}}}), flush=True)
            """, ".py");
        (code, stdout, _) = Ask(Env(), "--oracle", "exec:python3 " + script, "--request", RequestFile(Request()));
        Assert.Equal(0, code);
        Assert.Equal("pai", Answer(OracleJson.ParseResults(stdout)).Substitution);
    }

    [Fact]
    public void CrashingProcessExitsOneWithTheLastRequest()
    {
        string script = TestUtil.TempFile("read line\nexit 9\n", ".sh");
        var (code, _, stderr) = Ask(Env(), "--oracle", "exec:bash " + script, "--request", RequestFile(Request()));
        Assert.Equal(1, code);
        Assert.Contains("exited with status 9", stderr);
        Assert.Contains("amb#42", stderr);
    }

    [Theory]
    [InlineData(2, "--request FILE.json is required", "--oracle", "human")]
    [InlineData(2, "unknown option '--frobnicate'", "--oracle", "human", "--frobnicate")]
    [InlineData(2, "unknown oracle", "--oracle", "nope", "--request", "x.json")]
    [InlineData(1, "is built by the oracle pipeline", "--oracle", "lexicon", "--request", "REQ")]
    [InlineData(1, "set ANTHROPIC_API_KEY", "--oracle", "anthropic", "--request", "REQ")]
    [InlineData(1, "missing required key \"expression\"", "--oracle", "human", "--request", "BAD")]
    public void Failures(int expected, string message, params string[] args)
    {
        string req = RequestFile(Request());
        string bad = TestUtil.TempFile("{\"oracle_request\": {\"amb_node_id\": \"a\", \"kind\": \"choice\"}}", ".json");
        args = args.Select(a => a == "REQ" ? req : a == "BAD" ? bad : a).ToArray();
        var (code, _, stderr) = Ask(Env(anthropicKey: null), args);
        Assert.Equal(expected, code);
        Assert.Contains(message, stderr);
    }
}
