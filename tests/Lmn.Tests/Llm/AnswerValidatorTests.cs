using Lmn.Oracles;
using static Lmn.Tests.Llm.LlmTestUtil;

namespace Lmn.Tests.Llm;

/// <summary>The validator's verdicts, in the protocol's order (without the language: the shape of one term).</summary>
public class AnswerValidatorTests
{
    private static OracleResponse R(string sub, double conf = 0.9) => new("amb#42", sub, new OracleMetadata { Confidence = conf });

    /// <summary>A term checker with hooks: the parser (null: one term, else what is wrong) and the lexicon.</summary>
    private sealed class Hooks(Func<string, string?>? termCheck = null, Func<string, string, bool>? inType = null) : ITermChecker
    {
        private readonly ShapeTerms _shape = new();

        public bool TryCanonical(string text, out string canonical, out string error)
        {
            if (termCheck == null) return _shape.TryCanonical(text, out canonical, out error);
            canonical = CacheKey.NormaliseSpaces(text);
            error = termCheck(canonical) ?? "";
            return error.Length == 0;
        }

        public bool ContainsAmbiguity(string canonical) => _shape.ContainsAmbiguity(canonical);
        public bool InType(string canonical, string typeExpected) => inType?.Invoke(canonical, typeExpected) ?? true;
    }

    [Theory]
    [InlineData("joy", ValidationFailure.None)]
    [InlineData("  pai ", ValidationFailure.None)]
    [InlineData("sad", ValidationFailure.NotACandidate)]
    [InlineData("∿lov[joy, pai]", ValidationFailure.Ambiguous)]
    [InlineData("~explain[joy]", ValidationFailure.Ambiguous)]
    [InlineData("amb[joy, pai]", ValidationFailure.Ambiguous)]
    [InlineData("", ValidationFailure.Invalid)]
    [InlineData("joy, pai", ValidationFailure.Invalid)]
    [InlineData("fir[lov, pai", ValidationFailure.Invalid)]
    [InlineData("\"unterminated", ValidationFailure.Invalid)]
    public void ChoiceMode(string answer, ValidationFailure expected) =>
        Assert.Equal(expected, new AnswerValidator().Validate(Request(), R(answer)).Failure);

    [Fact]
    public void CandidatesMatchAfterNormalisingSpaces()
    {
        var req = Request("a", "fir[lov, pai]", "joy");
        Assert.True(new AnswerValidator().Validate(req, R("fir[lov,   pai]")).Ok);
    }

    [Fact]
    public void OpenModeUsesTheTypeHook()
    {
        var open = Request() with { Kind = "open", Expression = "~name[x]", Args = ["x"] };
        Assert.True(new AnswerValidator().Validate(open, R("fir[lov, pai]")).Ok);
        var typed = new AnswerValidator(new Hooks(inType: (term, type) => term == "joy"));
        Assert.True(typed.Validate(open, R("joy")).Ok);
        Assert.Equal(ValidationFailure.NotInType, typed.Validate(open, R("run")).Failure);
    }

    [Fact]
    public void LowConfidenceAfterEverythingElse()
    {
        var v = new AnswerValidator { MinConfidence = 0.8 };
        var res = v.Validate(Request(), R("joy", 0.5));
        Assert.Equal(ValidationFailure.LowConfidence, res.Failure);
        Assert.Contains("below --min-confidence 0.8", res.Message);
        Assert.Equal(ValidationFailure.NotACandidate, v.Validate(Request(), R("sad", 0.1)).Failure);
        Assert.True(v.Validate(Request(), R("joy", 0.5), 0).Ok);
    }

    [Fact]
    public void NonStrictAcceptsAmbiguityAndMessagesNameTheSite()
    {
        var open = Request() with { Kind = "open" };
        Assert.True(new AnswerValidator { Ambiguity = AmbiguityMode.Recursive }.Validate(open, R("∿lov[joy, pai]")).Ok);
        var res = new AnswerValidator().Validate(Request(), R("sad"));
        Assert.StartsWith("examples/mood.lmn:15:8: ∿lov[joy, pai, hop] (amb#42)", res.Message);
        Assert.Contains("not one of the candidates joy, pai, hop", res.Message);
    }

    [Fact]
    public void TheParserHookReplacesTheShapeCheck()
    {
        var v = new AnswerValidator(new Hooks(termCheck: t => t == "joy" ? null : "unexpected token"));
        Assert.Equal(ValidationFailure.Invalid, v.Validate(Request(), R("pai")).Failure);
    }
}
