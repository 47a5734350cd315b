using System.Globalization;

namespace Lmn.Oracles;

/// <summary>
/// The one mechanism of "this question goes on to another oracle, usually the human": the pipeline's
/// human policy (`lmn run --escalate human`, `--on-invalid human`, in <see cref="SettleStage"/>) and
/// <see cref="EscalatingOracle"/> (`lmn oracle-ask --escalate human`) both ask through it. It reports an
/// escalation event and counts it, and a human target sees the first answer (or the error) as a
/// suggestion; an empty line accepts a suggested answer.
/// </summary>
public sealed class Escalation(IOracle target, IOracleEvents? events = null)
{
    private readonly IOracleEvents _events = events ?? OracleEvents.None;

    /// <summary>The oracle escalated questions go to.</summary>
    public IOracle Target { get; } = target;

    /// <summary>
    /// Why a result escalates at threshold <paramref name="minConfidence"/>, or null: an answer below it
    /// (the wording of <see cref="AnswerValidator.LowConfidence"/>) and, when <paramref name="errors"/>, an error.
    /// </summary>
    public static string? Reason(OracleResult result, double minConfidence, bool errors) => result switch
    {
        OracleResponse a when a.Metadata.Confidence < minConfidence => AnswerValidator.LowConfidence(a.Metadata.Confidence, minConfidence),
        OracleError e when errors => $"the oracle could not answer ({e.Kind})",
        _ => null,
    };

    /// <summary>
    /// Asks <see cref="Target"/> the escalated questions, each with its first result as a suggestion (null:
    /// none) and why it escalates; <paramref name="from"/> names the oracle in the events.
    /// </summary>
    public async Task<IReadOnlyList<OracleResult>> AskAsync(IReadOnlyList<(OracleRequest Request, OracleResult? First, string Why)> escalated,
        string from, CancellationToken cancellationToken)
    {
        var suggestions = new Dictionary<string, OracleResult>(StringComparer.Ordinal);
        foreach (var (req, first, why) in escalated)
        {
            if (first != null) suggestions[req.AmbNodeId] = first;
            _events.Report(new OracleEvent
            {
                Kind = OracleEventKind.Escalation, Oracle = from, AmbNodeIds = [req.AmbNodeId],
                Reason = first is OracleError ? "error" : "low_confidence", Message = $"{why}: asking {Target.Identity}",
            });
            OracleTelemetry.Escalations.Add(1, new KeyValuePair<string, object?>(OracleTelemetry.OracleName, Target.Identity));
        }
        var batch = escalated.Select(e => e.Request).ToList();
        return Target is HumanOracle human
            ? await human.AskAsync(batch, suggestions, cancellationToken).ConfigureAwait(false)
            : await Target.AskAsync(batch, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>
/// An oracle whose low-confidence answers (below <see cref="Threshold"/>) and, when
/// <see cref="EscalateErrors"/> is set, errors go on through an <see cref="Escalation"/> to another oracle,
/// usually the human one (`lmn oracle-ask --escalate human --min-confidence 0.8`). `lmn run` does not use
/// it: there the pipeline's policy escalates, after validation, through the same <see cref="Escalation"/>.
/// </summary>
public sealed class EscalatingOracle : IOracle, IAsyncDisposable
{
    private readonly IOracle _inner;
    private readonly Escalation _escalation;

    /// <summary>Answers with confidence strictly below this go to the target.</summary>
    public double Threshold { get; }
    /// <summary>Errors from the inner oracle go to the target too (default on).</summary>
    public bool EscalateErrors { get; init; } = true;

    public EscalatingOracle(IOracle inner, IOracle target, double threshold, IOracleEvents? events = null)
    {
        if (threshold is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "a confidence threshold is between 0 and 1");
        _inner = inner;
        _escalation = new Escalation(target, events);
        Threshold = threshold;
    }

    public string Identity => $"{_inner.Identity}+escalate:{_escalation.Target.Identity}@{Threshold.ToString("0.###", CultureInfo.InvariantCulture)}";

    public async Task<IReadOnlyList<OracleResult>> AskAsync(IReadOnlyList<OracleRequest> batch, CancellationToken cancellationToken)
    {
        var results = (await _inner.AskAsync(batch, cancellationToken).ConfigureAwait(false)).ToList();
        var byId = batch.ToDictionary(r => r.AmbNodeId, StringComparer.Ordinal);
        var escalated = new List<(OracleRequest, OracleResult?, string)>();
        foreach (var res in results)
            if (byId.TryGetValue(res.AmbNodeId, out var req) && Escalation.Reason(res, Threshold, EscalateErrors) is { } why)
                escalated.Add((req, res, why));
        if (escalated.Count == 0) return results;

        var answered = new Dictionary<string, OracleResult>(StringComparer.Ordinal);
        foreach (var a in await _escalation.AskAsync(escalated, Identity, cancellationToken).ConfigureAwait(false)) answered[a.AmbNodeId] = a;
        for (int i = 0; i < results.Count; i++)
            if (answered.TryGetValue(results[i].AmbNodeId, out var a)) results[i] = a;
        return results;
    }

    /// <summary>Disposes both oracles when they hold resources (a process oracle's program).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_inner is IAsyncDisposable a) await a.DisposeAsync().ConfigureAwait(false);
        if (_escalation.Target is IAsyncDisposable b) await b.DisposeAsync().ConfigureAwait(false);
    }
}
