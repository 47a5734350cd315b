using System.Collections.Concurrent;
using System.Diagnostics;
using Lmn.Oracles;
using static Lmn.Tests.Llm.LlmTestUtil;

namespace Lmn.Tests.Llm;

/// <summary>The API key never appears in output, logs, error messages, events or spans, even when a server echoes it.</summary>
public class SecretRedactionTests
{
    private static readonly string[] KeyParts = ["TESTKEY-0123456789abcdef", "TESTKEY-9876543210fedcba"];

    private static void AssertClean(string text, string where)
    {
        foreach (var part in KeyParts) Assert.False(text.Contains(part, StringComparison.Ordinal), $"the key leaked into {where}: {text}");
    }

    /// <summary>Replies that quote the caller's Authorization header back, as a careless proxy might.</summary>
    private static Func<Recorded, Scripted> Echoing(int status, bool anthropic) => r =>
    {
        string auth = r.Headers.GetValueOrDefault("authorization") ?? r.Headers.GetValueOrDefault("x-api-key") ?? "";
        string msg = $"invalid credentials: {auth} (key {auth.Replace("Bearer ", "")})";
        return status == 200
            ? new Scripted(200, anthropic ? Wire.AnthropicMessage(Wire.Answer("joy", 0.9, "the key was " + auth)) : Wire.OpenAiCompletion(Wire.Answer("joy", 0.9, "the key was " + auth)))
            : new Scripted(status, anthropic ? Wire.AnthropicError(status == 401 ? "authentication_error" : "api_error", msg) : Wire.OpenAiError(msg, "invalid_request_error", "invalid_api_key"));
    };

    [Theory]
    [InlineData(401, true)]
    [InlineData(500, true)]
    [InlineData(200, true)]
    [InlineData(401, false)]
    [InlineData(503, false)]
    [InlineData(200, false)]
    public async Task NeverInResultsEventsOrSpans(int status, bool anthropic)
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Responder = Echoing(status, anthropic);
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = src => src.Name == OracleTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var events = new RecordingOracleEvents();
        var opts = Options(anthropic ? "claude-sonnet-4-5" : "gpt-4o-mini", Fast(retries: 1));
        IOracle oracle = anthropic ? NewAnthropic(s, opts, events) : NewOpenAi(s, opts, events);
        var results = await oracle.AskAsync([Request()], CancellationToken.None);

        Assert.NotEmpty(s.Requests);
        AssertClean(OracleJson.Serialize(results), "the results");
        foreach (var e in events.Events) AssertClean(e.ToJson(), "an event");
        foreach (var a in spans)
        {
            AssertClean(a.StatusDescription ?? "", "a span status");
            foreach (var t in a.TagObjects) AssertClean(t.Value?.ToString() ?? "", "a span tag");
        }
    }

    [Fact]
    public async Task NeverInTheCommandsOutput()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Responder = Echoing(401, true);
        string req = TestUtil.TempFile(OracleJson.Serialize(Request()), ".json");
        var (code, stdout, stderr) = OracleAskCommandTests.Ask(OracleAskCommandTests.Env(), "--oracle", "anthropic", "--base-url", s.Url, "--request", req, "--events", "--escalate", "human");
        Assert.Equal(1, code);
        Assert.Contains("HTTP 401", stderr);
        AssertClean(stdout, "stdout");
        AssertClean(stderr, "stderr");
    }

    [Fact]
    public void RedactorRemovesKnownAndKeyShapedSecrets()
    {
        var r = new Redactor("my-secret-value");
        Assert.Equal("a [redacted] b", r.Redact("a my-secret-value b"));
        Assert.Equal("key [redacted] here", Redactor.None.Redact("key sk-proj-abcdefgh12345678 here"));
        Assert.Equal("Authorization: Bearer [redacted]", Redactor.None.Redact("Authorization: Bearer abcdefghijklmnop"));
        Assert.Equal("plain text", r.Redact("plain text"));
    }
}
