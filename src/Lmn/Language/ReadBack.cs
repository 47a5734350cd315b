using System.Runtime.CompilerServices;
using System.Globalization;
using System.Text;
using Lmn.Net;

namespace Lmn.Language;

/// <summary>A value read back from a net, ready to print in LMN syntax.</summary>
public abstract record Term;
public sealed record TNum(uint Numb) : Term;
public sealed record TWord(string Name) : Term;
public sealed record TStr(string Value) : Term;
public sealed record TCompound(string Head, IReadOnlyList<Term> Fields) : Term;
public sealed record TList(IReadOnlyList<Term> Items, Term? Tail) : Term;
public sealed record TAnchored(Term Value, string Anchor) : Term;
public sealed record TLam(string Param, Term Body) : Term;
public sealed record TApp(Term Fn, Term Arg) : Term;
public sealed record TOp(string Op, Term Left, Term Right) : Term;
/// <summary>A name: a lambda's parameter, a function definition, or a wire the read-back cannot name.</summary>
public sealed record TName(string Name) : Term;
/// <summary>A wire to be resolved once every lambda of the value has named its parameter.</summary>
public sealed record TWire(uint Var) : Term;

/// <summary>
/// Reads an LMN value out of a reduced net (docs/language.md, "Encoding in nets"): a bare NUM where the
/// value is known to be a number, otherwise a uniform datum `(#tag payload)` whose tag's shape says how
/// to read the payload (a boxed number, an atom, a compound's fields, an anchored value, a closure).
/// A closure prints as its lambda's source with the captured values in place. A runtime error's poison
/// reference met on the way is kept in <see cref="FirstError"/> (the first in reading order).
/// </summary>
public sealed class ReadBack
{
    private readonly INetRunner _net;
    private readonly CompiledProgram _prog;

    public ReadBack(INetRunner net, CompiledProgram prog)
    {
        _net = net;
        _prog = prog;
    }

    /// <summary>The first runtime error met while reading (its poison reference), in reading order.</summary>
    public FailInfo? FirstError { get; private set; }

    /// <summary>Reads a uniform value (data, a boxed number, a closure).</summary>
    public Term Read(uint port) => ReadU(port);

    /// <summary>Reads the value at the root, whose representation the program knows.</summary>
    public Term ReadRoot() => _prog.MainRep == Rep.Num ? ReadNum(_net.RootPort) : ReadU(_net.RootPort);

    /// <summary>The poison reference at a port, if it is one.</summary>
    public FailInfo? FailAt(uint port)
    {
        uint p = _net.Peek(port);
        if (Port.TagOf(p) != Tag.REF) return null;
        return _prog.FailOf(_net.Book.Defs[(int)((p >> 3) & 0x0FFF_FFFF)].Name);
    }

    private Stack<uint>? _ports;   // FirstFailIn's, kept between calls (it calls nothing that reads back)

    /// <summary>The first poison reference inside a closed value, in reading order.</summary>
    public FailInfo? FirstFailIn(uint port)
    {
        var stack = _ports ??= new Stack<uint>();
        stack.Clear();
        stack.Push(port);
        while (stack.Count > 0)
        {
            uint p = _net.Peek(stack.Pop());
            switch (Port.TagOf(p))
            {
                case Tag.REF:
                    if (FailAt(p) is { } f) return f;
                    break;
                case Tag.CON:
                {
                    var (a, b) = Node(p);
                    stack.Push(b);
                    stack.Push(a);
                    break;
                }
            }
        }
        return null;
    }

    private (uint Fst, uint Snd) Node(uint p)
    {
        ulong n = _net.NodeAt(p >> 3);
        return ((uint)n, (uint)(n >> 32));
    }

    private (uint, uint) Pair(uint port)
    {
        uint p = _net.Peek(port);
        if (Port.TagOf(p) != Tag.CON) return (Tag.ERA, Tag.ERA);
        return Node(p);
    }

    private Term Error(uint p)
    {
        var f = FailAt(p);
        if (f != null) FirstError ??= f;
        return new TName(f != null ? "error" : "_");
    }

    private Term ReadNum(uint port)
    {
        uint p = _net.Peek(port);
        return Port.TagOf(p) switch
        {
            Tag.NUM => new TNum(p >> 3),
            Tag.REF => Error(p),
            Tag.CON => ReadU(port),
            _ => new TName("_"),
        };
    }

    /// <summary>
    /// A port decoded one level: a finished term, or the ports of its parts and how to build it from them.
    /// </summary>
    private readonly record struct Step(Term? Leaf, List<uint>? Kids, Func<List<Term>, Term>? Build);

    // Iterative (an explicit stack of frames): results can nest millions deep.
    private Term ReadU(uint port)
    {
        var first = Decode(port);
        if (first.Leaf != null) return first.Leaf;
        // The frame stack is kept for this reader's next value (a supervisor reads several per run); a
        // read inside a read (Decode reads a closure's or a number's parts through ReadU) makes its own,
        // since the outer one's is taken out while it is in use.
        var frames = _frames ?? new Stack<(Step S, List<Term> Done)>();
        _frames = null;
        try
        {
            return ReadFrames(frames, first);
        }
        finally
        {
            frames.Clear();
            _frames = frames;
        }
    }

    private Stack<(Step S, List<Term> Done)>? _frames;

    private Term ReadFrames(Stack<(Step S, List<Term> Done)> frames, Step first)
    {
        Term? ret = null;
        frames.Push((first, new List<Term>(first.Kids!.Count)));
        while (frames.Count > 0)
        {
            var (st, done) = frames.Peek();
            if (ret != null)
            {
                done.Add(ret);
                ret = null;
            }
            if (done.Count < st.Kids!.Count)
            {
                var d = Decode(st.Kids[done.Count]);
                if (d.Leaf != null) ret = d.Leaf;
                else frames.Push((d, new List<Term>(d.Kids!.Count)));
                continue;
            }
            frames.Pop();
            ret = st.Build!(done);
        }
        return ret!;
    }

    private static Step Leaf(Term t) => new(t, null, null);

    private Step Decode(uint port)
    {
        uint p = _net.Peek(port);
        switch (Port.TagOf(p))
        {
            case Tag.NUM: return Leaf(new TNum(p >> 3));
            case Tag.REF: return Leaf(Error(p));
            case Tag.CON: break;
            default: return Leaf(new TName("_"));
        }
        var (tp, pay) = Node(p);
        uint t = _net.Peek(tp);
        if (Port.TagOf(t) != Tag.NUM) return Leaf(new TName("_"));
        int tag = (int)Numb.GetU24(t >> 3);
        int shape = tag & SymbolTable.ShapeMask;
        switch (shape)
        {
            case SymbolTable.ShapeBox: return Leaf(ReadNum(pay));
            case SymbolTable.ShapeSusp:
            {
                var (refp, _) = Pair(pay);
                uint r = _net.Peek(refp);
                string name = Port.TagOf(r) == Tag.REF ? _net.Book.Defs[(int)((r >> 3) & 0x0FFF_FFFF)].Name : "";
                int id = name.StartsWith("amb.", StringComparison.Ordinal) && int.TryParse(name.AsSpan(4), out int k) ? k : -1;
                return Leaf(new TName(id >= 0 && id < _prog.Sites.Count ? _prog.Sites[id].SourceText : "∿?"));
            }
            case SymbolTable.ShapeClosure: return Leaf(ReadClosure(tag, pay));
        }
        if (!_prog.Symbols.TryGet(tag, out var sym)) return Leaf(new TName("_"));
        switch (sym.Kind)
        {
            case SymKind.Word: return Leaf(new TWord(sym.Name));
            case SymKind.String: return Leaf(new TStr(sym.Name));
            case SymKind.Nil: return Leaf(new TList([], null));
            case SymKind.Compound:
            {
                string head = sym.Name;
                return new Step(null, FieldPorts(pay, sym.Arity), fs => new TCompound(head, fs));
            }
            case SymKind.Anchored:
            {
                string anchor = sym.Name;
                return new Step(null, [pay], v => new TAnchored(v[0], anchor));
            }
            case SymKind.Cons:
            {
                // The spine is walked in a loop (lists can be long); the items and a tail that is not
                // [] are the parts.
                var kids = new List<uint>();
                uint cell = pay;
                while (true)
                {
                    var (h, tl) = Pair(cell);
                    kids.Add(h);
                    uint tp2 = _net.Peek(tl);
                    if (Port.TagOf(tp2) == Tag.CON)
                    {
                        var (tf, ts) = Node(tp2);
                        uint tt = _net.Peek(tf);
                        if (Port.TagOf(tt) == Tag.NUM)
                        {
                            int k = (int)Numb.GetU24(tt >> 3);
                            if (k == SymbolTable.Cons) { cell = ts; continue; }
                            if (k == SymbolTable.Nil) return new Step(null, kids, items => new TList(items, null));
                        }
                    }
                    kids.Add(tl);
                    return new Step(null, kids, parts => new TList(parts.GetRange(0, parts.Count - 1), parts[^1]));
                }
            }
            default: return Leaf(new TName("_"));
        }
    }

    private List<uint> FieldPorts(uint payload, int arity)
    {
        var fs = new List<uint>(arity);
        if (arity == 0) return fs;
        uint cur = payload;
        for (int i = 0; i < arity - 1; i++)
        {
            var (a, b) = Pair(cur);
            fs.Add(a);
            cur = b;
        }
        fs.Add(cur);
        return fs;
    }

    private Term ReadClosure(int tag, uint pay)
    {
        if (!_prog.Closures.TryGetValue(tag, out var c)) return new TName("λ?");
        var fn = c.Fn;
        int nCap = c.CaptureReps.Length;
        var ports = FieldPorts(pay, nCap + c.Supplied);
        var captured = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < nCap; i++)
        {
            var v = c.CaptureReps[i] == Rep.Num ? ReadNum(ports[i]) : ReadU(ports[i]);
            captured[fn.Captures[i].Name] = Printer.Print(v);
        }
        var supplied = ports.Skip(nCap).Select(p => Printer.Print(ReadU(p))).ToList();
        string head = fn.IsLambda && fn.Ast != null ? ExprPrinter.Print(fn.Ast, captured) : fn.LmnName;
        if (supplied.Count == 0) return new TName(head);
        if (fn.IsLambda) head = "(" + head + ")";
        return new TName(head + "(" + string.Join(", ", supplied) + ")");
    }
}

/// <summary>
/// Prints surface syntax back as LMN text (a closure prints as its lambda's source): with the given
/// free variables replaced by the printed values they were captured with.
/// </summary>
public static class ExprPrinter
{
    public static string Print(Expr e, IReadOnlyDictionary<string, string>? subst = null)
    {
        var sb = new StringBuilder();
        Write(sb, e, subst ?? new Dictionary<string, string>(), new HashSet<string>(StringComparer.Ordinal), 0);
        return sb.ToString();
    }

    private static int Level(Tok op) => op switch
    {
        Tok.OrOr => 2, Tok.AndAnd => 3, Tok.EqEq or Tok.NotEq or Tok.Lt or Tok.Gt or Tok.Le or Tok.Ge => 4, Tok.Pipe => 5,
        Tok.Caret => 6, Tok.Amp => 7, Tok.Shl or Tok.Shr => 8, Tok.Plus or Tok.Minus => 9, _ => 10,
    };

    private static string OpText(Tok op) => op switch
    {
        Tok.OrOr => "||", Tok.AndAnd => "&&", Tok.EqEq => "==", Tok.NotEq => "!=", Tok.Lt => "<", Tok.Gt => ">", Tok.Le => "<=",
        Tok.Ge => ">=", Tok.Pipe => "|", Tok.Caret => "^", Tok.Amp => "&", Tok.Shl => "<<", Tok.Shr => ">>", Tok.Plus => "+",
        Tok.Minus => "-", Tok.Star => "*", Tok.Slash => "/", Tok.Percent => "%", Tok.Bang => "!", _ => "?",
    };

    private static HashSet<string> With(HashSet<string> bound, IEnumerable<string> names)
    {
        var r = new HashSet<string>(bound, StringComparer.Ordinal);
        foreach (var n in names) r.Add(n);
        return r;
    }

    private static IEnumerable<string> Names(Pattern p) => p switch
    {
        PName n => [n.Id],
        PSucc s => Names(s.Pred),
        PCompound c => c.Fields.SelectMany(Names),
        PList l => l.Items.SelectMany(Names).Concat(l.Tail == null ? [] : Names(l.Tail)),
        _ => [],
    };

    private static void List(StringBuilder sb, IReadOnlyList<Expr> items, Expr? tail, IReadOnlyDictionary<string, string> s, HashSet<string> b)
    {
        for (int i = 0; i < items.Count; i++)
        {
            if (i > 0) sb.Append(", ");
            Write(sb, items[i], s, b, 0);
        }
        if (tail != null)
        {
            if (items.Count > 0) sb.Append(", ");
            sb.Append("...");
            Write(sb, tail, s, b, 0);
        }
    }

    private static void Write(StringBuilder sb, Expr e, IReadOnlyDictionary<string, string> s, HashSet<string> b, int ctx)
    {
        switch (e)
        {
            case NumLit n:
            {
                string t = Numb.Show(n.Numb);
                if (ctx >= 12 && t.Length > 0 && t[0] is '+' or '-') sb.Append('(').Append(t).Append(')');
                else sb.Append(t);
                break;
            }
            case StrLit st: sb.Append(Printer.Quote(st.Value)); break;
            case QuotedWord q: sb.Append('\'').Append(q.Id); break;
            case Name n:
                if (!b.Contains(n.Id) && s.TryGetValue(n.Id, out var v)) Paren(sb, v, ctx >= 12 && NeedsParens(v));
                else sb.Append(n.Id);
                break;
            case AnchorRef a:
                if (!b.Contains("@" + a.Anchor) && s.TryGetValue("@" + a.Anchor, out var av)) Paren(sb, av, ctx >= 12 && NeedsParens(av));
                else sb.Append('@').Append(a.Anchor);
                break;
            case Anchored an:
                Write(sb, an.Body, s, b, 14);
                sb.Append('@').Append(an.Anchor);
                break;
            case CompoundLit c:
                sb.Append(c.Head).Append('[');
                List(sb, c.Fields, null, s, b);
                sb.Append(']');
                break;
            case ListLit l:
                sb.Append('[');
                List(sb, l.Items, l.Tail, s, b);
                sb.Append(']');
                break;
            case Lambda lam:
                if (ctx > 0) sb.Append('(');
                sb.Append('λ').Append(string.Join(" ", lam.Params.Select(p => p.Id))).Append(". ");
                Write(sb, lam.Body, s, With(b, lam.Params.Select(p => p.Id)), 0);
                if (ctx > 0) sb.Append(')');
                break;
            case Apply { Kind: ApplyKind.Juxt } jx:
                if (ctx > 12) sb.Append('(');
                // `@m x` would anchor x: an anchor's value at the head of a phrase is parenthesised.
                bool anchorHead = jx.Fn is AnchorRef ar && (b.Contains("@" + ar.Anchor) || !s.ContainsKey("@" + ar.Anchor));
                if (anchorHead) sb.Append('(');
                Write(sb, jx.Fn, s, b, 12);
                if (anchorHead) sb.Append(')');
                sb.Append(' ');
                Write(sb, jx.Arg, s, b, 13);
                if (ctx > 12) sb.Append(')');
                break;
            case Apply { Kind: ApplyKind.Flow } fl:
                if (ctx > 1) sb.Append('(');
                Write(sb, fl.Arg, s, b, 1);
                sb.Append(" → ");
                Write(sb, fl.Fn, s, b, 2);
                if (ctx > 1) sb.Append(')');
                break;
            case Collapse co:
                if (ctx > 1) sb.Append('(');
                Write(sb, co.Sup, s, b, 2);
                sb.Append(" @ ");
                Write(sb, co.Ctx, s, b, 2);
                if (ctx > 1) sb.Append(')');
                break;
            case Wave w:
                sb.Append("∿ ").Append(w.Tense).Append(" [");
                Write(sb, w.Label ?? w.Body, s, b, 0);
                sb.Append(']');
                if (w.Label != null)
                {
                    sb.Append(" { ");
                    Write(sb, w.Body, s, With(b, ["@" + w.Tense]), 0);
                    sb.Append(" }");
                }
                break;
            case LetFn lf:
                sb.Append("{ fn ").Append(lf.Name).Append('(').Append(string.Join(", ", lf.Params.Select(p => p.Id))).Append(") = ");
                Write(sb, lf.Body, s, With(b, lf.Params.Select(p => p.Id).Append(lf.Name)), 0);
                sb.Append("; ");
                Write(sb, lf.Rest, s, With(b, [lf.Name]), 0);
                sb.Append(" }");
                break;
            case Lines ls:
                for (int i = 0; i < ls.Items.Count; i++)
                {
                    if (i > 0) sb.Append('\n');
                    Write(sb, ls.Items[i], s, b, 0);
                }
                break;
            case Apply ap:
            {
                var args = new List<Expr>();
                Expr f = ap;
                while (f is Apply { Kind: ApplyKind.Call } a2) { args.Add(a2.Arg); f = a2.Fn; }
                args.Reverse();
                Write(sb, f, s, b, 13);
                sb.Append('(');
                List(sb, args, null, s, b);
                sb.Append(')');
                break;
            }
            case LetIn li:
                if (ctx > 0) sb.Append('(');
                sb.Append("let ").Append(Pat(li.Pattern)).Append(" = ");
                Write(sb, li.Value, s, b, 0);
                sb.Append("; ");
                Write(sb, li.Body, s, With(b, Names(li.Pattern)), 0);
                if (ctx > 0) sb.Append(')');
                break;
            case LetAnchor la:
                if (ctx > 0) sb.Append('(');
                sb.Append("let @").Append(la.Anchor).Append(" = ");
                Write(sb, la.Value, s, b, 0);
                sb.Append("; ");
                Write(sb, la.Body, s, With(b, ["@" + la.Anchor]), 0);
                if (ctx > 0) sb.Append(')');
                break;
            case IfThen it:
                if (ctx > 0) sb.Append('(');
                sb.Append("if ");
                Write(sb, it.Cond, s, b, 0);
                sb.Append(" then ");
                Write(sb, it.Then, s, b, 0);
                sb.Append(" else ");
                Write(sb, it.Else, s, b, 0);
                if (ctx > 0) sb.Append(')');
                break;
            case MatchExpr m:
                sb.Append("match ");
                Write(sb, m.Scrutinee, s, b, 1);
                sb.Append(" { ");
                for (int i = 0; i < m.Arms.Count; i++)
                {
                    if (i > 0) sb.Append("; ");
                    sb.Append(Pat(m.Arms[i].Pattern)).Append(" => ");
                    Write(sb, m.Arms[i].Body, s, With(b, Names(m.Arms[i].Pattern)), 0);
                }
                sb.Append(" }");
                break;
            case Binary bi:
            {
                int lv = Level(bi.Op);
                if (ctx > lv) sb.Append('(');
                Write(sb, bi.Left, s, b, lv);
                sb.Append(' ').Append(OpText(bi.Op)).Append(' ');
                Write(sb, bi.Right, s, b, lv + 1);
                if (ctx > lv) sb.Append(')');
                break;
            }
            case Unary u:
                sb.Append(u.Op == Tok.Bang ? "!" : "-");
                Write(sb, u.Operand, s, b, 12);
                break;
            case SiteExpr st:
                sb.Append(st.Open ? '~' : '∿').Append(st.Head).Append('[');
                List(sb, st.Args, st.Tail, s, b);
                sb.Append(']');
                if (st.Type != null) sb.Append(" : ").Append(st.Type);
                break;
            case Typed t:
                Write(sb, t.Body, s, b, 12);
                sb.Append(" : ").Append(t.Type);
                break;
            default: sb.Append('_'); break;
        }
    }

    private static bool NeedsParens(string v) => v.Contains(' ') && !(v.StartsWith('[') || v.StartsWith('"'));

    private static void Paren(StringBuilder sb, string v, bool parens)
    {
        if (parens) sb.Append('(').Append(v).Append(')');
        else sb.Append(v);
    }

    private static string Pat(Pattern p) => p switch
    {
        PNum n => Numb.Show(n.Numb),
        PSucc s => $"{s.K}+{Pat(s.Pred)}",
        PName n => n.Id,
        PWord w => "'" + w.Id,
        PWild => "_",
        PStr s => Printer.Quote(s.Value),
        PCompound c => c.Head + "[" + string.Join(", ", c.Fields.Select(Pat)) + "]",
        PList l => "[" + string.Join(", ", l.Items.Select(Pat).Concat(l.Tail == null ? [] : ["..." + Pat(l.Tail)])) + "]",
        _ => "_",
    };
}

/// <summary>Prints terms in LMN syntax, with only the parentheses the grammar needs.</summary>
public static class Printer
{
    private const int Lam = 0, FlowLevel = 1, App = 12, Postfix = 13, Atom = 14;

    private static int Level(string op) => op switch
    {
        "||" => 2, "&&" => 3, "==" or "!=" or "<" or ">" or "<=" or ">=" => 4, "|" => 5, "^" => 6, "&" => 7,
        "<<" or ">>" => 8, "+" or "-" => 9, _ => 10,
    };

    // One builder and one stack per thread, reused (a batch run prints a value and a question per input);
    // taken while in use, so a print inside a print gets its own.
    [ThreadStatic] private static StringBuilder? t_sb;
    [ThreadStatic] private static Stack<(Term? T, int Ctx, string? Text)>? t_todo;

    public static string Print(Term t)
    {
        // A word, a name or a string prints as itself (the cases of WriteAll below, whatever the context):
        // no builder, and a word or a name no new string.
        switch (t)
        {
            case TWord w: return w.Name;
            case TName n: return n.Name;
            case TStr st: return Quote(st.Value);
        }
        var sb = t_sb ?? new StringBuilder();
        t_sb = null;
        try
        {
            sb.Clear();
            Write(sb, t, Lam);
            return sb.ToString();
        }
        finally
        {
            if (sb.Capacity <= 1 << 16) t_sb = sb;
        }
    }

    public static string Quote(string s)
    {
        // Most strings need no escape and hold no surrogate (which the rune walk below would check): the
        // string between quotes, one allocation.
        if (!NeedsEscape(s)) return string.Concat("\"", s, "\"");
        var sb = new StringBuilder(s.Length + 8).Append('"');
        Span<char> units = stackalloc char[2];
        foreach (var rune in s.EnumerateRunes())
        {
            switch (rune.Value)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (Rune.IsControl(rune)) sb.Append("\\u{").Append(rune.Value.ToString("X", CultureInfo.InvariantCulture)).Append('}');
                    else sb.Append(units[..rune.EncodeToUtf16(units)]);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    /// <summary>Whether <see cref="Quote"/> changes a character of s: a quote, a backslash, a control character or a surrogate (a lone one becomes U+FFFD).</summary>
    private static bool NeedsEscape(string s)
    {
        foreach (char c in s)
            if (c == '"' || c == '\\' || char.IsControl(c) || char.IsSurrogate(c)) return true;
        return false;
    }

    // Iterative, with an explicit stack of what is left to write: results can nest millions deep.
    private static void Write(StringBuilder sb, Term root, int rootCtx)
    {
        var todo = t_todo ?? new Stack<(Term? T, int Ctx, string? Text)>();
        t_todo = null;
        try
        {
            WriteAll(sb, todo, root, rootCtx);
        }
        finally
        {
            todo.Clear();
            // EnsureCapacity(0) is the stack's capacity: one grown by a deep value is not kept.
            if (todo.EnsureCapacity(0) <= 1 << 12) t_todo = todo;
        }
    }

    private static void WriteAll(StringBuilder sb, Stack<(Term? T, int Ctx, string? Text)> todo, Term root, int rootCtx)
    {
        todo.Push((root, rootCtx, null));
        while (todo.Count > 0)
        {
            var (t, ctx, text) = todo.Pop();
            if (text != null)
            {
                sb.Append(text);
                continue;
            }
            // Pushed in reverse: what is written first is pushed last.
            void Then(Term x, int c) => todo.Push((x, c, null));
            void Lit(string x) => todo.Push((null, 0, x));
            switch (t)
            {
                case TNum n:
                {
                    string str = Numb.Show(n.Numb);
                    bool signed = str.Length > 0 && str[0] is '+' or '-';
                    sb.Append(signed && ctx >= App ? "(" + str + ")" : str);
                    break;
                }
                case TWord w: sb.Append(w.Name); break;
                case TName n: sb.Append(n.Name); break;
                case TWire w: sb.Append('_').Append(w.Var.ToString("x", CultureInfo.InvariantCulture)); break;
                case TStr st: sb.Append(Quote(st.Value)); break;
                case TCompound { Head: SymbolTable.PhraseHead, Fields.Count: 2 } ph:
                    // `a b`: left nested phrases print flat, a phrase on the right in parentheses.
                    if (ctx > App) Lit(")");
                    Then(ph.Fields[1], Postfix);
                    Lit(" ");
                    Then(ph.Fields[0], App);
                    if (ctx > App) sb.Append('(');
                    break;
                case TCompound { Head: SymbolTable.FlowHead, Fields.Count: 2 } fl:
                    if (ctx > FlowLevel) Lit(")");
                    Then(fl.Fields[1], FlowLevel + 1);
                    Lit(" → ");
                    Then(fl.Fields[0], FlowLevel);
                    if (ctx > FlowLevel) sb.Append('(');
                    break;
                case TCompound { Head: SymbolTable.LinesHead, Fields: [TList { Tail: null } lines] }:
                    // A program's several values, one per line.
                    for (int i = lines.Items.Count - 1; i >= 0; i--)
                    {
                        Then(lines.Items[i], Lam);
                        if (i > 0) Lit("\n");
                    }
                    break;
                case TCompound c:
                    sb.Append(c.Head).Append('[');
                    Lit("]");
                    for (int i = c.Fields.Count - 1; i >= 0; i--)
                    {
                        Then(c.Fields[i], Lam);
                        if (i > 0) Lit(", ");
                    }
                    break;
                case TList l:
                    sb.Append('[');
                    Lit("]");
                    if (l.Tail != null)
                    {
                        Then(l.Tail, Lam);
                        Lit(l.Items.Count > 0 ? ", ..." : "...");
                    }
                    for (int i = l.Items.Count - 1; i >= 0; i--)
                    {
                        Then(l.Items[i], Lam);
                        if (i > 0) Lit(", ");
                    }
                    break;
                case TAnchored a:
                    Lit("@" + a.Anchor);
                    Then(a.Value, Atom);
                    break;
                case TLam l:
                    if (ctx > Lam) Lit(")");
                    Then(l.Body, Lam);
                    sb.Append(ctx > Lam ? "(" : "").Append('λ').Append(l.Param).Append(". ");
                    break;
                case TApp a:
                    if (ctx > App) Lit(")");
                    Then(a.Arg, Postfix);
                    Lit(" ");
                    Then(a.Fn, App);
                    if (ctx > App) sb.Append('(');
                    break;
                case TOp o:
                {
                    int lv = Level(o.Op);
                    if (ctx > lv) Lit(")");
                    Then(o.Right, lv + 1);
                    Lit(" " + o.Op + " ");
                    Then(o.Left, lv);
                    if (ctx > lv) sb.Append('(');
                    break;
                }
                default: throw new System.Diagnostics.UnreachableException($"term {t?.GetType().Name}");
            }
        }
    }
}
