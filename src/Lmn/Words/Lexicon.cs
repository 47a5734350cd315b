using System.Reflection;

namespace Lmn.Words;

public sealed record LexEntry(string Word, string Meaning, string Examples, string Domain, string Subdomain)
{
    /// <summary>`Domain / Subdomain`, the type_expected of a site whose head is this word.</summary>
    public string Type => Subdomain.Length > 0 ? $"{Domain} / {Subdomain}" : Domain;
}

/// <summary>The Limn lexicon, embedded in the library (MIT licence notice: LicenseText).</summary>
public sealed class Lexicon
{
    private readonly Dictionary<string, LexEntry> _byWord = new(StringComparer.Ordinal);

    public IReadOnlyList<LexEntry> Entries { get; }

    private Lexicon(List<LexEntry> entries)
    {
        Entries = entries;
        foreach (var e in entries) _byWord.TryAdd(e.Word, e);
    }

    private static readonly Lazy<Lexicon> s_default = new(() => Parse(ReadResource("Lmn.limn-lexicon.tsv")));

    /// <summary>The embedded Limn lexicon.</summary>
    public static Lexicon Default => s_default.Value;

    public static string LicenseText => ReadResource("Lmn.LIMN-LEXICON-LICENSE.txt");

    internal static string ReadResource(string name)
    {
        using var s = typeof(Lexicon).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"missing embedded resource {name}");
        using var r = new StreamReader(s);
        return r.ReadToEnd();
    }

    /// <summary>Reads the TSV: a header row, then word, meaning, examples, domain, subdomain.</summary>
    public static Lexicon Parse(string tsv)
    {
        var list = new List<LexEntry>();
        bool header = true;
        foreach (string raw in tsv.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (line.Length == 0) continue;
            if (header) { header = false; continue; }
            var f = line.Split('\t');
            string At(int i) => i < f.Length ? f[i].Trim() : "";
            list.Add(new LexEntry(At(0), At(1), At(2), At(3), At(4)));
        }
        return new Lexicon(list);
    }

    public bool Contains(string word) => _byWord.ContainsKey(word);

    public LexEntry? Find(string word) => _byWord.GetValueOrDefault(word);

    /// <summary>Up to `max` lexicon words closest to `word` by edit distance (at most 2), nearest first.</summary>
    public IReadOnlyList<string> Suggest(string word, int max = 3)
    {
        var scored = new List<(int D, string W)>();
        foreach (var e in Entries)
        {
            if (Math.Abs(e.Word.Length - word.Length) > 2) continue;
            int d = EditDistance(word, e.Word);
            if (d <= 2 && d > 0) scored.Add((d, e.Word));
        }
        scored.Sort((a, b) => a.D != b.D ? a.D.CompareTo(b.D) : string.CompareOrdinal(a.W, b.W));
        return scored.Take(max).Select(s => s.W).ToList();
    }

    private HashSet<string>? _glossWords;

    /// <summary>The English words the lexicon's meanings and examples use (lower case, letters only).</summary>
    private HashSet<string> GlossWords => LazyInitializer.EnsureInitialized(ref _glossWords, BuildGlossWords);

    private HashSet<string> BuildGlossWords()
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in Entries)
            foreach (string t in (e.Meaning + " " + e.Examples).Split((char[])[' ', ',', '-', '/', '(', ')', ';', '.', '\''], StringSplitOptions.RemoveEmptyEntries))
                if (t.All(char.IsAsciiLetter)) set.Add(t.ToLowerInvariant());
        return set;
    }

    /// <summary>Whether the word (lower case) is a Limn word or an English word of the lexicon's meanings and examples.</summary>
    public bool Knows(string word) => Contains(word) || GlossWords.Contains(word);

    /// <summary>
    /// Whether a word that is not in the lexicon deserves the "not a Limn word" warning: only when it
    /// looks like a slip for a Limn word, that is, it is one edit (a letter added, dropped, changed, or
    /// two swapped) away from a lexicon word, it is a plain lower-case word (no `_`, digit or capital,
    /// which mark names the program made up), and it is not an English word the lexicon itself uses in
    /// its meanings and examples (`rain`, `fire`, `love`: ordinary words, written on purpose). The
    /// suggestions are the lexicon words one edit away, nearest first (at most 3).
    /// </summary>
    public bool ShouldWarnUnknown(string word, out IReadOnlyList<string> suggestions)
    {
        suggestions = [];
        if (word.Length == 0 || Contains(word) || !word.All(char.IsAsciiLetterLower)) return false;
        if (GlossWords.Contains(word)) return false;
        var near = new List<string>();
        foreach (var e in Entries)
            if (Math.Abs(e.Word.Length - word.Length) <= 1 && EditDistance(word, e.Word) == 1) near.Add(e.Word);
        if (near.Count == 0) return false;
        near.Sort(string.CompareOrdinal);
        suggestions = near.Distinct().Take(3).ToList();
        return true;
    }

    /// <summary>Optimal string alignment distance (Levenshtein plus adjacent transpositions).</summary>
    public static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }

    /// <summary>Words whose name, meaning, examples or domain match the query (case-insensitive), best first.</summary>
    public IReadOnlyList<LexEntry> Search(string query)
    {
        string q = query.Trim();
        int Rank(LexEntry e)
        {
            if (e.Word.Equals(q, StringComparison.OrdinalIgnoreCase)) return 0;
            if (e.Word.StartsWith(q, StringComparison.OrdinalIgnoreCase)) return 1;
            if (e.Meaning.Contains(q, StringComparison.OrdinalIgnoreCase)) return 2;
            if (e.Examples.Contains(q, StringComparison.OrdinalIgnoreCase)) return 3;
            if (e.Domain.Contains(q, StringComparison.OrdinalIgnoreCase) || e.Subdomain.Contains(q, StringComparison.OrdinalIgnoreCase)) return 4;
            return -1;
        }
        return Entries.Select(e => (e, r: Rank(e))).Where(x => x.r >= 0).OrderBy(x => x.r)
            .ThenBy(x => x.e.Word, StringComparer.Ordinal).Select(x => x.e).ToList();
    }
}
