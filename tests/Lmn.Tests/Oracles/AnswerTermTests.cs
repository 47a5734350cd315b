using Lmn.Language;
using Lmn.Oracles;
using Lmn.Words;
using Xunit;

namespace Lmn.Tests.Oracles;

/// <summary>The answer carries the term the pipeline parsed; a `~` inside a string is a string; retries are bounded.</summary>
public sealed class AnswerTermTests
{
    private static OracleResponse Say(OracleRequest r, string s, double c = 0.9) =>
        new(r.AmbNodeId, s, new OracleMetadata { Confidence = c, Model = "fake" });

    [Fact]
    public async Task AStringWithATildeIsAStringNotAnAmbiguity()
    {
        var oracle = new FakeOracle(r => Say(r, "\"about ~ 3 of them\""));
        var p = new OraclePipeline(oracle, new LmnTermChecker(Lexicon.Default));
        var a = await p.AskAsync([PipelineTests.Q("amb#1", "∿sen[x]", ["x"], kind: "open")], default);
        Assert.False(a[0].ContainsAmbiguity);
        Assert.Equal(new TStr("about ~ 3 of them"), a[0].Term);
        Assert.Equal("\"about ~ 3 of them\"", a[0].Substitution);
    }

    [Fact]
    public async Task AQuestionInTheAnswerIsStillAnAmbiguity()
    {
        var oracle = new FakeOracle(r => Say(r, "∿lov[joy, pai]"));
        var p = new OraclePipeline(oracle, new LmnTermChecker(Lexicon.Default), new OraclePolicies { Ambiguity = AmbiguityMode.Lazy });
        var a = await p.AskAsync([PipelineTests.Q("amb#1", "∿sen[x]", ["x"], kind: "open")], default);
        Assert.True(a[0].ContainsAmbiguity);
        Assert.IsType<DataTerms.Question>(a[0].Term);
    }

    [Fact]
    public async Task TheAnswerCarriesItsParsedTerm()
    {
        var oracle = new FakeOracle(r => Say(r, "pai"));
        var p = new OraclePipeline(oracle, new LmnTermChecker(Lexicon.Default));
        var a = await p.AskAsync([PipelineTests.Q("amb#1", "∿lov[joy, pai]", ["joy", "pai"])], default);
        Assert.Equal(new TWord("pai"), a[0].Term);
    }

    [Theory]
    [InlineData("unavailable")]
    [InlineData("timeout")]
    public async Task RetryDoesNotAskAgainAfterTheTransportFailed(string kind)
    {
        var oracle = new FakeOracle(r => new OracleError(r.AmbNodeId, kind, "down"));
        var p = new OraclePipeline(oracle, new SimpleTerms(), new OraclePolicies { OnInvalid = InvalidPolicy.Retry, MaxRetries = 2, RetryDelay = TimeSpan.FromMilliseconds(1) });
        var e = await Assert.ThrowsAsync<OracleFailure>(() => p.AskAsync([PipelineTests.Q("amb#1", "∿lov[joy, pai]", ["joy", "pai"])], default));
        Assert.Contains(kind, e.Message);
        Assert.Equal(1, oracle.Calls);
        Assert.Equal(0, p.Stats.Retries);
    }

    [Fact]
    public async Task RetryStillAsksAgainAfterAnInvalidAnswer()
    {
        var oracle = new FakeOracle(r => Say(r, "nonsense"));
        var p = new OraclePipeline(oracle, new SimpleTerms(), new OraclePolicies { OnInvalid = InvalidPolicy.Retry, MaxRetries = 2, RetryDelay = TimeSpan.FromMilliseconds(1) });
        await Assert.ThrowsAsync<OracleFailure>(() => p.AskAsync([PipelineTests.Q("amb#1", "∿lov[joy, pai]", ["joy", "pai"])], default));
        Assert.Equal(3, oracle.Calls);
    }
}
