using Lmn.Cli;
using Lmn.Hvm;
using Lmn.Net;
using Lmn.Runtime;

namespace Lmn.Tests.Net;

/// <summary>Interactions per rule: hand-counted small nets, every path agrees, and `-s` prints them.</summary>
public class RuleCountsTests
{
    // Each row: a program, its result, and its counts worked out by hand from the rules
    // (CALL VOID ERAS ANNI COMM OPER SWIT). Booting @main ~ ROOT is one CALL.
    public static TheoryData<string, string, long[]> HandCounted() => new()
    {
        // @k ~ (1 a): CALL; (x x) ~ (1 a): ANNI.
        { "@main = a & @k ~ (1 a)\n@k = (x x)", "1", [2, 0, 0, 1, 0, 0, 0] },
        // 5 ~ $([+1] r): OPER.
        { "@main = r & 5 ~ $([+1] r)", "6", [1, 0, 0, 0, 0, 1, 0] },
        // * ~ (1 2): ERAS, then * ~ 1 and * ~ 2: VOID twice.
        { "@main = * & * ~ (1 2)", "*", [1, 2, 1, 0, 0, 0, 0] },
        // (1 2) ~ {x y}: COMM, then 1 ~ {..} and 2 ~ {..}: ERAS twice.
        { "@main = (x y) & (1 2) ~ {x y}", "((1 2) (1 2))", [1, 0, 2, 0, 1, 0, 0] },
        // 0 ~ ?((5 6) r): SWIT; (r *) ~ (5 6): ANNI; * ~ 6: VOID.
        { "@main = r & 0 ~ ?((5 6) r)", "5", [1, 1, 0, 1, 0, 0, 1] },
        // 2 ~ ?((5 (p q)) r): SWIT; (* (1 r)) ~ (5 (p q)): ANNI, * ~ 5: VOID, (1 r) ~ (p q): ANNI.
        { "@main = r & 2 ~ ?((5 (p p)) r)", "1", [1, 1, 0, 2, 0, 0, 1] },
    };

    [Theory]
    [MemberData(nameof(HandCounted))]
    public void CountsAsWorkedOutByHand(string program, string result, long[] counts)
    {
        foreach (bool fast in new[] { true, false })
        {
            var o = HvmRunner.Run(HvmParser.Parse("t.hvm", program), 64L << 20, io: null, fastCalls: fast);
            Assert.Null(o.Error);
            Assert.Equal(result, o.Output);
            long[] got = [o.Rules.Call, o.Rules.Void, o.Rules.Eras, o.Rules.Anni, o.Rules.Comm, o.Rules.Oper, o.Rules.Swit];
            Assert.Equal(counts, got);
            Assert.Equal(counts.Sum(), o.Interactions);
            Assert.Equal(o.Interactions, o.Rules.Total);
        }
    }

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (string dir in new[] { "examples", "bench" })
            foreach (string f in Directory.GetFiles(Path.Combine(TestUtil.RepoRoot, dir), "*.hvm").Order(StringComparer.Ordinal))
                if (!File.ReadAllText(f).Contains("0xD0CA11")) data.Add(dir + "/" + Path.GetFileName(f));
        return data;
    }

    /// <summary>The seven counted rules do not depend on the path (fast calls, plain copying) or the thread count.</summary>
    [Theory]
    [MemberData(nameof(Files))]
    public void SameCountsOnEveryPath(string file)
    {
        var ast = HvmParser.Parse(Lmn.Text.SourceText.FromFile(Path.Combine(TestUtil.RepoRoot, file)));
        var plain = HvmRunner.Run(ast, 1L << 30, io: null, fastCalls: false);
        var fast = HvmRunner.Run(ast, 1L << 30, io: null, fastCalls: true);
        var two = HvmRunner.Run(ast, 1L << 30, io: null, fastCalls: true, threads: 2);
        Assert.Null(plain.Error);
        Assert.True(plain.Rules.SameInteractions(fast.Rules), $"plain {plain.Rules} fast {fast.Rules}");
        Assert.True(plain.Rules.SameInteractions(two.Rules), $"plain {plain.Rules} two threads {two.Rules}");
        Assert.Equal(plain.Interactions, plain.Rules.Total);
    }

    [Fact]
    public void StatsPrintOneLinePerRule()
    {
        string path = TestUtil.TempFile("@main = r & 0 ~ ?((5 6) r)");
        var (code, stdout, _) = TestUtil.Cli("run", path, "-s");
        Assert.Equal(0, code);
        var lines = stdout.Split('\n');
        foreach (string rule in Rule.Names) Assert.Single(lines, l => l.StartsWith($"- {rule}: ", StringComparison.Ordinal));
        Assert.Contains("- SWIT: 1", lines);
        Assert.Contains("- ANNI: 1", lines);
        Assert.Contains("- ITRS: 4", lines);
    }

    [Fact]
    public void LmnStatsPrintOneLinePerRule()
    {
        var (code, _, stderr) = TestUtil.Cli("run", Path.Combine(TestUtil.RepoRoot, "examples", "sum.lmn"), "-s", "-q");
        Assert.Equal(0, code);
        var kv = stderr.Split('\n').Where(l => l.Contains(": ")).Select(l => l.Split(": ", 2))
            .GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.First()[1].Trim());
        long sum = 0;
        foreach (string rule in Rule.Names)
        {
            Assert.True(kv.ContainsKey("rule_" + rule.ToLowerInvariant()), stderr);
            if (rule != "LINK") sum += long.Parse(kv["rule_" + rule.ToLowerInvariant()], System.Globalization.CultureInfo.InvariantCulture);
        }
        Assert.Equal(long.Parse(kv["interactions"], System.Globalization.CultureInfo.InvariantCulture), sum);
        Assert.True(sum > 0);
    }

    [Fact]
    public void IndexerAndNamesAgree()
    {
        var c = new RuleCounts { Link = 1, Call = 2, Void = 3, Eras = 4, Anni = 5, Comm = 6, Oper = 7, Swit = 8 };
        Assert.Equal(Enumerable.Range(1, 8).Select(i => (long)i), Enumerable.Range(0, 8).Select(r => c[r]));
        Assert.Equal(2 + 3 + 4 + 5 + 6 + 7 + 8, c.Total);
        Assert.Equal(Rule.Names, c.ByName().Select(kv => kv.Key));
    }
}
