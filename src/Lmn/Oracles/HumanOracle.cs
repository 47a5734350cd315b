using System.Globalization;

namespace Lmn.Oracles;

/// <summary>
/// Asks a person at the terminal: shows the site, its context and numbered candidates, reads a number
/// or a term. Choice mode accepts a number or a candidate's text; open mode accepts any term. Works with
/// piped input (one answer per line). Questions are asked one at a time even when calls overlap.
/// </summary>
public sealed class HumanOracle : IOracle
{
    private readonly TextReader _input;
    private readonly TextWriter _output;
    private readonly IOracleEvents _events;
    private readonly SemaphoreSlim _one = new(1, 1);

    /// <summary>How many unusable lines in a row before the question is refused.</summary>
    public int MaxTries { get; init; } = 5;

    public HumanOracle(TextReader input, TextWriter output, IOracleEvents? events = null)
    {
        _input = input;
        _output = output;
        _events = events ?? OracleEvents.None;
    }

    public string Identity => "human";

    public Task<IReadOnlyList<OracleResult>> AskAsync(IReadOnlyList<OracleRequest> batch, CancellationToken cancellationToken) =>
        AskAsync(batch, null, cancellationToken);

    /// <summary>Asks every request in turn; a suggestion (an oracle's low-confidence answer) is shown and is what an empty line accepts.</summary>
    public async Task<IReadOnlyList<OracleResult>> AskAsync(IReadOnlyList<OracleRequest> batch, IReadOnlyDictionary<string, OracleResult>? suggestions, CancellationToken cancellationToken)
    {
        using var span = OracleTelemetry.StartCall(Identity, batch);
        OracleTelemetry.CountQuestions(Identity, batch.Count);
        await _one.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var results = new List<OracleResult>(batch.Count);
            foreach (var r in batch)
            {
                OracleResult? suggestion = null;
                suggestions?.TryGetValue(r.AmbNodeId, out suggestion);
                results.Add(await AskOneAsync(r, suggestion, cancellationToken).ConfigureAwait(false));
            }
            return results;
        }
        finally
        {
            _one.Release();
        }
    }

    private async Task<OracleResult> AskOneAsync(OracleRequest r, OracleResult? suggestion, CancellationToken ct)
    {
        _events.Report(new OracleEvent { Kind = OracleEventKind.Attempt, Oracle = Identity, AmbNodeIds = [r.AmbNodeId], Attempt = 1 });
        Show(r, suggestion);
        bool choice = r.Kind == "choice" && r.Args.Count > 0;
        var suggested = suggestion as OracleResponse;
        for (int tries = 0; tries < MaxTries; tries++)
        {
            _output.Write(choice
                ? $"choose 1-{r.Args.Count} or type a candidate{(suggested != null ? " (empty line: accept the suggestion)" : "")}: "
                : $"enter a term{(suggested != null ? " (empty line: accept the suggestion)" : "")}: ");
            _output.Flush();
            string? line = await _input.ReadLineAsync(ct).ConfigureAwait(false);
            if (line == null)
            {
                _output.WriteLine();
                return Fail(r, "unavailable", $"no answer for {AnswerValidator.Site(r)}: the human oracle's input ended");
            }
            line = line.Trim();
            if (line.Length == 0 && suggested != null) return Answer(r, suggested.Substitution, "accepted the suggestion of " + suggested.Metadata.Model);
            if (choice)
            {
                if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 && n <= r.Args.Count)
                    return Answer(r, r.Args[n - 1], $"chose {n}");
                string norm = CacheKey.NormaliseSpaces(line);
                var match = r.Args.FirstOrDefault(a => CacheKey.NormaliseSpaces(a) == norm);
                if (match != null) return Answer(r, match, "typed a candidate");
                _output.WriteLine($"'{line}' is not a choice: enter a number from 1 to {r.Args.Count} or one of the candidates");
            }
            else
            {
                string? bad = AnswerValidator.ShapeCheck(line);
                if (bad == null) return Answer(r, line, "typed a term");
                _output.WriteLine($"'{line}' is not one term: {bad}");
            }
        }
        return Fail(r, "refused", $"no usable answer for {AnswerValidator.Site(r)} after {MaxTries} tries");
    }

    private void Show(OracleRequest r, OracleResult? suggestion)
    {
        var o = _output;
        o.WriteLine();
        o.WriteLine($"── oracle question {r.AmbNodeId}{(r.SourceLocation.Length > 0 ? " at " + r.SourceLocation : "")} ──");
        o.WriteLine($"  {r.Expression}");
        if (r.TypeExpected != null) o.WriteLine($"  expected type: {r.TypeExpected}");
        if (r.LexicalBindings.Count > 0)
            o.WriteLine("  context: " + string.Join(", ", r.LexicalBindings.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} = {kv.Value}")));
        foreach (var (word, gloss) in r.TypeEnvironment.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            o.WriteLine($"  {word}: {gloss}");
        if (r.ReductionTrace.Count > 0) o.WriteLine("  inside: " + string.Join(" > ", r.ReductionTrace));
        switch (suggestion)
        {
            case OracleResponse s:
                o.WriteLine($"  suggested by {(s.Metadata.Model.Length > 0 ? s.Metadata.Model : "the oracle")} with confidence {s.Metadata.Confidence.ToString("0.##", CultureInfo.InvariantCulture)}: {s.Substitution}");
                if (s.Metadata.Reasoning.Length > 0) o.WriteLine($"    because: {s.Metadata.Reasoning}");
                break;
            case OracleError e:
                o.WriteLine($"  the oracle could not answer ({e.Kind}): {e.Message}");
                break;
        }
        if (r.Kind == "choice")
            for (int i = 0; i < r.Args.Count; i++) o.WriteLine($"  {i + 1}) {r.Args[i]}");
        else if (r.Args.Count > 0)
            o.WriteLine("  arguments: " + string.Join(", ", r.Args));
    }

    private OracleResponse Answer(OracleRequest r, string term, string how)
    {
        _events.Report(new OracleEvent { Kind = OracleEventKind.Response, Oracle = Identity, AmbNodeIds = [r.AmbNodeId], Attempt = 1, Message = how });
        return new OracleResponse(r.AmbNodeId, term, new OracleMetadata
        {
            Confidence = 1.0,
            AlternativesConsidered = r.Args.Where(a => a != term).ToList(),
            Reasoning = "human: " + how,
            Model = "human",
        });
    }

    private OracleError Fail(OracleRequest r, string kind, string message)
    {
        _events.Report(new OracleEvent { Kind = OracleEventKind.Error, Oracle = Identity, AmbNodeIds = [r.AmbNodeId], Reason = kind, Message = message });
        OracleTelemetry.Errors.Add(1, new KeyValuePair<string, object?>(OracleTelemetry.OracleName, Identity));
        return new OracleError(r.AmbNodeId, kind, message);
    }
}
