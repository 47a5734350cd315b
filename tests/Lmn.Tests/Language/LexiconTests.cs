using Lmn.Language;

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
}
