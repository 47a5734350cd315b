using CsCheck;
using Lmn.Language;
using Lmn.Net;

namespace Lmn.Tests.Reference;

/// <summary>A generated program: its syntax tree, its source text and its size (nodes; CsCheck shrinks towards smaller).</summary>
public sealed record GenProgram(ProgramAst Ast, string Source, int Nodes)
{
    public override string ToString() => Source;
}

/// <summary>
/// Generates well-scoped, well-typed LMN programs (a small type discipline keeps them meaningful):
/// closures capturing variables, higher-order prelude calls, curried and returned functions, partial
/// application, lets used zero, one or several times, matches over numbers, words, lists, compounds and
/// mixed kinds, bounded recursion (a literal count decreasing by 1+p), == and != on data, and questions
/// (∿ with word or number candidates, ~ open questions, choose and classify), some dropped, some inspected.
/// The program's result is always data (it prints). Nothing fails at run time except, rarely and on
/// purpose (<see cref="Errors"/>), `head(tail([e]))` and `e % 0`: head/tail otherwise only of non-empty
/// lists, / and % by non-zero literals, range and recursion bounded by literals.
/// </summary>
public sealed class ProgramGen : Gen<GenProgram>
{
    public int MaxDepth { get; init; } = 3;
    public int MaxDefs { get; init; } = 3;
    /// <summary>Matches mixing number and data patterns.</summary>
    public bool Mixed { get; init; } = true;
    /// <summary>Questions (∿, ~, choose, classify).</summary>
    public bool Questions { get; init; } = true;
    /// <summary>== and != on words, strings, lists and compounds (else on numbers only).</summary>
    public bool DataEquality { get; init; } = true;
    /// <summary>Rarely, an operation that fails at run time (head of an empty list, % 0): an error value, maybe dropped.</summary>
    public bool Errors { get; init; } = true;
    /// <summary>The Limn project's forms: phrases, flows, collapses `e @ ctx`, temporal waves, blocks with local `fn`, several top-level lines.</summary>
    public bool Limn { get; init; } = true;

    public override GenProgram Generate(PCG pcg, Size? min, out Size size)
    {
        var b = new Builder(pcg, MaxDepth, MaxDefs, Mixed, Questions, DataEquality, Errors, Limn);
        var ast = b.Program();
        string src = SourcePrinter.Print(ast);
        size = new Size((ulong)b.Nodes);
        return new GenProgram(ast, src, b.Nodes);
    }

    // Types
    // -----

    private abstract record Ty;
    private sealed record TyNum : Ty { public override string ToString() => "Num"; }
    private sealed record TyWord : Ty { public override string ToString() => "Word"; }
    private sealed record TyStr : Ty { public override string ToString() => "Str"; }
    private sealed record TyRec : Ty { public override string ToString() => "Rec"; }
    private sealed record TyList(Ty Elem) : Ty { public override string ToString() => $"[{Elem}]"; }
    private sealed record TyFn(Ty Arg, Ty Res) : Ty { public override string ToString() => $"({Arg} -> {Res})"; }
    /// <summary>A phrase, a flow of steps or a wave: data that is only printed, compared or passed on.</summary>
    private sealed record TyProse : Ty { public override string ToString() => "Prose"; }

    private static readonly Ty Num = new TyNum(), Word = new TyWord(), Str = new TyStr(), Rec = new TyRec(), Prose = new TyProse();

    private sealed record DefSig(string Name, Ty[] Params, Ty Res, bool Recursive);

    private sealed class Builder(PCG pcg, int maxDepth, int maxDefs, bool mixed, bool questions, bool dataEquality, bool errors, bool limn)
    {
        public int Nodes;
        private int _fresh;
        private readonly List<DefSig> _defs = [];

        private static readonly string[] LexWords = ["joy", "pai", "hop", "sad"];
        private static readonly string[] Words = ["joy", "pai", "hop", "sad", "zed", "qux"];

        private int R(int n) => (int)pcg.Next((uint)n);
        private bool P(int percent) => R(100) < percent;
        private T Pick<T>(IReadOnlyList<T> xs) => xs[R(xs.Count)];
        private string Fresh(string stem) => stem + _fresh++;

        private static NumLit N(uint v) => new(0, Numb.NewU24(v));
        private static Name Id(string s) => new(0, s);
        private static Expr Call(Expr f, params Expr[] args) => args.Aggregate(f, (acc, a) => new Apply(0, acc, a));
        private static Apply Juxt(Expr f, Expr a) => new(0, f, a, ApplyKind.Juxt);
        private static Apply FlowInto(Expr x, Expr f) => new(0, f, x, ApplyKind.Flow);
        private static readonly string[] Tenses = ["now", "was", "wil", "bef"];

        private Ty DataTy(int depth = 1) => R(depth > 0 ? 7 : 5) switch
        {
            0 or 1 => Num,
            2 => Word,
            3 => limn && R(3) == 0 ? Prose : Rec,
            4 => Str,
            _ => new TyList(R(3) == 0 ? Word : Num),
        };

        private Ty AnyTy() => R(5) == 0 ? new TyFn(Num, Num) : DataTy();

        public ProgramAst Program()
        {
            var defs = new List<Definition>();
            int n = R(maxDefs + 1);
            for (int i = 0; i < n; i++) defs.Add(i == 0 && P(50) ? RecursiveDef() : limn && P(20) ? ConstDef() : Def());
            Expr main = Expr(DataTy(), maxDepth, []);
            // Several top-level expressions: each is printed on its own line.
            if (limn && P(15)) main = new Lines(0, [main, .. Enumerable.Range(0, 1 + R(2)).Select(_ => Expr(DataTy(), maxDepth - 1, []))]);
            return new ProgramAst(defs, main);
        }

        private Definition Def()
        {
            string name = Fresh("d");
            int np = 1 + R(2);
            var ps = new Ty[np];
            var env = new List<(string, Ty)>();
            var prms = new List<Param>();
            for (int i = 0; i < np; i++)
            {
                ps[i] = AnyTy();
                string pn = Fresh("a");
                env.Add((pn, ps[i]));
                prms.Add(new Param(0, pn));
            }
            var res = R(5) == 0 ? new TyFn(Num, Num) : DataTy();
            var body = Expr(res, maxDepth - 1, env);
            _defs.Add(new DefSig(name, ps, res, false));
            return new Definition(0, name, prms, body);
        }

        /// <summary>A top-level binding `name = e` (a definition without parameters).</summary>
        private Definition ConstDef()
        {
            string name = Fresh("k");
            var res = DataTy();
            var body = Expr(res, maxDepth - 1, []);
            _defs.Add(new DefSig(name, [], res, false));
            return new Definition(0, name, [], body);
        }

        /// <summary>`def r(n, x) = match n { 0 => base; 1+p => let v = r(p, e); step }`: one call per level, n a literal at every outside call.</summary>
        private Definition RecursiveDef()
        {
            string name = Fresh("r");
            var xt = DataTy(0);
            var res = DataTy();
            var sig = new DefSig(name, [Num, xt], res, true);
            string n = Fresh("n"), x = Fresh("a"), p = Fresh("p"), v = Fresh("v");
            var env = new List<(string, Ty)> { (n, Num), (x, xt) };
            var baseCase = Expr(res, maxDepth - 1, env);
            var stepEnv = new List<(string, Ty)>(env) { (p, Num) };
            var arg = Expr(xt, 1, stepEnv);
            stepEnv.Add((v, res));
            var step = Expr(res, maxDepth - 1, stepEnv);
            Nodes += 4;
            var body = new MatchExpr(0, Id(n),
            [
                new Arm(0, new PNum(0, Numb.NewU24(0)), baseCase),
                new Arm(0, new PSucc(0, 1, new PName(0, p)), new LetIn(0, new PName(0, v), Call(Id(name), Id(p), arg), step)),
            ]);
            _defs.Add(sig);
            return new Definition(0, name, [new Param(0, n), new Param(0, x)], body);
        }

        // Expressions of a type
        // ---------------------

        private Expr Expr(Ty t, int depth, List<(string Name, Ty Ty)> env)
        {
            Nodes++;
            if (depth <= 0 || P(15)) return t is TyWord or TyNum && P(10) ? Question(t, 0, env) : Leaf(t, env);
            int d = depth - 1;
            if (errors && R(100) == 0)
                return t is TyNum && P(50)
                    ? new Binary(0, Tok.Percent, Expr(Num, d, env), N(0))
                    : Call(Id("head"), Call(Id("tail"), new ListLit(0, [Expr(t, d, env)], null)));
            // Forms every type has.
            switch (R(12))
            {
                case 0: return Let(t, d, env);
                case 1: return new IfThen(0, Cond(d, env), Expr(t, d, env), Expr(t, d, env));
                case 2: return MatchAny(t, d, env);
                case 3: if (CallDef(t, d, env) is { } c) return c; break;
                case 4:
                {
                    // A lambda applied on the spot (maybe to a dropped argument).
                    var at = AnyTy();
                    string x = Fresh("x");
                    var inner = new List<(string, Ty)>(env) { (x, at) };
                    return Call(new Lambda(0, [new Param(0, x)], Expr(t, d, inner)), Expr(at, d, env));
                }
                case 5: if (ApplyVar(t, d, env) is { } a) return a; break;
                case 6 or 7: if (CallDef(t, d, env) is { } c2) return c2; break;
                case 8 when t is TyWord or TyNum: return Question(t, d, env);
                case 9 or 10 when limn: return LimnForm(t, d, env);
            }
            return t switch
            {
                TyNum => NumExpr(d, env),
                TyWord => WordExpr(d, env),
                TyStr => StrExpr(d, env),
                TyRec => new CompoundLit(0, "pt", [Expr(Num, d, env), Expr(Word, d, env)]),
                TyProse => ProseExpr(d, env),
                TyList l => ListExpr(l, d, env),
                TyFn f => FnExpr(f, d, env),
                _ => throw new InvalidOperationException(),
            };
        }

        /// <summary>The Limn project's forms, producing a t.</summary>
        private Expr LimnForm(Ty t, int d, List<(string Name, Ty Ty)> env)
        {
            Nodes++;
            switch (R(5))
            {
                case 0 when t is TyWord or TyNum && questions:
                {
                    // `sup @ ctx`: a literal superposition, a list expression (maybe []), or a plain value (itself).
                    Expr sup = R(3) switch
                    {
                        0 => new ListLit(0, Enumerable.Range(0, 1 + R(3)).Select(_ => R(2) == 0 ? Leaf(t, env) : Expr(t, d, env)).ToList(), null),
                        1 => Expr(new TyList(t), d, env),
                        _ => Expr(t, d, env),
                    };
                    return new Collapse(0, 0, sup, Expr(R(2) == 0 ? Word : Prose, d, env));
                }
                case 1:
                {
                    // A local function, maybe recursive on a literal count, capturing the block's names.
                    var at = DataTy(0);
                    var rt = DataTy(0);
                    string g = Fresh("g"), x = Fresh("x");
                    if (P(40))
                    {
                        string p = Fresh("p"), v = Fresh("v"), w = Fresh("v");
                        var inner = Ext(env, (x, Num));
                        var step = new LetIn(0, new PName(0, v), Call(Id(g), Id(p)), Expr(rt, d, Ext(inner, (p, Num), (v, rt))));
                        var body = new MatchExpr(0, Id(x), [new Arm(0, new PNum(0, Numb.NewU24(0)), Expr(rt, d, inner)), new Arm(0, new PSucc(0, 1, new PName(0, p)), step)]);
                        var rest = new LetIn(0, new PName(0, w), Call(Id(g), N((uint)R(5))), Expr(t, d, Ext(env, (w, rt))));
                        return new LetFn(0, g, [new Param(0, x)], body, rest);
                    }
                    var fbody = Expr(rt, d, Ext(env, (x, at)));
                    return new LetFn(0, g, [new Param(0, x)], fbody, Expr(t, d, Ext(env, (g, new TyFn(at, rt)))));
                }
                case 2:
                {
                    // A function applied by juxtaposition or by a flow.
                    var at = DataTy(0);
                    string x = Fresh("x");
                    var f = new Lambda(0, [new Param(0, x)], Expr(t, d, Ext(env, (x, at))));
                    var arg = Expr(at, d, env);
                    return P(50) ? Juxt(f, arg) : FlowInto(arg, f);
                }
                case 3 when t is TyProse: return ProseExpr(d, env);
                case 4 when t is TyStr && questions:
                    // An open question about any value (what `x → ~say[w]` asks).
                    return new SiteExpr(0, 0, true, "say", [Expr(DataTy(0), d, env), Expr(Word, d, env)], null, null);
            }
            return t is TyProse ? ProseExpr(d, env) : Expr(t, d, env);
        }

        private Expr ProseExpr(int d, List<(string Name, Ty Ty)> env)
        {
            switch (R(6))
            {
                case 0: return Juxt(Expr(Word, d, env), Expr(DataTy(0), d, env));
                case 1: return Juxt(Juxt(Id(Pick(Words)), Expr(DataTy(0), d, env)), Leaf(DataTy(0), env));
                case 2: return FlowInto(Expr(DataTy(0), d, env), R(2) == 0 ? Id(Pick(Words)) : Expr(Word, d, env));
                case 3:
                {
                    var body = Expr(DataTy(0), d, env);
                    return P(25) && questions
                        ? new Wave(0, Pick(Tenses), Expr(Word, d, env), body)
                        : new Wave(0, Pick(Tenses), null, body);
                }
                case 4: return FlowInto(new Wave(0, Pick(Tenses), null, Expr(DataTy(0), d, env)), new Wave(0, Pick(Tenses), null, Expr(Prose, d, env)));
                default: return Juxt(Expr(Prose, d, env), Id(Pick(Words)));
            }
        }

        private Expr Leaf(Ty t, List<(string Name, Ty Ty)> env)
        {
            var vars = env.Where(v => v.Ty == t).ToList();
            if (vars.Count > 0 && P(60))
            {
                string v = Pick(vars).Name;
                return v.StartsWith('@') ? new AnchorRef(0, v[1..]) : Id(v);
            }
            switch (t)
            {
                case TyNum: return N((uint)R(10));
                case TyWord: return Id(Pick(Words));
                case TyStr: return new StrLit(0, R(2) == 0 ? "a" : "b");
                case TyRec: return new CompoundLit(0, "pt", [N((uint)R(5)), Id(Pick(Words))]);
                case TyProse: return Juxt(Id(Pick(Words)), Id(Pick(Words)));
                case TyList l: return R(2) == 0 ? new ListLit(0, [], null) : new ListLit(0, [Leaf(l.Elem, env)], null);
                case TyFn f:
                {
                    string x = Fresh("x");
                    return new Lambda(0, [new Param(0, x)], Leaf(f.Res, new List<(string, Ty)>(env) { (x, f.Arg) }));
                }
                default: throw new InvalidOperationException();
            }
        }

        private Expr Let(Ty t, int d, List<(string Name, Ty Ty)> env)
        {
            if (questions && P(15))
            {
                // A local anchor: questions under it carry it as a binding.
                var at = R(2) == 0 ? Word : Num;
                string a = Fresh("m");
                return new LetAnchor(0, a, Expr(at, d, env), Expr(t, d, Ext(env, ("@" + a, at))));
            }
            var vt = AnyTy();
            string v = Fresh("v");
            var value = P(40) && vt is TyWord or TyNum ? Question(vt, d, env) : Expr(vt, d, env);
            if (vt is TyRec && P(40))
            {
                // Destructuring let.
                string a = Fresh("v"), w = Fresh("v");
                return new LetIn(0, new PCompound(0, "pt", [new PName(0, a), new PName(0, w)]), value,
                    Expr(t, d, new List<(string, Ty)>(env) { (a, Num), (w, Word) }));
            }
            return new LetIn(0, new PName(0, v), value, Expr(t, d, new List<(string, Ty)>(env) { (v, vt) }));
        }

        private Expr Cond(int d, List<(string Name, Ty Ty)> env)
        {
            switch (R(4))
            {
                case 0:
                {
                    var dt = dataEquality ? DataTy() : Num;
                    return new Binary(0, R(2) == 0 ? Tok.EqEq : Tok.NotEq, Expr(dt, d, env), Expr(dt, d, env));
                }
                case 1: return new Binary(0, Pick(new[] { Tok.Lt, Tok.Gt, Tok.Le, Tok.Ge }), Expr(Num, d, env), Expr(Num, d, env));
                default: return Expr(Num, d, env);
            }
        }

        /// <summary>A match that produces a t: over a number, a list, a word, a compound, or mixed kinds.</summary>
        private Expr MatchAny(Ty t, int d, List<(string Name, Ty Ty)> env)
        {
            switch (R(mixed ? 6 : 4))
            {
                case 0:
                {
                    string p = Fresh("p");
                    var arms = R(2) == 0
                        ? new List<Arm> { new(0, new PNum(0, Numb.NewU24(0)), Expr(t, d, env)), new(0, new PSucc(0, 1, new PName(0, p)), Expr(t, d, Ext(env, (p, Num)))) }
                        : [new(0, new PNum(0, Numb.NewU24((uint)R(3))), Expr(t, d, env)), new(0, new PNum(0, Numb.NewU24(3)), Expr(t, d, env)), new(0, new PWild(0), Expr(t, d, env))];
                    return new MatchExpr(0, Expr(Num, d, env), arms);
                }
                case 1:
                {
                    var et = R(3) == 0 ? Word : Num;
                    string h = Fresh("h"), tl = Fresh("t");
                    return new MatchExpr(0, Expr(new TyList(et), d, env),
                    [
                        new(0, new PList(0, [], null), Expr(t, d, env)),
                        new(0, new PList(0, [new PName(0, h)], new PName(0, tl)), Expr(t, d, Ext(env, (h, et), (tl, new TyList(et))))),
                    ]);
                }
                case 2:
                {
                    // Over a word: lexicon words, or the words the scrutinee's question writes.
                    Expr scrut;
                    string[] pats;
                    if (questions && P(40))
                    {
                        var cands = Words.OrderBy(_ => R(100)).Take(2 + R(2)).ToArray();
                        scrut = new SiteExpr(0, 0, false, Pick(new[] { "lov", "mov", "qz" }), cands.Select(c => (Expr)Id(c)).ToList(), null, null);
                        pats = cands.Take(1 + R(cands.Length)).ToArray();
                    }
                    else
                    {
                        scrut = Expr(Word, d, env);
                        pats = LexWords.OrderBy(_ => R(100)).Take(1 + R(2)).ToArray();
                    }
                    var arms = pats.Select(w => new Arm(0, new PName(0, w), Expr(t, d, env))).ToList();
                    arms.Add(new Arm(0, new PWild(0), Expr(t, d, env)));
                    return new MatchExpr(0, scrut, arms);
                }
                case 3:
                {
                    string a = Fresh("c"), w = Fresh("c");
                    var arms = new List<Arm>();
                    if (P(50)) arms.Add(new Arm(0, new PCompound(0, "pt", [new PNum(0, Numb.NewU24((uint)R(3))), new PWild(0)]), Expr(t, d, env)));
                    arms.Add(new Arm(0, new PCompound(0, "pt", [new PName(0, a), new PName(0, w)]), Expr(t, d, Ext(env, (a, Num), (w, Word)))));
                    return new MatchExpr(0, Expr(Rec, d, env), arms);
                }
                default:
                {
                    // Mixed kinds: whatever the scrutinee is, the last arm catches it.
                    var arms = new List<Arm>();
                    string h = Fresh("h");
                    var kinds = new[] { 0, 1, 2, 3, 4, 5 }.OrderBy(_ => R(100)).Take(1 + R(3));
                    foreach (int k in kinds)
                        arms.Add(k switch
                        {
                            0 => new Arm(0, new PNum(0, Numb.NewU24((uint)R(3))), Expr(t, d, env)),
                            1 => new Arm(0, new PName(0, Pick(LexWords)), Expr(t, d, env)),
                            2 => new Arm(0, new PList(0, [], null), Expr(t, d, env)),
                            3 => new Arm(0, new PList(0, [new PName(0, h)], new PWild(0)), Expr(t, d, env)),
                            4 => new Arm(0, new PCompound(0, "pt", [new PWild(0), new PWild(0)]), Expr(t, d, env)),
                            _ => new Arm(0, new PStr(0, "a"), Expr(t, d, env)),
                        });
                    arms.Add(new Arm(0, new PWild(0), Expr(t, d, env)));
                    return new MatchExpr(0, Expr(DataTy(), d, env), arms);
                }
            }
        }

        private static List<(string, Ty)> Ext(List<(string, Ty)> env, params (string, Ty)[] more)
        {
            var e = new List<(string, Ty)>(env);
            e.AddRange(more);
            return e;
        }

        /// <summary>A call of a definition whose result is t (a recursive one with a literal count).</summary>
        private Expr? CallDef(Ty t, int d, List<(string Name, Ty Ty)> env)
        {
            var cands = _defs.Where(s => s.Res == t).ToList();
            if (cands.Count == 0) return null;
            var s = Pick(cands);
            var args = s.Params.Select((pt, i) => s.Recursive && i == 0 ? N((uint)R(5)) : Expr(pt, d, env)).ToArray();
            return Call(Id(s.Name), args);
        }

        /// <summary>A function variable applied.</summary>
        private Expr? ApplyVar(Ty t, int d, List<(string Name, Ty Ty)> env)
        {
            var fs = env.Where(v => !v.Name.StartsWith('@') && v.Ty is TyFn f && (f.Res == t || f.Res is TyFn g && g.Res == t)).ToList();
            if (fs.Count == 0) return null;
            var (name, ty) = Pick(fs);
            var f1 = (TyFn)ty;
            if (f1.Res == t)
            {
                var a = Expr(f1.Arg, d, env);
                return !limn ? Call(Id(name), a) : R(3) switch { 0 => Juxt(Id(name), a), 1 => FlowInto(a, Id(name)), _ => Call(Id(name), a) };
            }
            var f2 = (TyFn)f1.Res;
            return Call(Id(name), Expr(f1.Arg, d, env), Expr(f2.Arg, d, env));
        }

        private Expr Question(Ty t, int d, List<(string Name, Ty Ty)> env)
        {
            Nodes++;
            if (!questions) return Leaf(t, env);
            if (t is TyNum)
                return new SiteExpr(0, 0, false, "lov", Enumerable.Range(0, 2 + R(2)).Select(_ => (Expr)N((uint)R(6))).ToList(), null, null);
            switch (R(5))
            {
                case 0: return Call(Id("choose"), new ListLit(0, Words.OrderBy(_ => R(100)).Take(2).Select(w => (Expr)Id(w)).ToList(), null));
                case 1: return Call(Id("classify"), Expr(Num, d, env), new ListLit(0, [Id("pos"), Id("neg")], null));
                default:
                {
                    var cands = new List<Expr>();
                    int n = 2 + R(2);
                    for (int i = 0; i < n; i++) cands.Add(P(25) ? Expr(Word, d, env) : Id(Pick(Words)));
                    return new SiteExpr(0, 0, false, Pick(new[] { "lov", "mov", "fir" }), cands, null, null);
                }
            }
        }

        private Expr NumExpr(int d, List<(string Name, Ty Ty)> env)
        {
            switch (R(13))
            {
                case 0 or 1 or 2:
                    return new Binary(0, Pick(new[] { Tok.Plus, Tok.Minus, Tok.Star, Tok.Plus }), Expr(Num, d, env), Expr(Num, d, env));
                case 3: return new Binary(0, R(2) == 0 ? Tok.Slash : Tok.Percent, Expr(Num, d, env), N((uint)(1 + R(4))));
                case 4: return Cond(d, env);
                case 5: return new Binary(0, R(2) == 0 ? Tok.AndAnd : Tok.OrOr, Expr(Num, d, env), Expr(Num, d, env));
                case 6: return new Unary(0, Tok.Bang, Expr(Num, d, env));
                case 7: return Call(Id("len"), Expr(new TyList(DataTy(0)), d, env));
                case 8: return Call(Id("sum"), Expr(new TyList(Num), d, env));
                case 9: return Question(Num, d, env);
                case 10: return Fold(Num, d, env);
                case 11: return Call(Id("head"), new ListLit(0, [Expr(Num, d, env)], Expr(new TyList(Num), d, env)));
                default: return N((uint)R(10));
            }
        }

        private Expr Fold(Ty t, int d, List<(string Name, Ty Ty)> env)
        {
            var et = R(2) == 0 ? Num : Word;
            string a = Fresh("x"), b = Fresh("x");
            var body = Expr(t, d, Ext(env, (a, t), (b, et)));
            return Call(Id("fold"), new Lambda(0, [new Param(0, a), new Param(0, b)], body), Expr(t, d, env), Expr(new TyList(et), d, env));
        }

        private Expr WordExpr(int d, List<(string Name, Ty Ty)> env) => R(4) switch
        {
            0 or 1 => Question(Word, d, env),
            2 => Call(Id("head"), new ListLit(0, [Expr(Word, d, env)], Expr(new TyList(Word), d, env))),
            _ => Id(Pick(Words)),
        };

        private Expr StrExpr(int d, List<(string Name, Ty Ty)> env) => R(3) switch
        {
            0 when questions => new SiteExpr(0, 0, true, "say", [Expr(Word, d, env)], null, null),
            _ => new StrLit(0, R(2) == 0 ? "a" : "b"),
        };

        private Expr ListExpr(TyList l, int d, List<(string Name, Ty Ty)> env)
        {
            var e = l.Elem;
            switch (R(10))
            {
                case 0: return new ListLit(0, Enumerable.Range(0, R(4)).Select(_ => Expr(e, d, env)).ToList(), null);
                case 1: return new ListLit(0, [Expr(e, d, env)], Expr(l, d, env));
                case 2:
                {
                    var at = DataTy(0);
                    return Call(Id("map"), Expr(new TyFn(at, e), d, env), Expr(new TyList(at), d, env));
                }
                case 3: return Call(Id("filter"), Expr(new TyFn(e, Num), d, env), Expr(l, d, env));
                case 4: return Call(Id("reverse"), Expr(l, d, env));
                case 5: return Call(Id("concat"), Expr(l, d, env), Expr(l, d, env));
                case 6: return Call(Id("tail"), new ListLit(0, [Expr(e, d, env)], Expr(l, d, env)));
                case 7 when e is TyNum: return Call(Id("range"), N((uint)R(3)), N((uint)R(6)));
                case 8:
                {
                    // A partially applied prelude function, applied later.
                    var at = DataTy(0);
                    string f = Fresh("v");
                    return new LetIn(0, new PName(0, f), Call(Id("map"), Expr(new TyFn(at, e), d, env)),
                        new ListLit(0, [], Call(Id(f), Expr(new TyList(at), d, env))));
                }
                case 9: return Fold(l, d, env);
                default: return new ListLit(0, [Expr(e, d, env), Expr(e, d, env)], null);
            }
        }

        private Expr FnExpr(TyFn f, int d, List<(string Name, Ty Ty)> env)
        {
            switch (R(5))
            {
                case 0 when f.Res is TyFn g:
                {
                    // Curried two-parameter lambda.
                    string x = Fresh("x"), y = Fresh("x");
                    return new Lambda(0, [new Param(0, x), new Param(0, y)], Expr(g.Res, d, Ext(env, (x, f.Arg), (y, g.Arg))));
                }
                case 1:
                {
                    // A definition: by reference, or partially applied.
                    var refs = _defs.Where(s => !s.Recursive && s.Params.Length == 1 && s.Params[0] == f.Arg && s.Res == f.Res).ToList();
                    if (refs.Count > 0) return Id(Pick(refs).Name);
                    var partial = _defs.Where(s => !s.Recursive && s.Params.Length == 2 && s.Params[1] == f.Arg && s.Res == f.Res).ToList();
                    if (partial.Count > 0)
                    {
                        var s = Pick(partial);
                        return Call(Id(s.Name), Expr(s.Params[0], d, env));
                    }
                    break;
                }
                case 2:
                {
                    // A function returned by a function: (\k. \x. ...)(e).
                    var kt = DataTy(0);
                    string k = Fresh("x"), x = Fresh("x");
                    var inner = new Lambda(0, [new Param(0, x)], Expr(f.Res, d, Ext(env, (k, kt), (x, f.Arg))));
                    return Call(new Lambda(0, [new Param(0, k)], inner), Expr(kt, d, env));
                }
            }
            string p = Fresh("x");
            return new Lambda(0, [new Param(0, p)], Expr(f.Res, d, Ext(env, (p, f.Arg))));
        }
    }
}
