using System.Runtime.CompilerServices;
using Lmn.Net;
using Lmn.Text;
using Lmn.Words;

namespace Lmn.Language;

/// <summary>A resolved program: every function code reachable or written, the entry, the tables beside the net.</summary>
public sealed class ResolvedProgram
{
    public List<Fn> Fns { get; } = [];
    public Fn Main { get; set; } = null!;
    public SymbolTable Symbols { get; } = new();
    public List<SiteInfo> Sites { get; } = [];
    public List<SourceText> SiteSources { get; } = [];
    public List<FailInfo> Fails { get; } = [];
    public string MainPath { get; set; } = "";
    public bool HasSites => Sites.Count > 0;
}

/// <summary>
/// Scope resolution: the surface syntax becomes <see cref="Ir"/>. Bound names are variables, `def` names
/// are function codes, every other identifier used as a value is a word; calling an unknown name is an
/// error with "did you mean" from the names in scope. Lambdas become codes with their captured variables;
/// prelude definitions get one instance per reference from the user's program. Scope mistakes are
/// diagnostics; resolution goes on.
/// </summary>
public sealed class Resolver
{
    private sealed class Env(string name, Binder b, bool anchor, int level, Env? parent)
    {
        public string Name { get; } = name;
        public Binder B { get; } = b;
        public bool Anchor { get; } = anchor;
        public int Level { get; } = level;
        public Env? Parent { get; } = parent;
    }

    private sealed class Ctx(Fn fn)
    {
        public Fn Fn { get; } = fn;
        public Dictionary<Binder, Binder> Captured { get; } = [];
    }

    private sealed record DefSrc(Definition Def, SourceText Src, bool Prelude);

    private readonly List<Diagnostic> _diags;
    private readonly Lexicon _lex;
    private readonly ResolvedProgram _out = new();
    private readonly Dictionary<string, DefSrc> _userDefs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DefSrc> _preludeDefs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Fn> _userFns = new(StringComparer.Ordinal);
    private readonly Dictionary<(string, string), Fn> _instances = [];
    private readonly Queue<(Fn Fn, DefSrc Def, UserRef? At)> _pending = new();
    private readonly IReadOnlyDictionary<string, Expr> _context;
    private readonly HashSet<string> _warnedWords = new(StringComparer.Ordinal);
    private readonly HashSet<string> _wordUses = new(StringComparer.Ordinal);
    private readonly List<(string Name, SourceText Src, int Offset)> _varPatterns = [];
    private readonly Dictionary<string, (HashSet<int> Arities, SourceText Src, int Offset)> _built = new(StringComparer.Ordinal);
    private readonly List<(string Head, int Arity, SourceText Src, int Offset)> _patternHeads = [];
    private IReadOnlySet<string> _broken = new HashSet<string>();
    private readonly List<Ctx> _ctx = [];
    private int _binders;
    private int _fnIds;

    // Per-code state.
    private SourceText _src = null!;
    private bool _inPrelude;
    private UserRef? _at;

    /// <summary>Where the user's program referred to a prelude definition.</summary>
    private sealed record UserRef(SourceText Src, int Offset, string Location);

    private Resolver(List<Diagnostic> diags, Lexicon lex, IReadOnlyDictionary<string, Expr> context)
    {
        _diags = diags;
        _lex = lex;
        _context = context;
    }

    /// <summary>Resolves a parsed program with the prelude in scope; null when there were errors (all in diags).</summary>
    public static ResolvedProgram? Resolve(SourceText src, ProgramAst ast, ProgramAst prelude, SourceText preludeSrc,
        IReadOnlyDictionary<string, Expr> context, List<Diagnostic> diags, Lexicon? lexicon = null)
    {
        var r = new Resolver(diags, lexicon ?? Lexicon.Default, context);
        r._out.MainPath = src.Path;
        int errors = diags.Count(d => d.Severity == Severity.Error);
        r.Run(src, ast, prelude, preludeSrc);
        return diags.Count(d => d.Severity == Severity.Error) > errors ? null : r._out;
    }

    private void Error(int offset, string msg) => _diags.Add(new Diagnostic(Severity.Error, _src, offset, msg));

    private void Warn(int offset, string msg)
    {
        if (!_inPrelude) _diags.Add(new Diagnostic(Severity.Warning, _src, offset, msg));
    }

    /// <summary>`line:col` in the file at hand, `file:line:col` elsewhere.</summary>
    private string Where(SourceText src, int offset)
    {
        var (l, c) = src.LineColumn(offset);
        return src == _src ? $"{l}:{c}" : $"{src.Path}:{l}:{c}";
    }

    private static string FullWhere(SourceText src, int offset)
    {
        var (l, c) = src.LineColumn(offset);
        return $"{src.Path}:{l}:{c}";
    }

    private Binder NewBinder(string name) => new(name, _binders++);

    private Fn NewFn(string net, string lmn, SourceText src, int off, bool lambda = false, bool isConst = false, bool main = false,
        bool prelude = false, Lambda? ast = null, string? userLoc = null)
    {
        var f = new Fn(_fnIds++, net, lmn, src, off) { IsLambda = lambda, IsConst = isConst, IsMain = main, Prelude = prelude, Ast = ast, UserLocation = userLoc };
        _out.Fns.Add(f);
        return f;
    }

    private void Run(SourceText src, ProgramAst ast, ProgramAst prelude, SourceText preludeSrc)
    {
        foreach (var d in prelude.Defs) _preludeDefs.TryAdd(d.Name, new DefSrc(d, preludeSrc, true));
        _src = src;
        _broken = ast.Broken ?? new HashSet<string>();
        foreach (var d in ast.Defs)
        {
            if (_userDefs.TryGetValue(d.Name, out var first))
                Error(d.Offset, $"duplicate definition '{d.Name}', first defined at {Where(first.Src, first.Def.Offset)}; expected each name once");
            else _userDefs[d.Name] = new DefSrc(d, src, false);
        }
        bool hasMainDef = _userDefs.TryGetValue("main", out var mainDef);
        if (ast.Main != null && hasMainDef)
            Error(ast.Main.Offset, $"a program expression and a 'def main' (at {Where(src, mainDef!.Def.Offset)}), expected one entry point");
        else if (ast.Main == null && !hasMainDef && ast.Broken?.Contains("main") != true)
            Error(src.Text.Length, "no entry point, expected 'def main = ...' or an expression at the end of the file");
        if (hasMainDef && FlatParams(mainDef!.Def).Count > 0)
            Error(mainDef.Def.Offset, "'main' takes no parameters, expected 'def main = ...'");

        // Every user definition is resolved (so all are checked); prelude instances as they are referenced.
        foreach (var d in ast.Defs)
            if (_userDefs[d.Name].Def == d) UserFn(d.Name);
        if (ast.Main != null && !hasMainDef)
        {
            var main = NewFn("main", "main", src, ast.Main.Offset, main: true);
            _out.Main = main;
            InFn(main, null, () => main.Body = Expr(ast.Main, null));
        }
        else if (hasMainDef) _out.Main = _userFns["main"];
        while (_pending.Count > 0)
        {
            var (fn, def, at) = _pending.Dequeue();
            ResolveDef(fn, def, at);
        }
        // A compound pattern whose arity the program never builds can never match: an error.
        foreach (var (head, arity, psrc, off) in _patternHeads)
        {
            if (!_built.TryGetValue(head, out var b) || b.Arities.Contains(arity)) continue;
            string ar = string.Join(" or ", b.Arities.Order());
            var (l, c) = b.Src.LineColumn(b.Offset);
            string at = b.Src == psrc ? $"{l}:{c}" : $"{b.Src.Path}:{l}:{c}";
            _diags.Add(new Diagnostic(Severity.Error, psrc, off, $"pattern {head}[...] has {arity} field{(arity == 1 ? "" : "s")}, expected {ar} as {head} is built at {at}"));
        }
        foreach (var (name, psrc, off) in _varPatterns)
        {
            if (!_wordUses.Contains(name)) continue;
            _diags.Add(new Diagnostic(Severity.Warning, psrc, off,
                $"'{name}' binds a variable here (it is not a Limn word), but the program uses {name} as a word; write '{name} to match the word"));
        }
    }

    /// <summary>`def f(a) = \b c. e` takes a, b and c.</summary>
    private static List<Param> FlatParams(Definition d)
    {
        var ps = new List<Param>(d.Params);
        var body = d.Body;
        while (body is Lambda l)
        {
            ps.AddRange(l.Params);
            body = l.Body;
        }
        return ps;
    }

    private static Expr FlatBody(Definition d)
    {
        var body = d.Body;
        while (body is Lambda l) body = l.Body;
        return body;
    }

    private Fn UserFn(string name)
    {
        if (_userFns.TryGetValue(name, out var fn)) return fn;
        var ds = _userDefs[name];
        var ps = FlatParams(ds.Def);
        fn = NewFn(name, name, ds.Src, ds.Def.Offset, isConst: ps.Count == 0 && name != "main", main: name == "main");
        foreach (var p in ps) fn.Params.Add(NewBinder(p.Id));
        _userFns[name] = fn;
        _pending.Enqueue((fn, ds, null));
        return fn;
    }

    private Fn PreludeFn(string name, UserRef at)
    {
        var key = (name, at.Location);
        if (_instances.TryGetValue(key, out var fn)) return fn;
        var ds = _preludeDefs[name];
        var ps = FlatParams(ds.Def);
        fn = NewFn($"std.{name}.{_instances.Count}", name, ds.Src, ds.Def.Offset, isConst: ps.Count == 0, prelude: true, userLoc: at.Location);
        foreach (var p in ps) fn.Params.Add(NewBinder(p.Id));
        _instances[key] = fn;
        _pending.Enqueue((fn, ds, at));
        return fn;
    }

    private void InFn(Fn fn, UserRef? at, Action body)
    {
        var save = (_src, _inPrelude, _at, _ctx.Count);
        _src = fn.Src;
        _inPrelude = fn.Prelude;
        _at = at;
        _ctx.Add(new Ctx(fn));
        body();
        _ctx.RemoveAt(_ctx.Count - 1);
        (_src, _inPrelude, _at, _) = save;
    }

    private void ResolveDef(Fn fn, DefSrc ds, UserRef? at)
    {
        InFn(fn, at, () =>
        {
            Env? env = null;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var ps = FlatParams(ds.Def);
            for (int i = 0; i < ps.Count; i++)
            {
                var p = ps[i];
                if (!seen.Add(p.Id)) Error(p.Offset, $"parameter '{p.Id}' appears twice in 'def {ds.Def.Name}', expected distinct names");
                env = new Env(p.Id, fn.Params[i], false, _ctx.Count - 1, env);
            }
            fn.Body = Expr(FlatBody(ds.Def), env);
        });
    }

    // Names
    // -----

    /// <summary>A binder as seen from the current code: a variable of an enclosing lambda is captured on the way in.</summary>
    private Binder See(Env e)
    {
        int level = _ctx.Count - 1;
        if (e.Level == level) return e.B;
        return Capture(e.B, e.Level, level);
    }

    private Binder Capture(Binder b, int owner, int level)
    {
        if (level == owner) return b;
        var outer = Capture(b, owner, level - 1);
        var ctx = _ctx[level];
        if (ctx.Captured.TryGetValue(outer, out var inner)) return inner;
        inner = NewBinder(b.Name);
        ctx.Captured[outer] = inner;
        ctx.Fn.Captures.Add(inner);
        ctx.Fn.CapturedFrom.Add(outer);
        return inner;
    }

    private static Env? Find(Env? env, string name, bool anchor)
    {
        for (var e = env; e != null; e = e.Parent)
            if (e.Name == name && e.Anchor == anchor) return e;
        return null;
    }

    /// <summary>A definition visible from here: the user's (outside the prelude), else the prelude's.</summary>
    private Fn? Def(string name, int offset)
    {
        if (!_inPrelude && _userDefs.ContainsKey(name)) return UserFn(name);
        if (_preludeDefs.ContainsKey(name))
            return PreludeFn(name, _at ?? new UserRef(_src, offset, FullWhere(_src, offset)));
        return null;
    }

    private bool IsDefName(string name) => (!_inPrelude && _userDefs.ContainsKey(name)) || _preludeDefs.ContainsKey(name);

    private Ir Word(int offset, string name)
    {
        if (!_inPrelude)
        {
            _wordUses.Add(name);
            // Only a near miss of a Limn word is worth a warning; ordinary words are fine as data, and a
            // phrase or a flow is prose (`user said hello`: no warning for user or said).
            if (_prose == 0 && !_lex.Contains(name) && _warnedWords.Add(name) && _lex.ShouldWarnUnknown(name, out var near))
                Warn(offset, $"'{name}' is not a Limn word" + (near.Count > 0 ? $"; did you mean {string.Join(", ", near)}?" : ""));
        }
        return new IData(offset, _out.Symbols.Word(name), []);
    }

    private Ir Placeholder(int offset) => new INum(offset, Numb.NewU24(0));

    private string Location(int offset) => _at?.Location ?? FullWhere(_src, offset);

    /// <summary>A runtime error value at the offset (in a prelude instance: at the user's reference).</summary>
    private IFail Fail(int offset, string message)
    {
        int id = _out.Fails.Count;
        var (src, off) = _at != null ? (_at.Src, _at.Offset) : (_src, offset);
        _out.Fails.Add(new FailInfo(id, Location(offset), src, off, message));
        return new IFail(offset, id);
    }

    // Expressions
    // -----------

    /// <summary>
    /// An expression's IR. The forms whose last part is an expression in the same scope or one more binder
    /// (let, let @, if's else, a question's last candidate) are walked in a loop, so a chain of a million
    /// of them needs no deeper stack than one; each leaves a step that builds its node around what follows,
    /// applied innermost first (the order in which the recursion built them: ids and diagnostics agree).
    /// </summary>
    private Ir Expr(Expr e, Env? env)
    {
        NestingTooDeep.Check(e.Offset, "while resolving names");
        List<Func<Ir, Ir>>? steps = null;
        while (true)
        {
            Func<Ir, Ir>? step;
            switch (e)
            {
                case LetIn { Pattern: PName pn } li:
                {
                    var value = Expr(li.Value, env);
                    var b = NewBinder(pn.Id);
                    step = body => new ILet(li.Offset, b, value, body);
                    env = new Env(pn.Id, b, false, _ctx.Count - 1, env);
                    e = li.Body;
                    break;
                }
                case LetIn { Pattern: PWild } li:
                {
                    var value = Expr(li.Value, env);
                    var b = NewBinder("_");
                    step = body => new ILet(li.Offset, b, value, body) { Strict = true };
                    e = li.Body;
                    break;
                }
                case LetAnchor la:
                {
                    var v = Expr(la.Value, env);
                    var b = NewBinder("@" + la.Anchor);
                    // An anchor's value is context for every question in the body: always computed.
                    step = body => new ILet(la.Offset, b, v, body) { Strict = true };
                    env = new Env(la.Anchor, b, true, _ctx.Count - 1, env);
                    e = la.Body;
                    break;
                }
                case IfThen it:
                {
                    var c = Expr(it.Cond, env);
                    var t = Expr(it.Then, env);
                    step = otherwise => Checked(new IIf(it.Offset, c, t, otherwise));
                    e = it.Else;
                    break;
                }
                case SiteExpr { Tail: null, Args.Count: > 0 } s:
                {
                    int id = NewSiteId();
                    var cands = new Ir[s.Args.Count];
                    for (int i = 0; i < cands.Length - 1; i++) cands[i] = Expr(s.Args[i], env);
                    var siteEnv = env;
                    step = last =>
                    {
                        cands[^1] = last;
                        return MakeSite(id, s, cands, null, siteEnv, null);
                    };
                    e = s.Args[^1];
                    break;
                }
                default:
                    step = null;
                    break;
            }
            if (step == null) break;
            (steps ??= []).Add(step);
        }
        var r = ExprNode(e, env);
        if (steps != null)
            for (int i = steps.Count - 1; i >= 0; i--) r = steps[i](r);
        return r;
    }

    private Ir ExprNode(Expr e, Env? env)
    {
        switch (e)
        {
            case NumLit n: return new INum(n.Offset, n.Numb);
            case StrLit s: return new IData(s.Offset, _out.Symbols.String(s.Value), []);
            case QuotedWord q: return Word(q.Offset, q.Id);
            case Name n: return NameValue(n, env);
            case AnchorRef a:
            {
                var b = Find(env, a.Anchor, true);
                if (b != null) return new IVar(a.Offset, See(b));
                if (_context.TryGetValue(a.Anchor, out var v))
                {
                    bool save = _inPrelude;
                    _inPrelude = true; // no lexicon warnings for context values
                    var c = Expr(v, null);
                    _inPrelude = save;
                    return c;
                }
                Error(a.Offset, $"unbound anchor @{a.Anchor}; bind it with --context {a.Anchor}=... or let @{a.Anchor} = ...");
                return Placeholder(a.Offset);
            }
            case Anchored an:
                if (Find(env, an.Anchor, true) == null && !_context.ContainsKey(an.Anchor))
                    Warn(an.Offset, $"anchor @{an.Anchor} is not bound here; bind it with --context {an.Anchor}=... or let @{an.Anchor} = ... to give the oracle its value");
                return new IData(an.Offset, _out.Symbols.Anchor(an.Anchor), [Expr(an.Body, env)]);
            case CompoundLit c:
                if (c.Fields.Count > SymbolTable.MaxFields)
                {
                    Error(c.Offset, $"{c.Head}[...] has {c.Fields.Count} fields, expected at most {SymbolTable.MaxFields}");
                    return Placeholder(c.Offset);
                }
                if (!_inPrelude) _wordUses.Add(c.Head);
                if (!_built.TryGetValue(c.Head, out var built)) _built[c.Head] = built = ([], _src, c.Offset);
                built.Arities.Add(c.Fields.Count);
                return new IData(c.Offset, _out.Symbols.Compound(c.Head, c.Fields.Count), c.Fields.Select(f => Expr(f, env)).ToArray());
            case ListLit l:
            {
                Ir r = l.Tail == null ? new IData(l.Offset, SymbolTable.Nil, []) : Expr(l.Tail, env);
                var items = l.Items.Select(i => Expr(i, env)).ToList();
                for (int i = items.Count - 1; i >= 0; i--) r = new IData(l.Items[i].Offset, SymbolTable.Cons, [items[i], r]);
                return r;
            }
            case Lambda lam: return LambdaValue(lam, env);
            case Apply ap: return Application(ap, env);
            case LetIn li: return Let(li, env);
            case LetAnchor la:
            {
                var v = Expr(la.Value, env);
                var b = NewBinder("@" + la.Anchor);
                // An anchor's value is context for every question in the body: always computed.
                return new ILet(la.Offset, b, v, Expr(la.Body, new Env(la.Anchor, b, true, _ctx.Count - 1, env))) { Strict = true };
            }
            case IfThen it: return Checked(new IIf(it.Offset, Expr(it.Cond, env), Expr(it.Then, env), Expr(it.Else, env)));
            case MatchExpr m: return Match(m, env);
            case Binary bi: return BinaryOp(bi, env);
            case Unary u:
            {
                var x = Expr(u.Operand, env);
                return Checked(u.Op == Tok.Bang
                    ? new IPrim(u.Offset, Numb.OP_EQ, x, new INum(u.Offset, Numb.NewU24(0)), "!")
                    : new IPrim(u.Offset, Numb.OP_SUB, new INum(u.Offset, Numb.NewU24(0)), x, "-"));
            }
            case SiteExpr s: return Site(s, env);
            case Collapse c: return CollapseValue(c, env);
            case Wave w: return WaveValue(w, env);
            case LetFn lf: return LocalFn(lf, env);
            case Lines ls:
            {
                Ir list = new IData(ls.Offset, SymbolTable.Nil, []);
                var items = ls.Items.Select(i => Expr(i, env)).ToList();
                for (int i = items.Count - 1; i >= 0; i--) list = new IData(ls.Items[i].Offset, SymbolTable.Cons, [items[i], list]);
                return new IData(ls.Offset, _out.Symbols.Compound(SymbolTable.LinesHead, 1), [list]);
            }
            case Typed t:
                Warn(t.Offset, $"': {t.Type}' only applies to a ∿ or ~ question, expected one right before ':'");
                return Expr(t.Body, env);
            case BadExpr b: return Placeholder(b.Offset);
            default: throw new System.Diagnostics.UnreachableException($"expression {e.GetType().Name}");
        }
    }

    private Ir NameValue(Name n, Env? env)
    {
        var b = Find(env, n.Id, false);
        if (b != null) return new IVar(n.Offset, See(b));
        if (!_inPrelude && _broken.Contains(n.Id) && !_userDefs.ContainsKey(n.Id)) return Placeholder(n.Offset);
        if (n.Id == "_")
        {
            Error(n.Offset, "'_' is the wildcard of patterns, expected an expression");
            return Placeholder(n.Offset);
        }
        var fn = Def(n.Id, n.Offset);
        if (fn != null) return fn.IsConst ? new ICall(n.Offset, fn, []) : Pap(n.Offset, fn, []);
        return Word(n.Offset, n.Id);
    }

    private IPap Pap(int off, Fn fn, Ir[] args)
    {
        fn.Escapes = true;
        return new IPap(off, fn, args);
    }

    private Ir LambdaValue(Lambda lam, Env? env)
    {
        var cur = _ctx[^1].Fn;
        var fn = NewFn($"{cur.NetName}.lam{_out.Fns.Count}", "λ", _src, lam.Offset, lambda: true, prelude: _inPrelude, ast: lam, userLoc: _at?.Location);
        fn.Escapes = true;
        InFn(fn, _at, () =>
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            Env? inner = env;
            foreach (var p in lam.Params)
            {
                if (!seen.Add(p.Id)) Error(p.Offset, $"parameter '{p.Id}' appears twice in the lambda, expected distinct names");
                var b = NewBinder(p.Id);
                fn.Params.Add(b);
                inner = new Env(p.Id, b, false, _ctx.Count - 1, inner);
            }
            fn.Body = Expr(lam.Body, inner);
        });
        // The captures were found while resolving the body; their values are read here, in this scope.
        return new IPap(lam.Offset, fn, []);
    }

    private static (Expr Head, List<(Expr Arg, ApplyKind Kind)> Args) Spine(Apply ap)
    {
        var args = new List<(Expr, ApplyKind)>();
        Expr f = ap;
        while (f is Apply a)
        {
            args.Add((a.Arg, a.Kind));
            f = a.Fn;
        }
        args.Reverse();
        return (f, args);
    }

    private int _prose;

    private Ir Application(Apply ap, Env? env)
    {
        var (head, spine) = Spine(ap);
        bool prose = spine.Any(a => a.Kind != ApplyKind.Call);
        if (prose) _prose++;
        try { return Application(ap, head, spine, env); }
        finally { if (prose) _prose--; }
    }

    private Ir Application(Apply ap, Expr head, List<(Expr Arg, ApplyKind Kind)> spine, Env? env)
    {
        var argExprs = spine.Select(a => a.Arg).ToList();
        int at = ap.Offset < head.Offset ? ap.Offset : head.Offset;
        // `f x` and `x → f` build a phrase or a flow when f is not a function; `f(x)` is an error then.
        bool called = spine[0].Kind == ApplyKind.Call;
        switch (head)
        {
            case Name n when Find(env, n.Id, false) == null:
            {
                if (n.Id == "error" && !IsDefName("error"))
                {
                    if (argExprs.Count != 1 || argExprs[0] is not StrLit msg)
                    {
                        Error(n.Offset, "error(...) takes one string, expected error(\"what went wrong\")");
                        return Placeholder(n.Offset);
                    }
                    return Fail(n.Offset, msg.Value);
                }
                if (!_inPrelude && _broken.Contains(n.Id) && !_userDefs.ContainsKey(n.Id)) return Placeholder(n.Offset);
                var fn = Def(n.Id, n.Offset);
                if (fn == null)
                {
                    if (called)
                    {
                        Error(n.Offset, UnknownFunction(n.Id, env));
                        return Placeholder(n.Offset);
                    }
                    // Words side by side are a phrase; a near miss of the program's own function or variable
                    // (`doubel 3` beside def double) is worth a warning.
                    var near = n.Id.Length >= 4 ? NearNames(n.Id, env, preludeToo: false) : [];
                    if (near.Count > 0 && !_inPrelude)
                        Warn(n.Offset, $"'{n.Id}' is not a function here, so this is a phrase of words; did you mean {string.Join(", ", near)}?");
                    return ApplyRest(Word(n.Offset, n.Id), spine, 0, env);
                }
                var args = argExprs.Select(a => Expr(a, env)).ToArray();
                return CallKnown(n.Offset, fn, args, spine);
            }
            case NumLit or StrLit or ListLit or CompoundLit or QuotedWord or Anchored when called:
            {
                string what = head switch
                {
                    NumLit => "a number", StrLit => "a string", ListLit => "a list", CompoundLit => "a compound",
                    QuotedWord => "a word", _ => "an anchored value",
                };
                Error(head.Offset, $"applying {what}, which is not a function; expected a function before the arguments");
                return Placeholder(head.Offset);
            }
            case Lambda lam when lam.Params.Count <= argExprs.Count:
            {
                // (\x y. b)(a1, a2, ...): the parameters are lets; what is left applies the result.
                var args = argExprs.Select(a => Expr(a, env)).ToArray();
                var binders = new List<Binder>();
                Env? inner = env;
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var p in lam.Params)
                {
                    if (!seen.Add(p.Id)) Error(p.Offset, $"parameter '{p.Id}' appears twice in the lambda, expected distinct names");
                    var b = NewBinder(p.Id);
                    binders.Add(b);
                    inner = new Env(p.Id, b, false, _ctx.Count - 1, inner);
                }
                Ir body = Expr(lam.Body, inner);
                if (args.Length > binders.Count) body = ApplyResolved(ap.Offset, body, args, spine, binders.Count);
                for (int i = binders.Count - 1; i >= 0; i--) body = new ILet(lam.Offset, binders[i], args[i], body) { Strict = true };
                return body;
            }
            default:
                return ApplyRest(Expr(head, env), spine, 0, env, at);
        }
    }

    /// <summary>Applies f to the spine's arguments from index `from` (resolved here, in order).</summary>
    private Ir ApplyRest(Ir f, List<(Expr Arg, ApplyKind Kind)> spine, int from, Env? env, int at = -1)
    {
        var args = new Ir[spine.Count];
        for (int i = from; i < spine.Count; i++) args[i] = Expr(spine[i].Arg, env);
        return ApplyResolved(at >= 0 ? at : f.Off, f, args, spine, from);
    }

    /// <summary>
    /// Applies f to resolved arguments from index `from`: a run of `f(x, y)` arguments is one call (an
    /// error if f is no function); each `f x` or `x → f` argument is applied alone, a phrase or a flow when
    /// f is not a function.
    /// </summary>
    private Ir ApplyResolved(int at, Ir f, Ir[] args, List<(Expr Arg, ApplyKind Kind)> spine, int from)
    {
        int i = from;
        while (i < args.Length)
        {
            var kind = spine[i].Kind;
            if (kind == ApplyKind.Call)
            {
                int j = i;
                while (j < args.Length && spine[j].Kind == ApplyKind.Call) j++;
                f = Checked(new IApp(at, f, args[i..j]));
                i = j;
            }
            else
            {
                f = new IApp(kind == ApplyKind.Flow ? spine[i].Arg.Offset : at, f, [args[i]]) { Mode = kind };
                i++;
            }
        }
        return f;
    }

    private Ir CallKnown(int off, Fn fn, Ir[] args, List<(Expr Arg, ApplyKind Kind)> spine)
    {
        if (fn.IsConst)
        {
            var v = new ICall(off, fn, []);
            return args.Length == 0 ? v : ApplyResolved(off, v, args, spine, 0);
        }
        int n = fn.Arity;
        if (args.Length < n) return Pap(off, fn, args);
        var call = new ICall(off, fn, args[..n]);
        return args.Length == n ? call : ApplyResolved(off, call, args, spine, n);
    }

    /// <summary>Names in scope (variables, definitions) one or two edits from name, for "did you mean".</summary>
    private List<string> NearNames(string name, Env? env, bool preludeToo = true)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var e = env; e != null; e = e.Parent) if (!e.Anchor) names.Add(e.Name);
        if (!_inPrelude) foreach (var k in _userDefs.Keys) names.Add(k);
        if (preludeToo) foreach (var k in _preludeDefs.Keys) names.Add(k);
        names.Remove(name);
        return names.Select(x => (x, d: Lexicon.EditDistance(x, name)))
            .Where(t => t.d <= Math.Max(1, Math.Min(2, name.Length / 3)))
            .OrderBy(t => t.d).ThenBy(t => t.x, StringComparer.Ordinal).Take(3).Select(t => t.x).ToList();
    }

    private string UnknownFunction(string name, Env? env)
    {
        var near = NearNames(name, env);
        return near.Count > 0
            ? $"unknown function {name}; did you mean {string.Join(", ", near)}?"
            : $"unknown function {name}, expected a definition, a parameter or a let-bound function (a word such as {name} cannot be applied)";
    }

    private Ir BinaryOp(Binary bi, Env? env)
    {
        var a = Expr(bi.Left, env);
        var b = Expr(bi.Right, env);
        INum N(uint v) => new(bi.Offset, Numb.NewU24(v));
        string text = Text(bi.Op);
        return Checked(bi.Op switch
        {
            Tok.AndAnd => new IIf(bi.Offset, a, new IPrim(bi.Offset, Numb.OP_NEQ, b, N(0), text), N(0)),
            Tok.OrOr => new IIf(bi.Offset, a, N(1), new IPrim(bi.Offset, Numb.OP_NEQ, b, N(0), text)),
            Tok.EqEq => new IEq(bi.Offset, a, b, false),
            Tok.NotEq => new IEq(bi.Offset, a, b, true),
            Tok.Plus => new IPrim(bi.Offset, Numb.OP_ADD, a, b, text),
            Tok.Minus => new IPrim(bi.Offset, Numb.OP_SUB, a, b, text),
            Tok.Star => new IPrim(bi.Offset, Numb.OP_MUL, a, b, text),
            Tok.Slash => new IPrim(bi.Offset, Numb.OP_DIV, a, b, text),
            Tok.Percent => new IPrim(bi.Offset, Numb.OP_REM, a, b, text),
            Tok.Lt => new IPrim(bi.Offset, Numb.OP_LT, a, b, text),
            Tok.Gt => new IPrim(bi.Offset, Numb.OP_GT, a, b, text),
            Tok.Le => new IPrim(bi.Offset, OpLe, a, b, text),
            Tok.Ge => new IPrim(bi.Offset, OpGe, a, b, text),
            Tok.Amp => new IPrim(bi.Offset, Numb.OP_AND, a, b, text),
            Tok.Pipe => new IPrim(bi.Offset, Numb.OP_OR, a, b, text),
            Tok.Caret => new IPrim(bi.Offset, Numb.OP_XOR, a, b, text),
            Tok.Shl => new IPrim(bi.Offset, Numb.OP_SHL, a, b, text),
            Tok.Shr => new IPrim(bi.Offset, Numb.OP_SHR, a, b, text),
            _ => throw new System.Diagnostics.UnreachableException($"operator {bi.Op}"),
        });
    }

    /// <summary>Gives a node the runtime errors it can raise, located here (in a prelude instance: at the user's reference).</summary>
    private Ir Checked(Ir ir)
    {
        switch (ir)
        {
            case IPrim p:
                p.FailId = Fail(p.Off, $"'{p.Text}' expects numbers, found another kind of value").Id;
                if (p.Op is Numb.OP_DIV or Numb.OP_REM) p.FailId2 = Fail(p.Off, p.Op == Numb.OP_DIV ? "division by zero" : "remainder by zero").Id;
                if (p.A is IPrim pa && pa.FailId < 0) Checked(pa);
                if (p.B is IPrim pb && pb.FailId < 0) Checked(pb);
                break;
            case IIf i:
                i.FailId = Fail(i.Off, "the condition is not a number, expected a number (0 is false)").Id;
                if (i.T is IPrim t && t.FailId < 0) Checked(t);
                if (i.E is IPrim e && e.FailId < 0) Checked(e);
                break;
            case IEq q: q.FailId = Fail(q.Off, "cannot compare functions with " + (q.Neg ? "!=" : "==")).Id; break;
            case IApp a: a.FailId = Fail(a.Off, "applying a value that is not a function").Id; break;
        }
        return ir;
    }

    /// <summary>Pseudo operators the lowering composes: `a &lt;= b` is `(a > b) ^ 1`, `a >= b` is `(a &lt; b) ^ 1`.</summary>
    public const uint OpLe = 0x100, OpGe = 0x101;

    /// <summary>How much of a question's source text the site table keeps.</summary>
    public const int MaxSiteText = 200;

    private static string Text(Tok op) => op switch
    {
        Tok.AndAnd => "&&", Tok.OrOr => "||", Tok.EqEq => "==", Tok.NotEq => "!=", Tok.Plus => "+", Tok.Minus => "-",
        Tok.Star => "*", Tok.Slash => "/", Tok.Percent => "%", Tok.Lt => "<", Tok.Gt => ">", Tok.Le => "<=", Tok.Ge => ">=",
        Tok.Amp => "&", Tok.Pipe => "|", Tok.Caret => "^", Tok.Shl => "<<", Tok.Shr => ">>", _ => "?",
    };

    private Ir Site(SiteExpr s, Env? env)
    {
        int id = NewSiteId();
        var cands = s.Args.Select(a => Expr(a, env)).ToArray();
        var tail = s.Tail == null ? null : Expr(s.Tail, env);
        return MakeSite(id, s, cands, tail, env, null);
    }

    /// <summary>
    /// A question's id, its table entry reserved (MakeSite fills it). It is taken before the candidates are
    /// resolved, so a question nested in them gets its own.
    /// </summary>
    private int NewSiteId()
    {
        _out.Sites.Add(null!);
        _out.SiteSources.Add(null!);
        return _out.Sites.Count - 1;
    }

    /// <summary>The site table entry and the question; extra: an anchor of the question's own (a collapse's context).</summary>
    private ISite MakeSite(int id, SiteExpr s, Ir[] cands, Ir? tail, Env? env, (string Name, Ir Value)? extra)
    {
        var anchors = new List<(string, Ir)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (extra is { } x)
        {
            anchors.Add(x);
            seen.Add(x.Name);
        }
        for (var e = env; e != null; e = e.Parent)
            if (e.Anchor && seen.Add(e.Name)) anchors.Add((e.Name, new IVar(s.Offset, See(e))));
        var staticAnchors = new List<string>();
        foreach (var (n, _) in anchors) staticAnchors.Add("@" + n);
        foreach (var k in _context.Keys.Order(StringComparer.Ordinal))
            if (seen.Add(k)) staticAnchors.Add("@" + k);
        _out.Symbols.Word(s.Head);
        if (!_inPrelude) _wordUses.Add(s.Head);
        // The site's source text, for traces and messages; a long one (deeply nested questions) is cut, so
        // the table stays linear in the program's size.
        string text = _src.Text[s.Offset..Math.Min(Math.Min(s.End, _src.Text.Length), s.Offset + MaxSiteText)];
        if (s.End - s.Offset > MaxSiteText) text += "…";
        string? type = s.Type ?? _lex.Find(s.Head)?.Type;
        var (src, off) = _at != null ? (_at.Src, _at.Offset) : (_src, s.Offset);
        var info = new SiteInfo(id, $"amb.{id}", s.Open, s.Head, text, Location(s.Offset), off, type,
            staticAnchors, [_ctx[^1].Fn.LmnName], s.Args.Count, []);
        _out.Sites[id] = info;
        _out.SiteSources[id] = src;
        return new ISite(s.Offset, info, cands, tail, anchors.ToArray());
    }

    /// <summary>The head word of a collapse's question (not a lexicon word, so it sets no expected type).</summary>
    public const string CollapseHead = Oracles.OracleRequest.CollapseHead;

    /// <summary>
    /// `e @ ctx`: e and ctx are computed, e inspected: a non-empty list is a question (its elements the
    /// candidates, ctx the request's `@context`), `[]` an error, anything else is itself.
    /// </summary>
    private Ir CollapseValue(Collapse c, Env? env)
    {
        // A superposition and its context are prose (`[run, execute] @ code_context`): no lexicon warnings.
        _prose++;
        Ir sup, ctx;
        try
        {
            sup = Expr(c.Sup, env);
            ctx = Expr(c.Ctx, env);
        }
        finally { _prose--; }
        var sb = NewBinder("sup");
        var cb = NewBinder("@context");
        var h = NewBinder("h");
        var t = NewBinder("t");
        var other = NewBinder("v");
        int id = NewSiteId();
        var site = new SiteExpr(c.Offset, c.End, false, CollapseHead, [], null, null);
        var tail = new IData(c.Offset, SymbolTable.Cons, [new IVar(c.Offset, h), new IVar(c.Offset, t)]);
        var ask = MakeSite(id, site, [], tail, env, ("context", new IVar(c.Offset, cb)));
        var empty = Fail(c.Offset, "nothing to collapse: the superposition is the empty list []");
        var match = new IMatch(c.Offset, new IVar(c.Offset, sb),
        [
            new IArm(c.Offset, new RCtor(c.Offset, SymbolTable.Nil, []), empty),
            new IArm(c.Offset, new RCtor(c.Offset, SymbolTable.Cons, [new RVar(c.Offset, h), new RVar(c.Offset, t)]), ask),
            new IArm(c.Offset, new RVar(c.Offset, other), new IVar(c.Offset, other)),
        ], isLet: false) { FailId = Fail(c.Offset, "no arm of this match fits the value").Id, Quiet = true };
        return new ILet(c.Offset, sb, sup, new ILet(c.Offset, cb, ctx, match) { Strict = true }) { Strict = true };
    }

    /// <summary>
    /// `∿ now [e]`: e with @now in scope for its questions (a label's value, or the binding already in
    /// scope, or else the word now), anchored to now.
    /// </summary>
    private Ir WaveValue(Wave w, Env? env)
    {
        _prose++;
        try { return WaveValue0(w, env); }
        finally { _prose--; }
    }

    private Ir WaveValue0(Wave w, Env? env)
    {
        Ir? value = null;
        if (w.Label != null) value = Expr(w.Label, env);
        else if (Find(env, w.Tense, true) == null && !_context.ContainsKey(w.Tense)) value = new IData(w.Offset, _out.Symbols.Word(w.Tense), []);
        if (value == null) return new IData(w.Offset, _out.Symbols.Anchor(w.Tense), [Expr(w.Body, env)]);
        var b = NewBinder("@" + w.Tense);
        var inner = new Env(w.Tense, b, true, _ctx.Count - 1, env);
        return new ILet(w.Offset, b, value, new IData(w.Offset, _out.Symbols.Anchor(w.Tense), [Expr(w.Body, inner)])) { Strict = true };
    }

    /// <summary>`fn f(a, b) = body` in a block: a closure over the block's names that may call itself (it rebuilds itself from its own captures).</summary>
    private Ir LocalFn(LetFn lf, Env? env)
    {
        var cur = _ctx[^1].Fn;
        var lam = new Lambda(lf.Offset, lf.Params, lf.Body);
        var fn = NewFn($"{cur.NetName}.{lf.Name}{_out.Fns.Count}", lf.Name, _src, lf.Offset, lambda: true, prelude: _inPrelude, ast: lam, userLoc: _at?.Location);
        fn.Escapes = true;
        InFn(fn, _at, () =>
        {
            var self = NewBinder(lf.Name);
            Env? inner = new Env(lf.Name, self, false, _ctx.Count - 1, env);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in lf.Params)
            {
                if (!seen.Add(p.Id)) Error(p.Offset, $"parameter '{p.Id}' appears twice in 'fn {lf.Name}', expected distinct names");
                var b = NewBinder(p.Id);
                fn.Params.Add(b);
                inner = new Env(p.Id, b, false, _ctx.Count - 1, inner);
            }
            var body = Expr(lf.Body, inner);
            fn.Body = new ILet(lf.Offset, self, new IPap(lf.Offset, fn, []) { Self = true }, body);
        });
        var fb = NewBinder(lf.Name);
        return new ILet(lf.Offset, fb, new IPap(lf.Offset, fn, []), Expr(lf.Rest, new Env(lf.Name, fb, false, _ctx.Count - 1, env)));
    }

    // let and match
    // -------------

    private Ir Let(LetIn li, Env? env)
    {
        var value = Expr(li.Value, env);
        if (li.Pattern is PName pn)
        {
            var b = NewBinder(pn.Id);
            return new ILet(li.Offset, b, value, Expr(li.Body, new Env(pn.Id, b, false, _ctx.Count - 1, env)));
        }
        if (li.Pattern is PWild) return new ILet(li.Offset, NewBinder("_"), value, Expr(li.Body, env)) { Strict = true };
        var vars = new List<(string, Binder)>();
        var pat = Pattern(li.Pattern, null, vars, letPattern: true);
        var inner = env;
        foreach (var (n, b) in vars) inner = new Env(n, b, false, _ctx.Count - 1, inner);
        var body = Expr(li.Body, inner);
        return new IMatch(li.Pattern.Offset, value, [new IArm(li.Pattern.Offset, pat, body)], isLet: true)
        {
            FailId = Fail(li.Pattern.Offset, "the value does not fit this let pattern").Id,
        };
    }

    private Ir Match(MatchExpr m, Env? env)
    {
        var scrut = Expr(m.Scrutinee, env);
        var words = new HashSet<string>(StringComparer.Ordinal);
        ScrutineeWords(m.Scrutinee, env, words);
        var arms = new List<IArm>();
        bool catchAll = false;
        foreach (var arm in m.Arms)
        {
            var vars = new List<(string, Binder)>();
            var pat = Pattern(arm.Pattern, words, vars, letPattern: false);
            if (catchAll) Warn(arm.Offset, "unreachable match arm: an earlier arm matches every value");
            if (pat is RVar or RWild) catchAll = true;
            WarnWordPatterns(arm, words);
            var inner = env;
            foreach (var (n, b) in vars) inner = new Env(n, b, false, _ctx.Count - 1, inner);
            arms.Add(new IArm(arm.Offset, pat, Expr(arm.Body, inner)));
        }
        return new IMatch(m.Offset, scrut, arms, isLet: false) { FailId = Fail(m.Offset, "no arm of this match fits the value").Id };
    }

    /// <summary>Words written inside a match's scrutinee (its question's candidates, its call's arguments).</summary>
    private void ScrutineeWords(Expr e, Env? env, HashSet<string> acc)
    {
        switch (e)
        {
            case Name n when Find(env, n.Id, false) == null && !IsDefName(n.Id): acc.Add(n.Id); break;
            case QuotedWord q: acc.Add(q.Id); break;
            case SiteExpr s:
                foreach (var a in s.Args) ScrutineeWords(a, env, acc);
                if (s.Tail != null) ScrutineeWords(s.Tail, env, acc);
                break;
            case Apply a: ScrutineeWords(a.Fn, env, acc); ScrutineeWords(a.Arg, env, acc); break;
            case Collapse c: ScrutineeWords(c.Sup, env, acc); break;
            case Wave w: ScrutineeWords(w.Body, env, acc); break;
            case ListLit l:
                foreach (var i in l.Items) ScrutineeWords(i, env, acc);
                if (l.Tail != null) ScrutineeWords(l.Tail, env, acc);
                break;
            case CompoundLit c: foreach (var f in c.Fields) ScrutineeWords(f, env, acc); break;
            case Typed t: ScrutineeWords(t.Body, env, acc); break;
            case Anchored an: ScrutineeWords(an.Body, env, acc); break;
        }
    }

    private bool IsWordPattern(string id, HashSet<string>? scrutWords) =>
        scrutWords != null && (_lex.Contains(id) || scrutWords.Contains(id));

    private RPat Pattern(Pattern p, HashSet<string>? scrutWords, List<(string, Binder)> vars, bool letPattern)
    {
        switch (p)
        {
            case PNum n: return new RNum(n.Offset, n.Numb);
            case PSucc s:
            {
                var inner = Pattern(s.Pred, scrutWords, vars, letPattern);
                if (inner is RNum rn && Numb.TypeOf(rn.Numb) == Numb.TY_U24) return new RNum(s.Offset, Numb.NewU24(s.K + Numb.GetU24(rn.Numb)));
                if (inner is RSucc s2) return new RSucc(s.Offset, s.K + s2.K, s2.Pred);
                if (s.K == 0) return inner;
                return new RSucc(s.Offset, s.K, inner);
            }
            case PName n:
            {
                if (!letPattern && IsWordPattern(n.Id, scrutWords)) return new RCtor(n.Offset, _out.Symbols.Word(n.Id), []);
                if (vars.Any(v => v.Item1 == n.Id)) Error(n.Offset, $"'{n.Id}' is bound twice in one pattern, expected distinct names");
                var b = NewBinder(n.Id);
                vars.Add((n.Id, b));
                if (!_inPrelude && !letPattern) _varPatterns.Add((n.Id, _src, n.Offset));
                return new RVar(n.Offset, b);
            }
            case PWord w: return new RCtor(w.Offset, _out.Symbols.Word(w.Id), []);
            case PWild w: return new RWild(w.Offset);
            case PStr s: return new RCtor(s.Offset, _out.Symbols.String(s.Value), []);
            case PCompound c:
                if (c.Fields.Count > SymbolTable.MaxFields)
                {
                    Error(c.Offset, $"{c.Head}[...] has {c.Fields.Count} fields, expected at most {SymbolTable.MaxFields}");
                    return new RWild(c.Offset);
                }
                if (!_inPrelude) _patternHeads.Add((c.Head, c.Fields.Count, _src, c.Offset));
                return new RCtor(c.Offset, _out.Symbols.Compound(c.Head, c.Fields.Count), c.Fields.Select(f => Pattern(f, scrutWords, vars, letPattern)).ToArray());
            case PList l:
            {
                var items = l.Items.Select(i => Pattern(i, scrutWords, vars, letPattern)).ToList();
                RPat r = l.Tail == null ? new RCtor(l.Offset, SymbolTable.Nil, []) : Pattern(l.Tail, scrutWords, vars, letPattern);
                for (int i = items.Count - 1; i >= 0; i--) r = new RCtor(l.Items[i].Offset, SymbolTable.Cons, [items[i], r]);
                return r;
            }
            case PBad b: return new RWild(b.Offset);
            default: throw new System.Diagnostics.UnreachableException($"pattern {p.GetType().Name}");
        }
    }

    /// <summary>Warns where a pattern names a Limn word that its arm then uses as if it were a variable.</summary>
    private void WarnWordPatterns(Arm arm, HashSet<string> scrutWords)
    {
        foreach (var n in PatternNames(arm.Pattern))
        {
            if (!_lex.Contains(n.Id) || scrutWords.Contains(n.Id) || !Mentions(arm.Body, n.Id)) continue;
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
        LetIn li => Mentions(li.Value, id) || Mentions(li.Body, id),
        IfThen it => Mentions(it.Cond, id) || Mentions(it.Then, id) || Mentions(it.Else, id),
        Lambda la => Mentions(la.Body, id),
        Collapse c => Mentions(c.Sup, id) || Mentions(c.Ctx, id),
        Wave w => (w.Label != null && Mentions(w.Label, id)) || Mentions(w.Body, id),
        LetFn lf => Mentions(lf.Body, id) || Mentions(lf.Rest, id),
        Lines ls => ls.Items.Any(i => Mentions(i, id)),
        SiteExpr st => st.Args.Any(a => Mentions(a, id)),
        _ => false,
    };
}
