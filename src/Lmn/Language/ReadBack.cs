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
/// Reads an LMN value out of a reduced net. Numbers are NUM ports; a datum is `(#tag payload)` and its
/// tag's symbol says how to print it; a CON whose first port is not a number is a lambda; a reference
/// to a function prints as the function's name, a reference to a constant is expanded and read.
/// </summary>
public sealed class ReadBack
{
    private readonly INetRunner _net;
    private readonly CompiledProgram _prog;
    private readonly Dictionary<uint, Term> _wires = [];
    private int _names;
    private int _forced;
    private long _budget = 50_000_000;

    public ReadBack(INetRunner net, CompiledProgram prog)
    {
        _net = net;
        _prog = prog;
    }

    /// <summary>
    /// A closed value: no free wire, no duplicator, operator or switch still waiting, no pending site.
    /// A site is ready to ask once its arguments are closed (ARCHITECTURE.md §2, rule 2).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool IsClosed(uint port)
    {
        var stack = new Stack<uint>();
        stack.Push(port);
        int budget = 1_000_000;
        while (stack.Count > 0)
        {
            if (--budget < 0) return false;
            uint p = _net.Peek(stack.Pop());
            switch (p & 7)
            {
                case Tag.NUM or Tag.ERA or Tag.REF: break;
                case Tag.CON:
                {
                    var (a, b) = Node(p);
                    stack.Push(a);
                    stack.Push(b);
                    break;
                }
                default: return false;
            }
        }
        return true;
    }

    /// <summary>Parked sites whose guards are closed: reached, so they need an oracle.</summary>
    public List<(ParkedSite Call, SiteInfo Site, Text.SourceText Src)> Reached { get; } = [];

    /// <summary>
    /// Sorts the sites parked since the last scan: dropped (out erased), not reached (inside a lambda
    /// not yet applied: a guard is a free wire; it prints as written), or reached.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ScanParked()
    {
        foreach (var pc in _net.TakeParked())
        {
            var site = _prog.SiteOf(CompiledProgram.SiteDef(pc.SiteId));
            if (site == null) continue;
            var (args, outp) = (pc.Args, pc.Out);
            if ((_net.Peek(outp) & 7) == Tag.ERA)
            {
                // Dropped: its value is never needed, so it is never asked; its arguments go too.
                Dropped++;
                _net.Erase(args);
                continue;
            }
            var (_, rest) = Pair(args);
            var (_, guards) = Pair(rest);
            if (!IsClosed(guards)) NameWire(outp, new TName(site.Value.Info.SourceText));
            else Reached.Add((pc, site.Value.Info, site.Value.Src));
        }
    }

    /// <summary>Sites dropped (their value erased) before anyone asked them.</summary>
    public int Dropped { get; set; }

    /// <summary>The two ports of a pair node (a site's arguments are `(candidates (anchors guards))`).</summary>
    public (uint Fst, uint Snd) Split(uint port) => Pair(port);

    /// <summary>Names a wire: the read-back prints the term wherever it meets that wire (a parked site's out).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void NameWire(uint port, Term term)
    {
        uint p = _net.Peek(port);
        if ((p & 7) == Tag.VAR) _wires[p >> 3] = term;
    }

    /// <summary>Reads the value at a port (typically the root, or a parked site's arguments).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public Term Read(uint port)
    {
        var t = ReadPort(port);
        return Resolve(t, 0);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Term Resolve(Term t, int depth)
    {
        if (depth > 10_000) return new TName("_");
        switch (t)
        {
            case TWire w:
                return _wires.TryGetValue(w.Var, out var r) ? Resolve(r, depth + 1) : new TName("_" + w.Var.ToString("x", CultureInfo.InvariantCulture));
            case TCompound c: return c with { Fields = c.Fields.Select(f => Resolve(f, depth + 1)).ToList() };
            case TList l:
            {
                var items = new List<Term>(l.Items.Count);
                foreach (var i in l.Items) items.Add(Resolve(i, depth + 1));
                return new TList(items, l.Tail == null ? null : Resolve(l.Tail, depth + 1));
            }
            case TAnchored a: return a with { Value = Resolve(a.Value, depth + 1) };
            case TLam l: return l with { Body = Resolve(l.Body, depth + 1) };
            case TApp a: return new TApp(Resolve(a.Fn, depth + 1), Resolve(a.Arg, depth + 1));
            case TOp o: return o with { Left = Resolve(o.Left, depth + 1), Right = Resolve(o.Right, depth + 1) };
            default: return t;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private (uint Fst, uint Snd) Node(uint p)
    {
        ulong n = _net.NodeAt(p >> 3);
        return ((uint)n, (uint)(n >> 32));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Term ReadPort(uint port)
    {
        if (--_budget < 0) return new TName("…");
        uint p = _net.Peek(port);
        switch (p & 7)
        {
            case Tag.NUM: return new TNum(p >> 3);
            case Tag.ERA: return new TName("_");
            case Tag.VAR: return new TWire(p >> 3);
            case Tag.REF:
            {
                string name = _net.Book.Defs[(int)((p >> 3) & 0x0FFF_FFFF)].Name;
                if (_prog.Defs.TryGetValue(name, out var info) && info.Function) return new TName(info.Lmn);
                if (++_forced > 100_000) return new TName(info.Lmn ?? name);
                uint forced = _net.Force(p);
                ScanParked();
                return ReadPort(forced);
            }
            case Tag.CON:
            {
                var (fst, snd) = Node(p);
                uint f = _net.Peek(fst);
                if ((f & 7) == Tag.NUM) return ReadDatum(f >> 3, snd);
                return ReadLambda(fst, snd);
            }
            default: return new TName("…");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Term ReadDatum(uint tagNumb, uint payload)
    {
        int tag = (int)Numb.GetU24(tagNumb);
        if (Numb.TypeOf(tagNumb) != Numb.TY_U24 || !_prog.Symbols.Has(tag)) return new TName("…");
        var sym = _prog.Symbols[tag];
        switch (sym.Kind)
        {
            case SymKind.Word: return new TWord(sym.Name);
            case SymKind.String: return new TStr(sym.Name);
            case SymKind.Nil: return new TList([], null);
            case SymKind.Compound: return new TCompound(sym.Name, Fields(payload, sym.Arity));
            case SymKind.Anchored:
            {
                var (v, name) = Pair(payload);
                uint n = _net.Peek(name);
                string anchor = (n & 7) == Tag.NUM && _prog.Symbols.Has((int)Numb.GetU24(n >> 3)) ? _prog.Symbols[(int)Numb.GetU24(n >> 3)].Name : "_";
                return new TAnchored(ReadPort(v), anchor);
            }
            case SymKind.Cons:
            {
                // The spine is read in a loop: lists can be long.
                var items = new List<Term>();
                uint cell = payload;
                while (true)
                {
                    var (h, t) = Pair(cell);
                    items.Add(ReadPort(h));
                    uint tp = ForceData(t);
                    if ((tp & 7) == Tag.CON)
                    {
                        var (tf, ts) = Node(tp);
                        uint tt = _net.Peek(tf);
                        if ((tt & 7) == Tag.NUM && Numb.TypeOf(tt >> 3) == Numb.TY_U24)
                        {
                            int k = (int)Numb.GetU24(tt >> 3);
                            if (k == SymbolTable.Cons) { cell = ts; continue; }
                            if (k == SymbolTable.Nil) return new TList(items, null);
                        }
                    }
                    return new TList(items, ReadPort(tp));
                }
            }
            default: throw new System.Diagnostics.UnreachableException($"symbol kind {sym.Kind}");
        }
    }

    /// <summary>Follows a port, expanding references to constants, so a list tail can be inspected.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private uint ForceData(uint port)
    {
        uint p = _net.Peek(port);
        while ((p & 7) == Tag.REF)
        {
            string name = _net.Book.Defs[(int)((p >> 3) & 0x0FFF_FFFF)].Name;
            if (_prog.Defs.TryGetValue(name, out var info) && info.Function) return p;
            if (++_forced > 100_000) return p;
            p = _net.Peek(_net.Force(p));
            ScanParked();
        }
        return p;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private (uint, uint) Pair(uint port)
    {
        uint p = _net.Peek(port);
        if ((p & 7) != Tag.CON) return (Tag.ERA, Tag.ERA);
        return Node(p);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private List<Term> Fields(uint payload, int arity)
    {
        var fs = new List<Term>(arity);
        if (arity == 0) return fs;
        uint cur = payload;
        for (int i = 0; i < arity - 1; i++)
        {
            var (a, b) = Pair(cur);
            fs.Add(ReadPort(a));
            cur = b;
        }
        fs.Add(ReadPort(cur));
        return fs;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private string FreshName()
    {
        int n = _names++;
        string s = ((char)('a' + n % 26)).ToString();
        return n < 26 ? s : s + (n / 26).ToString(CultureInfo.InvariantCulture);
    }

    //  λx. body is (x body): the parameter's port shows how x is used (a wire, an eraser, a DUP of
    //  several uses, the function of an application, an operand).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Term ReadLambda(uint param, uint body)
    {
        string x = FreshName();
        BindUsage(param, new TName(x), 0);
        return new TLam(x, ReadPort(body));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void BindUsage(uint port, Term expr, int depth)
    {
        if (depth > 1000) return;
        uint p = _net.Peek(port);
        switch (p & 7)
        {
            case Tag.VAR: _wires[p >> 3] = expr; return;
            case Tag.ERA: return;
            case Tag.DUP:
            {
                var (a, b) = Node(p);
                BindUsage(a, expr, depth + 1);
                BindUsage(b, expr, depth + 1);
                return;
            }
            case Tag.CON:
            {
                var (arg, ret) = Node(p);
                BindUsage(ret, new TApp(expr, ReadPort(arg)), depth + 1);
                return;
            }
            case Tag.OPR:
            {
                var (fst, snd) = Node(p);
                uint f = _net.Peek(fst);
                if ((f & 7) != Tag.NUM) return;
                uint w = f >> 3;
                uint ty = Numb.TypeOf(w);
                if (ty == Numb.TY_SYM)
                {
                    uint op = Numb.GetSym(w);
                    var (y, r) = Pair(snd);
                    BindUsage(r, new TOp(OpText(op, out _), expr, ReadPort(y)), depth + 1);
                    return;
                }
                if (ty >= Numb.OP_ADD)
                {
                    // [op k] meeting x gives k op x; a flipped operator gives x op k.
                    string text = OpText(ty, out bool flipped);
                    var k = new TNum(Numb.NewU24(Numb.GetU24(w)));
                    // x < k was compiled as k > x: print it the way it was written.
                    if (ty is Numb.OP_LT or Numb.OP_GT) (text, flipped) = (ty == Numb.OP_LT ? ">" : "<", true);
                    bool commutes = ty is Numb.OP_ADD or Numb.OP_MUL or Numb.OP_EQ or Numb.OP_NEQ or Numb.OP_AND or Numb.OP_OR or Numb.OP_XOR;
                    BindUsage(snd, flipped || commutes ? new TOp(text, expr, k) : new TOp(text, k, expr), depth + 1);
                }
                return;
            }
            default: return;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static string OpText(uint op, out bool flipped)
    {
        flipped = op is Numb.FP_SUB or Numb.FP_DIV or Numb.FP_REM or Numb.FP_SHL or Numb.FP_SHR;
        return op switch
        {
            Numb.OP_ADD => "+", Numb.OP_SUB or Numb.FP_SUB => "-", Numb.OP_MUL => "*",
            Numb.OP_DIV or Numb.FP_DIV => "/", Numb.OP_REM or Numb.FP_REM => "%",
            Numb.OP_EQ => "==", Numb.OP_NEQ => "!=", Numb.OP_LT => "<", Numb.OP_GT => ">",
            Numb.OP_AND => "&", Numb.OP_OR => "|", Numb.OP_XOR => "^",
            Numb.OP_SHL or Numb.FP_SHL => "<<", Numb.OP_SHR or Numb.FP_SHR => ">>",
            _ => "?",
        };
    }
}

/// <summary>Prints terms in LMN syntax, with only the parentheses the grammar needs.</summary>
public static class Printer
{
    private const int Lam = 0, App = 12, Postfix = 13, Atom = 14;

    private static int Level(string op) => op switch
    {
        "||" => 2, "&&" => 3, "==" or "!=" or "<" or ">" or "<=" or ">=" => 4, "|" => 5, "^" => 6, "&" => 7,
        "<<" or ">>" => 8, "+" or "-" => 9, _ => 10,
    };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static string Print(Term t)
    {
        var sb = new StringBuilder();
        Write(sb, t, Lam);
        return sb.ToString();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
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
                    else sb.Append(rune.ToString());
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Write(StringBuilder sb, Term t, int ctx)
    {
        switch (t)
        {
            case TNum n:
            {
                string s = Numb.Show(n.Numb);
                bool signed = s.Length > 0 && s[0] is '+' or '-';
                if (signed && ctx >= App) sb.Append('(').Append(s).Append(')');
                else sb.Append(s);
                break;
            }
            case TWord w: sb.Append(w.Name); break;
            case TName n: sb.Append(n.Name); break;
            case TWire w: sb.Append('_').Append(w.Var.ToString("x", CultureInfo.InvariantCulture)); break;
            case TStr s: sb.Append(Quote(s.Value)); break;
            case TCompound c:
                sb.Append(c.Head).Append('[');
                for (int i = 0; i < c.Fields.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    Write(sb, c.Fields[i], Lam);
                }
                sb.Append(']');
                break;
            case TList l:
                sb.Append('[');
                for (int i = 0; i < l.Items.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    Write(sb, l.Items[i], Lam);
                }
                if (l.Tail != null)
                {
                    if (l.Items.Count > 0) sb.Append(", ");
                    sb.Append("...");
                    Write(sb, l.Tail, Lam);
                }
                sb.Append(']');
                break;
            case TAnchored a:
                Write(sb, a.Value, Atom);
                sb.Append('@').Append(a.Anchor);
                break;
            case TLam l:
                if (ctx > Lam) sb.Append('(');
                sb.Append('λ').Append(l.Param).Append(". ");
                Write(sb, l.Body, Lam);
                if (ctx > Lam) sb.Append(')');
                break;
            case TApp a:
                if (ctx > App) sb.Append('(');
                Write(sb, a.Fn, App);
                sb.Append(' ');
                Write(sb, a.Arg, Postfix);
                if (ctx > App) sb.Append(')');
                break;
            case TOp o:
            {
                int lv = Level(o.Op);
                if (ctx > lv) sb.Append('(');
                Write(sb, o.Left, lv);
                sb.Append(' ').Append(o.Op).Append(' ');
                Write(sb, o.Right, lv + 1);
                if (ctx > lv) sb.Append(')');
                break;
            }
            default: throw new System.Diagnostics.UnreachableException($"term {t.GetType().Name}");
        }
    }
}
