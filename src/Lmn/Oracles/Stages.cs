namespace Lmn.Oracles;

/// <summary>
/// One round through the pipeline's stages: the pipeline (its policies, counters, cache, transcript and
/// validation), every request's cache key, and the answers found so far, by key.
/// </summary>
public sealed class PipelineContext(OraclePipeline pipeline, Dictionary<string, string> keyOf)
{
    public OraclePipeline Pipeline { get; } = pipeline;
    /// <summary>The cache key of each request of the round, by amb_node_id.</summary>
    public Dictionary<string, string> KeyOf { get; } = keyOf;
    /// <summary>The answers found so far, by cache key (equal questions share one).</summary>
    public Dictionary<string, Answer> Answers { get; } = new(StringComparer.Ordinal);

    public string Key(OracleRequest r) => KeyOf[r.AmbNodeId];
}

/// <summary>
/// A stage of the oracle pipeline (ARCHITECTURE.md §5): it answers what it can of the questions it is given,
/// writing into <see cref="PipelineContext.Answers"/>, and passes the rest to the stage it wraps, the way
/// Microsoft.Extensions.AI builds an IChatClient from delegating clients. The chain, outermost first:
/// <see cref="DedupStage"/> → <see cref="ResumeStage"/> → <see cref="CacheStage"/> → <see cref="SharedCacheStage"/>
/// → <see cref="SettleStage"/> (validation and policy) → <see cref="ResolverStage"/> (the oracle).
/// </summary>
public abstract class PipelineStage(PipelineStage? next)
{
    /// <summary>The stage this one wraps (null only for the innermost).</summary>
    protected PipelineStage? Next { get; } = next;

    /// <summary>Answers <paramref name="questions"/> (distinct keys after dedup) into the context, or throws <see cref="OracleFailure"/>.</summary>
    public abstract Task RunAsync(PipelineContext ctx, List<OracleRequest> questions, CancellationToken ct);

    protected Task NextAsync(PipelineContext ctx, List<OracleRequest> rest, CancellationToken ct) =>
        rest.Count == 0 || Next == null ? Task.CompletedTask : Next.RunAsync(ctx, rest, ct);
}

/// <summary>Identical questions of a round (the same cache key) are asked once.</summary>
public sealed class DedupStage(PipelineStage next) : PipelineStage(next)
{
    public override Task RunAsync(PipelineContext ctx, List<OracleRequest> questions, CancellationToken ct)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var rest = new List<OracleRequest>();
        foreach (var r in questions)
        {
            if (seen.Add(ctx.Key(r))) rest.Add(r);
            else ctx.Pipeline.Stats.Deduplicated++;
        }
        return NextAsync(ctx, rest, ct);
    }
}

/// <summary>
/// The transcript of an interrupted run answers the questions it recorded (matched by question, whatever
/// oracle the rerun names), if the answer still validates and meets the threshold (a fallback always does).
/// </summary>
public sealed class ResumeStage(PipelineStage next) : PipelineStage(next)
{
    public override Task RunAsync(PipelineContext ctx, List<OracleRequest> questions, CancellationToken ct)
    {
        var p = ctx.Pipeline;
        if (p.ResumeIndex.Count == 0) return NextAsync(ctx, questions, ct);
        var rest = new List<OracleRequest>();
        foreach (var r in questions)
        {
            string key = ctx.Key(r);
            if (p.ResumeIndex.TryGetValue(ReplayOracle.QuestionKey(r), out var resumed)
                && p.Validator.Validate(r, resumed, resumed.Metadata.Model == "fallback" ? 0 : p.Policies.MinConfidence) is { Ok: true } v)
            {
                p.CountHit();
                p.TranscriptLog?.Write(Transcript.CacheHit, key, r, resumed, "transcript");
                ctx.Answers[key] = new Answer(r, v.Canonical, resumed, AnswerSource.Transcript, v.ContainsAmbiguity) { Term = v.Term };
            }
            else rest.Add(r);
        }
        return NextAsync(ctx, rest, ct);
    }
}

/// <summary>The local cache (memory, then file) answers what it holds, if it validates and meets the threshold.</summary>
public sealed class CacheStage(PipelineStage next) : PipelineStage(next)
{
    public override Task RunAsync(PipelineContext ctx, List<OracleRequest> questions, CancellationToken ct)
    {
        var p = ctx.Pipeline;
        if (p.Cache == null) return NextAsync(ctx, questions, ct);
        var rest = new List<OracleRequest>();
        foreach (var r in questions)
        {
            string key = ctx.Key(r);
            // The threshold applies to a cached answer as to a fresh one: one below it is asked again.
            if (p.Cache.TryGet(key, out var cached) && p.Validator.Validate(r, cached) is { Ok: true } v)
            {
                p.CountHit();
                p.TranscriptLog?.Write(Transcript.CacheHit, key, r, cached, "cache");
                ctx.Answers[key] = new Answer(r, v.Canonical, cached, AnswerSource.Cache, v.ContainsAmbiguity) { Term = v.Term };
            }
            else rest.Add(r);
        }
        return NextAsync(ctx, rest, ct);
    }
}

/// <summary>
/// The shared cache tier (another process's answers): its answers first; then what is claimed here is asked
/// (by the inner stages) while what another process claimed is waited for, and asked here after all if that
/// claim ends unanswered. Without a shared tier it passes everything on.
/// </summary>
public sealed class SharedCacheStage(PipelineStage next) : PipelineStage(next)
{
    // Without a shared tier the inner stages' task is this stage's (no state machine of its own per round).
    public override Task RunAsync(PipelineContext ctx, List<OracleRequest> questions, CancellationToken ct) =>
        ctx.Pipeline.Cache?.Shared is { } shared ? RunSharedAsync(ctx, questions, shared, ct) : NextAsync(ctx, questions, ct);

    private async Task RunSharedAsync(PipelineContext ctx, List<OracleRequest> questions, ISharedCacheTier shared, CancellationToken ct)
    {
        var (mine, theirs) = await LookupAsync(ctx, questions, shared, ct).ConfigureAwait(false);
        // The claimed questions are asked while the others' are waited for; the waiting writes no answers
        // until the asking is over, so the two never write the answers at once.
        var asking = AskClaimedAsync(ctx, mine, shared, ct);
        var later = theirs.Count > 0 ? await WaitForOthersAsync(ctx, theirs, shared, ct).ConfigureAwait(false) : ([], []);
        await asking.ConfigureAwait(false);
        foreach (var (k, a) in later.Found) ctx.Answers[k] = a;
        if (later.Mine.Count > 0) await AskClaimedAsync(ctx, later.Mine, shared, ct).ConfigureAwait(false);
    }

    private static bool TryShared(PipelineContext ctx, OracleRequest r, OracleResponse cached, out Answer answer)
    {
        var p = ctx.Pipeline;
        if (p.Validator.Validate(r, cached) is { Ok: true } v)
        {
            p.CountHit();
            p.TranscriptLog?.Write(Transcript.CacheHit, ctx.Key(r), r, cached, "shared cache");
            answer = new Answer(r, v.Canonical, cached, AnswerSource.Cache, v.ContainsAmbiguity) { Term = v.Term };
            return true;
        }
        answer = null!;
        return false;
    }

    private static async Task<(List<OracleRequest> Mine, List<OracleRequest> Theirs)> LookupAsync(PipelineContext ctx, List<OracleRequest> toAsk,
        ISharedCacheTier shared, CancellationToken ct)
    {
        var found = await ctx.Pipeline.Cache!.GetSharedAsync(toAsk.Select(ctx.Key).ToList(), ct).ConfigureAwait(false);
        var rest = new List<OracleRequest>();
        foreach (var r in toAsk)
        {
            if (found.TryGetValue(ctx.Key(r), out var hit) && TryShared(ctx, r, hit, out var a)) ctx.Answers[ctx.Key(r)] = a;
            else rest.Add(r);
        }
        if (rest.Count == 0) return ([], []);
        var owned = await shared.ClaimAsync(rest.Select(ctx.Key).ToList(), ct).ConfigureAwait(false);
        return (rest.Where(r => owned.Contains(ctx.Key(r))).ToList(), rest.Where(r => !owned.Contains(ctx.Key(r))).ToList());
    }

    /// <summary>Asks the questions this process claimed; the claims are released once the answers are stored (or the asking failed).</summary>
    private async Task AskClaimedAsync(PipelineContext ctx, List<OracleRequest> mine, ISharedCacheTier shared, CancellationToken ct)
    {
        if (mine.Count == 0) return;
        try
        {
            // Answered and released between our lookup and our claim: read it, do not ask again.
            var found = await ctx.Pipeline.Cache!.GetSharedAsync(mine.Select(ctx.Key).ToList(), ct).ConfigureAwait(false);
            var ask = new List<OracleRequest>();
            foreach (var r in mine)
            {
                if (found.TryGetValue(ctx.Key(r), out var hit) && TryShared(ctx, r, hit, out var a)) ctx.Answers[ctx.Key(r)] = a;
                else ask.Add(r);
            }
            await NextAsync(ctx, ask, ct).ConfigureAwait(false);
        }
        finally
        {
            shared.Release(mine.Select(ctx.Key).ToList());
        }
    }

    /// <summary>Polls for the answers of questions another process claimed; the ones whose claim ended unanswered (or waited too long) are claimed here.</summary>
    private static async Task<(List<OracleRequest> Mine, List<(string, Answer)> Found)> WaitForOthersAsync(PipelineContext ctx, List<OracleRequest> theirs,
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
            var found = await ctx.Pipeline.Cache!.GetSharedAsync(theirs.Select(ctx.Key).ToList(), ct).ConfigureAwait(false);
            var still = new List<OracleRequest>();
            foreach (var r in theirs)
            {
                if (found.TryGetValue(ctx.Key(r), out var hit) && TryShared(ctx, r, hit, out var a)) got.Add((ctx.Key(r), a));
                else still.Add(r);
            }
            if (still.Count == 0) break;
            if (DateTime.UtcNow > deadline)
            {
                mine.AddRange(still);
                break;
            }
            var owned = await shared.ClaimAsync(still.Select(ctx.Key).ToList(), ct).ConfigureAwait(false);
            theirs = [];
            foreach (var r in still)
                if (owned.Contains(ctx.Key(r))) mine.Add(r);
                else theirs.Add(r);
        }
        return (mine, got);
    }
}

/// <summary>
/// Validation and policy: the questions go to the resolver in one batch; each result is validated
/// (<see cref="AnswerValidator"/>, the pipeline's <see cref="OraclePipeline.Validator"/>:
/// one term, no `∿` in strict mode, a candidate or in the type, confidence at least the threshold) and a
/// failure follows the policy: retry (bounded by MaxRetries, the last try with reduced context, never after
/// the oracle was unavailable or timed out), the first candidate, or the human oracle (also where low
/// confidence escalates; both go through <see cref="Escalation"/>, which shows a low-confidence answer or an
/// error to the human as a suggestion). A valid answer is written to the transcript and the cache before it is returned.
/// </summary>
public sealed class SettleStage(ResolverStage resolver) : PipelineStage(resolver)
{
    public override async Task RunAsync(PipelineContext ctx, List<OracleRequest> questions, CancellationToken ct)
    {
        var p = ctx.Pipeline;
        foreach (var r in questions) p.TranscriptLog?.Write(Transcript.Request, ctx.Key(r), r, null);
        var results = await resolver.CallAsync(ctx, questions, ct, keyed: true).ConfigureAwait(false);
        foreach (var r in questions)
        {
            results.TryGetValue(r.AmbNodeId, out var result);
            ctx.Answers[ctx.Key(r)] = await SettleAsync(ctx, r, ctx.Key(r), result, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Validates one result and applies the policy until it is an answer or a failure.</summary>
    private async Task<Answer> SettleAsync(PipelineContext ctx, OracleRequest r, string key, OracleResult? result, CancellationToken ct)
    {
        var p = ctx.Pipeline;
        var policies = p.Policies;
        int attempt = 0;
        while (true)
        {
            string problem;
            bool lowConfidence = false;
            if (result is OracleResponse res)
            {
                var v = p.Validator.Validate(r, res);
                if (v.Ok)
                {
                    p.TranscriptLog?.Write(Transcript.Response, key, r, res);
                    p.Cache?.Put(key, r, res);
                    return new Answer(r, v.Canonical, res, AnswerSource.Oracle, v.ContainsAmbiguity) { Term = v.Term };
                }
                lowConfidence = v.Failure == ValidationFailure.LowConfidence;
                problem = v.Problem;
                p.TranscriptLog?.Write(Transcript.Invalid, key, r, res, problem);
            }
            else
            {
                problem = result is OracleError err ? $"{err.Kind}: {err.Message}" : "the oracle gave no answer for it";
                if (result != null) p.TranscriptLog?.Write(Transcript.Error, key, r, result);
            }

            var policy = lowConfidence && policies.EscalateLowConfidence ? InvalidPolicy.Human : policies.OnInvalid;
            switch (policy)
            {
                // An oracle that was unavailable or timed out has had its own retries (the resilience of
                // the resolver): asking again here would multiply them, so only answers are retried.
                case InvalidPolicy.Retry when attempt < policies.MaxRetries && !OraclePipeline.IsTransportFailure(result):
                {
                    attempt++;
                    p.Stats.Retries++;
                    bool reduced = attempt == policies.MaxRetries;
                    var again = reduced ? r with { TypeEnvironment = new Dictionary<string, string>(), ReductionTrace = [] } : r;
                    p.TranscriptLog?.Write(Transcript.Retry, key, again, null, $"attempt {attempt + 1}{(reduced ? ", reduced context" : "")} after: {problem}");
                    await Task.Delay(policies.RetryDelay * (1 << (attempt - 1)), ct).ConfigureAwait(false);
                    var got = await resolver.CallAsync(ctx, [again], ct, keyed: true, retry: attempt).ConfigureAwait(false);
                    got.TryGetValue(r.AmbNodeId, out result);
                    continue;
                }
                case InvalidPolicy.First when r.Kind == "choice" && r.Args.Count > 0:
                {
                    p.Stats.Fallbacks++;
                    var fb = new OracleResponse(r.AmbNodeId, r.Args[0], new OracleMetadata
                    {
                        Confidence = 0,
                        AlternativesConsidered = r.Args.Skip(1).ToList(),
                        Reasoning = $"fallback to the first candidate after: {problem}",
                        Model = "fallback",
                    });
                    p.TranscriptLog?.Write(Transcript.Fallback, key, r, fb, problem);
                    p.Checker.TryParse(r.Args[0], out string canon, out object? term, out _);
                    return new Answer(r, canon, fb, AnswerSource.Fallback, false) { Term = term };
                }
                case InvalidPolicy.Human when p.Escalation is { } escalation:
                {
                    p.Stats.Escalations++;
                    p.TranscriptLog?.Write(Transcript.Escalation, key, r, null, problem);
                    // A low-confidence answer or an error is shown to the human as a suggestion (an invalid answer is not).
                    OracleResult? first = lowConfidence || result is OracleError ? result : null;
                    var got = await resolver.CallAsync(ctx, [r], ct, AskHuman(escalation, r, first, problem, p.Oracle.Identity)).ConfigureAwait(false);
                    got.TryGetValue(r.AmbNodeId, out var human);
                    // The human's answer is validated without the threshold (the human is the last word).
                    var hv = human is OracleResponse hr ? p.Validator.Validate(r, hr, 0) : null;
                    if (hv is { Ok: true })
                    {
                        var hr2 = (OracleResponse)human!;
                        p.TranscriptLog?.Write(Transcript.Escalation, key, r, hr2, "answered by the human oracle");
                        p.Cache?.Put(key, r, hr2);
                        return new Answer(r, hv.Canonical, hr2, AnswerSource.Human, hv.ContainsAmbiguity) { Term = hv.Term };
                    }
                    throw OraclePipeline.Failure(r, hv != null ? $"the human oracle's answer is invalid too: {hv.Problem}" : "the human oracle gave no answer");
                }
                default:
                    throw OraclePipeline.Failure(r, problem);
            }
        }
    }

    // A method of its own: a lambda in SettleAsync would capture its request and pipeline, and C# would
    // allocate that closure on every call, the common valid answer's included.
    private static Func<CancellationToken, Task<IReadOnlyList<OracleResult>>> AskHuman(Escalation escalation, OracleRequest r, OracleResult? first, string problem, string identity) =>
        c => escalation.AskAsync([(r, first, problem)], identity, c);
}

/// <summary>
/// The resolver: one call of the oracle for a batch (the pipeline's own oracle, or the human one for an
/// escalation). An exception becomes an `unavailable` error per question; time and tokens are counted.
/// It answers nothing by itself: <see cref="SettleStage"/> turns its results into answers.
/// </summary>
public sealed class ResolverStage() : PipelineStage(null)
{
    public override async Task RunAsync(PipelineContext ctx, List<OracleRequest> questions, CancellationToken ct) =>
        await CallAsync(ctx, questions, ct).ConfigureAwait(false);

    /// <param name="keyed">The batch is the round's questions, as keyed in the context: their keys go to
    /// an oracle that coalesces by key (a batch run's), which then need not build them a second time.</param>
    /// <param name="retry">The attempt this call is a retry of (0: the first ask). A retry's key is marked
    /// with its attempt, so that it is not merged with another run's first ask of the same question (that
    /// answer is the one found invalid; a reduced retry also sends less context): retries of the same
    /// question at the same attempt still share one call.</param>
    public Task<Dictionary<string, OracleResult>> CallAsync(PipelineContext ctx, IReadOnlyList<OracleRequest> batch, CancellationToken ct,
        Func<CancellationToken, Task<IReadOnlyList<OracleResult>>>? escalate = null, bool keyed = false, int retry = 0)
    {
        string[]? keys = null;
        if (keyed && escalate == null && ctx.Pipeline.Oracle is CoalescingOracle)
        {
            keys = new string[batch.Count];
            for (int i = 0; i < keys.Length; i++)
                keys[i] = retry == 0 ? ctx.Key(batch[i]) : ctx.Key(batch[i]) + "\u001fretry " + retry.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return ctx.Pipeline.CallAsync(batch, ct, escalate, keys);
    }
}
