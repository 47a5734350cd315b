using System.Globalization;
using System.Text;
using Lmn.Language;
using Lmn.Oracles;
using Lmn.Net;
using Lmn.Runtime;
using Lmn.Words;

namespace Lmn.Semantic;

/// <summary>
/// The default oracle: offline and deterministic, it reads the anchors as text (docs/oracles/semantic.md).
///
///   context    = the anchor values in scope: a string is its text; a word is its lexicon gloss (or the
///                word itself, `_` read as a space); for an open question, its arguments too
///   route      = no text in the context and the lexicon oracle has a single best candidate that
///                matched a context word (score at least 1): the lexicon answers; no anchors and no
///                arguments at all: the lexicon answers (nothing to compare, the model is not loaded);
///                otherwise sentence embeddings decide
///   candidate  = its gloss "meaning, examples" from the lexicon (for a compound, of each word; a word
///                the lexicon lacks, or a string, is embedded as itself), and the facets of that gloss
///                (the comma-separated parts)
///   score      = cos(context, gloss) + mean over facets of cos(context, facet)
///   negation   = when the context holds a negation (not, no, never, nothing, nobody, none, without,
///                cannot, n't), what it says is absent counts against a candidate:
///                score -= 0.5 x cos(context, "no " + the candidate's meaning)
///   answer     = the highest score (scores rounded to 1e-4 first, so float noise cannot flip a
///                choice); a tie goes to the first candidate
///   confidence = 1/n + (1 - 1/n) x min(1, margin / 0.2), margin = best - second best
///
/// Open questions `~head[args]` are answered from the lexicon words of their type (the head word's
/// family): the word whose gloss is nearest to the arguments and anchors. An open question without a
/// type, or whose type has no lexicon words, is refused: this oracle picks, it does not write text.
/// </summary>
public sealed class SemanticOracle : IOracle
{
    public const string Version = "semantic-v1";
    public const double NegationWeight = 0.5;
    public const double FullConfidenceMargin = 0.2;

    private static readonly HashSet<string> NegationCues = new(StringComparer.Ordinal)
    {
        "not", "no", "never", "nothing", "nobody", "none", "without", "cannot", "neither", "nor",
    };

    private readonly Lexicon _lexicon;
    private readonly LexiconOracle _lexiconOracle;
    private readonly Func<ITextEmbedder> _embedder;
    private readonly string _modelName;
    private readonly EmbeddingCache _glosses;
    private readonly Dictionary<string, float[]> _contexts = new(StringComparer.Ordinal);

    /// <param name="cacheDirectory">The answer cache's directory (gloss embeddings are kept beside it); null for memory only.</param>
    /// <param name="embedder">The model, asked for only when a question needs it (default: the process's shared MiniLM).</param>
    public SemanticOracle(Lexicon lexicon, string? cacheDirectory = null, Func<ITextEmbedder>? embedder = null, string modelName = "all-MiniLM-L6-v2")
    {
        _lexicon = lexicon;
        _lexiconOracle = new LexiconOracle(lexicon);
        _embedder = embedder ?? (() => MiniLmEmbedder.Shared);
        _modelName = modelName;
        _glosses = new EmbeddingCache(cacheDirectory, modelName);
    }

    public string Identity => $"{Version}/{_modelName}";

    /// <summary>The gloss embeddings (for tests and the benchmark).</summary>
    public EmbeddingCache GlossCache => _glosses;

    /// <summary>How many questions the embeddings answered (the rest the lexicon did).</summary>
    public int EmbeddingAnswers => Volatile.Read(ref _embeddingAnswers);

    private int _embeddingAnswers;

    public Task<IReadOnlyList<OracleResult>> AskAsync(IReadOnlyList<OracleRequest> batch, CancellationToken cancellationToken)
    {
        OracleTelemetry.CountQuestions(Identity, batch.Count);
        var results = new List<OracleResult>(batch.Count);
        foreach (var r in batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            results.Add(Answer(r));
        }
        _glosses.Save();
        return Task.FromResult<IReadOnlyList<OracleResult>>(results);
    }

    /// <summary>Answers one question (the gloss cache file is written by <see cref="AskAsync"/>).</summary>
    public OracleResult Answer(OracleRequest r)
    {
        var (known, anchors, described) = Context(r);
        bool open = r.Kind != "choice";
        IReadOnlyList<string> candidates = r.Args;
        if (open)
        {
            if (r.TypeExpected == null)
            {
                // No type to choose within: the answer is the question read back in Limn, a phrase of the
                // lexicon words nearest in meaning to its arguments and anchors.
                if (described.Length == 0)
                    return new OracleError(r.AmbNodeId, "refused", $"~{LexiconOracle.HeadOf(r.Expression)} has no arguments or anchors to read");
                Interlocked.Increment(ref _embeddingAnswers);
                return InLimn(r, described);
            }
            candidates = _lexicon.Entries.Where(e => e.Type == r.TypeExpected || e.Domain == r.TypeExpected).Select(e => e.Word).Distinct().ToList();
            if (candidates.Count == 0)
                return new OracleError(r.AmbNodeId, "refused", $"the lexicon has no word of type {r.TypeExpected}");
        }
        if (candidates.Count == 0)
            return new OracleError(r.AmbNodeId, "refused", "no candidates to choose from");

        if (!open && anchors == 0)
            return FromLexicon(r, "no anchors in scope, nothing to compare");
        if (!open && known)
        {
            var lex = _lexiconOracle.ScoreChoices(r);
            double top = lex.Max();
            if (top >= 1 && lex.Count(s => s == top) == 1)
                return FromLexicon(r, "the context is made of lexicon words and matched one candidate");
        }
        if (described.Length == 0)
            return open
                ? new OracleError(r.AmbNodeId, "refused", $"~{LexiconOracle.HeadOf(r.Expression)} has no arguments or anchors to read")
                : FromLexicon(r, "the anchors are empty, nothing to compare");

        Interlocked.Increment(ref _embeddingAnswers);
        return FromEmbeddings(r, candidates, described);
    }

    private OracleResult FromLexicon(OracleRequest r, string why)
    {
        var res = _lexiconOracle.Answer(r);
        if (res is not OracleResponse ok) return res;
        return ok with { Metadata = ok.Metadata with { Reasoning = $"lexicon ({why}): {ok.Metadata.Reasoning}", Model = Identity } };
    }

    private OracleResponse FromEmbeddings(OracleRequest r, IReadOnlyList<string> candidates, string context)
    {
        var ctx = ContextVector(context);
        bool negated = HasNegation(context, out string cue);
        var descs = candidates.Select(Describe).ToList();

        // Every gloss, facet and negated meaning this question needs, embedded in one call.
        var need = new List<string>();
        foreach (var d in descs)
        {
            need.Add(d.Gloss);
            need.AddRange(d.Facets);
            if (negated) need.Add(d.Absent);
        }
        EnsureGlosses(need);

        var scores = new double[candidates.Count];
        var nearest = new string[candidates.Count];
        for (int i = 0; i < descs.Count; i++)
        {
            var d = descs[i];
            double s = Cos(ctx, Gloss(d.Gloss));
            double facets = 0, bestFacet = double.NegativeInfinity;
            foreach (string f in d.Facets)
            {
                double c = Cos(ctx, Gloss(f));
                facets += c;
                if (c > bestFacet) (bestFacet, nearest[i]) = (c, f);
            }
            s += d.Facets.Count > 0 ? facets / d.Facets.Count : s;
            if (negated) s -= NegationWeight * Cos(ctx, Gloss(d.Absent));
            scores[i] = Math.Round(s, 4);
        }
        int best = 0;
        for (int i = 1; i < scores.Length; i++) if (scores[i] > scores[best]) best = i;
        double second = scores.Where((_, i) => i != best).DefaultIfEmpty(double.NegativeInfinity).Max();
        double margin = double.IsNegativeInfinity(second) ? FullConfidenceMargin : scores[best] - second;
        int n = candidates.Count;
        double confidence = 1.0 / n + (1 - 1.0 / n) * Math.Min(1, margin / FullConfidenceMargin);

        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"embeddings: {candidates[best]} scores {scores[best]:0.###}, its gloss \"{descs[best].Gloss}\" nearest to the context (closest part: \"{nearest[best] ?? descs[best].Gloss}\")");
        var others = Enumerable.Range(0, n).Where(i => i != best).OrderByDescending(i => scores[i]).Take(8)
            .Select(i => string.Create(CultureInfo.InvariantCulture, $"{candidates[i]} {scores[i]:0.###}"));
        if (n > 1) sb.Append("; others: ").Append(string.Join(", ", others));
        var tied = Enumerable.Range(0, n).Where(i => scores[i] == scores[best]).ToList();
        if (tied.Count > 1) sb.Append(CultureInfo.InvariantCulture, $"; a tie between {string.Join(", ", tied.Select(i => candidates[i]))}: took the first");
        if (negated) sb.Append(CultureInfo.InvariantCulture, $"; the context negates ('{cue}'), so each candidate's absence (\"{descs[best].Absent}\", ...) counted against it");
        sb.Append("; context: ").Append(context.Length > 120 ? context[..120] + "..." : context);

        return new OracleResponse(r.AmbNodeId, candidates[best], new OracleMetadata
        {
            Confidence = Math.Round(confidence, 4),
            AlternativesConsidered = candidates.Where((_, i) => i != best).Take(16).ToList(),
            Reasoning = sb.ToString(),
            Model = Identity,
        });
    }

    /// <summary>How many lexicon words an untyped open question's answer has.</summary>
    public const int PhraseWords = 3;

    /// <summary>An untyped open question (`~explain[quantum superposition]`): the nearest lexicon words by gloss, as a phrase.</summary>
    private OracleResponse InLimn(OracleRequest r, string context)
    {
        var ctx = ContextVector(context);
        var entries = _lexicon.Entries.GroupBy(e => e.Word, StringComparer.Ordinal).Select(g => g.First()).ToList();
        var glosses = entries.Select(e => e.Examples.Length > 0 ? $"{e.Meaning}, {e.Examples}" : e.Meaning).ToList();
        EnsureGlosses(glosses);
        var ranked = entries.Select((e, i) => (e.Word, Score: Math.Round(Cos(ctx, Gloss(glosses[i])), 4)))
            .OrderByDescending(x => x.Score).ThenBy(x => x.Word, StringComparer.Ordinal).ToList();
        var top = ranked.Take(PhraseWords).ToList();
        double margin = ranked.Count > PhraseWords ? top[^1].Score - ranked[PhraseWords].Score : FullConfidenceMargin;
        double confidence = Math.Round(0.3 + 0.4 * Math.Min(1, margin / FullConfidenceMargin), 4);
        string reasoning = "embeddings: the lexicon words nearest in meaning to the question, as a phrase: "
            + string.Join(", ", top.Select(x => string.Create(CultureInfo.InvariantCulture, $"{x.Word} {x.Score:0.###}")))
            + "; context: " + (context.Length > 120 ? context[..120] + "..." : context);
        return new OracleResponse(r.AmbNodeId, string.Join(" ", top.Select(x => x.Word)), new OracleMetadata
        {
            Confidence = confidence,
            AlternativesConsidered = ranked.Skip(PhraseWords).Take(8).Select(x => x.Word).ToList(),
            Reasoning = reasoning,
            Model = Identity,
        });
    }

    /// <summary>A candidate as the model reads it.</summary>
    private sealed record Description(string Gloss, IReadOnlyList<string> Facets, string Absent);

    private Description Describe(string candidate)
    {
        if (DataTerms.TryParse(candidate, out var t, out _) && t is TStr s)
            return new Description(s.Value, [], "no " + s.Value);
        var glosses = new List<string>();
        var meanings = new List<string>();
        foreach (string w in LexiconOracle.WordsOf(candidate))
        {
            if (_lexicon.Find(w) is { } e)
            {
                glosses.Add(e.Examples.Length > 0 ? $"{e.Meaning}, {e.Examples}" : e.Meaning);
                meanings.Add(e.Meaning);
            }
            else
            {
                string plain = w.Replace('_', ' ');
                glosses.Add(plain);
                meanings.Add(plain);
            }
        }
        if (glosses.Count == 0) glosses.Add(candidate);
        string gloss = string.Join("; ", glosses);
        var facets = gloss.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
        return new Description(gloss, facets.Count > 1 ? facets : [], "no " + string.Join(", ", meanings.DefaultIfEmpty(candidate)));
    }

    /// <summary>
    /// The context as text, how many anchors (and arguments of an open question) it has, and whether it
    /// is made of lexicon words: every word of 3 letters or more (stop words aside) is a Limn word or an
    /// English word of the lexicon's glosses, and nothing is negated.
    /// </summary>
    private (bool Known, int Anchors, string Described) Context(OracleRequest r)
    {
        var parts = new List<string>();
        var raw = new List<string>();
        int anchors = 0;
        void Add(string value)
        {
            anchors++;
            if (!DataTerms.TryParse(value, out var t, out _))
            {
                parts.Add(value);
                raw.Add(value);
                return;
            }
            raw.Add(t is TStr s0 ? s0.Value : value);
            string d = Read(t);
            if (d.Trim().Length > 0) parts.Add(d);
        }
        foreach (var (_, value) in r.LexicalBindings.OrderBy(kv => kv.Key, StringComparer.Ordinal)) Add(value);
        if (r.Kind != "choice") foreach (string a in r.Args) Add(a);
        string all = string.Join(". ", raw);
        bool known = !HasNegation(all, out _) && LexiconOracle.Tokens(all).All(_lexicon.Knows);
        return (known, anchors, string.Join(". ", parts));
    }

    /// <summary>A term as words: strings as their text, lexicon words as their gloss, other words as themselves.</summary>
    private string Read(Term t) => t switch
    {
        TStr s => s.Value,
        TNum n => Numb.Show(n.Numb),
        TWord w => _lexicon.Find(w.Name) is { } e ? (e.Examples.Length > 0 ? $"{e.Meaning}, {e.Examples}" : e.Meaning) : w.Name.Replace('_', ' '),
        TCompound c => string.Join(" ", new[] { Read(new TWord(c.Head)) }.Concat(c.Fields.Select(Read))),
        TList l => string.Join(", ", l.Items.Select(Read)),
        TAnchored a => Read(a.Value),
        _ => DataTerms.Print(t),
    };

    /// <summary>A negation cue among the context's words (not, no, never, ..., or a word ending in n't).</summary>
    public static bool HasNegation(string text, out string cue)
    {
        foreach (string raw in text.ToLowerInvariant().Replace('’', '\'').Split([' ', ',', '.', '!', '?', ';', ':', '"', '(', ')', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (NegationCues.Contains(raw) || raw.EndsWith("n't", StringComparison.Ordinal))
            {
                cue = raw;
                return true;
            }
        }
        cue = "";
        return false;
    }

    private void EnsureGlosses(List<string> texts)
    {
        var missing = texts.Distinct().Where(t => !_glosses.TryGet(t, out _)).ToList();
        if (missing.Count == 0) return;
        var vs = _embedder().Embed(missing);
        for (int i = 0; i < missing.Count; i++) _glosses.Put(missing[i], vs[i]);
    }

    private float[] Gloss(string text) => _glosses.TryGet(text, out var v) ? v : throw new InvalidOperationException("gloss not embedded: " + text);

    private float[] ContextVector(string text)
    {
        lock (_contexts)
            if (_contexts.TryGetValue(text, out var hit)) return hit;
        var v = _embedder().Embed([text])[0];
        lock (_contexts)
        {
            if (_contexts.Count > 10_000) _contexts.Clear();
            _contexts[text] = v;
        }
        return v;
    }

    private static double Cos(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length && i < b.Length; i++)
        {
            dot += a[i] * (double)b[i];
            na += a[i] * (double)a[i];
            nb += b[i] * (double)b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.Sqrt(na * nb);
    }
}
