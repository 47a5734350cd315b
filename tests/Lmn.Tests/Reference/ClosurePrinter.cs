using System.Text;
using Lmn.Language;

namespace Lmn.Tests.Reference;

/// <summary>
/// Prints a closure's body as source with the fewest parentheses the parser needs (SEMANTICS-10.md,
/// "Printing": `let k = 3; \x. x + k` prints `λx. x + 3`); captured variables are substituted by their
/// printed values.
/// </summary>
public static class ClosurePrinter
{
    // Levels, loosest first, as the parser reads them.
    private const int Loose = 0, Flow = 1, Prefix = 11, App = 12, Atom = 13;

    private static int Level(Tok op) => op switch
    {
        Tok.OrOr => 2, Tok.AndAnd => 3,
        Tok.EqEq or Tok.NotEq or Tok.Lt or Tok.Gt or Tok.Le or Tok.Ge => 4,
        Tok.Pipe => 5, Tok.Caret => 6, Tok.Amp => 7, Tok.Shl or Tok.Shr => 8,
        Tok.Plus or Tok.Minus => 9, _ => 10,
    };

    public static string Lambda(IReadOnlyList<Param> ps, Expr body, Func<string, string?> subst)
    {
        var sb = new StringBuilder("λ").Append(string.Join(" ", ps.Select(p => p.Id))).Append(". ");
        Write(sb, body, Loose, subst, new HashSet<string>(ps.Select(p => p.Id)));
        return sb.ToString();
    }

    private static void Wrap(StringBuilder sb, bool paren, Action body)
    {
        if (paren) sb.Append('(');
        body();
        if (paren) sb.Append(')');
    }

    private static void Write(StringBuilder sb, Expr e, int ctx, Func<string, string?> subst, HashSet<string> bound)
    {
        switch (e)
        {
            case Name n when !bound.Contains(n.Id) && subst(n.Id) is { } text:
                // A substituted value: an atom unless it is a lambda or a signed number.
                Wrap(sb, ctx > Loose && (text.StartsWith('λ') || text.StartsWith('-') || text.StartsWith('+')), () => sb.Append(text));
                break;
            case Lambda lam:
            {
                var b = new HashSet<string>(bound);
                foreach (var p in lam.Params) b.Add(p.Id);
                Wrap(sb, ctx > Loose, () =>
                {
                    sb.Append('λ').Append(string.Join(" ", lam.Params.Select(p => p.Id))).Append(". ");
                    Write(sb, lam.Body, Loose, subst, b);
                });
                break;
            }
            case LetIn li:
            {
                var b = new HashSet<string>(bound);
                Wrap(sb, ctx > Loose, () =>
                {
                    sb.Append("let ").Append(SourcePrinter.Print(li.Pattern)).Append(" = ");
                    Write(sb, li.Value, Loose, subst, bound);
                    sb.Append("; ");
                    foreach (var id in PatternIds(li.Pattern)) b.Add(id);
                    Write(sb, li.Body, Loose, subst, b);
                });
                break;
            }
            case IfThen it:
                Wrap(sb, ctx > Loose, () =>
                {
                    sb.Append("if ");
                    Write(sb, it.Cond, Loose, subst, bound);
                    sb.Append(" then ");
                    Write(sb, it.Then, Loose, subst, bound);
                    sb.Append(" else ");
                    Write(sb, it.Else, Loose, subst, bound);
                });
                break;
            case Binary bi:
            {
                int lv = Level(bi.Op);
                Wrap(sb, ctx > lv, () =>
                {
                    Write(sb, bi.Left, lv, subst, bound);
                    sb.Append(' ').Append(SourcePrinter.OpText(bi.Op)).Append(' ');
                    Write(sb, bi.Right, lv + 1, subst, bound);
                });
                break;
            }
            case Unary u:
                Wrap(sb, ctx > Prefix, () =>
                {
                    sb.Append(u.Op == Tok.Bang ? "!" : "-");
                    Write(sb, u.Operand, Prefix, subst, bound);
                });
                break;
            case Apply { Kind: ApplyKind.Juxt } jx:
                Wrap(sb, ctx > App, () =>
                {
                    if (jx.Fn is AnchorRef) sb.Append('(');
                    Write(sb, jx.Fn, App, subst, bound);
                    if (jx.Fn is AnchorRef) sb.Append(')');
                    sb.Append(' ');
                    Write(sb, jx.Arg, Atom, subst, bound);
                });
                break;
            case Apply { Kind: ApplyKind.Flow } fl:
                Wrap(sb, ctx > Flow, () =>
                {
                    Write(sb, fl.Arg, Flow, subst, bound);
                    sb.Append(" → ");
                    Write(sb, fl.Fn, Flow + 1, subst, bound);
                });
                break;
            case Collapse co:
                Wrap(sb, ctx > Flow, () =>
                {
                    Write(sb, co.Sup, Flow + 1, subst, bound);
                    sb.Append(" @ ");
                    Write(sb, co.Ctx, Flow + 1, subst, bound);
                });
                break;
            case Wave w:
                sb.Append("∿ ").Append(w.Tense).Append(" [");
                Write(sb, w.Label ?? w.Body, Loose, subst, bound);
                sb.Append(']');
                if (w.Label != null)
                {
                    sb.Append(" { ");
                    Write(sb, w.Body, Loose, subst, bound);
                    sb.Append(" }");
                }
                break;
            case LetFn lf:
            {
                var b = new HashSet<string>(bound) { lf.Name };
                var bb = new HashSet<string>(b);
                foreach (var p in lf.Params) bb.Add(p.Id);
                sb.Append("{ fn ").Append(lf.Name).Append('(').Append(string.Join(", ", lf.Params.Select(p => p.Id))).Append(") = ");
                Write(sb, lf.Body, Loose, subst, bb);
                sb.Append("; ");
                Write(sb, lf.Rest, Loose, subst, b);
                sb.Append(" }");
                break;
            }
            case Apply ap:
            {
                var args = new List<Expr>();
                Expr f = ap;
                while (f is Apply { Kind: ApplyKind.Call } a) { args.Add(a.Arg); f = a.Fn; }
                args.Reverse();
                Wrap(sb, ctx > App, () =>
                {
                    Write(sb, f, Atom, subst, bound);
                    sb.Append('(');
                    for (int i = 0; i < args.Count; i++)
                    {
                        if (i > 0) sb.Append(", ");
                        Write(sb, args[i], Loose, subst, bound);
                    }
                    sb.Append(')');
                });
                break;
            }
            case ListLit l:
                sb.Append('[');
                Items(sb, l.Items, l.Tail, subst, bound);
                sb.Append(']');
                break;
            case CompoundLit c:
                sb.Append(c.Head).Append('[');
                Items(sb, c.Fields, null, subst, bound);
                sb.Append(']');
                break;
            case SiteExpr s:
                sb.Append(s.Open ? "~" : "∿").Append(s.Head).Append('[');
                Items(sb, s.Args, s.Tail, subst, bound);
                sb.Append(']');
                break;
            case Name or NumLit or StrLit or AnchorRef:
                sb.Append(SourcePrinter.Print(e));
                break;
            default:
                // match, anchored, typed: the fully parenthesised form.
                Wrap(sb, ctx > Loose, () => sb.Append(SourcePrinter.Print(e, id => bound.Contains(id) ? null : subst(id))));
                break;
        }
    }

    private static void Items(StringBuilder sb, IReadOnlyList<Expr> items, Expr? tail, Func<string, string?> subst, HashSet<string> bound)
    {
        for (int i = 0; i < items.Count; i++)
        {
            if (i > 0) sb.Append(", ");
            Write(sb, items[i], Loose, subst, bound);
        }
        if (tail != null)
        {
            if (items.Count > 0) sb.Append(", ");
            sb.Append("...");
            Write(sb, tail, Loose, subst, bound);
        }
    }

    private static IEnumerable<string> PatternIds(Pattern p) => p switch
    {
        PName n => [n.Id],
        PSucc s => PatternIds(s.Pred),
        PCompound c => c.Fields.SelectMany(PatternIds),
        PList l => l.Items.SelectMany(PatternIds).Concat(l.Tail != null ? PatternIds(l.Tail) : []),
        _ => [],
    };
}
