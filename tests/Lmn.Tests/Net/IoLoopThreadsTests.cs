using System.Text;
using Lmn.Hvm;
using Lmn.Net;

namespace Lmn.Tests.Net;

/// <summary>
/// Issue 11, item 8: the IO loop at several threads starts its worker threads once, runs the many short
/// normalisations on one thread, and still spreads a long normalisation over every thread.
/// </summary>
public class IoLoopThreadsTests
{
    private const string Magic = "(0xD0CA11 0xFF1FF1)";
    private int _n;
    private string V() => "v" + _n++;

    private string Str(string s)
    {
        string v = V();
        string acc = $"((0 {v}) {v})";
        foreach (byte b in Encoding.UTF8.GetBytes(s).Reverse())
        {
            string r = V();
            acc = $"((1 ({b} ({acc} {r}))) {r})";
        }
        return acc;
    }

    /// <summary>`calls` WRITE calls of "x" in a chain, then IO_DONE 7.</summary>
    private string Chain(int calls)
    {
        string r0 = V();
        string acc = $"((0 ({Magic} (7 {r0}))) {r0})";
        for (int i = 0; i < calls; i++)
        {
            string r = V();
            acc = $"((1 ({Magic} ({Str("WRITE")} ((1 {Str("x")}) ((* {acc}) {r}))))) {r})";
        }
        return "@main = " + acc + "\n";
    }

    private static T OnBigStack<T>(Func<T> f)
    {
        T result = default!;
        Exception? error = null;
        var t = new Thread(() => { try { result = f(); } catch (Exception e) { error = e; } }, 256 << 20);
        t.Start();
        t.Join();
        if (error != null) throw new InvalidOperationException("failed", error);
        return result;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(8)]
    public void ManyIoCallsStartNoThreadPerNormalisation(int threads)
    {
        const int calls = 1000;
        var book = OnBigStack(() => Book.FromHvm(HvmParser.Parse("chain.hvm", Chain(calls))));
        var output = new MemoryStream();
        using var engine = new ParallelEngine(book, threads);
        OnBigStack(() => { engine.RunIo(new IoHost { StdIn = Stream.Null, StdOut = output, StdErr = Stream.Null }); return 0; });
        Assert.Equal(new string('x', calls), Encoding.ASCII.GetString(output.ToArray()));
        Assert.True(engine.Normalizations > calls, $"{engine.Normalizations} normalisations");
        Assert.Equal(threads - 1, engine.ThreadsStarted);  // once, not once per normalisation
        Assert.Equal(0, engine.SpreadNormalizations);      // each was short: worker 0 alone
    }

    [Fact]
    public void ALongNormalisationStillSpreadsWithTheSameResult()
    {
        string path = Path.Combine(TestUtil.RepoRoot, "bench", "sum_tree.hvm");
        var ast = HvmParser.Parse(Lmn.Text.SourceText.FromFile(path));
        var one = Lmn.Runtime.HvmRunner.Run(ast, 1L << 30, null, threads: 1);
        using var engine = new ParallelEngine(Book.FromHvm(ast), 2, 1L << 30);
        for (int run = 0; run < 3; run++)
        {
            engine.Run();
            var sb = new StringBuilder();
            engine.ReadBack(engine.RootPort).Write(sb);
            Assert.Equal(one.Output, sb.ToString());
            if (engine.SpreadNormalizations > 0) break;
        }
        Assert.True(engine.SpreadNormalizations > 0, "a 44M-interaction normalisation never woke the second worker");
        Assert.Equal(1, engine.ThreadsStarted);
    }
}
