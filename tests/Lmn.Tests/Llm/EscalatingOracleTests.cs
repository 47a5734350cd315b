using Lmn.Oracles;
using static Lmn.Tests.Llm.LlmTestUtil;

namespace Lmn.Tests.Llm;

/// <summary>Low confidence (and errors) escalated to a piped human.</summary>
public class EscalatingOracleTests
{
    [Fact]
    public async Task LowConfidenceGoesToTheHuman()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Enqueue(new Scripted(200, Wire.AnthropicMessage(Wire.Batch(("a", "joy", 0.95), ("b", "pai", 0.3)))));
        var events = new RecordingOracleEvents();
        var shown = new StringWriter();
        var human = new HumanOracle(new StringReader("3\n"), shown, events);
        var oracle = new EscalatingOracle(NewAnthropic(s, Options() with { Batch = true }, events), human, 0.8, events);
        var results = await oracle.AskAsync([Request("a"), Request("b")], CancellationToken.None);

        Assert.Equal("joy", Answer(results, 0).Substitution);
        Assert.Equal("claude-sonnet-4-5-20250929", Answer(results, 0).Metadata.Model);
        Assert.Equal("hop", Answer(results, 1).Substitution);
        Assert.Equal("human", Answer(results, 1).Metadata.Model);
        Assert.Contains("suggested by claude-sonnet-4-5-20250929 with confidence 0.3: pai", shown.ToString());
        Assert.DoesNotContain("oracle question a ", shown.ToString());
        var esc = Assert.Single(events.OfKind(OracleEventKind.Escalation));
        Assert.Equal("b", esc.AmbNodeIds.Single());
        Assert.Equal("low_confidence", esc.Reason);
        Assert.Contains("+escalate:human@0.8", oracle.Identity);
    }

    [Fact]
    public async Task EmptyLineAcceptsTheSuggestion()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Enqueue(new Scripted(200, Wire.AnthropicMessage(Wire.Answer("pai", 0.4))));
        var oracle = new EscalatingOracle(NewAnthropic(s), new HumanOracle(new StringReader("\n"), new StringWriter()), 0.8);
        var a = Answer(await oracle.AskAsync([Request()], CancellationToken.None));
        Assert.Equal("pai", a.Substitution);
        Assert.Equal("human", a.Metadata.Model);
    }

    [Fact]
    public async Task ErrorsGoToTheHumanToo()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Responder = _ => new Scripted(401, Wire.AnthropicError("authentication_error", "invalid x-api-key"));
        var shown = new StringWriter();
        var oracle = new EscalatingOracle(NewAnthropic(s), new HumanOracle(new StringReader("1\n"), shown), 0.8);
        Assert.Equal("joy", Answer(await oracle.AskAsync([Request()], CancellationToken.None)).Substitution);
        Assert.Contains("could not answer (refused)", shown.ToString());
    }

    [Fact]
    public async Task ConfidentAnswersAreNotEscalated()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Enqueue(new Scripted(200, Wire.AnthropicMessage(Wire.Answer("joy", 0.8))));
        var shown = new StringWriter();
        var oracle = new EscalatingOracle(NewAnthropic(s), new HumanOracle(new StringReader(""), shown), 0.8);
        Assert.Equal("joy", Answer(await oracle.AskAsync([Request()], CancellationToken.None)).Substitution);
        Assert.Equal("", shown.ToString());
    }
}
