using Lmn.Oracles;
using static Lmn.Tests.Llm.LlmTestUtil;

namespace Lmn.Tests.Llm;

/// <summary>Batching, bounded concurrency and routing of the LLM oracle.</summary>
public class LlmOracleTests
{
    [Fact]
    public async Task BatchAnswersOutOfOrderAndOneMissing()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Enqueue(new Scripted(200, Wire.AnthropicMessage(Wire.Batch(("amb#3", "hop", 0.7), ("amb#1", "joy", 0.9)), 400, 90)));
        var events = new RecordingOracleEvents();
        var oracle = NewAnthropic(s, Options() with { Batch = true }, events);
        var results = await oracle.AskAsync([Request("amb#1"), Request("amb#2"), Request("amb#3")], CancellationToken.None);

        Assert.Single(s.Requests);
        string user = s.Requests[0].Json.GetProperty("messages")[0].GetProperty("content").ToString();
        Assert.Contains("### Question amb#1", user);
        Assert.Contains("### Question amb#3", user);
        Assert.Equal(["amb#1", "amb#2", "amb#3"], results.Select(r => r.AmbNodeId));
        Assert.Equal("joy", Answer(results, 0).Substitution);
        var missing = Error(results, 1);
        Assert.Equal("invalid", missing.Kind);
        Assert.Contains("no answer for amb#2", missing.Message);
        Assert.Equal("hop", Answer(results, 2).Substitution);
        Assert.Equal(490, Answer(results, 0).Metadata.TokensUsed + Answer(results, 2).Metadata.TokensUsed);
        Assert.Equal("amb#2", Assert.Single(events.OfKind(OracleEventKind.Missing)).AmbNodeIds.Single());
    }

    [Fact]
    public async Task BatchOverOpenAi()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Enqueue(new Scripted(200, Wire.OpenAiCompletion(Wire.Batch(("b", "pai", 0.6), ("a", "joy", 0.9)))));
        var oracle = NewOpenAi(s, Options("gpt-4o-mini") with { Batch = true });
        var results = await oracle.AskAsync([Request("a"), Request("b")], CancellationToken.None);
        Assert.Equal("joy", Answer(results, 0).Substitution);
        Assert.Equal("pai", Answer(results, 1).Substitution);
        Assert.Equal("lmn_oracle_answers", s.Requests[0].Json.GetProperty("response_format").GetProperty("json_schema").GetProperty("name").GetString());
    }

    [Fact]
    public async Task WithoutBatchConcurrencyIsBounded()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Responder = _ => new Scripted(200, Wire.AnthropicMessage(Wire.Answer("joy")), Delay: TimeSpan.FromMilliseconds(150));
        var oracle = NewAnthropic(s, Options() with { Concurrency = 2 });
        var batch = Enumerable.Range(0, 6).Select(i => Request("amb#" + i)).ToList();
        var results = await oracle.AskAsync(batch, CancellationToken.None);
        Assert.Equal(6, s.Requests.Count);
        Assert.All(results, r => Assert.IsType<OracleResponse>(r));
        Assert.Equal(2, s.MaxInFlight);
    }

    [Fact]
    public async Task EasyQuestionsGoToTheSmallModel()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Responder = r => new Scripted(200, Wire.AnthropicMessage(Wire.Answer("joy"), model: r.Json.GetProperty("model").GetString()!));
        var events = new RecordingOracleEvents();
        var oracle = NewAnthropic(s, Options() with { SmallModel = "claude-haiku-4-5" }, events);
        var easy = Request("easy", "joy", "pai");
        var hard = Request("hard", "joy", "pai", "hop", "ang", "sad", "cal");
        var open = Request("open") with { Kind = "open", Expression = "~explain[joy]", Args = ["joy"] };
        var results = await oracle.AskAsync([easy, hard, open], CancellationToken.None);

        Assert.Equal("claude-haiku-4-5", Answer(results, 0).Metadata.Model);
        Assert.Equal("claude-sonnet-4-5", Answer(results, 1).Metadata.Model);
        Assert.Equal("claude-sonnet-4-5", Answer(results, 2).Metadata.Model);
        Assert.Contains("+small:claude-haiku-4-5", oracle.Identity);
        Assert.Equal("easy", Assert.Single(events.OfKind(OracleEventKind.Routed)).AmbNodeIds.Single());
    }

    [Fact]
    public void RouterThresholds()
    {
        var router = new Lmn.Llm.ModelRouter("big", "small");
        Assert.True(router.IsEasy(Request("a", "x", "y", "z", "w")));
        Assert.False(router.IsEasy(Request("a", "x", "y", "z", "w", "v")));
        var longContext = Request() with { TypeEnvironment = new Dictionary<string, string> { ["lov"] = new string('g', 700) } };
        Assert.False(router.IsEasy(longContext));
        Assert.Equal("big", new Lmn.Llm.ModelRouter("big", null).Pick(Request()));
    }

    [Fact]
    public async Task BatchRetriesAsOneCall()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Enqueue(
            new Scripted(529, Wire.AnthropicError("overloaded_error", "Overloaded")),
            new Scripted(200, Wire.AnthropicMessage(Wire.Batch(("a", "joy", 0.9), ("b", "pai", 0.9)))));
        var results = await NewAnthropic(s, Options() with { Batch = true }).AskAsync([Request("a"), Request("b")], CancellationToken.None);
        Assert.Equal(2, s.Requests.Count);
        Assert.All(results, r => Assert.IsType<OracleResponse>(r));
    }
}
