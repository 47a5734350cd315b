using Lmn.Oracles;

namespace Lmn.Tests.Oracles;

/// <summary>The protocol's JSON shapes, keys and cache key.</summary>
public class ProtocolTests
{
    private static OracleRequest Sample(string id = "amb#42") => new()
    {
        AmbNodeId = id,
        Kind = "choice",
        Expression = "∿lov[joy, pai, hop]",
        Args = ["joy", "pai", "hop"],
        TypeExpected = "Mind & Cognition / Emotions",
        LexicalBindings = new Dictionary<string, string> { ["@now"] = "present_moment", ["@self"] = "agent_alice" },
        TypeEnvironment = new Dictionary<string, string> { ["lov"] = "love: affection, bond, care" },
        ReductionTrace = ["main", "map_over_states"],
        OtherAmbNodes = ["amb#17"],
        SharedVariables = ["@now"],
        SourceLocation = "examples/mood.lmn:15:8",
    };

    [Fact]
    public void RequestHasTheProtocolKeys()
    {
        string json = OracleJson.Serialize(Sample());
        Assert.StartsWith("{\"oracle_request\":{\"amb_node_id\":\"amb#42\",\"kind\":\"choice\",\"expression\":\"∿lov[joy, pai, hop]\"", json);
        Assert.Contains("\"scope\":{\"lexical_bindings\":{\"@now\":\"present_moment\",\"@self\":\"agent_alice\"}", json);
        Assert.Contains("\"parallel_context\":{\"other_amb_nodes\":[\"amb#17\"],\"shared_variables\":[\"@now\"]}", json);
        Assert.Contains("\"source_location\":\"examples/mood.lmn:15:8\"", json);
    }

    [Fact]
    public void RequestsRoundTrip()
    {
        var batch = new[] { Sample("amb#1"), Sample("amb#2") };
        string json = OracleJson.Serialize(batch);
        Assert.StartsWith("{\"parallel_requests\":[", json);
        var back = OracleJson.ParseRequests(json);
        Assert.Equal(2, back.Count);
        Assert.Equal("amb#2", back[1].AmbNodeId);
        Assert.Equal(batch[0].Args, back[0].Args);
        Assert.Equal("present_moment", back[0].LexicalBindings["@now"]);
    }

    [Fact]
    public void ResponsesParseInAnyOrderWithErrors()
    {
        string json = """
            {"parallel_responses": [
              {"oracle_response": {"amb_node_id": "amb#2", "substitution": "run", "metadata": {"confidence": 0.5, "reasoning": "r", "model": "m", "tokens_used": 7, "alternatives_considered": ["sit"]}}},
              {"oracle_error": {"amb_node_id": "amb#1", "kind": "timeout", "message": "slow"}}
            ]}
            """;
        var results = OracleJson.ParseResults(json);
        var a = Assert.IsType<OracleResponse>(results[0]);
        Assert.Equal(("amb#2", "run", 0.5, 7), (a.AmbNodeId, a.Substitution, a.Metadata.Confidence, a.Metadata.TokensUsed));
        var e = Assert.IsType<OracleError>(results[1]);
        Assert.Equal("timeout", e.Kind);
        var again = OracleJson.ParseResults(OracleJson.Serialize(results));
        Assert.Equal(results, again, (x, y) => x.ToString() == y.ToString() || (x is OracleResponse rx && y is OracleResponse ry && rx.Substitution == ry.Substitution));
    }

    [Theory]
    [InlineData("{\"oracle_response\": {\"substitution\": \"joy\"}}", "missing required key \"amb_node_id\"")]
    [InlineData("{\"oracle_response\": {\"amb_node_id\": \"amb#1\"}}", "missing required key \"substitution\"")]
    [InlineData("{\"answer\": 1}", "expected key \"oracle_response\" or \"oracle_error\"")]
    [InlineData("{not json", "malformed JSON")]
    public void MalformedRepliesNameTheProblem(string json, string message)
    {
        var e = Assert.Throws<ProtocolException>(() => OracleJson.ParseResults(json));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void CacheKeyIgnoresIdsTraceAndSpacingButNotBindings()
    {
        var a = Sample("amb#1");
        var b = Sample("amb#9") with { ReductionTrace = ["other"], Expression = "∿lov[joy,  pai, hop] " };
        Assert.Equal(CacheKey.Of(a, "lexicon-v1"), CacheKey.Of(b, "lexicon-v1"));
        var c = a with { LexicalBindings = new Dictionary<string, string> { ["@now"] = "later", ["@self"] = "agent_alice" } };
        Assert.NotEqual(CacheKey.Of(a, "lexicon-v1"), CacheKey.Of(c, "lexicon-v1"));
        Assert.NotEqual(CacheKey.Of(a, "lexicon-v1"), CacheKey.Of(a, "anthropic:claude:prompt-v1"));
    }
}
