using System.Globalization;

namespace Lmn.Front;

/// <summary>A `lmn run` the front runs itself: the program and the options it was given.</summary>
internal sealed class FastRunArgs
{
    /// <summary>The command line as given (for a hand-over after all).</summary>
    public string[] Args { get; set; } = [];
    public string File { get; set; } = "";
    public bool IsHvm { get; set; }
    public bool Stats { get; set; }
    public bool Emit { get; set; }
    public bool NoIo { get; set; }
    public bool Interpret { get; set; }
    public bool Quiet { get; set; }
    public bool NoCache { get; set; }
    public bool Trace { get; set; }
    public string Oracle { get; set; } = "semantic";
    public int? Threads { get; set; }
    public long? MaxMemory { get; set; }
    public List<KeyValuePair<string, string>> Context { get; } = [];
}

/// <summary>
/// Which command lines the front runs itself. Only the well-formed common cases: `run FILE.hvm|FILE.lmn` (a
/// file that exists) with options spelled `--name VALUE`, each at most once (--context repeatable), every
/// value valid. Anything else (another command, help, a bad value, an option for the other kind of file,
/// `--name=VALUE`, standard input, an OTLP endpoint, LMN_DEBUG) is handed to the managed CLI, whose parser
/// and messages are the reference: the front never writes a usage error of its own.
/// </summary>
internal static class FrontArgs
{
    public static FastRunArgs? Parse(string[] args)
    {
        if (args.Length < 2 || args[0] != "run") return null;
        if (Environment.GetEnvironmentVariable("LMN_DEBUG") == "1" || TelemetryConfigured()) return null;
        var r = new FastRunArgs { Args = args };
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? file = null;
        bool lmnOnly = false, hvmOnly = false;
        for (int i = 1; i < args.Length; i++)
        {
            string a = args[i];
            string? name = a switch
            {
                "-s" or "--stats" => "--stats",
                "-t" or "--threads" => "--threads",
                "-q" or "--quiet" => "--quiet",
                "--emit" or "--no-io" or "--interpret" or "--max-memory" or "--context" or "--oracle" or "--no-cache" or "--trace" => a,
                _ => null,
            };
            if (name == null)
            {
                // The one argument: a file, not an option, not standard input.
                if (a.StartsWith('-') || file != null) return null;
                file = a;
                continue;
            }
            if (name != "--context" && !seen.Add(name)) return null;
            string? value = null;
            if (name is "--threads" or "--max-memory" or "--context" or "--oracle" or "--emit")
            {
                if (i + 1 >= args.Length || args[i + 1].StartsWith('-')) return null;
                value = args[++i];
            }
            else if (i + 1 < args.Length && (args[i + 1].Equals("true", StringComparison.OrdinalIgnoreCase) || args[i + 1].Equals("false", StringComparison.OrdinalIgnoreCase)))
                return null; // a flag's explicit value (--stats false): the managed parser's business
            switch (name)
            {
                case "--stats": r.Stats = true; break;
                case "--no-io": r.NoIo = true; break; // accepted (and meaningless) for .lmn too
                case "--interpret": r.Interpret = true; break;
                case "--emit":
                    if (value != "hvm") return null;
                    r.Emit = true; hvmOnly = true; break;
                case "--threads":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int t) || t < 1 || t > 1024) return null;
                    r.Threads = t; break;
                case "--max-memory":
                    if (!TryParseSize(value!, out long m)) return null;
                    r.MaxMemory = m; break;
                case "--quiet": r.Quiet = true; lmnOnly = true; break;
                case "--no-cache": r.NoCache = true; lmnOnly = true; break;
                case "--trace": r.Trace = true; lmnOnly = true; break;
                case "--oracle":
                    if (value is not ("semantic" or "lexicon" or "first")) return null;
                    r.Oracle = value; lmnOnly = true; break;
                case "--context":
                    int eq = value!.IndexOf('=');
                    if (eq <= 0) return null;
                    r.Context.Add(new(value[..eq].TrimStart('@'), value[(eq + 1)..]));
                    lmnOnly = true; break;
                default:
                    throw new InvalidOperationException($"FrontArgs: option {name} is recognised but not handled");
            }
        }
        if (file == null || !File.Exists(file)) return null;
        if (file.EndsWith(".hvm", StringComparison.OrdinalIgnoreCase)) r.IsHvm = true;
        else if (!file.EndsWith(".lmn", StringComparison.OrdinalIgnoreCase)) return null;
        if (r.IsHvm ? lmnOnly : hvmOnly) return null;
        // A shared answer cache (PostgreSQL, Npgsql) is the managed CLI's.
        if (!r.IsHvm && !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("LMN_CACHE_URL"))) return null;
        r.File = file;
        return r;
    }

    /// <summary>512M, 8G, 1024K or a byte count, at most 1 PiB: Commands.ParseSize's accepted values.</summary>
    private static bool TryParseSize(string s, out long size)
    {
        size = 0;
        long mult = 1;
        string num = s;
        if (s.Length > 0 && char.ToUpperInvariant(s[^1]) is 'K' or 'M' or 'G' or 'T')
        {
            mult = char.ToUpperInvariant(s[^1]) switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, _ => 1L << 40 };
            num = s[..^1];
        }
        if (!long.TryParse(num, NumberStyles.None, CultureInfo.InvariantCulture, out long v) || v <= 0 || v > (1L << 50) / mult) return false;
        size = v * mult;
        return true;
    }

    /// <summary>Lmn.Cli's Telemetry.Configured: an OTLP endpoint is set (the managed CLI exports spans).</summary>
    private static bool TelemetryConfigured()
    {
        static string? Env(string n) => Environment.GetEnvironmentVariable(n);
        return !string.Equals(Env("OTEL_SDK_DISABLED"), "true", StringComparison.OrdinalIgnoreCase)
            && (!string.IsNullOrWhiteSpace(Env("OTEL_EXPORTER_OTLP_ENDPOINT"))
                || !string.IsNullOrWhiteSpace(Env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
                || !string.IsNullOrWhiteSpace(Env("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")));
    }
}
