using Lmn.Language;
using Lmn.Oracles;
using Lmn.Words;

namespace Lmn.Tests.Oracles;

/// <summary>The lexicon oracle's scoring, on a table of cases.</summary>
public class LexiconOracleTests
{
    private static readonly Lexicon Lexicon = Lexicon.Parse(
        "word\tmeaning\texamples\tdomain\tsubdomain\n" +
        "joy\tjoy\thappiness, pleasure, delight\tMind & Cognition\tEmotions\n" +
        "sad\tsadness\tgrief, loss, tears\tMind & Cognition\tEmotions\n" +
        "ang\tanger\trage, frustration, heat\tMind & Cognition\tEmotions\n" +
        "lov\tlove\taffection, bond, care\tMind & Cognition\tEmotions\n" +
        "hop\thope\toptimism, future, light\tMind & Cognition\tEmotions\n" +
        "cal\tcalm\tpeaceful, still, balanced\tMind & Cognition\tEmotions\n" +
        "pai\tpain\tdiscomfort, warning\tBody & Sensation\t\n" +
        "mov\tmotion, movement\ttravel, flow, dance, shift\tPhysical World\tPhysical Actions\n" +
        "run\trunning\tsprint, flee, race\tPhysical World\tPhysical Actions\n" +
        "sit\tsitting\trest, seat, still\tPhysical World\tPhysical Actions\n");

    private static OracleResponse Ask(string expr, string[] args, Dictionary<string, string>? anchors = null, string kind = "choice", string? type = null, string[]? trace = null)
    {
        var r = new OracleRequest
        {
            AmbNodeId = "amb#1", Kind = kind, Expression = expr, Args = args, TypeExpected = type,
            LexicalBindings = anchors ?? new Dictionary<string, string>(), ReductionTrace = trace ?? [],
        };
        return Assert.IsType<OracleResponse>(new LexiconOracle(Lexicon).Answer(r));
    }

    [Theory]
    // No context: the family decides (pai is not an emotion); joy and hop tie, the first wins.
    [InlineData("∿lov[joy, pai, hop]", "", "joy")]
    [InlineData("∿lov[pai, hop, joy]", "", "hop")]
    // Anchors tip the balance: "future" is in hop's examples, "grief" in sad's.
    [InlineData("∿lov[joy, pai, hop]", "now=bright_future", "hop")]
    [InlineData("∿lov[joy, sad]", "mood=grief", "sad")]
    // A prefix match counts half: "peace" shares "peac" with "peaceful".
    [InlineData("∿lov[ang, cal]", "place=peace_garden", "cal")]
    // Movement family: sit's "rest" matches the anchor.
    [InlineData("∿mov[run, sit]", "plan=rest_day", "sit")]
    [InlineData("∿mov[run, sit]", "plan=race_day", "run")]
    public void PicksTheBestCandidate(string expr, string anchors, string expected)
    {
        var map = anchors.Length == 0 ? null : anchors.Split(';').ToDictionary(a => "@" + a.Split('=')[0], a => a.Split('=')[1]);
        var args = expr[(expr.IndexOf('[') + 1)..^1].Split(", ");
        Assert.Equal(expected, Ask(expr, args, map).Substitution);
    }

    [Fact]
    public void TiesSaySoAndHaveLowConfidence()
    {
        var a = Ask("∿lov[joy, hop]", ["joy", "hop"]);
        Assert.Equal("joy", a.Substitution);
        Assert.Contains("a tie between joy, hop: took the first", a.Metadata.Reasoning);
        Assert.Equal(0.5, a.Metadata.Confidence);
    }

    [Fact]
    public void AClearWinnerHasHigherConfidenceAndExplains()
    {
        var a = Ask("∿lov[joy, sad]", ["joy", "sad"], new Dictionary<string, string> { ["@mood"] = "grief_and_tears" });
        Assert.Equal("sad", a.Substitution);
        Assert.True(a.Metadata.Confidence > 0.7, a.Metadata.Confidence.ToString());
        Assert.Contains("'grief' from @mood", a.Metadata.Reasoning);
        Assert.Contains("'tears' from @mood", a.Metadata.Reasoning);
        Assert.Equal(["joy"], a.Metadata.AlternativesConsidered);
        Assert.Equal("lexicon-v1", a.Metadata.Model);
    }

    [Fact]
    public void EnclosingDefinitionsAreContext()
    {
        Assert.Equal("hop", Ask("∿lov[joy, hop]", ["joy", "hop"], trace: ["main", "future_plans"]).Substitution);
    }

    [Fact]
    public void TypedOpenQuestionsPickFromTheType()
    {
        var a = Ask("~feel[day]", ["day"], new Dictionary<string, string> { ["@weather"] = "storm_rage" }, kind: "open", type: "Mind & Cognition / Emotions");
        Assert.Equal("ang", a.Substitution);
    }

    [Fact]
    public void UntypedOpenQuestionsGetGlosses()
    {
        var a = Ask("~explain[joy]", ["joy"], kind: "open");
        Assert.Equal("\"joy: joy, happiness, pleasure, delight\"", a.Substitution);
    }

    [Fact]
    public void IsDeterministic()
    {
        var one = Ask("∿lov[joy, pai, hop]", ["joy", "pai", "hop"], new Dictionary<string, string> { ["@now"] = "present_moment" });
        var two = Ask("∿lov[joy, pai, hop]", ["joy", "pai", "hop"], new Dictionary<string, string> { ["@now"] = "present_moment" });
        Assert.Equal((one.Substitution, one.Metadata.Confidence, one.Metadata.Reasoning), (two.Substitution, two.Metadata.Confidence, two.Metadata.Reasoning));
        Assert.Equal(one.Metadata.AlternativesConsidered, two.Metadata.AlternativesConsidered);
        Assert.Equal("joy", one.Substitution);
    }
}
