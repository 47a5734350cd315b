using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Lmn.Language;
using Lmn.Llm;
using Lmn.Net;
using Lmn.Oracles;
using Lmn.Regions;
using Lmn.Runtime;
using Lmn.Text;
using Lmn.Words;

namespace Lmn.Cli;

/// <summary>Options of `lmn repl`: the oracle options of `run`, the context, and the engine's.</summary>
public sealed class ReplOptions
{
    public RunOptions Oracle { get; init; } = new();
    public List<KeyValuePair<string, string>> Context { get; init; } = [];
    public long MaxMemory { get; init; } = Engine.DefaultMaxMemory;
    public bool FastCalls { get; init; } = true;
    public bool Quiet { get; init; }
    /// <summary>A file to load before the first line (`lmn repl FILE`).</summary>
    public string? Load { get; init; }
}

/// <summary>
/// The state of a REPL session (docs/repl.md). Every line is compiled into its own program and reduced by
/// the Model B supervisor, with the session's oracle pipeline (so cache, transcript and counters are the
/// session's), and gets its own region. A value a line keeps (`let x = e`, `def x = e`) is encoded into
/// that line region and transmigrated into the session region (seed 000's eager move), and the line region
/// exits with the closure verifier on. A later line that names x transmigrates x out of the session region
/// into its own line region and reads it from there.
/// </summary>
public sealed partial class ReplSession : IDisposable
{
    // Every exit and reset checks that no live region points into the one that ends (docs/regions.md §5).
    private readonly RegionHeap _heap = new() { VerifyClosure = true };
    private readonly Region _session;
    private readonly Transmigrator _mover = new();
    // The data tags of values in the session region; each line's program has its own table.
    private readonly SymbolTable _symbols = new();
    // Kept values: name -> root port in the session region, in the order they were made.
    private readonly Dictionary<string, uint> _values = new(StringComparer.Ordinal);
    private readonly List<string> _valueOrder = [];
    // Kept definitions that are code (functions): name -> source text, compiled into every line's book.
    private readonly Dictionary<string, string> _defs = new(StringComparer.Ordinal);
    private readonly List<string> _defOrder = [];
    private readonly Dictionary<string, string> _context = new(StringComparer.Ordinal);
    private readonly ReplOptions _options;
    private RunSetup? _setup;
    // The region of the input being evaluated: made when the input first needs one, exited when it ends.
    private Region? _line;
    private OraclePipeline? _pipeline;

    public TextWriter Out { get; }
    public TextWriter Err { get; }

    // Counters for `:stats`.
    public int Lines { get; private set; }
    public int Errors { get; private set; }
    public int RegionsCreated { get; private set; }
    public int RegionsExited { get; private set; }
    public long Interactions { get; private set; }
    public long NodesMovedIn { get; private set; }
    public long NodesMovedOut { get; private set; }

    public ReplSession(ReplOptions options, TextWriter stdout, TextWriter stderr)
    {
        _options = options;
        Out = stdout;
        Err = stderr;
        _session = _heap.Create(1024, 256);
        foreach (var (k, v) in options.Context) _context[k] = v;
    }

    /// <summary>Names of the values kept in the session region.</summary>
    public IReadOnlyList<string> Values => _valueOrder;

    /// <summary>Names of the kept function definitions.</summary>
    public IReadOnlyList<string> Definitions => _defOrder;

    /// <summary>The session region (tests check that it holds exactly the kept values).</summary>
    public Region SessionRegion => _session;

    /// <summary>Regions alive now: the session region, and a line region only while a line runs.</summary>
    public int LiveRegions => _heap.Live.Count;

    /// <summary>Builds (or rebuilds, after `:oracle`) the resolver, cache and transcript; false if that failed.</summary>
    public bool Open()
    {
        var setup = RunCommand.Setup(_options.Oracle, Err);
        if (setup.Failed) return false;
        _setup?.Finish(Err);
        _setup?.Dispose();
        _setup = setup;
        _pipeline = new OraclePipeline(setup.Oracle, new LmnTermChecker(Lexicon.Default), setup.Policies, setup.Cache, setup.Transcript, setup.Resume);
        return true;
    }

    public void Dispose()
    {
        _setup?.Finish(Err);
        _setup?.Dispose();
        _heap.Dispose();
    }

    /// <summary>Switches the resolver (`:oracle NAME`); the old one stays if the new one cannot be built.</summary>
    public bool SetOracle(string name)
    {
        string old = _options.Oracle.Oracle;
        _options.Oracle.Oracle = name;
        bool ok;
        try { ok = Open(); }
        catch (Commands.UsageException e)
        {
            Err.WriteLine($"lmn: {e.Message}");
            ok = false;
        }
        if (!ok)
        {
            _options.Oracle.Oracle = old;
            Err.WriteLine($"lmn: the oracle stays {old}");
        }
        return ok;
    }

    /// <summary>Counts an input that failed outside <see cref="EvalAsync"/> (a command).</summary>
    public void CountError() => Errors++;

    /// <summary>`:context k=v`: binds the anchor @k for the lines that follow.</summary>
    public void SetContext(string name, string value) => _context[name.TrimStart('@')] = value;

    /// <summary>Evaluates one input (a definition, a top-level let, or an expression); false on an error.</summary>
    public async Task<bool> EvalAsync(string chunk, string path, int line, CancellationToken ct)
    {
        Lines++;
        bool ok;
        try
        {
            ok = await EvalCoreAsync(chunk, path, line, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RegionFault or TranscriptWriteException or Commands.UsageException or ProtocolException or OracleConfigurationException)
        {
            Err.WriteLine($"{path}:{line}: error: {e.Message}");
            ok = false;
        }
        finally { EndLine(); }
        if (!ok) Errors++;
        return ok;
    }

    [GeneratedRegex(@"^(let|def)\s+(@?[A-Za-z_][A-Za-z0-9_]*)\s*=")]
    private static partial Regex ValueHead();

    [GeneratedRegex(@"^def\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(")]
    private static partial Regex FunctionHead();

    private async Task<bool> EvalCoreAsync(string chunk, string path, int line, CancellationToken ct)
    {
        if (FunctionHead().Match(chunk) is { Success: true } fm) return DefineFunction(fm.Groups[1].Value, chunk, path, line);
        if (ValueHead().Match(chunk) is { Success: true } vm && !HasTopLevelSemicolon(chunk, vm.Length))
        {
            string name = vm.Groups[2].Value;
            // A file's `def main` is its entry point: run and printed, not kept.
            if (name == "main" && vm.Groups[1].Value == "def") return await PrintAsync(new string(' ', vm.Length) + chunk[vm.Length..], path, line, ct).ConfigureAwait(false);
            // The binding's expression keeps its columns: the `let x =` before it becomes blanks.
            string expr = new string(' ', vm.Length) + chunk[vm.Length..];
            if (chunk[vm.Length..].Trim().Length == 0)
            {
                Err.WriteLine($"{path}:{line}:{vm.Length + 1}: error: expected an expression after '='");
                return false;
            }
            var result = await RunAsync(expr, path, line, exclude: name, ct).ConfigureAwait(false);
            if (result == null) return false;
            var (value, printed) = result.Value;
            if (name.StartsWith('@'))
            {
                // A top-level anchor binding: context for the questions of the lines that follow.
                _context[name[1..]] = printed;
                Out.WriteLine($"{name} = {printed}");
                return true;
            }
            if (IsData(value)) Keep(name, value);
            else
            {
                // A function is code, not data: it is kept as its definition (recompiled into each line).
                SetDef(name, "def " + name + " =" + chunk[vm.Length..]);
            }
            Out.WriteLine($"{name} = {printed}");
            return true;
        }
        return await PrintAsync(chunk, path, line, ct).ConfigureAwait(false);
    }

    private async Task<bool> PrintAsync(string chunk, string path, int line, CancellationToken ct)
    {
        var r = await RunAsync(chunk, path, line, exclude: null, ct).ConfigureAwait(false);
        if (r == null) return false;
        Out.WriteLine(r.Value.Printed);
        return true;
    }

    /// <summary>`def f(x) = ...`: checked by compiling it with the session, then kept as source.</summary>
    private bool DefineFunction(string name, string chunk, string path, int line)
    {
        var prog = Compile(chunk + "\n0", path, line, exclude: name);
        if (prog == null) return false;
        SetDef(name, chunk);
        Out.WriteLine($"{name} defined");
        return true;
    }

    private void SetDef(string name, string source)
    {
        DropValue(name);
        if (!_defs.ContainsKey(name)) _defOrder.Add(name);
        _defs[name] = source;
    }

    private void DropValue(string name)
    {
        // The old value's slots stay in the session region until the session ends (regions have no free
        // list); it is no longer reachable from any name.
        if (_values.Remove(name)) _valueOrder.Remove(name);
    }

    private static bool HasTopLevelSemicolon(string s, int from)
    {
        int depth = 0;
        bool str = false;
        for (int i = from; i < s.Length; i++)
        {
            char c = s[i];
            if (str) { if (c == '\\') i++; else if (c == '"') str = false; continue; }
            switch (c)
            {
                case '"': str = true; break;
                case '#': while (i < s.Length && s[i] != '\n') i++; break;
                case '(' or '[' or '{': depth++; break;
                case ')' or ']' or '}': depth--; break;
                case ';' when depth == 0: return true;
            }
        }
        return false;
    }

    /// <summary>Data can live in a region; functions (and terms that are not values) cannot.</summary>
    private static bool IsData(Term t) => t switch
    {
        TNum or TWord or TStr => true,
        TCompound c => c.Fields.All(IsData),
        TList l => l.Items.All(IsData) && (l.Tail == null || IsData(l.Tail)),
        TAnchored a => IsData(a.Value),
        _ => false,
    };

    /// <summary>
    /// Keeps a value: encoded into a fresh line region, transmigrated into the session region, and the line
    /// region exits (the verifier checks that nothing in the session points into it).
    /// </summary>
    private void Keep(string name, Term value)
    {
        var line = LineRegion;
        uint root = Fragments.Build(line, DataTerms.Encode(value, _symbols));
        uint kept = _mover.Transmigrate([root], line, _session)[0];
        NodesMovedIn += _mover.Last.Nodes;
        _defs.Remove(name);
        _defOrder.Remove(name);
        if (!_values.ContainsKey(name)) _valueOrder.Add(name);
        _values[name] = kept;
    }

    private Region LineRegion
    {
        get
        {
            if (_line == null)
            {
                RegionsCreated++;
                _line = _heap.Create(256, 64);
            }
            return _line;
        }
    }

    /// <summary>The input is done: its region exits whole (the verifier checks that nothing live points into it).</summary>
    private void EndLine()
    {
        if (_line == null) return;
        var line = _line;
        _line = null;
        _heap.RegionExit(line);
        RegionsExited++;
    }

    // A name right after `...` (a spread) or `.` (a lambda body) is a use too.
    [GeneratedRegex(@"(?<![A-Za-z0-9_'@])([A-Za-z_][A-Za-z0-9_]*)(?![A-Za-z0-9_\[])")]
    private static partial Regex Identifier();

    /// <summary>
    /// The program of one line: the line itself at its own line number (blank lines before it, so
    /// diagnostics name the line the user typed), then the session's values that it or a kept definition
    /// names, then the kept definitions.
    /// </summary>
    private CompiledProgram? Compile(string chunk, string path, int line, string? exclude)
    {
        var lineRegion = LineRegion;
        var sb = new StringBuilder();
        sb.Append('\n', Math.Max(0, line - 1)).Append(chunk).Append('\n');
        var named = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match m in Identifier().Matches(chunk)) named.Add(m.Groups[1].Value);
        foreach (string d in _defOrder)
            if (d != exclude)
                foreach (Match m in Identifier().Matches(_defs[d])) named.Add(m.Groups[1].Value);
        // A value a line uses is moved out of the session region into the line's region and read there;
        // the compiler needs its shape (a number is unboxed where every value is one), so it becomes a
        // constant definition of the line's book.
        // A kept value stays visible to the line that rebinds its name (`let n = n + 1` reads the old n);
        // only a kept definition of that name is left out (it is the one being replaced).
        var used = _valueOrder.Where(v => named.Contains(v) && !(v == exclude && _defs.ContainsKey(v))).ToList();
        if (used.Count > 0)
        {
            var copies = _mover.Transmigrate(used.Select(v => _values[v]).ToArray(), _session, lineRegion);
            NodesMovedOut += _mover.Last.Nodes;
            for (int i = 0; i < used.Count; i++)
                sb.Append("def ").Append(used[i]).Append(" = ").Append(Literal(Decode(lineRegion, copies[i]))).Append('\n');
        }
        foreach (string d in _defOrder)
            if (d != exclude) sb.Append(_defs[d]).Append('\n');
        var diags = new List<Diagnostic>();
        var ctx = LmnDriver.ParseContext(_context, diags);
        var src = new SourceText(path, sb.ToString());
        var prog = diags.Count == 0 ? LmnDriver.Compile(src, diags, ctx) : null;
        int first = line, last = line + chunk.Count(c => c == '\n');
        int errors = 0;
        foreach (var d in diags)
        {
            if (d.Severity == Severity.Error) errors++;
            // Warnings about the session's own definitions were shown when they were entered.
            else if (_options.Quiet || d.Source != src || LineOf(src.Text, d.Offset) is int l && (l < first || l > last)) continue;
            Err.WriteLine(d.Render());
        }
        return errors > 0 ? null : prog;
    }

    private static int LineOf(string text, int offset)
    {
        int n = 1;
        for (int i = 0; i < offset && i < text.Length; i++) if (text[i] == '\n') n++;
        return n;
    }

    /// <summary>Compiles and reduces one expression with the session's oracle; null (after an error message) on failure.</summary>
    private async Task<(Term Value, string Printed)?> RunAsync(string chunk, string path, int line, string? exclude, CancellationToken ct)
    {
        var prog = Compile(chunk, path, line, exclude);
        if (prog == null) return null;
        {
            var context = _context.ToDictionary(kv => kv.Key, kv => LmnDriver.ContextText(kv.Key, kv.Value), StringComparer.Ordinal);
            var sup = new Supervisor(prog, _pipeline!, new SupervisorOptions
            {
                Context = context,
                MaxMemory = _options.MaxMemory,
                Threads = _options.Oracle.Threads,
                FastCalls = _options.FastCalls,
                Trace = _options.Oracle.Trace ? l => Err.WriteLine(l) : null,
            });
            var r = await sup.RunAsync(ct).ConfigureAwait(false);
            Interactions += r.Interactions;
            if (r.Error != null)
            {
                Err.WriteLine(r.Error);
                return null;
            }
            return (r.Value!, r.Output!);
        }
    }

    /// <summary>`:type e`: what the whole-program analysis says e can be, without running it.</summary>
    public bool TypeOf(string expr, string path, int line)
    {
        try { return TypeOfCore(expr, path, line); }
        finally { EndLine(); }
    }

    private bool TypeOfCore(string expr, string path, int line)
    {
        var prog = Compile(expr, path, line, exclude: null);
        if (prog == null) return false;
        // Compile again at the level below to reach the analysis (it is not kept in the compiled program).
        var diags = new List<Diagnostic>();
        var src = new SourceText(path, ProgramTextForType(expr, line));
        var ast = Parser.Parse(src, diags);
        var psrc = new SourceText(LmnDriver.PreludePath, LmnDriver.PreludeText);
        var past = Parser.Parse(psrc, diags);
        var rp = Resolver.Resolve(src, ast, past, psrc, LmnDriver.ParseContext(_context, diags), diags);
        if (rp == null) return false;
        var an = new Analysis(rp);
        Out.WriteLine($"{expr.Trim()} : {an.ReturnValue(rp.Main).Describe()}");
        return true;
    }

    private string ProgramTextForType(string expr, int line)
    {
        var sb = new StringBuilder();
        sb.Append('\n', Math.Max(0, line - 1)).Append(expr).Append('\n');
        foreach (string v in _valueOrder)
        {
            uint p = _mover.Transmigrate([_values[v]], _session, LineRegion)[0];
            sb.Append("def ").Append(v).Append(" = ").Append(Literal(Decode(LineRegion, p))).Append('\n');
        }
        foreach (string d in _defOrder) sb.Append(_defs[d]).Append('\n');
        return sb.ToString();
    }

    /// <summary>`:net e`: the compiled nets of the line's main (its definition and the parts lifted from it).</summary>
    public bool NetOf(string expr, string path, int line)
    {
        try
        {
            var prog = Compile(expr, path, line, exclude: null);
            if (prog == null) return false;
            foreach (var d in prog.Book.Defs)
            if (d.Name == "main" || d.Name.StartsWith("main.", StringComparison.Ordinal))
                    Out.WriteLine($"@{d.Name} = {d.Net.Show()}");
            return true;
        }
        finally { EndLine(); }
    }

    /// <summary>`:stats`: the session's counters as `key: value` lines.</summary>
    public void WriteStats()
    {
        var s = _pipeline?.Stats ?? new PipelineStats();
        Out.Write(string.Create(CultureInfo.InvariantCulture, $"""
            lines: {Lines}
            errors: {Errors}
            values: {_valueOrder.Count}{(_valueOrder.Count > 0 ? " (" + string.Join(", ", _valueOrder) + ")" : "")}
            definitions: {_defOrder.Count}{(_defOrder.Count > 0 ? " (" + string.Join(", ", _defOrder) + ")" : "")}
            session_region_nodes: {_session.NodeCount}
            session_region_vars: {_session.VarCount}
            line_regions_created: {RegionsCreated}
            line_regions_exited: {RegionsExited}
            live_regions: {_heap.Live.Count}
            closure_verifier: {(_heap.VerifyClosure ? "on" : "off")}
            nodes_moved_in: {NodesMovedIn}
            nodes_moved_out: {NodesMovedOut}
            interactions: {Interactions}
            oracle: {_options.Oracle.Oracle}
            questions: {s.Questions}
            batches: {s.Batches}
            cache_hits: {s.CacheHits}
            tokens: {s.TokensUsed}

            """));
    }

    /// <summary>Reads a value back out of a region: the inverse of <see cref="DataTerms.Encode(Term, SymbolTable)"/>.</summary>
    private Term Decode(Region r, uint port)
    {
        var (tag, payload) = Datum(r, port);
        if (tag == SymbolTable.BoxTag) return new TNum(Port.ValOf(Follow(r, payload)));
        if (tag == SymbolTable.Nil || tag == SymbolTable.Cons)
        {
            // Lists iteratively: a kept list may be long.
            var items = new List<Term>();
            while (tag == SymbolTable.Cons)
            {
                var (head, tail) = Node(r, payload);
                items.Add(Decode(r, head));
                (tag, payload) = Datum(r, tail);
            }
            if (tag != SymbolTable.Nil) throw new RegionFault($"a list in the session region ends in tag {tag}", r.Id);
            return new TList(items, null);
        }
        if (!_symbols.TryGet(tag, out var sym)) throw new RegionFault($"unknown data tag {tag} in the session region", r.Id);
        switch (sym.Kind)
        {
            case SymKind.Word: return new TWord(sym.Name);
            case SymKind.String: return new TStr(sym.Name);
            case SymKind.Anchored: return new TAnchored(Decode(r, payload), sym.Name);
            case SymKind.Compound:
            {
                var fields = new List<Term>();
                if (sym.Arity > 0)
                {
                    for (int i = 0; i < sym.Arity - 1; i++)
                    {
                        var (f, rest) = Node(r, payload);
                        fields.Add(Decode(r, f));
                        payload = rest;
                    }
                    fields.Add(Decode(r, payload));
                }
                return new TCompound(sym.Name, fields);
            }
            default:
                throw new System.Diagnostics.UnreachableException($"symbol kind {sym.Kind} in the session region");
        }
    }

    private static uint Follow(Region r, uint port)
    {
        while (Port.TagOf(port) == Tag.VAR && r.VarAt(Port.ValOf(port)) is uint next && next != Port.NONE) port = next;
        return port;
    }

    private static (uint Fst, uint Snd) Node(Region r, uint port)
    {
        port = Follow(r, port);
        if (Port.TagOf(port) != Tag.CON) throw new RegionFault($"expected a node in the session region, found port {port:X8}", r.Id);
        ulong n = r.NodeAt(Port.ValOf(port));
        return (Port.Fst(n), Port.Snd(n));
    }

    private static (int Tag, uint Payload) Datum(Region r, uint port)
    {
        var (fst, snd) = Node(r, port);
        fst = Follow(r, fst);
        if (Port.TagOf(fst) != Tag.NUM) throw new RegionFault($"a datum in the session region has no tag (port {fst:X8})", r.Id);
        return ((int)Numb.GetU24(Port.ValOf(fst)), snd);
    }

    /// <summary>A value as LMN source that means exactly it (words quoted, so a name in scope cannot capture them).</summary>
    internal static string Literal(Term t)
    {
        var sb = new StringBuilder();
        Lit(sb, t);
        return sb.ToString();
    }

    private static void Lit(StringBuilder sb, Term t)
    {
        switch (t)
        {
            case TNum: sb.Append('(').Append(Printer.Print(t)).Append(')'); break;
            case TWord w: sb.Append('\'').Append(w.Name); break;
            case TStr s: sb.Append(Printer.Quote(s.Value)); break;
            case TCompound { Head: SymbolTable.PhraseHead, Fields.Count: 2 } p:
                sb.Append('('); Lit(sb, p.Fields[0]); sb.Append(' '); Lit(sb, p.Fields[1]); sb.Append(')');
                break;
            case TCompound { Head: SymbolTable.FlowHead, Fields.Count: 2 } f:
                sb.Append('('); Lit(sb, f.Fields[0]); sb.Append(" → "); Lit(sb, f.Fields[1]); sb.Append(')');
                break;
            case TCompound c:
                sb.Append(c.Head).Append('[');
                for (int i = 0; i < c.Fields.Count; i++) { if (i > 0) sb.Append(", "); Lit(sb, c.Fields[i]); }
                sb.Append(']');
                break;
            case TList l:
                sb.Append('[');
                for (int i = 0; i < l.Items.Count; i++) { if (i > 0) sb.Append(", "); Lit(sb, l.Items[i]); }
                if (l.Tail != null) { sb.Append(", ..."); Lit(sb, l.Tail); }
                sb.Append(']');
                break;
            case TAnchored a:
                sb.Append('('); Lit(sb, a.Value); sb.Append(")@").Append(a.Anchor);
                break;
            default:
                throw new System.Diagnostics.UnreachableException($"{t.GetType().Name} is not data");
        }
    }
}
