using System.Globalization;
using System.Text;
using CsCheck;
using Lmn.Language;

namespace Lmn.Tests.Language;

/// <summary>
/// `Printer.Quote` takes the string as it is when nothing in it needs an escape: checked against a plain
/// rune-by-rune quoting (every character written on its own, lone surrogates as U+FFFD) on generated
/// strings of quotes, backslashes, control characters, surrogates (paired and lone), ASCII and non-ASCII.
/// </summary>
public class QuoteTests
{
    private static string Reference(string s)
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

    private static readonly char[] Alphabet =
        ['a', 'Z', '0', ' ', '"', '\\', '\n', '\t', '\r', '\0', '\u007f', '\u0085', '\u009f', 'é', '∿', '\ud83d', '\ude00', '\ud800', '\udfff', '\u2028'];

    [Fact]
    public void QuoteEqualsTheRuneByRuneQuoting()
    {
        Gen.Int[0, Alphabet.Length - 1].Select(i => Alphabet[i]).Array[0, 12].Select(cs => new string(cs))
            .Sample(s => Assert.Equal(Reference(s), Printer.Quote(s)), iter: 5000);
    }

    [Theory]
    [InlineData("message number 7 of the benchmark", "\"message number 7 of the benchmark\"")]
    [InlineData("", "\"\"")]
    [InlineData("a\"b", "\"a\\\"b\"")]
    [InlineData("\ud83d\ude00", "\"\ud83d\ude00\"")]
    [InlineData("x\u0001", "\"x\\u{1}\"")]
    public void QuoteKnownCases(string s, string quoted) => Assert.Equal(quoted, Printer.Quote(s));

    /// <summary>(Not inline data: the test runner's serialisation does not keep a lone surrogate.)</summary>
    [Fact]
    public void ALoneSurrogateIsQuotedAsTheReplacementCharacter() => Assert.Equal("\"a\ufffd\"", Printer.Quote("a\ud83d"));
}
