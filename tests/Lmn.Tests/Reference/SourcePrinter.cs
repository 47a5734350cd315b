using System.Globalization;
using System.Text;
using Lmn.Language;
using Lmn.Net;

namespace Lmn.Tests.Reference;

/// <summary>
/// Prints an LMN syntax tree as source text the parser reads back to the same tree (up to offsets):
/// every compound expression is parenthesised, so no precedence is involved. Used for generated
/// programs and for printing closures (with captured variables substituted).
/// </summary>
public static class SourcePrinter
{
    public static string Print(ProgramAst p)
    {
        var sb = new StringBuilder();
        foreach (var d in p.Defs)
        {
            sb.Append("def ").Append(d.Name);
            if (d.Params.Count > 0) sb.Append('(').Append(string.Join(", ", d.Params.Select(x => x.Id))).Append(')');
            sb.Append(" = ");
            Write(sb, d.Body, null, []);
            sb.Append('\n');
        }
        if (p.Main is Lines ls)
            foreach (var item in ls.Items)
            {
                Write(sb, item, null, []);
                sb.Append('\n');
            }
        else if (p.Main != null)
        {
            Write(sb, p.Main, null, []);
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>An expression; subst gives the text of a free identifier that stands for a captured value.</summary>
    public static string Print(Expr e, Func<string, string?>? subst = null)
    {
        var sb = new StringBuilder();
        Write(sb, e, subst, []);
        return sb.ToString();
    }

    public static string Print(Pattern p)
    {
        var sb = new StringBuilder();
        WritePat(sb, p);
        return sb.ToString();
    }

    private static string Num(uint n) => Numb.TypeOf(n) == Numb.TY_U24
        ? Numb.GetU24(n).ToString(CultureInfo.InvariantCulture)
        : Numb.Show(n);

    private static void Write(StringBuilder sb, Expr e, Func<string, string?>? subst, HashSet<string> bound)
    {
        switch (e)
        {
            case NumLit n:
            {
                string s = Num(n.Numb);
                if (s.StartsWith('-') || s.StartsWith('+')) sb.Append('(').Append(s).Append(')');
                else sb.Append(s);
                break;
            }
            case StrLit s: sb.Append(Printer.Quote(s.Value)); break;
            case Name n:
                if (subst != null && !bound.Contains(n.Id) && subst(n.Id) is { } text) sb.Append(text);
                else sb.Append(n.Id);
                break;
            case AnchorRef a: sb.Append('@').Append(a.Anchor); break;
            case Anchored a:
                sb.Append('(');
                Write(sb, a.Body, subst, bound);
                sb.Append(")@").Append(a.Anchor);
                break;
            case CompoundLit c:
                sb.Append(c.Head).Append('[');
                Items(sb, c.Fields, null, subst, bound);
                sb.Append(']');
                break;
            case ListLit l:
                sb.Append('[');
                Items(sb, l.Items, l.Tail, subst, bound);
                sb.Append(']');
                break;
            case Lambda lam:
            {
                var b = new HashSet<string>(bound);
                foreach (var p in lam.Params) b.Add(p.Id);
                sb.Append("(\\").Append(string.Join(" ", lam.Params.Select(p => p.Id))).Append(". ");
                Write(sb, lam.Body, subst, b);
                sb.Append(')');
                break;
            }
            case Apply { Kind: ApplyKind.Juxt } jx:
                sb.Append('(');
                // `@m x` would anchor x: an anchor's value at the head of a phrase is parenthesised.
                if (jx.Fn is AnchorRef) sb.Append('(');
                Write(sb, jx.Fn, subst, bound);
                if (jx.Fn is AnchorRef) sb.Append(')');
                sb.Append(' ');
                Write(sb, jx.Arg, subst, bound);
                sb.Append(')');
                break;
            case Apply { Kind: ApplyKind.Flow } fl:
                sb.Append('(');
                Write(sb, fl.Arg, subst, bound);
                sb.Append(" → ");
                Write(sb, fl.Fn, subst, bound);
                sb.Append(')');
                break;
            case Collapse co:
                sb.Append('(');
                Write(sb, co.Sup, subst, bound);
                sb.Append(" @ ");
                Write(sb, co.Ctx, subst, bound);
                sb.Append(')');
                break;
            case Wave w:
                sb.Append("(∿ ").Append(w.Tense).Append(" [");
                Write(sb, w.Label ?? w.Body, subst, bound);
                sb.Append(']');
                if (w.Label != null)
                {
                    sb.Append(" { ");
                    Write(sb, w.Body, subst, bound);
                    sb.Append(" }");
                }
                sb.Append(')');
                break;
            case LetFn lf:
            {
                var b = new HashSet<string>(bound) { lf.Name };
                var bb = new HashSet<string>(b);
                foreach (var p in lf.Params) bb.Add(p.Id);
                sb.Append("{ fn ").Append(lf.Name).Append('(').Append(string.Join(", ", lf.Params.Select(p => p.Id))).Append(") = ");
                Write(sb, lf.Body, subst, bb);
                sb.Append("; ");
                Write(sb, lf.Rest, subst, b);
                sb.Append(" }");
                break;
            }
            case Apply ap:
            {
                var args = new List<Expr>();
                Expr f = ap;
                while (f is Apply { Kind: ApplyKind.Call } a) { args.Add(a.Arg); f = a.Fn; }
                args.Reverse();
                if (f is Name) Write(sb, f, subst, bound);
                else { sb.Append('('); Write(sb, f, subst, bound); sb.Append(')'); }
                sb.Append('(');
                Items(sb, args, null, subst, bound);
                sb.Append(')');
                break;
            }
            case LetIn li:
            {
                sb.Append("(let ");
                WritePat(sb, li.Pattern);
                sb.Append(" = ");
                Write(sb, li.Value, subst, bound);
                sb.Append("; ");
                var b = new HashSet<string>(bound);
                Names(li.Pattern, b);
                Write(sb, li.Body, subst, b);
                sb.Append(')');
                break;
            }
            case LetAnchor la:
                sb.Append("(let @").Append(la.Anchor).Append(" = ");
                Write(sb, la.Value, subst, bound);
                sb.Append("; ");
                Write(sb, la.Body, subst, bound);
                sb.Append(')');
                break;
            case IfThen it:
                sb.Append("(if ");
                Write(sb, it.Cond, subst, bound);
                sb.Append(" then ");
                Write(sb, it.Then, subst, bound);
                sb.Append(" else ");
                Write(sb, it.Else, subst, bound);
                sb.Append(')');
                break;
            case MatchExpr m:
                sb.Append("(match (");
                Write(sb, m.Scrutinee, subst, bound);
                sb.Append(") { ");
                for (int i = 0; i < m.Arms.Count; i++)
                {
                    if (i > 0) sb.Append("; ");
                    WritePat(sb, m.Arms[i].Pattern);
                    sb.Append(" => ");
                    var b = new HashSet<string>(bound);
                    Names(m.Arms[i].Pattern, b);
                    Write(sb, m.Arms[i].Body, subst, b);
                }
                sb.Append(" })");
                break;
            case Binary bi:
                sb.Append('(');
                Write(sb, bi.Left, subst, bound);
                sb.Append(' ').Append(OpText(bi.Op)).Append(' ');
                Write(sb, bi.Right, subst, bound);
                sb.Append(')');
                break;
            case Unary u:
                sb.Append('(').Append(u.Op == Tok.Bang ? "!" : "-").Append('(');
                Write(sb, u.Operand, subst, bound);
                sb.Append("))");
                break;
            case SiteExpr s:
                sb.Append(s.Open ? "~" : "∿").Append(s.Head).Append('[');
                Items(sb, s.Args, s.Tail, subst, bound);
                sb.Append(']');
                if (s.Type != null) sb.Append(" : ").Append(s.Type);
                break;
            case Typed t:
                sb.Append('(');
                Write(sb, t.Body, subst, bound);
                sb.Append(" : ").Append(t.Type).Append(')');
                break;
            default: throw new ArgumentException($"cannot print {e.GetType().Name}");
        }
    }

    private static void Items(StringBuilder sb, IReadOnlyList<Expr> items, Expr? tail, Func<string, string?>? subst, HashSet<string> bound)
    {
        for (int i = 0; i < items.Count; i++)
        {
            if (i > 0) sb.Append(", ");
            Write(sb, items[i], subst, bound);
        }
        if (tail != null)
        {
            if (items.Count > 0) sb.Append(", ");
            sb.Append("...");
            Write(sb, tail, subst, bound);
        }
    }

    public static string OpText(Tok t) => t switch
    {
        Tok.Plus => "+", Tok.Minus => "-", Tok.Star => "*", Tok.Slash => "/", Tok.Percent => "%",
        Tok.Lt => "<", Tok.Gt => ">", Tok.Le => "<=", Tok.Ge => ">=", Tok.Amp => "&", Tok.Pipe => "|",
        Tok.Caret => "^", Tok.Shl => "<<", Tok.Shr => ">>", Tok.AndAnd => "&&", Tok.OrOr => "||",
        Tok.EqEq => "==", Tok.NotEq => "!=",
        _ => throw new ArgumentException($"operator {t}"),
    };

    private static void Names(Pattern p, HashSet<string> into)
    {
        switch (p)
        {
            case PName n: into.Add(n.Id); break;
            case PSucc s: Names(s.Pred, into); break;
            case PCompound c: foreach (var f in c.Fields) Names(f, into); break;
            case PList l:
                foreach (var f in l.Items) Names(f, into);
                if (l.Tail != null) Names(l.Tail, into);
                break;
        }
    }

    private static void WritePat(StringBuilder sb, Pattern p)
    {
        switch (p)
        {
            case PNum n: sb.Append(Num(n.Numb)); break;
            case PSucc s:
                sb.Append(s.K.ToString(CultureInfo.InvariantCulture)).Append('+');
                WritePat(sb, s.Pred);
                break;
            case PName n: sb.Append(n.Id); break;
            case PWild: sb.Append('_'); break;
            case PStr s: sb.Append(Printer.Quote(s.Value)); break;
            case PCompound c:
                sb.Append(c.Head).Append('[');
                for (int i = 0; i < c.Fields.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    WritePat(sb, c.Fields[i]);
                }
                sb.Append(']');
                break;
            case PList l:
                sb.Append('[');
                for (int i = 0; i < l.Items.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    WritePat(sb, l.Items[i]);
                }
                if (l.Tail != null)
                {
                    if (l.Items.Count > 0) sb.Append(", ");
                    sb.Append("...");
                    WritePat(sb, l.Tail);
                }
                sb.Append(']');
                break;
            default: throw new ArgumentException($"cannot print pattern {p.GetType().Name}");
        }
    }
}
