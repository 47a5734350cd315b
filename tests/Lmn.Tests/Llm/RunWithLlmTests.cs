namespace Lmn.Tests.Llm;

/// <summary>`lmn run FILE.lmn --oracle openai|anthropic` end to end against the fake servers.</summary>
public class RunWithLlmTests
{
    private static Scripted Reply(Recorded r, bool anthropic)
    {
        string answer = r.Body.Contains("∿mov") ? "run" : "joy";
        return new Scripted(200, anthropic ? Wire.AnthropicMessage(Wire.Answer(answer, 0.9)) : Wire.OpenAiCompletion(Wire.Answer(answer, 0.9)));
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    public async Task SupervisorAsksTheModelAndGraftsItsAnswers(string provider)
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Responder = r => Reply(r, provider == "anthropic");
        string program = TestUtil.TempFile("fir[∿lov[joy, pai], ∿mov[run, sit]]\n", ".lmn");
        string transcript = Path.ChangeExtension(program, ".jsonl");
        try
        {
            string baseUrl = provider == "openai" ? s.Url + "/v1" : s.Url;
            var env = provider == "anthropic" ? "ANTHROPIC_API_KEY" : null;
            if (env != null && Environment.GetEnvironmentVariable(env) == null) Environment.SetEnvironmentVariable(env, "sk-ant-test-key-not-real");
            var (code, stdout, stderr) = TestUtil.Cli("run", program, "--oracle", provider, "--base-url", baseUrl, "--model", "m1",
                "--no-cache", "--transcript", transcript, "-s", "-q");
            Assert.True(code == 0, stderr);
            Assert.Equal("fir[joy, run]", stdout.Trim());
            Assert.Contains("questions: 2", stderr);
            Assert.Equal(2, s.Requests.Count);
            string t = File.ReadAllText(transcript);
            Assert.Contains("\"type\":\"response\"", t);
            Assert.Contains("\"event\":\"attempt\"", t);
            Assert.DoesNotContain("sk-ant-test-key-not-real", t);
            Assert.DoesNotContain("sk-ant-test-key-not-real", stderr);
        }
        finally
        {
            File.Delete(program);
            File.Delete(transcript);
        }
    }

    [Fact]
    public async Task BatchSendsOneCall()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Responder = r => new Scripted(200, Wire.OpenAiCompletion(Wire.Batch(("amb#1", "joy", 0.9), ("amb#2", "run", 0.9))));
        string program = TestUtil.TempFile("fir[∿lov[joy, pai], ∿mov[run, sit]]\n", ".lmn");
        try
        {
            var (code, stdout, stderr) = TestUtil.Cli("run", program, "--oracle", "openai", "--base-url", s.Url + "/v1", "--batch", "--no-cache", "-s", "-q");
            Assert.True(code == 0, stderr);
            Assert.Equal("fir[joy, run]", stdout.Trim());
            Assert.Single(s.Requests);
        }
        finally { File.Delete(program); }
    }
}
