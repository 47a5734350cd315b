using System.Runtime.CompilerServices;
using Lmn.Text;

namespace Lmn.Language;

/// <summary>
/// Recursive-descent parser for LMN. A syntax error abandons the current top-level item (definition or
/// trailing expression) or match arm, is reported as a diagnostic, and parsing resumes at the next item:
/// every error in a file is reported in one run.
///
/// Layout: outside brackets, a token at column 1 starts a new top-level item (a closing bracket at column
/// 1 does not), so a definition's body ends where the next unindented line begins.
/// </summary>
public sealed class Parser
{
    private readonly SourceText _src;
    private readonly List<Token> _t;
    private readonly List<Diagnostic> _diags;
    private int _p;
    private int _depth;
    private int _itemStart;

    private sealed class SyntaxError(int offset, string message) : Exception(message)
    {
        public int Offset { get; } = offset;
    }

    private Parser(SourceText src, List<Token> toks, List<Diagnostic> diags)
    {
        _src = src;
        _t = toks;
        _diags = diags;
    }

    /// <summary>Parses a whole file; diagnostics (lexical and syntactic) are appended to diags.</summary>
    public static ProgramAst Parse(SourceText src, List<Diagnostic> diags)
    {
        var toks = Lexer.Lex(src, diags);
        return new Parser(src, toks, diags).ParseProgram();
    }

    /// <summary>Parses one expression (a context value, an oracle answer, a printed result).</summary>
    public static Expr? ParseExpression(SourceText src, List<Diagnostic> diags)
    {
        int before = diags.Count;
        var toks = Lexer.Lex(src, diags);
        var p = new Parser(src, toks, diags) { _depth = 1 };
        try
        {
            var e = p.ParseExpr();
            if (p.Cur.Kind != Tok.Eof) throw p.Unexpected("the end of the expression");
            return diags.Count > before ? null : e;
        }
        catch (SyntaxError e)
        {
            diags.Add(new Diagnostic(Severity.Error, src, e.Offset, e.Message));
            return null;
        }
    }

    // Tokens
    // ------

    private Token Raw => _t[_p];

    /// <summary>The current token; a column-1 token outside brackets (not the item's first) reads as the end.</summary>
    private Token Cur
    {
        get
        {
            var t = _t[_p];
            if (EndsItem(t, _p)) return t with { Kind = Tok.Eof };
            return t;
        }
    }

    private Token PeekAt(int k)
    {
        int i = Math.Min(_p + k, _t.Count - 1);
        var t = _t[i];
        if (EndsItem(t, i)) return t with { Kind = Tok.Eof };
        return t;
    }

    /// <summary>An unindented token starts the next item (outside brackets); an unindented `def` always does.</summary>
    private bool EndsItem(Token t, int i) =>
        (t.Column1 && i != _itemStart && (t.Kind == Tok.Def || (_depth == 0 && !Continues(t.Kind))))
        || (_block != null && _depth == _block.Depth && i != _block.StmtStart && t.LineStart && t.Column <= _block.Column && !Continues(t.Kind));

    /// <summary>A line starting with a closing bracket or a flow arrow continues the item above it.</summary>
    private static bool Continues(Tok k) => k is Tok.RParen or Tok.RBracket or Tok.RBrace or Tok.Arrow;

    /// <summary>The innermost `{ ... }` block being parsed: its bracket depth, and where and at which column its current statement began.</summary>
    private sealed class BlockCtx(int depth, BlockCtx? outer)
    {
        public int Depth { get; } = depth;
        public BlockCtx? Outer { get; } = outer;
        public int StmtStart { get; set; } = -1;
        public int Column { get; set; }
    }

    private BlockCtx? _block;
    private bool _noBlock;

    private Token Advance()
    {
        var t = _t[_p];
        if (_p < _t.Count - 1) _p++;
        if (t.Kind is Tok.LParen or Tok.LBracket or Tok.LBrace) _depth++;
        else if (t.Kind is Tok.RParen or Tok.RBracket or Tok.RBrace) _depth = Math.Max(0, _depth - 1);
        return t;
    }

    private bool Accept(Tok k)
    {
        if (Cur.Kind != k) return false;
        Advance();
        return true;
    }

    private Token Expect(Tok k, string what)
    {
        if (Cur.Kind != k) throw Unexpected(what);
        return Advance();
    }

    private SyntaxError Unexpected(string expected)
    {
        if (Cur.Kind != Tok.Eof || _p == 0) return new(Cur.Offset, $"unexpected {Describe(Raw)}, expected {expected}");
        // The item ended (end of file, or an unindented line): point just after its last token.
        int at = _t[_p - 1].End;
        return Raw.Kind == Tok.Eof
            ? new(at, $"unexpected end of file, expected {expected}")
            : new(at, $"unexpected end of the definition (line {_src.LineColumn(Raw.Offset).Line} starts unindented, so it begins a new one), expected {expected}");
    }

    public static string Describe(Token t)
    {
        if (t.Kind == Tok.Eof && t.Length == 0) return "end of file";
        return t.Kind switch
        {
            Tok.Ident => $"'{t.Text}'",
            Tok.Number => $"number {t.Text}",
            Tok.String => "string",
            _ => $"'{t.Text}'",
        };
    }

    private string Where(int offset)
    {
        var (l, c) = _src.LineColumn(offset);
        return $"{l}:{c}";
    }

    // Program
    // -------

    private ProgramAst ParseProgram()
    {
        // A program is a sequence of statements: `def`/`fn` definitions and `name = e` bindings (all global,
        // visible everywhere) and expressions, each printed on its own line.
        var defs = new List<Definition>();
        var broken = new HashSet<string>(StringComparer.Ordinal);
        var mains = new List<Expr>();
        Definition? lastBinding = null;
        while (Raw.Kind != Tok.Eof)
        {
            _itemStart = _p;
            _depth = 0;
            _block = null;
            _defName = null;
            try
            {
                if (Raw.Kind == Tok.Def || IsFnStart()) defs.Add(ParseDef());
                else if (IsBindingStart()) defs.Add(lastBinding = ParseBinding());
                else mains.Add(ParseExpr());
                if (Cur.Kind != Tok.Eof)
                    throw Raw.Kind == Tok.FatArrow
                        ? new SyntaxError(Cur.Offset, "unexpected '=>' outside a match arm, expected an operator or the end of the definition")
                        : Unexpected("an operator or the end of the definition");
            }
            catch (SyntaxError e)
            {
                _diags.Add(new Diagnostic(Severity.Error, _src, e.Offset, e.Message));
                broken.Add(_defName ?? "main");
                SkipToNextItem();
            }
        }
        Expr? main = mains.Count switch
        {
            0 => lastBinding != null && !defs.Any(d => d.Name == "main") ? new Name(lastBinding.Offset, lastBinding.Name) : null,
            1 => mains[0],
            _ => new Lines(mains[0].Offset, mains),
        };
        return new ProgramAst(defs, main, broken);
    }

    /// <summary>`fn name(...) =` or `fn name =` (fn is a keyword only there).</summary>
    private bool IsFnStart() =>
        Raw.Kind == Tok.Ident && Raw.Text == "fn" && PeekAt(1).Kind == Tok.Ident && PeekAt(2).Kind is Tok.LParen or Tok.Eq;

    /// <summary>`name = e` (a single `=`: `==` is a comparison).</summary>
    private bool IsBindingStart() => Raw.Kind == Tok.Ident && PeekAt(1).Kind == Tok.Eq;

    private Definition ParseBinding()
    {
        var name = Advance();
        _defName = name.Text;
        Advance();
        if (Cur.Kind == Tok.Eof) throw Unexpected($"an expression after '{name.Text} ='");
        return new Definition(name.Offset, name.Text, [], ParseExpr());
    }

    private void SkipToNextItem()
    {
        _depth = 0;
        if (_p == _itemStart && Raw.Kind != Tok.Eof) Advance();
        while (Raw.Kind != Tok.Eof && !(Raw.Column1 && Raw.Kind is not (Tok.RParen or Tok.RBracket or Tok.RBrace)))
            Advance();
        _depth = 0;
    }

    private string? _defName;

    private Definition ParseDef()
    {
        var kw = Advance();
        var name = Cur;
        if (name.Kind != Tok.Ident)
            throw Unexpected(Lexer.Keywords.ContainsKey(name.Text) ? $"a definition name ('{name.Text}' is a keyword)" : $"a definition name after '{kw.Text}'");
        Advance();
        _defName = name.Text;
        var ps = ParseParams(kw, name);
        Advance();
        var body = ParseExpr();
        return new Definition(kw.Offset, name.Text, ps, body);
    }

    // Expressions, loosest first
    // --------------------------

    /// <summary>
    /// An expression. The heads `λx.`, `let p = v;` and `if c then a else` end in an expression of their
    /// own, so a chain of them (a thousand lets, an else-if ladder) is read in a loop, not by recursion:
    /// the stack stays as deep as the brackets are, whatever the length of the chain.
    /// </summary>
    public Expr ParseExpr() => ParseExpr(null);

    /// <summary>An expression; <paramref name="first"/>: its first atom, already read (see ParseGroup).</summary>
    private Expr ParseExpr(Expr? first)
    {
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack()) throw TooDeep();
        List<Func<Expr, Expr>>? heads = null;
        while (first == null && Cur.Kind is Tok.Lambda or Tok.Let or Tok.If)
        {
            var head = Cur.Kind switch { Tok.Lambda => LambdaHead(), Tok.Let => LetHead(), _ => IfHead() };
            (heads ??= []).Add(head);
        }
        var e = ParseFlow(first);
        if (heads != null)
            for (int i = heads.Count - 1; i >= 0; i--) e = heads[i](e);
        return e;
    }

    private Expr ParseLambda() => LambdaHead()(ParseExpr());
    private Expr ParseLet() => LetHead()(ParseExpr());
    private Expr ParseIf() => IfHead()(ParseExpr());

    /// <summary>`λx, y.`: what builds the lambda around its body.</summary>
    private Func<Expr, Expr> LambdaHead()
    {
        int at = Advance().Offset;
        var ps = new List<Param>();
        while (Cur.Kind is Tok.Ident or Tok.Comma)
        {
            var t = Advance();
            if (t.Kind == Tok.Ident) ps.Add(new Param(t.Offset, t.Text));
        }
        if (ps.Count == 0) throw Unexpected("a parameter name after the lambda");
        Expect(Tok.Dot, "'.' between the lambda's parameters and its body");
        return body => new Lambda(at, ps, body);
    }

    /// <summary>`let p = v;` or `let @a = v;`: what builds the let around its body.</summary>
    private Func<Expr, Expr> LetHead()
    {
        int at = Advance().Offset;
        if (Cur.Kind == Tok.At)
        {
            Advance();
            var name = Expect(Tok.Ident, "an anchor name after 'let @'");
            Expect(Tok.Eq, $"'=' after 'let @{name.Text}'");
            var v = LetValue();
            ExpectLetEnd();
            return body => new LetAnchor(at, name.Text, v, body);
        }
        var pat = ParsePattern();
        if (Cur.Kind != Tok.Eq) throw Unexpected("'=' after the let pattern");
        Advance();
        var value = LetValue();
        ExpectLetEnd();
        return body => new LetIn(at, pat, value, body);
    }

    /// <summary>The bracket depth at which `in` ends a let's value; elsewhere `in` is a word (`[result in context]`).</summary>
    private int _letIn = -1;

    private Expr LetValue()
    {
        int save = _letIn;
        _letIn = _depth;
        try { return ParseExpr(); }
        finally { _letIn = save; }
    }

    private bool InIsWord(Token t) => t.Kind == Tok.In && _letIn != _depth;

    private void ExpectLetEnd()
    {
        if (Cur.Kind is Tok.Semi or Tok.In) { Advance(); return; }
        throw Unexpected("';' or 'in' after the let binding");
    }

    /// <summary>`if c then a else`: what builds the if around its else branch.</summary>
    private Func<Expr, Expr> IfHead()
    {
        int at = Advance().Offset;
        var c = ParseExpr();
        if (Cur.Kind != Tok.Then) throw Unexpected("'then' after the condition of 'if'");
        Advance();
        var a = ParseExpr();
        if (Cur.Kind != Tok.Else) throw Unexpected("'else' (every 'if' has an else branch)");
        Advance();
        return otherwise => new IfThen(at, c, a, otherwise);
    }

    private Expr ParseMatch()
    {
        int at = Advance().Offset;
        bool saveNoBlock = _noBlock;
        _noBlock = true;
        var scrut = ParseFlow();
        _noBlock = saveNoBlock;
        var open = Cur;
        if (open.Kind != Tok.LBrace) throw Unexpected("'{' to open the match arms");
        Advance();
        int armDepth = _depth;
        var arms = new List<Arm>();
        bool armError = false;
        while (Cur.Kind != Tok.RBrace)
        {
            if (Cur.Kind == Tok.Eof)
                throw new SyntaxError(Cur.Offset, $"unexpected {Describe(Raw)}, expected '}}' to close the match opened at {Where(open.Offset)}");
            try
            {
                var pat = ParsePattern();
                if (Cur.Kind != Tok.FatArrow) throw Unexpected("'=>' after the pattern");
                Advance();
                var body = ParseExpr();
                arms.Add(new Arm(pat.Offset, pat, body));
                if (Cur.Kind == Tok.RBrace) break;
                if (Cur.Kind != Tok.Semi) throw Unexpected("';' between match arms or '}' to close the match");
                Advance();
            }
            catch (SyntaxError e) when (Raw.Kind != Tok.Eof)
            {
                _diags.Add(new Diagnostic(Severity.Error, _src, e.Offset, e.Message));
                armError = true;
                // Recover: skip to the next ';' or '}' at this match's depth.
                while (Raw.Kind != Tok.Eof && !(_depth == armDepth && Raw.Kind is Tok.Semi or Tok.RBrace) && _depth >= armDepth
                       && !(Raw.Column1 && Raw.Kind == Tok.Def))
                    Advance();
                if (Raw.Column1 && Raw.Kind == Tok.Def) throw new SyntaxError(Raw.Offset, $"unexpected 'def', expected '}}' to close the match opened at {Where(open.Offset)}");
                if (_depth < armDepth) return new MatchExpr(at, scrut, arms);
                if (Raw.Kind == Tok.Semi) Advance();
            }
        }
        Advance();
        if (arms.Count == 0 && !armError)
            _diags.Add(new Diagnostic(Severity.Error, _src, at, "match with no arms, expected at least one 'pattern => expression'"));
        return new MatchExpr(at, scrut, arms);
    }

    private Expr ParseFlow(Expr? first = null)
    {
        var e = ParseCollapse(first);
        while (Cur.Kind == Tok.Arrow)
        {
            int at = Advance().Offset;
            var f = ParseCollapse();
            // A flow into an open question gives it the value: `x → ~explain[in context]` asks ~explain[x, in context].
            if (f is SiteExpr { Open: true } q) e = q with { Args = [e, .. q.Args] };
            else e = new Apply(at, f, e, ApplyKind.Flow);
        }
        return e;
    }

    /// <summary>`e @ ctx` (a space after '@'; `e@now` anchors): collapse the superposition e in the context ctx.</summary>
    private Expr ParseCollapse(Expr? first = null)
    {
        var e = ParseBinary(0, first);
        while (IsCollapseAt())
        {
            Advance();
            if (!StartsAtom(Cur) && !StartsBlock(Cur) && !InIsWord(Cur) && Cur.Kind is not (Tok.Bang or Tok.Minus))
                throw Unexpected("a context after the collapse '@', such as [red, blue] @ user_pref");
            var ctx = ParseBinary(0);
            e = new Collapse(e.Offset, _t[_p - 1].End, e, ctx);
        }
        return e;
    }

    /// <summary>Inside brackets a `{` opens a block again (a match's scrutinee does not reach in).</summary>
    private Expr Bracketed(Func<Expr> parse)
    {
        bool save = _noBlock;
        _noBlock = false;
        try { return parse(); }
        finally { _noBlock = save; }
    }

    /// <summary>A `{` that opens a block (not a match's arms).</summary>
    private bool StartsBlock(Token t) => t.Kind == Tok.LBrace && !_noBlock;

    /// <summary>An '@' followed by a space is the collapse operator.</summary>
    private bool IsCollapseAt() => Cur.Kind == Tok.At && PeekAt(1).SpaceBefore && PeekAt(1).Kind != Tok.Eof;

    /// <summary>The binary operators' levels, loosest (0) to tightest; -1: not a binary operator.</summary>
    private static int LevelOf(Tok k) => k switch
    {
        Tok.OrOr => 0,
        Tok.AndAnd => 1,
        Tok.EqEq or Tok.NotEq or Tok.Lt or Tok.Gt or Tok.Le or Tok.Ge => 2,
        Tok.Pipe => 3,
        Tok.Caret => 4,
        Tok.Amp => 5,
        Tok.Shl or Tok.Shr => 6,
        Tok.Plus or Tok.Minus => 7,
        Tok.Star or Tok.Slash or Tok.Percent => 8,
        _ => -1,
    };

    /// <summary>
    /// Binary operators at level <paramref name="min"/> or tighter, all left-associative (precedence
    /// climbing: one frame per operand that is itself an operation of a tighter level, not one per level).
    /// </summary>
    private Expr ParseBinary(int min, Expr? first = null)
    {
        var e = first != null ? ParseTyped(first) : ParsePrefix();
        while (true)
        {
            int level = LevelOf(Cur.Kind);
            if (level < min) return e;
            var op = Advance();
            var r = ParseBinary(level + 1);
            e = new Binary(op.Offset, op.Kind, e, r);
        }
    }

    private Expr ParsePrefix()
    {
        var t = Cur;
        if (t.Kind is Tok.Bang or Tok.Minus)
        {
            Advance();
            return new Unary(t.Offset, t.Kind, ParsePrefix());
        }
        if (t.Kind == Tok.At && PeekAt(1).Kind == Tok.Ident && !PeekAt(1).SpaceBefore && StartsAtom(PeekAt(2))
            && !(PeekAt(2).Kind == Tok.At && PeekAt(3).SpaceBefore))
        {
            // `@name e`: the value of e anchored to name.
            Advance();
            var name = Advance();
            return new Anchored(t.Offset, name.Text, ParsePrefix());
        }
        return ParseTyped();
    }

    private Expr ParseTyped(Expr? first = null)
    {
        var e = ParseApp(first);
        if (Cur.Kind != Tok.Colon) return e;
        Advance();
        var ty = Expect(Tok.Ident, "a type word after ':'");
        if (e is SiteExpr s) return s with { Type = ty.Text };
        return new Typed(e.Offset, e, ty.Text);
    }

    private static bool StartsAtom(Token t) => t.Kind is Tok.Number or Tok.String or Tok.Ident or Tok.Quote or Tok.LParen or Tok.LBracket
        or Tok.At or Tok.Amb or Tok.Tilde or Tok.Lambda or Tok.Match or Tok.Let or Tok.If;

    private Expr ParseApp(Expr? first = null)
    {
        var f = ParsePostfix(first);
        while ((StartsAtom(Cur) || InIsWord(Cur) || StartsBlock(Cur)) && !IsCollapseAt())
        {
            var a = ParsePostfix();
            f = new Apply(a.Offset, f, a, ApplyKind.Juxt);
        }
        return f;
    }

    private Expr ParsePostfix(Expr? first = null)
    {
        var e = first ?? ParseAtom();
        while (true)
        {
            var t = Cur;
            if (t.Kind == Tok.LParen && !t.SpaceBefore)
            {
                // f(x, y) is f x y.
                Advance();
                if (Cur.Kind == Tok.RParen) throw Unexpected("an argument ('f()' has no arguments; write 'f' alone)");
                do e = new Apply(Cur.Offset, e, ParseExpr());
                while (Accept(Tok.Comma));
                if (Cur.Kind != Tok.RParen) throw UnclosedArguments(t);
                Advance();
            }
            else if (t.Kind == Tok.At && !t.SpaceBefore && PeekAt(1).Kind == Tok.Ident && !PeekAt(1).SpaceBefore)
            {
                Advance();
                var name = Advance();
                e = new Anchored(t.Offset, name.Text, e);
            }
            else return e;
        }
    }

    private Expr ParseAtom()
    {
        var t = Cur;
        switch (t.Kind)
        {
            case Tok.Number: Advance(); return new NumLit(t.Offset, t.Numb);
            case Tok.String: Advance(); return new StrLit(t.Offset, t.Text);
            case Tok.Quote:
            {
                Advance();
                if (Cur.Kind != Tok.Ident || Cur.SpaceBefore) throw Unexpected("a word right after ', such as 'yes");
                return new QuotedWord(t.Offset, Advance().Text);
            }
            case Tok.Ident:
            {
                if (PeekAt(1).Kind == Tok.LBracket && !PeekAt(1).SpaceBefore) return ParseGroup();
                Advance();
                return new Name(t.Offset, t.Text);
            }
            case Tok.LParen:
            {
                Advance();
                if (Cur.Kind == Tok.RParen) throw Unexpected("an expression inside '()'");
                var e = Bracketed(ParseExpr);
                if (Cur.Kind != Tok.RParen) throw UnclosedParen(t);
                Advance();
                return e;
            }
            case Tok.LBracket: return ParseGroup();
            case Tok.At:
            {
                Advance();
                var name = Cur;
                if (name.Kind != Tok.Ident || name.SpaceBefore) throw Unexpected("an anchor name right after '@', such as @now");
                Advance();
                return new AnchorRef(t.Offset, name.Text);
            }
            case Tok.Amb: case Tok.Tilde: return StartsGroupAt(_p) ? ParseGroup() : ParseQuestion(t);
            case Tok.LBrace: return ParseBlock();
            case Tok.Lambda: return ParseLambda();
            case Tok.Let: return ParseLet();
            case Tok.If: return ParseIf();
            case Tok.Match: return ParseMatch();
            case Tok.FatArrow: throw Unexpected("an expression ('=>' belongs in a match arm: match e { pattern => value })");
            case Tok.Then: throw Unexpected("an expression ('then' without 'if')");
            case Tok.Else: throw Unexpected("an expression ('else' without 'if ... then')");
            case Tok.In when InIsWord(t): Advance(); return new Name(t.Offset, "in");
            case Tok.In: throw Unexpected("an expression ('in' without 'let')");
            default: throw Unexpected("an expression");
        }
    }

    /// <summary>`∿ now ...` at token i: a temporal wave (a space after ∿, then a tense word), not a question.</summary>
    private bool IsWaveAt(int i)
    {
        var t = _t[i];
        var head = PeekAt(i + 1 - _p);
        return t.Kind == Tok.Amb && t.Text != "amb" && head.Kind == Tok.Ident && head.SpaceBefore && Tenses.Contains(head.Text);
    }

    /// <summary>At token i: a bracket form ParseGroup reads, `[`, `word[`, `∿head[` or `~head[` (not a wave).</summary>
    private bool StartsGroupAt(int i)
    {
        var t = PeekAt(i - _p);
        switch (t.Kind)
        {
            case Tok.LBracket: return true;
            case Tok.Ident:
            {
                var next = PeekAt(i + 1 - _p);
                return next.Kind == Tok.LBracket && !next.SpaceBefore;
            }
            case Tok.Amb: case Tok.Tilde:
                return !IsWaveAt(i) && PeekAt(i + 1 - _p).Kind == Tok.Ident && PeekAt(i + 2 - _p).Kind == Tok.LBracket;
            default: return false;
        }
    }

    /// <summary>A bracket form being read by ParseGroup: its opening tokens, the items so far, its tail.</summary>
    private sealed class Group(Token start, Token head, Token open, string what)
    {
        public Token Start { get; } = start;
        public Token Head { get; } = head;
        public Token Open { get; } = open;
        public string What { get; } = what;
        public List<Expr> Items { get; } = [];
        public Expr? Tail { get; set; }
    }

    /// <summary>
    /// A list `[...]`, a compound `word[...]` or a question `∿head[...]` / `~head[...]`, with the bracket
    /// forms nested in its items read in a loop over an explicit stack of open groups, not by recursion: a
    /// question nested a million levels deep in its candidates parses like a flat one. An item that is more
    /// than one bracket form (`[a] @ ctx`, `∿emo[a, b] : emotion`, `x + 1`) is read by ParseExpr, the
    /// bracket form it starts with handed to it.
    /// </summary>
    private Expr ParseGroup()
    {
        var stack = new List<Group>();
        bool outerNoBlock = _noBlock;
        // Inside brackets a `{` opens a block again.
        _noBlock = false;
        try
        {
            OpenGroup(stack);
            while (true)
            {
                var g = stack[^1];
                if (Cur.Kind == Tok.RBracket)
                {
                    Advance();
                    var e = CloseGroup(g);
                    stack.RemoveAt(stack.Count - 1);
                    if (stack.Count == 0) return e;
                    if (Cur.Kind is not (Tok.Comma or Tok.RBracket)) e = ParseExpr(e);
                    AddItem(stack[^1], e);
                    continue;
                }
                if (Cur.Kind == Tok.Ellipsis)
                {
                    Advance();
                    if (stack.Count == 1) _noBlock = outerNoBlock;
                    try { g.Tail = ParseExpr(); }
                    finally { _noBlock = false; }
                    if (Cur.Kind != Tok.RBracket) throw UnclosedItems(g.Open, g.What, afterSpread: true);
                    continue;
                }
                if (StartsGroupAt(_p))
                {
                    OpenGroup(stack);
                    continue;
                }
                AddItem(g, ParseExpr());
            }
        }
        finally { _noBlock = outerNoBlock; }
    }

    /// <summary>Reads a bracket form's opening tokens (its head and '[') and pushes it.</summary>
    private void OpenGroup(List<Group> stack)
    {
        var start = Advance();
        if (start.Kind == Tok.LBracket)
        {
            stack.Add(new Group(start, start, start, "list"));
            return;
        }
        if (start.Kind == Tok.Ident)
        {
            stack.Add(new Group(start, start, Advance(), "compound"));
            return;
        }
        var head = Advance();
        stack.Add(new Group(start, head, Advance(), "candidate list"));
    }

    /// <summary>An item of g has been read: a ',' must follow, or the closing ']' (left for the loop).</summary>
    private void AddItem(Group g, Expr item)
    {
        g.Items.Add(item);
        if (Cur.Kind == Tok.RBracket) return;
        if (Cur.Kind != Tok.Comma) throw UnclosedItems(g.Open, g.What, afterSpread: false);
        Advance();
    }

    /// <summary>The expression of a bracket form whose ']' was just read.</summary>
    private Expr CloseGroup(Group g)
    {
        var t = g.Start;
        switch (t.Kind)
        {
            case Tok.LBracket: return new ListLit(t.Offset, g.Items, g.Tail);
            case Tok.Ident:
                if (g.Tail != null) throw SpreadInCompound(t, g.Tail);
                return new CompoundLit(t.Offset, t.Text, g.Items);
            default:
                if (t.Kind != Tok.Tilde && g.Items.Count == 0 && g.Tail == null) throw NoCandidates(t, g.Head, g.Open);
                return new SiteExpr(t.Offset, _t[_p - 1].End, t.Kind == Tok.Tilde, g.Head.Text, g.Items, g.Tail, null);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private SyntaxError TooDeep() =>
        new(Cur.Offset, $"the expression is nested too deeply here (at bracket depth {_depth}), expected less nesting: split it with let or def");

    /// <summary>
    /// A `∿` or `~` that does not start a bracket form (ParseGroup reads `∿head[...]`): a temporal wave
    /// (a space and a tense word after ∿), or else the error of what is missing.
    /// </summary>
    private Expr ParseQuestion(Token t)
    {
        Advance();
        var head = Cur;
        // `∿ now [e]`, `∿ now e`: a temporal wave (a space after ∿, then a tense word).
        if (t.Kind == Tok.Amb && t.Text != "amb" && head.Kind == Tok.Ident && head.SpaceBefore && Tenses.Contains(head.Text))
            return ParseWave(t, Advance());
        if (head.Kind != Tok.Ident) throw NoQuestionHead(t);
        Advance();
        throw NoCandidateList(t, head);
    }

    // The messages of the nesting forms are built apart (not inlined): the frames of the methods that
    // recurse once per bracket level stay small, so the 2 GB stack holds millions of levels.

    private static string QuestionSymbol(Token t) => t.Text == "amb" ? "amb " : t.Text;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private SyntaxError NoQuestionHead(Token t) =>
        Unexpected($"a question such as {QuestionSymbol(t)}lov[joy, pai] after '{t.Text}' (a head word and its {(t.Kind == Tok.Tilde ? "arguments" : "candidates")})");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private SyntaxError NoCandidateList(Token t, Token head) =>
        Unexpected(t.Kind == Tok.Amb && head.SpaceBefore && t.Text != "amb"
            ? $"'[' after ∿ {head.Text} to list its candidates, or a tense word after '∿ ' for a temporal wave ({string.Join(", ", TenseList)})"
            : $"'[' after {QuestionSymbol(t)}{head.Text}, to list its {(t.Kind == Tok.Tilde ? "arguments" : "candidates")}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static SyntaxError NoCandidates(Token t, Token head, Token open) =>
        new(open.Offset, $"{QuestionSymbol(t)}{head.Text}[] has no candidates, expected at least one");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static SyntaxError SpreadInCompound(Token t, Expr tail) =>
        new(tail.Offset, $"a spread '...' in compound {t.Text}[...], expected fields only (spread is for lists and oracle candidates)");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private SyntaxError UnclosedParen(Token t) => Unexpected($"')' to close the '(' opened at {Where(t.Offset)}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private SyntaxError UnclosedArguments(Token t) => Unexpected($"',' or ')' to close the arguments opened at {Where(t.Offset)}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private SyntaxError UnclosedItems(Token open, string what, bool afterSpread) => Unexpected(afterSpread
        ? $"']' after the spread '...' (it comes last), to close the {what} opened at {Where(open.Offset)}"
        : $"',' or ']' to close the {what} opened at {Where(open.Offset)}");

    /// <summary>`(a, b)` after a definition's name, if any; then the '=' must follow (it is not consumed).</summary>
    private List<Param> ParseParams(Token kw, Token name)
    {
        var ps = new List<Param>();
        if (Cur.Kind == Tok.LParen)
        {
            Advance();
            if (Cur.Kind != Tok.RParen)
            {
                do
                {
                    var p = Expect(Tok.Ident, "a parameter name");
                    ps.Add(new Param(p.Offset, p.Text));
                } while (Accept(Tok.Comma));
            }
            Expect(Tok.RParen, "',' or ')' to close the parameter list");
        }
        if (Cur.Kind != Tok.Eq) throw Unexpected($"'=' after '{kw.Text} {name.Text}{(ps.Count > 0 ? "(...)" : "")}'");
        return ps;
    }

    /// <summary>The tense words of temporal waves `∿ now [e]`.</summary>
    public static readonly string[] TenseList = ["was", "now", "wil", "bef", "aft", "beg", "end", "dur", "pas", "fut", "alw", "nev"];
    public static readonly HashSet<string> Tenses = new(TenseList, StringComparer.Ordinal);

    /// <summary>After `∿ tense`: `[e]` (one item: e itself; several: a list), `[label] { block }`, or an operand `e`.</summary>
    private Expr ParseWave(Token wave, Token tense)
    {
        if (Cur.Kind == Tok.LBracket)
        {
            var open = Cur;
            var (items, tail) = ParseItems(open, "wave");
            Expr body = items.Count == 1 && tail == null ? items[0] : new ListLit(open.Offset, items, tail);
            if (items.Count == 0 && tail == null) throw new SyntaxError(open.Offset, $"∿ {tense.Text} [] is empty, expected an expression inside the brackets");
            if (Cur.Kind == Tok.LBrace && !_noBlock) return new Wave(wave.Offset, tense.Text, body, ParseBlock());
            return new Wave(wave.Offset, tense.Text, null, body);
        }
        if (!StartsAtom(Cur) && Cur.Kind != Tok.LBrace)
            throw Unexpected($"an expression after ∿ {tense.Text}, such as ∿ {tense.Text} [hello world]");
        return new Wave(wave.Offset, tense.Text, null, Cur.Kind == Tok.LBrace ? ParseBlock() : ParseApp());
    }

    /// <summary>
    /// `{ s1; s2 ... }`: statements (`name = e`, `fn f(a) = e`, expressions) separated by `;` or new lines;
    /// its value is the last one's. A line indented no deeper than its statement starts the next one.
    /// </summary>
    private Expr ParseBlock()
    {
        var open = Advance();
        var saveNoBlock = _noBlock;
        _noBlock = false;
        var block = new BlockCtx(_depth, _block);
        _block = block;
        var stmts = new List<(int Kind, Token Name, List<Param>? Ps, Expr E)>();
        try
        {
        while (true)
        {
            while (Raw.Kind == Tok.Semi) Advance();
            if (Raw.Kind == Tok.RBrace) break;
            block.StmtStart = _p;
            block.Column = Raw.Column;
            if (Cur.Kind == Tok.Eof || (Raw.Column1 && Raw.Kind == Tok.Def))
                throw new SyntaxError(Raw.Kind == Tok.Eof ? Raw.Offset : _t[_p - 1].End, $"unexpected {Describe(Raw)}, expected '}}' to close the block opened at {Where(open.Offset)}");
            if (Raw.Kind == Tok.Def)
                throw new SyntaxError(Raw.Offset, "'def' inside a block, expected 'fn name(...) = ...' for a local function (def is for the top level)");
            if (IsFnStart())
            {
                var kw = Advance();
                var name = Advance();
                var ps = ParseParams(kw, name);
                Advance();
                // `fn f = e` without parameters is the binding `f = e`.
                stmts.Add((ps.Count > 0 ? 1 : 2, name, ps, ParseExpr()));
            }
            else if (IsBindingStart())
            {
                var name = Advance();
                Advance();
                stmts.Add((2, name, null, ParseExpr()));
            }
            else stmts.Add((0, Raw, null, ParseExpr()));
            if (Raw.Kind is Tok.Semi or Tok.RBrace) continue;
            if (Cur.Kind == Tok.Eof && Raw.Kind != Tok.Eof && Raw.LineStart && !(Raw.Column1 && Raw.Kind == Tok.Def)) continue;
            if (Cur.Kind == Tok.Eof) throw Unexpected($"'}}' to close the block opened at {Where(open.Offset)}");
            throw Unexpected($"';', a new line or '}}' after the statement, in the block opened at {Where(open.Offset)}");
        }
        }
        finally
        {
            _block = block.Outer;
            _noBlock = saveNoBlock;
        }
        Advance();
        if (stmts.Count == 0) throw new SyntaxError(open.Offset, "empty block '{}', expected at least one statement or expression");
        // The last statement gives the value; the ones before are lets around it.
        var (k, n, ps0, e0) = stmts[^1];
        Expr body = k switch
        {
            1 => new LetFn(n.Offset, n.Text, ps0!, e0, new Name(n.Offset, n.Text)),
            2 => new LetIn(n.Offset, new PName(n.Offset, n.Text), e0, new Name(n.Offset, n.Text)),
            _ => e0,
        };
        for (int i = stmts.Count - 2; i >= 0; i--)
        {
            var (kind, name, ps, e) = stmts[i];
            body = kind switch
            {
                1 => new LetFn(name.Offset, name.Text, ps!, e, body),
                2 => new LetIn(name.Offset, new PName(name.Offset, name.Text), e, body),
                _ => new LetIn(e.Offset, new PWild(e.Offset), e, body),
            };
        }
        return body;
    }

    /// <summary>`[e1, ..., en]` or `[e1, ..., ...tail]` (the opening bracket is the current token).</summary>
    private (List<Expr> Items, Expr? Tail) ParseItems(Token open, string what)
    {
        Advance();
        var items = new List<Expr>();
        Expr? tail = null;
        while (Cur.Kind != Tok.RBracket)
        {
            if (Cur.Kind == Tok.Ellipsis)
            {
                Advance();
                tail = ParseExpr();
                if (Cur.Kind != Tok.RBracket) throw UnclosedItems(open, what, afterSpread: true);
                break;
            }
            // Inside brackets a `{` opens a block again (inline, not through Bracketed: one frame less per level).
            bool saveNoBlock = _noBlock;
            _noBlock = false;
            try { items.Add(ParseExpr()); }
            finally { _noBlock = saveNoBlock; }
            if (Cur.Kind == Tok.RBracket) break;
            if (Cur.Kind != Tok.Comma) throw UnclosedItems(open, what, afterSpread: false);
            Advance();
        }
        Advance();
        return (items, tail);
    }

    // Patterns
    // --------

    private Pattern ParsePattern()
    {
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack()) throw TooDeep();
        var t = Cur;
        switch (t.Kind)
        {
            case Tok.Number:
            {
                Advance();
                if (Cur.Kind == Tok.Plus)
                {
                    Advance();
                    if (Numb(t) is not { } k)
                        throw new SyntaxError(t.Offset, $"'{t.Text}+' pattern, expected an unsigned integer before '+' such as 1+p");
                    return new PSucc(t.Offset, k, ParsePattern());
                }
                return new PNum(t.Offset, t.Numb);
            }
            case Tok.String: Advance(); return new PStr(t.Offset, t.Text);
            case Tok.Quote:
            {
                Advance();
                if (Cur.Kind != Tok.Ident || Cur.SpaceBefore) throw Unexpected("a word right after ', such as 'yes");
                return new PWord(t.Offset, Advance().Text);
            }
            case Tok.Ident:
            {
                Advance();
                if (t.Text == "_") return new PWild(t.Offset);
                if (Cur.Kind == Tok.LBracket && !Cur.SpaceBefore)
                {
                    var (items, tail) = ParsePatItems(Cur, "compound pattern");
                    if (tail != null) throw new SyntaxError(tail.Offset, "a spread '...' in a compound pattern, expected fields only");
                    return new PCompound(t.Offset, t.Text, items);
                }
                return new PName(t.Offset, t.Text);
            }
            case Tok.LBracket:
            {
                var (items, tail) = ParsePatItems(t, "list pattern");
                return new PList(t.Offset, items, tail);
            }
            case Tok.LParen:
            {
                Advance();
                var p = ParsePattern();
                Expect(Tok.RParen, $"')' to close the '(' opened at {Where(t.Offset)}");
                return p;
            }
            case Tok.FatArrow: throw Unexpected("a pattern before '=>'");
            default:
                throw Unexpected("a pattern (a number, 1+p, a word, head[...], [], [h, ...t], a string, _ or a variable)");
        }
    }

    private static uint? Numb(Token t) =>
        t.Text.Length > 0 && char.IsAsciiDigit(t.Text[0]) && !t.Text.Contains('.') ? Net.Numb.GetU24(t.Numb) : null;

    private (List<Pattern> Items, Pattern? Tail) ParsePatItems(Token open, string what)
    {
        Advance();
        var items = new List<Pattern>();
        Pattern? tail = null;
        while (Cur.Kind != Tok.RBracket)
        {
            if (Cur.Kind == Tok.Ellipsis)
            {
                Advance();
                tail = ParsePattern();
                if (Cur.Kind != Tok.RBracket) throw Unexpected($"']' after the rest pattern '...', to close the {what} opened at {Where(open.Offset)}");
                break;
            }
            items.Add(ParsePattern());
            if (Cur.Kind == Tok.RBracket) break;
            if (Cur.Kind != Tok.Comma) throw UnclosedItems(open, what, afterSpread: false);
            Advance();
        }
        Advance();
        return (items, tail);
    }
}
