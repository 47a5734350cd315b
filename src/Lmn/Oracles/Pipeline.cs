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
    /// <summary>Low confidence goes to <see cref="Human"/> instead of the invalid policy (through <see cref="Escalation"/>, as `lmn oracle-ask`'s <see cref="EscalatingOracle"/>).</summary>
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
/// before it is returned (so before it is grafted). Each of these is a stage of its own (Stages.cs), the
/// chain DedupStage → ResumeStage → CacheStage → SharedCacheStage → SettleStage → ResolverStage.
/// </summary>
public sealed class OraclePipeline
{
    private readonly IOracle _oracle;
    private readonly OracleCache? _cache;
    private readonly Transcript? _transcript;
    private readonly ITermChecker _checker;
    private IReadOnlyDictionary<string, OracleResponse> _resumed;

    /// <summary>No recorded answers (read-only: one instance for every pipeline without a transcript to resume).</summary>
    public static readonly IReadOnlyDictionary<string, OracleResponse> NoResume = new Dictionary<string, OracleResponse>();

    public OraclePipeline(IOracle oracle, ITermChecker checker, OraclePolicies? policies = null, OracleCache? cache = null,
        Transcript? transcript = null, IEnumerable<TranscriptEntry>? resumeFrom = null)
    {
        _oracle = oracle;
        _checker = checker;
        Policies = policies ?? new OraclePolicies();
        _cache = cache;
        _transcript = transcript;
        _resumed = resumeFrom == null ? NoResume : IndexResume(resumeFrom);
        Validator = new AnswerValidator(checker) { Ambiguity = Policies.Ambiguity, MinConfidence = Policies.MinConfidence };
        // The transcript records escalations itself (SettleStage), so the escalation reports no events of its own.
        Escalation = Policies.Human is { } human ? new Escalation(human) : null;
        _stages = new DedupStage(new ResumeStage(new CacheStage(new SharedCacheStage(new SettleStage(new ResolverStage())))));
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
        // The hashed key is what the caches and the transcript keep; without them the text it hashes is
        // key enough (equal texts, equal keys), and no hash is computed (nor OpenSSL loaded) per question.
        bool hashed = _cache != null || _transcript != null;
        var keys = new Dictionary<string, string>(ready.Count, StringComparer.Ordinal);
        foreach (var r in ready) keys[r.AmbNodeId] = hashed ? CacheKey.Of(r, _oracle.Identity) : CacheKey.Text(r, _oracle.Identity);
        var ctx = new PipelineContext(this, keys);
        await _stages.RunAsync(ctx, [.. ready], cancellationToken).ConfigureAwait(false);
        var answers = new List<Answer>(ready.Count);
        foreach (var r in ready)
        {
            var a = ctx.Answers[ctx.KeyOf[r.AmbNodeId]];
            answers.Add(a.Request.AmbNodeId == r.AmbNodeId ? a : a with { Request = r });
        }
        return answers;
    }

    /// <summary>The chain of stages (Stages.cs): dedup, resume, cache, shared cache, settle (validation and policy), resolver.</summary>
    private readonly PipelineStage _stages;

    internal OracleCache? Cache => _cache;
    internal Transcript? TranscriptLog => _transcript;
    internal ITermChecker Checker => _checker;

    /// <summary>
    /// The validation of every answer (<see cref="AnswerValidator"/>: one term, no `∿` in strict mode, a
    /// candidate or in the type, confidence at least the threshold), with this pipeline's checker and policies.
    /// </summary>
    public AnswerValidator Validator { get; }

    /// <summary>Where the human policy sends a question (<see cref="OraclePolicies.Human"/>), or null without one.</summary>
    internal Escalation? Escalation { get; }
    internal IReadOnlyDictionary<string, OracleResponse> ResumeIndex => _resumed;

    /// <summary>Counts a cache or transcript hit (the claimed and the waited-for questions settle concurrently).</summary>
    internal void CountHit()
    {
        Interlocked.Increment(ref Stats.CacheHits);
        OracleTelemetry.CacheHits.Add(1, new KeyValuePair<string, object?>(OracleTelemetry.OracleName, _oracle.Identity));
    }

    /// <summary>
    /// One call of the pipeline's oracle for a batch or, given <paramref name="escalate"/>, the call of an
    /// escalation (not counted as a batch of the oracle); an exception becomes an `unavailable` error per question.
    /// </summary>
    internal async Task<Dictionary<string, OracleResult>> CallAsync(IReadOnlyList<OracleRequest> batch, CancellationToken ct,
        Func<CancellationToken, Task<IReadOnlyList<OracleResult>>>? escalate = null, IReadOnlyList<string>? keys = null)
    {
        var sw = Stopwatch.StartNew();
        IReadOnlyList<OracleResult> results;
        try
        {
            results = escalate != null ? await escalate(ct).ConfigureAwait(false)
                : keys != null && _oracle is CoalescingOracle coalescer ? await coalescer.AskAsync(batch, keys, ct).ConfigureAwait(false)
                : await _oracle.AskAsync(batch, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            results = batch.Select(r => (OracleResult)new OracleError(r.AmbNodeId, "unavailable", e.Message)).ToList();
        }
        finally
        {
            Stats.OracleMs += sw.ElapsedMilliseconds;
        }
        if (escalate == null)
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

    /// <summary>An error of the oracle's transport (unavailable, timeout), which its resilience stage already retried.</summary>
    internal static bool IsTransportFailure(OracleResult? result) => result is OracleError { Kind: "unavailable" or "timeout" };

    internal static OracleFailure Failure(OracleRequest r, string problem) =>
        new(r, $"{r.SourceLocation}: error: no valid answer for {CacheKey.NormaliseSpaces(r.Expression)} ({r.AmbNodeId}): {problem}");
}
