using Lmn.Cli;
using Lmn.Language;

namespace Lmn.Tests.Semantic;

/// <summary>Anchors are text: a context value that is not exactly one LMN term is a string, never a parse error.</summary>
public class ContextTextTests
{
    [Theory]
    [InlineData("I finally got the job I wanted!")]        // punctuation
    [InlineData("let x = 1 in x")]                         // keywords and operators
    [InlineData("she said \"hi\" and left")]               // quotes inside
    [InlineData("naïve café ☕ — 東京")]                   // Unicode
    [InlineData("")]                                       // empty
    [InlineData("   ")]
    [InlineData("joy sad")]                                // two words: an application, not a term
    [InlineData("fir[lov, pai")]                           // an unfinished compound
    [InlineData("∿lov[joy, sad]")]                         // a question is not a value
    public void TextThatIsNotOneTermIsAString(string text)
    {
        var s = Assert.IsType<StrLit>(LmnDriver.ContextValue("item", text));
        Assert.Equal(text, s.Value);
        Assert.Equal(Printer.Quote(text), LmnDriver.ContextText("item", text));
    }

    [Fact]
    public void ExactlyOneTermIsThatTerm()
    {
        Assert.Equal("joy", Assert.IsType<Name>(LmnDriver.ContextValue("m", "joy")).Id);
        Assert.Equal("present_moment", Assert.IsType<Name>(LmnDriver.ContextValue("m", " present_moment ")).Id);
        Assert.IsType<NumLit>(LmnDriver.ContextValue("n", "42"));
        Assert.Equal("fir", Assert.IsType<CompoundLit>(LmnDriver.ContextValue("c", "fir[lov, pai]")).Head);
        Assert.Equal("hi there", Assert.IsType<StrLit>(LmnDriver.ContextValue("s", "\"hi there\"")).Value);
        Assert.Equal("fir[lov, pai]", LmnDriver.ContextText("c", "fir[lov,  pai]"));
        Assert.Equal("joy", LmnDriver.ContextText("m", "joy"));
        // `in` outside a let is a word (`[result in context]`).
        Assert.Equal("in", Assert.IsType<Name>(LmnDriver.ContextValue("m", "in")).Id);
    }

    [Fact]
    public void ParseContextNeverReportsAnErrorForAValue()
    {
        var diags = new List<Lmn.Text.Diagnostic>();
        var ctx = LmnDriver.ParseContext([new("item", "I finally got the job I wanted!"), new("n", "3")], diags);
        Assert.Empty(diags);
        Assert.IsType<StrLit>(ctx["item"]);
        Assert.IsType<NumLit>(ctx["n"]);
    }

    [Fact]
    public void RunAcceptsASentenceAsContext()
    {
        string p = TestUtil.TempFile("def main = @item ∿lov[joy, sad]\n", ".lmn");
        var (code, stdout, stderr) = TestUtil.Cli("run", p, "--oracle", "first", "--no-cache", "--context", "item=I finally got the job I wanted! (in 2025, \"really\")");
        Assert.True(code == 0, stderr);
        Assert.Equal("joy@item", stdout.Trim());
    }

    [Fact]
    public void ContextFileTakesJsonStringsNumbersListsAndObjects()
    {
        string f = TestUtil.TempFile("""
            {"item": "our old dog died, in the morning!", "n": 3, "w": "joy", "l": [1, "x y"],
             "pos": {"x": 1, "y": "a b", "at": {"row": 2}}, "@yes": true}
            """, ".json");
        var kv = LmnCommands.ReadContextFile(f).ToDictionary(x => x.Key, x => x.Value);
        Assert.Equal("\"our old dog died, in the morning!\"", kv["item"]);
        Assert.Equal("3", kv["n"]);
        Assert.Equal("joy", kv["w"]);
        Assert.Equal("[1, \"x y\"]", kv["l"]);
        Assert.Equal("pos[x[1], y[\"a b\"], at[row[2]]]", kv["pos"]);
        Assert.Equal("true", kv["yes"]);
        // Each value is LMN text of one term: the sentence a string, the rest what they spell.
        Assert.Equal("our old dog died, in the morning!", Assert.IsType<StrLit>(LmnDriver.ContextValue("item", kv["item"])).Value);
        Assert.IsType<CompoundLit>(LmnDriver.ContextValue("pos", kv["pos"]));
        Assert.IsType<ListLit>(LmnDriver.ContextValue("l", kv["l"]));
    }

    [Fact]
    public void ContextFileStillTakesNameValueLines()
    {
        string f = TestUtil.TempFile("# a comment\nnow=present_moment\nitem = it rained in the night, again\n", ".ctx");
        var kv = LmnCommands.ReadContextFile(f).ToDictionary(x => x.Key, x => x.Value);
        Assert.Equal("present_moment", kv["now"]);
        Assert.Equal("it rained in the night, again", kv["item"]);
    }

    [Fact]
    public void BadContextFilesAreUsageErrorsNamingTheFile()
    {
        string bad = TestUtil.TempFile("{\"item\": ", ".json");
        var (code, _, stderr) = TestUtil.Cli("run", bad + ".lmn", "--context-file", bad);
        Assert.Equal(2, code);
        Assert.Contains("--context-file " + bad, stderr);
        Assert.Contains("not valid JSON", stderr);
        string nul = TestUtil.TempFile("{\"item\": null}", ".json");
        (code, _, stderr) = TestUtil.Cli("run", "x.lmn", "--context-file", nul);
        Assert.Equal(2, code);
        Assert.Contains("'item' is null", stderr);
    }
}
