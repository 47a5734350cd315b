using System.Globalization;

namespace Lmn.Oracles;

/// <summary>
/// A stage that hands low-confidence answers (below <see cref="Threshold"/>) and, when
/// <see cref="EscalateErrors"/> is set, errors to another oracle, usually the human one
/// (`--escalate human --min-confidence 0.8`). The other oracle sees the first answer as a suggestion.
/// </summary>
public sealed class EscalatingOracle : IOracle, IAsyncDisposable
{
    private readonly IOracle _inner;
    private readonly IOracle _target;
    private readonly IOracleEvents _events;

    /// <summary>Answers with confidence strictly below this go to the target.</summary>
    public double Threshold { get; }
    /// <summary>Errors from the inner oracle go to the target too (default on).</summary>
    public bool EscalateErrors { get; init; } = true;

    public EscalatingOracle(IOracle inner, IOracle target, double threshold, IOracleEvents? events = null)
    {
        if (threshold is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "a confidence threshold is between 0 and 1");
        _inner = inner;
        _target = target;
        Threshold = threshold;
        _events = events ?? OracleEvents.None;
    }

    public string Identity => $"{_inner.Identity}+escalate:{_target.Identity}@{Threshold.ToString("0.###", CultureInfo.InvariantCulture)}";

    public async Task<IReadOnlyList<OracleResult>> AskAsync(IReadOnlyList<OracleRequest> batch, CancellationToken cancellationToken)
    {
        var results = (await _inner.AskAsync(batch, cancellationToken).ConfigureAwait(false)).ToList();
        var byId = batch.ToDictionary(r => r.AmbNodeId, StringComparer.Ordinal);
        var escalate = new List<OracleRequest>();
        var suggestions = new Dictionary<string, OracleResult>(StringComparer.Ordinal);
        foreach (var res in results)
        {
            if (!byId.TryGetValue(res.AmbNodeId, out var req)) continue;
            string? why = res switch
            {
                OracleResponse a when a.Metadata.Confidence < Threshold =>
                    $"confidence {a.Metadata.Confidence.ToString("0.###", CultureInfo.InvariantCulture)} is below {Threshold.ToString("0.###", CultureInfo.InvariantCulture)}",
                OracleError e when EscalateErrors => $"the oracle could not answer ({e.Kind})",
                _ => null,
            };
            if (why == null) continue;
            escalate.Add(req);
            suggestions[req.AmbNodeId] = res;
            _events.Report(new OracleEvent { Kind = OracleEventKind.Escalation, Oracle = Identity, AmbNodeIds = [req.AmbNodeId], Reason = res is OracleError ? "error" : "low_confidence", Message = $"{why}: asking {_target.Identity}" });
            OracleTelemetry.Escalations.Add(1, new KeyValuePair<string, object?>(OracleTelemetry.OracleName, _target.Identity));
        }
        if (escalate.Count == 0) return results;

        var answers = _target is HumanOracle human
            ? await human.AskAsync(escalate, suggestions, cancellationToken).ConfigureAwait(false)
            : await _target.AskAsync(escalate, cancellationToken).ConfigureAwait(false);
        var answered = new Dictionary<string, OracleResult>(StringComparer.Ordinal);
        foreach (var a in answers) answered[a.AmbNodeId] = a;
        for (int i = 0; i < results.Count; i++)
            if (answered.TryGetValue(results[i].AmbNodeId, out var a)) results[i] = a;
        return results;
    }

    /// <summary>Disposes both oracles when they hold resources (a process oracle's program).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_inner is IAsyncDisposable a) await a.DisposeAsync().ConfigureAwait(false);
        if (_target is IAsyncDisposable b) await b.DisposeAsync().ConfigureAwait(false);
    }
}
