using System.Runtime.CompilerServices;
using System.Globalization;
using System.Text;
using Lmn.Net;
using Lmn.Text;

namespace Lmn.Language;

public enum Tok
{
    Eof, Ident, Number, String,
    Def, Let, In, If, Then, Else, Match, Amb,
    LParen, RParen, LBracket, RBracket, LBrace, RBrace,
    Comma, Semi, Dot, Ellipsis, Eq, FatArrow, Arrow, Lambda, Tilde, At, Colon, Quote,
    Plus, Minus, Star, Slash, Percent,
    EqEq, NotEq, Lt, Gt, Le, Ge,
    Amp, Pipe, Caret, Shl, Shr, AndAnd, OrOr, Bang,
}

/// <summary>
/// A token. SpaceBefore: whitespace or a comment precedes it; Column1: it starts a line, unindented;
/// LineStart: it is the first token of its line; Column: its 1-based column.
/// </summary>
public readonly record struct Token(Tok Kind, int Offset, int Length, string Text, uint Numb, bool SpaceBefore, bool Column1,
    bool LineStart = false, int Column = 0)
{
    public int End => Offset + Length;
}

/// <summary>Turns LMN source into tokens; lexical mistakes become diagnostics and lexing goes on.</summary>
public sealed class Lexer
{
    private readonly SourceText _src;
    private readonly string _s;
    private readonly List<Diagnostic> _diags;
    private int _i;

    private Lexer(SourceText src, List<Diagnostic> diags)
    {
        _src = src;
        _s = src.Text;
        _diags = diags;
    }

    public static readonly Dictionary<string, Tok> Keywords = new(StringComparer.Ordinal)
    {
        ["def"] = Tok.Def, ["let"] = Tok.Let, ["in"] = Tok.In, ["if"] = Tok.If, ["then"] = Tok.Then,
        ["else"] = Tok.Else, ["match"] = Tok.Match, ["amb"] = Tok.Amb,
    };

    public static List<Token> Lex(SourceText src, List<Diagnostic> diags)
    {
        var lx = new Lexer(src, diags);
        var toks = new List<Token>();
        string s = src.Text;
        int lineBegin = 0, prevEnd = 0;
        while (true)
        {
            var t = lx.Next(toks.Count > 0 ? toks[^1].Kind : Tok.Eof);
            // Between two tokens there is only space and comments: a newline there starts a line.
            bool lineStart = toks.Count == 0;
            int end = Math.Min(t.Offset, s.Length);
            for (int i = prevEnd; i < end; i++)
                if (s[i] == '\n') { lineStart = true; lineBegin = i + 1; }
            prevEnd = Math.Max(prevEnd, t.End);
            t = t with { LineStart = lineStart, Column = t.Offset - lineBegin + 1 };
            toks.Add(t);
            if (t.Kind == Tok.Eof) return toks;
        }
    }

    private void Error(int offset, string message) => _diags.Add(new Diagnostic(Severity.Error, _src, offset, message));

    private char Peek(int k = 0) => _i + k < _s.Length ? _s[_i + k] : '\0';

    private static bool EndsOperand(Tok k) =>
        k is Tok.Ident or Tok.Number or Tok.String or Tok.RParen or Tok.RBracket or Tok.RBrace;

    private Token Next(Tok prev)
    {
        int before = _i;
        while (_i < _s.Length)
        {
            char c = _s[_i];
            if (c == '#') { while (_i < _s.Length && _s[_i] != '\n') _i++; }
            else if (char.IsWhiteSpace(c)) _i++;
            else break;
        }
        bool space = _i > before || _i == 0;
        bool col1 = _i == 0 || _s[_i - 1] == '\n';
        int at = _i;
        if (_i >= _s.Length) return new Token(Tok.Eof, _s.Length, 0, "", 0, space, true);
        char ch = _s[_i];

        Token Make(Tok k, int len, string? text = null, uint numb = 0)
        {
            _i = at + len;
            return new Token(k, at, len, text ?? _s.Substring(at, len), numb, space, col1);
        }

        if (char.IsAsciiLetter(ch) || ch == '_')
        {
            int j = _i;
            while (j < _s.Length && (char.IsAsciiLetterOrDigit(_s[j]) || _s[j] == '_')) j++;
            string id = _s[_i..j];
            return Make(Keywords.TryGetValue(id, out var kw) ? kw : Tok.Ident, j - _i, id);
        }
        if (char.IsAsciiDigit(ch)) return LexNumber(at, space, col1, signed: false);
        if ((ch == '+' || ch == '-') && !EndsOperand(prev) &&
            (char.IsAsciiDigit(Peek(1)) || StartsWithWord(_i + 1, "inf") || StartsWithWord(_i + 1, "NaN")))
            return LexNumber(at, space, col1, signed: true);
        if (ch == '"') return LexString(at, space, col1);

        switch (ch)
        {
            case '(': return Make(Tok.LParen, 1);
            case ')': return Make(Tok.RParen, 1);
            case '[': return Make(Tok.LBracket, 1);
            case ']': return Make(Tok.RBracket, 1);
            case '{': return Make(Tok.LBrace, 1);
            case '}': return Make(Tok.RBrace, 1);
            case ',': return Make(Tok.Comma, 1);
            case ';': return Make(Tok.Semi, 1);
            case '.': return Peek(1) == '.' && Peek(2) == '.' ? Make(Tok.Ellipsis, 3) : Make(Tok.Dot, 1);
            case '=': return Peek(1) == '>' ? Make(Tok.FatArrow, 2) : Peek(1) == '=' ? Make(Tok.EqEq, 2) : Make(Tok.Eq, 1);
            case '→': return Make(Tok.Arrow, 1);
            case 'λ': case '\\': return Make(Tok.Lambda, 1);
            case '∿': return Make(Tok.Amb, 1);
            case '~': return Make(Tok.Tilde, 1);
            case '@': return Make(Tok.At, 1);
            case ':': return Make(Tok.Colon, 1);
            case '\'': return Make(Tok.Quote, 1);
            case '+': return Make(Tok.Plus, 1);
            case '-': return Peek(1) == '>' ? Make(Tok.Arrow, 2) : Make(Tok.Minus, 1);
            case '*': return Make(Tok.Star, 1);
            case '/': return Make(Tok.Slash, 1);
            case '%': return Make(Tok.Percent, 1);
            case '!': return Peek(1) == '=' ? Make(Tok.NotEq, 2) : Make(Tok.Bang, 1);
            case '<': return Peek(1) == '=' ? Make(Tok.Le, 2) : Peek(1) == '<' ? Make(Tok.Shl, 2) : Make(Tok.Lt, 1);
            case '>': return Peek(1) == '=' ? Make(Tok.Ge, 2) : Peek(1) == '>' ? Make(Tok.Shr, 2) : Make(Tok.Gt, 1);
            case '&': return Peek(1) == '&' ? Make(Tok.AndAnd, 2) : Make(Tok.Amp, 1);
            case '|': return Peek(1) == '|' ? Make(Tok.OrOr, 2) : Make(Tok.Pipe, 1);
            case '^': return Make(Tok.Caret, 1);
        }
        int len = char.IsSurrogatePair(_s, _i) ? 2 : 1;
        Error(at, $"unexpected character {Describe(_s.Substring(_i, len))}, expected an expression, an operator or a bracket");
        _i += len;
        return Next(prev);
    }

    private bool StartsWithWord(int at, string word) =>
        string.CompareOrdinal(_s, at, word, 0, word.Length) == 0 &&
        (at + word.Length >= _s.Length || !char.IsAsciiLetterOrDigit(_s[at + word.Length]));

    private static string Describe(string s) =>
        s.Length == 1 && char.IsControl(s[0]) ? $"U+{(int)s[0]:X4}" : $"'{s}'";

    /// <summary>u24 `42 0x1F 0b101`, i24 `+42 -0x1F`, f24 `1.5 -0.25 1.0e-5 +inf -inf +NaN`; ranges as HVM2's.</summary>
    private Token LexNumber(int at, bool space, bool col1, bool signed)
    {
        int j = _i + (signed ? 1 : 0);
        bool isFloat = false;
        if (StartsWithWord(j, "inf") || StartsWithWord(j, "NaN"))
        {
            j += 3;
            isFloat = true;
        }
        else if (j + 1 < _s.Length && _s[j] == '0' && (_s[j + 1] is 'x' or 'b'))
        {
            j += 2;
            while (j < _s.Length && char.IsAsciiLetterOrDigit(_s[j])) j++;
        }
        else
        {
            while (j < _s.Length && char.IsAsciiDigit(_s[j])) j++;
            if (j + 1 < _s.Length && _s[j] == '.' && char.IsAsciiDigit(_s[j + 1]))
            {
                isFloat = true;
                j++;
                while (j < _s.Length && char.IsAsciiDigit(_s[j])) j++;
            }
            if (j < _s.Length && _s[j] is 'e' or 'E')
            {
                // An exponent (1.0e-5, or 1e-5 as HVM2 prints it) makes a float.
                int k = j + 1;
                if (k < _s.Length && _s[k] is '+' or '-') k++;
                if (k < _s.Length && char.IsAsciiDigit(_s[k]))
                {
                    isFloat = true;
                    j = k;
                    while (j < _s.Length && char.IsAsciiDigit(_s[j])) j++;
                }
            }
            while (j < _s.Length && (char.IsAsciiLetterOrDigit(_s[j]) || _s[j] == '_')) j++; // glued letters: reported below
        }
        string text = _s[at..j];
        _i = j;
        uint numb = 0;
        if (!TryParseNumber(text, isFloat, out numb, out string? why)) Error(at, why!);
        return new Token(Tok.Number, at, j - at, text, numb, space, col1);
    }

    /// <summary>Parses a numeric literal to HVM2's 24-bit number; the error says what range was expected.</summary>
    public static bool TryParseNumber(string text, bool isFloat, out uint numb, out string? error)
    {
        numb = 0;
        error = null;
        if (isFloat)
        {
            if (!Hvm.HvmParser.TryParseFloat(text, out float f))
            {
                error = $"invalid number literal `{text}`, expected a float such as 1.5, -0.25 or 1.0e-5";
                return false;
            }
            if (float.IsInfinity(f) && !text.Contains("inf", StringComparison.Ordinal))
            {
                error = $"number {text} out of range for f24, expected a magnitude below 3.4e38";
                return false;
            }
            numb = Numb.F24Literal(f);
            return true;
        }
        bool signed = text[0] is '+' or '-';
        string body = signed ? text[1..] : text;
        if (!TryParseInt(body, out ulong mag))
        {
            error = $"invalid number literal `{text}`, expected a number such as 42, 0x1F, 0b101, +5, -5 or 1.5";
            return false;
        }
        if (signed)
        {
            long v = text[0] == '-' ? -(long)mag : (long)mag;
            if (v < Numb.I24Min || v > Numb.I24Max || mag > (1UL << 40))
            {
                error = $"number {text} out of range for i24, expected -8388608 to +8388607";
                return false;
            }
            numb = Numb.NewI24((int)v);
            return true;
        }
        if (mag > Numb.U24Max)
        {
            error = $"number {text} out of range for u24, expected 0 to 16777215 (write +N or -N for i24, N.0 for f24)";
            return false;
        }
        numb = Numb.NewU24((uint)mag);
        return true;
    }

    private static bool TryParseInt(string s, out ulong value)
    {
        value = 0;
        if (s.StartsWith("0x", StringComparison.Ordinal))
            return s.Length > 2 && s.Length <= 18 && ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        if (s.StartsWith("0b", StringComparison.Ordinal))
        {
            if (s.Length == 2 || s.Length > 50) return false;
            foreach (char ch in s.AsSpan(2))
            {
                if (ch is not ('0' or '1')) return false;
                value = (value << 1) | (uint)(ch - '0');
            }
            return true;
        }
        if (s.Length == 0 || s.Length > 18 || !s.All(char.IsAsciiDigit)) return false;
        return ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private Token LexString(int at, bool space, bool col1)
    {
        var sb = new StringBuilder();
        _i++;
        while (true)
        {
            if (_i >= _s.Length || _s[_i] == '\n')
            {
                Error(at, "unterminated string, expected a closing '\"' before the end of the line");
                break;
            }
            char c = _s[_i];
            if (c == '"') { _i++; break; }
            if (c != '\\') { sb.Append(c); _i++; continue; }
            int esc = _i;
            char e = Peek(1);
            _i += 2;
            switch (e)
            {
                case '"': sb.Append('"'); break;
                case '\\': sb.Append('\\'); break;
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'u':
                {
                    int close = _s.IndexOf('}', _i);
                    int nl = _s.IndexOf('\n', _i);
                    if (Peek() != '{' || close < 0 || (nl >= 0 && nl < close))
                    {
                        Error(esc, "malformed unicode escape, expected \\u{HEX} such as \\u{1F600}");
                        break;
                    }
                    string hex = _s[(_i + 1)..close];
                    if (hex.Length is 0 or > 6 || !int.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int cp)
                        || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                        Error(esc, $"invalid code point \\u{{{hex}}}, expected 1 to 6 hex digits naming a Unicode scalar value");
                    else sb.Append(char.ConvertFromUtf32(cp));
                    _i = close + 1;
                    break;
                }
                default:
                    Error(esc, $"unknown escape '\\{(e == '\0' ? "" : e.ToString())}' in string, expected one of \\\" \\\\ \\n \\t \\u{{...}}");
                    if (e == '\n' || e == '\0') _i--;
                    break;
            }
        }
        return new Token(Tok.String, at, _i - at, sb.ToString(), 0, space, col1);
    }
}
