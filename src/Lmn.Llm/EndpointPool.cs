using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Lmn.Oracles;

namespace Lmn.Llm;

/// <summary>
/// One endpoint of a pool: --endpoint URL, or one line of an endpoints file
/// ({"url", "provider", "model", "key_env", "weight", "max_concurrency", "rpm", "tpm"}).
/// The URL is what --base-url takes (openai: with /v1; anthropic: without).
/// </summary>
public sealed record EndpointSpec
{
    public required string Url { get; init; }
    /// <summary>"openai" or "anthropic"; null: the --oracle one.</summary>
    public string? Provider { get; init; }
    public string? Model { get; init; }
    /// <summary>The environment variable that holds this endpoint's key (the key itself is never in the file).</summary>
    public string? KeyVariable { get; init; }
    public double Weight { get; init; } = 1;
    /// <summary>Calls in flight at once; null: --concurrency.</summary>
    public int? MaxConcurrency { get; init; }
    /// <summary>Requests per minute (0: no limit).</summary>
    public int RequestsPerMinute { get; init; }
    /// <summary>Tokens per minute (0: no limit), as the endpoint reports them; a call is counted at its estimate until it answers.</summary>
    public int TokensPerMinute { get; init; }

    /// <summary>Reads JSON lines (blank lines and # comments skipped) or one JSON array of such objects.</summary>
    public static List<EndpointSpec> ReadFile(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new OracleConfigurationException($"--endpoints {path}: {e.Message}"); }
        var list = new List<EndpointSpec>();
        var lines = new List<(int, string)>();
        if (text.TrimStart().StartsWith('['))
        {
            try
            {
                using var doc = JsonDocument.Parse(text);
                int n = 0;
                foreach (var e in doc.RootElement.EnumerateArray()) lines.Add((++n, e.GetRawText()));
            }
            catch (JsonException e) { throw new OracleConfigurationException($"--endpoints {path}:{(e.LineNumber ?? 0) + 1}: not valid JSON: {e.Message.Split(" Path:")[0]}"); }
        }
        else
        {
            int n = 0;
            foreach (var raw in text.Split('\n'))
            {
                n++;
                string s = raw.Trim();
                if (s.Length > 0 && !s.StartsWith('#')) lines.Add((n, s));
            }
        }
        foreach (var (line, s) in lines) list.Add(Parse(path, line, s));
        if (list.Count == 0) throw new OracleConfigurationException($"--endpoints {path}: no endpoints; expected one JSON object per line, such as {{\"url\": \"http://host:8000/v1\", \"max_concurrency\": 4}}");
        return list;
    }

    private static EndpointSpec Parse(string path, int line, string json)
    {
        string where = $"--endpoints {path}:{line}";
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new OracleConfigurationException($"{where}:{(e.BytePositionInLine ?? 0) + 1}: not valid JSON: {e.Message.Split(" Path:")[0].Split(" LineNumber:")[0]}"); }
        using (doc)
        {
            var o = doc.RootElement;
            if (o.ValueKind != JsonValueKind.Object) throw new OracleConfigurationException($"{where}: expected an object such as {{\"url\": \"http://host:8000/v1\"}}");
            string? Str(string k) => o.TryGetProperty(k, out var v) ? v.ValueKind == JsonValueKind.String ? v.GetString() : throw new OracleConfigurationException($"{where}: \"{k}\" must be a string") : null;
            double Num(string k, double d, double min) => !o.TryGetProperty(k, out var v) ? d
                : v.ValueKind == JsonValueKind.Number && v.GetDouble() >= min ? v.GetDouble()
                : throw new OracleConfigurationException($"{where}: \"{k}\" must be a number of at least {min.ToString(CultureInfo.InvariantCulture)}");
            foreach (var p in o.EnumerateObject())
                if (p.Name is not ("url" or "provider" or "model" or "key_env" or "weight" or "max_concurrency" or "rpm" or "tpm"))
                    throw new OracleConfigurationException($"{where}: unknown field \"{p.Name}\" (expected url, provider, model, key_env, weight, max_concurrency, rpm, tpm)");
            string url = Str("url") ?? throw new OracleConfigurationException($"{where}: missing \"url\"");
            if (!Uri.TryCreate(url, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https"))
                throw new OracleConfigurationException($"{where}: \"url\" must be an http or https URL, got '{url}'");
            string? provider = Str("provider");
            if (provider is not (null or "openai" or "anthropic")) throw new OracleConfigurationException($"{where}: \"provider\" must be openai or anthropic, got '{provider}'");
            double weight = Num("weight", 1, 0.001);
            return new EndpointSpec
            {
                Url = url.TrimEnd('/'),
                Provider = provider,
                Model = Str("model"),
                KeyVariable = Str("key_env"),
                Weight = weight,
                MaxConcurrency = o.TryGetProperty("max_concurrency", out _) ? (int)Num("max_concurrency", 1, 1) : null,
                RequestsPerMinute = (int)Num("rpm", 0, 0),
                TokensPerMinute = (int)Num("tpm", 0, 0),
            };
        }
    }
}

/// <summary>
/// Several LLM endpoints behind one oracle. Each call (a batch of questions) goes to the endpoint with
/// the fewest outstanding calls per unit of weight among those within their limits (max concurrency,
/// requests and tokens per minute over a sliding minute) and whose circuit breaker is closed; when none
/// is free, the call waits for one. An endpoint whose call fails (unavailable or timeout) gets a failure
/// on its breaker, which opens after <see cref="BreakerFailures"/> in a row for
/// <see cref="BreakDuration"/>; the failed questions go to another endpoint at once, so nothing is lost
/// while some endpoint works (a call that finds every endpoint open waits for the first to close). `--stats` prints calls, errors, tokens and latency per endpoint.
/// </summary>
public sealed class EndpointPool : IOracle
{
    public sealed class Endpoint
    {
        internal Endpoint(int index, EndpointSpec spec, LlmOracle oracle, int maxConcurrency)
        {
            Index = index;
            Spec = spec;
            Oracle = oracle;
            MaxConcurrency = maxConcurrency;
        }

        public int Index { get; }
        public EndpointSpec Spec { get; }
        public LlmOracle Oracle { get; }
        public int MaxConcurrency { get; }
        internal int Outstanding;
        internal int ConsecutiveFailures;
        internal DateTime OpenUntil;
        internal bool HalfOpenTrial;
        internal readonly Queue<(DateTime At, int[] Tokens)> Window = new();
        public int Calls, Errors, Questions, MaxOutstanding, BreakerOpened;
        public long Tokens, LatencyMs;
        internal readonly List<double> Latencies = [];
    }

    private readonly List<Endpoint> _endpoints;
    private readonly object _lock = new();
    private readonly SemaphoreSlim _freed = new(0);
    private readonly TimeProvider _time;

    public EndpointPool(IReadOnlyList<(EndpointSpec Spec, LlmOracle Oracle, int MaxConcurrency)> endpoints, TimeProvider? time = null)
    {
        if (endpoints.Count == 0) throw new OracleConfigurationException("an endpoint pool needs at least one endpoint");
        _endpoints = endpoints.Select((e, i) => new Endpoint(i + 1, e.Spec, e.Oracle, e.MaxConcurrency)).ToList();
        _time = time ?? TimeProvider.System;
        var ids = _endpoints.Select(e => e.Oracle.Identity).Distinct().Order(StringComparer.Ordinal).ToList();
        // The same model behind every endpoint is the same oracle: the cache key does not change with the pool.
        Identity = ids.Count == 1 ? ids[0] : "pool[" + string.Join(",", ids) + "]";
    }

    public string Identity { get; }
    public IReadOnlyList<Endpoint> Endpoints => _endpoints;
    public int BreakerFailures { get; init; } = 3;
    public TimeSpan BreakDuration { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Tokens a question is assumed to cost until its call reports the real count (for tpm).</summary>
    public int EstimatedTokensPerQuestion { get; init; } = 300;

    /// <summary>Builds the pool from --endpoint/--endpoints and the other oracle options; keys are read from each endpoint's variable.</summary>
    public static EndpointPool Create(OracleOptions o, IReadOnlyList<EndpointSpec> specs, OracleEnvironment env, int batchSize = 50)
    {
        var list = new List<(EndpointSpec, LlmOracle, int)>();
        foreach (var spec in specs)
        {
            string provider = spec.Provider ?? (o.Kind == OracleKind.Anthropic ? "anthropic" : "openai");
            string keyVar = spec.KeyVariable ?? (provider == "anthropic" ? AnthropicBackend.KeyVariable : OpenAiBackend.KeyVariable);
            string? key = env.GetEnvironmentVariable(keyVar);
            int conc = spec.MaxConcurrency ?? o.Concurrency;
            var baseOpts = OracleFactory.LlmOptions(o, provider == "anthropic" ? AnthropicBackend.DefaultModel : OpenAiBackend.DefaultModel, env);
            // The pool fails a broken endpoint over to the others: one retry there, not four.
            var opts = baseOpts with
            {
                Model = spec.Model ?? baseOpts.Model,
                Batch = true,
                MaxBatchSize = Math.Max(baseOpts.MaxBatchSize, batchSize),
                Concurrency = conc,
                Resilience = baseOpts.Resilience with { MaxRetries = Math.Min(baseOpts.Resilience.MaxRetries, 1), BaseDelay = TimeSpan.FromMilliseconds(Math.Min(200, baseOpts.Resilience.BaseDelay.TotalMilliseconds)) },
            };
            LlmOracle oracle;
            if (provider == "anthropic")
            {
                if (string.IsNullOrWhiteSpace(key)) throw new OracleConfigurationException($"endpoint {spec.Url} (anthropic) needs an API key: set {keyVar}");
                oracle = new AnthropicOracle(opts, key.Trim(), spec.Url, env.Http, env.Events);
            }
            else oracle = new OpenAiOracle(opts, string.IsNullOrWhiteSpace(key) ? null : key.Trim(), spec.Url, env.Http, env.Events);
            list.Add((spec, oracle, conc));
        }
        return new EndpointPool(list);
    }

    public async Task<IReadOnlyList<OracleResult>> AskAsync(IReadOnlyList<OracleRequest> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0) return [];
        var results = new Dictionary<string, OracleResult>(StringComparer.Ordinal);
        var remaining = batch.ToList();
        var excluded = new HashSet<Endpoint>();
        while (remaining.Count > 0)
        {
            var (ep, tokens) = await AcquireAsync(excluded, remaining.Count, cancellationToken).ConfigureAwait(false);
            if (ep == null)
            {
                // Every endpoint failed this batch or is open: the last errors stand (the pipeline's policy applies).
                foreach (var r in remaining)
                    results.TryAdd(r.AmbNodeId, new OracleError(r.AmbNodeId, "unavailable", "every endpoint of the pool failed or is taken out by its circuit breaker"));
                break;
            }
            var watch = Stopwatch.StartNew();
            IReadOnlyList<OracleResult> got;
            try
            {
                got = await ep.Oracle.AskAsync(remaining, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                got = remaining.Select(r => (OracleResult)new OracleError(r.AmbNodeId, "unavailable", e.Message)).ToList();
            }
            watch.Stop();
            var byId = got.ToDictionary(r => r.AmbNodeId, StringComparer.Ordinal);
            var again = new List<OracleRequest>();
            int used = 0, errors = 0;
            foreach (var r in remaining)
            {
                var res = byId.GetValueOrDefault(r.AmbNodeId);
                if (res is OracleResponse ok)
                {
                    used += ok.Metadata.TokensUsed;
                    results[r.AmbNodeId] = ok;
                }
                else if (res is OracleError { Kind: "unavailable" or "timeout" } err)
                {
                    errors++;
                    results[r.AmbNodeId] = err;
                    again.Add(r);
                }
                else
                {
                    errors++;
                    results[r.AmbNodeId] = res ?? new OracleError(r.AmbNodeId, "invalid", "the endpoint gave no answer for it");
                }
            }
            Release(ep, tokens, used, watch.Elapsed, remaining.Count, errors, failed: again.Count == remaining.Count);
            if (again.Count > 0) excluded.Add(ep);
            remaining = again;
        }
        return batch.Select(r => results[r.AmbNodeId]).ToList();
    }

    private bool Eligible(Endpoint e, DateTime now) =>
        e.OpenUntil <= now && !(e.ConsecutiveFailures >= BreakerFailures && e.HalfOpenTrial);

    private bool WithinLimits(Endpoint e, DateTime now, int estimate, out TimeSpan wait)
    {
        wait = TimeSpan.Zero;
        while (e.Window.Count > 0 && now - e.Window.Peek().At >= TimeSpan.FromMinutes(1)) e.Window.Dequeue();
        if (e.Outstanding >= e.MaxConcurrency) return false;
        if (e.Spec.RequestsPerMinute > 0 && e.Window.Count >= e.Spec.RequestsPerMinute)
        {
            wait = e.Window.Peek().At + TimeSpan.FromMinutes(1) - now;
            return false;
        }
        if (e.Spec.TokensPerMinute > 0 && e.Window.Count > 0 && e.Window.Sum(w => (long)w.Tokens[0]) + estimate > e.Spec.TokensPerMinute)
        {
            wait = e.Window.Peek().At + TimeSpan.FromMinutes(1) - now;
            return false;
        }
        return true;
    }

    private async Task<(Endpoint?, int[])> AcquireAsync(HashSet<Endpoint> excluded, int questions, CancellationToken ct)
    {
        int estimate = questions * EstimatedTokensPerQuestion;
        while (true)
        {
            TimeSpan wait = TimeSpan.FromMilliseconds(250);
            lock (_lock)
            {
                var now = _time.GetUtcNow().UtcDateTime;
                Endpoint? best = null;
                bool anyEligible = false;
                DateTime soonestClose = DateTime.MaxValue;
                foreach (var e in _endpoints)
                {
                    if (excluded.Contains(e)) continue;
                    if (!Eligible(e, now))
                    {
                        if (e.OpenUntil > now && e.OpenUntil < soonestClose) soonestClose = e.OpenUntil;
                        continue;
                    }
                    anyEligible = true;
                    if (!WithinLimits(e, now, estimate, out var w))
                    {
                        if (w > TimeSpan.Zero && w < wait) wait = w;
                        continue;
                    }
                    if (best == null || (e.Outstanding + 1) / e.Spec.Weight < (best.Outstanding + 1) / best.Spec.Weight) best = e;
                }
                if (best != null)
                {
                    best.Outstanding++;
                    best.MaxOutstanding = Math.Max(best.MaxOutstanding, best.Outstanding);
                    if (best.ConsecutiveFailures >= BreakerFailures) best.HalfOpenTrial = true;
                    var tokens = new[] { estimate };
                    best.Window.Enqueue((now, tokens));
                    return (best, tokens);
                }
                // Every endpoint left is open (others' calls failed there): wait for the first to close and
                // try it; only when every endpoint has failed this very call do its questions get errors.
                if (!anyEligible)
                {
                    if (soonestClose == DateTime.MaxValue) return (null, []);
                    var untilClose = soonestClose - now;
                    wait = untilClose > TimeSpan.Zero ? untilClose : TimeSpan.FromMilliseconds(1);
                }
            }
            // Woken by a release, or when a rate window frees a slot.
            await _freed.WaitAsync(wait, ct).ConfigureAwait(false);
        }
    }

    private void Release(Endpoint e, int[] tokens, int used, TimeSpan latency, int questions, int errors, bool failed)
    {
        lock (_lock)
        {
            e.Outstanding--;
            tokens[0] = used > 0 ? used : failed ? 0 : tokens[0];
            e.Calls++;
            e.Questions += questions;
            e.Tokens += used;
            e.LatencyMs += (long)latency.TotalMilliseconds;
            e.Latencies.Add(latency.TotalMilliseconds);
            if (failed)
            {
                e.Errors++;
                e.ConsecutiveFailures++;
                e.HalfOpenTrial = false;
                if (e.ConsecutiveFailures >= BreakerFailures)
                {
                    e.OpenUntil = _time.GetUtcNow().UtcDateTime + BreakDuration;
                    e.BreakerOpened++;
                }
            }
            else
            {
                if (errors > 0) e.Errors++;
                e.ConsecutiveFailures = 0;
                e.HalfOpenTrial = false;
            }
        }
        // Wake every waiter: each checks again.
        _freed.Release(Math.Max(1, _freed.CurrentCount == 0 ? 8 : 1));
    }

    /// <summary>`--stats` lines: endpoint_N_url, calls, questions, errors, tokens, latency (mean and p95), the most in flight.</summary>
    public IEnumerable<string> StatsLines()
    {
        lock (_lock)
        {
            var lines = new List<string> { $"endpoints: {_endpoints.Count}" };
            foreach (var e in _endpoints)
            {
                var sorted = e.Latencies.Order().ToList();
                double p95 = sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(sorted.Count * 0.95) - 1)];
                string p = $"endpoint_{e.Index}";
                lines.Add($"{p}_url: {e.Spec.Url}");
                lines.Add(string.Create(CultureInfo.InvariantCulture, $"{p}: calls {e.Calls} questions {e.Questions} errors {e.Errors} tokens {e.Tokens} latency_ms_mean {(e.Calls == 0 ? 0 : e.LatencyMs / (double)e.Calls):F1} latency_ms_p95 {p95:F1} max_in_flight {e.MaxOutstanding} breaker_opened {e.BreakerOpened}"));
            }
            return lines;
        }
    }
}
