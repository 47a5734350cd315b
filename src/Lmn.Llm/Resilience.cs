using Lmn.Oracles;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Lmn.Llm;

/// <summary>The knobs of the resilience pipeline; docs/oracles/resilience.md lists each with its default.</summary>
public sealed record ResilienceSettings
{
    /// <summary>--timeout: one attempt, not counting retries.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>--retries: attempts after the first.</summary>
    public int MaxRetries { get; init; } = 4;
    /// <summary>First backoff; doubles each retry, with jitter.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Longest backoff.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>The longest retry-after the pipeline honours; a longer one is cut to this.</summary>
    public TimeSpan RetryAfterCap { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>The breaker opens when this share of calls in the sampling window failed...</summary>
    public double BreakerFailureRatio { get; init; } = 0.8;
    /// <summary>...and at least this many calls were made in it.</summary>
    public int BreakerMinimumThroughput { get; init; } = 5;
    public TimeSpan BreakerSamplingDuration { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>How long an open breaker fails calls fast before it lets one through.</summary>
    public TimeSpan BreakerBreakDuration { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// The one place where LLM calls get their timeout, retries and circuit breaker (Polly v8). Outer to
/// inner: retry (exponential backoff with jitter, or the server's retry-after-ms / retry-after; a
/// context-length error retries at once with reduced context) → circuit breaker (opens after repeated
/// server-side failures) → timeout (per attempt). Never retried: quota/spend-limit 429s, auth errors,
/// other 4xx, an open circuit, the caller's cancellation.
/// </summary>
public static class LlmResilience
{
    /// <summary>Reduced-context level of the next attempt (0 = full context).</summary>
    public static readonly ResiliencePropertyKey<int> Level = new("lmn.level");
    /// <summary>Attempts made so far in this call.</summary>
    public static readonly ResiliencePropertyKey<int> Attempt = new("lmn.attempt");
    public static readonly ResiliencePropertyKey<IReadOnlyList<string>> Ids = new("lmn.ids");
    public static readonly ResiliencePropertyKey<string> Model = new("lmn.model");

    public static ResiliencePipeline Build(ResilienceSettings s, string oracle, IOracleEvents events, TimeProvider? time = null)
    {
        var builder = new ResiliencePipelineBuilder { Name = "lmn-llm" };
        if (time != null) builder.TimeProvider = time;
        var tag = new KeyValuePair<string, object?>(OracleTelemetry.OracleName, oracle);

        if (s.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = s.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = s.BaseDelay,
                MaxDelay = s.MaxDelay,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception switch
                {
                    LlmFailure { Kind: LlmFailureKind.ContextLength } => args.Context.Properties.GetValue(Level, 0) < PromptBuilder.MaxLevel,
                    LlmFailure f => f.Retryable,
                    TimeoutRejectedException => true,
                    _ => false,
                }),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(args.Outcome.Exception switch
                {
                    LlmFailure { Kind: LlmFailureKind.ContextLength } => TimeSpan.Zero,
                    LlmFailure { RetryAfter: { } ra } => ra < s.RetryAfterCap ? ra : s.RetryAfterCap,
                    _ => null, // exponential backoff with jitter
                }),
                OnRetry = args =>
                {
                    var ctx = args.Context;
                    var ex = args.Outcome.Exception;
                    var ids = ctx.Properties.GetValue(Ids, []);
                    string? model = ctx.Properties.GetValue(Model, null!);
                    if (ex is LlmFailure { Kind: LlmFailureKind.ContextLength })
                    {
                        int level = ctx.Properties.GetValue(Level, 0) + 1;
                        ctx.Properties.Set(Level, level);
                        events.Report(new OracleEvent { Kind = OracleEventKind.ReducedContext, Oracle = oracle, AmbNodeIds = ids, Model = model, Attempt = args.AttemptNumber + 2, Message = $"the prompt was too long; retrying with reduced context (level {level})" });
                    }
                    events.Report(new OracleEvent
                    {
                        Kind = OracleEventKind.Retry,
                        Oracle = oracle,
                        AmbNodeIds = ids,
                        Model = model,
                        Attempt = args.AttemptNumber + 1,
                        Status = (ex as LlmFailure)?.Status,
                        Reason = ex is LlmFailure f ? f.Reason : "timeout",
                        Message = ex is LlmFailure lf ? lf.Message : $"no answer within {s.Timeout.TotalSeconds:0.###} s",
                        Delay = args.RetryDelay,
                    });
                    OracleTelemetry.Retries.Add(1, tag);
                    return default;
                },
            });
        }

        builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions
        {
            FailureRatio = s.BreakerFailureRatio,
            MinimumThroughput = s.BreakerMinimumThroughput,
            SamplingDuration = s.BreakerSamplingDuration,
            BreakDuration = s.BreakerBreakDuration,
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception switch
            {
                LlmFailure f => f.Kind is LlmFailureKind.Overloaded or LlmFailureKind.ServerError or LlmFailureKind.Timeout or LlmFailureKind.Network,
                TimeoutRejectedException => true,
                _ => false,
            }),
            OnOpened = args =>
            {
                events.Report(new OracleEvent { Kind = OracleEventKind.CircuitOpened, Oracle = oracle, AmbNodeIds = args.Context.Properties.GetValue(Ids, []), Reason = "circuit_open", Message = $"too many failed calls: failing fast for {args.BreakDuration.TotalSeconds:0.###} s", Delay = args.BreakDuration });
                return default;
            },
            OnClosed = args =>
            {
                events.Report(new OracleEvent { Kind = OracleEventKind.CircuitClosed, Oracle = oracle, AmbNodeIds = args.Context.Properties.GetValue(Ids, []), Message = "a trial call succeeded; calls go through again" });
                return default;
            },
        });

        builder.AddTimeout(new TimeoutStrategyOptions { Timeout = s.Timeout });
        return builder.Build();
    }
}
