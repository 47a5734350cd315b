using System.Diagnostics;
using System.Globalization;
using Lmn.Language;
using Lmn.Oracles;
using Lmn.Semantic;
using Lmn.Words;

namespace Lmn.Cli;

/// <summary>
/// `lmn bench oracle-quality [--file FILE]`: the evaluation set (bench/oracle-quality/eval.tsv, one
/// question a line: half, head, candidates, NAME=VALUE context, the answer a person gives) put to the
/// first-candidate, lexicon and semantic oracles side by side, accuracy per half; then the semantic
/// oracle's cost: model load, median ms per question with the gloss embeddings cold and warm, peak RSS.
/// </summary>
public static class OracleQualityBench
{
    public sealed record Question(string Half, OracleRequest Request, string Answer);

    public static int Execute(string? file, bool misses, TextWriter stdout, TextWriter stderr)
    {
        file ??= FindEvalFile();
        if (file == null || !File.Exists(file))
        {
            stderr.WriteLine($"lmn bench oracle-quality: {(file == null ? "no bench/oracle-quality/eval.tsv found; pass --file FILE" : file + ": no such file")}");
            return 1;
        }
        List<Question> qs;
        try { qs = Read(file); }
        catch (FormatException e)
        {
            stderr.WriteLine($"lmn bench oracle-quality: {e.Message}");
            return 1;
        }
        var halves = qs.Select(q => q.Half).Distinct().ToList();

        var sw = Stopwatch.StartNew();
        var model = MiniLmEmbedder.Shared;
        double loadMs = model.LoadTime.TotalMilliseconds;
        string dir = Path.Combine(Path.GetTempPath(), "lmn-oracle-quality-" + Environment.ProcessId);
        try
        {
            var first = new FirstOracle();
            var lexicon = new LexiconOracle(Lexicon.Default);
            // Cold: no gloss embedded yet. Warm: a new oracle reading the glosses the cold pass saved.
            var cold = new SemanticOracle(Lexicon.Default, dir);
            var (semCold, coldMs) = Ask(cold, qs);
            cold.GlossCache.Save();
            var warm = new SemanticOracle(Lexicon.Default, dir);
            var (sem, warmMs) = Ask(warm, qs);
            var (fst, _) = Ask(first, qs);
            var (lex, _) = Ask(lexicon, qs);

            stdout.WriteLine($"questions: {qs.Count} ({string.Join(", ", halves.Select(h => $"{h} {qs.Count(q => q.Half == h)}"))}) from {file}");
            stdout.WriteLine($"{"oracle",-10}" + string.Concat(halves.Select(h => $"{h,18}")));
            foreach (var (name, answers) in new[] { ("first", fst), ("lexicon", lex), ("semantic", sem) })
                stdout.WriteLine($"{name,-10}" + string.Concat(halves.Select(h => $"{Accuracy(qs, answers, h),18}")));
            int same = qs.Count(q => semCold[q] == sem[q]);
            stdout.WriteLine($"semantic_cold_and_warm_agree: {same}/{qs.Count}");
            stdout.WriteLine($"semantic_by_embeddings: {warm.EmbeddingAnswers}/{qs.Count} (the rest by the lexicon rule)");
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"model_load_ms: {loadMs:F0}"));
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"semantic_ms_per_question_median_cold_glosses: {BenchMath.Median(coldMs):F2}"));
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"semantic_ms_per_question_median: {BenchMath.Median(warmMs):F2}"));
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"semantic_ms_per_question_max: {warmMs.Max():F2}"));
            stdout.WriteLine($"peak_rss_mb: {Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024)}");
            if (misses)
                foreach (var q in qs.Where(q => sem[q] != q.Answer))
                    stdout.WriteLine($"miss {q.Half}: {q.Request.Expression} {string.Join(" ", q.Request.LexicalBindings.Values)} -> {sem[q]} (expected {q.Answer})");
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
        return 0;
    }

    private static string Accuracy(List<Question> qs, Dictionary<Question, string> answers, string half)
    {
        var mine = qs.Where(q => q.Half == half).ToList();
        int ok = mine.Count(q => answers[q] == q.Answer);
        return string.Create(CultureInfo.InvariantCulture, $"{ok}/{mine.Count} {100.0 * ok / mine.Count:F1}%");
    }

    private static (Dictionary<Question, string>, List<double>) Ask(IOracle oracle, List<Question> qs)
    {
        var answers = new Dictionary<Question, string>();
        var ms = new List<double>();
        foreach (var q in qs)
        {
            long t0 = Stopwatch.GetTimestamp();
            var res = oracle.AskAsync([q.Request], CancellationToken.None).GetAwaiter().GetResult()[0];
            ms.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            answers[q] = res is OracleResponse ok ? ok.Substitution : "(error)";
        }
        return (answers, ms);
    }

    /// <summary>Reads the evaluation set; a bad line is a FormatException naming FILE:LINE.</summary>
    public static List<Question> Read(string file)
    {
        var list = new List<Question>();
        int n = 0;
        foreach (string raw in File.ReadAllLines(file))
        {
            n++;
            if (raw.Length == 0 || raw.StartsWith('#')) continue;
            var f = raw.Split('\t');
            if (f.Length != 5) throw new FormatException($"{file}:{n}: expected 5 tab-separated fields (half, head, candidates, NAME=VALUE, answer), got {f.Length}");
            var cands = f[2].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();
            int eq = f[3].IndexOf('=');
            if (eq <= 0) throw new FormatException($"{file}:{n}: expected NAME=VALUE in the fourth field");
            if (!cands.Contains(f[4].Trim())) throw new FormatException($"{file}:{n}: the answer '{f[4]}' is not a candidate");
            string name = f[3][..eq];
            string head = f[1].Trim();
            var request = new OracleRequest
            {
                AmbNodeId = $"q{n}",
                Kind = "choice",
                Expression = $"∿{head}[{string.Join(", ", cands)}]",
                Args = cands,
                TypeExpected = Lexicon.Default.Find(head)?.Type,
                LexicalBindings = new Dictionary<string, string> { ["@" + name] = LmnDriver.ContextText(name, f[3][(eq + 1)..]) },
                ReductionTrace = ["main"],
                SourceLocation = $"{file}:{n}",
            };
            list.Add(new Question(f[0].Trim(), request, f[4].Trim()));
        }
        return list;
    }

    private static string? FindEvalFile()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
            {
                string f = Path.Combine(d.FullName, "bench", "oracle-quality", "eval.tsv");
                if (File.Exists(f)) return f;
            }
        }
        return null;
    }
}
