using Lmn.Net;
using Lmn.Text;

namespace Lmn.Language;

/// <summary>How a value travels in the net: a bare NUM (known to be a number) or a uniform `(#tag payload)`.</summary>
public enum Rep { None, Num, Uniform }

/// <summary>
/// An abstract value: which kinds a value may be at run time, and which closures (a code with k
/// arguments given). Any: data or a number the analysis does not track (an oracle's open answer).
/// </summary>
public sealed class AVal
{
    public const int Num = 1, Word = 2, Str = 4, List = 8, Comp = 16, Anch = 32, Any = 64;
    public int Flags;
    public HashSet<(Fn Fn, int K)>? Clos;

    public bool IsEmpty => Flags == 0 && (Clos == null || Clos.Count == 0);
    public bool HasClosures => Clos != null && Clos.Count > 0;

    /// <summary>Adds o; true if anything was new.</summary>
    public bool Join(AVal o)
    {
        bool ch = (Flags | o.Flags) != Flags;
        Flags |= o.Flags;
        if (o.Clos != null)
            foreach (var c in o.Clos)
            {
                Clos ??= [];
                ch |= Clos.Add(c);
            }
        return ch;
    }

    public static AVal Of(int flags) => new() { Flags = flags };

    public static AVal Closure(Fn f, int k) => new() { Clos = [(f, k)] };

    /// <summary>What a value of this kind is called in a message ("a list", "a word or a list").</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if ((Flags & Num) != 0) parts.Add("a number");
        if ((Flags & Word) != 0) parts.Add("a word");
        if ((Flags & Str) != 0) parts.Add("a string");
        if ((Flags & List) != 0) parts.Add("a list");
        if ((Flags & Comp) != 0) parts.Add("a compound");
        if ((Flags & Anch) != 0) parts.Add("an anchored value");
        if (HasClosures) parts.Add("a function");
        return parts.Count == 0 ? "nothing" : string.Join(" or ", parts);
    }
}

/// <summary>
/// Whole-program analysis by abstract interpretation to a fixpoint (0-CFA): the kinds and closures each
/// variable, parameter and return may hold (data put in any structure is pooled in one heap value), and
/// the representation of each (a number bare where every value that reaches it is one). Its results drive
/// the static checks, the dispatch of unknown applications (only the closures that can reach them), and
/// boxing.
/// </summary>
public sealed class Analysis
{
    private readonly ResolvedProgram _p;
    private readonly Dictionary<Binder, AVal> _vars = [];
    private readonly Dictionary<Fn, AVal> _ret = [];
    // Data put in structures, by (tag, field): what a pattern variable bound to that field may be.
    private readonly Dictionary<(int Tag, int Field), AVal> _heap = [];
    private readonly bool _openAnswers;
    private readonly Dictionary<Ir, AVal> _at = new(ReferenceEqualityComparer.Instance);
    private bool _changed;

    private readonly Dictionary<Binder, Rep> _rep = [];
    private readonly Dictionary<Fn, Rep> _retRep = [];
    private bool _repChanged;

    public Analysis(ResolvedProgram p)
    {
        _p = p;
        // An open question's answer may be any data, with anything in its fields.
        _openAnswers = p.Sites.Any(si => si.Open || si.TypeExpected != null && si.CandidateCount == 0);
        Reachable = FindReachable();
        do
        {
            _changed = false;
            foreach (var fn in _p.Fns)
                if (Ret(fn).Join(Eval(fn.Body))) _changed = true;
        } while (_changed);
        // Representations: start from "a number" everywhere a number could be bare, and demote.
        foreach (var fn in _p.Fns)
        {
            foreach (var b in fn.Params) _rep[b] = fn.Escapes || fn.IsLambda ? Rep.Uniform : Rep.Num;
            _retRep[fn] = Rep.None;
        }
        do
        {
            _repChanged = false;
            foreach (var fn in _p.Fns)
            {
                for (int i = 0; i < fn.Captures.Count; i++) SetRep(fn.Captures[i], RepOf(fn.CapturedFrom[i]));
                var r = RepOf(fn.Body);
                if (Join(_retRep[fn], r) != _retRep[fn])
                {
                    _retRep[fn] = Join(_retRep[fn], r);
                    _repChanged = true;
                }
            }
        } while (_repChanged);
    }

    /// <summary>The codes reachable from main (only these are compiled).</summary>
    public HashSet<Fn> Reachable { get; }

    public AVal ValueOf(Ir e) => _at.TryGetValue(e, out var v) ? v : new AVal();

    private AVal Field(int tag, int i)
    {
        if (!_heap.TryGetValue((tag, i), out var v)) _heap[(tag, i)] = v = _openAnswers ? AVal.Of(AVal.Any) : new AVal();
        return v;
    }

    private void Store(int tag, int i, AVal v)
    {
        if (Field(tag, i).Join(v)) _changed = true;
    }

    public AVal ReturnValue(Fn f) => Ret(f);

    public Rep RepOf(Binder b) => _rep.TryGetValue(b, out var r) && r != Rep.None ? r : Rep.Uniform;

    public Rep ReturnRep(Fn f) => _retRep.TryGetValue(f, out var r) && r != Rep.None ? r : Rep.Uniform;

    private AVal Ret(Fn f) => _ret.TryGetValue(f, out var v) ? v : _ret[f] = new AVal();

    private AVal Var(Binder b) => _vars.TryGetValue(b, out var v) ? v : _vars[b] = new AVal();

    private void Flow(Binder b, AVal v)
    {
        if (Var(b).Join(v)) _changed = true;
    }

    private AVal Note(Ir e, AVal v)
    {
        if (!_at.TryGetValue(e, out var old)) _at[e] = old = new AVal();
        if (old.Join(v)) _changed = true;
        return v;
    }

    private HashSet<Fn> FindReachable()
    {
        var seen = new HashSet<Fn>();
        var work = new Stack<Fn>();
        // Every user definition is compiled (as before: `--emit hvm` shows them all), with what it reaches.
        foreach (var f in _p.Fns) if (!f.Prelude && !f.IsLambda) work.Push(f);
        work.Push(_p.Main);
        while (work.Count > 0)
        {
            var f = work.Pop();
            if (!seen.Add(f)) continue;
            Walk(f.Body, ir =>
            {
                if (ir is ICall c) work.Push(c.Fn);
                else if (ir is IPap p) work.Push(p.Fn);
            });
        }
        return seen;
    }

    /// <summary>Visits every node of a code's body (not into other codes).</summary>
    public static void Walk(Ir root, Action<Ir> f)
    {
        var stack = new Stack<Ir>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            var e = stack.Pop();
            f(e);
            switch (e)
            {
                case IData d: foreach (var x in d.Fields) stack.Push(x); break;
                case IPap p: foreach (var x in p.Args) stack.Push(x); break;
                case ICall c: foreach (var x in c.Args) stack.Push(x); break;
                case IApp a: stack.Push(a.F); foreach (var x in a.Args) stack.Push(x); break;
                case IPrim p: stack.Push(p.A); stack.Push(p.B); break;
                case IIf i: stack.Push(i.C); stack.Push(i.T); stack.Push(i.E); break;
                case IEq q: stack.Push(q.A); stack.Push(q.B); break;
                case ILet l: stack.Push(l.V); stack.Push(l.Body); break;
                case IMatch m: stack.Push(m.Scrut); foreach (var a in m.Arms) stack.Push(a.Body); break;
                case ISite s:
                    foreach (var x in s.Cands) stack.Push(x);
                    if (s.Tail != null) stack.Push(s.Tail);
                    foreach (var (_, v) in s.Anchors) stack.Push(v);
                    break;
            }
        }
    }

    private static int FlagsOfTag(int tag)
    {
        int shape = tag & SymbolTable.ShapeMask;
        if (tag == SymbolTable.Nil || tag == SymbolTable.Cons) return AVal.List;
        return shape switch
        {
            SymbolTable.ShapeAnchored => AVal.Anch,
            0 => AVal.Word | AVal.Str | AVal.Comp,
            _ => AVal.Comp,
        };
    }

    /// <summary>
    /// The abstract value of e. A let's body, an if's else, a data node's last field and a question's last
    /// candidate are followed in a loop (a long list or a chain of lets does not deepen the stack); the
    /// nodes passed on the way are finished innermost first, in the order the recursion finished them.
    /// </summary>
    private AVal Eval(Ir e)
    {
        NestingTooDeep.Check(e.Off, "while analysing values");
        List<(Ir Node, AVal? Acc)>? chain = null;
        while (true)
        {
            AVal? acc = null;
            switch (e)
            {
                case ILet l:
                    Flow(l.X, Eval(l.V));
                    (chain ??= []).Add((l, null));
                    e = l.Body;
                    continue;
                case IIf i:
                    Eval(i.C);
                    acc = new AVal();
                    acc.Join(Eval(i.T));
                    (chain ??= []).Add((i, acc));
                    e = i.E;
                    continue;
                case IData { Fields.Length: > 0 } d:
                    for (int k = 0; k < d.Fields.Length - 1; k++) Store(d.Tag, k, Eval(d.Fields[k]));
                    (chain ??= []).Add((d, null));
                    e = d.Fields[^1];
                    continue;
                case ISite { Tail: null, Cands.Length: > 0 } s:
                    acc = new AVal();
                    for (int k = 0; k < s.Cands.Length - 1; k++) Candidate(acc, Eval(s.Cands[k]));
                    (chain ??= []).Add((s, acc));
                    e = s.Cands[^1];
                    continue;
            }
            break;
        }
        var v = EvalNode(e);
        if (chain == null) return v;
        for (int k = chain.Count - 1; k >= 0; k--)
        {
            var (node, acc) = chain[k];
            switch (node)
            {
                case ILet:
                    v = Note(node, v);
                    break;
                case IIf:
                    acc!.Join(v);
                    v = Note(node, acc);
                    break;
                case IData d:
                    Store(d.Tag, d.Fields.Length - 1, v);
                    v = Note(node, AVal.Of(DataFlags(d)));
                    break;
                case ISite s:
                    Candidate(acc!, v);
                    v = Note(node, SiteValue(s, acc!));
                    break;
            }
        }
        return v;
    }

    private int DataFlags(IData d)
    {
        int flags = FlagsOfTag(d.Tag);
        if ((d.Tag & SymbolTable.ShapeMask) == 0 && d.Tag != SymbolTable.Nil)
            flags = _p.Symbols.TryGet(d.Tag, out var sym) ? sym.Kind switch { SymKind.String => AVal.Str, SymKind.Compound => AVal.Comp, _ => AVal.Word } : AVal.Word;
        return flags;
    }

    /// <summary>A question's candidate: an element of the list its answer is taken from.</summary>
    private void Candidate(AVal r, AVal cv)
    {
        Store(SymbolTable.Cons, 0, cv);
        r.Flags |= cv.Flags;
        if (cv.HasClosures) r.Flags |= AVal.Any;
    }

    /// <summary>A question's value once its candidates are in r: its tail's, its anchors evaluated.</summary>
    private AVal SiteValue(ISite s, AVal r)
    {
        if (s.Tail != null)
        {
            var tv = Eval(s.Tail);
            r.Join(Field(SymbolTable.Cons, 0));
            r.Flags |= tv.Flags & AVal.Any;
        }
        foreach (var (_, v) in s.Anchors) Eval(v);
        if (s.Info.Open) r.Flags |= AVal.Any;
        return r;
    }

    private AVal EvalNode(Ir e)
    {
        switch (e)
        {
            case IVar v: return Note(e, Var(v.B));
            case INum: return Note(e, AVal.Of(AVal.Num));
            case IData d: return Note(e, AVal.Of(DataFlags(d)));
            case IPap p:
            {
                for (int i = 0; i < p.Fn.Captures.Count; i++) Flow(p.Fn.Captures[i], Var(p.Fn.CapturedFrom[i]));
                for (int i = 0; i < p.Args.Length; i++) Flow(p.Fn.Params[i], Eval(p.Args[i]));
                return Note(e, AVal.Closure(p.Fn, p.Args.Length));
            }
            case ICall c:
            {
                for (int i = 0; i < c.Args.Length; i++) Flow(c.Fn.Params[i], Eval(c.Args[i]));
                return Note(e, Ret(c.Fn));
            }
            case IApp a:
            {
                var fv = Eval(a.F);
                var args = a.Args.Select(Eval).ToArray();
                var r = Apply(fv, args);
                if (a.Mode != ApplyKind.Call && fv.Flags != 0)
                {
                    // Not a function: a phrase or a flow of the two values.
                    int tag = _p.Symbols.Compound(a.Mode == ApplyKind.Juxt ? SymbolTable.PhraseHead : SymbolTable.FlowHead, 2);
                    Store(tag, a.Mode == ApplyKind.Juxt ? 0 : 1, fv);
                    Store(tag, a.Mode == ApplyKind.Juxt ? 1 : 0, args[0]);
                    r.Flags |= AVal.Comp;
                }
                return Note(e, r);
            }
            case IPrim p:
                Eval(p.A);
                Eval(p.B);
                return Note(e, AVal.Of(AVal.Num));
            case IIf i:
            {
                Eval(i.C);
                var r = new AVal();
                r.Join(Eval(i.T));
                r.Join(Eval(i.E));
                return Note(e, r);
            }
            case IEq q:
                Eval(q.A);
                Eval(q.B);
                return Note(e, AVal.Of(AVal.Num));
            case ILet l:
                Flow(l.X, Eval(l.V));
                return Note(e, Eval(l.Body));
            case IMatch m:
            {
                var s = Eval(m.Scrut);
                var r = new AVal();
                foreach (var arm in m.Arms)
                {
                    BindPattern(arm.Pat, s, top: true);
                    r.Join(Eval(arm.Body));
                }
                return Note(e, r);
            }
            case ISite s:
            {
                var r = new AVal();
                foreach (var c in s.Cands) Candidate(r, Eval(c));
                return Note(e, SiteValue(s, r));
            }
            case IFail: return Note(e, new AVal());
            default: throw new System.Diagnostics.UnreachableException($"ir {e.GetType().Name}");
        }
    }

    private void BindPattern(RPat p, AVal v, bool top)
    {
        switch (p)
        {
            case RVar rv: Flow(rv.B, v); break;
            case RSucc s: BindNum(s.Pred); break;
            case RCtor c:
                for (int i = 0; i < c.Fields.Length; i++)
                {
                    // What comes out of a structure is pooled with every other value stored in that field
                    // anywhere: good enough to dispatch on its closures, too coarse to prove a static error.
                    var fv = new AVal();
                    fv.Join(Field(c.Tag, i));
                    fv.Flags |= AVal.Any;
                    BindPattern(c.Fields[i], fv, false);
                }
                break;
        }
    }

    private void BindNum(RPat p)
    {
        if (p is RVar rv) Flow(rv.B, AVal.Of(AVal.Num));
        else if (p is RSucc s) BindNum(s.Pred);
    }

    /// <summary>What applying a value of fv to these arguments gives (and the arguments reach the parameters).</summary>
    private AVal Apply(AVal fv, AVal[] args)
    {
        var r = new AVal();
        if ((fv.Flags & AVal.Any) != 0) r.Flags |= AVal.Any;
        if (fv.Clos == null) return r;
        foreach (var (fn, k) in fv.Clos.ToList())
        {
            int n = fn.Arity, m = args.Length;
            int take = Math.Min(m, n - k);
            for (int i = 0; i < take; i++) Flow(fn.Params[k + i], args[i]);
            if (k + m < n) r.Join(AVal.Closure(fn, k + m));
            else if (k + m == n) r.Join(Ret(fn));
            else r.Join(Apply(Ret(fn), args[take..]));
        }
        return r;
    }

    // Representations
    // ---------------

    private static Rep Join(Rep a, Rep b) => a == Rep.None ? b : b == Rep.None ? a : a == b ? a : Rep.Uniform;

    private void SetRep(Binder b, Rep r)
    {
        var old = _rep.TryGetValue(b, out var o) ? o : Rep.None;
        var n = old == Rep.None ? r : old == Rep.Num && r == Rep.Num ? Rep.Num : r == Rep.None ? old : Rep.Uniform;
        if (n != old)
        {
            _rep[b] = n;
            _repChanged = true;
        }
    }

    /// <summary>Demotes a parameter fed a uniform value.</summary>
    private void Feed(Binder param, Rep arg)
    {
        if (arg == Rep.Uniform && RepOfRaw(param) != Rep.Uniform)
        {
            _rep[param] = Rep.Uniform;
            _repChanged = true;
        }
    }

    private Rep RepOfRaw(Binder b) => _rep.TryGetValue(b, out var r) ? r : Rep.None;

    /// <summary>The representation an expression's value has when compiled (None: it never returns, an error).</summary>
    public Rep RepOf(Ir e)
    {
        // A let's body, a data node's last field and a question's last candidate are followed in a loop
        // (as in Eval); an if's else too, its then branch's representation joined on the way out.
        NestingTooDeep.Check(e.Off, "while choosing representations");
        List<(Ir Node, Rep Then)>? chain = null;
        while (true)
        {
            switch (e)
            {
                case ILet l:
                    SetRep(l.X, RepOf(l.V));
                    e = l.Body;
                    continue;
                case IIf i:
                    RepOf(i.C);
                    (chain ??= []).Add((i, RepOf(i.T)));
                    e = i.E;
                    continue;
                case IData { Fields.Length: > 0 } d:
                    for (int k = 0; k < d.Fields.Length - 1; k++) RepOf(d.Fields[k]);
                    (chain ??= []).Add((d, Rep.Uniform));
                    e = d.Fields[^1];
                    continue;
                case ISite { Tail: null, Cands.Length: > 0 } s:
                    for (int k = 0; k < s.Cands.Length - 1; k++) RepOf(s.Cands[k]);
                    (chain ??= []).Add((s, Rep.Uniform));
                    e = s.Cands[^1];
                    continue;
            }
            break;
        }
        var r = RepNode(e);
        if (chain == null) return r;
        for (int k = chain.Count - 1; k >= 0; k--)
        {
            var (node, then) = chain[k];
            switch (node)
            {
                case IIf: r = Join(then, r); break;
                case ISite s:
                    foreach (var (_, v) in s.Anchors) RepOf(v);
                    r = Rep.Uniform;
                    break;
                default: r = Rep.Uniform; break;
            }
        }
        return r;
    }

    private Rep RepNode(Ir e)
    {
        switch (e)
        {
            case IVar v: return RepOf(v.B);
            case INum or IPrim or IEq: Visit(e); return Rep.Num;
            case IData or IPap or IApp or ISite: Visit(e); return Rep.Uniform;
            case ICall c:
                for (int i = 0; i < c.Args.Length; i++) Feed(c.Fn.Params[i], RepOf(c.Args[i]));
                return _retRep.TryGetValue(c.Fn, out var rr) ? rr : Rep.Uniform;
            case IIf i:
                RepOf(i.C);
                return Join(RepOf(i.T), RepOf(i.E));
            case ILet l:
                SetRep(l.X, RepOf(l.V));
                return RepOf(l.Body);
            case IMatch m:
            {
                var s = RepOf(m.Scrut);
                var r = Rep.None;
                foreach (var arm in m.Arms)
                {
                    BindRep(arm.Pat, s, top: true);
                    r = Join(r, RepOf(arm.Body));
                }
                return r;
            }
            case IFail: return Rep.None;
            default: throw new System.Diagnostics.UnreachableException($"ir {e.GetType().Name}");
        }
    }

    /// <summary>Runs the representation pass through the children of a node whose own representation is fixed.</summary>
    private void Visit(Ir e)
    {
        switch (e)
        {
            case IData d: foreach (var f in d.Fields) RepOf(f); break;
            case IPap p: foreach (var a in p.Args) RepOf(a); break;
            case IApp a: RepOf(a.F); foreach (var x in a.Args) RepOf(x); break;
            case ISite s:
                foreach (var c in s.Cands) RepOf(c);
                if (s.Tail != null) RepOf(s.Tail);
                foreach (var (_, v) in s.Anchors) RepOf(v);
                break;
            case IPrim p: RepOf(p.A); RepOf(p.B); break;
            case IEq q: RepOf(q.A); RepOf(q.B); break;
        }
    }

    private void BindRep(RPat p, Rep scrut, bool top)
    {
        switch (p)
        {
            case RVar rv: SetRep(rv.B, top ? scrut : Rep.Uniform); break;
            case RSucc s: BindNumRep(s.Pred); break;
            case RCtor c: foreach (var f in c.Fields) BindRep(f, Rep.Uniform, false); break;
        }
    }

    private void BindNumRep(RPat p)
    {
        if (p is RVar rv) SetRep(rv.B, Rep.Num);
        else if (p is RSucc s) BindNumRep(s.Pred);
    }

    // Static checks
    // -------------

    /// <summary>Reports what the analysis proves wrong: arithmetic on data, applying data, too many arguments.</summary>
    public void Check(List<Diagnostic> diags)
    {
        foreach (var fn in _p.Fns)
        {
            var src = fn.Src;
            bool prelude = fn.Prelude;
            Walk(fn.Body, e =>
            {
                if (prelude) return;
                switch (e)
                {
                    case IPrim p:
                        bool unary = p.Text == "!" || (p.Text == "-" && p.A is INum && p.A.Off == p.Off);
                        Operand(p.A, p, unary ? "" : "left", src, diags);
                        Operand(p.B, p, unary ? "" : "right", src, diags);
                        break;
                    case IIf i when i.C is not IPrim:
                    {
                        var v = ValueOf(i.C);
                        if (!v.IsEmpty && (v.Flags & (AVal.Num | AVal.Any)) == 0)
                            diags.Add(new Diagnostic(Severity.Error, src, i.Off, $"the condition of this if is {v.Describe()}, expected a number (0 is false)"));
                        break;
                    }
                    case IMatch m when !m.IsLet && !m.Quiet:
                    {
                        // An arm whose pattern kind the scrutinee never has can never be reached.
                        var v = ValueOf(m.Scrut);
                        if (v.IsEmpty || (v.Flags & AVal.Any) != 0) break;
                        foreach (var arm in m.Arms)
                        {
                            bool never = arm.Pat switch
                            {
                                RNum or RSucc => (v.Flags & AVal.Num) == 0,
                                RCtor c => (v.Flags & FlagsOfTag(c.Tag) & ~AVal.Num) == 0,
                                _ => false,
                            };
                            if (never)
                                diags.Add(new Diagnostic(Severity.Warning, src, arm.Off, $"unreachable match arm: the value matched is {v.Describe()}, which this pattern never fits"));
                        }
                        break;
                    }
                    case IApp a when a.Mode == ApplyKind.Call:
                    {
                        var v = ValueOf(a.F);
                        if (v.IsEmpty || v.HasClosures || (v.Flags & AVal.Any) != 0) break;
                        string msg = a.F is ICall c && !c.Fn.IsConst
                            ? $"{c.Fn.LmnName} takes {c.Fn.Arity} argument{(c.Fn.Arity == 1 ? "" : "s")}, but this call passes {c.Fn.Arity + a.Args.Length}; its result is {v.Describe()}, not a function"
                            : a.F is IApp inner && ValueOf(inner.F).HasClosures
                                ? $"this call passes more arguments than the function takes; the result is {v.Describe()}, not a function"
                                : $"applying {v.Describe()}, which is not a function";
                        diags.Add(new Diagnostic(Severity.Error, src, a.Off, msg));
                        break;
                    }
                }
            });
        }
    }

    private void Operand(Ir x, IPrim p, string side, SourceText src, List<Diagnostic> diags)
    {
        var v = ValueOf(x);
        if (v.IsEmpty || (v.Flags & (AVal.Num | AVal.Any)) != 0) return;
        string which = side.Length > 0 ? $"its {side} operand" : "its operand";
        diags.Add(new Diagnostic(Severity.Error, src, p.Off, $"'{p.Text}' expects numbers, but {which} is {v.Describe()}"));
    }
}
