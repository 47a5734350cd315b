using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Lmn.Oracles;

/// <summary>
/// Traces and metrics of oracle calls, source and meter both named "Lmn.Oracles". Attribute names follow
/// OpenTelemetry's GenAI conventions (gen_ai.request.model, gen_ai.usage.input_tokens, ...). Nothing is
/// recorded unless a listener (an OpenTelemetry SDK, dotnet-counters, a test) subscribes.
/// </summary>
public static class OracleTelemetry
{
    public const string Name = "Lmn.Oracles";

    public static readonly ActivitySource Source = new(Name, "1.0");
    public static readonly Meter Meter = new(Name, "1.0");

    /// <summary>Questions asked of an oracle (one per request, batched or not).</summary>
    public static readonly Counter<long> Questions = Meter.CreateCounter<long>("lmn.oracle.questions", "{question}", "Questions asked of an oracle");
    /// <summary>Calls that carried more than one question.</summary>
    public static readonly Counter<long> Batches = Meter.CreateCounter<long>("lmn.oracle.batches", "{batch}", "Batched oracle calls");
    /// <summary>Attempts retried after a failure.</summary>
    public static readonly Counter<long> Retries = Meter.CreateCounter<long>("lmn.oracle.retries", "{retry}", "Oracle calls retried");
    /// <summary>Requests that ended as an oracle_error.</summary>
    public static readonly Counter<long> Errors = Meter.CreateCounter<long>("lmn.oracle.errors", "{error}", "Requests an oracle could not answer");
    /// <summary>Tokens, tagged gen_ai.token.type = input | output.</summary>
    public static readonly Counter<long> Tokens = Meter.CreateCounter<long>("lmn.oracle.tokens", "{token}", "Tokens used by LLM oracles");
    /// <summary>GenAI convention: tokens per call, tagged gen_ai.token.type.</summary>
    public static readonly Histogram<long> TokenUsage = Meter.CreateHistogram<long>("gen_ai.client.token.usage", "{token}", "Tokens per LLM call");
    /// <summary>GenAI convention: seconds per call.</summary>
    public static readonly Histogram<double> OperationDuration = Meter.CreateHistogram<double>("gen_ai.client.operation.duration", "s", "Duration of LLM calls");
    /// <summary>Questions answered from the cache (any tier) or an earlier run's transcript.</summary>
    public static readonly Counter<long> CacheHits = Meter.CreateCounter<long>("lmn.oracle.cache_hits", "{answer}", "Questions answered from the cache or an earlier run's transcript");
    /// <summary>Supervisor rounds (ask, graft, reduce).</summary>
    public static readonly Counter<long> Rounds = Meter.CreateCounter<long>("lmn.rounds", "{round}", "Supervisor rounds (ask, graft, reduce)");
    /// <summary>Answers escalated to another oracle (usually the human one).</summary>
    public static readonly Counter<long> Escalations = Meter.CreateCounter<long>("lmn.oracle.escalations", "{escalation}", "Answers escalated to the human oracle");

    // Attribute names (OpenTelemetry GenAI semantic conventions, plus lmn.* for our own).
    public const string RequestModel = "gen_ai.request.model";
    public const string ResponseModel = "gen_ai.response.model";
    public const string InputTokens = "gen_ai.usage.input_tokens";
    public const string OutputTokens = "gen_ai.usage.output_tokens";
    public const string OperationName = "gen_ai.operation.name";
    public const string ProviderName = "gen_ai.provider.name";
    public const string TokenType = "gen_ai.token.type";
    public const string ErrorType = "error.type";
    public const string OracleName = "lmn.oracle";
    public const string AmbNodeIds = "lmn.amb_node_ids";
    public const string BatchSize = "lmn.batch.size";
    public const string Attempt = "lmn.attempt";

    /// <summary>The span of one oracle call: "oracle {identity}", with the questions it carries.</summary>
    public static Activity? StartCall(string oracle, IReadOnlyList<OracleRequest> batch)
    {
        var a = Source.StartActivity("oracle " + oracle, ActivityKind.Internal);
        if (a != null)
        {
            a.SetTag(OracleName, oracle);
            a.SetTag(BatchSize, batch.Count);
            a.SetTag(AmbNodeIds, string.Join(",", batch.Select(r => r.AmbNodeId)));
        }
        return a;
    }

    /// <summary>Counts questions (and a batch when there is more than one) for an oracle.</summary>
    public static void CountQuestions(string oracle, int count)
    {
        var tag = new KeyValuePair<string, object?>(OracleName, oracle);
        Questions.Add(count, tag);
        if (count > 1) Batches.Add(1, tag);
    }

    /// <summary>Marks a span as failed with a short error type.</summary>
    public static void Fail(Activity? a, string errorType, string message)
    {
        if (a == null) return;
        a.SetTag(ErrorType, errorType);
        a.SetStatus(ActivityStatusCode.Error, message);
    }
}
