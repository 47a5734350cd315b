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

/// <summary>The verdict on one answer; the message names the site and its location.</summary>
public sealed record ValidationResult(ValidationFailure Failure, string Message)
{
    public bool Ok => Failure == ValidationFailure.None;
    public static ValidationResult Accepted { get; } = new(ValidationFailure.None, "");
}

/// <summary>
/// Checks an answer before it is grafted, in the protocol's order: one term, no ∿ (strict), a candidate
/// (choice) or in the type (open), then confidence. What to do with a failure is the pipeline's policy;
/// this only says what is wrong. The full LMN parse and the lexicon's type check are hooks
/// (<see cref="TermCheck"/>, <see cref="InType"/>) that the language front end fills in.
/// </summary>
public sealed class ChoiceValidator
{
    /// <summary>Strict mode (the default): an answer containing ∿ or ~ is refused.</summary>
    public bool Strict { get; init; } = true;
    /// <summary>--min-confidence: answers below it are low confidence (default 0: none are).</summary>
    public double MinConfidence { get; init; }
    /// <summary>The real parser: returns null when the text is one term, else what is wrong.</summary>
    public Func<string, string?>? TermCheck { get; init; }
    /// <summary>The lexicon: does the term belong to the type? Null accepts any term in open mode.</summary>
    public Func<string, string, bool>? InType { get; init; }

    public ValidationResult Validate(OracleRequest request, OracleResponse response)
    {
        string site = Site(request);
        string answer = CacheKey.NormaliseSpaces(response.Substitution);
        string? bad = TermCheck != null ? TermCheck(answer) : ShapeCheck(answer);
        if (bad != null)
            return new(ValidationFailure.Invalid, $"{site}: the oracle's answer '{Show(answer)}' is not one LMN term: {bad}");
        if (Strict && (answer.Contains('∿') || answer.Contains('~') || ContainsWord(answer, "amb")))
            return new(ValidationFailure.Ambiguous, $"{site}: the oracle's answer '{Show(answer)}' is still ambiguous (contains ∿ or ~); strict mode needs a concrete term");
        if (request.Kind == "choice")
        {
            bool found = request.Args.Any(a => CacheKey.NormaliseSpaces(a) == answer);
            if (!found)
                return new(ValidationFailure.NotACandidate, $"{site}: the oracle answered '{Show(answer)}', which is not one of the candidates {string.Join(", ", request.Args)}");
        }
        else if (request.TypeExpected != null && InType != null && !InType(answer, request.TypeExpected))
        {
            return new(ValidationFailure.NotInType, $"{site}: the oracle answered '{Show(answer)}', which the lexicon does not place in '{request.TypeExpected}'");
        }
        if (response.Metadata.Confidence < MinConfidence)
            return new(ValidationFailure.LowConfidence, $"{site}: the oracle's answer '{Show(answer)}' has confidence {response.Metadata.Confidence:0.###}, below --min-confidence {MinConfidence:0.###}");
        return ValidationResult.Accepted;
    }

    /// <summary>"∿lov[joy, pai] (amb#42) at examples/mood.lmn:15:8".</summary>
    public static string Site(OracleRequest r) =>
        r.SourceLocation.Length > 0 ? $"{r.SourceLocation}: {r.Expression} ({r.AmbNodeId})" : $"{r.Expression} ({r.AmbNodeId})";

    private static string Show(string s) => s.Length > 80 ? s[..77] + "..." : s;

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
