using Lmn.Oracles;
using static Lmn.Tests.Llm.LlmTestUtil;

namespace Lmn.Tests.Llm;

/// <summary>The human oracle with piped input.</summary>
public class HumanOracleTests
{
    private static (HumanOracle Oracle, StringWriter Out) Human(string input)
    {
        var o = new StringWriter();
        return (new HumanOracle(new StringReader(input), o), o);
    }

    [Fact]
    public async Task ShowsTheQuestionAndTakesANumber()
    {
        var (h, o) = Human("2\n");
        var a = Answer(await h.AskAsync([Request()], CancellationToken.None));
        Assert.Equal("pai", a.Substitution);
        Assert.Equal("human", a.Metadata.Model);
        Assert.Equal(1.0, a.Metadata.Confidence);
        string shown = o.ToString();
        Assert.Contains("amb#42 at examples/mood.lmn:15:8", shown);
        Assert.Contains("∿lov[joy, pai, hop]", shown);
        Assert.Contains("expected type: Mind & Cognition / Emotions", shown);
        Assert.Contains("@now = present_moment", shown);
        Assert.Contains("lov: love: affection, bond, care", shown);
        Assert.Contains("1) joy", shown);
        Assert.Contains("3) hop", shown);
    }

    [Theory]
    [InlineData("hop\n", "hop")]
    [InlineData("7\nsad\n3\n", "hop")]
    [InlineData("  1  \n", "joy")]
    public async Task AcceptsACandidateAndAsksAgainOnNonsense(string input, string expected)
    {
        var (h, _) = Human(input);
        Assert.Equal(expected, Answer(await h.AskAsync([Request()], CancellationToken.None)).Substitution);
    }

    [Fact]
    public async Task OpenModeTakesAnyTerm()
    {
        var (h, o) = Human("fir[lov, pai]\n");
        var open = Request() with { Kind = "open", Expression = "~explain[joy]", Args = ["joy"] };
        Assert.Equal("fir[lov, pai]", Answer(await h.AskAsync([open], CancellationToken.None)).Substitution);
        Assert.Contains("enter a term", o.ToString());
    }

    [Fact]
    public async Task EndOfInputIsUnavailable()
    {
        var (h, _) = Human("");
        var e = Error(await h.AskAsync([Request()], CancellationToken.None));
        Assert.Equal("unavailable", e.Kind);
        Assert.Contains("input ended", e.Message);
    }

    [Fact]
    public async Task TooManyBadLinesIsRefused()
    {
        var (h, _) = Human("x\ny\nz\nw\nv\n1\n");
        Assert.Equal("refused", Error(await h.AskAsync([Request()], CancellationToken.None)).Kind);
    }

    [Fact]
    public async Task ABatchIsAskedInTurn()
    {
        var (h, _) = Human("1\n3\n");
        var results = await h.AskAsync([Request("a"), Request("b")], CancellationToken.None);
        Assert.Equal("joy", Answer(results, 0).Substitution);
        Assert.Equal("hop", Answer(results, 1).Substitution);
    }
}
