using CsCheck;
using Lmn.Language;

namespace Lmn.Tests.Language;

/// <summary>
/// An answer's text that is a bare word is read without the parser (`DataTerms.TryParse`): checked
/// against the parser's own reading on generated texts near that path's edge (keywords, digits first,
/// underscores, spaces, brackets, anchors, numbers, strings, non-ASCII letters).
/// </summary>
public class AnswerParseTests
{
    private static readonly string[] Pieces =
        ["joy", "a", "Z", "_", "x1", "9", "let", "in", "def", "match", "amb", "if", "fn", " ", "[", "]", ",", "@", "\"", "-", "+", "é", "∿", "~", ".", "lov", "then", "else", "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"];

    private static void SameReading(string text)
    {
        bool fast = DataTerms.TryParse(text, out var t1, out var e1);
        bool slow = DataTerms.TryParseByParser(text, out var t2, out var e2);
        Assert.Equal(slow, fast);
        if (slow)
        {
            Assert.Equal(t2.GetType(), t1.GetType());
            Assert.Equal(DataTerms.Print(t2), DataTerms.Print(t1));
        }
        else Assert.Equal(e2, e1);
    }

    [Fact]
    public void TheBareWordPathReadsAsTheParserDoes()
    {
        Gen.Int[0, Pieces.Length - 1].Select(i => Pieces[i]).Array[1, 4].Select(ps => string.Concat(ps))
            .Sample(SameReading, iter: 3000);
    }

    /// <summary>The path is taken where it should be (a test of the two readings alone would pass without it).</summary>
    [Fact]
    public void BareWordsTakeThePathAndOthersDoNot()
    {
        foreach (var w in new[] { "joy", "_", "x_1", "Lov", new string('a', 64) }) Assert.True(DataTerms.IsBareWord(w), w);
        foreach (var w in new[] { "", "in", "let", "then", "else", "amb", "1x", "joy ", "é", new string('a', 65) }) Assert.False(DataTerms.IsBareWord(w), w);
        SameReading(new string('a', 64));
        SameReading(new string('a', 65));
    }

    [Theory]
    [InlineData("joy")]
    [InlineData("_")]
    [InlineData("let")]
    [InlineData("in")]
    [InlineData("x_1")]
    [InlineData("1x")]
    [InlineData("joy ")]
    public void KnownEdges(string text) => SameReading(text);
}
