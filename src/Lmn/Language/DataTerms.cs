using System.Text;
using Lmn.Hvm;
using Lmn.Net;
using Lmn.Oracles;
using Lmn.Text;
using Lmn.Words;

namespace Lmn.Language;

/// <summary>
/// Oracle answers as LMN data: parsed from text, printed canonically, and encoded as the compiler
/// encodes data (docs/language.md, "Encoding in nets") so they can be grafted into the net.
/// </summary>
public static class DataTerms
{
    /// <summary>Parses one LMN term. Data only, except for `∿`/`~` questions (kept as <see cref="Question"/>).</summary>
    /// <remarks>An answer is parsed once, when the pipeline validates it; it carries the term (<see cref="Answer.Term"/>).</remarks>
    public static bool TryParse(string text, out Term term, out string error)
    {
        // A bare word (most answers: `joy`) is what the parser would make of it, without lexing a source:
        // an identifier that is not a keyword. Anything else goes through the parser.
        if (IsBareWord(text))
        {
            term = new TWord(text);
            error = "";
            return true;
        }
        return TryParseByParser(text, out term, out error);
    }

    internal static bool IsBareWord(string s)
    {
        if (s.Length == 0 || s.Length > 64 || !(char.IsAsciiLetter(s[0]) || s[0] == '_')) return false;
        for (int i = 1; i < s.Length; i++)
            if (!(char.IsAsciiLetterOrDigit(s[i]) || s[i] == '_')) return false;
        return !Lexer.Keywords.ContainsKey(s);
    }

    /// <summary>The parser's reading of an answer's text (<see cref="TryParse"/> without its bare-word path; the tests compare the two).</summary>
    internal static bool TryParseByParser(string text, out Term term, out string error)
    {
        var diags = new List<Diagnostic>();
        var expr = Parser.ParseExpression(new SourceText("answer", text), diags);
        term = new TName("_");
        var err = diags.FirstOrDefault(d => d.Severity == Severity.Error);
        if (expr == null || err != null)
        {
            error = err?.Message ?? "empty";
            return false;
        }
        return TryConvert(expr, out term, out error);
    }

    /// <summary>A question inside an answer (non-strict ambiguity modes).</summary>
    public sealed record Question(bool Open, string Head, IReadOnlyList<Term> Args) : Term;

    private static bool TryConvert(Expr e, out Term term, out string error)
    {
        error = "";
        switch (e)
        {
            case NumLit n: term = new TNum(n.Numb); return true;
            case StrLit s: term = new TStr(s.Value); return true;
            case Name n: term = new TWord(n.Id); return true;
            case Anchored a:
                if (!TryConvert(a.Body, out var body, out error)) { term = body; return false; }
                term = new TAnchored(body, a.Anchor);
                return true;
            case CompoundLit c:
            {
                var fields = new List<Term>();
                foreach (var f in c.Fields)
                {
                    if (!TryConvert(f, out var t, out error)) { term = t; return false; }
                    fields.Add(t);
                }
                term = new TCompound(c.Head, fields);
                return true;
            }
            case ListLit l:
            {
                var items = new List<Term>();
                foreach (var f in l.Items)
                {
                    if (!TryConvert(f, out var t, out error)) { term = t; return false; }
                    items.Add(t);
                }
                Term? tail = null;
                if (l.Tail != null && !TryConvert(l.Tail, out tail, out error)) { term = tail; return false; }
                term = new TList(items, tail);
                return true;
            }
            case SiteExpr q when q.Tail == null:
            {
                var args = new List<Term>();
                foreach (var f in q.Args)
                {
                    if (!TryConvert(f, out var t, out error)) { term = t; return false; }
                    args.Add(t);
                }
                term = new Question(q.Open, q.Head, args);
                return true;
            }
            case Typed t:
                return TryConvert(t.Body, out term, out error);
            case Apply { Kind: ApplyKind.Juxt or ApplyKind.Flow } ap:
            {
                // A phrase `a b` or a flow `a → b` of data is data.
                if (!TryConvert(ap.Fn, out var f, out error)) { term = f; return false; }
                if (!TryConvert(ap.Arg, out var x, out error)) { term = x; return false; }
                term = ap.Kind == ApplyKind.Juxt
                    ? new TCompound(SymbolTable.PhraseHead, [f, x])
                    : new TCompound(SymbolTable.FlowHead, [x, f]);
                return true;
            }
            default:
                term = new TName("_");
                error = $"an answer must be data (a word, number, string, compound or list), not {Describe(e)}";
                return false;
        }
    }

    private static string Describe(Expr e) => e switch
    {
        Lambda => "a lambda",
        Apply => "an application",
        Binary or Unary => "an operation",
        LetIn or LetAnchor => "a let",
        IfThen => "an if",
        MatchExpr => "a match",
        AnchorRef => "an anchor reference",
        _ => "this expression",
    };

    /// <summary>Canonical text: what the protocol's expressions and comparisons use.</summary>
    public static string Print(Term t) => t switch
    {
        Question q => QuestionText(q.Open, q.Head, q.Args.Select(Print)),
        TCompound c when c.Fields.Any(HasQuestion) => c.Head + "[" + string.Join(", ", c.Fields.Select(Print)) + "]",
        TList l when l.Items.Any(HasQuestion) || (l.Tail != null && HasQuestion(l.Tail)) =>
            "[" + string.Join(", ", l.Items.Select(Print)) + (l.Tail != null ? ", ..." + Print(l.Tail) : "") + "]",
        TAnchored a when HasQuestion(a.Value) => Print(a.Value) + "@" + a.Anchor,
        _ => Printer.Print(t),
    };

    /// <summary>A question's text from its printed arguments: `∿head[a, b]`, `~head[a]`.</summary>
    public static string QuestionText(bool open, string head, IEnumerable<string> printedArgs) =>
        (open ? "~" : "∿") + head + "[" + string.Join(", ", printedArgs) + "]";

    public static bool HasQuestion(Term t) => t switch
    {
        Question => true,
        TCompound c => c.Fields.Any(HasQuestion),
        TList l => l.Items.Any(HasQuestion) || (l.Tail != null && HasQuestion(l.Tail)),
        TAnchored a => HasQuestion(a.Value),
        _ => false,
    };

    /// <summary>Encodes data as the compiler does: uniform `(#tag payload)`, numbers boxed (docs/language.md).</summary>
    public static Tree Encode(Term t, SymbolTable syms) => Encode(t, syms, null);

    /// <summary>
    /// Encodes data; a question inside (lazy ambiguity) becomes a fresh wire `q0`, `q1`, ... whose other
    /// end the caller gives to a new site, listed in <paramref name="questions"/>.
    /// </summary>
    public static Tree Encode(Term t, SymbolTable syms, List<(Question Q, string Wire)>? questions)
    {
        switch (t)
        {
            case Question q when questions != null:
            {
                string wire = "q" + questions.Count;
                questions.Add((q, wire));
                return Tree.Var(wire);
            }
            case TNum n: return Datum(SymbolTable.BoxTag, Tree.Num(n.Numb));
            case TWord w: return Datum(syms.Word(w.Name), Tree.Era());
            case TStr s: return Datum(syms.String(s.Value), Tree.Era());
            case TCompound c:
            {
                int tag = syms.Compound(c.Head, c.Fields.Count);
                if (c.Fields.Count == 0) return Datum(tag, Tree.Era());
                Tree payload = Encode(c.Fields[^1], syms, questions);
                for (int i = c.Fields.Count - 2; i >= 0; i--) payload = Tree.Node(TreeKind.Con, Encode(c.Fields[i], syms, questions), payload);
                return Datum(tag, payload);
            }
            case TList l:
            {
                Tree acc = l.Tail != null ? Encode(l.Tail, syms, questions) : Datum(SymbolTable.Nil, Tree.Era());
                for (int i = l.Items.Count - 1; i >= 0; i--)
                    acc = Datum(SymbolTable.Cons, Tree.Node(TreeKind.Con, Encode(l.Items[i], syms, questions), acc));
                return acc;
            }
            case TAnchored a:
                return Datum(syms.Anchor(a.Anchor), Encode(a.Value, syms, questions));
            default:
                throw new ArgumentException($"cannot graft {t.GetType().Name} into the net");
        }
    }

    /// <summary>A nested question's site arguments in the layout of <see cref="SiteArgs"/>, no anchors.</summary>
    public static Tree SiteArgs(Question q, SymbolTable syms, List<(Question Q, string Wire)> questions) =>
        Language.SiteArgs.Tree(Encode(new TList(q.Args, null), syms, questions), Datum(SymbolTable.Nil, Tree.Era()));

    private static Tree Datum(int tag, Tree payload) => Tree.Node(TreeKind.Con, Tree.Num(Numb.NewU24((uint)tag)), payload);
}

/// <summary>Validation of answers with the LMN parser and the lexicon.</summary>
public sealed class LmnTermChecker(Lexicon lexicon) : ITermChecker
{
    public bool TryCanonical(string text, out string canonical, out string error)
    {
        if (!DataTerms.TryParse(text, out var term, out error))
        {
            canonical = text.Trim();
            return false;
        }
        canonical = DataTerms.Print(term);
        return true;
    }

    public bool ContainsAmbiguity(string canonical) =>
        DataTerms.TryParse(canonical, out var term, out _) ? DataTerms.HasQuestion(term) : canonical.Contains('∿') || canonical.Contains('~');

    public bool TryParse(string text, out string canonical, out object? term, out string error)
    {
        if (!DataTerms.TryParse(text, out var t, out error))
        {
            canonical = text.Trim();
            term = null;
            return false;
        }
        canonical = DataTerms.Print(t);
        term = t;
        return true;
    }

    /// <summary>A question in the term, not a `~` inside a string.</summary>
    public bool ContainsAmbiguity(string canonical, object? term) => term is Term t ? DataTerms.HasQuestion(t) : ContainsAmbiguity(canonical);

    public bool InType(string canonical, string typeExpected)
    {
        // A word or the head of a compound, placed by the lexicon in the type (or its domain).
        string word = new string(canonical.TakeWhile(c => char.IsAsciiLetterOrDigit(c) || c == '_').ToArray());
        var e = lexicon.Find(word);
        if (e == null) return canonical.StartsWith('"'); // a string answers any open question
        return e.Type == typeExpected || e.Domain == typeExpected || e.Subdomain == typeExpected;
    }
}
