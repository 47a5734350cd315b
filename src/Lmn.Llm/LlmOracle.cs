using System.Diagnostics;
using Lmn.Oracles;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Lmn.Llm;

/// <summary>Settings of an LLM oracle (the CLI's --model, --small-model, --batch, --concurrency, --timeout, --retries).</summary>
public sealed record LlmOracleOptions
{
    public required string Model { get; init; }
    public string? SmallModel { get; init; }
    /// <summary>--batch: the questions of one AskAsync go to the model in one call (per model, up to <see cref="MaxBatchSize"/>).</summary>
    public bool Batch { get; init; }
    /// <summary>--concurrency: calls in flight at once, across every AskAsync of this oracle.</summary>
    public int Concurrency { get; init; } = 4;
    public int MaxBatchSize { get; init; } = 16;
    /// <summary>Output tokens for one answer; a batch gets this times its size, up to 8192.</summary>
    public int MaxTokens { get; init; } = 512;
    /// <summary>Ask for a JSON-schema response format (off for servers that reject it).</summary>
    public bool JsonSchema { get; init; } = true;
    /// <summary>Router thresholds (see <see cref="ModelRouter"/>).</summary>
    public int SmallMaxCandidates { get; init; } = 4;
    public int SmallMaxContextChars { get; init; } = 600;
    public ResilienceSettings Resilience { get; init; } = new();
    /// <summary>For tests: the clock of backoff and the circuit breaker.</summary>
    public TimeProvider? TimeProvider { get; init; }
}

/// <summary>
/// An oracle backed by a chat model: routes each request to a model, batches or runs calls with bounded
/// concurrency, sends each call through the resilience pipeline, reads the answers and matches them to
/// requests by amb_node_id. It never throws for a failed call: the requests get OracleErrors (timeout,
/// invalid, refused, unavailable), and every attempt, retry and error is reported to the events sink.
/// It does not validate answers (an answer that is not a candidate is returned as it is): the oracle
/// pipeline's validation stage does (Lmn.Oracles.OraclePipeline.Validate).
/// </summary>
public class LlmOracle : IOracle
{
    private readonly ILlmBackend _backend;
    private readonly LlmOracleOptions _options;
    private readonly IOracleEvents _events;
    private readonly Redactor _redactor;
    private readonly ModelRouter _router;
    private readonly ResiliencePipeline _pipeline;
    private readonly SemaphoreSlim _slots;

    public LlmOracle(ILlmBackend backend, LlmOracleOptions options, IOracleEvents? events = null, Redactor? redactor = null)
    {
        _backend = backend;
        _options = options;
        _events = events ?? OracleEvents.None;
        _redactor = redactor ?? Redactor.None;
        _router = new ModelRouter(options.Model, options.SmallModel) { MaxCandidates = options.SmallMaxCandidates, MaxContextChars = options.SmallMaxContextChars };
        Identity = $"{backend.Provider}:{options.Model}{(options.SmallModel != null ? "+small:" + options.SmallModel : "")};prompt={PromptBuilder.Version}";
        _pipeline = LlmResilience.Build(options.Resilience, Identity, _events, options.TimeProvider);
        _slots = new SemaphoreSlim(Math.Max(1, options.Concurrency));
    }

    /// <summary>provider:model(+small:model);prompt=version — part of the cache key.</summary>
    public string Identity { get; }

    public async Task<IReadOnlyList<OracleResult>> AskAsync(IReadOnlyList<OracleRequest> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0) return [];
        using var span = OracleTelemetry.StartCall(Identity, batch);
        OracleTelemetry.CountQuestions(Identity, batch.Count);

        var calls = new List<Task<IReadOnlyList<OracleResult>>>();
        foreach (var group in batch.GroupBy(_router.Pick))
        {
            var reqs = group.ToList();
            if (group.Key != _options.Model)
                _events.Report(new OracleEvent { Kind = OracleEventKind.Routed, Oracle = Identity, AmbNodeIds = reqs.Select(r => r.AmbNodeId).ToList(), Model = group.Key, Message = "easy questions: sent to the small model" });
            if (_options.Batch && reqs.Count > 1)
                foreach (var chunk in reqs.Chunk(Math.Max(1, _options.MaxBatchSize)))
                    calls.Add(LimitedAsync(group.Key, chunk, cancellationToken));
            else
                foreach (var r in reqs)
                    calls.Add(LimitedAsync(group.Key, [r], cancellationToken));
        }
        var answered = new Dictionary<string, OracleResult>(StringComparer.Ordinal);
        foreach (var list in await Task.WhenAll(calls).ConfigureAwait(false))
            foreach (var res in list) answered[res.AmbNodeId] = res;

        var results = batch.Select(r => answered[r.AmbNodeId]).ToList();
        int failed = results.Count(r => r is OracleError);
        if (failed > 0) OracleTelemetry.Fail(span, "oracle_error", $"{failed} of {batch.Count} requests failed");
        return results;
    }

    private async Task<IReadOnlyList<OracleResult>> LimitedAsync(string model, IReadOnlyList<OracleRequest> reqs, CancellationToken ct)
    {
        await _slots.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            return await CallAsync(model, reqs, ct).ConfigureAwait(false);
        }
        finally
        {
            _slots.Release();
        }
    }

    private async Task<IReadOnlyList<OracleResult>> CallAsync(string model, IReadOnlyList<OracleRequest> reqs, CancellationToken ct)
    {
        var ids = reqs.Select(r => r.AmbNodeId).ToList();
        var ctx = ResilienceContextPool.Shared.Get(ct);
        ctx.Properties.Set(LlmResilience.Ids, ids);
        ctx.Properties.Set(LlmResilience.Model, model);
        int attempts = 0, inputTokens = 0, outputTokens = 0;
        int maxTokens = Math.Min(8192, _options.MaxTokens * reqs.Count);
        try
        {
            var (reply, answers) = await _pipeline.ExecuteAsync(async c =>
            {
                int level = c.Properties.GetValue(LlmResilience.Level, 0);
                int attempt = ++attempts;
                var prompt = reqs.Count == 1 ? PromptBuilder.Build(reqs[0], level) : PromptBuilder.BuildBatch(reqs, level);
                _events.Report(new OracleEvent { Kind = OracleEventKind.Attempt, Oracle = Identity, AmbNodeIds = ids, Model = model, Attempt = attempt, Message = level > 0 ? $"reduced context level {level}" : "" });
                using var chat = OracleTelemetry.Source.StartActivity("chat " + model, ActivityKind.Client);
                chat?.SetTag(OracleTelemetry.OperationName, "chat");
                chat?.SetTag(OracleTelemetry.ProviderName, _backend.Provider);
                chat?.SetTag(OracleTelemetry.RequestModel, model);
                chat?.SetTag(OracleTelemetry.Attempt, attempt);
                chat?.SetTag(OracleTelemetry.AmbNodeIds, string.Join(",", ids));
                var watch = Stopwatch.StartNew();
                LlmReply r;
                try
                {
                    r = await _backend.CompleteAsync(new LlmCall(model, prompt.System, prompt.User, _options.JsonSchema ? prompt.Schema : null, prompt.SchemaName, maxTokens), c.CancellationToken).ConfigureAwait(false);
                }
                catch (LlmFailure f)
                {
                    OracleTelemetry.Fail(chat, f.Reason, f.Message);
                    RecordDuration(model, watch, f.Reason);
                    throw;
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    OracleTelemetry.Fail(chat, "timeout", "the call took longer than the timeout");
                    RecordDuration(model, watch, "timeout");
                    throw;
                }
                // Whatever the server sends back may echo the key (model, substitution, alternatives,
                // reasoning): redact the whole reply before anything reads, stores or shows it.
                r = r with { Text = _redactor.Redact(r.Text), Model = _redactor.Redact(r.Model) };
                inputTokens += r.InputTokens;
                outputTokens += r.OutputTokens;
                RecordUsage(chat, model, r, watch);
                _events.Report(new OracleEvent { Kind = OracleEventKind.Response, Oracle = Identity, AmbNodeIds = ids, Model = r.Model, Attempt = attempt, Duration = watch.Elapsed, InputTokens = r.InputTokens, OutputTokens = r.OutputTokens });
                var parsed = AnswerParser.Parse(r.Text);
                if (parsed.Count == 0)
                {
                    var f = new LlmFailure(LlmFailureKind.Malformed, _redactor.Redact($"the model's reply is not an answer: {Clip(r.Text)}"), 200);
                    OracleTelemetry.Fail(chat, f.Reason, f.Message);
                    throw f;
                }
                return (r, parsed);
            }, ctx).ConfigureAwait(false);
            return Match(reqs, reply, answers, inputTokens + outputTokens);
        }
        catch (LlmFailure f)
        {
            return Errors(reqs, f.ErrorKind, f.Reason, f.Status, $"{f.Message} (after {Attempts(attempts)})");
        }
        catch (TimeoutRejectedException)
        {
            return Errors(reqs, "timeout", "timeout", null, $"{_backend.Provider} did not answer within {_options.Resilience.Timeout.TotalSeconds:0.###} s (after {Attempts(attempts)})");
        }
        catch (BrokenCircuitException)
        {
            return Errors(reqs, "unavailable", "circuit_open", null, $"{_backend.Provider} failed repeatedly; the circuit breaker is open and calls fail fast for now (after {Attempts(attempts)})");
        }
        finally
        {
            ResilienceContextPool.Shared.Return(ctx);
        }
    }

    private static string Attempts(int n) => n == 1 ? "1 attempt" : $"{n} attempts";

    private IReadOnlyList<OracleResult> Match(IReadOnlyList<OracleRequest> reqs, LlmReply reply, IReadOnlyList<ParsedAnswer> answers, int tokens)
    {
        var byId = new Dictionary<string, ParsedAnswer>(StringComparer.Ordinal);
        foreach (var a in answers)
            if (a.AmbNodeId != null) byId.TryAdd(a.AmbNodeId.Trim(), a);
        // One question: the one answer is its answer, whatever id (if any) the model wrote on it.
        var found = reqs.Select(req => reqs.Count == 1 ? (byId.GetValueOrDefault(req.AmbNodeId) ?? answers[0]) : byId.GetValueOrDefault(req.AmbNodeId)).ToList();
        // The call's tokens are shared among the answers, the remainder on the first, so that they add up.
        int answeredCount = Math.Max(1, found.Count(a => a != null));
        int share = tokens / answeredCount, rest = tokens - share * answeredCount;
        bool first = true;
        var results = new List<OracleResult>(reqs.Count);
        for (int i = 0; i < reqs.Count; i++)
        {
            var req = reqs[i];
            var a = found[i];
            if (a == null)
            {
                string msg = $"the batch reply of {reply.Model} has no answer for {req.AmbNodeId}";
                _events.Report(new OracleEvent { Kind = OracleEventKind.Missing, Oracle = Identity, AmbNodeIds = [req.AmbNodeId], Model = reply.Model, Reason = "missing", Message = msg });
                OracleTelemetry.Errors.Add(1, new KeyValuePair<string, object?>(OracleTelemetry.OracleName, Identity));
                results.Add(new OracleError(req.AmbNodeId, "invalid", msg));
                continue;
            }
            results.Add(new OracleResponse(req.AmbNodeId, a.Substitution, new OracleMetadata
            {
                Confidence = a.Confidence,
                AlternativesConsidered = a.Alternatives,
                Reasoning = _redactor.Redact(a.Reasoning),
                Model = reply.Model,
                TokensUsed = share + (first ? rest : 0),
            }));
            first = false;
        }
        return results;
    }

    private IReadOnlyList<OracleResult> Errors(IReadOnlyList<OracleRequest> reqs, string kind, string reason, int? status, string message)
    {
        message = _redactor.Redact(message);
        _events.Report(new OracleEvent { Kind = OracleEventKind.Error, Oracle = Identity, AmbNodeIds = reqs.Select(r => r.AmbNodeId).ToList(), Status = status, Reason = reason, Message = message });
        OracleTelemetry.Errors.Add(reqs.Count, new KeyValuePair<string, object?>(OracleTelemetry.OracleName, Identity));
        return reqs.Select(r => (OracleResult)new OracleError(r.AmbNodeId, kind, message)).ToList();
    }

    private void RecordUsage(Activity? chat, string model, LlmReply r, Stopwatch watch)
    {
        chat?.SetTag(OracleTelemetry.ResponseModel, r.Model);
        chat?.SetTag(OracleTelemetry.InputTokens, r.InputTokens);
        chat?.SetTag(OracleTelemetry.OutputTokens, r.OutputTokens);
        var m = new KeyValuePair<string, object?>(OracleTelemetry.RequestModel, model);
        var p = new KeyValuePair<string, object?>(OracleTelemetry.ProviderName, _backend.Provider);
        var input = new KeyValuePair<string, object?>(OracleTelemetry.TokenType, "input");
        var output = new KeyValuePair<string, object?>(OracleTelemetry.TokenType, "output");
        OracleTelemetry.Tokens.Add(r.InputTokens, m, p, input);
        OracleTelemetry.Tokens.Add(r.OutputTokens, m, p, output);
        OracleTelemetry.TokenUsage.Record(r.InputTokens, m, p, input);
        OracleTelemetry.TokenUsage.Record(r.OutputTokens, m, p, output);
        RecordDuration(model, watch, null);
    }

    private void RecordDuration(string model, Stopwatch watch, string? error)
    {
        var tags = new TagList
        {
            { OracleTelemetry.RequestModel, model },
            { OracleTelemetry.ProviderName, _backend.Provider },
            { OracleTelemetry.OperationName, "chat" },
        };
        if (error != null) tags.Add(OracleTelemetry.ErrorType, error);
        OracleTelemetry.OperationDuration.Record(watch.Elapsed.TotalSeconds, tags);
    }

    private static string Clip(string s) => s.Length > 200 ? s[..200] + "..." : s;
}
