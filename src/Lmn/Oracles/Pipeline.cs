using System.Diagnostics;

namespace Lmn.Oracles;

/// <summary>What to do with an answer that fails validation (ORACLE-PROTOCOL.md, "Validation").</summary>
public enum InvalidPolicy
{
    /// <summary>Stop the run with an error that names the site and its location (the default).</summary>
    Fail,
    /// <summary>Ask again, with backoff; the last try with reduced context.</summary>
    Retry,
    /// <summary>Take the first candidate (the seed's default_collapse).</summary>
    First,
    /// <summary>Ask the human oracle.</summary>
    Human,
}

/// <summary>How answers that contain `∿` are treated (LANGUAGE.md §5, seed §7.2).</summary>
public enum AmbiguityMode { Strict, Recursive, Lazy }

/// <summary>The user's choices for validation and failure handling.</summary>
public sealed record OraclePolicies
{
    public double MinConfidence { get; init; }
    public InvalidPolicy OnInvalid { get; init; } = InvalidPolicy.Fail;
    public int MaxRetries { get; init; } = 2;
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(100);
    public AmbiguityMode Ambiguity { get; init; } = AmbiguityMode.Strict;
    /// <summary>For `recursive[N]`: how many nested answers may contain `∿`.</summary>
    public int RecursionLimit { get; init; } = 3;
    /// <summary>The oracle that invalid (--on-invalid human) or low-confidence (--escalate human) answers go to.</summary>
    public IOracle? Human { get; init; }
    /// <summary>Low confidence goes to <see cref="Human"/> instead of the invalid policy.</summary>
    public bool EscalateLowConfidence { get; init; }
}

/// <summary>What the pipeline needs of the language to validate an answer.</summary>
public interface ITermChecker
{
    /// <summary>Parses text as one LMN term and prints it canonically; false with a message if it is not one term.</summary>
    bool TryCanonical(string text, out string canonical, out string error);

    /// <summary>The term contains `∿` or `~` (as a question, not inside a string).</summary>
    bool ContainsAmbiguity(string canonical);

    /// <summary>
    /// As <see cref="TryCanonical"/>, and gives the parsed term too (the language's own form, opaque here):
    /// the answer carries it, so the supervisor does not parse the text again.
    /// </summary>
    bool TryParse(string text, out string canonical, out object? term, out string error)
    {
        term = null;
        return TryCanonical(text, out canonical, out error);
    }

    /// <summary>Ambiguity on the parsed term where there is one (a `~` in a string is a string).</summary>
    bool ContainsAmbiguity(string canonical, object? term) => ContainsAmbiguity(canonical);

    /// <summary>Open mode with a type: the lexicon places the term in the expected type.</summary>
    bool InType(string canonical, string typeExpected);
}

/// <summary>Where an answer came from.</summary>
public enum AnswerSource { Oracle, Cache, Transcript, Fallback, Human }

/// <summary>A validated answer for one request, in canonical LMN text.</summary>
public sealed record Answer(OracleRequest Request, string Substitution, OracleResponse Response, AnswerSource Source, bool ContainsAmbiguity)
{
    /// <summary>The answer as the term checker parsed it when it validated it (an LMN term), or null.</summary>
    public object? Term { get; init; }
}

/// <summary>A site the oracle could not answer under the chosen policies: the run stops with this message.</summary>
public sealed class OracleFailure(OracleRequest request, string message) : Exception(message)
{
    public OracleRequest Request { get; } = request;
}

/// <summary>Counters for `--stats`.</summary>
public sealed class PipelineStats
{
    public int Questions;      // sites sent to the oracle
    public int Batches;        // oracle calls
    public int CacheHits;      // answered from the cache or the transcript
    public int Deduplicated;   // the same question pending twice in a round, asked once
    public int Retries;
    public int Fallbacks;
    public int Escalations;
    public long OracleMs;
    public long TokensUsed;
}

/// <summary>
/// The oracle pipeline of ARCHITECTURE.md §5 around one resolver: identical questions of a round are
/// asked once; the transcript of an interrupted run and then the cache answer what they can; the rest
/// goes to the oracle in one batch; every answer is validated (one LMN term; no `∿` in strict mode; a
/// candidate in choice mode; in the expected type in open mode; confidence at least the threshold)
/// and failures follow the policy. Everything is written to the transcript, and an answer is written
/// before it is returned (so before it is grafted).
/// </summary>
public sealed class OraclePipeline
{
    private readonly IOracle _oracle;
    private readonly OracleCache? _cache;
    private readonly Transcript? _transcript;
    private readonly ITermChecker _checker;
    private IReadOnlyDictionary<string, OracleResponse> _resumed;

    public OraclePipeline(IOracle oracle, ITermChecker checker, OraclePolicies? policies = null, OracleCache? cache = null,
        Transcript? transcript = null, IEnumerable<TranscriptEntry>? resumeFrom = null)
    {
        _oracle = oracle;
        _checker = checker;
        Policies = policies ?? new OraclePolicies();
        _cache = cache;
        _transcript = transcript;
        _resumed = resumeFrom == null ? new Dictionary<string, OracleResponse>() : IndexResume(resumeFrom);
    }

    /// <summary>
    /// The answers of an interrupted run by question. Resuming matches questions, not oracles: an answer
    /// recorded for a question is reused whatever oracle the rerun names (the transcript is the record of
    /// this run).
    /// </summary>
    public static Dictionary<string, OracleResponse> IndexResume(IEnumerable<TranscriptEntry> entries)
    {
        var index = new Dictionary<string, OracleResponse>(StringComparer.Ordinal);
        foreach (var e in entries)
            if (e.Request != null && e.Result is OracleResponse r && e.Type is Transcript.Response or Transcript.Fallback or Transcript.Escalation)
                index.TryAdd(ReplayOracle.QuestionKey(e.Request), r);
        return index;
    }

    /// <summary>A resume index shared by many pipelines (a batch run builds it once, see <see cref="IndexResume"/>).</summary>
    public IReadOnlyDictionary<string, OracleResponse> Resumed { init => _resumed = value; }

    public OraclePolicies Policies { get; }
    public PipelineStats Stats { get; } = new();
    public IOracle Oracle => _oracle;

    /// <summary>Answers a round of ready requests, in their order; throws <see cref="OracleFailure"/> if one cannot be answered.</summary>
    public async Task<IReadOnlyList<Answer>> AskAsync(IReadOnlyList<OracleRequest> ready, CancellationToken cancellationToken)
    {
        var keyOf = ready.ToDictionary(r => r.AmbNodeId, r => CacheKey.Of(r, _oracle.Identity));
        var answers = new Dictionary<string, Answer>(StringComparer.Ordinal);
        var toAsk = new List<OracleRequest>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in ready)
        {
            string key = keyOf[r.AmbNodeId];
            if (!seen.Add(key))
            {
                Stats.Deduplicated++;
                continue;
            }
            if (_resumed.Count > 0 && _resumed.TryGetValue(ReplayOracle.QuestionKey(r), out var resumed)
                && (resumed.Metadata.Model == "fallback" || resumed.Metadata.Confidence >= Policies.MinConfidence)
                && Validate(r, resumed, out string canon, out bool amb, out object? term, out _))
            {
                Stats.CacheHits++;
                OracleTelemetry.CacheHits.Add(1, new KeyValuePair<string, object?>(OracleTelemetry.OracleName, _oracle.Identity));
                _transcript?.Write(Transcript.CacheHit, key, r, resumed, "transcript");
                answers[key] = new Answer(r, canon, resumed, AnswerSource.Transcript, amb) { Term = term };
                continue;
            }
            // The threshold applies to a cached answer as to a fresh one: one below it is asked again.
            if (_cache != null && _cache.TryGet(key, out var cached) && cached.Metadata.Confidence >= Policies.MinConfidence
                && Validate(r, cached, out canon, out amb, out term, out _))
            {
                Stats.CacheHits++;
                OracleTelemetry.CacheHits.Add(1, new KeyValuePair<string, object?>(OracleTelemetry.OracleName, _oracle.Identity));
                _transcript?.Write(Transcript.CacheHit, key, r, cached, "cache");
                answers[key] = new Answer(r, canon, cached, AnswerSource.Cache, amb) { Term = term };
                continue;
            }
            toAsk.Add(r);
        }

        if (toAsk.Count > 0 && _cache?.Shared is { } shared)
        {
            // The shared tier: its answers first; then what is claimed here is asked while what another
            // process claimed is waited for (and asked here after all if that claim ends unanswered).
            var (mine, theirs) = await SharedLookupAsync(toAsk, keyOf, answers, shared, cancellationToken).ConfigureAwait(false);
            var asking = AskClaimedAsync(mine, keyOf, shared, cancellationToken);
            var later = theirs.Count > 0 ? await WaitForOthersAsync(theirs, keyOf, shared, cancellationToken).ConfigureAwait(false) : ([], []);
            foreach (var (k, a) in await asking.ConfigureAwait(false)) answers[k] = a;
            foreach (var (k, a) in later.Found) answers[k] = a;
            if (later.Mine.Count > 0)
                foreach (var (k, a) in await AskClaimedAsync(later.Mine, keyOf, shared, cancellationToken).ConfigureAwait(false)) answers[k] = a;
        }
        else if (toAsk.Count > 0)
            foreach (var (k, a) in await AskAndSettleAsync(toAsk, keyOf, cancellationToken).ConfigureAwait(false)) answers[k] = a;
        return ready.Select(r => answers[keyOf[r.AmbNodeId]] is var a && a.Request.AmbNodeId == r.AmbNodeId ? a : a with { Request = r }).ToList();
    }

    private async Task<List<(string Key, Answer Answer)>> AskAndSettleAsync(List<OracleRequest> toAsk, Dictionary<string, string> keyOf, CancellationToken ct)
    {
        var list = new List<(string, Answer)>();
        if (toAsk.Count == 0) return list;
        foreach (var r in toAsk) _transcript?.Write(Transcript.Request, keyOf[r.AmbNodeId], r, null);
        var results = await CallAsync(toAsk, ct).ConfigureAwait(false);
        foreach (var r in toAsk)
        {
            string key = keyOf[r.AmbNodeId];
            results.TryGetValue(r.AmbNodeId, out var result);
            list.Add((key, await SettleAsync(r, key, result, ct).ConfigureAwait(false)));
        }
        return list;
    }

    /// <summary>Asks the questions this process claimed; the claims are released once the answers are stored (or the asking failed).</summary>
    private async Task<List<(string Key, Answer Answer)>> AskClaimedAsync(List<OracleRequest> mine, Dictionary<string, string> keyOf, ISharedCacheTier shared, CancellationToken ct)
    {
        try
        {
            if (mine.Count == 0) return [];
            // Answered and released between our lookup and our claim: read it, do not ask again.
            var found = await _cache!.GetSharedAsync(mine.Select(r => keyOf[r.AmbNodeId]).ToList(), ct).ConfigureAwait(false);
            var list = new List<(string, Answer)>();
            var ask = new List<OracleRequest>();
            foreach (var r in mine)
            {
                string key = keyOf[r.AmbNodeId];
                if (found.TryGetValue(key, out var hit) && TryShared(r, key, hit, out var a)) list.Add((key, a));
                else ask.Add(r);
            }
            list.AddRange(await AskAndSettleAsync(ask, keyOf, ct).ConfigureAwait(false));
            return list;
        }
        finally
        {
            if (mine.Count > 0) shared.Release(mine.Select(r => keyOf[r.AmbNodeId]).ToList());
        }
    }

    private bool TryShared(OracleRequest r, string key, OracleResponse cached, out Answer answer)
    {
        if (cached.Metadata.Confidence >= Policies.MinConfidence && Validate(r, cached, out string canon, out bool amb, out object? term, out _))
        {
            Interlocked.Increment(ref Stats.CacheHits); // the claimed and the waited-for questions settle concurrently
            OracleTelemetry.CacheHits.Add(1, new KeyValuePair<string, object?>(OracleTelemetry.OracleName, _oracle.Identity));
            _transcript?.Write(Transcript.CacheHit, key, r, cached, "shared cache");
            answer = new Answer(r, canon, cached, AnswerSource.Cache, amb) { Term = term };
            return true;
        }
        answer = null!;
        return false;
    }

    private async Task<(List<OracleRequest> Mine, List<OracleRequest> Theirs)> SharedLookupAsync(List<OracleRequest> toAsk, Dictionary<string, string> keyOf,
        Dictionary<string, Answer> answers, ISharedCacheTier shared, CancellationToken ct)
    {
        var found = await _cache!.GetSharedAsync(toAsk.Select(r => keyOf[r.AmbNodeId]).ToList(), ct).ConfigureAwait(false);
        var rest = new List<OracleRequest>();
        foreach (var r in toAsk)
        {
            string key = keyOf[r.AmbNodeId];
            if (found.TryGetValue(key, out var hit) && TryShared(r, key, hit, out var a)) answers[key] = a;
            else rest.Add(r);
        }
        if (rest.Count == 0) return ([], []);
        var owned = await shared.ClaimAsync(rest.Select(r => keyOf[r.AmbNodeId]).ToList(), ct).ConfigureAwait(false);
        return (rest.Where(r => owned.Contains(keyOf[r.AmbNodeId])).ToList(), rest.Where(r => !owned.Contains(keyOf[r.AmbNodeId])).ToList());
    }

    /// <summary>Polls for the answers of questions another process claimed; the ones whose claim ended unanswered (or waited too long) are claimed here.</summary>
    private async Task<(List<OracleRequest> Mine, List<(string, Answer)> Found)> WaitForOthersAsync(List<OracleRequest> theirs, Dictionary<string, string> keyOf,
        ISharedCacheTier shared, CancellationToken ct)
    {
        var mine = new List<OracleRequest>();
        var got = new List<(string, Answer)>();
        var deadline = DateTime.UtcNow + shared.ClaimWait;
        var delay = TimeSpan.FromMilliseconds(20);
        while (theirs.Count > 0)
        {
            await Task.Delay(delay, ct).ConfigureAwait(false);
            if (delay < TimeSpan.FromMilliseconds(200)) delay *= 1.5;
            var found = await _cache!.GetSharedAsync(theirs.Select(r => keyOf[r.AmbNodeId]).ToList(), ct).ConfigureAwait(false);
            var still = new List<OracleRequest>();
            foreach (var r in theirs)
            {
                string key = keyOf[r.AmbNodeId];
                if (found.TryGetValue(key, out var hit) && TryShared(r, key, hit, out var a)) got.Add((key, a));
                else still.Add(r);
            }
            if (still.Count == 0) break;
            if (DateTime.UtcNow > deadline)
            {
                mine.AddRange(still);
                break;
            }
            var owned = await shared.ClaimAsync(still.Select(r => keyOf[r.AmbNodeId]).ToList(), ct).ConfigureAwait(false);
            theirs = [];
            foreach (var r in still)
                if (owned.Contains(keyOf[r.AmbNodeId])) mine.Add(r);
                else theirs.Add(r);
        }
        return (mine, got);
    }

    private async Task<Dictionary<string, OracleResult>> CallAsync(IReadOnlyList<OracleRequest> batch, CancellationToken ct, IOracle? oracle = null)
    {
        oracle ??= _oracle;
        var sw = Stopwatch.StartNew();
        IReadOnlyList<OracleResult> results;
        try
        {
            results = await oracle.AskAsync(batch, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            results = batch.Select(r => (OracleResult)new OracleError(r.AmbNodeId, "unavailable", e.Message)).ToList();
        }
        finally
        {
            Stats.OracleMs += sw.ElapsedMilliseconds;
        }
        if (ReferenceEquals(oracle, _oracle))
        {
            Stats.Batches++;
            Stats.Questions += batch.Count;
        }
        var byId = new Dictionary<string, OracleResult>(StringComparer.Ordinal);
        foreach (var res in results)
        {
            if (res is OracleResponse ok) Stats.TokensUsed += ok.Metadata.TokensUsed;
            byId.TryAdd(res.AmbNodeId, res);
        }
        return byId;
    }

    /// <summary>Validates one result and applies the policy until it is an answer or a failure.</summary>
    private async Task<Answer> SettleAsync(OracleRequest r, string key, OracleResult? result, CancellationToken ct)
    {
        int attempt = 0;
        while (true)
        {
            string problem;
            bool lowConfidence = false;
            if (result is OracleResponse res)
            {
                if (Validate(r, res, out string canon, out bool amb, out object? term, out problem))
                {
                    if (res.Metadata.Confidence >= Policies.MinConfidence)
                    {
                        _transcript?.Write(Transcript.Response, key, r, res);
                        _cache?.Put(key, r, res);
                        return new Answer(r, canon, res, AnswerSource.Oracle, amb) { Term = term };
                    }
                    lowConfidence = true;
                    problem = $"confidence {res.Metadata.Confidence:0.##} is below --min-confidence {Policies.MinConfidence:0.##}";
                }
                _transcript?.Write(Transcript.Invalid, key, r, res, problem);
            }
            else
            {
                problem = result is OracleError err ? $"{err.Kind}: {err.Message}" : "the oracle gave no answer for it";
                if (result != null) _transcript?.Write(Transcript.Error, key, r, result);
            }

            var policy = lowConfidence && Policies.EscalateLowConfidence ? InvalidPolicy.Human : Policies.OnInvalid;
            switch (policy)
            {
                // An oracle that was unavailable or timed out has had its own retries (the resilience of
                // the resolver): asking again here would multiply them, so only answers are retried.
                case InvalidPolicy.Retry when attempt < Policies.MaxRetries && !IsTransportFailure(result):
                {
                    attempt++;
                    Stats.Retries++;
                    bool reduced = attempt == Policies.MaxRetries;
                    var again = reduced ? r with { TypeEnvironment = new Dictionary<string, string>(), ReductionTrace = [] } : r;
                    _transcript?.Write(Transcript.Retry, key, again, null, $"attempt {attempt + 1}{(reduced ? ", reduced context" : "")} after: {problem}");
                    await Task.Delay(Policies.RetryDelay * (1 << (attempt - 1)), ct).ConfigureAwait(false);
                    var got = await CallAsync([again], ct).ConfigureAwait(false);
                    got.TryGetValue(r.AmbNodeId, out result);
                    continue;
                }
                case InvalidPolicy.First when r.Kind == "choice" && r.Args.Count > 0:
                {
                    Stats.Fallbacks++;
                    var fb = new OracleResponse(r.AmbNodeId, r.Args[0], new OracleMetadata
                    {
                        Confidence = 0,
                        AlternativesConsidered = r.Args.Skip(1).ToList(),
                        Reasoning = $"fallback to the first candidate after: {problem}",
                        Model = "fallback",
                    });
                    _transcript?.Write(Transcript.Fallback, key, r, fb, problem);
                    _checker.TryParse(r.Args[0], out string canon, out object? term, out _);
                    return new Answer(r, canon, fb, AnswerSource.Fallback, false) { Term = term };
                }
                case InvalidPolicy.Human when Policies.Human != null:
                {
                    Stats.Escalations++;
                    _transcript?.Write(Transcript.Escalation, key, r, null, problem);
                    var got = await CallAsync([r], ct, Policies.Human).ConfigureAwait(false);
                    got.TryGetValue(r.AmbNodeId, out var human);
                    if (human is OracleResponse hr && Validate(r, hr, out string canon, out bool amb, out object? term, out string why))
                    {
                        _transcript?.Write(Transcript.Escalation, key, r, hr, "answered by the human oracle");
                        _cache?.Put(key, r, hr);
                        return new Answer(r, canon, hr, AnswerSource.Human, amb) { Term = term };
                    }
                    throw Failure(r, human is OracleResponse ? $"the human oracle's answer is invalid too: {Why(r, human)}" : "the human oracle gave no answer");
                }
                default:
                    throw Failure(r, problem);
            }
        }
    }

    /// <summary>An error of the oracle's transport (unavailable, timeout), which its resilience stage already retried.</summary>
    internal static bool IsTransportFailure(OracleResult? result) => result is OracleError { Kind: "unavailable" or "timeout" };

    private string Why(OracleRequest r, OracleResult res) =>
        res is OracleResponse x && !Validate(r, x, out _, out _, out string why) ? why : "";

    private static OracleFailure Failure(OracleRequest r, string problem) =>
        new(r, $"{r.SourceLocation}: error: no valid answer for {CacheKey.NormaliseSpaces(r.Expression)} ({r.AmbNodeId}): {problem}");

    /// <summary>The protocol's validation rules 1-3; confidence is checked by the caller.</summary>
    public bool Validate(OracleRequest r, OracleResponse res, out string canonical, out bool containsAmbiguity, out string problem) =>
        Validate(r, res, out canonical, out containsAmbiguity, out _, out problem);

    /// <summary>As the other overload, and gives the parsed term (see <see cref="Answer.Term"/>).</summary>
    public bool Validate(OracleRequest r, OracleResponse res, out string canonical, out bool containsAmbiguity, out object? term, out string problem)
    {
        containsAmbiguity = false;
        if (!_checker.TryParse(res.Substitution, out canonical, out term, out string error))
        {
            problem = $"`{res.Substitution}` is not one LMN term: {error}";
            return false;
        }
        containsAmbiguity = _checker.ContainsAmbiguity(canonical, term);
        if (containsAmbiguity && Policies.Ambiguity == AmbiguityMode.Strict)
        {
            problem = $"`{canonical}` contains ∿ or ~, which strict mode refuses (see --ambiguity)";
            return false;
        }
        if (r.Kind == "choice")
        {
            // Candidates arrive in canonical text already; parse them only if none matches as text.
            foreach (var a in r.Args)
                if (a == canonical)
                {
                    problem = "";
                    return true;
                }
            foreach (var a in r.Args)
                if (_checker.TryCanonical(a, out string ca, out _) && ca == canonical)
                {
                    problem = "";
                    return true;
                }
            if (!containsAmbiguity)
            {
                problem = $"`{canonical}` is not one of the candidates {string.Join(", ", r.Args)}";
                return false;
            }
        }
        else if (r.TypeExpected != null && !containsAmbiguity && !_checker.InType(canonical, r.TypeExpected))
        {
            problem = $"`{canonical}` is not in the expected type {r.TypeExpected}";
            return false;
        }
        problem = "";
        return true;
    }
}
