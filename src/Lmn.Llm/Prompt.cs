using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lmn.Oracles;

namespace Lmn.Llm;

/// <summary>A system and a user message, and the JSON schema the reply should follow.</summary>
public sealed record Prompt(string System, string User, JsonElement Schema, string SchemaName);

/// <summary>
/// Builds the LLM prompt from oracle requests: everything in the request, the seed's instructions
/// (§9.2), and a JSON answer format. <see cref="Version"/> is part of every LLM oracle's identity, so
/// changing the prompt changes the cache key. Level 1 and 2 send less context (after a context-length
/// error): level 1 keeps only the glosses of the head and the candidates and drops the trace and the
/// parallel context; level 2 sends the expression, candidates and expected type alone.
/// </summary>
public static class PromptBuilder
{
    /// <summary>Bump whenever the text or the schema below changes.</summary>
    public const string Version = "p1";

    public const int MaxLevel = 2;

    public const string System = """
        You are an LMN semantic oracle. LMN programs mark semantic ambiguity with ∿ (choose one of the
        candidates) and ~ (produce a term). You collapse each ambiguity to a single concrete LMN term.

        Instructions:
        1. Analyze the constraint intersection of the arguments
        2. Apply contextual bindings to narrow the semantic region
        3. Select the single most appropriate term
        4. Return ONLY the selected term (no ambiguity operator)

        For a choice question the term must be exactly one of the candidates, spelled as given. For an
        open question it is one LMN term (a word, a compound such as head[a, b], a number or a string)
        that fits the expected type. Never answer with ∿ or ~.

        Reply with JSON only, no prose around it:
        {"substitution": "<term>", "confidence": <0.0-1.0>, "reasoning": "<brief explanation>", "alternatives_considered": ["<other options>"]}
        If you cannot reply in JSON, reply in exactly this format:
        Selected term: <term>
        Confidence: <0.0-1.0>
        Reasoning: <brief explanation>
        Alternatives considered: <other options>
        """;

    public const string BatchSystem = System + """


        Several independent questions are asked at once. Answer every one of them, each with its
        amb_node_id, in one JSON object:
        {"answers": [{"amb_node_id": "<id>", "substitution": "<term>", "confidence": <0.0-1.0>, "reasoning": "<brief>", "alternatives_considered": ["<other>"]}, ...]}
        """;

    /// <summary>The prompt for one question.</summary>
    public static Prompt Build(OracleRequest r, int level = 0)
    {
        var sb = new StringBuilder();
        Describe(sb, r, level);
        sb.AppendLine();
        sb.Append("Collapse this ambiguity. Reply with the JSON object only.");
        return new Prompt(System, sb.ToString(), SingleSchema(r), "lmn_oracle_answer");
    }

    /// <summary>The prompt for several questions answered in one call.</summary>
    public static Prompt BuildBatch(IReadOnlyList<OracleRequest> batch, int level = 0)
    {
        if (batch.Count == 1) return Build(batch[0], level);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{batch.Count} questions follow. Answer all of them.").AppendLine();
        foreach (var r in batch)
        {
            sb.AppendLine();
            sb.Append("### Question ").AppendLine(r.AmbNodeId);
            Describe(sb, r, level);
        }
        sb.AppendLine();
        sb.Append("Reply with {\"answers\": [...]}, one entry per amb_node_id.");
        return new Prompt(BatchSystem, sb.ToString(), BatchSchema, "lmn_oracle_answers");
    }

    private static void Describe(StringBuilder sb, OracleRequest r, int level)
    {
        sb.Append("amb_node_id: ").AppendLine(r.AmbNodeId);
        if (r.SourceLocation.Length > 0) sb.Append("Location: ").AppendLine(r.SourceLocation);
        sb.Append("Kind: ").AppendLine(r.Kind == "choice" ? "choice (answer exactly one of the candidates)" : "open (answer any single concrete term)");
        sb.Append("Expression: ").AppendLine(r.Expression);
        if (r.Args.Count > 0)
            sb.Append(r.Kind == "choice" ? "Candidates: " : "Arguments: ").AppendLine(string.Join(", ", r.Args));
        sb.Append("Expected type: ").AppendLine(r.TypeExpected ?? "(none given)");
        if (level >= 2) return;

        sb.AppendLine("Context:");
        if (r.LexicalBindings.Count > 0)
            foreach (var (k, v) in r.LexicalBindings.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                sb.Append("  ").Append(k).Append(" = ").AppendLine(v);
        else
            sb.AppendLine("  (no anchors in scope)");
        var glosses = r.TypeEnvironment.OrderBy(kv => kv.Key, StringComparer.Ordinal).AsEnumerable();
        if (level == 1)
        {
            var keep = new HashSet<string>(r.Args, StringComparer.Ordinal) { Head(r.Expression) };
            glosses = glosses.Where(kv => keep.Contains(kv.Key));
        }
        var gl = glosses.ToList();
        if (gl.Count > 0)
        {
            sb.AppendLine("Type constraints (lexicon glosses):");
            foreach (var (k, v) in gl) sb.Append("  ").Append(k).Append(": ").AppendLine(v);
        }
        if (level >= 1) return;

        if (r.ReductionTrace.Count > 0) sb.Append("Execution trace: ").AppendLine(string.Join(" > ", r.ReductionTrace));
        if (r.OtherAmbNodes.Count > 0 || r.SharedVariables.Count > 0)
            sb.Append("Parallel context: other sites ").Append(r.OtherAmbNodes.Count > 0 ? string.Join(", ", r.OtherAmbNodes) : "none")
              .Append("; shared variables ").AppendLine(r.SharedVariables.Count > 0 ? string.Join(", ", r.SharedVariables) : "none");
    }

    /// <summary>The head word of "∿lov[joy, pai]" ("lov").</summary>
    public static string Head(string expression)
    {
        var s = expression.TrimStart('∿', '~', ' ');
        if (s.StartsWith("amb", StringComparison.Ordinal) && s.Length > 3 && s[3] is ' ' or '[') s = s[3..].TrimStart();
        int b = s.IndexOf('[');
        return b > 0 ? s[..b].Trim() : s.Trim();
    }

    private static JsonElement SingleSchema(OracleRequest r)
    {
        // A choice question pins the answer to the candidates where the provider enforces the schema.
        string sub = r.Kind == "choice" && r.Args.Count > 0
            ? "{\"type\":\"string\",\"enum\":" + JsonSerializer.Serialize(r.Args) + "}"
            : "{\"type\":\"string\"}";
        return JsonDocument.Parse(
            "{\"type\":\"object\",\"properties\":{\"substitution\":" + sub +
            ",\"confidence\":{\"type\":\"number\"},\"reasoning\":{\"type\":\"string\"},\"alternatives_considered\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}," +
            "\"required\":[\"substitution\",\"confidence\",\"reasoning\",\"alternatives_considered\"],\"additionalProperties\":false}").RootElement.Clone();
    }

    private static readonly JsonElement BatchSchema = JsonDocument.Parse(
        "{\"type\":\"object\",\"properties\":{\"answers\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{" +
        "\"amb_node_id\":{\"type\":\"string\"},\"substitution\":{\"type\":\"string\"},\"confidence\":{\"type\":\"number\"},\"reasoning\":{\"type\":\"string\"}," +
        "\"alternatives_considered\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}," +
        "\"required\":[\"amb_node_id\",\"substitution\",\"confidence\",\"reasoning\",\"alternatives_considered\"],\"additionalProperties\":false}}}," +
        "\"required\":[\"answers\"],\"additionalProperties\":false}").RootElement.Clone();
}

/// <summary>One answer read from a model's reply.</summary>
public sealed record ParsedAnswer(string? AmbNodeId, string Substitution, double Confidence, string Reasoning, IReadOnlyList<string> Alternatives);

/// <summary>
/// Reads a model's reply: the JSON the prompt asks for (also inside ``` fences or surrounded by prose),
/// or the seed's text format ("Selected term: / Confidence: / Reasoning: / Alternatives considered:").
/// A confidence that is missing is 0.5; "85%" and 85 are read as 0.85; values are clamped to 0..1.
/// </summary>
public static partial class AnswerParser
{
    public const double UnknownConfidence = 0.5;

    /// <summary>Every answer in the reply (one for a single question); empty when nothing could be read.</summary>
    public static IReadOnlyList<ParsedAnswer> Parse(string text)
    {
        foreach (var json in JsonCandidates(text))
        {
            try
            {
                using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
                var list = FromJson(doc.RootElement);
                if (list.Count > 0) return list;
            }
            catch (JsonException) { }
        }
        return FromText(text);
    }

    private static IEnumerable<string> JsonCandidates(string text)
    {
        var fence = FenceRegex().Match(text);
        if (fence.Success) yield return fence.Groups[1].Value;
        int o = text.IndexOf('{'), c = text.LastIndexOf('}');
        if (o >= 0 && c > o) yield return text[o..(c + 1)];
        int ao = text.IndexOf('['), ac = text.LastIndexOf(']');
        if (ao >= 0 && ac > ao && (o < 0 || ao < o)) yield return text[ao..(ac + 1)];
    }

    private static List<ParsedAnswer> FromJson(JsonElement root)
    {
        var list = new List<ParsedAnswer>();
        if (root.ValueKind == JsonValueKind.Array)
        {
            foreach (var e in root.EnumerateArray()) if (One(e) is { } a) list.Add(a);
            return list;
        }
        if (root.ValueKind != JsonValueKind.Object) return list;
        foreach (var key in new[] { "answers", "parallel_responses", "responses" })
            if (root.TryGetProperty(key, out var arr) && arr.ValueKind == JsonValueKind.Array)
            {
                foreach (var e in arr.EnumerateArray()) if (One(e) is { } a) list.Add(a);
                return list;
            }
        if (One(root) is { } single) list.Add(single);
        return list;
    }

    private static ParsedAnswer? One(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object) return null;
        if (e.TryGetProperty("oracle_response", out var inner) && inner.ValueKind == JsonValueKind.Object) e = inner;
        var meta = e.TryGetProperty("metadata", out var m) && m.ValueKind == JsonValueKind.Object ? m : e;
        string? sub = Str(e, "substitution") ?? Str(e, "selected_term") ?? Str(e, "term") ?? Str(e, "answer");
        if (sub == null) return null;
        double conf = UnknownConfidence;
        if (meta.TryGetProperty("confidence", out var c))
            conf = c.ValueKind == JsonValueKind.Number ? Clamp(c.GetDouble()) : c.ValueKind == JsonValueKind.String ? ReadConfidence(c.GetString()!) : UnknownConfidence;
        var alts = new List<string>();
        if (meta.TryGetProperty("alternatives_considered", out var al) || meta.TryGetProperty("alternatives", out al))
        {
            if (al.ValueKind == JsonValueKind.Array) alts.AddRange(al.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString()! : x.GetRawText()));
            else if (al.ValueKind == JsonValueKind.String) alts.AddRange(SplitList(al.GetString()!));
        }
        return new ParsedAnswer(Str(e, "amb_node_id") ?? Str(e, "id"), CleanTerm(sub), conf, Str(meta, "reasoning") ?? "", alts);
    }

    private static string? Str(JsonElement e, string key) =>
        e.TryGetProperty(key, out var v) ? v.ValueKind == JsonValueKind.String ? v.GetString() : v.ValueKind is JsonValueKind.Number ? v.GetRawText() : null : null;

    private static List<ParsedAnswer> FromText(string text)
    {
        var list = new List<ParsedAnswer>();
        string? id = null, term = null, reasoning = null;
        double conf = UnknownConfidence;
        List<string> alts = [];
        void Flush()
        {
            if (term != null) list.Add(new ParsedAnswer(id, term, conf, reasoning ?? "", alts));
            id = null; term = null; reasoning = null; conf = UnknownConfidence; alts = [];
        }
        foreach (var raw in text.Split('\n'))
        {
            var m = FieldRegex().Match(raw);
            if (!m.Success) continue;
            string field = m.Groups[1].Value.ToLowerInvariant().Replace(' ', '_');
            string value = m.Groups[2].Value.Trim().Trim('*').Trim();
            switch (field)
            {
                case "amb_node_id" or "question" or "id":
                    Flush();
                    id = value;
                    break;
                case "selected_term":
                    if (term != null) Flush();
                    term = CleanTerm(value);
                    break;
                case "confidence":
                    conf = ReadConfidence(value);
                    break;
                case "reasoning":
                    reasoning = value;
                    break;
                case "alternatives_considered" or "alternatives":
                    alts = SplitList(value);
                    break;
            }
        }
        Flush();
        return list;
    }

    private static List<string> SplitList(string s) =>
        s.Trim().TrimStart('[').TrimEnd(']').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(x => x.Trim('"', '\'', '`')).Where(x => x.Length > 0 && !x.Equals("none", StringComparison.OrdinalIgnoreCase)).ToList();

    private static string CleanTerm(string s)
    {
        s = s.Trim();
        if (s.Length >= 2 && (s[0] == '`' && s[^1] == '`' || s[0] == '\'' && s[^1] == '\'')) s = s[1..^1].Trim();
        return s;
    }

    private static double ReadConfidence(string s)
    {
        s = s.Trim();
        bool percent = s.EndsWith('%');
        var m = NumberRegex().Match(s);
        if (!m.Success || !double.TryParse(m.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)) return UnknownConfidence;
        return Clamp(percent ? d / 100 : d);
    }

    private static double Clamp(double d)
    {
        if (double.IsNaN(d)) return UnknownConfidence;
        if (d > 1 && d <= 100) d /= 100;
        return Math.Clamp(d, 0, 1);
    }

    [GeneratedRegex(@"```(?:json)?\s*(.*?)```", RegexOptions.Singleline)]
    private static partial Regex FenceRegex();

    [GeneratedRegex(@"^\s*[-*#>\s]*\**\s*(amb_node_id|question|id|selected term|selected_term|confidence|reasoning|alternatives considered|alternatives_considered|alternatives)\s*\**\s*:\s*\**(.*)$", RegexOptions.IgnoreCase)]
    private static partial Regex FieldRegex();

    [GeneratedRegex(@"[0-9]+(\.[0-9]+)?|\.[0-9]+")]
    private static partial Regex NumberRegex();
}
