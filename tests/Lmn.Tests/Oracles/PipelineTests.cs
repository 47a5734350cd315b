using Lmn.Oracles;

namespace Lmn.Tests.Oracles;

/// <summary>A term checker for tests: a term is any non-empty text without top-level commas.</summary>
internal sealed class SimpleTerms : ITermChecker
{
    public bool TryCanonical(string text, out string canonical, out string error)
    {
        canonical = CacheKey.NormaliseSpaces(text);
        error = canonical.Length == 0 ? "empty" : canonical.Contains(' ') && !canonical.Contains('[') ? "more than one term" : "";
        return error == "";
    }

    public bool ContainsAmbiguity(string canonical) => canonical.Contains('∿') || canonical.Contains('~');

    public bool InType(string canonical, string typeExpected) => typeExpected == "Emotions" && canonical is "joy" or "pai" or "ang";
}

/// <summary>An oracle that answers from a function and counts calls.</summary>
internal sealed class FakeOracle(Func<OracleRequest, OracleResult> answer, string identity = "fake") : IOracle
{
    public int Calls;
    public List<int> BatchSizes { get; } = [];
    public string Identity => identity;

    public Task<IReadOnlyList<OracleResult>> AskAsync(IReadOnlyList<OracleRequest> batch, CancellationToken cancellationToken)
    {
        Calls++;
        BatchSizes.Add(batch.Count);
        return Task.FromResult<IReadOnlyList<OracleResult>>(batch.Select(answer).ToList());
    }
}

public class PipelineTests
{
    internal static OracleRequest Q(string id, string expr, string[] args, string kind = "choice", string? type = null, Dictionary<string, string>? bindings = null) => new()
    {
        AmbNodeId = id,
        Kind = kind,
        Expression = expr,
        Args = args,
        TypeExpected = type,
        LexicalBindings = bindings ?? new Dictionary<string, string>(),
        SourceLocation = "t.lmn:1:" + id[4..],
    };

    private static OracleResponse Say(OracleRequest r, string s, double c = 0.9) =>
        new(r.AmbNodeId, s, new OracleMetadata { Confidence = c, Model = "fake" });

    [Fact]
    public async Task IndependentQuestionsGoOutAsOneBatch()
    {
        var oracle = new FakeOracle(r => Say(r, r.Args[0]));
        var p = new OraclePipeline(oracle, new SimpleTerms());
        var answers = await p.AskAsync([Q("amb#1", "∿lov[joy, pai]", ["joy", "pai"]), Q("amb#2", "∿mov[run, sit]", ["run", "sit"])], default);
        Assert.Equal(["joy", "run"], answers.Select(a => a.Substitution));
        Assert.Equal([2], oracle.BatchSizes);
        Assert.Equal((2, 1), (p.Stats.Questions, p.Stats.Batches));
    }

    [Fact]
    public async Task TheSameQuestionTwiceIsAskedOnce()
    {
        var oracle = new FakeOracle(r => Say(r, "pai"));
        var p = new OraclePipeline(oracle, new SimpleTerms());
        var answers = await p.AskAsync([Q("amb#1", "∿lov[joy, pai]", ["joy", "pai"]), Q("amb#2", "∿lov[joy,  pai]", ["joy", "pai"])], default);
        Assert.Equal(["pai", "pai"], answers.Select(a => a.Substitution));
        Assert.Equal(["amb#1", "amb#2"], answers.Select(a => a.Request.AmbNodeId));
        Assert.Equal(1, p.Stats.Questions);
        Assert.Equal(1, p.Stats.Deduplicated);
    }

    [Theory]
    [InlineData("hop", "is not one of the candidates joy, pai")]
    [InlineData("∿lov[joy, pai]", "contains ∿ or ~, which strict mode refuses")]
    [InlineData("", "is not one LMN term")]
    public async Task InvalidAnswersFailNamingTheSite(string answer, string why)
    {
        var p = new OraclePipeline(new FakeOracle(r => Say(r, answer)), new SimpleTerms());
        var e = await Assert.ThrowsAsync<OracleFailure>(() => p.AskAsync([Q("amb#7", "∿lov[joy, pai]", ["joy", "pai"])], default));
        Assert.StartsWith("t.lmn:1:7: error: no valid answer for ∿lov[joy, pai] (amb#7)", e.Message);
        Assert.Contains(why, e.Message);
    }

    [Fact]
    public async Task OpenQuestionsAreCheckedAgainstTheType()
    {
        var p = new OraclePipeline(new FakeOracle(r => Say(r, r.AmbNodeId == "amb#1" ? "ang" : "table")), new SimpleTerms());
        var ok = await p.AskAsync([Q("amb#1", "~feel[x]", ["x"], kind: "open", type: "Emotions")], default);
        Assert.Equal("ang", ok[0].Substitution);
        var e = await Assert.ThrowsAsync<OracleFailure>(() => p.AskAsync([Q("amb#2", "~feel[y]", ["y"], kind: "open", type: "Emotions")], default));
        Assert.Contains("not in the expected type Emotions", e.Message);
    }

    [Fact]
    public async Task RetryThenSucceed()
    {
        int n = 0;
        var oracle = new FakeOracle(r => Say(r, ++n < 3 ? "nonsense" : "pai"));
        var p = new OraclePipeline(oracle, new SimpleTerms(), new OraclePolicies { OnInvalid = InvalidPolicy.Retry, MaxRetries = 2, RetryDelay = TimeSpan.FromMilliseconds(1) });
        var a = await p.AskAsync([Q("amb#1", "∿lov[joy, pai]", ["joy", "pai"])], default);
        Assert.Equal("pai", a[0].Substitution);
        Assert.Equal(2, p.Stats.Retries);
        Assert.Equal(3, oracle.Calls);
    }

    [Fact]
    public async Task FallBackToTheFirstCandidate()
    {
        var p = new OraclePipeline(new FakeOracle(r => new OracleError(r.AmbNodeId, "refused", "no")), new SimpleTerms(),
            new OraclePolicies { OnInvalid = InvalidPolicy.First });
        var a = await p.AskAsync([Q("amb#1", "∿lov[joy, pai]", ["joy", "pai"])], default);
        Assert.Equal(("joy", AnswerSource.Fallback), (a[0].Substitution, a[0].Source));
    }

    [Fact]
    public async Task LowConfidenceEscalatesToTheHuman()
    {
        var human = new FakeOracle(r => Say(r, "pai", 1.0), "human");
        var p = new OraclePipeline(new FakeOracle(r => Say(r, "joy", 0.2)), new SimpleTerms(),
            new OraclePolicies { MinConfidence = 0.5, EscalateLowConfidence = true, Human = human });
        var a = await p.AskAsync([Q("amb#1", "∿lov[joy, pai]", ["joy", "pai"])], default);
        Assert.Equal(("pai", AnswerSource.Human), (a[0].Substitution, a[0].Source));
        Assert.Equal(1, p.Stats.Escalations);
    }

    [Fact]
    public async Task AMissingBatchAnswerIsAnError()
    {
        var oracle = new FakeOracle(r => Say(r, "joy"));
        var p = new OraclePipeline(new DropOne(oracle), new SimpleTerms());
        var e = await Assert.ThrowsAsync<OracleFailure>(() => p.AskAsync([Q("amb#1", "∿lov[joy, pai]", ["joy", "pai"]), Q("amb#2", "∿lov[joy, hop]", ["joy", "hop"])], default));
        Assert.Contains("amb#2", e.Message);
        Assert.Contains("gave no answer", e.Message);
    }

    private sealed class DropOne(IOracle inner) : IOracle
    {
        public string Identity => inner.Identity;
        public async Task<IReadOnlyList<OracleResult>> AskAsync(IReadOnlyList<OracleRequest> batch, CancellationToken ct) =>
            (await inner.AskAsync(batch, ct)).Take(batch.Count - 1).Reverse().ToList();
    }

    [Fact]
    public async Task CacheAnswersTheSecondRunAndAChangedAnchorAsksAgain()
    {
        string dir = Path.Combine(Path.GetTempPath(), "lmn-cache-" + Guid.NewGuid().ToString("N"));
        try
        {
            var now = new Dictionary<string, string> { ["@now"] = "morning" };
            var oracle = new FakeOracle(r => Say(r, "joy"));
            var first = new OraclePipeline(oracle, new SimpleTerms(), cache: new OracleCache(dir));
            await first.AskAsync([Q("amb#1", "∿lov[joy, pai]", ["joy", "pai"], bindings: now)], default);
            // A new process: a fresh memory cache over the same directory.
            var second = new OraclePipeline(oracle, new SimpleTerms(), cache: new OracleCache(dir));
            var a = await second.AskAsync([Q("amb#1", "∿lov[joy, pai]", ["joy", "pai"], bindings: now)], default);
            Assert.Equal((AnswerSource.Cache, 1), (a[0].Source, oracle.Calls));
            var later = new Dictionary<string, string> { ["@now"] = "evening" };
            await second.AskAsync([Q("amb#1", "∿lov[joy, pai]", ["joy", "pai"], bindings: later)], default);
            Assert.Equal(2, oracle.Calls);
            var cache = new OracleCache(dir);
            Assert.Equal(2, cache.Stats().Entries);
            Assert.Equal(2, cache.PurgeBinding("now"));
            Assert.Equal(0, cache.Stats().Entries);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task TranscriptResumesWithoutAskingAgain()
    {
        string path = Path.Combine(Path.GetTempPath(), "lmn-tr-" + Guid.NewGuid().ToString("N") + ".jsonl");
        try
        {
            var oracle = new FakeOracle(r => Say(r, "pai"));
            using (var t = new Transcript(path, "run-1"))
            {
                var p = new OraclePipeline(oracle, new SimpleTerms(), transcript: t);
                await p.AskAsync([Q("amb#1", "∿lov[joy, pai]", ["joy", "pai"])], default);
            }
            // Simulate a crash mid-write: a torn last line.
            File.AppendAllText(path, "{\"ts\": \"2026-");
            var entries = Transcript.Read(path);
            Assert.Equal(["request", "response"], entries.Select(e => e.Type));
            using var t2 = new Transcript(path, "run-2");
            var resumed = new OraclePipeline(oracle, new SimpleTerms(), transcript: t2, resumeFrom: entries);
            var a = await resumed.AskAsync([Q("amb#1", "∿lov[joy, pai]", ["joy", "pai"])], default);
            Assert.Equal(("pai", AnswerSource.Transcript, 1), (a[0].Substitution, a[0].Source, oracle.Calls));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task ReplayAnswersRecordedQuestionsAndNamesTheNearestOtherwise()
    {
        string path = Path.Combine(Path.GetTempPath(), "lmn-tr-" + Guid.NewGuid().ToString("N") + ".jsonl");
        try
        {
            using (var t = new Transcript(path, "run-1"))
            {
                var p = new OraclePipeline(new FakeOracle(r => Say(r, "pai")), new SimpleTerms(), transcript: t);
                await p.AskAsync([Q("amb#1", "∿lov[joy, pai]", ["joy", "pai"])], default);
            }
            var replay = new ReplayOracle(path);
            var ok = await replay.AskAsync([Q("amb#9", "∿lov[joy, pai]", ["joy", "pai"])], default);
            Assert.Equal("pai", Assert.IsType<OracleResponse>(ok[0]).Substitution);
            var missing = await replay.AskAsync([Q("amb#3", "∿lov[joy, hop]", ["joy", "hop"])], default);
            var err = Assert.IsType<OracleError>(missing[0]);
            Assert.Contains("no answer for ∿lov[joy, hop]", err.Message);
            Assert.Contains("nearest recorded question: ∿lov[joy, pai]", err.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task ScriptOracleAnswersByExpressionAndNamesWhatItLacks()
    {
        string path = Path.Combine(Path.GetTempPath(), "lmn-script-" + Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, """{"∿lov[joy, pai]": "joy", "∿mov[run, sit]": {"substitution": "sit", "confidence": 0.3}}""");
        try
        {
            var s = new ScriptOracle(path);
            var r = await s.AskAsync([Q("amb#1", "∿lov[joy,  pai]", ["joy", "pai"]), Q("amb#2", "∿mov[run, sit]", ["run", "sit"]), Q("amb#3", "∿x[a, b]", ["a", "b"])], default);
            Assert.Equal("joy", Assert.IsType<OracleResponse>(r[0]).Substitution);
            Assert.Equal(0.3, Assert.IsType<OracleResponse>(r[1]).Metadata.Confidence);
            Assert.Contains("has no answer for ∿x[a, b]", Assert.IsType<OracleError>(r[2]).Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task FirstOracleTakesTheFirstCandidate()
    {
        var r = await new FirstOracle().AskAsync([Q("amb#1", "∿lov[hop, pai]", ["hop", "pai"]), Q("amb#2", "~explain[x]", ["x"], kind: "open")], default);
        Assert.Equal("hop", Assert.IsType<OracleResponse>(r[0]).Substitution);
        Assert.IsType<OracleError>(r[1]);
    }
}

public class CacheCommandTests
{
    [Fact]
    public async Task StatsAndPurgeByBindingFromTheCommandLine()
    {
        string dir = Path.Combine(Path.GetTempPath(), "lmn-cachecmd-" + Guid.NewGuid().ToString("N"));
        try
        {
            var cache = new OracleCache(dir);
            var p = new OraclePipeline(new FakeOracle(r => new OracleResponse(r.AmbNodeId, r.Args[0], new OracleMetadata())), new SimpleTerms(), cache: cache);
            await p.AskAsync([PipelineTests.Q("amb#1", "∿lov[joy, pai]", ["joy", "pai"], bindings: new() { ["@now"] = "x" }),
                              PipelineTests.Q("amb#2", "∿mov[run, sit]", ["run", "sit"], bindings: new() { ["@self"] = "y" })], default);
            var (code, output, _) = TestUtil.Cli("cache", "stats", "--dir", dir);
            Assert.Equal(0, code);
            Assert.Contains("entries: 2", output);
            Assert.Contains("removed: 1", TestUtil.Cli("cache", "purge", "--binding", "now", "--dir", dir).Out);
            Assert.Contains("entries: 1", TestUtil.Cli("cache", "stats", "--dir", dir).Out);
            Assert.Contains("removed: 1", TestUtil.Cli("cache", "clear", "--dir", dir).Out);
            Assert.Equal(2, TestUtil.Cli("cache", "purge", "--dir", dir).Code);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
