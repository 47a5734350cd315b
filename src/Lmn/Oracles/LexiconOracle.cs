using System.Globalization;
using System.Text;
using Lmn.Words;

namespace Lmn.Oracles;

/// <summary>
/// The default oracle: offline and deterministic. It scores each candidate against the question's
/// context with the Limn lexicon and picks the best (docs/oracles/lexicon.md has the rules):
///
///   context   = the words of every anchor value in scope (`present_moment` → present, moment), of the
///               enclosing definitions' names, and of the expected type
///   candidate = the words of its lexicon meaning and examples (for a compound, of all its words)
///   score     = Σ over context words: 1 if the candidate has the word, 0.5 if it has one sharing its
///               first 4 letters; + 0.25 if the candidate is in the head word's semantic family (same
///               lexicon domain and subdomain)
///   answer    = the highest score; a tie goes to the first candidate, and the reasoning says so
///   confidence= (best + 1) / Σ (score + 1): 1/n when nothing tells them apart, near 1 for a clear winner
///
/// Open questions with a type are answered from the lexicon words of that type, scored the same way;
/// without a type, with the glosses of their arguments as a string.
/// </summary>
public sealed class LexiconOracle(Lexicon lexicon) : IOracle
{
    public const string Version = "lexicon-v1";

    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "the", "and", "for", "with", "from", "into", "that", "this", "are", "was", "not", "but", "its", "one",
    };

    public string Identity => Version;

    public Task<IReadOnlyList<OracleResult>> AskAsync(IReadOnlyList<OracleRequest> batch, CancellationToken cancellationToken)
    {
        OracleTelemetry.CountQuestions(Identity, batch.Count);
        return Task.FromResult<IReadOnlyList<OracleResult>>(batch.Select(Answer).ToList());
    }

    /// <summary>Answers one question.</summary>
    public OracleResult Answer(OracleRequest r)
    {
        string head = HeadOf(r.Expression);
        var context = ContextWords(r);
        var headEntry = lexicon.Find(head);
        IReadOnlyList<string> candidates = r.Args;
        if (r.Kind != "choice")
        {
            if (r.TypeExpected == null)
            {
                string glosses = string.Join("; ", r.Args.Select(a => WordsOf(a).Select(w => lexicon.Find(w) is { } e ? Gloss(e) : w)
                    .Aggregate((x, y) => x + ", " + y)));
                return new OracleResponse(r.AmbNodeId, Quote(glosses), new OracleMetadata
                {
                    Confidence = 0.5,
                    Reasoning = $"the lexicon has no free text: answered ~{head} with the glosses of its arguments",
                    Model = Version,
                });
            }
            candidates = lexicon.Entries.Where(e => e.Type == r.TypeExpected || e.Domain == r.TypeExpected).Select(e => e.Word).ToList();
            if (candidates.Count == 0)
                return new OracleError(r.AmbNodeId, "refused", $"the lexicon has no word of type {r.TypeExpected}");
        }
        if (candidates.Count == 0)
            return new OracleError(r.AmbNodeId, "refused", "no candidates to choose from");

        var scores = new double[candidates.Count];
        var why = new List<string>[candidates.Count];
        for (int i = 0; i < candidates.Count; i++)
            (scores[i], why[i]) = Score(candidates[i], context, headEntry);
        int best = 0;
        for (int i = 1; i < scores.Length; i++) if (scores[i] > scores[best]) best = i;
        var tied = Enumerable.Range(0, scores.Length).Where(i => scores[i] == scores[best]).ToList();
        double confidence = (scores[best] + 1) / scores.Sum(s => s + 1);

        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{candidates[best]} scores {scores[best]:0.##}");
        if (why[best].Count > 0) sb.Append(" (").Append(string.Join(", ", why[best])).Append(')');
        var others = Enumerable.Range(0, candidates.Count).Where(i => i != best).Take(8)
            .Select(i => string.Create(CultureInfo.InvariantCulture, $"{candidates[i]} {scores[i]:0.##}"));
        if (candidates.Count > 1) sb.Append("; others: ").Append(string.Join(", ", others));
        if (tied.Count > 1) sb.Append(CultureInfo.InvariantCulture, $"; a tie between {string.Join(", ", tied.Select(i => candidates[i]))}: took the first");
        if (context.Count == 0) sb.Append("; no anchors in scope, so only the semantic family counts");

        return new OracleResponse(r.AmbNodeId, candidates[best], new OracleMetadata
        {
            Confidence = Math.Round(confidence, 4),
            AlternativesConsidered = candidates.Where((_, i) => i != best).Take(16).ToList(),
            Reasoning = sb.ToString(),
            Model = Version,
        });
    }

    /// <summary>The lexicon score of each candidate of a choice question, in order (the rule above).</summary>
    public IReadOnlyList<double> ScoreChoices(OracleRequest r)
    {
        var context = ContextWords(r);
        var headEntry = lexicon.Find(HeadOf(r.Expression));
        return r.Args.Select(c => Score(c, context, headEntry).Score).ToList();
    }

    private (double Score, List<string> Why) Score(string candidate, List<(string Word, string From)> context, LexEntry? head)
    {
        var mine = new HashSet<string>(StringComparer.Ordinal);
        var entries = new List<LexEntry>();
        foreach (string w in WordsOf(candidate))
        {
            mine.Add(w);
            if (lexicon.Find(w) is { } e)
            {
                entries.Add(e);
                foreach (string t in Tokens(e.Meaning + " " + e.Examples)) mine.Add(t);
            }
        }
        double score = 0;
        var why = new List<string>();
        foreach (var (word, from) in context)
        {
            if (mine.Contains(word))
            {
                score += 1;
                why.Add($"'{word}' from {from}");
            }
            else if (word.Length >= 4 && mine.Any(t => t.Length >= 4 && string.CompareOrdinal(t, 0, word, 0, 4) == 0))
            {
                score += 0.5;
                why.Add($"'{word}' (prefix) from {from}");
            }
        }
        if (head != null && entries.Any(e => e.Type == head.Type))
        {
            score += 0.25;
            why.Add($"in {head.Word}'s family {head.Type}");
        }
        return (score, why);
    }

    private static List<(string Word, string From)> ContextWords(OracleRequest r)
    {
        var list = new List<(string, string)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, value) in r.LexicalBindings.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            foreach (string t in Tokens(value))
                if (seen.Add(t)) list.Add((t, name));
        foreach (string def in r.ReductionTrace)
            foreach (string t in Tokens(def))
                if (seen.Add(t)) list.Add((t, "definition " + def));
        return list;
    }

    /// <summary>"lov: love, affection, bond, care" (the protocol's type_environment gloss).</summary>
    public static string Gloss(LexEntry e) => e.Examples.Length > 0 ? $"{e.Word}: {e.Meaning}, {e.Examples}" : $"{e.Word}: {e.Meaning}";

    /// <summary>The head word of `∿head[...]` or `~head[...]`.</summary>
    public static string HeadOf(string expression)
    {
        string e = expression.TrimStart();
        if (e.StartsWith("amb", StringComparison.Ordinal)) e = e[3..];
        e = e.TrimStart('∿', '~', ' ');
        int br = e.IndexOf('[');
        return br > 0 ? e[..br].Trim() : e.Trim();
    }

    /// <summary>Lower-case words of at least 3 letters, without stop words.</summary>
    public static IEnumerable<string> Tokens(string text)
    {
        var sb = new StringBuilder();
        foreach (char ch in text + " ")
        {
            if (char.IsLetter(ch)) sb.Append(char.ToLowerInvariant(ch));
            else
            {
                if (sb.Length >= 3 && !StopWords.Contains(sb.ToString())) yield return sb.ToString();
                sb.Clear();
            }
        }
    }

    /// <summary>The identifiers in an LMN term's text (`fir[lov, pai]` → fir, lov, pai).</summary>
    public static IEnumerable<string> WordsOf(string term)
    {
        var sb = new StringBuilder();
        foreach (char ch in term + " ")
        {
            if (char.IsAsciiLetterOrDigit(ch) || ch == '_') sb.Append(ch);
            else
            {
                if (sb.Length > 0) yield return sb.ToString();
                sb.Clear();
            }
        }
    }

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
