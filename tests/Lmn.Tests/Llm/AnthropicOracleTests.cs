using System.Diagnostics;
using Lmn.Llm;
using Lmn.Oracles;
using static Lmn.Tests.Llm.LlmTestUtil;

namespace Lmn.Tests.Llm;

/// <summary>The Anthropic resolver against a fake Messages API: answers, faults and retries.</summary>
public class AnthropicOracleTests
{
    [Fact]
    public async Task GoodAnswer()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Enqueue(new Scripted(200, Wire.AnthropicMessage(Wire.Answer("joy", 0.92, "present moment favours joy", "pai", "hop"), 321, 45)));
        var events = new RecordingOracleEvents();
        var oracle = NewAnthropic(s, events: events);
        var results = await oracle.AskAsync([Request()], CancellationToken.None);

        var a = Answer(results);
        Assert.Equal("amb#42", a.AmbNodeId);
        Assert.Equal("joy", a.Substitution);
        Assert.Equal(0.92, a.Metadata.Confidence, 3);
        Assert.Equal(["pai", "hop"], a.Metadata.AlternativesConsidered);
        Assert.Equal("present moment favours joy", a.Metadata.Reasoning);
        Assert.Equal("claude-sonnet-4-5-20250929", a.Metadata.Model);
        Assert.Equal(366, a.Metadata.TokensUsed);

        var req = Assert.Single(s.Requests);
        Assert.Equal("/v1/messages", req.Path);
        Assert.True(req.Headers.ContainsKey("anthropic-version"));
        Assert.True(req.Headers.TryGetValue("x-api-key", out var key) ? key == AnthropicKey : req.Headers["authorization"] == "Bearer " + AnthropicKey);
        var body = req.Json;
        Assert.Equal("claude-sonnet-4-5", body.GetProperty("model").GetString());
        Assert.Contains("LMN semantic oracle", body.GetProperty("system").ToString());
        string user = body.GetProperty("messages")[0].GetProperty("content").ToString();
        Assert.Contains("∿lov[joy, pai, hop]", user);
        Assert.Contains("@now = present_moment", user);
        Assert.Contains("main > map_over_states", user);
        Assert.Contains("examples/mood.lmn:15:8", user);
        Assert.Contains("Select the single most appropriate term", body.GetProperty("system").ToString());
        Assert.Contains(oracle.Identity, "anthropic:claude-sonnet-4-5;prompt=" + PromptBuilder.Version);
        Assert.Single(events.OfKind(OracleEventKind.Attempt));
        var resp = Assert.Single(events.OfKind(OracleEventKind.Response));
        Assert.Equal(321, resp.InputTokens);
    }

    [Fact]
    public async Task RateLimitHonoursRetryAfter()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Enqueue(
            new Scripted(429, Wire.AnthropicError("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
                Wire.H(("retry-after", "1"), ("anthropic-ratelimit-requests-remaining", "0"))),
            new Scripted(200, Wire.AnthropicMessage(Wire.Answer("pai"))));
        var events = new RecordingOracleEvents();
        var watch = Stopwatch.StartNew();
        var results = await NewAnthropic(s, events: events).AskAsync([Request()], CancellationToken.None);
        watch.Stop();

        Assert.Equal("pai", Answer(results).Substitution);
        Assert.Equal(2, s.Requests.Count);
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(950), $"waited only {watch.Elapsed}");
        var retry = Assert.Single(events.OfKind(OracleEventKind.Retry));
        Assert.Equal(429, retry.Status);
        Assert.Equal("rate_limited", retry.Reason);
        Assert.Equal(TimeSpan.FromSeconds(1), retry.Delay);
        Assert.Equal(2, events.OfKind(OracleEventKind.Attempt).Count());
    }

    [Fact]
    public async Task RetryAfterMsWinsOverRetryAfter()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Enqueue(
            new Scripted(429, Wire.AnthropicError("rate_limit_error", "slow down"), Wire.H(("retry-after", "30"), ("retry-after-ms", "120"))),
            new Scripted(200, Wire.AnthropicMessage(Wire.Answer("pai"))));
        var events = new RecordingOracleEvents();
        var results = await NewAnthropic(s, events: events).AskAsync([Request()], CancellationToken.None);
        Assert.Equal("pai", Answer(results).Substitution);
        Assert.Equal(TimeSpan.FromMilliseconds(120), Assert.Single(events.OfKind(OracleEventKind.Retry)).Delay);
    }

    [Fact]
    public async Task OverloadedIsRetried()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Enqueue(
            new Scripted(529, Wire.AnthropicError("overloaded_error", "Overloaded")),
            new Scripted(529, Wire.AnthropicError("overloaded_error", "Overloaded")),
            new Scripted(200, Wire.AnthropicMessage(Wire.Answer("hop"))));
        var events = new RecordingOracleEvents();
        var results = await NewAnthropic(s, events: events).AskAsync([Request()], CancellationToken.None);
        Assert.Equal("hop", Answer(results).Substitution);
        Assert.Equal(3, s.Requests.Count);
        Assert.All(events.OfKind(OracleEventKind.Retry), e => { Assert.Equal(529, e.Status); Assert.Equal("overloaded", e.Reason); });
    }

    [Fact]
    public async Task ServerErrorsExhaustRetriesIntoUnavailable()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Responder = _ => new Scripted(500, Wire.AnthropicError("api_error", "Internal server error"));
        var events = new RecordingOracleEvents();
        var results = await NewAnthropic(s, Options(r: Fast(retries: 2)), events).AskAsync([Request()], CancellationToken.None);

        var e = Error(results);
        Assert.Equal("unavailable", e.Kind);
        Assert.Contains("HTTP 500", e.Message);
        Assert.Contains("Internal server error", e.Message);
        Assert.Contains("3 attempts", e.Message);
        Assert.Equal(3, s.Requests.Count);
        Assert.Equal(2, events.OfKind(OracleEventKind.Retry).Count());
        Assert.Single(events.OfKind(OracleEventKind.Error));
    }

    [Fact]
    public async Task SlowResponseTimesOutAndIsRetried()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Enqueue(
            new Scripted(200, Wire.AnthropicMessage(Wire.Answer("joy")), Delay: TimeSpan.FromSeconds(3)),
            new Scripted(200, Wire.AnthropicMessage(Wire.Answer("pai"))));
        var events = new RecordingOracleEvents();
        var results = await NewAnthropic(s, Options(r: Fast(TimeSpan.FromMilliseconds(300))), events).AskAsync([Request()], CancellationToken.None);
        Assert.Equal("pai", Answer(results).Substitution);
        Assert.Equal("timeout", Assert.Single(events.OfKind(OracleEventKind.Retry)).Reason);
    }

    [Fact]
    public async Task AlwaysSlowEndsInTimeoutError()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Responder = _ => new Scripted(200, Wire.AnthropicMessage(Wire.Answer("joy")), Delay: TimeSpan.FromSeconds(3));
        var watch = Stopwatch.StartNew();
        var results = await NewAnthropic(s, Options(r: Fast(TimeSpan.FromMilliseconds(200), retries: 1))).AskAsync([Request()], CancellationToken.None);
        var e = Error(results);
        Assert.Equal("timeout", e.Kind);
        Assert.Contains("did not answer within 0.2 s", e.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2.5), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task MalformedBodyIsRetried()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Enqueue(
            new Scripted(200, "{\"id\":\"msg_01\",\"type\":\"message\",\"content\":[{\"type\":\"text\",\"te"),
            new Scripted(200, Wire.AnthropicMessage(Wire.Answer("joy"))));
        var events = new RecordingOracleEvents();
        var results = await NewAnthropic(s, events: events).AskAsync([Request()], CancellationToken.None);
        Assert.Equal("joy", Answer(results).Substitution);
        Assert.Equal("malformed", Assert.Single(events.OfKind(OracleEventKind.Retry)).Reason);
    }

    [Fact]
    public async Task ReplyThatIsNotAnAnswerEndsInvalid()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Responder = _ => new Scripted(200, Wire.AnthropicMessage("I am not sure what you mean."));
        var results = await NewAnthropic(s, Options(r: Fast(retries: 1))).AskAsync([Request()], CancellationToken.None);
        var e = Error(results);
        Assert.Equal("invalid", e.Kind);
        Assert.Contains("not an answer", e.Message);
    }

    [Fact]
    public async Task AnswerNotACandidateIsReturnedAndFlagged()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Enqueue(new Scripted(200, Wire.AnthropicMessage(Wire.Answer("sad"))));
        var request = Request();
        var a = Answer(await NewAnthropic(s).AskAsync([request], CancellationToken.None));
        Assert.Equal("sad", a.Substitution);
        var v = new AnswerValidator().Validate(request, a);
        Assert.Equal(ValidationFailure.NotACandidate, v.Failure);
        Assert.Contains("examples/mood.lmn:15:8", v.Message);
    }

    [Fact]
    public async Task AnswerWithAmbiguityIsFlagged()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Enqueue(new Scripted(200, Wire.AnthropicMessage(Wire.Answer("∿lov[joy, pai]"))));
        var request = Request();
        var a = Answer(await NewAnthropic(s).AskAsync([request], CancellationToken.None));
        Assert.Equal("∿lov[joy, pai]", a.Substitution);
        Assert.Equal(ValidationFailure.Ambiguous, new AnswerValidator().Validate(request, a).Failure);
    }

    [Fact]
    public async Task SpendLimitIsNeverRetried()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Responder = _ => new Scripted(429,
            Wire.AnthropicError("rate_limit_error", "You have reached your specified workspace API usage limits.", "enforced_spend_limit_reached"),
            Wire.H(("retry-after", "1")));
        var events = new RecordingOracleEvents();
        var results = await NewAnthropic(s, events: events).AskAsync([Request()], CancellationToken.None);
        var e = Error(results);
        Assert.Equal("refused", e.Kind);
        Assert.Single(s.Requests);
        Assert.Empty(events.OfKind(OracleEventKind.Retry));
        Assert.Equal("quota", Assert.Single(events.OfKind(OracleEventKind.Error)).Reason);
    }

    [Fact]
    public async Task ContextLengthRetriesWithReducedContext()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Enqueue(
            new Scripted(400, Wire.AnthropicError("invalid_request_error", "prompt is too long: 215000 tokens > 200000 maximum")),
            new Scripted(200, Wire.AnthropicMessage(Wire.Answer("joy"))));
        var events = new RecordingOracleEvents();
        var results = await NewAnthropic(s, events: events).AskAsync([Request()], CancellationToken.None);
        Assert.Equal("joy", Answer(results).Substitution);
        string first = s.Requests[0].Body, second = s.Requests[1].Body;
        Assert.Contains("map_over_states", first);
        Assert.DoesNotContain("map_over_states", second);
        Assert.True(second.Length < first.Length);
        Assert.Single(events.OfKind(OracleEventKind.ReducedContext));
    }

    [Fact]
    public async Task AuthErrorIsRefusedAtOnce()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Responder = _ => new Scripted(401, Wire.AnthropicError("authentication_error", "invalid x-api-key"));
        var results = await NewAnthropic(s).AskAsync([Request()], CancellationToken.None);
        Assert.Equal("refused", Error(results).Kind);
        Assert.Single(s.Requests);
    }

    [Fact]
    public async Task CircuitBreakerOpensAfterRepeatedFailures()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Responder = _ => new Scripted(503, Wire.AnthropicError("api_error", "Service unavailable"));
        var events = new RecordingOracleEvents();
        var r = Fast(retries: 0) with { BreakerMinimumThroughput = 3, BreakerFailureRatio = 0.5, BreakerBreakDuration = TimeSpan.FromSeconds(30) };
        var oracle = NewAnthropic(s, Options(r: r), events);
        for (int i = 0; i < 3; i++) Assert.Equal("unavailable", Error(await oracle.AskAsync([Request("amb#" + i)], CancellationToken.None)).Kind);
        Assert.Single(events.OfKind(OracleEventKind.CircuitOpened));
        var e = Error(await oracle.AskAsync([Request("amb#9")], CancellationToken.None));
        Assert.Equal("unavailable", e.Kind);
        Assert.Contains("circuit breaker is open", e.Message);
        Assert.Equal(3, s.Requests.Count);
    }

    [Fact]
    public async Task CallerCancellationPropagates()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Responder = _ => new Scripted(200, Wire.AnthropicMessage(Wire.Answer("joy")), Delay: TimeSpan.FromSeconds(5));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => NewAnthropic(s).AskAsync([Request()], cts.Token));
    }

    [Fact]
    public async Task ConnectionRefusedIsRetriedThenUnavailable()
    {
        var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        int port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var events = new RecordingOracleEvents();
        var oracle = new AnthropicOracle(Options(r: Fast(retries: 1)), AnthropicKey, $"http://127.0.0.1:{port}", events: events);
        var e = Error(await oracle.AskAsync([Request()], CancellationToken.None));
        Assert.Equal("unavailable", e.Kind);
        Assert.True(e.Message.Contains("cannot reach anthropic"), e.Message);
        Assert.Equal("network", Assert.Single(events.OfKind(OracleEventKind.Retry)).Reason);
    }
}
