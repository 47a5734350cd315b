using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Lmn.Words;

namespace Lmn.Oracles;

/// <summary>One question to an oracle (ORACLE-PROTOCOL.md, "Request"). Text fields are LMN text.</summary>
public sealed record OracleRequest
{
    /// <summary>The head the compiler gives a collapse `e @ ctx` (its context is the binding `@context`).</summary>
    public const string CollapseHead = "collapse";

    /// <summary>The question as a person reads it: a collapse as `[a, b] @ ctx`, anything else as its expression.</summary>
    public string Display =>
        Kind == "choice" && Expression.StartsWith("∿" + CollapseHead + "[", StringComparison.Ordinal) && LexicalBindings.TryGetValue("@context", out var ctx)
            ? "[" + string.Join(", ", Args) + "] @ " + ctx
            : Expression;

    /// <summary>Unique within a run, stable across replays of the same run (e.g. "amb#42").</summary>
    public required string AmbNodeId { get; init; }
    /// <summary>"choice" for ∿, "open" for ~.</summary>
    public required string Kind { get; init; }
    /// <summary>The site with its arguments in normal form, canonical text (e.g. "∿lov[joy, pai, hop]").</summary>
    public required string Expression { get; init; }
    /// <summary>Candidates (choice) or arguments (open).</summary>
    public IReadOnlyList<string> Args { get; init; } = [];
    public string? TypeExpected { get; init; }
    /// <summary>Every anchor in scope: "@now" → "present_moment".</summary>
    public IReadOnlyDictionary<string, string> LexicalBindings { get; init; } = new Dictionary<string, string>();
    /// <summary>Lexicon glosses of every word in the expression.</summary>
    public IReadOnlyDictionary<string, string> TypeEnvironment { get; init; } = new Dictionary<string, string>();
    /// <summary>Enclosing definitions, outermost first.</summary>
    public IReadOnlyList<string> ReductionTrace { get; init; } = [];
    public IReadOnlyList<string> OtherAmbNodes { get; init; } = [];
    public IReadOnlyList<string> SharedVariables { get; init; } = [];
    /// <summary>"file:line:col" of the site.</summary>
    public string SourceLocation { get; init; } = "";
}

/// <summary>What an oracle says about its answer.</summary>
public sealed record OracleMetadata
{
    public double Confidence { get; init; } = 1.0;
    public IReadOnlyList<string> AlternativesConsidered { get; init; } = [];
    public string Reasoning { get; init; } = "";
    public string Model { get; init; } = "";
    public int TokensUsed { get; init; }
}

/// <summary>An oracle's reply to one request: an answer or an error.</summary>
public abstract record OracleResult(string AmbNodeId);

/// <summary>An answer: one concrete LMN term as text.</summary>
public sealed record OracleResponse(string AmbNodeId, string Substitution, OracleMetadata Metadata) : OracleResult(AmbNodeId);

/// <summary>An oracle that cannot answer: kind is timeout, invalid, refused or unavailable.</summary>
public sealed record OracleError(string AmbNodeId, string Kind, string Message) : OracleResult(AmbNodeId);

/// <summary>A malformed message from an oracle: names the missing or wrong key.</summary>
public sealed class ProtocolException(string message) : Exception(message);

/// <summary>
/// Anything that answers oracle requests: the lexicon, an LLM, a person, a transcript, a process.
/// A batch is answered in any order; answers are matched by AmbNodeId.
/// </summary>
public interface IOracle
{
    /// <summary>Resolver, model and prompt version: part of the cache key.</summary>
    string Identity { get; }

    Task<IReadOnlyList<OracleResult>> AskAsync(IReadOnlyList<OracleRequest> batch, CancellationToken cancellationToken);
}

/// <summary>The protocol's JSON: snake_case keys exactly as ORACLE-PROTOCOL.md shows them.</summary>
public static class OracleJson
{
    /// <summary>`{"oracle_request": {...}}`, or `{"parallel_requests": [...]}` for more than one.</summary>
    public static string Serialize(IReadOnlyList<OracleRequest> batch)
    {
        var buf = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buf, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            if (batch.Count == 1)
            {
                w.WritePropertyName("oracle_request");
                WriteRequest(w, batch[0]);
            }
            else
            {
                w.WriteStartArray("parallel_requests");
                foreach (var r in batch) WriteRequest(w, r);
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buf.WrittenSpan);
    }

    public static string Serialize(OracleRequest request) => Serialize([request]);

    public static void WriteRequest(Utf8JsonWriter w, OracleRequest r)
    {
        w.WriteStartObject();
        w.WriteString("amb_node_id", r.AmbNodeId);
        w.WriteString("kind", r.Kind);
        w.WriteString("expression", r.Expression);
        w.WriteStartArray("args");
        foreach (var a in r.Args) w.WriteStringValue(a);
        w.WriteEndArray();
        if (r.TypeExpected is null) w.WriteNull("type_expected"); else w.WriteString("type_expected", r.TypeExpected);
        w.WriteStartObject("scope");
        WriteMap(w, "lexical_bindings", r.LexicalBindings);
        WriteMap(w, "type_environment", r.TypeEnvironment);
        w.WriteEndObject();
        w.WriteStartArray("reduction_trace");
        foreach (var t in r.ReductionTrace) w.WriteStringValue(t);
        w.WriteEndArray();
        w.WriteStartObject("parallel_context");
        w.WriteStartArray("other_amb_nodes");
        foreach (var t in r.OtherAmbNodes) w.WriteStringValue(t);
        w.WriteEndArray();
        w.WriteStartArray("shared_variables");
        foreach (var t in r.SharedVariables) w.WriteStringValue(t);
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteString("source_location", r.SourceLocation);
        w.WriteEndObject();
    }

    private static void WriteMap(Utf8JsonWriter w, string name, IReadOnlyDictionary<string, string> map)
    {
        w.WriteStartObject(name);
        foreach (var (k, v) in map.OrderBy(kv => kv.Key, StringComparer.Ordinal)) w.WriteString(k, v);
        w.WriteEndObject();
    }

    /// <summary>Parses `oracle_request` or `parallel_requests` (what a process oracle or a transcript holds).</summary>
    public static IReadOnlyList<OracleRequest> ParseRequests(string json)
    {
        using var doc = Parse(json);
        var root = doc.RootElement;
        if (root.TryGetProperty("oracle_request", out var one)) return [ReadRequest(one)];
        if (root.TryGetProperty("parallel_requests", out var many))
            return many.EnumerateArray().Select(ReadRequest).ToList();
        throw new ProtocolException("expected a message with key \"oracle_request\" or \"parallel_requests\"");
    }

    private static OracleRequest ReadRequest(JsonElement e)
    {
        var scope = e.TryGetProperty("scope", out var s) && s.ValueKind == JsonValueKind.Object ? s : default;
        var par = e.TryGetProperty("parallel_context", out var p) && p.ValueKind == JsonValueKind.Object ? p : default;
        return new OracleRequest
        {
            AmbNodeId = Str(e, "amb_node_id"),
            Kind = Str(e, "kind"),
            Expression = Str(e, "expression"),
            Args = StrList(e, "args"),
            TypeExpected = e.TryGetProperty("type_expected", out var te) && te.ValueKind == JsonValueKind.String ? te.GetString() : null,
            LexicalBindings = scope.ValueKind == JsonValueKind.Object ? StrMap(scope, "lexical_bindings") : new Dictionary<string, string>(),
            TypeEnvironment = scope.ValueKind == JsonValueKind.Object ? StrMap(scope, "type_environment") : new Dictionary<string, string>(),
            ReductionTrace = StrList(e, "reduction_trace"),
            OtherAmbNodes = par.ValueKind == JsonValueKind.Object ? StrList(par, "other_amb_nodes") : [],
            SharedVariables = par.ValueKind == JsonValueKind.Object ? StrList(par, "shared_variables") : [],
            SourceLocation = e.TryGetProperty("source_location", out var sl) && sl.ValueKind == JsonValueKind.String ? sl.GetString()! : "",
        };
    }

    /// <summary>`{"oracle_response": ...}`, `{"oracle_error": ...}` or `{"parallel_responses": [...]}`.</summary>
    public static string Serialize(IReadOnlyList<OracleResult> results)
    {
        var buf = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buf, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            if (results.Count == 1)
            {
                WriteResult(w, results[0], named: true);
            }
            else
            {
                w.WriteStartArray("parallel_responses");
                foreach (var r in results)
                {
                    w.WriteStartObject();
                    WriteResult(w, r, named: true);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buf.WrittenSpan);
    }

    private static void WriteResult(Utf8JsonWriter w, OracleResult r, bool named)
    {
        switch (r)
        {
            case OracleResponse a:
                w.WriteStartObject("oracle_response");
                w.WriteString("amb_node_id", a.AmbNodeId);
                w.WriteString("substitution", a.Substitution);
                w.WriteStartObject("metadata");
                w.WriteNumber("confidence", a.Metadata.Confidence);
                w.WriteStartArray("alternatives_considered");
                foreach (var x in a.Metadata.AlternativesConsidered) w.WriteStringValue(x);
                w.WriteEndArray();
                w.WriteString("reasoning", a.Metadata.Reasoning);
                w.WriteString("model", a.Metadata.Model);
                w.WriteNumber("tokens_used", a.Metadata.TokensUsed);
                w.WriteEndObject();
                w.WriteEndObject();
                break;
            case OracleError e:
                w.WriteStartObject("oracle_error");
                w.WriteString("amb_node_id", e.AmbNodeId);
                w.WriteString("kind", e.Kind);
                w.WriteString("message", e.Message);
                w.WriteEndObject();
                break;
            default:
                throw new System.Diagnostics.UnreachableException($"oracle result {r.GetType().Name}");
        }
    }

    /// <summary>Parses an oracle's reply: a single response or error, or a batch of them (any order).</summary>
    public static IReadOnlyList<OracleResult> ParseResults(string json)
    {
        using var doc = Parse(json);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new ProtocolException("expected a JSON object");
        if (root.TryGetProperty("parallel_responses", out var many))
        {
            if (many.ValueKind != JsonValueKind.Array) throw new ProtocolException("\"parallel_responses\" must be an array");
            return many.EnumerateArray().Select(ReadResult).ToList();
        }
        return [ReadResult(root)];
    }

    private static OracleResult ReadResult(JsonElement e)
    {
        if (e.TryGetProperty("oracle_response", out var r))
        {
            var meta = r.TryGetProperty("metadata", out var m) && m.ValueKind == JsonValueKind.Object ? m : default;
            return new OracleResponse(Str(r, "amb_node_id"), Str(r, "substitution"), new OracleMetadata
            {
                Confidence = meta.ValueKind == JsonValueKind.Object && meta.TryGetProperty("confidence", out var c) && c.ValueKind == JsonValueKind.Number ? (c.TryGetDouble(out double cd) && double.IsFinite(cd) ? cd : throw new ProtocolException($"key \"metadata.confidence\" must be a number from 0 to 1, got {Clip(c.GetRawText())}")) : 1.0,
                AlternativesConsidered = meta.ValueKind == JsonValueKind.Object ? StrList(meta, "alternatives_considered", required: false) : [],
                Reasoning = meta.ValueKind == JsonValueKind.Object && meta.TryGetProperty("reasoning", out var re) && re.ValueKind == JsonValueKind.String ? re.GetString()! : "",
                Model = meta.ValueKind == JsonValueKind.Object && meta.TryGetProperty("model", out var mo) && mo.ValueKind == JsonValueKind.String ? mo.GetString()! : "",
                TokensUsed = meta.ValueKind == JsonValueKind.Object ? TokenCount(meta) : 0,
            });
        }
        if (e.TryGetProperty("oracle_error", out var err))
            return new OracleError(Str(err, "amb_node_id"), Str(err, "kind"), err.TryGetProperty("message", out var msg) && msg.ValueKind == JsonValueKind.String ? msg.GetString()! : "");
        throw new ProtocolException("expected key \"oracle_response\" or \"oracle_error\"");
    }

    /// <summary>metadata.tokens_used: absent or null is 0; otherwise a whole number from 0 to 2147483647.</summary>
    private static int TokenCount(JsonElement meta)
    {
        if (!meta.TryGetProperty("tokens_used", out var tu) || tu.ValueKind == JsonValueKind.Null) return 0;
        if (tu.ValueKind != JsonValueKind.Number || !tu.TryGetInt32(out int n) || n < 0)
            throw new ProtocolException($"key \"metadata.tokens_used\" must be a whole number from 0 to {int.MaxValue}, got {Clip(tu.GetRawText())}");
        return n;
    }

    private static string Clip(string s) => s.Length > 40 ? s[..40] + "..." : s;

    private static JsonDocument Parse(string json)
    {
        try { return JsonDocument.Parse(json); }
        catch (JsonException e) { throw new ProtocolException($"malformed JSON: {e.Message}"); }
    }

    private static string Str(JsonElement e, string key)
    {
        if (!e.TryGetProperty(key, out var v)) throw new ProtocolException($"missing required key \"{key}\"");
        if (v.ValueKind != JsonValueKind.String) throw new ProtocolException($"key \"{key}\" must be a string");
        return v.GetString()!;
    }

    private static IReadOnlyList<string> StrList(JsonElement e, string key, bool required = false)
    {
        if (!e.TryGetProperty(key, out var v))
        {
            if (required) throw new ProtocolException($"missing required key \"{key}\"");
            return [];
        }
        if (v.ValueKind != JsonValueKind.Array) throw new ProtocolException($"key \"{key}\" must be an array of strings");
        return v.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString()! : x.GetRawText()).ToList();
    }

    private static IReadOnlyDictionary<string, string> StrMap(JsonElement e, string key)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        if (e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Object)
            foreach (var p in v.EnumerateObject()) d[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
        return d;
    }
}

/// <summary>The protocol's cache key.</summary>
public static class CacheKey
{
    /// <summary>
    /// sha256(normalised expression, kind, type_expected, sorted lexical_bindings, oracle identity), hex.
    /// amb_node_id, reduction_trace and parallel_context are not part of it.
    /// </summary>
    public static string Of(OracleRequest r, string oracleIdentity)
    {
        string text = Text(r, oracleIdentity);
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        byte[]? rented = max > 1024 ? System.Buffers.ArrayPool<byte>.Shared.Rent(max) : null;
        Span<byte> bytes = rented ?? stackalloc byte[max];
        int n = Encoding.UTF8.GetBytes(text, bytes);
        // One hash object per thread: the one-shot SHA256.HashData sets up and frees a digest context per
        // call (measured on a key of this size: 3-10 µs a call against 2-4 µs; a batch run hashes a key
        // per question).
        var sha = t_sha ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(bytes[..n]);
        Span<byte> hash = stackalloc byte[32];
        sha.GetHashAndReset(hash);
        if (rented != null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        return Convert.ToHexStringLower(hash);
    }

    [ThreadStatic] private static IncrementalHash? t_sha;

    /// <summary>What the key hashes: equal texts, equal keys (an in-process table can use it as it is).</summary>
    public static string Text(OracleRequest r, string oracleIdentity)
    {
        // One builder per thread (a pipeline makes this text once per question; a batch run's coalescer takes it from the pipeline).
        var sb = t_text ??= new StringBuilder(256);
        sb.Clear();
        sb.Append(NormaliseSpaces(r.Expression)).Append('\u001f').Append(r.Kind).Append('\u001f').Append(r.TypeExpected ?? "").Append('\u001f');
        if (r.LexicalBindings.Count == 1 && r.LexicalBindings is Dictionary<string, string> one)
            foreach (var (k, v) in one) sb.Append(k).Append('=').Append(v).Append('\u001e');   // the struct enumerator
        else if (r.LexicalBindings.Count > 0)
            foreach (var (k, v) in r.LexicalBindings.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                sb.Append(k).Append('=').Append(v).Append('\u001e');
        sb.Append('\u001f').Append(oracleIdentity);
        string text = sb.ToString();
        if (sb.Capacity > 4096) t_text = null;   // one long key does not keep its buffer
        return text;
    }

    [ThreadStatic] private static StringBuilder? t_text;

    /// <summary>Collapses runs of whitespace to one space and trims (the protocol's "normalising spaces").</summary>
    public static string NormaliseSpaces(string s) => IsNormal(s) ? s :
        string.Join(' ', s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    /// <summary>No leading, trailing or doubled white space, and no white space but ' ' (most expressions): nothing to do.</summary>
    private static bool IsNormal(string s)
    {
        if (s.Length == 0) return true;
        if (char.IsWhiteSpace(s[0]) || char.IsWhiteSpace(s[^1])) return false;
        for (int i = 1; i < s.Length; i++)
            if (char.IsWhiteSpace(s[i]) && (s[i] != ' ' || s[i - 1] == ' ')) return false;
        return true;
    }
}
