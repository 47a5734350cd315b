using Lmn.Language;
using Lmn.Net;
using Lmn.Oracles;
using Lmn.Runtime;
using Lmn.Text;
using Lmn.Words;

namespace Lmn.Tests.Reference;

/// <summary>
/// The reference interpreter: a plain tree-walking evaluator of the parsed LMN syntax tree that defines
/// what a program means (SEMANTICS-10.md). Call-by-value, left to right; questions are suspended values
/// asked when inspected or printed; failures are error values; the prelude is interpreted from its own
/// LMN source. Deliberately simple: no sharing tricks, no optimisation.
/// </summary>
public sealed class RefInterpreter
{
    private readonly SourceText _src;
    private readonly SourceText _psrc;
    private readonly Dictionary<string, Definition> _user = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Definition> _prelude = new(StringComparer.Ordinal);
    private readonly IOracle _oracle;
    private readonly IReadOnlyDictionary<string, Term> _context;
    private readonly Dictionary<string, RefValue> _answers = new(StringComparer.Ordinal);
    private readonly List<RefQuestion> _asked = [];
    private readonly HashSet<RefQuestion> _askedSet = [];
    private long _fuel;
    private int _ids;

    private static readonly Lazy<(SourceText Src, ProgramAst Ast)> s_prelude = new(() =>
    {
        var src = new SourceText(LmnDriver.PreludePath, LmnDriver.PreludeText);
        var diags = new List<Diagnostic>();
        var ast = Parser.Parse(src, diags);
        if (diags.Count > 0) throw new InvalidOperationException("the prelude does not parse");
        return (src, ast);
    });

    private RefInterpreter(SourceText src, ProgramAst ast, IOracle oracle, IReadOnlyDictionary<string, Term> context, long fuel)
    {
        _src = src;
        _oracle = oracle;
        _context = context;
        _fuel = fuel;
        var (psrc, past) = s_prelude.Value;
        _psrc = psrc;
        foreach (var d in past.Defs) _prelude[d.Name] = d;
        foreach (var d in ast.Defs) _user[d.Name] = d;
    }

    /// <summary>Parses and runs a program (it must parse without errors). Context: anchor name (no `@`) to LMN data text.</summary>
    public static RefResult Run(string path, string text, IOracle oracle, IReadOnlyDictionary<string, string>? context = null, long fuel = 20_000_000)
    {
        var src = new SourceText(path, text);
        var diags = new List<Diagnostic>();
        var ast = Parser.Parse(src, diags);
        if (diags.Any(d => d.Severity == Severity.Error))
            throw new ArgumentException("the program does not parse:\n" + string.Join("\n", diags.Select(d => d.Render())));
        var ctx = new Dictionary<string, Term>(StringComparer.Ordinal);
        foreach (var (k, v) in context ?? new Dictionary<string, string>())
        {
            if (!DataTerms.TryParse(v, out var t, out string err)) throw new ArgumentException($"--context {k}: {err}");
            ctx[k] = t;
        }
        var interp = new RefInterpreter(src, ast, oracle, ctx, fuel);
        RefResult? result = null;
        Exception? failure = null;
        // Deep recursion (a fold over a long list) needs a deep stack.
        var thread = new Thread(() =>
        {
            try { result = interp.RunMain(ast); }
            catch (Exception e) { failure = e; }
        }, 512 << 20);
        thread.Start();
        thread.Join();
        if (failure != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        return result!;
    }

    private RefResult RunMain(ProgramAst ast)
    {
        Expr main = ast.Main ?? (_user.TryGetValue("main", out var m) ? m.Body : throw new ArgumentException("the program has no expression and no main"));
        try
        {
            var v = Eval(main, null, User);
            var term = ToTerm(v, dataOnly: false, out var err);
            if (err != null) return new RefResult(null, null, err.ToString(), err.Loc.ToString(), _asked);
            return new RefResult(Printer.Print(term!), term, null, null, _asked);
        }
        catch (RefOracleFailure e)
        {
            return new RefResult(null, null, e.Message, e.Message.Split(": error:")[0], _asked);
        }
    }

    private static readonly RefCode User = new(false, null);

    private RefLoc Loc(RefCode code, int offset) => code.Prelude ? code.Entry! : new RefLoc(_src, offset);

    private static VError Err(string message, RefLoc loc) => new(message, loc);

    // Evaluation
    // ----------

    private RefValue Eval(Expr e, RefEnv? env, RefCode code)
    {
        if (--_fuel < 0) throw new RefFuelExhausted();
        switch (e)
        {
            case NumLit n: return new VNum(n.Numb);
            case StrLit s: return new VStr(s.Value);
            case Name n: return Lookup(n, env, code);
            case AnchorRef a:
            {
                var v = RefEnv.Find(env, "@" + a.Anchor);
                if (v != null) return v;
                if (_context.TryGetValue(a.Anchor, out var t)) return FromTerm(t);
                return Err($"unknown anchor @{a.Anchor}", Loc(code, a.Offset));
            }
            case Anchored a: return new VAnchored(Eval(a.Body, env, code), a.Anchor);
            case CompoundLit c: return new VCompound(c.Head, c.Fields.Select(f => Eval(f, env, code)).ToArray());
            case ListLit l:
            {
                var items = l.Items.Select(i => Eval(i, env, code)).ToList();
                RefValue acc = l.Tail != null ? Eval(l.Tail, env, code) : VNil.I;
                for (int i = items.Count - 1; i >= 0; i--) acc = new VCons(items[i], acc);
                return acc;
            }
            case Lambda lam: return new VClosure(lam, env, code, []);
            case Apply ap:
            {
                // error("text"): the builtin error value, located at the call.
                if (ap.Fn is Name { Id: "error" } en && ap.Arg is StrLit msg && Resolve(en.Id, env, code) == null)
                    return Err(msg.Value, Loc(code, en.Offset));
                var f = Eval(ap.Fn, env, code);
                var a = Eval(ap.Arg, env, code);
                return ApplyValue(f, a, Loc(code, ap.Offset), ap.Kind);
            }
            case Collapse c:
            {
                // The superposition and the context are computed, the superposition inspected: a non-empty
                // list is a question (the context its @context), [] an error, anything else is itself.
                var sup = Eval(c.Sup, env, code);
                var ctx = Eval(c.Ctx, env, code);
                var sv = Force(sup);
                if (sv is VError) return sv;
                if (sv is VNil) return Err("nothing to collapse: the superposition is the empty list []", Loc(code, c.Offset));
                if (sv is not VCons) return sv;
                var site = new SiteExpr(c.Offset, c.End, false, Resolver.CollapseHead, [], null, null);
                return new VQuestion(site, [], sv, new RefEnv("@context", ctx, env), Loc(code, c.Offset));
            }
            case Wave w:
            {
                RefValue? anchor = null;
                if (w.Label != null) anchor = Eval(w.Label, env, code);
                else if (RefEnv.Find(env, "@" + w.Tense) == null && !_context.ContainsKey(w.Tense)) anchor = new VWord(w.Tense);
                var inner = anchor != null ? new RefEnv("@" + w.Tense, anchor, env) : env;
                return new VAnchored(Eval(w.Body, inner, code), w.Tense);
            }
            case LetFn lf:
            {
                var cell = new RefEnv(lf.Name, VNil.I, env);
                var fn = new VClosure(new Lambda(lf.Offset, lf.Params, lf.Body), cell, code, [], lf.Name);
                cell.Value = fn;
                return Eval(lf.Rest, new RefEnv(lf.Name, fn, env), code);
            }
            case Lines ls:
            {
                RefValue list = VNil.I;
                var items = ls.Items.Select(i => Eval(i, env, code)).ToList();
                for (int i = items.Count - 1; i >= 0; i--) list = new VCons(items[i], list);
                return new VCompound(SymbolTable.LinesHead, [list]);
            }
            case LetIn li:
            {
                // A let whose name the body never uses is not evaluated (docs/language.md, Semantics).
                if (li.Pattern is PName unused && !FreeIn(li.Body, unused.Id)) return Eval(li.Body, env, code);
                var v = Eval(li.Value, env, code);
                switch (li.Pattern)
                {
                    case PName pn: return Eval(li.Body, new RefEnv(pn.Id, v, env), code);
                    case PWild: return Eval(li.Body, env, code);
                }
                var binds = new List<(string, RefValue)>();
                var r = Match(li.Pattern, v, null, binds, out var err);
                if (err != null) return err;
                if (!r) return Err("the value does not fit the let pattern", Loc(code, li.Pattern.Offset));
                return Eval(li.Body, Bind(env, binds), code);
            }
            case LetAnchor la: return Eval(la.Body, new RefEnv("@" + la.Anchor, Eval(la.Value, env, code), env), code);
            case IfThen it:
            {
                var c = Force(Eval(it.Cond, env, code));
                if (c is VError) return c;
                if (c is not VNum cn) return Err("expected a number as the condition of 'if'", Loc(code, it.Offset));
                return Eval(IsZero(cn.Numb) ? it.Else : it.Then, env, code);
            }
            case MatchExpr m:
            {
                var v = Force(Eval(m.Scrutinee, env, code));
                if (v is VError) return v;
                var words = PatternWords(m.Scrutinee, env, code);
                foreach (var arm in m.Arms)
                {
                    var binds = new List<(string, RefValue)>();
                    bool ok = Match(arm.Pattern, v, words, binds, out var err);
                    if (err != null) return err;
                    if (ok) return Eval(arm.Body, Bind(env, binds), code);
                }
                return Err("no arm of this match fits the value", Loc(code, m.Offset));
            }
            case Binary bi: return EvalBinary(bi, env, code);
            case Unary u:
            {
                var x = Eval(u.Operand, env, code);
                var loc = Loc(code, u.Offset);
                return u.Op == Tok.Bang ? Equal(x, new VNum(Numb.NewU24(0)), loc, negate: false) : Arith(Tok.Minus, new VNum(Numb.NewU24(0)), x, loc);
            }
            case SiteExpr s:
            {
                var cands = s.Args.Select(a => Eval(a, env, code)).ToArray();
                var tail = s.Tail != null ? Eval(s.Tail, env, code) : null;
                return new VQuestion(s, cands, tail, env, Loc(code, s.Offset));
            }
            case Typed t: return Eval(t.Body, env, code);
            default: throw new RefInternalException($"cannot evaluate {e.GetType().Name}");
        }
    }

    private static RefEnv? Bind(RefEnv? env, List<(string Name, RefValue Value)> binds)
    {
        foreach (var (n, v) in binds) env = new RefEnv(n, v, env);
        return env;
    }

    /// <summary>A definition visible from this code: user definitions hide the prelude's, except in prelude code.</summary>
    private (Definition Def, bool Prelude)? ResolveDef(string id, RefCode code)
    {
        if (!code.Prelude && _user.TryGetValue(id, out var u)) return (u, false);
        if (_prelude.TryGetValue(id, out var p)) return (p, true);
        return null;
    }

    /// <summary>What an identifier is bound to (a variable's value or a definition), null for a word.</summary>
    private object? Resolve(string id, RefEnv? env, RefCode code) => (object?)RefEnv.Find(env, id) ?? ResolveDef(id, code);

    private RefValue Lookup(Name n, RefEnv? env, RefCode code)
    {
        var v = RefEnv.Find(env, n.Id);
        if (v != null) return v;
        if (ResolveDef(n.Id, code) is { } d)
        {
            var dc = d.Prelude ? new RefCode(true, code.Prelude ? code.Entry : new RefLoc(_src, n.Offset)) : User;
            // A definition without parameters is its body's value.
            if (d.Def.Params.Count == 0) return Eval(d.Def.Body, null, dc);
            return new VDefRef(d.Def, dc, []);
        }
        // Until the prelude says error("..."), its `no_match` result of head([]) / tail([]) is the error.
        if (code.Prelude && n.Id == "no_match") return Err("head or tail of an empty list", code.Entry!);
        return new VWord(n.Id);
    }

    private RefValue ApplyValue(RefValue f, RefValue a, RefLoc loc, ApplyKind kind = ApplyKind.Call)
    {
        f = Force(f);
        switch (f)
        {
            case VError: return f;
            case VFun fn:
            {
                var args = new RefValue[fn.Args.Length + 1];
                fn.Args.CopyTo(args, 0);
                args[^1] = a;
                if (args.Length < fn.Arity)
                    return fn switch
                    {
                        VClosure c => new VClosure(c.Lam, c.Env, c.Code, args),
                        VDefRef d => new VDefRef(d.Def, d.Code, args),
                        _ => throw new RefInternalException("function kind"),
                    };
                switch (fn)
                {
                    case VClosure c:
                    {
                        var env = c.Env;
                        for (int i = 0; i < args.Length; i++) env = new RefEnv(c.Lam.Params[i].Id, args[i], env);
                        return Eval(c.Lam.Body, env, c.Code);
                    }
                    case VDefRef d:
                    {
                        RefEnv? env = null;
                        for (int i = 0; i < args.Length; i++) env = new RefEnv(d.Def.Params[i].Id, args[i], env);
                        return Eval(d.Def.Body, env, d.Code);
                    }
                }
                throw new RefInternalException("function kind");
            }
            default:
                // Not a function: `f x` is a phrase, `x → f` a flow of steps; `f(x)` an error.
                return kind switch
                {
                    ApplyKind.Juxt => new VCompound(SymbolTable.PhraseHead, [f, a]),
                    ApplyKind.Flow => new VCompound(SymbolTable.FlowHead, [a, f]),
                    _ => Err($"applying {Describe(f)}, which is not a function", loc),
                };
        }
    }

    private static string Describe(RefValue v) => v switch
    {
        VNum => "a number",
        VWord w => $"the word {w.Name}",
        VStr => "a string",
        VCompound c => $"the compound {c.Head}[...]",
        VNil or VCons => "a list",
        VAnchored => "an anchored value",
        _ => "a value",
    };

    // Operators
    // ---------

    private RefValue EvalBinary(Binary bi, RefEnv? env, RefCode code)
    {
        var loc = Loc(code, bi.Offset);
        switch (bi.Op)
        {
            case Tok.AndAnd or Tok.OrOr:
            {
                var l = Force(Eval(bi.Left, env, code));
                if (l is VError) return l;
                if (l is not VNum ln) return Err($"expected a number on the left of '{Op(bi.Op)}'", loc);
                bool lt = !IsZero(ln.Numb);
                if (bi.Op == Tok.AndAnd && !lt) return Bool(false);
                if (bi.Op == Tok.OrOr && lt) return Bool(true);
                var r = Force(Eval(bi.Right, env, code));
                if (r is VError) return r;
                if (r is not VNum rn) return Err($"expected a number on the right of '{Op(bi.Op)}'", loc);
                return Bool(!IsZero(rn.Numb));
            }
            case Tok.EqEq or Tok.NotEq:
            {
                var l = Eval(bi.Left, env, code);
                var r = Eval(bi.Right, env, code);
                return Equal(l, r, loc, negate: bi.Op == Tok.NotEq);
            }
            default:
            {
                var l = Eval(bi.Left, env, code);
                var r = Eval(bi.Right, env, code);
                return Arith(bi.Op, l, r, loc);
            }
        }
    }

    private static string Op(Tok t) => t switch
    {
        Tok.Plus => "+", Tok.Minus => "-", Tok.Star => "*", Tok.Slash => "/", Tok.Percent => "%",
        Tok.Lt => "<", Tok.Gt => ">", Tok.Le => "<=", Tok.Ge => ">=", Tok.Amp => "&", Tok.Pipe => "|",
        Tok.Caret => "^", Tok.Shl => "<<", Tok.Shr => ">>", Tok.AndAnd => "&&", Tok.OrOr => "||",
        Tok.EqEq => "==", Tok.NotEq => "!=", _ => t.ToString(),
    };

    private static VNum Bool(bool b) => new(Numb.NewU24(b ? 1u : 0u));

    public static bool IsZero(uint n) => Numb.TypeOf(n) switch
    {
        Numb.TY_U24 => Numb.GetU24(n) == 0,
        Numb.TY_I24 => Numb.GetI24(n) == 0,
        Numb.TY_F24 => Numb.GetF24(n) == 0f,
        _ => false,
    };

    private static uint Operate(uint op, uint a, uint b) => Numb.Operate(Numb.Partial(Numb.NewSym(op), a), b);

    private RefValue Arith(Tok op, RefValue l, RefValue r, RefLoc loc)
    {
        l = Force(l);
        if (l is VError) return l;
        if (l is not VNum ln) return Err($"expected a number on the left of '{Op(op)}', got {Describe(l)}", loc);
        r = Force(r);
        if (r is VError) return r;
        if (r is not VNum rn) return Err($"expected a number on the right of '{Op(op)}', got {Describe(r)}", loc);
        uint a = ln.Numb, b = rn.Numb;
        if (op is Tok.Slash or Tok.Percent && IsZero(b)) return Err("division by zero", loc);
        uint v = op switch
        {
            Tok.Plus => Operate(Numb.OP_ADD, a, b),
            Tok.Minus => Operate(Numb.OP_SUB, a, b),
            Tok.Star => Operate(Numb.OP_MUL, a, b),
            Tok.Slash => Operate(Numb.OP_DIV, a, b),
            Tok.Percent => Operate(Numb.OP_REM, a, b),
            Tok.Lt => Operate(Numb.OP_LT, a, b),
            Tok.Gt => Operate(Numb.OP_GT, a, b),
            Tok.Le => Operate(Numb.OP_XOR, Operate(Numb.OP_GT, a, b), Numb.NewU24(1)),
            Tok.Ge => Operate(Numb.OP_XOR, Operate(Numb.OP_LT, a, b), Numb.NewU24(1)),
            Tok.Amp => Operate(Numb.OP_AND, a, b),
            Tok.Pipe => Operate(Numb.OP_OR, a, b),
            Tok.Caret => Operate(Numb.OP_XOR, a, b),
            Tok.Shl => Operate(Numb.OP_SHL, a, b),
            Tok.Shr => Operate(Numb.OP_SHR, a, b),
            _ => throw new RefInternalException($"operator {op}"),
        };
        return new VNum(v);
    }

    /// <summary>Structural equality: 1 or 0, or an error (comparing functions, or an error met on the way).</summary>
    private RefValue Equal(RefValue l, RefValue r, RefLoc loc, bool negate)
    {
        var e = Same(l, r, loc, out var err);
        if (err != null) return err;
        return Bool(e != negate);
    }

    private bool Same(RefValue a, RefValue b, RefLoc loc, out VError? err)
    {
        err = null;
        a = Force(a);
        if (a is VError ea) { err = ea; return false; }
        b = Force(b);
        if (b is VError eb) { err = eb; return false; }
        if (a is VFun && b is VFun) { err = Err("cannot compare functions", loc); return false; }
        switch (a, b)
        {
            case (VNum x, VNum y): return Numb.GetU24(Operate(Numb.OP_EQ, x.Numb, y.Numb)) != 0;
            case (VWord x, VWord y): return x.Name == y.Name;
            case (VStr x, VStr y): return x.Value == y.Value;
            case (VCompound x, VCompound y):
                if (x.Head != y.Head || x.Fields.Length != y.Fields.Length) return false;
                for (int i = 0; i < x.Fields.Length; i++)
                    if (!Same(x.Fields[i], y.Fields[i], loc, out err)) return false;
                return true;
            case (VNil, VNil): return true;
            case (VNil, VCons) or (VCons, VNil): return false;
            case (VCons x, VCons y):
                return Same(x.Head, y.Head, loc, out err) && Same(x.Tail, y.Tail, loc, out err);
            case (VAnchored x, VAnchored y):
                return x.Anchor == y.Anchor && Same(x.Value, y.Value, loc, out err);
            default: return false;
        }
    }

    /// <summary>Whether the variable name occurs free in e (not hidden by a lambda, let or pattern of the same name).</summary>
    private static bool FreeIn(Expr e, string x)
    {
        static bool InPat(Pattern p, string x) => p switch
        {
            PName n => n.Id == x,
            PSucc sp => InPat(sp.Pred, x),
            PCompound c => c.Fields.Any(f => InPat(f, x)),
            PList l => l.Items.Any(f => InPat(f, x)) || (l.Tail != null && InPat(l.Tail, x)),
            _ => false,
        };
        return e switch
        {
            Name n => n.Id == x,
            Anchored a => FreeIn(a.Body, x),
            CompoundLit c => c.Fields.Any(f => FreeIn(f, x)),
            ListLit l => l.Items.Any(f => FreeIn(f, x)) || (l.Tail != null && FreeIn(l.Tail, x)),
            Lambda lam => !lam.Params.Any(p => p.Id == x) && FreeIn(lam.Body, x),
            Apply ap => FreeIn(ap.Fn, x) || FreeIn(ap.Arg, x),
            LetIn li => FreeIn(li.Value, x) || (!InPat(li.Pattern, x) && FreeIn(li.Body, x)),
            LetAnchor la => FreeIn(la.Value, x) || FreeIn(la.Body, x),
            IfThen it => FreeIn(it.Cond, x) || FreeIn(it.Then, x) || FreeIn(it.Else, x),
            MatchExpr m => FreeIn(m.Scrutinee, x) || m.Arms.Any(a => !InPat(a.Pattern, x) && FreeIn(a.Body, x)),
            Binary b => FreeIn(b.Left, x) || FreeIn(b.Right, x),
            Unary u => FreeIn(u.Operand, x),
            SiteExpr st => st.Args.Any(f => FreeIn(f, x)) || (st.Tail != null && FreeIn(st.Tail, x)),
            Typed t => FreeIn(t.Body, x),
            Collapse c => FreeIn(c.Sup, x) || FreeIn(c.Ctx, x),
            Wave w => (w.Label != null && FreeIn(w.Label, x)) || FreeIn(w.Body, x),
            LetFn lf => lf.Name != x && ((!lf.Params.Any(p => p.Id == x) && FreeIn(lf.Body, x)) || FreeIn(lf.Rest, x)),
            Lines ls => ls.Items.Any(i => FreeIn(i, x)),
            _ => false,
        };
    }

    // Patterns
    // --------

    /// <summary>
    /// Words a match's own scrutinee writes (identifiers that are neither variables nor definitions
    /// there): such identifiers in the match's patterns are word patterns.
    /// </summary>
    private HashSet<string> PatternWords(Expr scrutinee, RefEnv? env, RefCode code)
    {
        var words = new HashSet<string>(StringComparer.Ordinal);
        void Walk(Expr e, HashSet<string> bound)
        {
            switch (e)
            {
                case Name n:
                    if (!bound.Contains(n.Id) && Resolve(n.Id, env, code) == null) words.Add(n.Id);
                    break;
                case Anchored a: Walk(a.Body, bound); break;
                case CompoundLit c: foreach (var f in c.Fields) Walk(f, bound); break;
                case ListLit l:
                    foreach (var f in l.Items) Walk(f, bound);
                    if (l.Tail != null) Walk(l.Tail, bound);
                    break;
                case Lambda lam:
                {
                    var b = new HashSet<string>(bound);
                    foreach (var p in lam.Params) b.Add(p.Id);
                    Walk(lam.Body, b);
                    break;
                }
                case Apply ap: Walk(ap.Fn, bound); Walk(ap.Arg, bound); break;
                case LetIn li:
                {
                    Walk(li.Value, bound);
                    var b = new HashSet<string>(bound);
                    PatternNames(li.Pattern, b);
                    Walk(li.Body, b);
                    break;
                }
                case LetAnchor la: Walk(la.Value, bound); Walk(la.Body, bound); break;
                case IfThen it: Walk(it.Cond, bound); Walk(it.Then, bound); Walk(it.Else, bound); break;
                case MatchExpr m:
                    Walk(m.Scrutinee, bound);
                    foreach (var arm in m.Arms)
                    {
                        var b = new HashSet<string>(bound);
                        PatternNames(arm.Pattern, b);
                        Walk(arm.Body, b);
                    }
                    break;
                case Binary bi: Walk(bi.Left, bound); Walk(bi.Right, bound); break;
                case Unary u: Walk(u.Operand, bound); break;
                case SiteExpr s:
                    foreach (var a in s.Args) Walk(a, bound);
                    if (s.Tail != null) Walk(s.Tail, bound);
                    break;
                case Typed t: Walk(t.Body, bound); break;
                case Collapse c: Walk(c.Sup, bound); break;
                case Wave w: Walk(w.Body, bound); break;
            }
        }
        Walk(scrutinee, new HashSet<string>(StringComparer.Ordinal));
        return words;
    }

    private static void PatternNames(Pattern p, HashSet<string> into)
    {
        switch (p)
        {
            case PName n: into.Add(n.Id); break;
            case PSucc s: PatternNames(s.Pred, into); break;
            case PCompound c: foreach (var f in c.Fields) PatternNames(f, into); break;
            case PList l:
                foreach (var f in l.Items) PatternNames(f, into);
                if (l.Tail != null) PatternNames(l.Tail, into);
                break;
        }
    }

    /// <summary>
    /// Matches v against p, adding bindings. words == null: a let pattern (identifiers always bind).
    /// A refutable pattern inspects (forces) its value; an error met there is returned in err.
    /// </summary>
    private bool Match(Pattern p, RefValue v, HashSet<string>? words, List<(string, RefValue)> binds, out VError? err)
    {
        err = null;
        switch (p)
        {
            case PWild: return true;
            case PName n when words == null || !(words.Contains(n.Id) || Lexicon.Default.Contains(n.Id)):
                binds.Add((n.Id, v));
                return true;
        }
        v = Force(v);
        if (v is VError e) { err = e; return false; }
        switch (p)
        {
            case PName n: return v is VWord w && w.Name == n.Id;
            case PNum n: return v is VNum x && Numb.GetU24(Operate(Numb.OP_EQ, x.Numb, n.Numb)) != 0;
            case PSucc s:
                if (v is not VNum sx || Numb.TypeOf(sx.Numb) != Numb.TY_U24 || Numb.GetU24(sx.Numb) < s.K) return false;
                return Match(s.Pred, new VNum(Numb.NewU24(Numb.GetU24(sx.Numb) - s.K)), words, binds, out err);
            case PStr s: return v is VStr str && str.Value == s.Value;
            case PCompound c:
                if (v is not VCompound vc || vc.Head != c.Head || vc.Fields.Length != c.Fields.Count) return false;
                for (int i = 0; i < c.Fields.Count; i++)
                    if (!Match(c.Fields[i], vc.Fields[i], words, binds, out err)) return false;
                return true;
            case PList l:
            {
                var cur = v;
                for (int i = 0; i < l.Items.Count; i++)
                {
                    if (i > 0)
                    {
                        cur = Force(cur);
                        if (cur is VError ce) { err = ce; return false; }
                    }
                    if (cur is not VCons cell) return false;
                    if (!Match(l.Items[i], cell.Head, words, binds, out err)) return false;
                    cur = cell.Tail;
                }
                if (l.Tail != null) return Match(l.Tail, cur, words, binds, out err);
                cur = Force(cur);
                if (cur is VError te) { err = te; return false; }
                return cur is VNil;
            }
            default: return false;
        }
    }

    // Questions
    // ---------

    /// <summary>Inspects a value: a suspended question is asked (its answer replaces it).</summary>
    private RefValue Force(RefValue v)
    {
        while (v is VQuestion q) v = q.Answer ??= Ask(q);
        return v;
    }

    private RefValue Ask(VQuestion q)
    {
        // Inner questions first: candidates, spread, then the anchors in scope.
        var terms = new List<Term>();
        foreach (var c in q.Cands)
        {
            var t = ToTerm(c, dataOnly: true, out var err, q.Loc);
            if (err != null) return err;
            terms.Add(t!);
        }
        if (q.Tail != null)
        {
            var t = ToTerm(q.Tail, dataOnly: true, out var err, q.Loc);
            if (err != null) return err;
            if (t is not TList { Tail: null } tl) return Err("the spread '...' of a question must be a list", q.Loc);
            terms.AddRange(tl.Items);
        }
        var bindings = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (var e = q.Env; e != null; e = e.Next)
        {
            if (!e.Name.StartsWith('@') || bindings.ContainsKey(e.Name)) continue;
            var t = ToTerm(e.Value, dataOnly: true, out var err, q.Loc);
            if (err != null) return err;
            bindings[e.Name] = DataTerms.Print(t!);
        }
        foreach (var (k, t) in _context)
            if (!bindings.ContainsKey("@" + k)) bindings["@" + k] = DataTerms.Print(t);
        var s = q.Site;
        string expression = DataTerms.Print(new DataTerms.Question(s.Open, s.Head, terms));
        string bindText = string.Join(";", bindings.Select(kv => kv.Key + "=" + kv.Value));
        var asked = new RefQuestion(expression, bindText, q.Loc.ToString());
        if (_askedSet.Add(asked)) _asked.Add(asked);
        string key = expression + "\u001f" + bindText;
        if (_answers.TryGetValue(key, out var known)) return known;
        var request = new OracleRequest
        {
            AmbNodeId = "ref#" + ++_ids,
            Kind = s.Open ? "open" : "choice",
            Expression = expression,
            Args = terms.Select(DataTerms.Print).ToList(),
            TypeExpected = s.Type ?? Lexicon.Default.Find(s.Head)?.Type,
            LexicalBindings = new Dictionary<string, string>(bindings, StringComparer.Ordinal),
            SourceLocation = asked.Location,
        };
        var result = _oracle.AskAsync([request], CancellationToken.None).GetAwaiter().GetResult()[0];
        if (result is not OracleResponse res)
            throw new RefOracleFailure($"{asked.Location}: error: no valid answer for {expression}: {((OracleError)result).Message}");
        if (!DataTerms.TryParse(res.Substitution, out var answer, out string perr) || DataTerms.HasQuestion(answer))
            throw new RefOracleFailure($"{asked.Location}: error: the answer `{res.Substitution}` for {expression} is not data: {perr}");
        if (!s.Open && !request.Args.Contains(DataTerms.Print(answer)))
            throw new RefOracleFailure($"{asked.Location}: error: no valid answer for {expression}: `{res.Substitution}` is not one of the candidates");
        var value = FromTerm(answer);
        _answers[key] = value;
        return value;
    }

    // Data and terms
    // --------------

    private static RefValue FromTerm(Term t) => t switch
    {
        TNum n => new VNum(n.Numb),
        TWord w => new VWord(w.Name),
        TStr s => new VStr(s.Value),
        TCompound c => new VCompound(c.Head, c.Fields.Select(FromTerm).ToArray()),
        TList l => l.Items.Reverse().Aggregate(l.Tail != null ? FromTerm(l.Tail) : VNil.I, (acc, x) => new VCons(FromTerm(x), acc)),
        TAnchored a => new VAnchored(FromTerm(a.Value), a.Anchor),
        _ => throw new RefInternalException($"not data: {t.GetType().Name}"),
    };

    /// <summary>
    /// Prints a value as a term, left to right, asking every question met; the first error met is
    /// returned in err. dataOnly: a function is an error (question candidates and anchors).
    /// </summary>
    private Term? ToTerm(RefValue v, bool dataOnly, out VError? err, RefLoc? at = null)
    {
        err = null;
        v = Force(v);
        switch (v)
        {
            case VError e: err = e; return null;
            case VNum n: return new TNum(n.Numb);
            case VWord w: return new TWord(w.Name);
            case VStr s: return new TStr(s.Value);
            case VCompound c:
            {
                var fs = new List<Term>();
                foreach (var f in c.Fields)
                {
                    var t = ToTerm(f, dataOnly, out err, at);
                    if (err != null) return null;
                    fs.Add(t!);
                }
                return new TCompound(c.Head, fs);
            }
            case VNil: return new TList([], null);
            case VCons:
            {
                var items = new List<Term>();
                RefValue cur = v;
                while (true)
                {
                    cur = Force(cur);
                    if (cur is VError ce) { err = ce; return null; }
                    if (cur is VNil) return new TList(items, null);
                    if (cur is not VCons cell)
                    {
                        var tail = ToTerm(cur, dataOnly, out err, at);
                        return err != null ? null : new TList(items, tail);
                    }
                    var h = ToTerm(cell.Head, dataOnly, out err, at);
                    if (err != null) return null;
                    items.Add(h!);
                    cur = cell.Tail;
                }
            }
            case VAnchored a:
            {
                var t = ToTerm(a.Value, dataOnly, out err, at);
                return err != null ? null : new TAnchored(t!, a.Anchor);
            }
            case VFun f:
                if (dataOnly)
                {
                    err = Err("a question's candidates and anchors must be data, not a function", at!);
                    return null;
                }
                return new TName(FunctionText(f));
            default: throw new RefInternalException($"cannot print {v.GetType().Name}");
        }
    }

    /// <summary>A function as source text: a definition by name, a closure as its lambda with captured values substituted.</summary>
    private string FunctionText(VFun f)
    {
        string head = f switch
        {
            VDefRef d => d.Def.Name,
            VClosure c => "(" + ClosureText(c) + ")",
            _ => "?",
        };
        if (f.Args.Length == 0) return f is VClosure c0 ? ClosureText(c0) : head;
        var args = f.Args.Select(a =>
        {
            var t = ToTerm(a, false, out var err);
            return err != null ? "<" + err.Message + ">" : Printer.Print(t!);
        });
        return head + "(" + string.Join(", ", args) + ")";
    }

    private string ClosureText(VClosure c)
    {
        string? Subst(string id)
        {
            if (id == c.Self) return null;
            var v = RefEnv.Find(c.Env, id);
            if (v == null) return null;
            var t = ToTerm(v, false, out var err);
            return err != null ? "<" + err.Message + ">" : Printer.Print(t!);
        }
        return ClosurePrinter.Lambda(c.Lam.Params, c.Lam.Body, Subst);
    }
}
