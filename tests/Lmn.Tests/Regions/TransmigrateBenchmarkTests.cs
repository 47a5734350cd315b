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

    [Fact]
    public void PrintsTheThreeLines()
    {
        var output = new StringWriter();
        int code = TransmigrateBenchmark.Run(["--nodes", "3000", "--runs", "3", "--warmup", "1"], output);
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
