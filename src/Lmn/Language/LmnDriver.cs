using System.Diagnostics;
using Lmn.Hvm;
using Lmn.Net;
using Lmn.Text;
using Lmn.Words;

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

    /// <summary>
    /// Parses `name=value` context bindings. A value that is exactly one LMN word, number or compound
    /// (or a quoted string, or a list of such terms) is that term; anything else is the text itself, as
    /// a string: a context value never causes a parse error. Only an empty name is an error.
    /// </summary>
    public static Dictionary<string, Expr> ParseContext(IEnumerable<KeyValuePair<string, string>> bindings, List<Diagnostic> diags)
    {
        var ctx = new Dictionary<string, Expr>(StringComparer.Ordinal);
        foreach (var (name, value) in bindings)
        {
            if (name.Length == 0)
            {
                diags.Add(new Diagnostic(Severity.Error, new SourceText("--context", value), 0, "a context binding needs a name: expected NAME=VALUE"));
                continue;
            }
            ctx[name] = ContextValue(name, value);
        }
        return ctx;
    }

    /// <summary>One context value: the term it spells exactly, else a string literal of the text.</summary>
    public static Expr ContextValue(string name, string value)
    {
        // Text with a blank and neither brackets nor quotes cannot be one term (a word or number has no
        // blank; a compound, list or string has brackets or quotes): no need to parse it (batch runs read
        // thousands of such messages).
        if (value.AsSpan().IndexOfAny('[', '"') < 0 && value.AsSpan().Trim().ContainsAny(' ', '\t', '\n'))
            return new StrLit(0, value);
        // A quoted string without escapes (what a batch run's JSON strings become): the text between the quotes.
        if (value.Length >= 2 && value[0] == '"' && value[^1] == '"' && value.AsSpan(1, value.Length - 2).IndexOfAny('"', '\\', '\n') < 0)
            return new StrLit(0, value[1..^1]);
        var src = new SourceText($"--context {name}", value);
        var scratch = new List<Diagnostic>();
        Expr? e = null;
        try { e = Parser.ParseExpression(src, scratch); }
        catch (Exception x) when (x is not OutOfMemoryException) { e = null; }
        return e != null && scratch.Count == 0 && IsTerm(e) ? e : new StrLit(0, value);
    }

    /// <summary>The canonical text of a context value, as the oracle request shows it (a string is quoted).</summary>
    public static string ContextText(string name, string value) => ContextValue(name, value) switch
    {
        StrLit s => Printer.Quote(s.Value),
        _ => DataTerms.TryParse(value, out var t, out _) ? DataTerms.Print(t) : value.Trim(),
    };

    private static bool IsTerm(Expr e) => e switch
    {
        Name or NumLit or StrLit => true,
        CompoundLit c => c.Fields.All(IsTerm),
        ListLit l => l.Tail == null && l.Items.All(IsTerm),
        _ => false,
    };

    /// <summary>Checks and compiles a program; null if it has errors (every diagnostic, warnings too, is in diags).</summary>
    /// <param name="phase">Told the name of each phase as it ends (parse, lower, compile): the compile-shapes benchmark times them.</param>
    public static CompiledProgram? Compile(SourceText src, List<Diagnostic> diags, IReadOnlyDictionary<string, Expr>? context = null,
        Action<string>? phase = null)
    {
        var (psrc, past) = s_prelude.Value;
        var ast = Parser.Parse(src, diags);
        phase?.Invoke("parse");
        try
        {
            var core = Lowering.Lower(src, ast, past, psrc, context ?? new Dictionary<string, Expr>(), diags);
            phase?.Invoke("lower");
            if (core == null || diags.Any(d => d.Severity == Severity.Error)) return null;
            var compiled = Compiler.Compile(core);
            phase?.Invoke("compile");
            return compiled;
        }
        catch (NestingTooDeep e)
        {
            int at = e.Offset >= 0 && e.Offset <= src.Text.Length ? e.Offset : 0;
            diags.Add(new Diagnostic(Severity.Error, src, at, e.Message + ", expected less nesting: split the expression with let or def"));
            return null;
        }
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
}
