using System.Runtime.CompilerServices;
using Lmn.Net;
using Lmn.Text;
using Lmn.Words;

namespace Lmn.Language;

/// <summary>A definition after lowering: its net name, its LMN name and its core body.</summary>
public sealed record CoreDef(string NetName, string LmnName, Core Body, bool IsFunction, bool IsPrelude);

/// <summary>What a closure tag stands for: its code, how many arguments it holds, how its captures travel.</summary>
public sealed record ClosureInfo(int Tag, Fn Fn, int Supplied, Rep[] CaptureReps);

/// <summary>The result of checking and lowering a program.</summary>
public sealed class CoreProgram
{
    public List<CoreDef> Defs { get; } = [];
    public SymbolTable Symbols { get; set; } = new();
    public List<SiteInfo> Sites { get; set; } = [];
    public List<SourceText> SiteSources { get; set; } = [];
    public List<FailInfo> Fails { get; set; } = [];
    public Dictionary<int, ClosureInfo> Closures { get; } = [];
    public HashSet<int> UsedSites { get; } = [];
    public HashSet<int> UsedFails { get; } = [];
    public string MainPath { get; set; } = "";
    public Rep MainRep { get; set; } = Rep.Uniform;
    public Dictionary<string, Expr> Context { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Closure conversion to first-order core terms (docs/language.md, "Compilation"): every function value
/// is data, `(#closure-tag captures-and-arguments)`; an application of a value known only at run time
/// dispatches on its tag over the closures the analysis says can reach it, so a duplicator only ever
/// meets data, numbers and references. Numbers travel bare where the analysis proves them numbers and
/// boxed, `(#box n)`, among data. Questions are suspended data until inspected; runtime errors are
/// poison references that spread through what uses them.
/// </summary>
public sealed class Lowering
{
    private readonly ResolvedProgram _p;
    private readonly Analysis _a;
    private readonly CoreProgram _out = new();
    private readonly bool _sites;
    private int _binders = 1 << 24;

    private Lowering(ResolvedProgram p, Analysis a)
    {
        _p = p;
        _a = a;
        _sites = p.HasSites;
    }

    /// <summary>Checks and lowers a program with the prelude in scope; null when there were errors (all in diags).</summary>
    public static CoreProgram? Lower(SourceText src, ProgramAst ast, ProgramAst prelude, SourceText preludeSrc,
        IReadOnlyDictionary<string, Expr> context, List<Diagnostic> diags, Lexicon? lexicon = null)
    {
        var rp = Resolver.Resolve(src, ast, prelude, preludeSrc, context, diags, lexicon);
        if (rp == null || rp.Main == null || diags.Any(d => d.Severity == Severity.Error)) return null;
        var an = new Analysis(rp);
        int errors = diags.Count(d => d.Severity == Severity.Error);
        an.Check(diags);
        if (diags.Count(d => d.Severity == Severity.Error) > errors) return null;
        var l = new Lowering(rp, an);
        foreach (var (k, v) in context) l._out.Context[k] = v;
        l.Run();
        return l._out;
    }

    private Binder B(string name) => new(name, _binders++);

    private static CNum U24(long v) => new(Numb.NewU24((uint)v));

    private void Run()
    {
        _out.Symbols = _p.Symbols;
        _out.Sites = _p.Sites;
        _out.SiteSources = _p.SiteSources;
        _out.Fails = _p.Fails;
        _out.MainPath = _p.MainPath;
        _out.MainRep = _a.ReturnRep(_p.Main);
        foreach (var fn in _a.Reachable.OrderBy(f => f.IsMain ? -1 : f.Id)) LowerFn(fn);
        foreach (int id in _out.UsedSites.Order())
        {
            // @amb.N = (args r): the candidates and anchors are forced to data, then the question parks.
            var args = B("args");
            var c = B("cands");
            var an = B("anchors");
            var body = new CLetPair(c, an, new CVar(args), new CApp(new CRef(AskDef(id)), SiteArgs.Core(DeepForce(new CVar(c)), DeepForce(new CVar(an)))));
            _out.Defs.Add(new CoreDef(SiteDef(id), $"amb.{id}", new CLam(args, body), true, true));
        }
        if (_usedStd.Count > 0) StdDefs();
        foreach (int id in _out.UsedFails.Order()) _out.Defs.Add(new CoreDef(FailDef(id), "error", CEra.I, false, true));
    }

    public static string SiteDef(int id) => $"amb.{id}";
    public static string AskDef(int id) => $"ask.{id}";
    public static string FailDef(int id) => $"fail.{id}";

    private void LowerFn(Fn fn)
    {
        var want = _a.ReturnRep(fn);
        Core body = L(fn.Body, want);
        if (fn.IsMain && _sites && want == Rep.Uniform) body = DeepForce(body);
        var ps = new List<Binder?>();
        if (fn.IsLambda) ps.AddRange(fn.Captures);
        ps.AddRange(fn.Params);
        if (fn.IsConst) ps.Add(null);
        for (int i = ps.Count - 1; i >= 0; i--) body = new CLam(ps[i], body);
        _out.Defs.Add(new CoreDef(fn.NetName, fn.LmnName, body, !fn.IsConst && !fn.IsMain, fn.Prelude));
    }

    // Representations
    // ---------------

    private Core Fail(int id)
    {
        if (id < 0) id = InternalFail();
        _out.UsedFails.Add(id);
        return new CRef(FailDef(id));
    }

    private int _internalFail = -1;

    private int InternalFail()
    {
        if (_internalFail >= 0) return _internalFail;
        _internalFail = _p.Fails.Count;
        _p.Fails.Add(new FailInfo(_internalFail, _p.MainPath, new SourceText(_p.MainPath, ""), 0, "internal error: a value of the wrong kind (please report this program)"));
        return _internalFail;
    }

    private static Core Box(Core c) => new CPair(U24(SymbolTable.BoxTag), c);

    private Core Force(Core c)
    {
        if (!_sites) return c;
        _usedStd.Add("force");
        return new CApp(new CRef("std.force"), c);
    }

    private Core DeepForce(Core c)
    {
        _usedStd.Add("df");
        return new CApp(new CRef("std.df"), c);
    }

    /// <summary>A uniform value as a number: its box opened, anything else the error.</summary>
    private Core Unbox(Core c, int fail)
    {
        var t = B("t");
        var p = B("n");
        return new CLetPair(t, p, Force(c), new CSwitch(new COp(Numb.OP_SUB, new CVar(t), U24(SymbolTable.BoxTag)), new CVar(p), null, Fail(fail)));
    }

    private Core Coerce(Core c, Rep from, Rep to, int fail)
    {
        if (from == to || from == Rep.None || to == Rep.None) return c;
        if (from == Rep.Num) return c is CNum n ? Box(n) : Box(c);
        return Unbox(c, fail);
    }

    private Rep RepOf(Ir e) => _a.RepOf(e);

    private static Core Payload(IReadOnlyList<Core> fields)
    {
        if (fields.Count == 0) return CEra.I;
        Core p = fields[^1];
        for (int i = fields.Count - 2; i >= 0; i--) p = new CPair(fields[i], p);
        return p;
    }

    private static Core Tagged(int tag, IReadOnlyList<Core> fields) => new CPair(U24(tag), Payload(fields));

    private static Core ListOf(IReadOnlyList<Core> items, Core? tail = null)
    {
        Core r = tail ?? Tagged(SymbolTable.Nil, []);
        for (int i = items.Count - 1; i >= 0; i--) r = Tagged(SymbolTable.Cons, [items[i], r]);
        return r;
    }

    /// <summary>Binds a payload's fields: none (erased), one (the payload itself), or nested pairs.</summary>
    private Core OpenPayload(IReadOnlyList<Binder> fields, Core pay, Core body)
    {
        if (fields.Count == 0) return body;
        if (fields.Count == 1) return new CLet(fields[0], pay, body);
        Core cur = pay;
        var lets = new List<(Binder A, Binder B, Core V)>();
        for (int i = 0; i < fields.Count - 1; i++)
        {
            var restB = i == fields.Count - 2 ? fields[^1] : B("rest");
            lets.Add((fields[i], restB, cur));
            cur = new CVar(restB);
        }
        for (int i = lets.Count - 1; i >= 0; i--) body = new CLetPair(lets[i].A, lets[i].B, lets[i].V, body);
        return body;
    }

    // Expressions
    // -----------

    /// <summary>The core term of e, producing its value in the representation `want`.</summary>
    /// <summary>
    /// The core term of e, producing its value in the representation `want`. A let's body, an if's else,
    /// a data node's last field and a question's last candidate are followed in a loop, so a long chain of
    /// them does not deepen the stack; each node passed is finished on the way back, innermost first, in
    /// the order the recursion finished it (binder numbering and so the emitted text are the same).
    /// </summary>
    private Core L(Ir e, Rep want, int fail = -1)
    {
        NestingTooDeep.Check(e.Off, "while lowering");
        List<(Ir Node, Rep Want, int Fail, Core? First, Core[]? Parts)>? chain = null;
        while (true)
        {
            switch (e)
            {
                case ILet l:
                    (chain ??= []).Add((l, want, fail, L(l.V, _a.RepOf(l.X)), null));
                    e = l.Body;
                    continue;
                case IIf i:
                {
                    var w = want == Rep.None ? RepOf(i) : want;
                    (chain ??= []).Add((i, w, fail, L(i.C, Rep.Num, i.FailId), null));
                    e = i.E;
                    want = w;
                    continue;
                }
                case IData { Fields.Length: > 0 } d:
                {
                    var fields = new Core[d.Fields.Length];
                    for (int k = 0; k < fields.Length - 1; k++) fields[k] = L(d.Fields[k], Rep.Uniform);
                    (chain ??= []).Add((d, want, fail, null, fields));
                    e = d.Fields[^1];
                    (want, fail) = (Rep.Uniform, -1);
                    continue;
                }
                case ISite { Tail: null, Cands.Length: > 0 } s:
                {
                    var cands = new Core[s.Cands.Length];
                    for (int k = 0; k < cands.Length - 1; k++) cands[k] = L(s.Cands[k], Rep.Uniform);
                    (chain ??= []).Add((s, want, fail, null, cands));
                    e = s.Cands[^1];
                    (want, fail) = (Rep.Uniform, -1);
                    continue;
                }
            }
            break;
        }
        var r = LNode(e, want, fail);
        if (chain == null) return r;
        for (int k = chain.Count - 1; k >= 0; k--)
        {
            var (node, w, f, first, parts) = chain[k];
            switch (node)
            {
                case ILet l:
                    // A name the body uses is computed even where the compiled code ends up not needing
                    // it (a closure known at compile time): call-by-value. Only an unused name is skipped.
                    r = new CLet(l.X, first!, r) { Strict = l.Strict || Uses(l.Body, l.X) };
                    break;
                case IIf i:
                    r = new CSwitch(first!, r, null, L(i.T, w, f));
                    break;
                case IData d:
                    parts![^1] = r;
                    r = Coerce(Tagged(d.Tag, parts), Rep.Uniform, w, f);
                    break;
                case ISite s:
                    parts![^1] = r;
                    r = Coerce(Susp(s, parts, null), Rep.Uniform, w, f);
                    break;
            }
        }
        return r;
    }

    private Core LNode(Ir e, Rep want, int fail)
    {
        switch (e)
        {
            case IVar v: return Coerce(new CVar(v.B), _a.RepOf(v.B), want, fail);
            case INum n: return want == Rep.Uniform ? Box(new CNum(n.Numb)) : new CNum(n.Numb);
            case IData d: return Coerce(Tagged(d.Tag, d.Fields.Select(f => L(f, Rep.Uniform)).ToList()), Rep.Uniform, want, fail);
            case IPap p: return Coerce(Closure(p.Fn, p.Args.Length, ClosureEnv(p)), Rep.Uniform, want, fail);
            case ICall c: return Coerce(Call(c.Fn, c.Args.Select((x, i) => L(x, _a.RepOf(c.Fn.Params[i]))).ToList(), []), _a.ReturnRep(c.Fn), want, fail);
            case IApp a when a.Mode != ApplyKind.Call: return Coerce(PhraseOrApply(a), Rep.Uniform, want, fail);
            case IApp a:
            {
                var args = a.Args.Select(_ => B("arg")).ToList();
                Core r = Dispatch(L(a.F, Rep.Uniform), _a.ValueOf(a.F), args, a.FailId);
                for (int i = args.Count - 1; i >= 0; i--) r = new CLet(args[i], L(a.Args[i], Rep.Uniform), r);
                return Coerce(r, Rep.Uniform, want, fail);
            }
            case IPrim p: return Coerce(Prim(p), Rep.Num, want, fail);
            case IIf i:
            {
                var w = want == Rep.None ? RepOf(i) : want;
                return new CSwitch(L(i.C, Rep.Num, i.FailId), L(i.E, w, fail), null, L(i.T, w, fail));
            }
            case IEq q: return Coerce(Eq(q), Rep.Num, want, fail);
            case ILet l:
                // A name the body uses is computed even where the compiled code ends up not needing
                // it (a closure known at compile time): call-by-value. Only an unused name is skipped.
                return new CLet(l.X, L(l.V, _a.RepOf(l.X)), L(l.Body, want, fail)) { Strict = l.Strict || Uses(l.Body, l.X) };
            case IMatch m: return Match(m, want == Rep.None ? RepOf(m) : want);
            case ISite s: return Coerce(Susp(s), Rep.Uniform, want, fail);
            case IFail f: return Fail(f.Id);
            default: throw new System.Diagnostics.UnreachableException($"ir {e.GetType().Name}");
        }
    }

    private Core Call(Fn fn, List<Core> args, List<Core> prefix)
    {
        Core f = new CRef(fn.NetName);
        foreach (var c in prefix) f = new CApp(f, c);
        if (fn.IsConst) return new CApp(f, CEra.I);
        foreach (var a in args) f = new CApp(f, a);
        return f;
    }

    private int ClosureTag(Fn fn, int k)
    {
        int tag = _p.Symbols.Closure($"{fn.NetName}/{k}");
        if (!_out.Closures.ContainsKey(tag))
            _out.Closures[tag] = new ClosureInfo(tag, fn, k, fn.IsLambda ? fn.Captures.Select(_a.RepOf).ToArray() : []);
        return tag;
    }

    private List<Core> ClosureEnv(IPap p)
    {
        var env = new List<Core>();
        if (p.Fn.IsLambda)
            for (int i = 0; i < p.Fn.Captures.Count; i++)
                env.Add(p.Self
                    ? new CVar(p.Fn.Captures[i])
                    : Coerce(new CVar(p.Fn.CapturedFrom[i]), _a.RepOf(p.Fn.CapturedFrom[i]), _a.RepOf(p.Fn.Captures[i]), -1));
        foreach (var x in p.Args) env.Add(L(x, Rep.Uniform));
        return env;
    }

    private Core Closure(Fn fn, int k, List<Core> env) => Tagged(ClosureTag(fn, k), env);

    /// <summary>Applies a uniform function value to arguments (uniform, bound to variables): a switch over its tag.</summary>
    private Core Dispatch(Core f, AVal fv, List<Binder> args, int fail, Func<Core, Core>? other = null)
    {
        var clos = (fv.Clos ?? []).Select(c => (c.Fn, c.K, Tag: ClosureTag(c.Fn, c.K))).OrderBy(c => c.Tag).ToList();
        bool mayBeData = fv.Flags != 0;
        var env = B("env");
        if (clos.Count == 1 && !mayBeData)
            return new CLetPair(null, env, Force(f), Branch(clos[0].Fn, clos[0].K, env, args, fail)) { Strict = true };
        var t = B("tag");
        var cases = clos.Select(c => (c.Tag, (Func<Core>)(() => Branch(c.Fn, c.K, env, args, fail)))).ToList();
        _usedStd.Add("never");
        Core Default(Core tv)
        {
            if (other == null) return BoxGate(tv, new CVar(env), Fail(fail));
            // Not a function: the value itself, rebuilt, goes into the phrase (an error in a box is the result).
            var tb = B("tv");
            return new CLet(tb, tv, BoxGate(new CVar(tb), new CVar(env), other(new CPair(new CVar(tb), new CVar(env)))));
        }
        return new CLetPair(t, env, Force(f), TagChain(new CVar(t), cases, Default));
    }

    /// <summary>
    /// `f x` / `x → f`: f is inspected (a question is asked, an error is the result); a function is
    /// applied, anything else makes a phrase `·phrase[f, x]` or a flow `·flow[x, f]`.
    /// </summary>
    private Core PhraseOrApply(IApp a)
    {
        var fv = _a.ValueOf(a.F);
        int tag = _p.Symbols.Compound(a.Mode == ApplyKind.Juxt ? SymbolTable.PhraseHead : SymbolTable.FlowHead, 2);
        var x = B("x");
        Core Build(Core f) => Tagged(tag, a.Mode == ApplyKind.Juxt ? [f, new CVar(x)] : [new CVar(x), f]);
        Core body;
        if (a.F is INum or IData { Fields.Length: 0 })
            // A literal word, string or number at the head (`hello world`): nothing to inspect.
            body = Build(L(a.F, Rep.Uniform));
        else if (!fv.HasClosures)
        {
            var f0 = B("f0");
            var f = B("f");
            body = new CLet(f0, L(a.F, Rep.Uniform), Inspect(f0, f, Rep.Uniform, Build(new CVar(f)))) { Strict = true };
        }
        else body = Dispatch(L(a.F, Rep.Uniform), fv, [x], a.FailId, fv.Flags != 0 ? Build : null);
        return new CLet(x, L(a.Args[0], Rep.Uniform), body) { Strict = true };
    }

    private Core Branch(Fn fn, int k, Binder env, List<Binder> args, int fail)
    {
        int nCap = fn.IsLambda ? fn.Captures.Count : 0;
        var fields = new List<Binder>();
        for (int i = 0; i < nCap + k; i++) fields.Add(B(i < nCap ? fn.Captures[i].Name : "given"));
        int m = args.Count, n = fn.Arity;
        Core inner;
        if (k + m < n)
            inner = Closure(fn, k + m, fields.Select(x => (Core)new CVar(x)).Concat(args.Select(x => (Core)new CVar(x))).ToList());
        else
        {
            int take = n - k;
            var prefix = fields.Take(nCap).Select(x => (Core)new CVar(x)).ToList();
            var callArgs = fields.Skip(nCap).Select(x => (Core)new CVar(x)).Concat(args.Take(take).Select(x => (Core)new CVar(x))).ToList();
            Core call = Coerce(Call(fn, callArgs, prefix), _a.ReturnRep(fn), Rep.Uniform, -1);
            if (take == m) inner = call;
            else
            {
                var r = B("res");
                inner = new CLet(r, call, Dispatch(new CVar(r), _a.ReturnValue(fn), args.Skip(take).ToList(), fail));
            }
        }
        return OpenPayload(fields, new CVar(env), inner);
    }

    /// <summary>A chain of switches over sorted tags: `tag - T1` is 0 for the first case, and so on; the rest is the default.</summary>
    private Core TagChain(Core tag, List<(int Tag, Func<Core> Body)> cases, Func<Core, Core> dflt)
    {
        if (cases.Count == 0) return dflt(tag);
        Core Chain(int idx, Core cur, int from)
        {
            int diff = cases[idx].Tag - from;
            Core test = diff == 0 ? cur : new COp(Numb.OP_SUB, cur, U24(diff));
            var q = B("q");
            int next = cases[idx].Tag + 1;
            Core rest = idx + 1 < cases.Count ? Chain(idx + 1, new CVar(q), next) : dflt(new COp(Numb.OP_ADD, new CVar(q), U24(next)));
            return new CSwitch(test, cases[idx].Body(), q, rest);
        }
        return Chain(0, tag, 0);
    }

    private Core Prim(IPrim p)
    {
        var a = L(p.A, Rep.Num, p.FailId);
        var b = L(p.B, Rep.Num, p.FailId);
        if (_sites && RepOf(p.B) == Rep.Uniform && p.A is not INum)
        {
            // The left operand is inspected first: the right one (which may ask a question) only once
            // the left is a number, so an error on the left asks nothing more.
            var x = B("x");
            return new CLet(x, a, Prim(p, new CVar(x), After(new CVar(x), b)));
        }
        return Prim(p, a, b);
    }

    /// <summary>
    /// body, unless the value is a box holding an error (a number that is an error, put among data):
    /// then that error. Used where a value is told apart by its tag only (a default arm, a failure).
    /// </summary>
    private Core BoxGate(Core tag, Core pay, Core body)
    {
        _usedStd.Add("never");
        // gate: 1 for anything but a box; for a box, 1 if its number is a number, the error otherwise.
        var gate = new CSwitch(new COp(Numb.OP_EQ, tag, U24(SymbolTable.BoxTag)), U24(1), null,
            new COp(Numb.OP_NEQ, new COp(Numb.OP_MUL, pay, U24(0)), U24(1)));
        return new CSwitch(gate, new CRef("std.never"), null, body);
    }

    /// <summary>v, computed only once `gate` is a number (an error in gate is the result instead).</summary>
    private static Core After(Core gate, Core v) =>
        new CSwitch(new COp(Numb.OP_MUL, gate, U24(0)), v, null, v);

    private Core Prim(IPrim p, Core a, Core b)
    {
        switch (p.Op)
        {
            case Resolver.OpLe: return new COp(Numb.OP_XOR, new COp(Numb.OP_GT, a, b), U24(1));
            case Resolver.OpGe: return new COp(Numb.OP_XOR, new COp(Numb.OP_LT, a, b), U24(1));
            case Numb.OP_DIV or Numb.OP_REM:
            {
                if (b is CNum k && !IsZero(k.Numb)) return new COp(p.Op, a, b);
                // x / y: y == 0 gives the error (after x's own error, if x is one: `x + error` keeps x's).
                var x = B("x");
                var y = B("y");
                var zero = new COp(Numb.OP_ADD, new CVar(x), Fail(p.FailId2));
                return new CLet(x, a, new CLet(y, b, new CSwitch(new COp(Numb.OP_EQ, new CVar(y), U24(0)), new COp(p.Op, new CVar(x), new CVar(y)), null, zero)));
            }
            default: return new COp(p.Op, a, b);
        }
    }

    private static bool IsZero(uint numb) => Numb.GetU24(Numb.Operate(Numb.Partial(Numb.NewSym(Numb.OP_EQ), numb), Numb.NewU24(0))) != 0;

    private Core Eq(IEq q)
    {
        uint op = q.Neg ? Numb.OP_NEQ : Numb.OP_EQ;
        var ra = RepOf(q.A);
        var rb = RepOf(q.B);
        if (ra == Rep.Num && rb == Rep.Num) return new COp(op, L(q.A, Rep.Num), L(q.B, Rep.Num));
        // A word or string literal: compare the tag (the other side's payload is dropped).
        if (q.B is IData { Fields.Length: 0 } atom && ra != Rep.Num) return AtomEq(L(q.A, Rep.Uniform), atom.Tag, op, MayBeNumber(q.A));
        if (q.A is IData { Fields.Length: 0 } atom2 && rb != Rep.Num) return AtomEq(L(q.B, Rep.Uniform), atom2.Tag, op, MayBeNumber(q.B));
        if (q.B is INum k && ra == Rep.Uniform) return NumEq(L(q.A, Rep.Uniform), k.Numb, q.Neg);
        if (q.A is INum k2 && rb == Rep.Uniform) return NumEq(L(q.B, Rep.Uniform), k2.Numb, q.Neg);
        _usedStd.Add("eq");
        // The left operand is inspected first: an error there (also a number that is an error, in a box) is
        // the result, whatever the right one holds; then the two are compared field by field.
        // (std.eq reads the left tag first, so only a left that may be a box needs the gate.)
        Core r;
        if (ra == Rep.Num)
        {
            // A bare number: once it is one (not an error), box it and compare.
            var x = B("x");
            Core cmp = new CApp(new CApp(new CApp(new CRef("std.eq"), Box(new CVar(x))), L(q.B, Rep.Uniform)), Fail(q.FailId));
            r = new CLet(x, L(q.A, Rep.Num), After(new CVar(x), cmp)) { Strict = true };
        }
        else if (MayBeNumber(q.A))
        {
            var a0 = B("a0");
            var at = B("t");
            var ap = B("p");
            Core cmp = new CApp(new CApp(new CApp(new CRef("std.eq"), new CPair(new CVar(at), new CVar(ap))), L(q.B, Rep.Uniform)), Fail(q.FailId));
            r = new CLet(a0, L(q.A, Rep.Uniform), new CLetPair(at, ap, Force(new CVar(a0)), BoxGate(new CVar(at), new CVar(ap), cmp))) { Strict = true };
        }
        else r = new CApp(new CApp(new CApp(new CRef("std.eq"), L(q.A, Rep.Uniform)), L(q.B, Rep.Uniform)), Fail(q.FailId));
        return q.Neg ? new COp(Numb.OP_XOR, r, U24(1)) : r;
    }

    /// <summary>Whether a value may be a number (boxed among data, possibly holding an error).</summary>
    private bool MayBeNumber(Ir e) => (_a.ValueOf(e).Flags & (AVal.Num | AVal.Any)) != 0;

    private Core AtomEq(Core v, int tag, uint op, bool mayBeNumber)
    {
        var t = B("t");
        var p = B("p");
        Core cmp = new COp(op, new CVar(t), U24(tag));
        return new CLetPair(t, mayBeNumber ? p : null, Force(v), mayBeNumber ? BoxGate(new CVar(t), new CVar(p), cmp) : cmp);
    }

    private Core NumEq(Core v, uint k, bool neg)
    {
        var t = B("t");
        var p = B("n");
        return new CLetPair(t, p, Force(v), new CSwitch(new COp(Numb.OP_SUB, new CVar(t), U24(SymbolTable.BoxTag)),
            new COp(neg ? Numb.OP_NEQ : Numb.OP_EQ, new CVar(p), new CNum(k)), null, U24(neg ? 1 : 0)));
    }

    private Core Susp(ISite s) =>
        Susp(s, s.Cands.Select(c => L(c, Rep.Uniform)).ToArray(), s.Tail == null ? null : L(s.Tail, Rep.Uniform));

    /// <summary>The suspension of a question whose candidates (and tail) are lowered.</summary>
    private Core Susp(ISite s, Core[] candidates, Core? tail)
    {
        var cands = ListOf(candidates, tail);
        var anchors = ListOf(s.Anchors.Select(a => Tagged(_p.Symbols.Anchor(a.Name), [L(a.Value, Rep.Uniform)])).ToList());
        _out.UsedSites.Add(s.Info.Id);
        return Tagged(SymbolTable.SuspTag, [new CRef(SiteDef(s.Info.Id)), SiteArgs.Core(cands, anchors)]);
    }

    // match
    // -----

    private sealed record Col(Binder B, Rep Rep);

    private sealed record Row(List<RPat> Pats, List<(Binder, Core)> Binds, IArm Arm);

    private sealed record MatchCtx(IMatch M, Rep Want);

    private MatchCtx _m = null!;

    private Core Match(IMatch m, Rep want)
    {
        var srep = RepOf(m.Scrut);
        if (srep == Rep.None) srep = Rep.Uniform;
        var s = B("scrut");
        var save = _m;
        _m = new MatchCtx(m, want);
        var rows = m.Arms.Select(a => new Row([a.Pat], [], a)).ToList();
        // A match inspects its scrutinee (an error there is the match's value, a question is asked) even
        // when the first arm fits anything, or when only data patterns face a bare number.
        bool inspects = rows.Count > 0 && Refutable(rows[0].Pats[0])
            && (srep != Rep.Num || rows.Any(r => r.Pats[0] is RNum or RSucc));
        var body = Compile([new Col(s, srep)], rows);
        _m = save;
        if (!inspects)
        {
            var s0 = B("scrut0");
            return new CLet(s0, L(m.Scrut, srep), Inspect(s0, s, srep, body)) { Strict = true };
        }
        // The scrutinee is evaluated even when no arm looks at it (call-by-value).
        return new CLet(s, L(m.Scrut, srep), body) { Strict = true };
    }

    private static bool Refutable(RPat p) => p is RNum or RSucc or RCtor;

    private HashSet<Binder>? _mentioned;

    /// <summary>Whether the program mentions a variable anywhere (directly or captured by a lambda); binders are unique.</summary>
    private bool Uses(Ir body, Binder x)
    {
        if (_mentioned == null)
        {
            // One walk over every code, not one per let: chained lets stay linear.
            _mentioned = [];
            foreach (var fn in _p.Fns)
                Analysis.Walk(fn.Body, e =>
                {
                    if (e is IVar v) _mentioned.Add(v.B);
                    else if (e is IPap p) foreach (var b in p.Self ? p.Fn.Captures : p.Fn.CapturedFrom) _mentioned.Add(b);
                });
        }
        return _mentioned.Contains(x);
    }

    /// <summary>body, once the value of s is known: a question is asked, an error is the result instead.</summary>
    private Core Inspect(Binder from, Binder s, Rep rep, Core body)
    {
        if (rep == Rep.Num)
            return new CSwitch(new COp(Numb.OP_NEQ, new COp(Numb.OP_MUL, new CVar(from), U24(0)), U24(1)), Fail(-1), null,
                new CLet(s, new CVar(from), body));
        var t = B("t");
        var p = B("p");
        var gate = new CSwitch(new COp(Numb.OP_NEQ, new COp(Numb.OP_MUL, new CVar(t), U24(0)), U24(1)), Fail(-1), null,
            new CLet(s, new CPair(new CVar(t), new CVar(p)), body));
        return new CLetPair(t, p, Force(new CVar(from)), gate);
    }

    private Core Compile(List<Col> cols, List<Row> rows)
    {
        if (rows.Count == 0) return Fail(_m.M.FailId);
        var r0 = rows[0];
        int i = r0.Pats.FindIndex(Refutable);
        if (i < 0)
        {
            var binds = new List<(Binder, Core)>(r0.Binds);
            for (int j = 0; j < cols.Count; j++)
                if (r0.Pats[j] is RVar v) binds.Add((v.B, Coerce(new CVar(cols[j].B), cols[j].Rep, _a.RepOf(v.B), -1)));
            var m = _m;
            var body = L(r0.Arm.Body, m.Want);
            _m = m;
            for (int k = binds.Count - 1; k >= 0; k--) body = new CLet(binds[k].Item1, binds[k].Item2, body);
            return body;
        }
        if (cols[i].Rep == Rep.Num)
        {
            // A word or list pattern never fits a bare number.
            var numRows = rows.Where(r => r.Pats[i] is not RCtor).ToList();
            if (numRows.Count != rows.Count) return Compile(cols, numRows);
            return CompileNum(cols, i, rows, new CVar(cols[i].B), 0);
        }
        return CompileData(cols, i, rows);
    }

    private static Row Replace(Row r, int i, IEnumerable<RPat> with, (Binder, Core)? bind = null)
    {
        var pats = new List<RPat>(r.Pats);
        pats.RemoveAt(i);
        pats.InsertRange(i, with);
        var binds = new List<(Binder, Core)>(r.Binds);
        if (bind != null) binds.Add(bind.Value);
        return r with { Pats = pats, Binds = binds };
    }

    private static List<Col> ReplaceCol(List<Col> cols, int i, IEnumerable<Col> with)
    {
        var r = new List<Col>(cols);
        r.RemoveAt(i);
        r.InsertRange(i, with);
        return r;
    }

    /// <summary>Column i holds bare numbers; `cur` is the column's value minus j (every row left matches values >= j).</summary>
    private Core CompileNum(List<Col> cols, int i, List<Row> rows, Core cur, uint j)
    {
        Core ValuePlus(long k) => k == 0 ? cur : new COp(Numb.OP_ADD, cur, U24(k));
        var lits = new List<uint>();
        bool small = true;
        foreach (var r in rows)
        {
            switch (r.Pats[i])
            {
                case RNum n:
                    if (Numb.TypeOf(n.Numb) != Numb.TY_U24) small = false;
                    else lits.Add(Numb.GetU24(n.Numb));
                    break;
                case RSucc s when s.K > j: lits.Add(s.K); break;
            }
        }
        if (small && lits.Count == 0)
        {
            var rest = rows.Select(r => r.Pats[i] switch
            {
                RVar v => Replace(r, i, [], (v.B, ValuePlus(j))),
                RSucc { Pred: RVar pv } s => Replace(r, i, [], (pv.B, ValuePlus(j - s.K))),
                _ => Replace(r, i, []),
            }).ToList();
            return Compile(ReplaceCol(cols, i, []), rest);
        }
        if (small && lits.Min() - j <= 8)
        {
            var zero = new List<Row>();
            var succ = new List<Row>();
            foreach (var r in rows)
            {
                switch (r.Pats[i])
                {
                    case RNum n:
                        if (Numb.GetU24(n.Numb) == j) zero.Add(Replace(r, i, []));
                        else if (Numb.GetU24(n.Numb) > j) succ.Add(r);
                        break;
                    case RSucc s:
                        if (s.K <= j) zero.Add(s.Pred is RVar pv ? Replace(r, i, [], (pv.B, U24(j - s.K))) : Replace(r, i, []));
                        succ.Add(r);
                        break;
                    case RVar v:
                        zero.Add(Replace(r, i, [], (v.B, U24(j))));
                        succ.Add(r);
                        break;
                    default:
                        zero.Add(Replace(r, i, []));
                        succ.Add(r);
                        break;
                }
            }
            var pred = B("pred");
            var z = Compile(ReplaceCol(cols, i, []), zero);
            var sc = CompileNum(cols, i, succ, new CVar(pred), j + 1);
            return new CSwitch(cur, z, pred, sc);
        }
        {
            var lit = rows.Select(r => r.Pats[i]).OfType<RNum>().FirstOrDefault();
            if (lit == null)
            {
                uint k = rows.Select(r => r.Pats[i]).OfType<RSucc>().Where(s => s.K > j).Min(s => s.K);
                var b = B("n");
                var lt = rows.Where(r => r.Pats[i] is not RSucc s || s.K < k).ToList();
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
                    case RNum n:
                        if (n.Numb == v) eq.Add(Replace(r, i, []));
                        else ne.Add(r);
                        break;
                    case RSucc s:
                        if (isU && Numb.GetU24(v) >= s.K) eq.Add(s.Pred is RVar pv ? Replace(r, i, [], (pv.B, U24(Numb.GetU24(v) - s.K))) : Replace(r, i, []));
                        ne.Add(r);
                        break;
                    case RVar rv:
                        eq.Add(Replace(r, i, [], (rv.B, new CNum(v))));
                        ne.Add(r);
                        break;
                    default:
                        eq.Add(Replace(r, i, []));
                        ne.Add(r);
                        break;
                }
            }
            var yes = Compile(ReplaceCol(cols, i, []), eq);
            var no = CompileNum(cols, i, ne, cur, j);
            return new CSwitch(new COp(Numb.OP_EQ, ValuePlus(j), new CNum(v)), no, null, yes);
        }
    }

    private static (int Tag, int Arity, RPat[] Fields)? Ctor(RPat p) => p switch
    {
        RCtor c => (c.Tag, c.Fields.Length, c.Fields),
        RNum or RSucc => (SymbolTable.BoxTag, 1, [p]),
        _ => null,
    };

    private Core CompileData(List<Col> cols, int i, List<Row> rows)
    {
        var ctors = new List<(int Tag, int Arity)>();
        foreach (var r in rows)
            if (Ctor(r.Pats[i]) is { } c && !ctors.Contains((c.Tag, c.Arity))) ctors.Add((c.Tag, c.Arity));
        ctors.Sort((a, b) => a.Tag.CompareTo(b.Tag));
        var tagB = B("tag");
        var payB = B("pay");
        var cases = new List<(int, Func<Core>)>();
        foreach (var (tag, arity) in ctors)
        {
            bool box = tag == SymbolTable.BoxTag;
            var fields = new List<Binder>();
            for (int k = 0; k < arity; k++) fields.Add(B("f"));
            var sub = new List<Row>();
            foreach (var r in rows)
            {
                var p = r.Pats[i];
                if (!Refutable(p))
                {
                    var wild = Enumerable.Range(0, arity).Select(_ => (RPat)new RWild(p.Off));
                    sub.Add(p is RVar v ? Replace(r, i, wild, (v.B, Coerce(Tagged(tag, fields.Select(f => (Core)new CVar(f)).ToList()), Rep.Uniform, _a.RepOf(v.B), -1))) : Replace(r, i, wild));
                }
                else if (Ctor(p) is { } c && c.Tag == tag && c.Arity == arity) sub.Add(Replace(r, i, c.Fields));
            }
            var fieldCols = fields.Select(f => new Col(f, box ? Rep.Num : Rep.Uniform)).ToList();
            var body = Compile(ReplaceCol(cols, i, fieldCols), sub);
            cases.Add((tag, () => OpenPayload(fields, new CVar(payB), body)));
        }
        Core Default(Core tagValue)
        {
            var def = new List<Row>();
            var tv = B("tag");
            Core whole = new CPair(new CVar(tv), new CVar(payB));
            foreach (var r in rows)
            {
                var p = r.Pats[i];
                if (p is RVar v) def.Add(Replace(r, i, [], (v.B, Coerce(whole, Rep.Uniform, _a.RepOf(v.B), -1))));
                else if (!Refutable(p)) def.Add(Replace(r, i, []));
            }
            var rest = Compile(ReplaceCol(cols, i, []), def);
            // Only reached when no arm's constructor fits: a box here may hold an error, which is the value.
            bool boxArm = ctors.Any(c => c.Tag == SymbolTable.BoxTag);
            _usedStd.Add("never");
            return new CLet(tv, tagValue, boxArm ? rest : BoxGate(new CVar(tv), new CVar(payB), rest));
        }
        return new CLetPair(tagB, payB, Force(new CVar(cols[i].B)), TagChain(new CVar(tagB), cases, Default));
    }

    // The runtime's own definitions
    // -----------------------------

    private readonly HashSet<string> _usedStd = [];

    private Core App(string def, params Core[] args)
    {
        Core f = new CRef(def);
        foreach (var a in args) f = new CApp(f, a);
        return f;
    }

    private Core IfEq(Core x, long k, Core yes, Core no) => new CSwitch(new COp(Numb.OP_EQ, x, U24(k)), no, null, yes);

    private void StdDefs()
    {
        if (_usedStd.Contains("df"))
        {
            // std.df v: v with every question inside asked (data only; closures are left as they are).
            var v = B("v"); var t = B("t"); var p = B("p"); var r = B("ref"); var a = B("args"); var s = B("s");
            Core T() => new CVar(t);
            Core P() => new CVar(p);
            var fieldsCase = IfEq(new CVar(s), 1, new CPair(T(), App("std.df", P())), new CPair(T(), App("std.dff", new CVar(s), P())));
            var other = IfEq(new CVar(s), SymbolTable.ShapeAnchored, new CPair(T(), App("std.df", P())), new CPair(T(), P()));
            var shapes = new CSwitch(new CVar(s), new CPair(T(), P()), null,
                new CSwitch(new COp(Numb.OP_LT, new CVar(s), U24(SymbolTable.ShapeAnchored)), other, null, fieldsCase));
            var body = new CLetPair(t, p, new CVar(v), new CSwitch(new COp(Numb.OP_SUB, T(), U24(SymbolTable.SuspTag)),
                new CLetPair(r, a, P(), App("std.df", new CApp(new CVar(r), new CVar(a)))), null,
                new CLet(s, new COp(Numb.OP_AND, T(), U24(SymbolTable.ShapeMask)), shapes)));
            _out.Defs.Add(new CoreDef("std.df", "force", new CLam(v, body), true, true));
            var n = B("n"); var q = B("p"); var x = B("x"); var xs = B("xs");
            var dff = IfEq(new CVar(n), 1, App("std.df", new CVar(q)),
                new CLetPair(x, xs, new CVar(q), new CPair(App("std.df", new CVar(x)), App("std.dff", new COp(Numb.OP_SUB, new CVar(n), U24(1)), new CVar(xs)))));
            _out.Defs.Add(new CoreDef("std.dff", "force", new CLam(n, new CLam(q, dff)), true, true));
        }
        if (_usedStd.Contains("eq"))
        {
            // std.eq a b err: structural equality, 1 or 0; two functions give err.
            var a = B("a"); var b = B("b"); var e = B("err");
            var ta = B("ta"); var pa = B("pa"); var tb = B("tb"); var pb = B("pb"); var s = B("s");
            Core S() => new CVar(s);
            var same = new CLet(s, new COp(Numb.OP_AND, new CVar(ta), U24(SymbolTable.ShapeMask)),
                new CSwitch(S(), U24(1), null,
                    IfEq(S(), SymbolTable.ShapeBox, new COp(Numb.OP_EQ, new CVar(pa), new CVar(pb)),
                    IfEq(S(), SymbolTable.ShapeClosure, new CVar(e),
                    IfEq(S(), SymbolTable.ShapeAnchored, App("std.eq", new CVar(pa), new CVar(pb), new CVar(e)),
                    IfEq(S(), 1, App("std.eq", new CVar(pa), new CVar(pb), new CVar(e)),
                        App("std.eqf", S(), new CVar(pa), new CVar(pb), new CVar(e))))))));
            var both = new COp(Numb.OP_AND,
                new COp(Numb.OP_EQ, new COp(Numb.OP_AND, new CVar(ta), U24(SymbolTable.ShapeMask)), U24(SymbolTable.ShapeClosure)),
                new COp(Numb.OP_EQ, new COp(Numb.OP_AND, new CVar(tb), U24(SymbolTable.ShapeMask)), U24(SymbolTable.ShapeClosure)));
            var differ = BoxGate(new CVar(ta), new CVar(pa), BoxGate(new CVar(tb), new CVar(pb), new CSwitch(both, U24(0), null, new CVar(e))));
            Core right = new CLetPair(tb, pb, Force(new CVar(b)),
                new CSwitch(new COp(Numb.OP_EQ, new CVar(ta), new CVar(tb)), differ, null, same));
            // The right side is inspected (and its question asked) only once the left one is known.
            var body = new CLetPair(ta, pa, Force(new CVar(a)), _sites ? After(new CVar(ta), right) : right);
            _out.Defs.Add(new CoreDef("std.eq", "==", new CLam(a, new CLam(b, new CLam(e, body))), true, true));
            var n = B("n"); var x = B("x"); var y = B("y"); var e2 = B("err"); var x1 = B("x1"); var xs = B("xs"); var y1 = B("y1"); var ys = B("ys");
            var eqf = IfEq(new CVar(n), 1, App("std.eq", new CVar(x), new CVar(y), new CVar(e2)),
                new CLetPair(x1, xs, new CVar(x), new CLetPair(y1, ys, new CVar(y),
                    new CSwitch(App("std.eq", new CVar(x1), new CVar(y1), new CVar(e2)), U24(0), null,
                        App("std.eqf", new COp(Numb.OP_SUB, new CVar(n), U24(1)), new CVar(xs), new CVar(ys), new CVar(e2))))));
            _out.Defs.Add(new CoreDef("std.eqf", "==", new CLam(n, new CLam(x, new CLam(y, new CLam(e2, eqf)))), true, true));
        }
        // std.force v (last: the definitions above may call it): a suspended question is asked (its site called), anything else is itself.
        if (_usedStd.Contains("force"))
        {
            var v = B("v"); var t = B("t"); var p = B("p"); var r = B("ref"); var a = B("args");
            var body = new CLetPair(t, p, new CVar(v), new CSwitch(new COp(Numb.OP_SUB, new CVar(t), U24(SymbolTable.SuspTag)),
                new CLetPair(r, a, new CVar(p), App("std.force", new CApp(new CVar(r), new CVar(a)))), null,
                new CPair(new CVar(t), new CVar(p))));
            _out.Defs.Add(new CoreDef("std.force", "force", new CLam(v, body), true, true));
        }
        // std.never: the branch of a gate that a number never takes.
        if (_usedStd.Contains("never")) _out.Defs.Add(new CoreDef("std.never", "never", Fail(-1), false, true));
    }
}
