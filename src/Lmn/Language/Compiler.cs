using System.Runtime.CompilerServices;
using System.Diagnostics;
using System.Text;
using Lmn.Hvm;
using Lmn.Net;

namespace Lmn.Language;

/// <summary>A compiled program: the book of nets plus what the read-back and the supervisor need beside it.</summary>
public sealed class CompiledProgram
{
    public required HvmBook Book { get; init; }
    public required SymbolTable Symbols { get; init; }
    public required IReadOnlyList<SiteInfo> Sites { get; init; }
    /// <summary>Net name of each definition → (LMN name, whether it is a function printed by name).</summary>
    public required IReadOnlyDictionary<string, (string Lmn, bool Function)> Defs { get; init; }
    /// <summary>The source each site was written in (the program's file or the prelude), by site id.</summary>
    public required IReadOnlyList<Text.SourceText> SiteSources { get; init; }
    /// <summary>The program's file name, for runtime errors.</summary>
    public string MainPath { get; init; } = "";
    /// <summary>Runtime errors by id: `@fail.N` is the poison value of error N.</summary>
    public IReadOnlyList<FailInfo> Fails { get; init; } = [];
    /// <summary>What each closure tag stands for (the read-back prints closures from their source).</summary>
    public IReadOnlyDictionary<int, ClosureInfo> Closures { get; init; } = new Dictionary<int, ClosureInfo>();
    /// <summary>How main's value travels: a bare number or a uniform datum.</summary>
    public Rep MainRep { get; init; } = Rep.Uniform;

    /// <summary>The same program over another symbol table (see <see cref="SymbolTable.Copy"/>).</summary>
    public CompiledProgram WithSymbols(SymbolTable symbols) => new()
    {
        Book = Book,
        Symbols = symbols,
        Sites = Sites,
        Defs = Defs,
        SiteSources = SiteSources,
        MainPath = MainPath,
        Fails = Fails,
        Closures = Closures,
        MainRep = MainRep,
    };

    /// <summary>The runtime error a definition name stands for, if it is one.</summary>
    public FailInfo? FailOf(string defName) =>
        defName.StartsWith("fail.", StringComparison.Ordinal) && int.TryParse(defName.AsSpan(5), out int id) && id < Fails.Count ? Fails[id] : null;

    /// <summary>
    /// HVM2 text for the book, headed by comment lines that say how to read its result as LMN (the
    /// representation of main, the data tags, the runtime errors): `lmn run FILE.hvm` prints that value
    /// beside HVM2's `Result:`; HVM2 and `lmn fmt` ignore comments.
    /// </summary>
    public string EmitHvm()
    {
        var sb = new StringBuilder();
        sb.Append("// lmn-main: ").Append(MainRep == Rep.Num ? "num" : "uniform").Append('\n');
        foreach (var s in Symbols.All)
            sb.Append("// lmn-tag: ").Append(s.Tag).Append(' ').Append(s.Kind).Append(' ').Append(s.Arity).Append(' ')
              .Append(Printer.Quote(s.Name)).Append('\n');
        foreach (var f in Fails)
            sb.Append("// lmn-fail: ").Append(f.Id).Append(' ').Append(Printer.Quote(f.Location)).Append(' ').Append(Printer.Quote(f.Message)).Append('\n');
        sb.Append(Book.Show());
        return sb.ToString();
    }

    /// <summary>The table `EmitHvm` wrote, read back from a .hvm file's comments; null if it has none.</summary>
    public static CompiledProgram? FromHvmComments(string text, HvmBook book)
    {
        var syms = new SymbolTable();
        var fails = new List<FailInfo>();
        Rep main = Rep.Uniform;
        bool any = false;
        foreach (var raw in text.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (line.StartsWith("// lmn-main: ", StringComparison.Ordinal))
            {
                any = true;
                main = line.EndsWith("num", StringComparison.Ordinal) ? Rep.Num : Rep.Uniform;
            }
            else if (line.StartsWith("// lmn-tag: ", StringComparison.Ordinal))
            {
                var parts = line["// lmn-tag: ".Length..].Split(' ', 4);
                if (parts.Length == 4 && int.TryParse(parts[0], out int tag) && Enum.TryParse<SymKind>(parts[1], out var kind)
                    && int.TryParse(parts[2], out int arity) && Unquote(parts[3]) is { } name && !syms.Has(tag))
                    syms.Restore(tag, kind, name, arity);
            }
            else if (line.StartsWith("// lmn-fail: ", StringComparison.Ordinal))
            {
                var rest = line["// lmn-fail: ".Length..];
                int sp = rest.IndexOf(' ');
                if (sp < 0 || !int.TryParse(rest.AsSpan(0, sp), out int id)) continue;
                var q = ReadQuoted(rest, sp + 1, out int next);
                var m = next < rest.Length ? ReadQuoted(rest, next + 1, out _) : null;
                if (q != null && m != null) fails.Add(new FailInfo(id, q, new Text.SourceText(q, ""), 0, m));
            }
        }
        if (!any) return null;
        return new CompiledProgram
        {
            Book = book, Symbols = syms, Sites = [], SiteSources = [], Defs = new Dictionary<string, (string, bool)>(),
            Fails = fails.OrderBy(f => f.Id).ToList(), MainRep = main,
        };
    }

    private static string? Unquote(string s) => ReadQuoted(s, 0, out int end) is { } r && end == s.Length ? r : null;

    /// <summary>A string as Printer.Quote writes it, starting at i; `end` is just past its closing quote.</summary>
    private static string? ReadQuoted(string s, int i, out int end)
    {
        end = i;
        var diags = new List<Text.Diagnostic>();
        int close = i + 1;
        while (close < s.Length && !(s[close] == '"' && s[close - 1] != '\\')) close++;
        if (i >= s.Length || s[i] != '"' || close >= s.Length) return null;
        var e = Parser.ParseExpression(new Text.SourceText("tag", s[i..(close + 1)]), diags);
        end = close + 1;
        return e is StrLit lit ? lit.Value : null;
    }

    /// <summary>The site a definition name stands for, if it is one.</summary>
    public (SiteInfo Info, Text.SourceText Src)? SiteOf(string defName)
    {
        if (!defName.StartsWith("ask.", StringComparison.Ordinal) || !int.TryParse(defName.AsSpan(4), out int id) || id >= Sites.Count) return null;
        return (Sites[id], SiteSources[id]);
    }

    /// <summary>Net name of the definition that stands for oracle site `id`.</summary>
    public static string SiteDef(int id) => $"ask.{id}";

    /// <summary>A readable dump: every definition's net, then the symbol table and the site table.</summary>
    public string Dump()
    {
        var sb = new StringBuilder();
        sb.Append("# definitions\n");
        foreach (var def in Book.Defs.OrderBy(d => d.Name == "main" ? "" : d.Name, StringComparer.Ordinal))
        {
            string lmn = Defs.TryGetValue(def.Name, out var info) ? info.Lmn : "";
            sb.Append('@').Append(def.Name);
            if (lmn != "" && lmn != def.Name) sb.Append("   (").Append(lmn).Append(')');
            sb.Append('\n').Append("  = ");
            def.Net.Root.Write(sb, parseableNumbers: true);
            sb.Append('\n');
            foreach (var r in def.Net.Redexes)
            {
                sb.Append("  & ");
                r.A.Write(sb, true);
                sb.Append(" ~ ");
                r.B.Write(sb, true);
                sb.Append('\n');
            }
        }
        sb.Append("\n# data tags (a datum is (#tag payload))\n").Append(Symbols.Dump());
        sb.Append("\n# oracle sites (a question is (#susp (@amb.N (candidates anchors))); forcing it calls @amb.N, which parks @ask.N ~ ((candidates anchors) out) until answered)\n");
        foreach (var s in Sites)
            sb.Append($"  @amb.{s.Id}\t{(s.Open ? "open" : "choice")}\t{s.Location}\t{s.SourceText}\ttype={s.TypeExpected ?? "-"}\tanchors=[{string.Join(", ", s.StaticAnchors)}]\tin={string.Join(" > ", s.EnclosingDefs)}\n");
        return sb.ToString();
    }
}

/// <summary>
/// Compiles core terms to HVM2 nets, Bend's way: a function is `(a0 (a1 ... ret))`, application a CON
/// meeting the function, a name used n times a chain of n-1 DUPs (an unused one an eraser), numbers and
/// operators NUM and OPR (a constant operand folded into the operator), a switch a SWI whose branches
/// take the free variables they need as a chain of arguments; a branch that would start work of its own
/// (a call, a site, an operation on constants) is lifted into its own definition, so it expands only when
/// the switch picks it. The nets are then simplified: a redex with a variable side is a substitution, and
/// two constructor nodes wired to each other's auxiliary ports are one wire (eta).
/// </summary>
public sealed class Compiler
{
    /// <summary>A mutable net tree (compiled, then simplified in place, then frozen to an HVM tree).</summary>
    private sealed class N
    {
        public TreeKind K;
        public string Name = "";
        public uint Numb;
        public N? A, B;

        public static N Var(string n) => new() { K = TreeKind.Var, Name = n };
        public static N Ref(string n) => new() { K = TreeKind.Ref, Name = n };
        public static N Era() => new() { K = TreeKind.Era };
        public static N Num(uint v) => new() { K = TreeKind.Num, Numb = v };
        public static N Node(TreeKind k, N a, N b) => new() { K = k, A = a, B = b };

        public void Become(N t)
        {
            K = t.K;
            Name = t.Name;
            Numb = t.Numb;
            A = t.A;
            B = t.B;
        }
    }

    private sealed class Ctx
    {
        public List<(N A, N B)> Redexes { get; } = [];
    }

    private readonly CoreProgram _prog;
    private readonly List<HvmDef> _defs = [];
    private readonly Dictionary<Binder, Queue<N>> _wires = [];
    private readonly Stack<Dictionary<Binder, int>> _counts = new();
    private int _fresh;
    private string _curDef = "";
    private int _lifted;

    private Compiler(CoreProgram prog) => _prog = prog;

    public static CompiledProgram Compile(CoreProgram prog)
    {
        var c = new Compiler(prog);
        var names = new Dictionary<string, (string, bool)>(StringComparer.Ordinal);
        foreach (var d in prog.Defs)
        {
            c.CompileDef(d);
            // The prelude's instances, the runtime's own definitions and lambdas have no user name (reduction traces skip them).
            names[d.NetName] = (d.IsPrelude || d.LmnName == "λ" ? "" : d.LmnName, d.IsFunction);
        }
        foreach (int id in prog.UsedSites.Order())
            c._defs.Add(new HvmDef(CompiledProgram.SiteDef(id), new HvmNet(Tree.Node(TreeKind.Con, Tree.Era(), Tree.Era()), []), prog.Sites[id].Offset));
        return new CompiledProgram
        {
            Book = new HvmBook(c._defs), Symbols = prog.Symbols, Sites = prog.Sites, Defs = names,
            SiteSources = prog.SiteSources, MainPath = prog.MainPath, Fails = prog.Fails, Closures = prog.Closures, MainRep = prog.MainRep,
        };
    }

    private void CompileDef(CoreDef d)
    {
        _curDef = d.NetName;
        _lifted = 0;
        var ctx = new Ctx();
        var counts = new Dictionary<Binder, int>();
        Count(d.Body, counts);
        _counts.Push(counts);
        var root = EmitRoot(d.Body, ctx);
        _counts.Pop();
        _defs.Add(Finish(d.NetName, root, ctx));
    }

    private string Fresh() => "v" + (_fresh++).ToString(System.Globalization.CultureInfo.InvariantCulture);

    // Use counts and free variables
    // -----------------------------

    private static void Inc(Dictionary<Binder, int> c, Binder b) => c[b] = c.GetValueOrDefault(b) + 1;

    private static int Get(Dictionary<Binder, int> c, Binder? b) => b == null ? 0 : c.GetValueOrDefault(b);

    /// <summary>
    /// Uses of each name in one region (a definition or a switch branch): a switch counts once for each free
    /// variable of its branches. A let's value counts only if its name is used (or it is strict), so its
    /// body is counted first; an explicit stack keeps a chain of a million lets off the call stack.
    /// </summary>
    private void Count(Core root, Dictionary<Binder, int> c)
    {
        // An entry with Let set: the body of that let is counted; count its value if it is needed.
        var work = new Stack<(Core E, Core? Let)>();
        work.Push((root, null));
        while (work.Count > 0)
        {
            var (e, let) = work.Pop();
            if (let != null)
            {
                bool live = let switch
                {
                    CLet l => Get(c, l.X) > 0 || l.Strict,
                    CLetPair lp => Get(c, lp.A) > 0 || Get(c, lp.B) > 0 || lp.Strict,
                    _ => false,
                };
                if (live) work.Push((e, null));
                continue;
            }
            switch (e)
            {
                case CVar v: Inc(c, v.B); break;
                case CRef or CNum or CEra: break;
                case CPair p: work.Push((p.B, null)); work.Push((p.A, null)); break;
                case CLam l: work.Push((l.Body, null)); break;
                case CApp a: work.Push((a.A, null)); work.Push((a.F, null)); break;
                case COp o: work.Push((o.B, null)); work.Push((o.A, null)); break;
                case CLet l: work.Push((l.Value, l)); work.Push((l.Body, null)); break;
                case CLetPair lp: work.Push((lp.Value, lp)); work.Push((lp.Body, null)); break;
                case CSwitch s:
                    foreach (var fv in FreeVars(s)) Inc(c, fv);
                    work.Push((s.Scrut, null));
                    break;
                default: throw new UnreachableException($"core {e.GetType().Name}");
            }
        }
    }

    /// <summary>The free variables of a switch's branches, in binding order (computed once per switch).</summary>
    private static List<Binder> FreeVars(CSwitch s)
    {
        if (s.FreeVars != null) return s.FreeVars;
        var work = new Stack<FvStep>();
        PushSwitch(work, s, []);
        Fv(work);
        return s.FreeVars!;
    }

    /// <summary>
    /// One step of the free-variable walk: visit E adding to Acc, or (Done) finish the binder or switch E
    /// whose parts were collected in Inner (and Inner2: a switch's successor branch).
    /// </summary>
    private readonly record struct FvStep(Core E, HashSet<Binder> Acc, bool Done = false, HashSet<Binder>? Inner = null, HashSet<Binder>? Inner2 = null);

    private static void PushSwitch(Stack<FvStep> work, CSwitch s, HashSet<Binder> acc)
    {
        HashSet<Binder> zero = [], succ = [];
        work.Push(new FvStep(s, acc, true, zero, succ));
        work.Push(new FvStep(s.Succ, succ));
        work.Push(new FvStep(s.Zero, zero));
    }

    /// <summary>The free variables, with an explicit stack: a let's value counts only if its name is free in its body.</summary>
    private static void Fv(Stack<FvStep> work)
    {
        while (work.Count > 0)
        {
            var st = work.Pop();
            var acc = st.Acc;
            if (st.Done)
            {
                var inner = st.Inner!;
                switch (st.E)
                {
                    case CLam l:
                        if (l.X != null) inner.Remove(l.X);
                        break;
                    case CLet l:
                        if (inner.Remove(l.X) || l.Strict) work.Push(new FvStep(l.Value, acc));
                        break;
                    case CLetPair lp:
                    {
                        bool a = lp.A != null && inner.Remove(lp.A);
                        bool b = lp.B != null && inner.Remove(lp.B);
                        if (a || b || lp.Strict) work.Push(new FvStep(lp.Value, acc));
                        break;
                    }
                    case CSwitch s:
                    {
                        var succ = st.Inner2!;
                        if (s.Pred != null) succ.Remove(s.Pred);
                        inner.UnionWith(succ);
                        var list = inner.ToList();
                        list.Sort((x, y) => x.Id.CompareTo(y.Id));
                        s.FreeVars = list;
                        break;
                    }
                }
                acc.UnionWith(inner);
                continue;
            }
            switch (st.E)
            {
                case CVar v: acc.Add(v.B); break;
                case CRef or CNum or CEra: break;
                case CPair p: work.Push(new FvStep(p.B, acc)); work.Push(new FvStep(p.A, acc)); break;
                case CApp a: work.Push(new FvStep(a.A, acc)); work.Push(new FvStep(a.F, acc)); break;
                case COp o: work.Push(new FvStep(o.B, acc)); work.Push(new FvStep(o.A, acc)); break;
                case CLam l:
                {
                    HashSet<Binder> inner = [];
                    work.Push(new FvStep(l, acc, true, inner));
                    work.Push(new FvStep(l.Body, inner));
                    break;
                }
                case CLet l:
                {
                    HashSet<Binder> inner = [];
                    work.Push(new FvStep(l, acc, true, inner));
                    work.Push(new FvStep(l.Body, inner));
                    break;
                }
                case CLetPair lp:
                {
                    HashSet<Binder> inner = [];
                    work.Push(new FvStep(lp, acc, true, inner));
                    work.Push(new FvStep(lp.Body, inner));
                    break;
                }
                case CSwitch s:
                    work.Push(new FvStep(s.Scrut, acc));
                    if (s.FreeVars != null) acc.UnionWith(s.FreeVars);
                    else PushSwitch(work, s, acc);
                    break;
                default: throw new UnreachableException($"core {st.E.GetType().Name}");
            }
        }
    }

    // Emission
    // --------

    /// <summary>The port that binds a name: an eraser if unused, a wire if used once, a DUP chain otherwise.</summary>
    private N Bind(Binder? b)
    {
        int n = b == null ? 0 : _counts.Peek().GetValueOrDefault(b);
        if (n == 0) return N.Era();
        var q = new Queue<N>();
        _wires[b!] = q;
        if (n == 1)
        {
            string v = Fresh();
            q.Enqueue(N.Var(v));
            return N.Var(v);
        }
        var names = new string[n];
        for (int i = 0; i < n; i++)
        {
            names[i] = Fresh();
            q.Enqueue(N.Var(names[i]));
        }
        N t = N.Var(names[n - 1]);
        for (int i = n - 2; i >= 0; i--) t = N.Node(TreeKind.Dup, N.Var(names[i]), t);
        return t;
    }

    private N Use(Binder b)
    {
        if (!_wires.TryGetValue(b, out var q) || q.Count == 0)
            throw new UnreachableException($"no wire left for {b} in {_curDef}");
        return q.Dequeue();
    }

    /// <summary>A definition's parameters: the chain of lambdas its body starts with.</summary>
    private N EmitRoot(Core e, Ctx ctx)
    {
        if (e is not CLam l) return Emit(e, ctx);
        var x = Bind(l.X);
        return N.Node(TreeKind.Con, x, EmitRoot(l.Body, ctx));
    }

    /// <summary>Interactions an eraser spends on a tree: one per node and one per eraser, number or reference in it.</summary>
    private static int EraseCost(N n)
    {
        int k = 0;
        Walk(n, t => k += t.K == TreeKind.Var ? 0 : 1);
        return k;
    }

    private enum Step { PairFirst, PairSecond, LetBody, LetValue, Switch }

    /// <summary>
    /// What Emit has left to do at a node it went into: after a pair's first half, its second (Next);
    /// after both, the node (A); after a let's body, its value (Value, to link to Bind); after that, the
    /// body's tree again (A); after a switch's zero branch, the switch (Switch).
    /// </summary>
    private readonly record struct EmitFrame(Step Step, Ctx Ctx, Core? Next = null, N? A = null, N? Bind = null, SwitchState? Switch = null);

    /// <summary>
    /// The tree of e, its redexes added to ctx. Pairs, lets and a switch's zero branch (an else-if ladder)
    /// are walked with an explicit stack, not by recursion, so a list a million elements long or a question
    /// nested a million levels deep compiles like a short one; the steps are taken in the order the
    /// recursion took them (fresh names and wires in the same order, so the net is the same).
    /// </summary>
    private N Emit(Core e, Ctx ctx)
    {
        NestingTooDeep.Check(-1, $"while emitting the net of {_curDef}");
        List<EmitFrame>? frames = null;
        while (true)
        {
            // Down: follow e to a leaf, leaving what each node still needs on the stack.
            N r;
            while (true)
            {
                switch (e)
                {
                    case CPair p:
                        (frames ??= []).Add(new EmitFrame(Step.PairFirst, ctx, Next: p.B));
                        e = p.A;
                        continue;
                    case CLet l:
                    {
                        int n = _counts.Peek().GetValueOrDefault(l.X);
                        if (n == 0)
                        {
                            // Computed for its questions and errors, then dropped.
                            if (l.Strict) ctx.Redexes.Add((Emit(l.Value, ctx), N.Era()));
                            e = l.Body;
                            continue;
                        }
                        if (l.Value is CNum or CEra or CRef)
                        {
                            // A constant is copied at each use instead of duplicated at run time.
                            var q = new Queue<N>();
                            for (int i = 0; i < n; i++) q.Enqueue(Emit(l.Value, ctx));
                            _wires[l.X] = q;
                            e = l.Body;
                            continue;
                        }
                        (frames ??= []).Add(new EmitFrame(Step.LetBody, ctx, Next: l.Value, Bind: Bind(l.X)));
                        e = l.Body;
                        continue;
                    }
                    case CLetPair lp:
                    {
                        var c = _counts.Peek();
                        if (Get(c, lp.A) == 0 && Get(c, lp.B) == 0)
                        {
                            if (lp.Strict) ctx.Redexes.Add((Emit(lp.Value, ctx), N.Era()));
                            e = lp.Body;
                            continue;
                        }
                        var pa = Bind(lp.A);
                        var pb = Bind(lp.B);
                        (frames ??= []).Add(new EmitFrame(Step.LetBody, ctx, Next: lp.Value, Bind: N.Node(TreeKind.Con, pa, pb)));
                        e = lp.Body;
                        continue;
                    }
                    case CSwitch s:
                    {
                        var st = SwitchStart(s, ctx);
                        (frames ??= []).Add(new EmitFrame(Step.Switch, ctx, Switch: st));
                        e = s.Zero;
                        ctx = st.Zero.Sub;
                        continue;
                    }
                }
                r = EmitLeaf(e, ctx);
                break;
            }
            // Up: finish nodes until one needs another part emitted.
            bool down = false;
            while (!down && frames is { Count: > 0 })
            {
                var f = frames[^1];
                frames.RemoveAt(frames.Count - 1);
                switch (f.Step)
                {
                    case Step.PairFirst:
                        frames.Add(new EmitFrame(Step.PairSecond, f.Ctx, A: r));
                        (e, ctx, down) = (f.Next!, f.Ctx, true);
                        break;
                    case Step.PairSecond:
                        r = N.Node(TreeKind.Con, f.A!, r);
                        break;
                    case Step.LetBody:
                        frames.Add(new EmitFrame(Step.LetValue, f.Ctx, A: r, Bind: f.Bind));
                        (e, ctx, down) = (f.Next!, f.Ctx, true);
                        break;
                    case Step.LetValue:
                        f.Ctx.Redexes.Add((r, f.Bind!));
                        r = f.A!;
                        break;
                    case Step.Switch:
                        r = SwitchFinish(f.Switch!, r, f.Ctx);
                        break;
                }
            }
            if (!down) return r;
        }
    }

    private N EmitLeaf(Core e, Ctx ctx)
    {
        switch (e)
        {
            case CVar v: return Use(v.B);
            case CRef r: return N.Ref(r.Def);
            case CNum n: return N.Num(n.Numb);
            case CEra: return N.Era();
            // Closure conversion leaves lambdas only as a definition's parameters (EmitRoot).
            case CLam: throw new UnreachableException($"a lambda inside the body of {_curDef}");
            case CApp a:
            {
                var f = Emit(a.F, ctx);
                var arg = Emit(a.A, ctx);
                string r = Fresh();
                ctx.Redexes.Add((f, N.Node(TreeKind.Con, arg, N.Var(r))));
                return N.Var(r);
            }
            case COp o: return EmitOp(o, ctx);
            default: throw new UnreachableException($"core {e.GetType().Name}");
        }
    }

    /// <summary>The operator with its operands swapped: `x op k` is `k flip(op) x`.</summary>
    private static uint Flip(uint op) => op switch
    {
        Numb.OP_SUB => Numb.FP_SUB,
        Numb.OP_DIV => Numb.FP_DIV,
        Numb.OP_REM => Numb.FP_REM,
        Numb.OP_SHL => Numb.FP_SHL,
        Numb.OP_SHR => Numb.FP_SHR,
        Numb.OP_LT => Numb.OP_GT,
        Numb.OP_GT => Numb.OP_LT,
        _ => op,
    };

    private N EmitOp(COp o, Ctx ctx)
    {
        string r = Fresh();
        if (o.A is CNum ka && o.B is CNum kb)
        {
            try
            {
                return N.Num(Numb.Operate(Numb.Partial(Numb.NewSym(o.Op), ka.Numb), kb.Numb));
            }
            catch (NumericFault)
            {
                // Division by zero: leave it to run time, where it is reported.
            }
        }
        if (o.B is CNum k)
        {
            // x op k: x meets $([flip(op) k] r).
            var x = Emit(o.A, ctx);
            ctx.Redexes.Add((x, N.Node(TreeKind.Opr, N.Num(Numb.Partial(Numb.NewSym(Flip(o.Op)), k.Numb)), N.Var(r))));
        }
        else if (o.A is CNum k2)
        {
            // k op y: y meets $([op k] r).
            var y = Emit(o.B, ctx);
            ctx.Redexes.Add((y, N.Node(TreeKind.Opr, N.Num(Numb.Partial(Numb.NewSym(o.Op), k2.Numb)), N.Var(r))));
        }
        else
        {
            // x op y: x meets $([op] $(y r)).
            var x = Emit(o.A, ctx);
            var y = Emit(o.B, ctx);
            ctx.Redexes.Add((x, N.Node(TreeKind.Opr, N.Num(Numb.NewSym(o.Op)), N.Node(TreeKind.Opr, y, N.Var(r)))));
        }
        return N.Var(r);
    }

    //  scrut ~ ?((Z S) (fv1 (fv2 ... r)))
    //  Z = (fv1 (fv2 ... zero)),  S = (pred (fv1 (fv2 ... succ)))   (inline, or lifted to a definition)

    /// <summary>A switch between its start and its zero branch's end (Emit follows the zero branch in its loop).</summary>
    private sealed record SwitchState(CSwitch S, List<Binder> Fvs, N Scrut, string R, N Rest, bool Dummy, BranchState Zero);

    /// <summary>A branch being emitted: the wires it shadows, its own region's context, its parameters.</summary>
    private sealed record BranchState(List<(Binder, Queue<N>?)> Saved, Ctx Sub, N? Pred, List<N> Params, bool Dummy);

    private SwitchState SwitchStart(CSwitch s, Ctx ctx)
    {
        var fvs = FreeVars(s);
        var scrut = Emit(s.Scrut, ctx);
        string r = Fresh();
        N rest = N.Var(r);
        // With no free variables the chain gets an erased one: a branch lifted into a definition must
        // meet a node to be expanded (a reference linked to a bare wire would stay a reference).
        bool dummy = fvs.Count == 0;
        if (dummy) rest = N.Node(TreeKind.Con, N.Era(), rest);
        for (int i = fvs.Count - 1; i >= 0; i--) rest = N.Node(TreeKind.Con, null!, rest);
        {
            // Fill the argument chain in order (Use consumes wires in emission order).
            var cur = rest;
            foreach (var fv in fvs)
            {
                cur.A = Use(fv);
                cur = cur.B!;
            }
        }
        return new SwitchState(s, fvs, scrut, r, rest, dummy, BranchStart(fvs, null, false, s.Zero, dummy));
    }

    private N SwitchFinish(SwitchState st, N zeroTree, Ctx ctx)
    {
        var zero = BranchFinish(st.Zero, zeroTree);
        var succ = Branch(st.Fvs, st.S.Pred, true, st.S.Succ, st.Dummy);
        ctx.Redexes.Add((st.Scrut, N.Node(TreeKind.Swi, N.Node(TreeKind.Con, zero, succ), st.Rest)));
        return N.Var(st.R);
    }

    private N Branch(List<Binder> fvs, Binder? pred, bool hasPred, Core body, bool dummy)
    {
        var st = BranchStart(fvs, pred, hasPred, body, dummy);
        return BranchFinish(st, Emit(body, st.Sub));
    }

    private BranchState BranchStart(List<Binder> fvs, Binder? pred, bool hasPred, Core body, bool dummy)
    {
        var saved = new List<(Binder, Queue<N>?)>();
        foreach (var fv in fvs) saved.Add((fv, _wires.GetValueOrDefault(fv)));
        if (pred != null) saved.Add((pred, _wires.GetValueOrDefault(pred)));

        var counts = new Dictionary<Binder, int>();
        Count(body, counts);
        _counts.Push(counts);
        var sub = new Ctx();
        N? p = hasPred ? Bind(pred) : null;
        var ps = fvs.Select(Bind).ToList();
        return new BranchState(saved, sub, p, ps, dummy);
    }

    private N BranchFinish(BranchState st, N tree)
    {
        _counts.Pop();
        if (st.Dummy) tree = N.Node(TreeKind.Con, N.Era(), tree);
        for (int i = st.Params.Count - 1; i >= 0; i--) tree = N.Node(TreeKind.Con, st.Params[i], tree);
        if (st.Pred != null) tree = N.Node(TreeKind.Con, st.Pred, tree);

        foreach (var (b, q) in st.Saved)
        {
            if (q == null) _wires.Remove(b);
            else _wires[b] = q;
        }
        var sub = st.Sub;
        // A branch that only erases its inputs and gives an error is lifted too: when the switch takes
        // the other branch, erasing a reference is one interaction, erasing the tree one per node.
        // A branch without work stays inline unless erasing it (when the switch takes the other branch)
        // costs 3 or more interactions: then a reference is cheaper to erase (one), at one CALL when taken.
        if (sub.Redexes.Count == 0 && EraseCost(tree) < 3) return tree;
        string name = $"{_curDef}.{_lifted++}";
        string save = _curDef;
        _defs.Add(Finish(name, tree, sub));
        _curDef = save;
        return N.Ref(name);
    }

    // Simplification
    // --------------

    private static void Walk(N n, Action<N> f)
    {
        var stack = new Stack<N>();
        stack.Push(n);
        while (stack.Count > 0)
        {
            var t = stack.Pop();
            f(t);
            if (t.A != null) stack.Push(t.A);
            if (t.B != null) stack.Push(t.B);
        }
    }

    private HvmDef Finish(string name, N root, Ctx ctx)
    {
        var redexes = ctx.Redexes;
        var occ = Occurrences(root, redexes);
        Substitute(redexes, occ);
        while (Eta(root, redexes, occ)) Substitute(redexes, occ);
        var frozen = new List<Redex>(redexes.Count);
        foreach (var (a, b) in redexes) frozen.Add(new Redex(false, Freeze(a), Freeze(b), 0));
        return new HvmDef(name, new HvmNet(Freeze(root), frozen), 0);
    }

    private static Dictionary<string, List<N>> Occurrences(N root, List<(N A, N B)> redexes)
    {
        var occ = new Dictionary<string, List<N>>(StringComparer.Ordinal);
        var stack = new Stack<N>();
        void Scan(N n)
        {
            stack.Push(n);
            while (stack.Count > 0)
            {
                var t = stack.Pop();
                if (t.K == TreeKind.Var)
                {
                    if (!occ.TryGetValue(t.Name, out var l)) occ[t.Name] = l = new List<N>(2);
                    l.Add(t);
                }
                else if (t.A != null)
                {
                    stack.Push(t.A);
                    stack.Push(t.B!);
                }
            }
        }
        Scan(root);
        foreach (var (a, b) in redexes)
        {
            Scan(a);
            Scan(b);
        }
        return occ;
    }

    /// <summary>A redex `x ~ t` is a substitution: the other end of x becomes t.</summary>
    private static bool Substitute(List<(N A, N B)> redexes, Dictionary<string, List<N>> occ)
    {
        bool any = false;
        bool changed = true;
        while (changed)
        {
            changed = false;
            int keep = 0;
            for (int i = 0; i < redexes.Count; i++)
            {
                var (a, b) = redexes[i];
                N? x = null, t = null;
                if (a.K == TreeKind.Var) (x, t) = (a, b);
                else if (b.K == TreeKind.Var) (x, t) = (b, a);
                N? other = null;
                if (x != null && occ.TryGetValue(x.Name, out var list) && list.Count == 2)
                    other = ReferenceEquals(list[0], x) ? list[1] : list[0];
                if (x == null || other == null || ReferenceEquals(other, t))
                {
                    redexes[keep++] = redexes[i];
                    continue;
                }
                occ.Remove(x.Name);
                if (t!.K == TreeKind.Var)
                {
                    var tl = occ[t.Name];
                    tl[ReferenceEquals(tl[0], t) ? 0 : 1] = other;
                }
                other.Become(t);
                changed = any = true;
            }
            redexes.RemoveRange(keep, redexes.Count - keep);
        }
        return any;
    }

    /// <summary>Two CON nodes whose auxiliary ports are wired to each other, in order, are one wire.</summary>
    private bool Eta(N root, List<(N A, N B)> redexes, Dictionary<string, List<N>> occ)
    {
        Dictionary<(string, string), List<N>>? groups = null;
        var stack = new Stack<N>();
        void Scan(N n)
        {
            stack.Push(n);
            while (stack.Count > 0)
            {
                var t = stack.Pop();
                if (t.A == null) continue;
                if (t.K == TreeKind.Con && t.A.K == TreeKind.Var && t.B!.K == TreeKind.Var && t.A.Name != t.B.Name)
                {
                    groups ??= [];
                    var key = (t.A.Name, t.B.Name);
                    if (!groups.TryGetValue(key, out var l)) groups[key] = l = [];
                    l.Add(t);
                    continue;
                }
                stack.Push(t.A);
                stack.Push(t.B!);
            }
        }
        Scan(root);
        foreach (var (a, b) in redexes)
        {
            Scan(a);
            Scan(b);
        }
        if (groups == null) return false;
        bool any = false;
        foreach (var (_, l) in groups)
        {
            if (l.Count != 2) continue;
            var (p, q) = (l[0], l[1]);
            if (occ[p.A!.Name].Count != 2 || occ[p.B!.Name].Count != 2) continue;
            if (redexes.Any(r => (ReferenceEquals(r.A, p) && ReferenceEquals(r.B, q)) || (ReferenceEquals(r.A, q) && ReferenceEquals(r.B, p)))) continue;
            occ.Remove(p.A.Name);
            occ.Remove(p.B.Name);
            string v = Fresh();
            p.Become(N.Var(v));
            q.Become(N.Var(v));
            occ[v] = [p, q];
            any = true;
        }
        return any;
    }

    /// <summary>The HVM tree of n (an explicit stack: a long list is a deep tree).</summary>
    private static Tree Freeze(N root)
    {
        var work = new Stack<(N N, bool Built)>();
        var done = new Stack<Tree>();
        work.Push((root, false));
        while (work.Count > 0)
        {
            var (n, built) = work.Pop();
            switch (n.K)
            {
                case TreeKind.Var: done.Push(Tree.Var(n.Name)); break;
                case TreeKind.Ref: done.Push(Tree.Ref(n.Name)); break;
                case TreeKind.Era: done.Push(Tree.Era()); break;
                case TreeKind.Num: done.Push(Tree.Num(n.Numb)); break;
                default:
                    if (built)
                    {
                        var b = done.Pop();
                        var a = done.Pop();
                        done.Push(Tree.Node(n.K, a, b));
                    }
                    else
                    {
                        work.Push((n, true));
                        work.Push((n.B!, false));
                        work.Push((n.A!, false));
                    }
                    break;
            }
        }
        return done.Pop();
    }
}
