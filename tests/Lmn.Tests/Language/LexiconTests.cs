using Lmn.Language;
using Lmn.Words;

namespace Lmn.Tests.Language;

public class LexiconTests
{
    [Fact]
    public void HoldsTheLimnVocabularyAndItsLicence()
    {
        Assert.True(Lexicon.Default.Entries.Count >= 480);
        Assert.Equal("Mind & Cognition / Emotions", Lexicon.Default.Find("lov")?.Type);
        Assert.Contains("MIT License", Lexicon.LicenseText);
        Assert.Contains("Copyright (c) 2026 Eric Fode", Lexicon.LicenseText);
    }

    [Theory]
    [InlineData("jyo", "joy")]
    [InlineData("lvo", "lov")]
    [InlineData("sadd", "sad")]
    [InlineData("paii", "pai")]
    public void SuggestsNearWords(string word, string suggestion)
    {
        var s = Lexicon.Default.Suggest(word);
        Assert.InRange(s.Count, 1, 3);
        Assert.Contains(suggestion, s);
    }

    [Theory]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("joy", "jyo", 1)]
    [InlineData("abc", "abc", 0)]
    public void EditDistance(string a, string b, int d) => Assert.Equal(d, Lexicon.EditDistance(a, b));

    [Theory]
    [InlineData("joy", "joy")]
    [InlineData("happiness", "joy")]
    [InlineData("Emotions", "lov")]
    public void Searches(string query, string word) => Assert.Contains(Lexicon.Default.Search(query), e => e.Word == word);

    [Fact]
    public void WordsCommand()
    {
        var (code, o, _) = TestUtil.Cli("words", "joy");
        Assert.Equal(0, code);
        Assert.StartsWith("joy", o);
        Assert.Contains("Emotions", o);
        var (code2, _, e2) = TestUtil.Cli("words", "zzqqxx");
        Assert.Equal(1, code2);
        Assert.Contains("no Limn word matches", e2);
    }

    [Theory]
    [InlineData("jyo", "joy")]
    [InlineData("lvo", "lov")]
    [InlineData("sadd", "sad")]
    [InlineData("joyy", "joy")]
    [InlineData("lovv", "lov")]
    public void WarnsForASlipOneEditFromALimnWord(string word, string suggestion)
    {
        Assert.True(Lexicon.Default.ShouldWarnUnknown(word, out var s));
        Assert.InRange(s.Count, 1, 3);
        Assert.Contains(suggestion, s);
    }

    [Theory]
    [InlineData("happiness")]       // far from every Limn word
    [InlineData("winter")]
    [InlineData("rain")]            // one edit from rai, but an English word the lexicon itself uses
    [InlineData("love")]
    [InlineData("fire")]
    [InlineData("present_moment")]  // a made-up name
    [InlineData("Joy")]
    [InlineData("joy2")]
    [InlineData("joy")]             // a Limn word
    [InlineData("")]
    public void DoesNotWarnForOrdinaryWordsNamesOrLimnWords(string word)
    {
        Assert.False(Lexicon.Default.ShouldWarnUnknown(word, out var s));
        Assert.Empty(s);
    }

    [Fact]
    public void WarnsForFarFewerWordsThanTheOldRule()
    {
        // Every English word of the lexicon's own glosses used to be warned about; none is now.
        var english = Lexicon.Default.Entries.SelectMany(e => (e.Meaning + " " + e.Examples).Split([' ', ',', '-', '(', ')'], StringSplitOptions.RemoveEmptyEntries))
            .Where(w => w.All(char.IsAsciiLetterLower) && !Lexicon.Default.Contains(w)).Distinct().ToList();
        Assert.True(english.Count > 300);
        Assert.DoesNotContain(english, w => Lexicon.Default.ShouldWarnUnknown(w, out _));
    }
}
