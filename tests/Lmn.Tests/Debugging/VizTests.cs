using System.Text.Json;
using Lmn.Cli;
using Lmn.Debugging;
using Lmn.Hvm;
using Lmn.Net;
using Lmn.Text;
using Lmn.Words;

namespace Lmn.Tests.Debugging;

/// <summary>The drawing model of `lmn viz` and the debugger, the stepping engine under it, and the command.</summary>
public class VizTests
{
    private static DebugProgram Hvm(string text) =>
        new() { Path = "t.hvm", SourceText = text, Book = Book.FromHvm(HvmParser.Parse(new SourceText("t.hvm", text))) };

    private static string Example(string name) => Path.Combine(TestUtil.RepoRoot, "examples", name);

    [Fact]
    public void The_same_net_gives_the_same_dot_and_json()
    {
        foreach (long steps in new long[] { 0, 40, 300 })
        {
            var a = new DebugSession(DebugProgram.Load(Example("amb_batch.lmn")), null);
            var b = new DebugSession(DebugProgram.Load(Example("amb_batch.lmn")), null);
            a.StepMany(steps);
            b.StepMany(steps);
            Assert.Equal(a.Picture(500).ToDot(), b.Picture(500).ToDot());
            Assert.Equal(a.Picture(500).ToJson(), b.Picture(500).ToJson());
            // And drawing does not change the net: a second picture of the same session is the same.
            Assert.Equal(a.Picture(500).ToDot(), a.Picture(500).ToDot());
        }
    }

    [Fact]
    public void Every_node_and_wire_of_a_small_net_is_drawn()
    {
        // main's net: 4 CON, 2 DUP, 1 OPR, 1 SWI, numbers, an eraser and a reference; one redex.
        const string text = """
            @id = (x x)
            @main = (a (b (c d))) & {e {f g}} ~ ((e f) (g $(2 ?((0 *) 5)))) & @id ~ (a (b (c d)))
            """;
        var s = new DebugSession(Hvm(text), null);
        var pic = s.Picture(500);
        var binary = pic.Nodes.Where(n => n.Kind is "CON" or "DUP" or "OPR" or "SWI").ToList();
        // Every live node of the net is drawn once, at its address.
        Assert.Equal(s.Net.LiveNodes, binary.Count);
        Assert.Equal(binary.Count, binary.Select(n => n.Address).Distinct().Count());
        // Kinds counted from the text independently: '(' CON, '{' DUP, '$(' OPR, '?(' SWI in main's body.
        string body = text.Split("@main =")[1];
        int opr = Count(body, "$("), swi = Count(body, "?(");
        Assert.Equal(Count(body, "(") - opr - swi, binary.Count(n => n.Kind == "CON"));
        Assert.Equal(Count(body, "{"), binary.Count(n => n.Kind == "DUP"));
        Assert.Equal(opr, binary.Count(n => n.Kind == "OPR"));
        Assert.Equal(swi, binary.Count(n => n.Kind == "SWI"));
        Assert.Equal(3, pic.Nodes.Count(n => n.Kind == "NUM"));
        Assert.Single(pic.Nodes, n => n.Kind == "ERA");
        // Every port of every drawn node has exactly one wire.
        foreach (var n in pic.Nodes)
            for (int p = 0; p < n.Ports; p++)
                Assert.Equal(1, pic.Wires.Count(w => (w.From == n.Id && w.FromPort == p) || (w.To == n.Id && w.ToPort == p)));
        // The two pending redexes are active pairs between principal ports, marked by rule.
        var active = pic.Wires.Where(w => w.Active).ToList();
        Assert.Equal(s.Net.PendingRedexes, active.Count);
        Assert.All(active, w => Assert.True(w.FromPort == 0 && w.ToPort == 0));
        Assert.Contains(active, w => w.Rule == "COMM");
        Assert.Contains(active, w => w.Rule == "CALL");
        // DOT names every node and every wire; JSON has them all.
        string dot = pic.ToDot();
        foreach (var n in pic.Nodes) Assert.Contains($"n{n.Id} [id=\"n{n.Id}\"", dot);
        Assert.Equal(pic.Wires.Count, Count(dot, " -- "));
        using var json = JsonDocument.Parse(pic.ToJson());
        Assert.Equal(pic.Nodes.Count, json.RootElement.GetProperty("nodes").GetArrayLength());
        Assert.Equal(pic.Wires.Count, json.RootElement.GetProperty("wires").GetArrayLength());
    }

    private static int Count(string s, string sub)
    {
        int n = 0;
        for (int i = s.IndexOf(sub, StringComparison.Ordinal); i >= 0; i = s.IndexOf(sub, i + sub.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    [Fact]
    public void Above_the_limit_the_rest_is_summarised_with_counts()
    {
        var s = new DebugSession(VizBench.Program(10_000, erase: false), null);
        Assert.Equal(10_000, s.Net.LiveNodes);
        var pic = s.Picture(100);
        int drawn = pic.Nodes.Count(n => n.Kind == "CON");
        Assert.Equal(100, drawn);
        var more = pic.Nodes.Where(n => n.Kind == "MORE").ToList();
        Assert.NotEmpty(more);
        // Every hidden node is counted once: drawn + summarised = the whole net.
        Assert.Equal(10_000 - drawn, pic.HiddenNodes);
        Assert.Equal(pic.HiddenNodes, more.Sum(n => n.Hidden));
        Assert.Contains("summarised", pic.ToDot());
        // Under the limit nothing is summarised.
        var small = new DebugSession(VizBench.Program(50, erase: false), null).Picture(100);
        Assert.DoesNotContain(small.Nodes, n => n.Kind == "MORE");
        Assert.Equal(50, small.Nodes.Count(n => n.Kind == "CON"));
    }

    [Fact]
    public void The_stepping_engine_agrees_with_the_engine()
    {
        // A second implementation of the rules: same interaction count and the same normal form as the
        // main engine (copying calls), on programs with every rule.
        foreach (string f in new[] { "bench/sort_bitonic.hvm", "examples/sum100.hvm", "bench/sum_rec.hvm" })
        {
            var ast = HvmParser.Parse(SourceText.FromFile(Path.Combine(TestUtil.RepoRoot, f)));
            var book = Book.FromHvm(ast);
            using var engine = new Lmn.Net.Engine(book, 1L << 30, fastCalls: false);
            engine.Run();
            var net = new SteppingNet(book, 1L << 30);
            net.Run();
            Assert.Equal(engine.Interactions, net.Interactions);
            Assert.Equal(engine.ReadBack(engine.RootPort).ToString(), net.ReadBack(net.RootPort).ToString());
            Assert.Equal(net.Interactions, net.RuleCounts.Skip(1).Sum());
            // Rule by rule, the two engines (and their RuleCounts) agree.
            Assert.True(engine.Rules.SameInteractions(net.Rules), $"{f}: engine {engine.Rules.Lines()} stepping {net.Rules.Lines()}");
        }
    }

    [Fact]
    public void Going_back_replays_to_the_same_net()
    {
        var s = new DebugSession(DebugProgram.Load(Example("sum.lmn")), null);
        s.StepMany(120);
        string at120 = s.Picture(500).ToDot();
        long itrs = s.Net.Interactions;
        var rules = s.Net.RuleCounts.ToArray();
        s.StepMany(75);
        Assert.NotEqual(at120, s.Picture(500).ToDot());
        s.Back(75);
        Assert.Equal(120, s.Steps);
        Assert.Equal(at120, s.Picture(500).ToDot());
        Assert.Equal(itrs, s.Net.Interactions);
        Assert.Equal(rules, s.Net.RuleCounts);
    }

    [Fact]
    public void Answers_are_replayed_when_going_back_and_sites_get_run_ids()
    {
        var s = new DebugSession(DebugProgram.Load(Example("amb_batch.lmn")), null);
        s.RunToPause();
        var ready = s.Sites.Where(x => x.State == "ready").OrderBy(x => x.Request!.AmbNodeId, StringComparer.Ordinal).ToList();
        Assert.Equal(2, ready.Count);
        // Numbered as `lmn run` numbers them: by expression.
        Assert.Equal("∿lov[joy, pai]", ready[0].Request!.Expression);
        Assert.Equal("amb#1", ready[0].Request!.AmbNodeId);
        Assert.Contains("not a candidate", s.Answer(ready[0].Index, "run"));
        Assert.Null(s.Answer(ready[0].Index, "joy"));
        s.StepMany(5);
        string after = s.Picture(500).ToDot();
        s.Back(3);
        s.StepMany(3);
        Assert.Equal(after, s.Picture(500).ToDot());
        Assert.Null(s.Answer(ready[1].Index, "run"));
        s.RunToPause();
        Assert.True(s.Finished);
        Assert.Equal("fir[joy, run]", s.Result);
        var expected = File.ReadAllLines(Example("amb_batch.expected"));
        Assert.Equal(expected.Single(l => l.StartsWith("- ITRS:", StringComparison.Ordinal)), $"- ITRS: {s.Net.Interactions}");
        Assert.Equal(2, s.Transcript.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void Viz_writes_dot_json_and_svg_and_reports_bad_input()
    {
        string dir = Directory.CreateTempSubdirectory("lmn-viz-").FullName;
        string dot = Path.Combine(dir, "net.dot"), json = Path.Combine(dir, "net.json"), svg = Path.Combine(dir, "net.svg");
        var (code, _, err) = TestUtil.Cli("viz", Example("amb_batch.lmn"), "--at-sites", "-o", dot);
        Assert.True(code == 0, err);
        string text = File.ReadAllText(dot);
        Assert.StartsWith("graph net {", text);
        Assert.Contains("∿lov[joy, pai]", text);
        Assert.Contains("amb_batch.lmn:3:5", text);
        Assert.Contains("ready", text);
        (code, _, err) = TestUtil.Cli("viz", Example("sum.lmn"), "--steps", "10", "-o", json);
        Assert.True(code == 0, err);
        var ten = new DebugSession(DebugProgram.Load(Example("sum.lmn")), null);
        ten.StepMany(10);
        Assert.Equal(ten.Picture(NetPicture.DefaultLimit).ToJson(), File.ReadAllText(json));
        (code, _, err) = TestUtil.Cli("viz", Example("sum.lmn"), "-o", svg);
        Assert.True(code == 0, err);
        string s = File.ReadAllText(svg);
        Assert.StartsWith("<svg", s);
        Assert.Contains("id=\"n0\"", s);
        // Bad input: a clear message and a failing status.
        (code, _, err) = TestUtil.Cli("viz", Example("sum.lmn"), "-o", Path.Combine(dir, "net.png"));
        Assert.Equal(2, code);
        Assert.Contains("expected a name ending in .svg, .dot or .json", err);
        (code, _, err) = TestUtil.Cli("viz", Path.Combine(dir, "missing.lmn"));
        Assert.Equal(1, code);
        Assert.Contains("no such file", err);
        string bad = TestUtil.TempFile("def f(x) = \nf(", ".lmn");
        (code, _, err) = TestUtil.Cli("viz", bad);
        Assert.Equal(1, code);
        Assert.Matches(@":\d+:\d+: error", err);
    }

    [Fact]
    public void Debug_reports_bad_input_before_it_listens()
    {
        var (code, _, err) = TestUtil.Cli("debug", Path.Combine(Path.GetTempPath(), "no-such-file.lmn"));
        Assert.Equal(1, code);
        Assert.Contains("no such file", err);
        (code, _, err) = TestUtil.Cli("debug", Example("sum.lmn"), "--port", "70000");
        Assert.Equal(2, code);
        Assert.Contains("--port 70000", err);
        (code, _, err) = TestUtil.Cli("debug", Example("sum.lmn"), "--frobnicate");
        Assert.Equal(2, code);
        Assert.Contains("unknown option '--frobnicate'", err);
        string bad = TestUtil.TempFile("@main = (a", ".hvm");
        (code, _, err) = TestUtil.Cli("debug", bad);
        Assert.Equal(1, code);
        Assert.Matches(@":\d+:\d+: error", err);
    }

    [Fact]
    public async Task The_configured_oracle_answers_a_site_asked_from_the_session()
    {
        var pipeline = new Lmn.Oracles.OraclePipeline(new Lmn.Oracles.ScriptOracle(Example("answers.json")), new Lmn.Language.LmnTermChecker(Lmn.Words.Lexicon.Default));
        var s = new DebugSession(DebugProgram.Load(Example("amb_batch.lmn")), pipeline);
        s.RunToPause();
        var mov = s.Sites.Single(x => x.Request?.Expression == "∿mov[run, sit]");
        var lov = s.Sites.Single(x => x.Request?.Expression == "∿lov[joy, pai]");
        var ask = s.StartAsk(mov.Index, CancellationToken.None, out string? error);
        Assert.NotNull(ask);
        Assert.Null(error);
        Assert.Equal("asked", mov.State);
        await ask.Answer;
        Assert.Null(s.FinishAsk(ask));
        Assert.Equal("answered", mov.State);
        Assert.Equal("run", mov.Answer);
        Assert.Equal("script", mov.Oracle);
        Assert.NotNull(mov.TimeMs);
        // An answer that comes after the run went back is not used.
        var late = s.StartAsk(lov.Index, CancellationToken.None, out _);
        Assert.NotNull(late);
        await late.Answer;
        s.Back(0);
        Assert.Contains("went back", s.FinishAsk(late));
        var lov2 = s.Sites.Single(x => x.Request?.Expression == "∿lov[joy, pai]");
        Assert.Equal("ready", lov2.State);
        // Run to the end asks the oracle at the pause.
        await s.RunToEndAsync(CancellationToken.None);
        Assert.Equal("answered", lov2.State);
        Assert.Equal("fir[joy, run]", s.Result);
    }
}
