using System.Collections.Concurrent;
using Lmn.Oracles;
using Xunit;

namespace Lmn.Tests.Oracles;

/// <summary>
/// A batch run's coalescer merges a question with another run's pending or in-flight one of the same key;
/// a retry's key is marked with its attempt (ResolverStage.CallAsync), so a retry never joins another
/// run's first ask of the question, whose answer is the kind the retry was made to replace. Driven step
/// by step: the inner oracle holds each call until the test lets it go.
/// </summary>
public sealed class RetryKeyTests
{
    /// <summary>Holds every call until released; reports each call's questions as it arrives.</summary>
    private sealed class HeldOracle : IOracle
    {
        public BlockingCollection<IReadOnlyList<OracleRequest>> Arrived { get; } = [];
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public string Identity => "held";

        public async Task<IReadOnlyList<OracleResult>> AskAsync(IReadOnlyList<OracleRequest> batch, CancellationToken cancellationToken)
        {
            Arrived.Add(batch);
            await Release.Task.ConfigureAwait(false);
            return batch.Select(r => (OracleResult)new OracleResponse(r.AmbNodeId, r.Args[0], new OracleMetadata { Confidence = 0.9, Model = "held" })).ToList();
        }
    }

    private static PipelineContext Context(OraclePipeline p, OracleRequest r) =>
        new(p, new Dictionary<string, string> { [r.AmbNodeId] = CacheKey.Of(r, p.Oracle.Identity) });

    private static IReadOnlyList<OracleRequest> Next(HeldOracle o)
    {
        Assert.True(o.Arrived.TryTake(out var batch, TimeSpan.FromSeconds(30)), "no call reached the oracle within 30 s");
        return batch;
    }

    [Fact]
    public async Task ARetryGoesOutOnItsOwnAndRetriesAtOneAttemptShareACall()
    {
        var held = new HeldOracle();
        var coalescer = new CoalescingOracle(held, maxBatch: 50, linger: TimeSpan.FromMilliseconds(1));
        var p = new OraclePipeline(coalescer, new SimpleTerms());
        var stage = new ResolverStage();
        // Four runs (inputs) asking the same question, each numbering it amb#1 as a run does.
        OracleRequest Ask() => PipelineTests.Q("amb#1", "∿lov[joy, pai]", ["joy", "pai"]);

        // Run A's first ask: in flight, held.
        var a = stage.CallAsync(Context(p, Ask()), [Ask()], default, keyed: true);
        Assert.Single(Next(held));
        // Run B's first ask of the same question joins it: no second call.
        var b = stage.CallAsync(Context(p, Ask()), [Ask()], default, keyed: true);
        Assert.Equal(1, coalescer.Shared);
        // Run C retries the question (its first answer was invalid): a call of its own, not A's.
        var c = stage.CallAsync(Context(p, Ask()), [Ask()], default, keyed: true, retry: 1);
        Assert.Equal(1, coalescer.Shared);
        Assert.Single(Next(held));
        // Run D's retry at the same attempt joins C's.
        var d = stage.CallAsync(Context(p, Ask()), [Ask()], default, keyed: true, retry: 1);
        Assert.Equal(2, coalescer.Shared);
        // A second retry is a question again.
        var e = stage.CallAsync(Context(p, Ask()), [Ask()], default, keyed: true, retry: 2);
        Assert.Single(Next(held));
        Assert.Equal(2, coalescer.Shared);

        held.Release.SetResult();
        foreach (var t in new[] { a, b, c, d, e })
        {
            var got = await t.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal("joy", Assert.IsType<OracleResponse>(got["amb#1"]).Substitution);
        }
        Assert.Equal((3, 3), (coalescer.Calls, coalescer.Questions));
        Assert.Empty(held.Arrived);
    }

    [Fact]
    public async Task AKeyedRetryWithoutACoalescerIsAnOrdinaryCall()
    {
        // A run on its own (no coalescer): a retry marked for merging is still one plain call of the oracle.
        var oracle = new FakeOracle(r => new OracleResponse(r.AmbNodeId, r.Args[1], new OracleMetadata { Confidence = 0.9, Model = "fake" }));
        var p = new OraclePipeline(oracle, new SimpleTerms());
        var r = PipelineTests.Q("amb#1", "∿lov[joy, pai]", ["joy", "pai"]);
        var got = await new ResolverStage().CallAsync(Context(p, r), [r], default, keyed: true, retry: 1);
        Assert.Equal("pai", Assert.IsType<OracleResponse>(got["amb#1"]).Substitution);
        Assert.Equal(1, oracle.Calls);
    }
}
