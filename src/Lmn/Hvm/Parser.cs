using System.Globalization;
using Lmn.Net;
using Lmn.Text;

namespace Lmn.Hvm;

/// <summary>
/// Reads HVM2's textual format. Syntax errors are collected as diagnostics; after an error the
/// parser skips to the next definition (a line starting with '@') and goes on.
/// </summary>
public sealed class HvmParser
{
    private readonly SourceText _src;
    private readonly string _s;
    private int _i;
    private readonly List<Diagnostic> _diags = [];
    private readonly HashSet<string> _broken = new(StringComparer.Ordinal); // definitions that failed to parse

    private sealed class SyntaxError(int offset, string message) : Exception(message)
    {
        public int Offset { get; } = offset;
    }

    private HvmParser(SourceText src)
    {
        _src = src;
        _s = src.Text;
    }

    /// <summary>Parses and checks a book; throws <see cref="DiagnosticException"/> with every error found.</summary>
    public static HvmBook Parse(SourceText src)
    {
        var p = new HvmParser(src);
        var book = p.ParseBook();
        p._diags.AddRange(HvmChecker.Check(src, book, p._broken));
        if (p._diags.Any(d => d.Severity == Severity.Error))
            throw new DiagnosticException(p._diags.OrderBy(d => d.Offset).ToList());
        return book;
    }

    public static HvmBook Parse(string path, string text) => Parse(new SourceText(path, text));

    private HvmBook ParseBook()
    {
        var defs = new List<HvmDef>();
        SkipTrivia();
        while (_i < _s.Length)
        {
            int start = _i;
            string? name = null;
            try
            {
                Expect('@', "'@' to start a definition such as `@main = ...`");
                name = ParseName("a definition name");
                SkipTrivia();
                Expect('=', "'=' after the definition name");
                var net = ParseNet();
                defs.Add(new HvmDef(name, net, start));
            }
            catch (SyntaxError e)
            {
                _diags.Add(new Diagnostic(Severity.Error, _src, e.Offset, e.Message));
                if (name != null) _broken.Add(name);
                Recover();
            }
            SkipTrivia();
        }
        return new HvmBook(defs);
    }

    /// <summary>Skips to the next line that starts with '@'.</summary>
    private void Recover()
    {
        int j = _i;
        while (true)
        {
            int nl = _s.IndexOf('\n', j);
            if (nl < 0) { _i = _s.Length; return; }
            j = nl + 1;
            if (j < _s.Length && _s[j] == '@') { _i = j; return; }
        }
    }

    private HvmNet ParseNet()
    {
        var root = ParseTree();
        var redexes = new List<Redex>();
        SkipTrivia();
        while (Peek() == '&')
        {
            int at = _i;
            _i++;
            bool par = false;
            if (Peek() == '!') { par = true; _i++; }
            var a = ParseTree();
            SkipTrivia();
            Expect('~', "'~' between the two sides of a redex `& a ~ b`");
            var b = ParseTree();
            redexes.Add(new Redex(par, a, b, at));
            SkipTrivia();
        }
        return new HvmNet(root, redexes);
    }

    /// <summary>
    /// A tree, read with an explicit stack of the nodes still open (a `.hvm` result can be millions of
    /// levels deep): each leaf or closed node becomes the first child of the innermost open node, or its
    /// second, which closes it.
    /// </summary>
    private Tree ParseTree()
    {
        List<(TreeKind Kind, char Close, int At, Tree? Fst)>? open = null;
        while (true)
        {
            SkipTrivia();
            int at = _i;
            char c = Peek();
            (TreeKind Kind, char Close)? node = null;
            switch (c)
            {
                case '(':
                    _i++;
                    node = (TreeKind.Con, ')');
                    break;
                case '{':
                    _i++;
                    node = (TreeKind.Dup, '}');
                    break;
                case '$':
                    _i++;
                    Expect('(', "'(' after '$' (an operator node is `$(a b)`)");
                    node = (TreeKind.Opr, ')');
                    break;
                case '?':
                    _i++;
                    Expect('(', "'(' after '?' (a switch node is `?(a b)`)");
                    node = (TreeKind.Swi, ')');
                    break;
            }
            if (node is { } n)
            {
                (open ??= []).Add((n.Kind, n.Close, at, null));
                continue;
            }
            var t = ParseLeaf(c, at);
            while (true)
            {
                if (open == null || open.Count == 0) return t;
                var top = open[^1];
                if (top.Fst == null)
                {
                    open[^1] = (top.Kind, top.Close, top.At, t);
                    break;
                }
                ExpectClose(top.Kind, top.Close, top.At);
                open.RemoveAt(open.Count - 1);
                t = Tree.Node(top.Kind, top.Fst, t, top.At);
            }
        }
    }

    /// <summary>A tree without children: a reference, an eraser, a number or a variable.</summary>
    private Tree ParseLeaf(char c, int at)
    {
        switch (c)
        {
            case '@':
                _i++;
                return Tree.Ref(ParseName("a definition name after '@'"), at);
            case '*':
                _i++;
                return Tree.Era(at);
            case '\0' when _i >= _s.Length:
                throw new SyntaxError(at, "unexpected end of file, expected a tree");
        }
        if (c is (>= '0' and <= '9') or '+' or '-' or '[')
            return Tree.Num(ParseNumb(), at);
        if (IsNameChar(c))
            return Tree.Var(ParseName("a variable"), at);
        throw new SyntaxError(at, $"unexpected {Describe(c)}, expected a tree: `*`, `(a b)`, `{{a b}}`, `$(a b)`, `?(a b)`, `@ref`, a variable or a number");
    }

    /// <summary>After a node's two children: its closing bracket.</summary>
    private void ExpectClose(TreeKind kind, char close, int at)
    {
        SkipTrivia();
        if (Peek() != close)
        {
            int here = _i;
            char c = Peek();
            string opened = kind switch { TreeKind.Con => "(", TreeKind.Dup => "{", TreeKind.Opr => "$(", _ => "?(" };
            var (l, col) = _src.LineColumn(at);
            throw new SyntaxError(here, _i >= _s.Length
                ? $"unexpected end of file, expected '{close}' to close the '{opened}' opened at {l}:{col}"
                : $"unexpected {Describe(c)}, expected '{close}' to close the '{opened}' opened at {l}:{col} (a node has exactly two children)");
        }
        _i++;
    }

    private uint ParseNumb()
    {
        if (Peek() == '[') return ParseSymbol();
        return ParseLiteral();
    }

    private static readonly string[] OperatorOrder =
        ["+", "-", ":-", "*", "/", ":/", "%", ":%", "=", "!", "<<", ":<<", ">>", ":>>", "<", ">", "&", "|", "^"];

    private static readonly uint[] OperatorCodes =
    [
        Numb.OP_ADD, Numb.OP_SUB, Numb.FP_SUB, Numb.OP_MUL, Numb.OP_DIV, Numb.FP_DIV, Numb.OP_REM, Numb.FP_REM,
        Numb.OP_EQ, Numb.OP_NEQ, Numb.OP_SHL, Numb.FP_SHL, Numb.OP_SHR, Numb.FP_SHR, Numb.OP_LT, Numb.OP_GT,
        Numb.OP_AND, Numb.OP_OR, Numb.OP_XOR,
    ];

    private uint ParseSymbol()
    {
        int at = _i;
        _i++; // '['
        foreach (var (name, code) in new[] { ("u24", Numb.TY_U24), ("i24", Numb.TY_I24), ("f24", Numb.TY_F24),
                                             ("to_u24", Numb.TY_U24), ("to_i24", Numb.TY_I24), ("to_f24", Numb.TY_F24) })
        {
            if (string.CompareOrdinal(_s, _i, name, 0, name.Length) == 0 && _i + name.Length < _s.Length && _s[_i + name.Length] == ']')
            {
                _i += name.Length + 1;
                return Numb.NewSym(code);
            }
        }
        uint op = uint.MaxValue;
        for (int k = 0; k < OperatorOrder.Length; k++)
        {
            string sym = OperatorOrder[k];
            if (string.CompareOrdinal(_s, _i, sym, 0, sym.Length) == 0)
            {
                op = OperatorCodes[k];
                _i += sym.Length;
                break;
            }
        }
        if (op == uint.MaxValue)
        {
            int end = _s.IndexOf(']', _i);
            string text = end > _i && end - _i < 16 ? _s[_i..end] : Peek().ToString();
            throw new SyntaxError(_i, $"unknown operator `{text}`, expected one of + - :- * / :/ % :% = ! < > & | ^ << :<< >> :>> or a cast u24 i24 f24");
        }
        uint numb = Numb.NewSym(op);
        SkipTrivia();
        if (Peek() != ']')
        {
            uint operand = ParseLiteral();
            numb = Numb.Partial(numb, operand);
            SkipTrivia();
        }
        if (Peek() != ']')
            throw new SyntaxError(_i, $"unexpected {Describe(Peek())}, expected ']' to close the operator opened at {Where(at)}");
        _i++;
        return numb;
    }

    private uint ParseLiteral()
    {
        int at = _i;
        while (_i < _s.Length && (char.IsAsciiLetterOrDigit(_s[_i]) || _s[_i] is '+' or '-' or '.')) _i++;
        string num = _s[at.._i];
        if (num.Length == 0)
            throw new SyntaxError(at, $"unexpected {Describe(Peek())}, expected a number");
        if (num.Contains('.') || num.Contains("inf", StringComparison.OrdinalIgnoreCase) || num.Contains("NaN", StringComparison.OrdinalIgnoreCase))
        {
            if (!TryParseFloat(num, out float f))
                throw new SyntaxError(at, $"invalid number literal `{num}`, expected a float such as 1.5, -0.25, +inf or +NaN");
            return Numb.F24Literal(f);
        }
        if (num[0] is '+' or '-')
        {
            var sr = TryParseInt(num[1..], out ulong mag);
            if (sr == IntSyntax.Invalid)
                throw new SyntaxError(at, $"invalid number literal `{num}`, expected a signed integer such as +5, -5 or -0x1F");
            // The magnitude is compared before any conversion: 2^63 and more must not wrap to a small number.
            if (sr == IntSyntax.TooLarge || mag > (num[0] == '-' ? (ulong)-(long)Numb.I24Min : (ulong)Numb.I24Max))
                throw new SyntaxError(at, $"number {Clip(num)} out of range for i24, expected -8388608 to +8388607");
            return Numb.NewI24(num[0] == '-' ? -(int)mag : (int)mag);
        }
        var ur = TryParseInt(num, out ulong u);
        if (ur == IntSyntax.Invalid)
            throw new SyntaxError(at, $"invalid number literal `{Clip(num)}`, expected an unsigned integer such as 42, 0x1F or 0b101");
        if (ur == IntSyntax.TooLarge || u > Numb.U24Max)
            throw new SyntaxError(at, $"number {Clip(num)} out of range for u24, expected 0 to 16777215");
        return Numb.NewU24((uint)u);
    }

    private enum IntSyntax { Ok, Invalid, TooLarge }

    /// <summary>Decimal, 0x hex or 0b binary digits; <see cref="IntSyntax.TooLarge"/> when well formed but beyond 64 bits.</summary>
    private static IntSyntax TryParseInt(string s, out ulong value)
    {
        value = 0;
        int radix = 10;
        ReadOnlySpan<char> digits = s;
        if (s.StartsWith("0x", StringComparison.Ordinal)) { radix = 16; digits = s.AsSpan(2); }
        else if (s.StartsWith("0b", StringComparison.Ordinal)) { radix = 2; digits = s.AsSpan(2); }
        if (digits.Length == 0) return IntSyntax.Invalid;
        bool tooLarge = false;
        foreach (char ch in digits)
        {
            int d = ch is >= '0' and <= '9' ? ch - '0'
                : radix == 16 && ch is >= 'a' and <= 'f' ? ch - 'a' + 10
                : radix == 16 && ch is >= 'A' and <= 'F' ? ch - 'A' + 10
                : -1;
            if (d < 0 || d >= radix) return IntSyntax.Invalid;
            if (tooLarge) continue;
            if (value > (ulong.MaxValue - (ulong)d) / (ulong)radix) tooLarge = true;
            else value = value * (ulong)radix + (ulong)d;
        }
        return tooLarge ? IntSyntax.TooLarge : IntSyntax.Ok;
    }

    private static string Clip(string s) => s.Length > 40 ? s[..40] + "..." : s;

    /// <summary>Parses a float as Rust's f32::from_str does (inf, infinity and NaN in any case, with a sign).</summary>
    internal static bool TryParseFloat(string s, out float value)
    {
        string body = s.TrimStart('+', '-');
        bool neg = s.StartsWith('-');
        if (s.Length - body.Length > 1) { value = 0; return false; }
        if (body.Equals("inf", StringComparison.OrdinalIgnoreCase) || body.Equals("infinity", StringComparison.OrdinalIgnoreCase))
        {
            value = neg ? float.NegativeInfinity : float.PositiveInfinity;
            return true;
        }
        if (body.Equals("nan", StringComparison.OrdinalIgnoreCase))
        {
            value = neg ? -float.NaN : float.NaN;
            return true;
        }
        foreach (char ch in body)
            if (!(char.IsAsciiDigit(ch) || ch is '.' or 'e' or 'E' or '+' or '-')) { value = 0; return false; }
        return float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' or '/';

    private string ParseName(string what)
    {
        int at = _i;
        while (_i < _s.Length && IsNameChar(_s[_i])) _i++;
        if (_i == at)
            throw new SyntaxError(at, $"unexpected {Describe(Peek())}, expected {what}");
        return _s[at.._i];
    }

    private void Expect(char c, string what)
    {
        SkipTrivia();
        if (Peek() != c)
            throw new SyntaxError(_i, $"unexpected {Describe(Peek())}, expected {what}");
        _i++;
    }

    private char Peek() => _i < _s.Length ? _s[_i] : '\0';

    private void SkipTrivia()
    {
        while (_i < _s.Length)
        {
            char c = _s[_i];
            if (char.IsWhiteSpace(c)) { _i++; continue; }
            if (c == '/' && _i + 1 < _s.Length && _s[_i + 1] == '/')
            {
                int nl = _s.IndexOf('\n', _i);
                _i = nl < 0 ? _s.Length : nl + 1;
                continue;
            }
            break;
        }
    }

    private string Where(int offset)
    {
        var (l, c) = _src.LineColumn(offset);
        return $"{l}:{c}";
    }

    /// <summary>The character at the current position (<paramref name="c"/> is <see cref="Peek"/>) in words.</summary>
    private string Describe(char c) => c switch
    {
        '\0' when _i >= _s.Length => "end of file",
        '\0' => "NUL byte (U+0000)",
        '\n' or '\r' => "end of line",
        '\uFFFD' => "invalid UTF-8 (U+FFFD)",
        _ when char.IsControl(c) || char.IsSurrogate(c) || char.IsWhiteSpace(c) => $"character U+{(int)c:X4}",
        _ => $"'{c}'",
    };
}

/// <summary>Checks a parsed book: @main exists, every @ref is defined, no duplicate definitions,
/// and every variable occurs exactly twice in its definition.</summary>
public static class HvmChecker
{
    public static List<Diagnostic> Check(SourceText src, HvmBook book, IReadOnlySet<string>? broken = null)
    {
        broken ??= new HashSet<string>();
        var diags = new List<Diagnostic>();
        var seen = new Dictionary<string, HvmDef>(StringComparer.Ordinal);
        foreach (var def in book.Defs)
        {
            if (seen.TryGetValue(def.Name, out var first))
            {
                var (l, c) = src.LineColumn(first.Offset);
                diags.Add(new Diagnostic(Severity.Error, src, def.Offset, $"duplicate definition @{def.Name}, first defined at {l}:{c}"));
            }
            else seen[def.Name] = def;
        }
        if (!seen.ContainsKey("main") && !broken.Contains("main"))
            diags.Add(new Diagnostic(Severity.Error, src, src.Text.Length, "missing @main definition, expected `@main = ...` (the entry point)"));

        foreach (var def in book.Defs)
        {
            var vars = new Dictionary<string, List<int>>(StringComparer.Ordinal);
            foreach (var tree in Trees(def.Net))
            {
                var stack = new Stack<Tree>();
                stack.Push(tree);
                while (stack.Count > 0)
                {
                    var t = stack.Pop();
                    switch (t.Kind)
                    {
                        case TreeKind.Var:
                            if (!vars.TryGetValue(t.Name, out var list)) vars[t.Name] = list = [];
                            list.Add(t.Offset);
                            break;
                        case TreeKind.Ref:
                            if (!seen.ContainsKey(t.Name) && !broken.Contains(t.Name))
                                diags.Add(new Diagnostic(Severity.Error, src, t.Offset, $"unknown definition @{t.Name}, expected a name defined with `@{t.Name} = ...`"));
                            break;
                        case TreeKind.Con: case TreeKind.Dup: case TreeKind.Opr: case TreeKind.Swi:
                            stack.Push(t.Snd!);
                            stack.Push(t.Fst!);
                            break;
                    }
                }
            }
            foreach (var (name, offsets) in vars)
            {
                if (offsets.Count == 2) continue;
                offsets.Sort();
                int at = offsets.Count == 1 ? offsets[0] : offsets[2];
                diags.Add(new Diagnostic(Severity.Error, src, at,
                    $"variable `{name}` occurs {(offsets.Count == 1 ? "once" : offsets.Count + " times")} in @{def.Name}, expected exactly twice (once at each end of its wire)"));
            }
        }
        return diags;
    }

    private static IEnumerable<Tree> Trees(HvmNet net)
    {
        yield return net.Root;
        foreach (var r in net.Redexes)
        {
            yield return r.A;
            yield return r.B;
        }
    }
}
