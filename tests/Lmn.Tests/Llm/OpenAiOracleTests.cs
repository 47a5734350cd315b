using Lmn.Oracles;
using static Lmn.Tests.Llm.LlmTestUtil;

namespace Lmn.Tests.Llm;

/// <summary>The OpenAI-compatible resolver against a fake chat completions API.</summary>
public class OpenAiOracleTests
{
    [Fact]
    public async Task GoodAnswerWithJsonSchema()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Enqueue(new Scripted(200, Wire.OpenAiCompletion(Wire.Answer("joy", 0.8, "joy fits @now"), 150, 30)));
        var oracle = NewOpenAi(s);
        var a = Answer(await oracle.AskAsync([Request()], CancellationToken.None));
        Assert.Equal("joy", a.Substitution);
        Assert.Equal(0.8, a.Metadata.Confidence, 3);
        Assert.Equal("gpt-4o-mini-2024-07-18", a.Metadata.Model);
        Assert.Equal(180, a.Metadata.TokensUsed);
        Assert.StartsWith("openai:gpt-4o-mini;prompt=", oracle.Identity);

        var req = Assert.Single(s.Requests);
        Assert.Equal("/v1/chat/completions", req.Path);
        Assert.Equal("Bearer " + OpenAiKey, req.Headers["authorization"]);
        var body = req.Json;
        Assert.Equal("gpt-4o-mini", body.GetProperty("model").GetString());
        Assert.Equal("system", body.GetProperty("messages")[0].GetProperty("role").GetString());
        Assert.Contains("∿lov[joy, pai, hop]", body.GetProperty("messages")[1].GetProperty("content").ToString());
        var format = body.GetProperty("response_format");
        Assert.Equal("json_schema", format.GetProperty("type").GetString());
        Assert.True(format.GetProperty("json_schema").GetProperty("strict").GetBoolean());
        Assert.Equal(3, format.GetProperty("json_schema").GetProperty("schema").GetProperty("properties").GetProperty("substitution").GetProperty("enum").GetArrayLength());
    }

    [Fact]
    public async Task TextFormatAnswerIsRead()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Enqueue(new Scripted(200, Wire.OpenAiCompletion("Selected term: hop\nConfidence: 0.7\nReasoning: anticipation\nAlternatives considered: joy, pai")));
        var a = Answer(await NewOpenAi(s).AskAsync([Request()], CancellationToken.None));
        Assert.Equal("hop", a.Substitution);
        Assert.Equal(0.7, a.Metadata.Confidence, 3);
        Assert.Equal(["joy", "pai"], a.Metadata.AlternativesConsidered);
    }

    [Fact]
    public async Task RateLimitWithRetryAfterMs()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Enqueue(
            new Scripted(429, Wire.OpenAiError("Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3, Used 3, Requested 1.", "requests", "rate_limit_exceeded"),
                Wire.H(("retry-after-ms", "150"), ("x-ratelimit-remaining-requests", "0"))),
            new Scripted(200, Wire.OpenAiCompletion(Wire.Answer("pai"))));
        var events = new RecordingOracleEvents();
        var a = Answer(await NewOpenAi(s, events: events).AskAsync([Request()], CancellationToken.None));
        Assert.Equal("pai", a.Substitution);
        var retry = Assert.Single(events.OfKind(OracleEventKind.Retry));
        Assert.Equal(TimeSpan.FromMilliseconds(150), retry.Delay);
        Assert.Equal(429, retry.Status);
    }

    [Fact]
    public async Task InsufficientQuotaIsNeverRetried()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Responder = _ => new Scripted(429, Wire.OpenAiError("You exceeded your current quota, please check your plan and billing details.", "insufficient_quota", "insufficient_quota"));
        var e = Error(await NewOpenAi(s).AskAsync([Request()], CancellationToken.None));
        Assert.Equal("refused", e.Kind);
        Assert.Contains("exceeded your current quota", e.Message);
        Assert.Single(s.Requests);
    }

    [Fact]
    public async Task ServerErrorThenAnswer()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Enqueue(
            new Scripted(500, Wire.OpenAiError("The server had an error while processing your request. Sorry about that!", "server_error", null)),
            new Scripted(502, "<html><body>Bad gateway</body></html>"),
            new Scripted(200, Wire.OpenAiCompletion(Wire.Answer("joy"))));
        var a = Answer(await NewOpenAi(s).AskAsync([Request()], CancellationToken.None));
        Assert.Equal("joy", a.Substitution);
        Assert.Equal(3, s.Requests.Count);
    }

    [Fact]
    public async Task ContextLengthExceededRetriesReduced()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Enqueue(
            new Scripted(400, Wire.OpenAiError("This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.", "invalid_request_error", "context_length_exceeded")),
            new Scripted(200, Wire.OpenAiCompletion(Wire.Answer("joy"))));
        var a = Answer(await NewOpenAi(s).AskAsync([Request()], CancellationToken.None));
        Assert.Equal("joy", a.Substitution);
        Assert.DoesNotContain("map_over_states", s.Requests[1].Body);
    }

    [Fact]
    public async Task MalformedCompletionIsRetried()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Enqueue(
            new Scripted(200, "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":"),
            new Scripted(200, Wire.OpenAiCompletion(Wire.Answer("hop"))));
        var a = Answer(await NewOpenAi(s).AskAsync([Request()], CancellationToken.None));
        Assert.Equal("hop", a.Substitution);
        Assert.Equal(2, s.Requests.Count);
    }

    [Fact]
    public async Task LocalServerWithoutKeyAndWithoutJsonSchema()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Enqueue(new Scripted(200, Wire.OpenAiCompletion("```json\n" + Wire.Answer("joy") + "\n```")));
        var oracle = new Lmn.Llm.OpenAiOracle(Options("llama3.2") with { JsonSchema = false }, apiKey: null, s.Url + "/v1");
        Assert.Equal("joy", Answer(await oracle.AskAsync([Request()], CancellationToken.None)).Substitution);
        Assert.False(s.Requests[0].Json.TryGetProperty("response_format", out _));
    }
}
