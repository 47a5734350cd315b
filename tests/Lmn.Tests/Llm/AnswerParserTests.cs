using Lmn.Llm;

namespace Lmn.Tests.Llm;

/// <summary>Tolerant reading of model replies.</summary>
public class AnswerParserTests
{
    [Theory]
    [InlineData("{\"substitution\":\"joy\",\"confidence\":0.9,\"reasoning\":\"r\",\"alternatives_considered\":[\"pai\"]}", "joy", 0.9)]
    [InlineData("Sure! Here it is:\n```json\n{\"substitution\": \"pai\", \"confidence\": \"85%\"}\n```\nHope that helps.", "pai", 0.85)]
    [InlineData("The answer: {\"substitution\": \"hop\", \"confidence\": 70}", "hop", 0.7)]
    [InlineData("Selected term: joy\nConfidence: 0.8\nReasoning: because\nAlternatives considered: pai, hop", "joy", 0.8)]
    [InlineData("**Selected term:** `fir[lov, pai]`\n**Confidence:** 0.65", "fir[lov, pai]", 0.65)]
    [InlineData("selected term: joy", "joy", AnswerParser.UnknownConfidence)]
    [InlineData("{\"oracle_response\":{\"amb_node_id\":\"x\",\"substitution\":\"joy\",\"metadata\":{\"confidence\":0.4}}}", "joy", 0.4)]
    [InlineData("{\"substitution\":\"joy\",\"confidence\":-0.2}", "joy", 0.0)]
    public void ReadsOneAnswer(string text, string term, double confidence)
    {
        var a = Assert.Single(AnswerParser.Parse(text));
        Assert.Equal(term, a.Substitution);
        Assert.Equal(confidence, a.Confidence, 3);
    }

    [Fact]
    public void ReadsTextAlternativesAndReasoning()
    {
        var a = Assert.Single(AnswerParser.Parse("Selected term: joy\nConfidence: 0.8\nReasoning: present moment\nAlternatives considered: pai, hop"));
        Assert.Equal("present moment", a.Reasoning);
        Assert.Equal(["pai", "hop"], a.Alternatives);
    }

    [Fact]
    public void ReadsBatches()
    {
        var json = AnswerParser.Parse("{\"answers\":[{\"amb_node_id\":\"b\",\"substitution\":\"pai\",\"confidence\":0.5},{\"amb_node_id\":\"a\",\"substitution\":\"joy\",\"confidence\":0.9}]}");
        Assert.Equal(["b", "a"], json.Select(a => a.AmbNodeId));
        var text = AnswerParser.Parse("amb_node_id: a\nSelected term: joy\nConfidence: 0.9\n\namb_node_id: b\nSelected term: pai\nConfidence: 0.4");
        Assert.Equal([("a", "joy"), ("b", "pai")], text.Select(a => (a.AmbNodeId, a.Substitution)));
        var array = AnswerParser.Parse("[{\"amb_node_id\":\"a\",\"substitution\":\"joy\"}]");
        Assert.Equal("a", Assert.Single(array).AmbNodeId);
    }

    [Theory]
    [InlineData("")]
    [InlineData("I cannot decide.")]
    [InlineData("{\"confidence\": 0.9}")]
    public void NothingToRead(string text) => Assert.Empty(AnswerParser.Parse(text));
}
