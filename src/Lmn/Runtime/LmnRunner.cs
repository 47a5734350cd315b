using System.Diagnostics;
using Lmn.Language;
using Lmn.Net;
using Lmn.Text;

namespace Lmn.Runtime;

/// <summary>Runs a compiled LMN program without an oracle (tests and tools).</summary>
public static class LmnRunner
{
    /// <summary>
    /// Reduces main and reads it back without an oracle (tests and tools; `lmn run` uses the Model B
    /// supervisor): a site that is reached (and not dropped) is an error.
    /// </summary>
    public static LmnRun Run(CompiledProgram prog, long maxMemory = Engine.DefaultMaxMemory, bool fastCalls = true)
    {
        var book = LmnDriver.BuildBook(prog);
        using var engine = new Engine(book, maxMemory, fastCalls);
        var sw = Stopwatch.StartNew();
        try
        {
            engine.Run();
        }
        catch (Exception e) when (e is EngineFault or NumericFault)
        {
            return new LmnRun(null, null, engine.Interactions, sw.Elapsed, $"{prog.MainPath}: error: {e.Message}");
        }
        sw.Stop();
        var watch = new SiteWatch(engine, prog);
        watch.ScanParked();
        if (watch.Reached.Count > 0)
        {
            var seen = new HashSet<int>();
            var errs = watch.Reached.Where(r => seen.Add(r.Site.Id))
                .Select(r => new Diagnostic(Severity.Error, r.Src, r.Site.Offset, "oracle site reached, but this run has no oracle").Render());
            return new LmnRun(null, null, engine.Interactions, sw.Elapsed, string.Join("\n", errs));
        }
        var rb = new ReadBack(engine, prog);
        var value = rb.ReadRoot();
        if (rb.FirstError is { } fail)
            return new LmnRun(null, null, engine.Interactions, sw.Elapsed, LmnDriver.RuntimeError(fail));
        return new LmnRun(Printer.Print(value), value, engine.Interactions, sw.Elapsed, null);
    }
}
