using Lmn.Oracles;
using Xunit;

namespace Lmn.Tests.Oracles;

/// <summary>The pipeline's stages, each alone: a recording stage stands in for the one it wraps.</summary>
public sealed class StageTests
{
    /// <summary>Records what reaches it and answers each with its first candidate.</summary>
    private sealed class Recorder() : PipelineStage(null)
    {
        public List<string> Seen { get; } = [];

        public override Task RunAsync(PipelineContext ctx, List<OracleRequest> questions, CancellationToken ct)
        {
            foreach (var r in questions)
            {
                Seen.Add(r.AmbNodeId);
                ctx.Answers[ctx.Key(r)] = new Answer(r, r.Args[0], Say(r, r.Args[0]), AnswerSource.Oracle, false);
            }
            return Task.CompletedTask;
        }
    }

    private static OracleResponse Say(OracleRequest r, string s, double c = 0.9) =>
        new(r.AmbNodeId, s, new OracleMetadata { Confidence = c, Model = "fake" });

    private static PipelineContext Context(OraclePipeline p, params OracleRequest[] rs) =>
        new(p, rs.ToDictionary(r => r.AmbNodeId, r => CacheKey.Of(r, p.Oracle.Identity)));

    [Fact]
    public async Task DedupPassesOneOfEachQuestion()
    {
        var p = new OraclePipeline(new FakeOracle(r => Say(r, "x")), new SimpleTerms());
        var a = PipelineTests.Q("amb#1", "∿lov[joy, pai]", ["joy", "pai"]);
        var b = PipelineTests.Q("amb#2", "∿lov[joy, pai]", ["joy", "pai"]);
        var c = PipelineTests.Q("amb#3", "∿mov[run, sit]", ["run", "sit"]);
        var inner = new Recorder();
        await new DedupStage(inner).RunAsync(Context(p, a, b, c), [a, b, c], default);
        Assert.Equal(["amb#1", "amb#3"], inner.Seen);
        Assert.Equal(1, p.Stats.Deduplicated);
    }

    [Fact]
    public async Task CacheAnswersWhatItHoldsAndPassesTheRest()
    {
        string dir = Path.Combine(Path.GetTempPath(), "lmn-stage-" + Guid.NewGuid().ToString("N"));
        try
        {
            var cache = new OracleCache(dir);
            var p = new OraclePipeline(new FakeOracle(r => Say(r, "x")), new SimpleTerms(), cache: cache);
            var a = PipelineTests.Q("amb#1", "∿lov[joy, pai]", ["joy", "pai"]);
            var c = PipelineTests.Q("amb#2", "∿mov[run, sit]", ["run", "sit"]);
            var ctx = Context(p, a, c);
            cache.Put(ctx.Key(a), a, Say(a, "pai"));
            var inner = new Recorder();
            await new CacheStage(inner).RunAsync(ctx, [a, c], default);
            Assert.Equal(["amb#2"], inner.Seen);
            Assert.Equal(("pai", AnswerSource.Cache), (ctx.Answers[ctx.Key(a)].Substitution, ctx.Answers[ctx.Key(a)].Source));
            Assert.Equal(1, p.Stats.CacheHits);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task SettleFallsBackToTheFirstCandidateUnderThePolicy()
    {
        var oracle = new FakeOracle(r => Say(r, "hop"));
        var p = new OraclePipeline(oracle, new SimpleTerms(), new OraclePolicies { OnInvalid = InvalidPolicy.First });
        var a = PipelineTests.Q("amb#1", "∿lov[joy, pai]", ["joy", "pai"]);
        var ctx = Context(p, a);
        await new SettleStage(new ResolverStage()).RunAsync(ctx, [a], default);
        Assert.Equal(("joy", AnswerSource.Fallback), (ctx.Answers[ctx.Key(a)].Substitution, ctx.Answers[ctx.Key(a)].Source));
        Assert.Equal(1, oracle.Calls);
    }
}
