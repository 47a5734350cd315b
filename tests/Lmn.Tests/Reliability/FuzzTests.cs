using Lmn.Cli;

namespace Lmn.Tests.Reliability;

/// <summary>
/// The parsers' fuzz harness at its CI size: 2,000 mutated inputs per parser with a fixed seed (the long
/// run is `lmn bench fuzz`). No exception escapes, every rejection is located, every accepted program's
/// emitted text parses back.
/// </summary>
[Collection("serial")]
public class FuzzTests
{
    /// <summary>
    /// Defects in lead-owned files that the harness finds today, reported to the lead. Each entry is a
    /// substring of the failure; delete it once the fix lands (the harness then guards it).
    /// - Lowering.cs takes a site's id before lowering its candidates, so a ∿ nested in the candidates of
    ///   another gets the same id: `lmn compile --emit hvm` prints `@amb.0` twice.
    /// </summary>
    private static readonly string[] KnownLeadDefects = [];

    [Fact]
    public void TwoThousandInputsPerParser()
    {
        var corpus = Fuzz.Corpus(TestUtil.RepoRoot);
        Assert.Contains(corpus, c => c.Path.EndsWith(".lmn", StringComparison.Ordinal));
        Assert.Contains(corpus, c => c.Path.EndsWith(".hvm", StringComparison.Ordinal));
        var r = Fuzz.Run(corpus, new Fuzz.Options { InputsPerParser = 2000, Seed = 11 });
        Assert.Equal(2000, r.LmnInputs);
        Assert.Equal(2000, r.HvmInputs);
        var real = r.Failures.Where(f => !KnownLeadDefects.Any(k => f.Problem.Contains(k, StringComparison.Ordinal))).ToList();
        Assert.True(real.Count == 0, string.Join("\n", real.Take(10)));
        // Both outcomes are exercised: the mutations are neither all fatal nor all harmless.
        Assert.True(r.LmnAccepted > 100 && r.LmnRejected > 100, $"lmn: {r.LmnAccepted} accepted, {r.LmnRejected} rejected");
        Assert.True(r.HvmAccepted > 100 && r.HvmRejected > 100, $"hvm: {r.HvmAccepted} accepted, {r.HvmRejected} rejected");
    }

    [Fact]
    public void TheSameSeedGivesTheSameRun()
    {
        var corpus = Fuzz.Corpus(TestUtil.RepoRoot);
        var a = Fuzz.Run(corpus, new Fuzz.Options { InputsPerParser = 200, Seed = 5 });
        var b = Fuzz.Run(corpus, new Fuzz.Options { InputsPerParser = 200, Seed = 5 });
        Assert.Equal((a.LmnAccepted, a.HvmAccepted, a.Failures.Count), (b.LmnAccepted, b.HvmAccepted, b.Failures.Count));
    }

    [Fact]
    public void TinyCorpusStillWorks()
    {
        // One line of each kind: mutations of a valid and of a broken program go through both checkers.
        var corpus = new List<(string, byte[])> { ("x.lmn", "joy\n"u8.ToArray()), ("x.hvm", "@main = (a\n"u8.ToArray()) };
        var r = Fuzz.Run(corpus, new Fuzz.Options { InputsPerParser = 50, Seed = 1 });
        Assert.DoesNotContain(r.Failures, f => !KnownLeadDefects.Any(k => f.Problem.Contains(k, StringComparison.Ordinal)));
        Assert.True(r.HvmRejected > 0);
    }

    [Fact]
    public void BenchFuzzPrintsItsFigures()
    {
        var (code, stdout, err) = TestUtil.Cli("bench", "fuzz", "--inputs", "40", "--seed", "3", "--dir", TestUtil.RepoRoot, "--depth", "100", "--line", "1000");
        Assert.True(code is 0 or 1, err);
        Assert.Matches(@"lmn: 40 inputs, \d+ accepted, \d+ rejected with located errors", stdout);
        Assert.Matches(@"hvm: 40 inputs, \d+ accepted, \d+ rejected with located errors", stdout);
        Assert.Matches(@"failures: \d+", stdout);
    }
}
