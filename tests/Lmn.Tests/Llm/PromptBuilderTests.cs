using Lmn.Llm;
using static Lmn.Tests.Llm.LlmTestUtil;

namespace Lmn.Tests.Llm;

/// <summary>What the prompt carries at each context level, and its schema.</summary>
public class PromptBuilderTests
{
    [Fact]
    public void FullContext()
    {
        var p = PromptBuilder.Build(Request());
        foreach (var part in new[] { "amb_node_id: amb#42", "Location: examples/mood.lmn:15:8", "Expression: ∿lov[joy, pai, hop]", "Candidates: joy, pai, hop",
                     "Expected type: Mind & Cognition / Emotions", "@now = present_moment", "@self = agent_alice", "lov: love: affection, bond, care",
                     "Execution trace: main > map_over_states", "other sites amb#17; shared variables @now" })
            Assert.Contains(part, p.User);
        foreach (var step in new[] { "1. Analyze the constraint intersection of the arguments", "2. Apply contextual bindings to narrow the semantic region",
                     "3. Select the single most appropriate term", "4. Return ONLY the selected term (no ambiguity operator)", "Selected term: <term>" })
            Assert.Contains(step, p.System);
        Assert.Equal(["joy", "pai", "hop"], p.Schema.GetProperty("properties").GetProperty("substitution").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void ReducedLevels()
    {
        var r = Request() with { TypeEnvironment = new Dictionary<string, string> { ["lov"] = "love", ["joy"] = "happy", ["zzz"] = "unrelated" } };
        var one = PromptBuilder.Build(r, 1).User;
        Assert.Contains("lov: love", one);
        Assert.Contains("joy: happy", one);
        Assert.DoesNotContain("zzz", one);
        Assert.DoesNotContain("Execution trace", one);
        Assert.Contains("@now = present_moment", one);
        var two = PromptBuilder.Build(r, 2).User;
        Assert.DoesNotContain("@now", two);
        Assert.Contains("Candidates: joy, pai, hop", two);
        Assert.True(two.Length < one.Length);
    }

    [Fact]
    public void OpenQuestionsHaveNoEnum()
    {
        var p = PromptBuilder.Build(Request() with { Kind = "open", Expression = "~explain[joy]", Args = ["joy"] });
        Assert.Contains("Arguments: joy", p.User);
        Assert.False(p.Schema.GetProperty("properties").GetProperty("substitution").TryGetProperty("enum", out _));
    }

    [Fact]
    public void BatchAsksForEveryId()
    {
        var p = PromptBuilder.BuildBatch([Request("a"), Request("b")]);
        Assert.Contains("### Question a", p.User);
        Assert.Contains("### Question b", p.User);
        Assert.Contains("\"answers\"", p.System);
        Assert.Equal("lmn_oracle_answers", p.SchemaName);
    }

    [Theory]
    [InlineData("∿lov[joy, pai]", "lov")]
    [InlineData("~explain[x]", "explain")]
    [InlineData("amb lov[a]", "lov")]
    public void HeadWord(string expr, string head) => Assert.Equal(head, PromptBuilder.Head(expr));
}
