using System.Globalization;
using Lmn.Language;
using Lmn.Llm;
using Lmn.Oracles;
using Lmn.Runtime;

namespace Lmn.Cli;

/// <summary>The oracle options of `lmn run FILE.lmn` (docs/model-b.md lists them).</summary>
public sealed class ModelBOptions
{
    public string Oracle { get; private set; } = "semantic";
    public string? Transcript { get; private set; }
    public bool Cache { get; private set; } = true;
    public string CacheDir { get; private set; } = CacheCommand.DefaultDirectory;
    public double MinConfidence { get; private set; }
    public InvalidPolicy OnInvalid { get; private set; } = InvalidPolicy.Fail;
    public AmbiguityMode Ambiguity { get; private set; } = AmbiguityMode.Strict;
    public int RecursionLimit { get; private set; } = 3;
    public bool Trace { get; private set; }
    public bool EscalateHuman { get; private set; }
    public int Threads { get; private set; } = Environment.ProcessorCount;
    /// <summary>Options of the LLM, human and process resolvers, handed to <see cref="OracleOptions.Parse"/>.</summary>
    public List<string> ResolverArgs { get; } = [];

    public const string Usage = """
        oracle options (LMN):
          --oracle NAME          semantic (default, offline: sentence embeddings and the lexicon) | lexicon
                                 | first | script:FILE.json | replay:TRANSCRIPT
                                 | anthropic | openai | human | exec:PROGRAM (docs/oracles/)
          --model M, --small-model M2, --base-url URL, --batch, --concurrency N, --timeout S, --retries N
                                 for anthropic and openai (docs/oracles/anthropic.md, openai.md)
          --max-reply-bytes N    exec: the longest reply line accepted (default 16M; docs/oracles/process.md)
          --transcript FILE      append every request, answer, error, retry and cache hit (JSON lines);
                                 rerunning with the same file resumes without asking again
          --no-cache             do not use the answer cache (.lmn/cache)
          --cache-dir DIR        where the answer cache lives (default .lmn/cache)
          --min-confidence X     answers below X (0..1) are low confidence
          --on-invalid POLICY    fail (default) | retry | first | human
          --escalate human       low-confidence answers go to the human oracle
          --ambiguity MODE       strict (default) | recursive[N] | lazy
          --trace                print each question and answer to stderr
          --threads N            reduce on N threads (default: all cores)
        """;

    /// <summary>Consumes an oracle option at args[i]; false if args[i] is not one.</summary>
    public bool TryParse(string[] args, ref int i)
    {
        string a = args[i];
        switch (a)
        {
            case "--oracle": Oracle = Commands.Next(args, ref i, a); return true;
            case "--transcript": Transcript = Commands.Next(args, ref i, a); return true;
            case "--no-cache": Cache = false; return true;
            case "--cache-dir": CacheDir = Commands.Next(args, ref i, a); return true;
            case "--trace": Trace = true; return true;
            case "--min-confidence":
            {
                string v = Commands.Next(args, ref i, a);
                if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double c) || !(c >= 0 && c <= 1))
                    throw new Commands.UsageException($"--min-confidence {v}: expected a number from 0 to 1");
                MinConfidence = c;
                return true;
            }
            case "--on-invalid":
            {
                string v = Commands.Next(args, ref i, a);
                OnInvalid = v switch
                {
                    "fail" => InvalidPolicy.Fail,
                    "retry" => InvalidPolicy.Retry,
                    "first" => InvalidPolicy.First,
                    "human" => InvalidPolicy.Human,
                    _ => throw new Commands.UsageException($"--on-invalid {v}: expected fail, retry, first or human"),
                };
                return true;
            }
            case "--escalate":
            {
                string v = Commands.Next(args, ref i, a);
                if (v != "human") throw new Commands.UsageException($"--escalate {v}: expected human");
                EscalateHuman = true;
                return true;
            }
            case "--ambiguity":
            {
                string v = Commands.Next(args, ref i, a);
                if (v == "strict") Ambiguity = AmbiguityMode.Strict;
                else if (v.StartsWith("recursive", StringComparison.Ordinal))
                {
                    Ambiguity = AmbiguityMode.Recursive;
                    string n = v["recursive".Length..].Trim('[', ']');
                    if (n.Length > 0 && (!int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out int depth) || depth < 1))
                        throw new Commands.UsageException($"--ambiguity {v}: expected recursive[N] with N >= 1");
                    else if (n.Length > 0) RecursionLimit = int.Parse(n, CultureInfo.InvariantCulture);
                }
                else if (v == "lazy") Ambiguity = AmbiguityMode.Lazy;
                else throw new Commands.UsageException($"--ambiguity {v}: expected strict, recursive[N] or lazy");
                return true;
            }
            case "-t" or "--threads": Threads = Commands.ParseThreads(Commands.Next(args, ref i, a)); return true;
            case "--batch":
                ResolverArgs.Add(a);
                return true;
            case "--model" or "--small-model" or "--base-url" or "--concurrency" or "--timeout" or "--retries" or "--max-reply-bytes":
                ResolverArgs.Add(a);
                ResolverArgs.Add(Commands.Next(args, ref i, a));
                return true;
            default: return false;
        }
    }

    /// <summary>The resolver named by --oracle.</summary>
    public IOracle BuildOracle(IOracleEvents? events = null)
    {
        if (Oracle == "semantic") return new Lmn.Semantic.SemanticOracle(Lexicon.Default, Cache ? CacheDir : null);
        if (Oracle == "lexicon") return new LexiconOracle(Lexicon.Default);
        if (Oracle == "first") return new FirstOracle();
        if (Oracle.StartsWith("script:", StringComparison.Ordinal))
        {
            string f = Oracle["script:".Length..];
            if (!File.Exists(f)) throw new Commands.UsageException($"--oracle {Oracle}: no such file {f}");
            return new ScriptOracle(f);
        }
        if (Oracle.StartsWith("replay:", StringComparison.Ordinal))
        {
            string f = Oracle["replay:".Length..];
            if (!File.Exists(f)) throw new Commands.UsageException($"--oracle {Oracle}: no such transcript {f}");
            return new ReplayOracle(f);
        }
        if (Oracle is "anthropic" or "openai" or "human" || Oracle.StartsWith("exec:", StringComparison.Ordinal))
        {
            OracleOptions opts;
            try { opts = OracleOptions.Parse(["--oracle", Oracle, .. ResolverArgs], out _); }
            catch (OracleOptionsException e) { throw new Commands.UsageException(e.Message); }
            return OracleFactory.Create(opts, new OracleEnvironment { Events = events ?? OracleEvents.None });
        }
        throw new Commands.UsageException($"--oracle {Oracle}: expected semantic, lexicon, first, script:FILE.json, replay:TRANSCRIPT, anthropic, openai, human or exec:PROGRAM");
    }
}

/// <summary>`lmn run FILE.lmn`: the Model B supervisor with the oracle pipeline, status line and counters.</summary>
public static class ModelBCommand
{
    public static int Run(CompiledProgram prog, ModelBOptions o, IReadOnlyDictionary<string, string> context, long maxMemory,
        bool fastCalls, bool stats, TextWriter stdout, TextWriter stderr)
    {
        Transcript? transcript = null;
        List<TranscriptEntry>? resume = null;
        try
        {
            if (o.Transcript != null)
            {
                // Open (lock, repair the tail) first, then read what is there through the same handle.
                transcript = new Transcript(o.Transcript, "run-" + DateTimeOffset.UtcNow.ToString("yyyyMMddTHHmmssfff", CultureInfo.InvariantCulture));
                resume = transcript.ReadExisting();
            }
        }
        catch (Exception e) when (e is ProtocolException or IOException or UnauthorizedAccessException)
        {
            transcript?.Dispose();
            stderr.WriteLine($"lmn: --transcript {o.Transcript}: {e.Message}");
            return 1;
        }
        using var _ = transcript;
        var events = transcript == null ? OracleEvents.None : new TranscriptEvents(transcript);
        IOracle oracle;
        try { oracle = o.BuildOracle(events); }
        catch (Exception e) when (e is ProtocolException or OracleConfigurationException)
        {
            stderr.WriteLine($"lmn: {e.Message}");
            return 1;
        }
        var policies = new OraclePolicies
        {
            MinConfidence = o.EscalateHuman && o.MinConfidence == 0 ? 0.5 : o.MinConfidence,
            OnInvalid = o.OnInvalid,
            Ambiguity = o.Ambiguity,
            RecursionLimit = o.RecursionLimit,
            EscalateLowConfidence = o.EscalateHuman,
            Human = o.OnInvalid == InvalidPolicy.Human || o.EscalateHuman ? new HumanOracle(Console.In, Console.Error, events) : null,
        };
        var cache = o.Cache ? new OracleCache(o.CacheDir) : null;
        var pipeline = new OraclePipeline(oracle, new LmnTermChecker(Lexicon.Default), policies, cache, transcript, resume);
        bool terminal = !Console.IsErrorRedirected && ReferenceEquals(stderr, Console.Error);
        var sup = new Supervisor(prog, pipeline, new SupervisorOptions
        {
            Context = context,
            MaxMemory = maxMemory,
            Threads = o.Threads,
            FastCalls = fastCalls,
            Trace = o.Trace ? line => stderr.WriteLine(line) : null,
            Status = terminal ? line => stderr.Write("\r\x1b[2K" + line) : null,
        });
        ModelBResult r;
        try
        {
            r = sup.RunAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (TranscriptWriteException e)
        {
            if (terminal) stderr.Write("\r\x1b[2K");
            stderr.WriteLine($"lmn: --transcript {o.Transcript}: {e.Message}; the run was stopped (a run that cannot be recorded cannot be resumed)");
            return 1;
        }
        if (terminal) stderr.Write("\r\x1b[2K");
        if (cache?.WriteError is { } cacheError)
            stderr.WriteLine($"lmn: warning: --cache-dir {o.CacheDir}: answers were not cached: {cacheError}");
        if (r.Error != null)
        {
            stderr.WriteLine(r.Error);
            if (stats) WriteStats(r, stderr);
            return 1;
        }
        stdout.WriteLine(r.Output);
        if (stats) WriteStats(r, stderr);
        return 0;
    }

    private static void WriteStats(ModelBResult r, TextWriter w)
    {
        var s = r.Oracle;
        w.Write(string.Create(CultureInfo.InvariantCulture, $"""
            interactions: {r.Interactions}
            time: {r.Time.TotalSeconds:F3}s
            mips: {r.Mips:F2}
            rounds: {r.Rounds}
            questions: {s.Questions}
            batches: {s.Batches}
            cache_hits: {s.CacheHits}
            deduplicated: {s.Deduplicated}
            skipped: {r.Skipped}
            retries: {s.Retries}
            fallbacks: {s.Fallbacks}
            oracle_ms: {s.OracleMs}
            tokens: {s.TokensUsed}
            calls_saved_by_cache: {s.CacheHits}
            calls_saved_by_batching: {Math.Max(0, s.Questions - s.Batches)}
            calls_saved_by_dedup: {s.Deduplicated}
            embedding_model_loaded: {(Lmn.Semantic.MiniLmEmbedder.IsLoaded ? "yes" : "no")}

            """));
        // Interactions per rule, as `rule_call: N` lines (rule names lower-case, HVM2's order).
        foreach (var (name, n) in r.Rules.ByName())
            w.Write(string.Create(CultureInfo.InvariantCulture, $"rule_{name.ToLowerInvariant()}: {n}\n"));
    }
}

/// <summary>Writes resolver events (attempts, retries, errors, escalations) to the transcript.</summary>
internal sealed class TranscriptEvents(Transcript transcript) : IOracleEvents
{
    public void Report(OracleEvent e)
    {
        try { transcript.WriteEvent(e); }
        catch (IOException) { }
    }
}
