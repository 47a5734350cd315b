using System.Text.Json;

namespace Lmn.Oracles;

/// <summary>`--oracle first`: always the first candidate (the seed's default_collapse).</summary>
public sealed class FirstOracle : IOracle
{
    public string Identity => "first";

    public Task<IReadOnlyList<OracleResult>> AskAsync(IReadOnlyList<OracleRequest> batch, CancellationToken cancellationToken)
    {
        OracleTelemetry.CountQuestions(Identity, batch.Count);
        var results = batch.Select(r => r.Kind == "choice" && r.Args.Count > 0
            ? (OracleResult)new OracleResponse(r.AmbNodeId, r.Args[0], new OracleMetadata
            {
                Confidence = 1.0,
                AlternativesConsidered = r.Args.Skip(1).ToList(),
                Reasoning = "the first oracle always picks the first candidate",
                Model = Identity,
            })
            : new OracleError(r.AmbNodeId, "refused", "the first oracle answers choice questions (∿) only")).ToList();
        return Task.FromResult<IReadOnlyList<OracleResult>>(results);
    }
}

/// <summary>
/// `--oracle script:FILE.json`: a JSON object mapping a question's canonical expression (e.g.
/// "∿lov[joy, pai]") to its answer, either a string or {"substitution", "confidence", "reasoning"}.
/// For tests and demos; a question the script lacks is an error that names it.
/// </summary>
public sealed class ScriptOracle : IOracle
{
    private readonly Dictionary<string, OracleMetadata> _meta = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _answers = new(StringComparer.Ordinal);

    public ScriptOracle(string path)
    {
        Path = path;
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new ProtocolException($"{path}: not a JSON object: {e.Message}"); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new ProtocolException($"{path}: expected a JSON object mapping questions to answers");
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                string q = CacheKey.NormaliseSpaces(p.Name);
                switch (p.Value.ValueKind)
                {
                    case JsonValueKind.String:
                        _answers[q] = p.Value.GetString()!;
                        _meta[q] = new OracleMetadata { Confidence = 1.0, Reasoning = "scripted", Model = "script" };
                        break;
                    case JsonValueKind.Object:
                        if (!p.Value.TryGetProperty("substitution", out var s) || s.ValueKind != JsonValueKind.String)
                            throw new ProtocolException($"{path}: the answer to \"{p.Name}\" needs a string \"substitution\"");
                        _answers[q] = s.GetString()!;
                        _meta[q] = new OracleMetadata
                        {
                            Confidence = p.Value.TryGetProperty("confidence", out var c) && c.ValueKind == JsonValueKind.Number ? c.GetDouble() : 1.0,
                            Reasoning = p.Value.TryGetProperty("reasoning", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : "scripted",
                            Model = "script",
                        };
                        break;
                    default:
                        throw new ProtocolException($"{path}: the answer to \"{p.Name}\" must be a string or an object");
                }
            }
        }
    }

    public string Path { get; }

    public string Identity => "script:" + System.IO.Path.GetFileName(Path);

    public Task<IReadOnlyList<OracleResult>> AskAsync(IReadOnlyList<OracleRequest> batch, CancellationToken cancellationToken)
    {
        OracleTelemetry.CountQuestions(Identity, batch.Count);
        var results = new List<OracleResult>();
        foreach (var r in batch)
        {
            // A collapse is found by its context first (`[run, execute] @ code_context`, as --trace shows it).
            string q = CacheKey.NormaliseSpaces(r.Display);
            if (!_answers.ContainsKey(q)) q = CacheKey.NormaliseSpaces(r.Expression);
            if (_answers.TryGetValue(q, out var a))
                results.Add(new OracleResponse(r.AmbNodeId, a, _meta[q] with { AlternativesConsidered = r.Args.Where(x => x != a).ToList() }));
            else
                results.Add(new OracleError(r.AmbNodeId, "unavailable", $"the script {Path} has no answer for {q}"));
        }
        return Task.FromResult<IReadOnlyList<OracleResult>>(results);
    }
}

/// <summary>
/// `--oracle replay:TRANSCRIPT`: answers from a transcript's recorded responses, matched by question
/// (expression, kind, type and anchors; not by id). A question the transcript lacks is an error that
/// names it and the nearest recorded question.
/// </summary>
public sealed class ReplayOracle : IOracle
{
    private readonly Dictionary<string, OracleResponse> _answers = new(StringComparer.Ordinal);
    private readonly List<string> _questions = [];

    public ReplayOracle(string transcriptPath)
    {
        Path = transcriptPath;
        if (!File.Exists(transcriptPath)) throw new FileNotFoundException($"{transcriptPath}: no such transcript");
        foreach (var e in Transcript.Read(transcriptPath))
        {
            if (e.Request == null || e.Result is not OracleResponse res) continue;
            if (e.Type is not (Transcript.Response or Transcript.Fallback or Transcript.Escalation)) continue;
            string k = QuestionKey(e.Request);
            if (_answers.TryAdd(k, res)) _questions.Add(e.Request.Expression);
        }
    }

    public string Path { get; }

    public string Identity => "replay";

    /// <summary>The identity-free key of a question.</summary>
    public static string QuestionKey(OracleRequest r) => CacheKey.Of(r, "");

    public Task<IReadOnlyList<OracleResult>> AskAsync(IReadOnlyList<OracleRequest> batch, CancellationToken cancellationToken)
    {
        OracleTelemetry.CountQuestions(Identity, batch.Count);
        var results = new List<OracleResult>();
        foreach (var r in batch)
        {
            if (_answers.TryGetValue(QuestionKey(r), out var a))
            {
                results.Add(a with { AmbNodeId = r.AmbNodeId });
                continue;
            }
            string nearest = _questions.Count == 0 ? "(the transcript records no answers)"
                : _questions.MinBy(q => Distance(q, r.Expression))!;
            results.Add(new OracleError(r.AmbNodeId, "unavailable",
                $"the transcript {Path} has no answer for {CacheKey.NormaliseSpaces(r.Expression)} (in this context); nearest recorded question: {nearest}"));
        }
        return Task.FromResult<IReadOnlyList<OracleResult>>(results);
    }

    /// <summary>Levenshtein distance.</summary>
    public static int Distance(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }
}
