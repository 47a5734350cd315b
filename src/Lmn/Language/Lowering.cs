using System.Runtime.CompilerServices;
using Lmn.Net;
using Lmn.Text;

namespace Lmn.Language;

/// <summary>A definition after lowering: its net name, its LMN name and its core body.</summary>
public sealed record CoreDef(string NetName, string LmnName, Core Body, bool IsFunction, bool IsPrelude);

/// <summary>The result of checking and lowering a program.</summary>
public sealed class CoreProgram
{
    public List<CoreDef> Defs { get; } = [];
    public SymbolTable Symbols { get; } = new();
    public List<SiteInfo> Sites { get; } = [];
    public List<SourceText> SiteSources { get; } = [];
    public string MainPath { get; set; } = "";
    public Dictionary<string, Expr> Context { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Scope rules and lowering. Bound names are variables, `def` names are references, every other
/// identifier is a word. Reports every scope mistake (unbound anchor, duplicate definition, wrong
/// pattern arity, ...) as a diagnostic and goes on, then turns the surface syntax into core terms:
/// data become (tag, payload) pairs, `if` and `match` become switches.
/// </summary>
public sealed class Lowering
{
    private enum Kind { Var, LamVar, Anchor }

    private sealed class Env(string name, Kind kind, Binder binder, Env? parent)
    {
        public string Name { get; } = name;
        public Kind Kind { get; } = kind;
        public Binder Binder { get; } = binder;
        public Env? Parent { get; } = parent;

        public Env? Find(string name, bool anchor)
        {
            for (var e = this; e != null; e = e.Parent)
                if (e.Name == name && (e.Kind == Kind.Anchor) == anchor) return e;
            return null;
        }
    }

    private sealed record DefSrc(Definition Def, SourceText Src, string NetName, bool Prelude);

    private readonly List<Diagnostic> _diags;
    private readonly Lexicon _lex;
    private readonly CoreProgram _out = new();
    private readonly Dictionary<string, DefSrc> _userDefs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DefSrc> _preludeDefs = new(StringComparer.Ordinal);
    private readonly HashSet<string> _usedWords = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (HashSet<int> Arities, int Offset, SourceText Src)> _built = new(StringComparer.Ordinal);
    private readonly HashSet<string> _warnedWords = new(StringComparer.Ordinal);
    private readonly Queue<DefSrc> _pending = new();
    private readonly HashSet<string> _queued = new(StringComparer.Ordinal);
    private int _binderIds;
    private IReadOnlySet<string> _broken = new HashSet<string>();

    // Per-definition state while lowering.
    private SourceText _src = null!;
    private bool _inPrelude;
    private string _curDef = "";

    private Lowering(List<Diagnostic> diags, Lexicon lex)
    {
        _diags = diags;
        _lex = lex;
    }

    /// <summary>
    /// Checks and lowers a parsed program with the prelude in scope. Context anchors (`--context now=x`)
    /// are in scope in the whole program. Returns null when there were errors (all reported in diags).
    /// </summary>
    public static CoreProgram? Lower(SourceText src, ProgramAst ast, ProgramAst prelude, SourceText preludeSrc,
        IReadOnlyDictionary<string, Expr> context, List<Diagnostic> diags, Lexicon? lexicon = null)
    {
        var l = new Lowering(diags, lexicon ?? Lexicon.Default);
        l._out.MainPath = src.Path;
        foreach (var (k, v) in context) l._out.Context[k] = v;
        int errors = diags.Count(d => d.Severity == Severity.Error);
        l.Run(src, ast, prelude, preludeSrc);
        return diags.Count(d => d.Severity == Severity.Error) > errors ? null : l._out;
    }

    private void Error(int offset, string msg) => _diags.Add(new Diagnostic(Severity.Error, _src, offset, msg));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Warn(int offset, string msg)
    {
        if (!_inPrelude) _diags.Add(new Diagnostic(Severity.Warning, _src, offset, msg));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private string Where(SourceText src, int offset)
    {
        var (l, c) = src.LineColumn(offset);
        return src == _src ? $"{l}:{c}" : $"{src.Path}:{l}:{c}";
    }

    private Binder NewBinder(string name) => new(name, _binderIds++);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Run(SourceText src, ProgramAst ast, ProgramAst prelude, SourceText preludeSrc)
    {
        foreach (var d in prelude.Defs)
            _preludeDefs.TryAdd(d.Name, new DefSrc(d, preludeSrc, "std." + d.Name, true));
        _src = src;
        _broken = ast.Broken ?? new HashSet<string>();
        foreach (var d in ast.Defs)
        {
            if (_userDefs.TryGetValue(d.Name, out var first))
                Error(d.Offset, $"duplicate definition '{d.Name}', first defined at {Where(first.Src, first.Def.Offset)}; expected each name once");
            else _userDefs[d.Name] = new DefSrc(d, src, d.Name, false);
        }

        // Pass 1: which identifiers are used as words, and with which arities compounds are built.
        _src = preludeSrc;
        foreach (var d in prelude.Defs) Collect(d.Body, new HashSet<string>(d.Params.Select(p => p.Id)), true);
        _src = src;
        foreach (var d in ast.Defs) Collect(d.Body, new HashSet<string>(d.Params.Select(p => p.Id)), false);
        if (ast.Main != null) Collect(ast.Main, [], false);
        foreach (var v in _out.Context.Values) Collect(v, [], false);

        // Entry point.
        bool hasMainDef = _userDefs.TryGetValue("main", out var mainDef);
        if (ast.Main != null && hasMainDef)
            Error(ast.Main.Offset, $"a program expression and a 'def main' (at {Where(src, mainDef!.Def.Offset)}), expected one entry point");
        else if (ast.Main == null && !hasMainDef && ast.Broken?.Contains("main") != true)
            Error(src.Text.Length, "no entry point, expected 'def main = ...' or an expression at the end of the file");

        // Pass 2: lower every user definition (so all of them are checked) and what main reaches.
        _src = src;
        if (ast.Main != null && !hasMainDef)
        {
            _curDef = "main";
            _out.Defs.Add(new CoreDef("main", "main", LowerExpr(ast.Main, null), false, false));
        }
        foreach (var d in ast.Defs)
            if (_queued.Add(d.Name)) LowerDef(_userDefs[d.Name]);
        while (_pending.Count > 0) LowerDef(_pending.Dequeue());
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void LowerDef(DefSrc ds)
    {
        var d = ds.Def;
        var saveSrc = _src;
        _src = ds.Src;
        _inPrelude = ds.Prelude;
        _curDef = d.Name;
        Env? env = null;
        var binders = new List<Binder>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in d.Params)
        {
            if (!seen.Add(p.Id)) Error(p.Offset, $"parameter '{p.Id}' appears twice in 'def {d.Name}', expected distinct names");
            var b = NewBinder(p.Id);
            binders.Add(b);
            env = new Env(p.Id, Kind.LamVar, b, env);
        }
        Core body = LowerExpr(d.Body, env);
        for (int i = binders.Count - 1; i >= 0; i--) body = new CLam(binders[i], body);
        bool isFn = d.Params.Count > 0 || d.Body is Lambda;
        _out.Defs.Add(new CoreDef(ds.NetName, d.Name, body, isFn, ds.Prelude));
        _src = saveSrc;
        _inPrelude = false;
    }

    // Pass 1
    // ------

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Collect(Expr e, HashSet<string> bound, bool prelude)
    {
        switch (e)
        {
            case Name n:
                if (!bound.Contains(n.Id) && !_userDefs.ContainsKey(n.Id) && !_preludeDefs.ContainsKey(n.Id)) _usedWords.Add(n.Id);
                break;
            case CompoundLit c:
                _usedWords.Add(c.Head);
                if (!_built.TryGetValue(c.Head, out var b)) _built[c.Head] = b = ([], c.Offset, _src);
                b.Arities.Add(c.Fields.Count);
                foreach (var f in c.Fields) Collect(f, bound, prelude);
                break;
            case ListLit l:
                foreach (var f in l.Items) Collect(f, bound, prelude);
                if (l.Tail != null) Collect(l.Tail, bound, prelude);
                break;
            case Anchored a: Collect(a.Body, bound, prelude); break;
            case Lambda lam: Collect(lam.Body, With(bound, lam.Params.Select(p => p.Id)), prelude); break;
            case Apply ap: Collect(ap.Fn, bound, prelude); Collect(ap.Arg, bound, prelude); break;
            case LetIn li: Collect(li.Value, bound, prelude); Collect(li.Body, With(bound, PatNames(li.Pattern)), prelude); break;
            case LetAnchor la: Collect(la.Value, bound, prelude); Collect(la.Body, bound, prelude); break;
            case IfThen it: Collect(it.Cond, bound, prelude); Collect(it.Then, bound, prelude); Collect(it.Else, bound, prelude); break;
            case MatchExpr m:
                Collect(m.Scrutinee, bound, prelude);
                foreach (var arm in m.Arms) Collect(arm.Body, With(bound, PatNames(arm.Pattern)), prelude);
                break;
            case Binary bi: Collect(bi.Left, bound, prelude); Collect(bi.Right, bound, prelude); break;
            case Unary u: Collect(u.Operand, bound, prelude); break;
            case SiteExpr s:
                _usedWords.Add(s.Head);
                foreach (var a in s.Args) Collect(a, bound, prelude);
                if (s.Tail != null) Collect(s.Tail, bound, prelude);
                break;
            case Typed t: Collect(t.Body, bound, prelude); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static HashSet<string> With(HashSet<string> s, IEnumerable<string> more)
    {
        var r = new HashSet<string>(s, StringComparer.Ordinal);
        foreach (var m in more) r.Add(m);
        return r;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static IEnumerable<string> PatNames(Pattern p)
    {
        switch (p)
        {
            case PName n: yield return n.Id; break;
            case PSucc s: foreach (var x in PatNames(s.Pred)) yield return x; break;
            case PCompound c: foreach (var f in c.Fields) foreach (var x in PatNames(f)) yield return x; break;
            case PList l:
                foreach (var f in l.Items) foreach (var x in PatNames(f)) yield return x;
                if (l.Tail != null) foreach (var x in PatNames(l.Tail)) yield return x;
                break;
        }
    }

    // Expressions
    // -----------

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Core Word(int offset, string name)
    {
        if (!_lex.Contains(name) && !_inPrelude && _warnedWords.Add(name))
        {
            var sugg = _lex.Suggest(name);
            Warn(offset, $"'{name}' is not a Limn word" + (sugg.Count > 0 ? $"; did you mean {string.Join(", ", sugg)}?" : ""));
        }
        return Datum(_out.Symbols.Word(name));
    }

    private static Core Datum(int tag) => new CPair(new CNum(Numb.NewU24((uint)tag)), CEra.I);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Core Payload(IReadOnlyList<Core> fields)
    {
        if (fields.Count == 0) return CEra.I;
        Core p = fields[^1];
        for (int i = fields.Count - 2; i >= 0; i--) p = new CPair(fields[i], p);
        return p;
    }

    private static Core Tagged(int tag, IReadOnlyList<Core> fields) => new CPair(new CNum(Numb.NewU24((uint)tag)), Payload(fields));

    private static Core Nil() => Datum(SymbolTable.Nil);

    private static Core ConsOf(Core h, Core t) => Tagged(SymbolTable.Cons, [h, t]);

    private static CNum U24(long v) => new(Numb.NewU24((uint)v));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Core ListOf(IEnumerable<Core> items, Core? tail = null)
    {
        var list = items.ToList();
        Core r = tail ?? Nil();
        for (int i = list.Count - 1; i >= 0; i--) r = ConsOf(list[i], r);
        return r;
    }

    private bool AnchorBound(string name, Env? env) => env?.Find(name, anchor: true) != null || _out.Context.ContainsKey(name);

    private void UnboundAnchor(int offset, string name) =>
        Error(offset, $"unbound anchor @{name}; bind it with --context {name}=... or let @{name} = ...");

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Core LowerExpr(Expr e, Env? env)
    {
        switch (e)
        {
            case NumLit n: return new CNum(n.Numb);
            case StrLit s: return Datum(_out.Symbols.String(s.Value));
            case Name n:
            {
                var b = env?.Find(n.Id, anchor: false);
                if (b != null) return new CVar(b.Binder);
                if (ResolveDef(n.Id) is { } net) return new CRef(net);
                if (!_inPrelude && _broken.Contains(n.Id)) return CEra.I;
                return Word(n.Offset, n.Id);
            }
            case AnchorRef a:
            {
                var b = env?.Find(a.Anchor, anchor: true);
                if (b != null) return new CVar(b.Binder);
                if (_out.Context.TryGetValue(a.Anchor, out var v))
                {
                    bool save = _inPrelude;
                    _inPrelude = true; // no lexicon warnings for context values here
                    var c = LowerExpr(v, null);
                    _inPrelude = save;
                    return c;
                }
                UnboundAnchor(a.Offset, a.Anchor);
                return CEra.I;
            }
            case Anchored an:
                // Anchoring only labels a value, so the printed `v@name` parses back anywhere; an anchor
                // no context binds is likely a typo, so it is a warning.
                if (!AnchorBound(an.Anchor, env))
                    Warn(an.Offset, $"anchor @{an.Anchor} is not bound here; bind it with --context {an.Anchor}=... or let @{an.Anchor} = ... to give the oracle its value");
                return Tagged(SymbolTable.AnchoredTag, [LowerExpr(an.Body, env), U24(_out.Symbols.Word(an.Anchor))]);
            case CompoundLit c:
                if (!_lex.Contains(c.Head) && !_inPrelude && _warnedWords.Add(c.Head)) Word(c.Offset, c.Head);
                return Tagged(_out.Symbols.Compound(c.Head, c.Fields.Count), c.Fields.Select(f => LowerExpr(f, env)).ToList());
            case ListLit l:
                return ListOf(l.Items.Select(i => LowerExpr(i, env)).ToList(), l.Tail == null ? null : LowerExpr(l.Tail, env));
            case Lambda lam:
            {
                var bs = new List<Binder>();
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var p in lam.Params)
                {
                    if (!seen.Add(p.Id)) Error(p.Offset, $"parameter '{p.Id}' appears twice in the lambda, expected distinct names");
                    var b = NewBinder(p.Id);
                    bs.Add(b);
                    env = new Env(p.Id, Kind.LamVar, b, env);
                }
                Core body = LowerExpr(lam.Body, env);
                for (int i = bs.Count - 1; i >= 0; i--) body = new CLam(bs[i], body);
                return body;
            }
            case Apply ap: return new CApp(LowerExpr(ap.Fn, env), LowerExpr(ap.Arg, env));
            case LetIn li: return LowerLet(li, env);
            case LetAnchor la:
            {
                var v = LowerExpr(la.Value, env);
                var b = NewBinder("@" + la.Anchor);
                return new CLet(b, v, LowerExpr(la.Body, new Env(la.Anchor, Kind.Anchor, b, env)));
            }
            case IfThen it:
            {
                if (it.Cond is Binary { Op: Tok.EqEq or Tok.NotEq, Right: NumLit { Numb: var z } } bc && Numb.GetU24(z) == 0 && Numb.TypeOf(z) == Numb.TY_U24)
                {
                    var x = LowerExpr(bc.Left, env);
                    var a = LowerExpr(it.Then, env);
                    var b = LowerExpr(it.Else, env);
                    return bc.Op == Tok.EqEq ? new CSwitch(x, a, null, b) : new CSwitch(x, b, null, a);
                }
                var c = LowerExpr(it.Cond, env);
                var t = LowerExpr(it.Then, env);
                var f = LowerExpr(it.Else, env);
                return new CSwitch(c, f, null, t);
            }
            case MatchExpr m: return LowerMatch(m, env);
            case Binary bi: return LowerBinary(bi, env);
            case Unary u:
            {
                var x = LowerExpr(u.Operand, env);
                return u.Op == Tok.Bang ? new COp(Numb.OP_EQ, x, U24(0)) : new COp(Numb.OP_SUB, U24(0), x);
            }
            case SiteExpr s: return LowerSite(s, env);
            case Typed t:
                Warn(t.Offset, $"': {t.Type}' only applies to a ∿ or ~ question, expected one right before ':'");
                return LowerExpr(t.Body, env);
            case BadExpr: return CEra.I;
            default: throw new System.Diagnostics.UnreachableException($"expression {e.GetType().Name}");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private string? ResolveDef(string name)
    {
        DefSrc? ds = null;
        if (!_inPrelude && _userDefs.TryGetValue(name, out var u)) ds = u;
        else if (_preludeDefs.TryGetValue(name, out var p)) ds = p;
        if (ds == null) return null;
        if (_queued.Add(ds.NetName)) _pending.Enqueue(ds);
        return ds.NetName;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Core LowerBinary(Binary bi, Env? env)
    {
        switch (bi.Op)
        {
            case Tok.AndAnd:
                return new CSwitch(LowerExpr(bi.Left, env), U24(0), null, new COp(Numb.OP_NEQ, LowerExpr(bi.Right, env), U24(0)));
            case Tok.OrOr:
                return new CSwitch(LowerExpr(bi.Left, env), new COp(Numb.OP_NEQ, LowerExpr(bi.Right, env), U24(0)), null, U24(1));
            case Tok.EqEq or Tok.NotEq when AtomTag(bi.Right, env) is int || AtomTag(bi.Left, env) is int:
            {
                // Comparing with a word or string literal compares data tags.
                bool right = AtomTag(bi.Right, env) is int;
                int tag = AtomTag(right ? bi.Right : bi.Left, env)!.Value;
                var other = LowerExpr(right ? bi.Left : bi.Right, env);
                var t = NewBinder("tag");
                return new CLetPair(t, null, other, new COp(bi.Op == Tok.EqEq ? Numb.OP_EQ : Numb.OP_NEQ, new CVar(t), U24(tag)));
            }
        }
        var a = LowerExpr(bi.Left, env);
        var b = LowerExpr(bi.Right, env);
        return bi.Op switch
        {
            Tok.Plus => new COp(Numb.OP_ADD, a, b),
            Tok.Minus => new COp(Numb.OP_SUB, a, b),
            Tok.Star => new COp(Numb.OP_MUL, a, b),
            Tok.Slash => new COp(Numb.OP_DIV, a, b),
            Tok.Percent => new COp(Numb.OP_REM, a, b),
            Tok.EqEq => new COp(Numb.OP_EQ, a, b),
            Tok.NotEq => new COp(Numb.OP_NEQ, a, b),
            Tok.Lt => new COp(Numb.OP_LT, a, b),
            Tok.Gt => new COp(Numb.OP_GT, a, b),
            Tok.Le => new COp(Numb.OP_XOR, new COp(Numb.OP_GT, a, b), U24(1)),
            Tok.Ge => new COp(Numb.OP_XOR, new COp(Numb.OP_LT, a, b), U24(1)),
            Tok.Amp => new COp(Numb.OP_AND, a, b),
            Tok.Pipe => new COp(Numb.OP_OR, a, b),
            Tok.Caret => new COp(Numb.OP_XOR, a, b),
            Tok.Shl => new COp(Numb.OP_SHL, a, b),
            Tok.Shr => new COp(Numb.OP_SHR, a, b),
            _ => throw new System.Diagnostics.UnreachableException($"operator {bi.Op}"),
        };
    }

    /// <summary>The tag of a literal word, string or empty compound, if the expression is one.</summary>
    private int? AtomTag(Expr e, Env? env) => e switch
    {
        StrLit s => _out.Symbols.String(s.Value),
        Name n when env?.Find(n.Id, anchor: false) == null && ResolveDefName(n.Id) == null => _out.Symbols.Word(n.Id),
        _ => null,
    };

    private string? ResolveDefName(string name) =>
        !_inPrelude && _userDefs.ContainsKey(name) ? name : _preludeDefs.ContainsKey(name) ? "std." + name : null;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Core LowerSite(SiteExpr s, Env? env)
    {
        int id = _out.Sites.Count;
        var cands = ListOf(s.Args.Select(a => LowerExpr(a, env)).ToList(), s.Tail == null ? null : LowerExpr(s.Tail, env));
        var anchors = new List<Core>();
        var anchorNames = new List<string>();
        var guards = new List<Core>();
        var guardNames = new List<string>();
        var seenA = new HashSet<string>(StringComparer.Ordinal);
        for (var e = env; e != null; e = e.Parent)
        {
            if (e.Kind == Kind.Anchor && seenA.Add(e.Name))
            {
                anchors.Add(Tagged(SymbolTable.AnchoredTag, [new CVar(e.Binder), U24(_out.Symbols.Word(e.Name))]));
                anchorNames.Add("@" + e.Name);
            }
            else if (e.Kind == Kind.LamVar)
            {
                guards.Add(new CVar(e.Binder));
                guardNames.Add(e.Name);
            }
        }
        foreach (var k in _out.Context.Keys.Order(StringComparer.Ordinal))
            if (seenA.Add(k)) anchorNames.Add("@" + k);
        _out.Symbols.Word(s.Head);
        var args = new CPair(cands, new CPair(ListOf(anchors), ListOf(guards)));
        var (line, col) = _src.LineColumn(s.Offset);
        string text = _src.Text[s.Offset..Math.Min(s.End, _src.Text.Length)];
        string? type = s.Type ?? _lex.Find(s.Head)?.Type;
        _out.Sites.Add(new SiteInfo(id, $"amb.{id}", s.Open, s.Head, text, $"{_src.Path}:{line}:{col}", s.Offset, type,
            anchorNames, [_curDef], s.Args.Count, guardNames));
        _out.SiteSources.Add(_src);
        if (!_lex.Contains(s.Head) && !_inPrelude && _warnedWords.Add(s.Head)) Word(s.Offset, s.Head);
        return new CSite(id, args);
    }

    // let
    // ---

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Core LowerLet(LetIn li, Env? env)
    {
        var value = LowerExpr(li.Value, env);
        _inLetPattern = true;
        CheckDuplicateNames(li.Pattern);
        _inLetPattern = false;
        var binds = new List<(string Name, Binder B)>();
        var build = BindIrrefutable(li.Pattern, value, binds);
        var inner = env;
        foreach (var (n, b) in binds) inner = new Env(n, Kind.Var, b, inner);
        return build(LowerExpr(li.Body, inner));
    }

    /// <summary>
    /// Destructures without testing: `let head[a, b] = e` opens e's payload, whatever its tag (use `match`
    /// to test). Returns a function that wraps the body in the bindings.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Func<Core, Core> BindIrrefutable(Pattern p, Core value, List<(string, Binder)> binds)
    {
        switch (p)
        {
            case PName n:
            {
                var b = NewBinder(n.Id);
                binds.Add((n.Id, b));
                return body => new CLet(b, value, body);
            }
            case PWild: return body => body;
            case PCompound c:
            {
                CheckArity(c);
                return OpenFields(c.Fields, value, binds);
            }
            case PList l when l.Items.Count == 0 && l.Tail != null: return BindIrrefutable(l.Tail, value, binds);
            case PList l when l.Items.Count > 0:
            {
                var rest = new PList(l.Offset, l.Items.Skip(1).ToList(), l.Tail);
                return OpenFields([l.Items[0], rest], value, binds);
            }
            case PList: return body => body;
            case PBad: return body => body;
            default:
                Error(p.Offset, "a let pattern that can fail (a number or a string), expected a variable, _, head[...] or a list; use match to test a value");
                return body => body;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Func<Core, Core> OpenFields(IReadOnlyList<Pattern> fields, Core value, List<(string, Binder)> binds)
    {
        var pay = NewBinder("pay");
        var inner = new List<Func<Core, Core>>();
        var fieldBinders = new List<Binder>();
        foreach (var f in fields)
        {
            var fb = NewBinder("f");
            fieldBinders.Add(fb);
            inner.Add(BindIrrefutable(f, new CVar(fb), binds));
        }
        return body =>
        {
            for (int i = inner.Count - 1; i >= 0; i--) body = inner[i](body);
            body = OpenPayload(fieldBinders, new CVar(pay), body);
            return new CLetPair(null, pay, value, body);
        };
    }

    /// <summary>Binds a payload's fields: none (erased), one (the payload itself), or nested pairs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Core OpenPayload(IReadOnlyList<Binder> fields, Core pay, Core body)
    {
        if (fields.Count == 0) return body;
        if (fields.Count == 1) return new CLet(fields[0], pay, body);
        var rest = new List<Core>();
        Core cur = pay;
        var lets = new List<(Binder? A, Binder? B, Core V)>();
        for (int i = 0; i < fields.Count - 1; i++)
        {
            var restB = i == fields.Count - 2 ? fields[^1] : NewBinder("rest");
            lets.Add((fields[i], restB, cur));
            cur = new CVar(restB);
        }
        for (int i = lets.Count - 1; i >= 0; i--) body = new CLetPair(lets[i].A, lets[i].B, lets[i].V, body);
        return body;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CheckArity(PCompound c)
    {
        if (_built.TryGetValue(c.Head, out var b) && !b.Arities.Contains(c.Fields.Count))
        {
            string ar = string.Join(" or ", b.Arities.Order());
            Error(c.Offset, $"pattern {c.Head}[...] has {c.Fields.Count} field{(c.Fields.Count == 1 ? "" : "s")}, expected {ar} as {c.Head} is built at {Where(b.Src, b.Offset)}");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CheckDuplicateNames(Pattern p)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Walk(Pattern q)
        {
            switch (q)
            {
                case PName n when !IsWordPattern(n):
                    if (!seen.Add(n.Id)) Error(n.Offset, $"'{n.Id}' is bound twice in one pattern, expected distinct names");
                    break;
                case PSucc s: Walk(s.Pred); break;
                case PCompound c: foreach (var f in c.Fields) Walk(f); break;
                case PList l:
                    foreach (var f in l.Items) Walk(f);
                    if (l.Tail != null) Walk(l.Tail);
                    break;
            }
        }
        Walk(p);
    }

    private bool _inLetPattern;

    /// <summary>In a match, an identifier is a word pattern if the program uses that word in an expression or it is a Limn word.</summary>
    private bool IsWordPattern(PName n) => !_inLetPattern && (_usedWords.Contains(n.Id) || _lex.Contains(n.Id));

    /// <summary>Warns where a pattern names a Limn word that its arm then uses as if it were a variable.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WarnWordPatterns(Arm arm)
    {
        foreach (var n in PatternNames(arm.Pattern))
        {
            if (_usedWords.Contains(n.Id) || !_lex.Contains(n.Id) || !Mentions(arm.Body, n.Id)) continue;
            Warn(n.Offset, $"'{n.Id}' in this pattern is the Limn word {n.Id}, not a variable; rename the variable to bind the value");
        }
    }

    private static IEnumerable<PName> PatternNames(Pattern p) => p switch
    {
        PName n => [n],
        PSucc s => PatternNames(s.Pred),
        PCompound c => c.Fields.SelectMany(PatternNames),
        PList l => l.Items.SelectMany(PatternNames).Concat(l.Tail == null ? [] : PatternNames(l.Tail)),
        _ => [],
    };

    private static bool Mentions(Expr e, string id) => e switch
    {
        Name n => n.Id == id,
        Apply a => Mentions(a.Fn, id) || Mentions(a.Arg, id),
        Binary b => Mentions(b.Left, id) || Mentions(b.Right, id),
        Unary u => Mentions(u.Operand, id),
        CompoundLit c => c.Fields.Any(f => Mentions(f, id)),
        ListLit l => l.Items.Any(f => Mentions(f, id)) || (l.Tail != null && Mentions(l.Tail, id)),
        LetIn li => Mentions(li.Value, id) || Mentions(li.Body, id),
        IfThen it => Mentions(it.Cond, id) || Mentions(it.Then, id) || Mentions(it.Else, id),
        Lambda la => Mentions(la.Body, id),
        Anchored an => Mentions(an.Body, id),
        _ => false,
    };

    // match
    // -----

    private sealed record Row(List<Pattern> Pats, List<(string Name, Core Value)> Binds, Arm Arm);

    private Env? _matchEnv;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Core LowerMatch(MatchExpr m, Env? env)
    {
        var scrut = LowerExpr(m.Scrutinee, env);
        if (m.Arms.Count == 0) return CEra.I;
        var s = NewBinder("scrut");
        var rows = new List<Row>();
        bool catchAll = false;
        foreach (var arm in m.Arms)
        {
            CheckDuplicateNames(arm.Pattern);
            CheckPatternArities(arm.Pattern);
            WarnWordPatterns(arm);
            if (catchAll) Warn(arm.Offset, "unreachable match arm: an earlier arm matches every value");
            if (Irrefutable(Normalize(arm.Pattern))) catchAll = true;
            rows.Add(new Row([Normalize(arm.Pattern)], [], arm));
        }
        CheckKinds(m);
        var saveEnv = _matchEnv;
        _matchEnv = env;
        var body = Compile([s], rows);
        _matchEnv = saveEnv;
        return new CLet(s, scrut, body);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CheckPatternArities(Pattern p)
    {
        switch (p)
        {
            case PCompound c: CheckArity(c); foreach (var f in c.Fields) CheckPatternArities(f); break;
            case PList l:
                foreach (var f in l.Items) CheckPatternArities(f);
                if (l.Tail != null) CheckPatternArities(l.Tail);
                break;
            case PSucc s: CheckPatternArities(s.Pred); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CheckKinds(MatchExpr m)
    {
        Pattern? num = null, data = null;
        foreach (var arm in m.Arms)
        {
            var p = Normalize(arm.Pattern);
            if (p is PNum or PSucc) num ??= p;
            else if (!Irrefutable(p) && p is not PBad) data ??= p;
        }
        if (num != null && data != null)
        {
            var later = num.Offset > data.Offset ? num : data;
            Error(later.Offset, "this match mixes number patterns and word/list patterns, expected one kind (numbers are not data)");
        }
    }

    /// <summary>Folds `k+(j+p)` into `(k+j)+p`, `k+n` into the number k+n, `0+p` into p, and `[...t]` into t.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Pattern Normalize(Pattern p)
    {
        switch (p)
        {
            case PSucc s:
            {
                var inner = Normalize(s.Pred);
                if (inner is PNum n && Numb.TypeOf(n.Numb) == Numb.TY_U24) return new PNum(s.Offset, Numb.NewU24(s.K + Numb.GetU24(n.Numb)));
                if (inner is PSucc s2) return new PSucc(s.Offset, s.K + s2.K, s2.Pred);
                if (s.K == 0) return inner;
                return new PSucc(s.Offset, s.K, inner);
            }
            case PList { Items.Count: 0, Tail: { } t }: return Normalize(t);
            default: return p;
        }
    }

    private bool Irrefutable(Pattern p) => p is PWild or PBad || (p is PName n && !IsWordPattern(n));

    private Core NoMatch() => Datum(_out.Symbols.Word("no_match"));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Core Compile(List<Binder> cols, List<Row> rows)
    {
        if (rows.Count == 0) return NoMatch();
        var r0 = rows[0];
        int i = r0.Pats.FindIndex(p => !Irrefutable(p));
        if (i < 0)
        {
            var binds = new List<(string, Core)>(r0.Binds);
            for (int j = 0; j < cols.Count; j++)
                if (r0.Pats[j] is PName n) binds.Add((n.Id, new CVar(cols[j])));
            return LowerArm(r0.Arm, binds);
        }
        var p0 = r0.Pats[i];
        if (p0 is PNum or PSucc) return CompileNum(cols, i, rows, new CVar(cols[i]), 0);
        return CompileData(cols, i, rows);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Core LowerArm(Arm arm, List<(string Name, Core Value)> binds)
    {
        var env = _matchEnv;
        var lets = new List<(Binder, Core)>();
        foreach (var (name, value) in binds)
        {
            var b = NewBinder(name);
            lets.Add((b, value));
            env = new Env(name, Kind.Var, b, env);
        }
        var saveEnv = _matchEnv;
        var body = LowerExpr(arm.Body, env);
        _matchEnv = saveEnv;
        for (int i = lets.Count - 1; i >= 0; i--) body = new CLet(lets[i].Item1, lets[i].Item2, body);
        return body;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Row Replace(Row r, int i, IEnumerable<Pattern> with, (string, Core)? bind = null)
    {
        var pats = new List<Pattern>(r.Pats);
        pats.RemoveAt(i);
        pats.InsertRange(i, with);
        var binds = new List<(string, Core)>(r.Binds);
        if (bind != null) binds.Add(bind.Value);
        return r with { Pats = pats, Binds = binds };
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static List<Binder> ReplaceCol(List<Binder> cols, int i, IEnumerable<Binder> with)
    {
        var r = new List<Binder>(cols);
        r.RemoveAt(i);
        r.InsertRange(i, with);
        return r;
    }

    /// <summary>Column i holds numbers; `cur` is the column's value minus j (every row left matches values >= j).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Core CompileNum(List<Binder> cols, int i, List<Row> rows, Core cur, uint j)
    {
        Core ValuePlus(long k) => k == 0 ? cur : new COp(Numb.OP_ADD, cur, U24(k));
        var lits = new List<uint>();
        bool small = true;
        foreach (var r in rows)
        {
            switch (r.Pats[i])
            {
                case PNum n:
                    if (Numb.TypeOf(n.Numb) != Numb.TY_U24) small = false;
                    else lits.Add(Numb.GetU24(n.Numb));
                    break;
                case PSucc s when s.K > j: lits.Add(s.K); break;
            }
        }
        if (small && lits.Count == 0)
        {
            // Every row matches any value >= j here: bind and drop the column.
            var rest = rows.Select(r => r.Pats[i] switch
            {
                PName n => Replace(r, i, [], (n.Id, ValuePlus(j))),
                PSucc { Pred: PName pn } s => Replace(r, i, [], (pn.Id, ValuePlus(j - s.K))),
                _ => Replace(r, i, []),
            }).ToList();
            return Compile(ReplaceCol(cols, i, []), rest);
        }
        if (small && lits.Min() - j <= 8)
        {
            // Switch on the value: 0 means the value is j.
            var zero = new List<Row>();
            var succ = new List<Row>();
            foreach (var r in rows)
            {
                switch (r.Pats[i])
                {
                    case PNum n:
                        if (Numb.GetU24(n.Numb) == j) zero.Add(Replace(r, i, []));
                        else if (Numb.GetU24(n.Numb) > j) succ.Add(r);
                        break;
                    case PSucc s:
                        if (s.K <= j) zero.Add(s.Pred is PName pn ? Replace(r, i, [], (pn.Id, U24(j - s.K))) : Replace(r, i, []));
                        succ.Add(r);
                        break;
                    case PName n:
                        zero.Add(Replace(r, i, [], (n.Id, U24(j))));
                        succ.Add(r);
                        break;
                    default:
                        zero.Add(Replace(r, i, []));
                        succ.Add(r);
                        break;
                }
            }
            var pred = NewBinder("pred");
            var z = Compile(ReplaceCol(cols, i, []), zero);
            var sc = CompileNum(cols, i, succ, new CVar(pred), j + 1);
            // Keep the switch's pred unbound if no row needed it (it is erased).
            return new CSwitch(cur, z, pred, sc);
        }
        {
            // Large, signed or float literal: test equality with the first one.
            var lit = rows.Select(r => r.Pats[i]).OfType<PNum>().FirstOrDefault();
            if (lit == null)
            {
                // Only k+p patterns with a large k: test value < k, and go on from k when it is not.
                uint k = rows.Select(r => r.Pats[i]).OfType<PSucc>().Where(s => s.K > j).Min(s => s.K);
                var b = NewBinder("n");
                var lt = rows.Where(r => r.Pats[i] is not PSucc s || s.K < k).ToList();
                var ge = new CLet(b, new COp(Numb.OP_SUB, cur, U24(k - j)), CompileNum(cols, i, rows, new CVar(b), k));
                return new CSwitch(new COp(Numb.OP_LT, ValuePlus(j), U24(k)), ge, null, CompileNum(cols, i, lt, cur, j));
            }
            var eq = new List<Row>();
            var ne = new List<Row>();
            uint v = lit.Numb;
            bool isU = Numb.TypeOf(v) == Numb.TY_U24;
            foreach (var r in rows)
            {
                switch (r.Pats[i])
                {
                    case PNum n:
                        if (n.Numb == v) eq.Add(Replace(r, i, []));
                        else ne.Add(r);
                        break;
                    case PSucc s:
                        if (isU && Numb.GetU24(v) >= s.K) eq.Add(s.Pred is PName pn ? Replace(r, i, [], (pn.Id, U24(Numb.GetU24(v) - s.K))) : Replace(r, i, []));
                        ne.Add(r);
                        break;
                    case PName n:
                        eq.Add(Replace(r, i, [], (n.Id, new CNum(v))));
                        ne.Add(r);
                        break;
                    default:
                        eq.Add(Replace(r, i, []));
                        ne.Add(r);
                        break;
                }
            }
            var yes2 = Compile(ReplaceCol(cols, i, []), eq);
            var no2 = CompileNum(cols, i, ne, cur, j);
            return new CSwitch(new COp(Numb.OP_EQ, ValuePlus(j), new CNum(v)), no2, null, yes2);
        }
    }

    private (int Tag, int Arity, List<Pattern> Fields)? Ctor(Pattern p) => p switch
    {
        PName n when IsWordPattern(n) => (_out.Symbols.Word(n.Id), 0, []),
        PStr s => (_out.Symbols.String(s.Value), 0, []),
        PCompound c => (_out.Symbols.Compound(c.Head, c.Fields.Count), c.Fields.Count, c.Fields.ToList()),
        PList { Items.Count: 0, Tail: null } => (SymbolTable.Nil, 0, []),
        PList l when l.Items.Count > 0 => (SymbolTable.Cons, 2, [l.Items[0], Normalize(new PList(l.Offset, l.Items.Skip(1).ToList(), l.Tail))]),
        _ => null,
    };

    private static Core Rebuild(int tag, IReadOnlyList<Binder> fields) =>
        Tagged(tag, fields.Select(f => (Core)new CVar(f)).ToList());

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Core CompileData(List<Binder> cols, int i, List<Row> rows)
    {
        var ctors = new List<(int Tag, int Arity)>();
        foreach (var r in rows)
        {
            if (r.Pats[i] is PNum or PSucc)
            {
                Error(r.Pats[i].Offset, "a number pattern among word/list patterns, expected one kind in a column (numbers are not data)");
                continue;
            }
            if (Ctor(r.Pats[i]) is { } c && !ctors.Contains((c.Tag, c.Arity))) ctors.Add((c.Tag, c.Arity));
        }
        ctors.Sort((a, b) => a.Tag.CompareTo(b.Tag));
        var tagB = NewBinder("tag");
        var payB = NewBinder("pay");
        var arms = new List<Core>();
        foreach (var (tag, arity) in ctors)
        {
            var fields = new List<Binder>();
            for (int k = 0; k < arity; k++) fields.Add(NewBinder("f"));
            var sub = new List<Row>();
            foreach (var r in rows)
            {
                var p = r.Pats[i];
                if (Irrefutable(p))
                {
                    var wild = Enumerable.Range(0, arity).Select(_ => (Pattern)new PWild(p.Offset));
                    sub.Add(p is PName n ? Replace(r, i, wild, (n.Id, Rebuild(tag, fields))) : Replace(r, i, wild));
                }
                else if (Ctor(p) is { } c && c.Tag == tag && c.Arity == arity) sub.Add(Replace(r, i, c.Fields.Select(Normalize)));
            }
            var body = Compile(ReplaceCol(cols, i, fields), sub);
            arms.Add(OpenPayload(fields, new CVar(payB), body));
        }
        bool complete = ctors.Count == 2 && ctors[0].Tag == SymbolTable.Nil && ctors[1].Tag == SymbolTable.Cons;
        Core Chain(int idx, Core cur, int from)
        {
            if (complete && idx == ctors.Count - 1) return arms[idx];
            int diff = ctors[idx].Tag - from;
            Core test = diff == 0 ? cur : new COp(Numb.OP_SUB, cur, U24(diff));
            var q = NewBinder("q");
            int next = ctors[idx].Tag + 1;
            Core rest;
            if (idx + 1 < ctors.Count) rest = Chain(idx + 1, new CVar(q), next);
            else
            {
                // No constructor matched: the rows that match anything, with the value rebuilt.
                var def = new List<Row>();
                Core whole = new CPair(next == 0 ? new CVar(q) : new COp(Numb.OP_ADD, new CVar(q), U24(next)), new CVar(payB));
                foreach (var r in rows)
                {
                    var p = r.Pats[i];
                    if (p is PName n && Irrefutable(p)) def.Add(Replace(r, i, [], (n.Id, whole)));
                    else if (Irrefutable(p)) def.Add(Replace(r, i, []));
                }
                rest = Compile(ReplaceCol(cols, i, []), def);
            }
            return new CSwitch(test, arms[idx], q, rest);
        }
        return new CLetPair(tagB, payB, new CVar(cols[i]), Chain(0, new CVar(tagB), 0));
    }
}
