using System.Diagnostics;
using Lmn.Net;
using Lmn.Text;

namespace Lmn.Language;

/// <summary>The outcome of running an LMN program.</summary>
public sealed record LmnRun(string? Output, Term? Value, long Interactions, TimeSpan Time, string? Error);

/// <summary>Parse, check, compile, reduce and read back: the library calls behind `lmn run/check/compile`.</summary>
public static class LmnDriver
{
    public const string PreludePath = "prelude.lmn";

    private static readonly Lazy<(SourceText Src, ProgramAst Ast)> s_prelude = new(() =>
    {
        var src = new SourceText(PreludePath, Lexicon.ReadResource("Lmn.Prelude.lmn"));
        var diags = new List<Diagnostic>();
        var ast = Parser.Parse(src, diags);
        if (diags.Count > 0) throw new InvalidOperationException("the prelude does not parse:\n" + string.Join("\n", diags.Select(d => d.Render())));
        return (src, ast);
    });

    public static string PreludeText => s_prelude.Value.Src.Text;

    /// <summary>Parses `name=value` context bindings; their values are LMN expressions.</summary>
    public static Dictionary<string, Expr> ParseContext(IEnumerable<KeyValuePair<string, string>> bindings, List<Diagnostic> diags)
    {
        var ctx = new Dictionary<string, Expr>(StringComparer.Ordinal);
        foreach (var (name, value) in bindings)
        {
            var src = new SourceText($"--context {name}", value);
            var e = Parser.ParseExpression(src, diags);
            if (e != null) ctx[name] = e;
        }
        return ctx;
    }

    /// <summary>Checks and compiles a program; null if it has errors (every diagnostic, warnings too, is in diags).</summary>
    public static CompiledProgram? Compile(SourceText src, List<Diagnostic> diags, IReadOnlyDictionary<string, Expr>? context = null)
    {
        var ast = Parser.Parse(src, diags);
        var (psrc, past) = s_prelude.Value;
        var core = Lowering.Lower(src, ast, past, psrc, context ?? new Dictionary<string, Expr>(), diags);
        if (core == null || diags.Any(d => d.Severity == Severity.Error)) return null;
        return Compiler.Compile(core);
    }

    /// <summary>A runtime error as the user sees it: `file:line:col: error: message`, the line and a caret.</summary>
    public static string RuntimeError(FailInfo f) => new Diagnostic(Severity.Error, f.Src, f.Offset, f.Message).Render();

    /// <summary>Builds the engine's book: site definitions are marked to park instead of expanding.</summary>
    public static Book BuildBook(CompiledProgram prog)
    {
        var book = Book.FromHvm(prog.Book);
        // A reference meeting a duplicator is copied, never expanded: a definition is a closed term, and
        // expanding one that holds DUPs into a DUP would let them meet (HVM2 has a single DUP label).
        foreach (var d in book.Defs) d.Safe = true;
        foreach (var s in prog.Sites)
            if (book.Fids.TryGetValue(CompiledProgram.SiteDef(s.Id), out int fid)) book.Defs[fid].SiteId = s.Id;
        foreach (var f in prog.Fails)
            if (book.Fids.TryGetValue(Lowering.FailDef(f.Id), out int fid)) book.Defs[fid].Poison = true;
        return book;
    }

    /// <summary>
    /// Reduces main and reads it back without an oracle (tests and tools; `lmn run` uses the Model B
    /// supervisor): a site that is reached (and not dropped) is an error.
    /// </summary>
    public static LmnRun Run(CompiledProgram prog, long maxMemory = Engine.DefaultMaxMemory, bool fastCalls = true)
    {
        var book = BuildBook(prog);
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
        var rb = new ReadBack(engine, prog);
        rb.ScanParked();
        if (rb.Reached.Count > 0)
        {
            var seen = new HashSet<int>();
            var errs = rb.Reached.Where(r => seen.Add(r.Site.Id))
                .Select(r => new Diagnostic(Severity.Error, r.Src, r.Site.Offset, "oracle site reached, but this run has no oracle").Render());
            return new LmnRun(null, null, engine.Interactions, sw.Elapsed, string.Join("\n", errs));
        }
        var value = rb.ReadRoot();
        if (rb.FirstError is { } fail)
            return new LmnRun(null, null, engine.Interactions, sw.Elapsed, RuntimeError(fail));
        return new LmnRun(Printer.Print(value), value, engine.Interactions, sw.Elapsed, null);
    }
}
