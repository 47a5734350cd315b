using System.Diagnostics;
using System.Globalization;
using System.Text;
using Lmn.Debugging;
using Lmn.Hvm;
using Lmn.Net;
using Lmn.Text;

namespace Lmn.Cli;

/// <summary>`lmn viz FILE.lmn|FILE.hvm`: the net as SVG (Graphviz), DOT or JSON (docs/debugger.md).</summary>
public static class VizCommand
{
    public static int Execute(string file, string format, string output, long steps, bool atSites, int limit,
        Dictionary<string, string> ctx, TextWriter stdout, TextWriter stderr)
    {
        if (steps > 0 && atSites) throw new Commands.UsageException("--steps and --at-sites: choose one");
        if (output != "")
        {
            string ext = Path.GetExtension(output).ToLowerInvariant();
            string f = ext switch { ".svg" => "svg", ".dot" or ".gv" => "dot", ".json" => "json", _ => "" };
            if (f == "") throw new Commands.UsageException($"-o {output}: expected a name ending in .svg, .dot or .json");
            if (format != "" && format != f) throw new Commands.UsageException($"--format {format} and -o {output} disagree");
            format = f;
        }
        if (format == "") format = "svg";
        if (format is not ("svg" or "dot" or "json")) throw new Commands.UsageException($"--format {format}: expected svg, dot or json");

        DebugProgram prog;
        try { prog = DebugProgram.Load(file, ctx); }
        catch (DebugLoadException e)
        {
            stderr.WriteLine(e.Message);
            return 1;
        }
        var session = new DebugSession(prog, null, ctx);
        if (atSites) session.RunToPause();
        else if (steps > 0)
        {
            long done = session.StepMany(steps);
            if (done < steps) stderr.WriteLine($"lmn viz: the net has no redex left after {done:N0} interactions (asked for {steps:N0}); drawing it there");
        }
        if (session.Fault != null)
        {
            stderr.WriteLine($"{file}: error: {session.Fault}");
            return 1;
        }
        var pic = session.Picture(limit);
        string text;
        try
        {
            text = format switch
            {
                "dot" => pic.ToDot(),
                "json" => pic.ToJson(),
                _ => Graphviz.ToSvg(pic.ToDot()),
            };
        }
        catch (GraphvizMissing e)
        {
            stderr.WriteLine("lmn viz: " + e.Message);
            return 1;
        }
        if (output == "") stdout.Write(text);
        else
        {
            File.WriteAllText(output, text, new UTF8Encoding(false));
            stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"lmn viz: wrote {output}: {pic.Nodes.Count(n => n.Ports == 3 && n.Kind != "AMB"):N0} of the net's {pic.NetNodes:N0} nodes drawn{(pic.HiddenNodes > 0 ? $" ({pic.HiddenNodes:N0} summarised)" : "")}, {pic.Nodes.Count:N0} shapes with leaves and sites, {pic.PendingRedexes:N0} active pairs, after {session.Net.Interactions:N0} interactions"));
        }
        return 0;
    }
}

/// <summary>`lmn bench viz`: lmn viz on generated nets of 1,000 / 10,000 / 1,000,000 nodes, and a debugger step on 10,000.</summary>
public static class VizBench
{
    /// <summary>An .hvm book whose main is a balanced tree of about n CON nodes with numbers at the leaves.</summary>
    public static string TreeBook(int n, bool erase)
    {
        var sb = new StringBuilder();
        sb.Append(erase ? "@main = * & * ~ " : "@main = ");
        int leaf = 0;
        void Go(int size)
        {
            if (size <= 0) { sb.Append(leaf++ % 1000); return; }
            sb.Append('(');
            int left = (size - 1) / 2;
            Go(left);
            sb.Append(' ');
            Go(size - 1 - left);
            sb.Append(')');
        }
        Go(n);
        sb.Append('\n');
        return sb.ToString();
    }

    public static DebugProgram Program(int n, bool erase)
    {
        var ast = HvmParser.Parse(new SourceText($"tree{n}.hvm", TreeBook(n, erase)));
        return new DebugProgram { Path = $"tree{n}.hvm", SourceText = "", Book = Book.FromHvm(ast) };
    }

    public static int Execute(int limit, int debugLimit, TextWriter stdout, TextWriter stderr)
    {
        var inv = CultureInfo.InvariantCulture;
        stdout.WriteLine($"lmn viz on a balanced tree of CON nodes (limit {limit:N0} drawn nodes; Graphviz dot for SVG)");
        stdout.WriteLine("    nodes   build+boot   model    dot-text   svg (dot)    total     drawn   summarised");
        foreach (int n in new[] { 1_000, 10_000, 1_000_000 })
        {
            var sw = Stopwatch.StartNew();
            var prog = Program(n, erase: false);
            var s = new DebugSession(prog, null);
            double tBoot = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            var pic = s.Picture(limit);
            double tModel = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            string dot = pic.ToDot();
            double tDot = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            string svg;
            try { svg = Graphviz.ToSvg(dot); }
            catch (GraphvizMissing e)
            {
                stderr.WriteLine("lmn bench viz: " + e.Message);
                return 1;
            }
            double tSvg = sw.Elapsed.TotalMilliseconds;
            stdout.WriteLine(string.Create(inv, $"{n,9:N0} {tBoot,9:F0} ms {tModel,6:F0} ms {tDot,7:F0} ms {tSvg,9:F0} ms {tBoot + tModel + tDot + tSvg,7:F0} ms {pic.Nodes.Count(x => x.Kind == "CON"),7:N0} {pic.HiddenNodes,11:N0}  ({pic.Nodes.Count:N0} shapes, {svg.Length / 1024:N0} KB svg)"));
        }

        // A debugger step: one interaction, the picture at the debugger's limit, and its SVG.
        var dbg = new DebugSession(Program(10_000, erase: true), null);
        dbg.StepMany(10);
        long netNodes = dbg.Net.LiveNodes;
        var times = new List<double>();
        var stepTimes = new List<double>();
        for (int k = 0; k < 30; k++)
        {
            var sw = Stopwatch.StartNew();
            dbg.Step();
            stepTimes.Add(sw.Elapsed.TotalMilliseconds);
            var pic = dbg.Picture(debugLimit);
            _ = Graphviz.ToSvg(pic.ToDot());
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        stepTimes.Sort();
        // Going back replays the record from the start: its cost grows with the steps recorded.
        dbg.StepMany(10_000);
        var back = Stopwatch.StartNew();
        dbg.Back(1);
        double tBack = back.Elapsed.TotalMilliseconds;
        stdout.WriteLine(string.Create(inv,
            $"debugger step on a {netNodes:N0}-node net (limit {debugLimit}): median {times[times.Count / 2]:F1} ms step+redraw (max {times[^1]:F1} ms; the step alone {stepTimes[stepTimes.Count / 2] * 1000:F0} µs); target < 100 ms; back 1 step after {dbg.Steps + 1:N0} (a replay) {tBack:F1} ms"));
        return 0;
    }

    /// <summary>How many nodes the debugger draws (the rest summarised): a step and its redraw stay well under 100 ms.</summary>
    public const int DebuggerLimit = 150;
}
