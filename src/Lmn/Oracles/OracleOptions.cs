using System.Globalization;
using Lmn.Words;

namespace Lmn.Oracles;

/// <summary>Which resolver answers the questions.</summary>
public enum OracleKind { Semantic, Lexicon, Anthropic, OpenAI, Human, Exec, Script, Replay }

/// <summary>A bad oracle option: a usage error (exit 2) whose message names the option.</summary>
public sealed class OracleOptionsException(string message) : Exception(message);

/// <summary>
/// The oracle options of `lmn run` and `lmn oracle-ask`:
/// `--oracle semantic|lexicon|anthropic|openai|human|exec:CMD|script:FILE|replay:FILE`, `--model M`,
/// `--small-model M`, `--base-url URL`, `--batch`, `--concurrency N`, `--timeout T`, `--retries N`,
/// `--escalate human`, `--min-confidence C`. Both `--opt value` and `--opt=value` are accepted.
/// </summary>
public sealed record OracleOptions
{
    public OracleKind Kind { get; init; } = OracleKind.Semantic;
    /// <summary>The text after "exec:", "script:" or "replay:".</summary>
    public string? Target { get; init; }
    public string? Model { get; init; }
    public string? SmallModel { get; init; }
    public string? BaseUrl { get; init; }
    public bool Batch { get; init; }
    public int Concurrency { get; init; } = 4;
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);
    public int Retries { get; init; } = 4;
    /// <summary>"human" or null.</summary>
    public string? Escalate { get; init; }
    public double MinConfidence { get; init; }
    /// <summary>The process oracle's longest reply line in bytes.</summary>
    public int MaxReplyBytes { get; init; } = ProcessOracle.DefaultMaxReplyBytes;

    /// <summary>The option names this parser takes (for a caller that merges option tables).</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["--oracle", "--model", "--small-model", "--base-url", "--batch", "--concurrency", "--timeout", "--retries", "--escalate", "--min-confidence", "--max-reply-bytes"];

    public const string Help = """
        oracle options:
          --oracle NAME         semantic (default), lexicon, anthropic, openai, human, exec:'PROGRAM ARGS',
                                script:FILE, replay:FILE
          --model M             model of the LLM oracle (anthropic: claude-sonnet-4-5, openai: gpt-4o-mini)
          --small-model M       cheaper model for easy questions (<= 4 candidates, short context)
          --base-url URL        API endpoint (anthropic: without /v1; openai-compatible: with /v1)
          --batch               ask all ready questions of a round in one LLM call
          --concurrency N       calls in flight at once when not batching (default 4)
          --timeout T           per call: 30, 30s, 1500ms or 2m (default 60s)
          --retries N           retries after a failed call (default 4)
          --escalate human      hand low-confidence answers and errors to the human oracle
          --min-confidence C    confidence threshold 0..1 for escalation and validation (default 0)
          --max-reply-bytes N   exec: the longest reply line accepted, e.g. 65536, 512K or 64M (default 16M)
        """;

    /// <summary>Takes the oracle options out of args; everything else is returned in order in rest.</summary>
    public static OracleOptions Parse(IReadOnlyList<string> args, out List<string> rest)
    {
        var o = new OracleOptions();
        rest = [];
        bool sawMinConfidence = false;
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            string name = a;
            string? inline = null;
            int eq = a.IndexOf('=');
            if (a.StartsWith("--", StringComparison.Ordinal) && eq > 2)
            {
                name = a[..eq];
                inline = a[(eq + 1)..];
            }
            if (!Names.Contains(name))
            {
                rest.Add(a);
                continue;
            }
            if (name == "--batch")
            {
                if (inline != null) throw new OracleOptionsException("--batch takes no value");
                o = o with { Batch = true };
                continue;
            }
            string v = inline ?? (i + 1 < args.Count ? args[++i] : throw new OracleOptionsException($"{name} needs a value"));
            o = name switch
            {
                "--oracle" => WithOracle(o, v),
                "--model" => o with { Model = NonEmpty(name, v) },
                "--small-model" => o with { SmallModel = NonEmpty(name, v) },
                "--base-url" => o with { BaseUrl = Url(v) },
                "--concurrency" => o with { Concurrency = Int(name, v, 1, 256) },
                "--retries" => o with { Retries = Int(name, v, 0, 20) },
                "--timeout" => o with { Timeout = Duration(name, v) },
                "--escalate" => v == "human" ? o with { Escalate = "human" } : throw new OracleOptionsException($"--escalate takes 'human', got '{v}'"),
                "--min-confidence" => o with { MinConfidence = Confidence(v) },
                "--max-reply-bytes" => o with { MaxReplyBytes = Bytes(name, v) },
                _ => throw new System.Diagnostics.UnreachableException(name),
            };
            if (name == "--min-confidence") sawMinConfidence = true;
        }
        if (o.SmallModel != null && o.Kind is not (OracleKind.Anthropic or OracleKind.OpenAI))
            throw new OracleOptionsException("--small-model needs --oracle anthropic or --oracle openai");
        if (o.Escalate != null && o.Kind == OracleKind.Human)
            throw new OracleOptionsException("--escalate human: the oracle is already the human one");
        if (o.Escalate != null && !sawMinConfidence)
            o = o with { MinConfidence = 0.5 };
        return o;
    }

    private static OracleOptions WithOracle(OracleOptions o, string v)
    {
        int colon = v.IndexOf(':');
        string head = colon < 0 ? v : v[..colon];
        string? target = colon < 0 ? null : v[(colon + 1)..];
        var kind = head switch
        {
            "semantic" => OracleKind.Semantic,
            "lexicon" => OracleKind.Lexicon,
            "anthropic" or "claude" => OracleKind.Anthropic,
            "openai" => OracleKind.OpenAI,
            "human" => OracleKind.Human,
            "exec" => OracleKind.Exec,
            "script" => OracleKind.Script,
            "replay" => OracleKind.Replay,
            _ => throw new OracleOptionsException($"unknown oracle '{v}': expected semantic, lexicon, anthropic, openai, human, exec:PROGRAM, script:FILE or replay:FILE"),
        };
        bool needsTarget = kind is OracleKind.Exec or OracleKind.Script or OracleKind.Replay;
        if (needsTarget && string.IsNullOrWhiteSpace(target))
            throw new OracleOptionsException($"--oracle {head}: needs {(kind == OracleKind.Exec ? "a program, e.g. exec:'python3 my_oracle.py'" : "a file, e.g. " + head + ":answers.jsonl")}");
        if (kind == OracleKind.Exec)
        {
            try
            {
                if (ProcessOracle.SplitCommandLine(target!).Count == 0)
                    throw new OracleOptionsException($"--oracle {v}: needs a program, e.g. exec:'python3 my_oracle.py'");
            }
            catch (ArgumentException e) { throw new OracleOptionsException($"--oracle {v}: {e.Message}"); }
        }
        if (!needsTarget && target != null)
            throw new OracleOptionsException($"--oracle {head} takes nothing after ':'");
        return o with { Kind = kind, Target = target };
    }

    private static string NonEmpty(string name, string v) =>
        string.IsNullOrWhiteSpace(v) ? throw new OracleOptionsException($"{name} needs a value") : v;

    private static string Url(string v) =>
        Uri.TryCreate(v, UriKind.Absolute, out var u) && (u.Scheme == "http" || u.Scheme == "https")
            ? v.TrimEnd('/')
            : throw new OracleOptionsException($"--base-url needs an http or https URL, got '{v}'");

    private static int Int(string name, string v, int min, int max) =>
        int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= min && n <= max
            ? n
            : throw new OracleOptionsException($"{name} needs a whole number from {min} to {max}, got '{v}'");

    /// <summary>A byte count from 1K to 1G: a plain number, or with K, M or G.</summary>
    private static int Bytes(string name, string v)
    {
        long mult = 1;
        string num = v;
        if (v.Length > 0 && char.ToUpperInvariant(v[^1]) is 'K' or 'M' or 'G')
        {
            mult = char.ToUpperInvariant(v[^1]) switch { 'K' => 1L << 10, 'M' => 1L << 20, _ => 1L << 30 };
            num = v[..^1];
        }
        if (long.TryParse(num, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n <= (1L << 30) / mult && n * mult >= 1024)
            return (int)(n * mult);
        throw new OracleOptionsException($"{name} needs a size from 1K to 1G, such as 65536, 512K or 64M, got '{v}'");
    }

    private static double Confidence(string v) =>
        TryParseConfidence(v, out double c) ? c : throw new OracleOptionsException($"--min-confidence needs a number from 0 to 1, got '{v}'");

    /// <summary>The one parser of a confidence threshold (`--min-confidence`): a number from 0 to 1.</summary>
    public static bool TryParseConfidence(string v, out double confidence) =>
        double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out confidence) && confidence >= 0 && confidence <= 1;

    /// <summary>"30" and "30s" are seconds, "1500ms" milliseconds, "2m" minutes.</summary>
    public static TimeSpan Duration(string name, string v)
    {
        (string num, double scale) = v.EndsWith("ms", StringComparison.Ordinal) ? (v[..^2], 0.001)
            : v.EndsWith('s') ? (v[..^1], 1.0)
            : v.EndsWith('m') ? (v[..^1], 60.0)
            : (v, 1.0);
        if (double.TryParse(num, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && d > 0 && d * scale <= 24 * 3600)
            return TimeSpan.FromSeconds(d * scale);
        throw new OracleOptionsException($"{name} needs a duration such as 30, 30s, 1500ms or 2m, got '{v}'");
    }
}
