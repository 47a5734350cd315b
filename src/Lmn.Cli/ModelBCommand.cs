using System.Globalization;
using Lmn.Language;
using Lmn.Llm;
using Lmn.Oracles;
using Lmn.Runtime;
using Lmn.Words;

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
    /// <summary>--inputs FILE: a batch run (docs/scaling.md).</summary>
    public string? Inputs { get; private set; }
    public (int I, int N) Shard { get; private set; } = (1, 1);
    public int Jobs { get; private set; } = 1000;
    public int BatchSize { get; private set; } = 50;
    /// <summary>--endpoint URL (repeatable) and --endpoints FILE: an endpoint pool for anthropic and openai.</summary>
    public List<string> Endpoints { get; } = [];
    public string? EndpointsFile { get; private set; }
    /// <summary>--cache-url postgres://...: the shared cache tier (else LMN_CACHE_URL).</summary>
    public string? CacheUrl { get; private set; }
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
          --cache-url URL        a shared answer cache in PostgreSQL behind the local ones
                                 (postgres://user:password@host:port/db; default $LMN_CACHE_URL)
          --endpoint URL         for anthropic and openai: one more endpoint of a pool (repeatable)
          --endpoints FILE       endpoints as JSON lines: url, provider, model, key_env, weight,
                                 max_concurrency, rpm, tpm (docs/scaling.md)

        batch runs (LMN):
          --inputs FILE          run once per input: .jsonl (an object per line) or .csv (header row);
                                 fields are the anchors; one JSON line per input on stdout, in order
          --shard I/N            only the inputs I, I+N, I+2N, ... (1 <= I <= N): N machines split a file
          --jobs N               inputs in progress at once (default 1000)
          --batch-size N         questions per oracle call across inputs (default 50)
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
                if (!OracleOptions.TryParseConfidence(v, out double c))
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
            case "--inputs": Inputs = Commands.Next(args, ref i, a); return true;
            case "--shard": Shard = BatchCommand.ParseShard(Commands.Next(args, ref i, a)); return true;
            case "--jobs": Jobs = Commands.ParseCount(Commands.Next(args, ref i, a), a); return true;
            case "--batch-size": BatchSize = Commands.ParseCount(Commands.Next(args, ref i, a), a); return true;
            case "--endpoint":
            {
                string v = Commands.Next(args, ref i, a);
                if (!Uri.TryCreate(v, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https"))
                    throw new Commands.UsageException($"--endpoint {v}: expected an http or https URL");
                Endpoints.Add(v.TrimEnd('/'));
                return true;
            }
            case "--endpoints": EndpointsFile = Commands.Next(args, ref i, a); return true;
            case "--cache-url": CacheUrl = Commands.Next(args, ref i, a); return true;
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
        if ((Endpoints.Count > 0 || EndpointsFile != null) && Oracle is not ("anthropic" or "openai"))
            throw new Commands.UsageException($"--endpoint and --endpoints need --oracle anthropic or --oracle openai, not {Oracle}");
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
        if (Endpoints.Count > 0 || EndpointsFile != null)
        {
            OracleOptions opts;
            try { opts = OracleOptions.Parse(["--oracle", Oracle, .. ResolverArgs], out _); }
            catch (OracleOptionsException e) { throw new Commands.UsageException(e.Message); }
            var specs = Endpoints.Select(u => new EndpointSpec { Url = u }).ToList();
            if (EndpointsFile != null)
            {
                try { specs.AddRange(EndpointSpec.ReadFile(EndpointsFile)); }
                catch (OracleConfigurationException e) { throw new Commands.UsageException(e.Message); }
            }
            return EndpointPool.Create(opts, specs, new OracleEnvironment { Events = events ?? OracleEvents.None }, BatchSize);
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

/// <summary>What a run needs besides the program: the resolver, the policies, the cache tiers and the transcript.</summary>
public sealed class RunSetup : IDisposable
{
    public IOracle Oracle { get; init; } = null!;
    public OraclePolicies Policies { get; init; } = null!;
    public OracleCache? Cache { get; init; }
    public Transcript? Transcript { get; init; }
    public List<TranscriptEntry>? Resume { get; init; }
    public ModelBOptions Options { get; init; } = null!;
    /// <summary>The setup failed and its message was written: exit 1.</summary>
    public bool Failed { get; init; }

    /// <summary>Warnings that only the end of a run knows (answers that could not be cached).</summary>
    public void Finish(TextWriter stderr)
    {
        if (Cache?.WriteError is { } cacheError)
            stderr.WriteLine($"lmn: warning: --cache-dir {Options.CacheDir}: answers were not cached: {cacheError}");
        Cache?.Shared?.Flush();
        if (Cache?.Shared?.Warning is { } w)
            stderr.WriteLine($"lmn: warning: shared cache {Cache.Shared.Name}: {w}; the run went on with the local cache");
    }

    public void Dispose()
    {
        Transcript?.Dispose();
        Cache?.Shared?.Dispose();
    }
}

/// <summary>`lmn run FILE.lmn`: the Model B supervisor with the oracle pipeline, status line and counters.</summary>
public static class ModelBCommand
{
    /// <summary>Opens the transcript, builds the oracle, the policies and the cache tiers (a failure is written to stderr).</summary>
    public static RunSetup Setup(ModelBOptions o, TextWriter stderr)
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
            return new RunSetup { Failed = true, Options = o };
        }
        var events = transcript == null ? OracleEvents.None : new TranscriptEvents(transcript);
        IOracle oracle;
        try { oracle = o.BuildOracle(events); }
        catch (Exception e) when (e is ProtocolException or OracleConfigurationException)
        {
            transcript?.Dispose();
            stderr.WriteLine($"lmn: {e.Message}");
            return new RunSetup { Failed = true, Options = o };
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
        OracleCache? cache = null;
        if (o.Cache)
        {
            ISharedCacheTier? shared = null;
            string? url = o.CacheUrl ?? Environment.GetEnvironmentVariable("LMN_CACHE_URL");
            if (!string.IsNullOrWhiteSpace(url))
            {
                try { shared = Lmn.Postgres.PostgresCache.Open(url); }
                catch (Lmn.Postgres.PostgresCacheException e)
                {
                    transcript?.Dispose();
                    throw new Commands.UsageException(e.Message);
                }
            }
            cache = new OracleCache(o.CacheDir) { Shared = shared };
        }
        return new RunSetup { Oracle = oracle, Policies = policies, Cache = cache, Transcript = transcript, Resume = resume, Options = o };
    }

    public static int Run(CompiledProgram prog, ModelBOptions o, IReadOnlyDictionary<string, string> context, long maxMemory,
        bool fastCalls, bool stats, TextWriter stdout, TextWriter stderr)
    {
        using var setup = Setup(o, stderr);
        if (setup.Failed) return 1;
        var pipeline = new OraclePipeline(setup.Oracle, new LmnTermChecker(Lexicon.Default), setup.Policies, setup.Cache, setup.Transcript, setup.Resume);
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
        SupervisedRun r;
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
        setup.Finish(stderr);
        if (r.Error != null)
        {
            stderr.WriteLine(r.Error);
            if (stats) { WriteStats(r, stderr); WriteOracleStats(setup.Oracle, setup.Cache, stderr); }
            return 1;
        }
        stdout.WriteLine(r.Output);
        if (stats) { WriteStats(r, stderr); WriteOracleStats(setup.Oracle, setup.Cache, stderr); }
        return 0;
    }

    /// <summary>Per-endpoint counters of an endpoint pool and the shared cache tier's, as `key: value` lines.</summary>
    public static void WriteOracleStats(IOracle oracle, OracleCache? cache, TextWriter w)
    {
        if (oracle is EndpointPool pool)
            foreach (var line in pool.StatsLines()) w.WriteLine(line);
        if (cache?.Shared is { } shared)
            foreach (var line in shared.StatsLines()) w.WriteLine(line);
    }

    private static void WriteStats(SupervisedRun r, TextWriter w)
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
