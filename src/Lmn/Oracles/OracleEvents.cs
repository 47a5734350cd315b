using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Lmn.Oracles;

/// <summary>What happened on the way to an answer. The transcript writes one line per event.</summary>
public enum OracleEventKind
{
    /// <summary>An attempt starts: one call to a model, a process or a person.</summary>
    Attempt,
    /// <summary>An attempt failed and will be tried again after <see cref="OracleEvent.Delay"/>.</summary>
    Retry,
    /// <summary>The next attempt sends less context (after a context-length error).</summary>
    ReducedContext,
    /// <summary>An attempt returned; tokens and duration are set.</summary>
    Response,
    /// <summary>The oracle gave up on these requests; the results are OracleErrors.</summary>
    Error,
    /// <summary>The circuit breaker opened: calls fail fast until it half-opens.</summary>
    CircuitOpened,
    /// <summary>The circuit breaker closed again after a successful trial call.</summary>
    CircuitClosed,
    /// <summary>A low-confidence answer or an error was handed to another oracle (the human).</summary>
    Escalation,
    /// <summary>The router sent these requests to the small model.</summary>
    Routed,
    /// <summary>A batch answer lacked an answer for a request.</summary>
    Missing,
    /// <summary>A process oracle started, wrote to stderr or exited.</summary>
    Process,
}

/// <summary>
/// One event of an oracle call. Messages never hold an API key: every oracle passes them through
/// <see cref="Redactor"/> before raising them.
/// </summary>
public sealed record OracleEvent
{
    public required OracleEventKind Kind { get; init; }
    /// <summary>The identity of the oracle that raised it.</summary>
    public required string Oracle { get; init; }
    /// <summary>The requests the event is about (several for a batch).</summary>
    public IReadOnlyList<string> AmbNodeIds { get; init; } = [];
    /// <summary>1 for the first try of a call, 2 for the first retry, ...</summary>
    public int Attempt { get; init; }
    public string? Model { get; init; }
    /// <summary>HTTP status of a failed attempt, or a process's exit status.</summary>
    public int? Status { get; init; }
    /// <summary>A short classification: rate_limited, overloaded, server_error, timeout, quota, context_length, malformed, ...</summary>
    public string? Reason { get; init; }
    public string Message { get; init; } = "";
    /// <summary>How long the next retry waits (Retry), or how long the attempt took (Response).</summary>
    public TimeSpan? Delay { get; init; }
    public TimeSpan? Duration { get; init; }
    public int InputTokens { get; init; }
    public int OutputTokens { get; init; }
    public DateTimeOffset Timestamp { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>One JSON object (snake_case keys), as the transcript's "retry", "error", ... lines hold it.</summary>
    public string ToJson()
    {
        var buf = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buf, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("event", SnakeCase(Kind.ToString()));
            w.WriteString("timestamp", Timestamp.ToString("O"));
            w.WriteString("oracle", Oracle);
            w.WriteStartArray("amb_node_ids");
            foreach (var id in AmbNodeIds) w.WriteStringValue(id);
            w.WriteEndArray();
            if (Attempt > 0) w.WriteNumber("attempt", Attempt);
            if (Model != null) w.WriteString("model", Model);
            if (Status != null) w.WriteNumber("status", Status.Value);
            if (Reason != null) w.WriteString("reason", Reason);
            if (Message.Length > 0) w.WriteString("message", Message);
            if (Delay != null) w.WriteNumber("delay_ms", (long)Delay.Value.TotalMilliseconds);
            if (Duration != null) w.WriteNumber("duration_ms", (long)Duration.Value.TotalMilliseconds);
            if (InputTokens > 0) w.WriteNumber("input_tokens", InputTokens);
            if (OutputTokens > 0) w.WriteNumber("output_tokens", OutputTokens);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buf.WrittenSpan);
    }

    private static string SnakeCase(string name)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) sb.Append('_');
            sb.Append(char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }
}

/// <summary>Where oracles report attempts, retries, errors and escalations (the transcript, a log, a test).</summary>
public interface IOracleEvents
{
    /// <summary>Called from any thread; must not throw and should return quickly.</summary>
    void Report(OracleEvent e);
}

/// <summary>Sinks for oracle events.</summary>
public static class OracleEvents
{
    /// <summary>Drops every event.</summary>
    public static IOracleEvents None { get; } = new NoEvents();

    /// <summary>Writes each event as one JSON line.</summary>
    public static IOracleEvents JsonLines(TextWriter w) => new JsonLineEvents(w);

    private sealed class NoEvents : IOracleEvents
    {
        public void Report(OracleEvent e) { }
    }

    private sealed class JsonLineEvents(TextWriter w) : IOracleEvents
    {
        private readonly Lock _gate = new();

        public void Report(OracleEvent e)
        {
            lock (_gate)
            {
                w.WriteLine(e.ToJson());
                w.Flush();
            }
        }
    }
}

/// <summary>Keeps every event in memory, in order (tests; a transcript writer can drain it).</summary>
public sealed class RecordingOracleEvents : IOracleEvents
{
    private readonly Lock _gate = new();
    private readonly List<OracleEvent> _events = [];

    public void Report(OracleEvent e)
    {
        lock (_gate) _events.Add(e);
    }

    public IReadOnlyList<OracleEvent> Events
    {
        get { lock (_gate) return _events.ToArray(); }
    }

    public IEnumerable<OracleEvent> OfKind(OracleEventKind kind) => Events.Where(e => e.Kind == kind);
}

/// <summary>Removes secrets (API keys) from text before it reaches a message, an event, a log or a span.</summary>
public sealed partial class Redactor
{
    private readonly string[] _secrets;

    public Redactor(params string?[] secrets) =>
        _secrets = secrets.Where(s => !string.IsNullOrEmpty(s) && s.Length >= 4).Select(s => s!).ToArray();

    public static Redactor None { get; } = new();

    /// <summary>The text with every known secret (and any bearer token or key-shaped word) replaced by "[redacted]".</summary>
    public string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        foreach (var s in _secrets)
            text = text.Replace(s, "[redacted]", StringComparison.Ordinal);
        return KeyShaped().Replace(text, "[redacted]");
    }

    // "sk-..." (OpenAI, Anthropic's "sk-ant-...") and "Bearer <token>": never worth showing. Generated at
    // build time (ahead-of-time code, no regex construction and its JIT on a run's first call).
    [System.Text.RegularExpressions.GeneratedRegex(@"\b(sk-[A-Za-z0-9_\-]{8,}|(?<=Bearer\s+)[A-Za-z0-9_\-\.=]{8,})", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex KeyShaped();
}
