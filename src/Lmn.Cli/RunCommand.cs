using System.Globalization;
using Lmn.Language;
using Lmn.Llm;
using Lmn.Oracles;
using Lmn.Runtime;
using Lmn.Words;

namespace Lmn.Cli;

/// <summary>The oracle options of `lmn run FILE.lmn` (docs/model-b.md lists them).</summary>
public sealed class RunOptions
{
    public string Oracle { get; set; } = "semantic";
    public string? Transcript { get; set; }
    public bool Cache { get; set; } = true;
    public string CacheDir { get; set; } = CacheCommand.DefaultDirectory;
    public double MinConfidence { get; set; }
    public InvalidPolicy OnInvalid { get; set; } = InvalidPolicy.Fail;
    public AmbiguityMode Ambiguity { get; set; } = AmbiguityMode.Strict;
    public int RecursionLimit { get; set; } = 3;
    public bool Trace { get; set; }
    public bool EscalateHuman { get; set; }
    public int Threads { get; set; } = Environment.ProcessorCount;
    /// <summary>--inputs FILE: a batch run (docs/scaling.md).</summary>
    public string? Inputs { get; set; }
    public (int I, int N) Shard { get; set; } = (1, 1);
    /// <summary>Inputs in progress at once in a batch run; null: <see cref="BatchCommand.DefaultJobs"/>.</summary>
    public int? Jobs { get; set; }
    public int BatchSize { get; set; } = 50;
    /// <summary>--endpoint URL (repeatable) and --endpoints FILE: an endpoint pool for anthropic and openai.</summary>
    public List<string> Endpoints { get; } = [];
    public string? EndpointsFile { get; set; }
    /// <summary>--cache-url postgres://...: the shared cache tier (else LMN_CACHE_URL).</summary>
    public string? CacheUrl { get; set; }
    /// <summary>Options of the LLM, human and process resolvers, handed to <see cref="OracleOptions.Parse"/>.</summary>
    public List<string> ResolverArgs { get; } = [];

    /// <summary>The value of --ambiguity: strict, recursive[N] or lazy, and the recursion limit (default 3).</summary>
    public static (AmbiguityMode Mode, int Limit) ParseAmbiguity(string v)
    {
        if (v == "strict") return (AmbiguityMode.Strict, 3);
        if (v == "lazy") return (AmbiguityMode.Lazy, 3);
        if (v.StartsWith("recursive", StringComparison.Ordinal))
        {
            string n = v["recursive".Length..].Trim('[', ']');
            if (n.Length == 0) return (AmbiguityMode.Recursive, 3);
            if (!int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out int depth) || depth < 1)
                throw new Commands.UsageException($"--ambiguity {v}: expected recursive[N] with N >= 1");
            return (AmbiguityMode.Recursive, depth);
        }
        throw new Commands.UsageException($"--ambiguity {v}: expected strict, recursive[N] or lazy");
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
    public RunOptions Options { get; init; } = null!;
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
        // A process oracle's child ends with the run (after Ctrl+C too), not with the host process.
        if (Oracle is IAsyncDisposable d) d.DisposeAsync().AsTask().GetAwaiter().GetResult();
        else if (Oracle is IDisposable s) s.Dispose();
    }
}

/// <summary>`lmn run FILE.lmn`: the Model B supervisor with the oracle pipeline, status line and counters.</summary>
public static class RunCommand
{
    /// <summary>Opens the transcript, builds the oracle, the policies and the cache tiers (a failure is written to stderr).</summary>
    public static RunSetup Setup(RunOptions o, TextWriter stderr)
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

    public static int Run(CompiledProgram prog, RunOptions o, IReadOnlyDictionary<string, string> context, long maxMemory,
        bool fastCalls, bool stats, TextWriter stdout, TextWriter stderr, CancellationToken cancellation = default)
    {
        using var setup = Setup(o, stderr);
        if (setup.Failed) return 1;
        var pipeline = new OraclePipeline(setup.Oracle, new LmnTermChecker(Lexicon.Default), setup.Policies, setup.Cache, setup.Transcript, setup.Resume);
        var side = new RunCore.OracleSide
        {
            Finish = setup.Finish,
            Stats = w => WriteOracleStats(setup.Oracle, setup.Cache, w),
            EmbeddingModelLoaded = () => Lmn.Semantic.MiniLmEmbedder.IsLoaded,
            Transcript = o.Transcript,
        };
        return RunCore.Supervise(prog, pipeline, side, context, maxMemory, o.Threads, fastCalls, o.Trace, stats, stdout, stderr, cancellation);
    }

    /// <summary>Per-endpoint counters of an endpoint pool and the shared cache tier's, as `key: value` lines.</summary>
    public static void WriteOracleStats(IOracle oracle, OracleCache? cache, TextWriter w)
    {
        if (oracle is EndpointPool pool)
            foreach (var line in pool.StatsLines()) w.WriteLine(line);
        if (cache?.Shared is { } shared)
            foreach (var line in shared.StatsLines()) w.WriteLine(line);
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
