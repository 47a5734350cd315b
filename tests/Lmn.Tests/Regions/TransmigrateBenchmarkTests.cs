using System.Diagnostics;
using Lmn.Cli;
using Lmn.Net;
using Lmn.Regions;
using Xunit;
using Xunit.Abstractions;
using static Lmn.Tests.Regions.RegionGraphs;

namespace Lmn.Tests.Regions;

/// <summary>The benchmark: its output format, and that the baseline it compares against moves the same graph.</summary>
public sealed class TransmigrateBenchmarkTests(ITestOutputHelper output)
{
    /// <summary>
    /// The full benchmark, by hand only (no timed assertion, and it takes seconds): set LMN_BENCH=1 and run
    /// <c>dotnet test tests/Lmn.Tests -c Release --filter Category=Bench --logger "console;verbosity=detailed"</c>.
    /// </summary>
    [Fact]
    [Trait("Category", "Bench")]
    public void FullBenchmark()
    {
        if (Environment.GetEnvironmentVariable("LMN_BENCH") != "1") return;
        var text = new StringWriter();
        Assert.Equal(0, TransmigrateBenchmark.Run([], text));
        output.WriteLine(text.ToString());
    }

    /// <summary>
    /// The table behind the switch point in docs/regions.md, by hand only (LMN_BENCH=1, as above): a chain of R
    /// nodes with back edges inside a source of S slots, moved with the dense map and with the table alone.
    /// </summary>
    [Fact]
    [Trait("Category", "Bench")]
    public void SwitchPointTable()
    {
        if (Environment.GetEnvironmentVariable("LMN_BENCH") != "1") return;
        int[] blocks = [10, 100, 1000, 10_000, 100_000, 1_000_000];
        foreach (int s in new[] { 1 << 14, 1 << 16, 1 << 18, 1 << 20, 1 << 22 })
        {
            using var heap = new RegionHeap { VerifyClosure = false };
            var src = heap.Create((uint)s + 2, 16);
            var dst = heap.Create((uint)s + 2, 16);
            var rng = new Random(3);
            for (int i = 0; i < s; i++) src.AllocNode(Era, Era);
            // Independent blocks: in each, fst leads to the next node, snd back to a random earlier one.
            var starts = new Dictionary<int, uint>();
            uint at = 1;
            foreach (int b in blocks)
            {
                if (at + b > s + 1) break;
                starts[b] = at;
                for (uint k = 0; k < b; k++)
                    src.SetNode(at + k, k + 1 < b ? Con(at + k + 1) : Era, Dup(at + (uint)rng.Next((int)k + 1)));
                at += (uint)b;
            }
            var t = new Transmigrator();
            var line = $"S={s}:";
            foreach (var (r, start) in starts)
            {
                double Time(uint minSlots, uint divisor)
                {
                    t.DictionaryMinSlots = minSlots;
                    t.PromoteDivisor = divisor;
                    var us = new double[7];
                    for (int k = 0; k < us.Length; k++)
                    {
                        dst.Reset();
                        long t0 = Stopwatch.GetTimestamp();
                        t.Transmigrate([Con(start)], src, dst);
                        us[k] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
                    }
                    Array.Sort(us);
                    return us[us.Length / 2];
                }
                double dense = Time(uint.MaxValue, 0), table = Time(0, 0);
                line += $"  R={r}: {dense:F1} / {table:F1} us";
            }
            output.WriteLine(line);
        }
    }

    [Fact]
    public void PrintsTheThreeLines()
    {
        var output = new StringWriter();
        int code = TransmigrateBenchmark.Run(["--nodes", "3000", "--runs", "3", "--warmup", "1", "--sites", "0"], output);
        Assert.Equal(0, code);
        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Matches(@"^nodes_per_s: \d+$", lines[0].TrimEnd('\r'));
        Assert.Matches(@"^dictionary_nodes_per_s: \d+$", lines[1].TrimEnd('\r'));
        Assert.Matches(@"^ratio: \d+\.\d\d$", lines[2].TrimEnd('\r'));
    }

    [Fact]
    public void RejectsUnknownOptions()
    {
        Assert.Throws<ArgumentException>(() => TransmigrateBenchmark.Run(["--what"], new StringWriter()));
        Assert.Throws<ArgumentException>(() => TransmigrateBenchmark.Run(["--nodes", "0"], new StringWriter()));
    }

    [Fact]
    public void BaselineAndTransmigratorAgreeOnTheBenchmarkGraph()
    {
        using var heap = NewHeap();
        var third = heap.Create();
        var src = heap.Create();
        uint[] roots = TransmigrateBenchmark.BuildGraph(src, third, 20_000, 3);
        var fast = heap.Create();
        var slow = heap.Create();
        var mark = Mark.Of(fast);
        uint[] a = Transmigration.Transmigrate(roots, src, fast);
        CheckMove(src, roots, fast, a, mark);
        mark = Mark.Of(slow);
        uint[] b = TransmigrateBenchmark.DictionaryCopy(roots, src, slow);
        CheckMove(src, roots, slow, b, mark);
        AssertIsomorphic(fast, a, slow, b);
        Assert.Equal(20_000u, fast.NodeCount - 1);
        heap.RegionExit(src);
    }
}
