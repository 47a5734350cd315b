namespace Lmn.Oracles;

/// <summary>Why an answer was not accepted (ORACLE-PROTOCOL.md, "Validation").</summary>
public enum ValidationFailure
{
    None,
    /// <summary>Not one LMN term (empty, unbalanced, several terms).</summary>
    Invalid,
    /// <summary>Strict mode: the answer still contains ∿ or ~.</summary>
    Ambiguous,
    /// <summary>Choice mode: not one of the candidates.</summary>
    NotACandidate,
    /// <summary>Open mode with a type: the lexicon does not place it in type_expected.</summary>
    NotInType,
    /// <summary>Confidence below the threshold.</summary>
    LowConfidence,
}

/// <summary>
/// The verdict on one answer. <see cref="Problem"/> is what is wrong (the wording of `lmn run`'s errors);
/// <see cref="Message"/> is the same after the site and its location. An accepted answer carries its
/// canonical text and its parsed term (see <see cref="Answer.Term"/>), so it is not parsed again.
/// </summary>
public sealed record ValidationResult(ValidationFailure Failure, string Problem, string Message)
{
    public bool Ok => Failure == ValidationFailure.None;
    /// <summary>The answer in canonical LMN text (the trimmed text when it is not one term).</summary>
    public string Canonical { get; init; } = "";
    /// <summary>The answer contains `∿` or `~` (accepted only outside strict mode).</summary>
    public bool ContainsAmbiguity { get; init; }
    /// <summary>The parsed term, as the term checker gives it, or null.</summary>
    public object? Term { get; init; }
}

/// <summary>
/// The one check of "is this answer valid for this request" (ORACLE-PROTOCOL.md, "Validation"), used by the
/// pipeline of `lmn run` (its resume, cache and settle stages) and by `lmn oracle-ask`. In the protocol's
/// order: one LMN term; no `∿` / `~` in strict mode; in choice mode one of the candidates (an answer that is
/// itself ambiguous passes outside strict mode), in open mode with a type one the lexicon places in it;
/// then confidence at least <see cref="MinConfidence"/>. What to do with a failure is the pipeline's policy;
/// this only says what is wrong. The parse and the lexicon come from an <see cref="ITermChecker"/> (the
/// language's); without one, <see cref="ShapeTerms"/> checks the shape of one term and places any term in
/// any type.
/// </summary>
public sealed class AnswerValidator(ITermChecker? checker = null)
{
    /// <summary>The parser and the lexicon the answers are checked with.</summary>
    public ITermChecker Checker { get; } = checker ?? new ShapeTerms();
    /// <summary>Strict (the default) refuses an answer that contains `∿` or `~`.</summary>
    public AmbiguityMode Ambiguity { get; init; } = AmbiguityMode.Strict;
    /// <summary>--min-confidence: answers below it are low confidence (default 0: none are).</summary>
    public double MinConfidence { get; init; }

    /// <summary>Every rule, confidence against <see cref="MinConfidence"/>.</summary>
    public ValidationResult Validate(OracleRequest request, OracleResponse response) => Validate(request, response, MinConfidence);

    /// <summary>Every rule, confidence against <paramref name="minConfidence"/> (0: the confidence is not checked).</summary>
    public ValidationResult Validate(OracleRequest r, OracleResponse res, double minConfidence)
    {
        if (!Checker.TryParse(res.Substitution, out string canonical, out object? term, out string error))
            return Refuse(r, ValidationFailure.Invalid, $"`{res.Substitution}` is not one LMN term: {error}", canonical);
        bool amb = Checker.ContainsAmbiguity(canonical, term);
        if (amb && Ambiguity == AmbiguityMode.Strict)
            return Refuse(r, ValidationFailure.Ambiguous, $"`{canonical}` contains ∿ or ~, which strict mode refuses (see --ambiguity)", canonical);
        if (r.Kind == "choice")
        {
            if (!IsCandidate(r, canonical) && !amb)
                return Refuse(r, ValidationFailure.NotACandidate, $"`{canonical}` is not one of the candidates {string.Join(", ", r.Args)}", canonical);
        }
        else if (r.TypeExpected != null && !amb && !Checker.InType(canonical, r.TypeExpected))
        {
            return Refuse(r, ValidationFailure.NotInType, $"`{canonical}` is not in the expected type {r.TypeExpected}", canonical);
        }
        if (res.Metadata.Confidence < minConfidence)
            return Refuse(r, ValidationFailure.LowConfidence, LowConfidence(res.Metadata.Confidence, minConfidence), canonical) with { ContainsAmbiguity = amb, Term = term };
        return new ValidationResult(ValidationFailure.None, "", "") { Canonical = canonical, ContainsAmbiguity = amb, Term = term };
    }

    /// <summary>"confidence 0.3 is below --min-confidence 0.5": the one wording of low confidence (validation and escalation).</summary>
    public static string LowConfidence(double confidence, double minConfidence) =>
        $"confidence {confidence:0.##} is below --min-confidence {minConfidence:0.##}";

    private bool IsCandidate(OracleRequest r, string canonical)
    {
        // Candidates arrive in canonical text already; parse them only if none matches as text.
        foreach (var a in r.Args)
            if (a == canonical) return true;
        foreach (var a in r.Args)
            if (Checker.TryCanonical(a, out string ca, out _) && ca == canonical) return true;
        return false;
    }

    private static ValidationResult Refuse(OracleRequest r, ValidationFailure failure, string problem, string canonical) =>
        new(failure, problem, $"{Site(r)}: {problem}") { Canonical = canonical };

    /// <summary>"examples/mood.lmn:15:8: ∿lov[joy, pai] (amb#42)".</summary>
    public static string Site(OracleRequest r) =>
        r.SourceLocation.Length > 0 ? $"{r.SourceLocation}: {r.Expression} ({r.AmbNodeId})" : $"{r.Expression} ({r.AmbNodeId})";

    /// <summary>
    /// The shape of one term without the parser: not empty, brackets and quotes balanced, no comma,
    /// semicolon or newline outside brackets. Null when it looks like one term.
    /// </summary>
    public static string? ShapeCheck(string s)
    {
        if (s.Length == 0) return "it is empty";
        var stack = new Stack<char>();
        bool inString = false;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (inString)
            {
                if (c == '\\') i++;
                else if (c == '"') inString = false;
                continue;
            }
            switch (c)
            {
                case '"': inString = true; break;
                case '[' or '(' or '{': stack.Push(c); break;
                case ']' or ')' or '}':
                    char open = c == ']' ? '[' : c == ')' ? '(' : '{';
                    if (stack.Count == 0 || stack.Pop() != open) return $"unbalanced '{c}'";
                    break;
                case ',' or ';' when stack.Count == 0: return $"'{c}' outside brackets (more than one term)";
                case '\n' or '\r': return "it spans several lines";
            }
        }
        if (inString) return "unterminated string";
        if (stack.Count > 0) return $"unclosed '{stack.Peek()}'";
        return null;
    }
}

/// <summary>
/// A term checker without the language: <see cref="AnswerValidator.ShapeCheck"/> for one term, spaces
/// normalised as canonical text, `∿`, `~` or `amb[` as ambiguity, and every term in every type.
/// </summary>
public sealed class ShapeTerms : ITermChecker
{
    public bool TryCanonical(string text, out string canonical, out string error)
    {
        canonical = CacheKey.NormaliseSpaces(text);
        string? bad = AnswerValidator.ShapeCheck(canonical);
        error = bad ?? "";
        return bad == null;
    }

    public bool ContainsAmbiguity(string canonical) =>
        canonical.Contains('∿') || canonical.Contains('~') || ContainsWord(canonical, "amb");

    public bool InType(string canonical, string typeExpected) => true;

    private static bool ContainsWord(string s, string word)
    {
        int i = 0;
        while ((i = s.IndexOf(word, i, StringComparison.Ordinal)) >= 0)
        {
            bool left = i == 0 || !IsIdent(s[i - 1]);
            bool right = i + word.Length == s.Length || s[i + word.Length] == '[';
            if (left && right) return true;
            i += word.Length;
        }
        return false;
    }

    private static bool IsIdent(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';
}
