using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.RegularExpressions;
using Lmn.Net;
using Lmn.Llm;
using Lmn.Oracles;

namespace Lmn.Cli;

/// <summary>What an invocation of the command line writes to and listens to.</summary>
public sealed class CliContext
{
    public TextWriter Out { get; init; } = Console.Out;
    public TextWriter Err { get; init; } = Console.Error;
    /// <summary>Ctrl+C (SIGINT) and SIGTERM: the run stops, the transcript is flushed, exit 130.</summary>
    public CancellationToken Cancellation { get; init; }
    /// <summary>`lmn oracle-ask`'s environment (tests hand in piped human input, keys, fast retries).</summary>
    public OracleEnvironment? AskEnvironment { get; init; }
    /// <summary>Standard input (`lmn run -`, the REPL, `oracle-ask --request -`).</summary>
    public TextReader In { get; init; } = Console.In;
}

/// <summary>
/// The `lmn` command line, declared once on System.CommandLine: every command and option, its help text
/// (generated: `lmn CMD --help`, `lmn help CMD`), completion (`[suggest]` for dotnet-suggest). Exit codes:
/// 0 ok, 1 bad input or a runtime fault, 2 bad usage, 130 interrupted.
/// </summary>
public static partial class LmnCommandLine
{
    public const int ExitUsage = 2;
    public const int ExitInterrupted = 130;

    // ---- option factories: each option is declared here once and added to the commands that take it ----

    private static T Value<T>(ArgumentResult r, Func<string, T> parse)
    {
        if (r.Tokens.Count == 0) return default!;
        try { return parse(r.Tokens[^1].Value); }
        catch (Commands.UsageException e)
        {
            r.AddError(e.Message);
            return default!;
        }
    }

    private static Option<int> Count(string name, string description, int def, int min = 1, string help = "N") => new(name)
    {
        // The help prints [default: N] itself.
        Description = WithoutDefault(description), HelpName = help, DefaultValueFactory = _ => def,
        CustomParser = r => Value(r, s => Commands.ParseCount(s, name, min)),
    };

    private static string WithoutDefault(string description)
    {
        int i = description.IndexOf(" (default ", StringComparison.Ordinal);
        int j = i < 0 ? -1 : description.IndexOf(')', i);
        return j < 0 ? description : description[..i] + description[(j + 1)..];
    }

    private static Option<string?> Text(string name, string description, string help, params string[] aliases) => new(name, aliases)
    {
        Description = description, HelpName = help,
    };

    private static Option<bool> Flag(string name, string description, params string[] aliases) => new(name, aliases) { Description = description };

    private static Option<long?> MaxMemory(string name = "--max-memory") => new(name)
    {
        Description = "limit on the net's memory, e.g. 512M or 8G (default 4G)", HelpName = "SIZE",
        CustomParser = r => Value<long?>(r, s => Commands.ParseSize(s)),
    };

    private static Option<int?> Threads() => new("--threads", "-t")
    {
        Description = "reduce on N threads (default: all cores); same result and ITRS at any N", HelpName = "N",
        CustomParser = r => Value<int?>(r, s => Commands.ParseThreads(s)),
    };

    private static long MemoryOf(ParseResult p, Option<long?> o) => p.GetValue(o) ?? Engine.DefaultMaxMemory;

    private static int ThreadsOf(ParseResult p, Option<int?> o) => p.GetValue(o) ?? Environment.ProcessorCount;

    private static Option<List<KeyValuePair<string, string>>> Context() => new("--context")
    {
        Description = "bind the anchor @NAME (repeatable): VALUE is an LMN word, number or compound when it is exactly one, otherwise the text itself, as a string",
        HelpName = "NAME=VALUE", Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = false,
        DefaultValueFactory = _ => [],
        CustomParser = r =>
        {
            var list = new List<KeyValuePair<string, string>>();
            foreach (var t in r.Tokens)
            {
                try { list.Add(Commands.ContextPair(t.Value, "--context")); }
                catch (Commands.UsageException e) { r.AddError(e.Message); }
            }
            return list;
        },
    };

    private static Option<List<KeyValuePair<string, string>>> ContextFile() => new("--context-file")
    {
        Description = "a JSON object {\"NAME\": value} (strings, numbers, lists, objects as compounds), or lines of NAME=VALUE (# comments allowed)",
        HelpName = "FILE", Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = false,
        DefaultValueFactory = _ => [],
        CustomParser = r =>
        {
            var list = new List<KeyValuePair<string, string>>();
            foreach (var t in r.Tokens)
            {
                try
                {
                    if (!File.Exists(t.Value)) throw new Commands.UsageException($"--context-file {t.Value}: no such file");
                    list.AddRange(LmnCommands.ReadContextFile(t.Value));
                }
                catch (Commands.UsageException e) { r.AddError(e.Message); }
            }
            return list;
        },
    };

    private static Argument<string> FileArgument(string description) => new("FILE") { Description = description, Arity = ArgumentArity.ExactlyOne };

    /// <summary>The LMN options of run, check, compile and repl (besides the oracle options).</summary>
    internal sealed class LmnOptionSet
    {
        public readonly Option<List<KeyValuePair<string, string>>> Context = LmnCommandLine.Context();
        public readonly Option<List<KeyValuePair<string, string>>> ContextFile = LmnCommandLine.ContextFile();
        public readonly Option<long?> MaxMemory = LmnCommandLine.MaxMemory();
        public readonly Option<bool> Interpret = Flag("--interpret", "the reference interpreter: plain copying, no compiled definitions; for checking");
        public readonly Option<bool> Quiet = Flag("--quiet", "do not print warnings", "-q");

        public void AddTo(Command c)
        {
            c.Add(Context); c.Add(ContextFile); c.Add(MaxMemory); c.Add(Interpret); c.Add(Quiet);
        }

        /// <summary>--context-file bindings first, then --context ones (the later binding of a name wins).</summary>
        public List<KeyValuePair<string, string>> Bindings(ParseResult p) => [.. p.GetValue(ContextFile)!, .. p.GetValue(Context)!];
    }

    /// <summary>The oracle options (docs/model-b.md) and, for `run`, the batch options (docs/scaling.md).</summary>
    internal sealed class OracleOptionSet
    {
        public readonly Option<string> Oracle = new("--oracle")
        {
            Description = "semantic (offline: sentence embeddings and the lexicon) | lexicon | first | script:FILE.json | replay:TRANSCRIPT | anthropic | openai | human | exec:PROGRAM (docs/oracles/)",
            HelpName = "NAME", DefaultValueFactory = _ => "semantic",
        };
        public readonly Option<string?> Transcript = Text("--transcript", "append every request, answer, error, retry and cache hit (JSON lines); rerunning with the same file resumes without asking again", "FILE");
        public readonly Option<bool> NoCache = Flag("--no-cache", "do not use the answer cache (.lmn/cache)");
        public readonly Option<string> CacheDir = new("--cache-dir") { Description = "where the answer cache lives", HelpName = "DIR", DefaultValueFactory = _ => CacheCommand.DefaultDirectory };
        public readonly Option<double> MinConfidence = new("--min-confidence")
        {
            Description = "answers below X (0..1) are low confidence", HelpName = "X",
            CustomParser = r => Value(r, v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double c) && c >= 0 && c <= 1
                ? c : throw new Commands.UsageException($"--min-confidence {v}: expected a number from 0 to 1")),
        };
        public readonly Option<InvalidPolicy?> OnInvalid = new("--on-invalid")
        {
            Description = "fail (default) | retry | first | human", HelpName = "POLICY",
            CustomParser = r => Value<InvalidPolicy?>(r, v => v switch
            {
                "fail" => InvalidPolicy.Fail,
                "retry" => InvalidPolicy.Retry,
                "first" => InvalidPolicy.First,
                "human" => InvalidPolicy.Human,
                _ => throw new Commands.UsageException($"--on-invalid {v}: expected fail, retry, first or human"),
            }),
        };
        // A string, not a bool: a bool option takes only true or false, and the value here is the word `human`.
        public readonly Option<string?> Escalate = new("--escalate")
        {
            Description = "low-confidence answers go to the human oracle (--escalate human)", HelpName = "human",
            CustomParser = r => Value<string?>(r, v => v == "human" ? v : throw new Commands.UsageException($"--escalate {v}: expected human")),
        };
        public readonly Option<(AmbiguityMode Mode, int Limit)?> Ambiguity = new("--ambiguity")
        {
            Description = "strict (default) | recursive[N] | lazy", HelpName = "MODE",
            CustomParser = r => Value<(AmbiguityMode, int)?>(r, v => RunOptions.ParseAmbiguity(v)),
        };
        public readonly Option<bool> Trace = Flag("--trace", "print each question and answer to stderr");
        public readonly Option<string?> CacheUrl = Text("--cache-url", "a shared answer cache in PostgreSQL behind the local ones (postgres://user:password@host:port/db; default $LMN_CACHE_URL)", "URL");
        public readonly Option<List<string>> Endpoint = new("--endpoint")
        {
            Description = "for anthropic and openai: one more endpoint of a pool (repeatable)", HelpName = "URL",
            Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = false, DefaultValueFactory = _ => [],
            CustomParser = r =>
            {
                var list = new List<string>();
                foreach (var t in r.Tokens)
                {
                    if (!Uri.TryCreate(t.Value, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https"))
                        r.AddError($"--endpoint {t.Value}: expected an http or https URL");
                    else list.Add(t.Value.TrimEnd('/'));
                }
                return list;
            },
        };
        public readonly Option<string?> Endpoints = Text("--endpoints", "endpoints as JSON lines: url, provider, model, key_env, weight, max_concurrency, rpm, tpm (docs/scaling.md)", "FILE");
        // Resolver options, checked by OracleOptions.Parse (their wording is the resolvers').
        public readonly Option<string?> Model = Text("--model", "model of the LLM oracle (anthropic, openai)", "M");
        public readonly Option<string?> SmallModel = Text("--small-model", "cheaper model for easy questions (<= 4 candidates, short context)", "M");
        public readonly Option<string?> BaseUrl = Text("--base-url", "API endpoint (anthropic: without /v1; openai-compatible: with /v1)", "URL");
        public readonly Option<bool> Batch = Flag("--batch", "ask all ready questions of a round in one LLM call");
        public readonly Option<string?> Concurrency = Text("--concurrency", "calls in flight at once when not batching (default 4)", "N");
        public readonly Option<string?> Timeout = Text("--timeout", "per call: 30, 30s, 1500ms or 2m (default 60s)", "T");
        public readonly Option<string?> Retries = Text("--retries", "retries after a failed call (default 4)", "N");
        public readonly Option<string?> MaxReplyBytes = Text("--max-reply-bytes", "exec: the longest reply line accepted, e.g. 65536, 512K or 64M (default 16M; docs/oracles/process.md)", "N");

        // Batch runs (run only).
        public readonly Option<string?> Inputs = Text("--inputs", "run once per input: .jsonl (an object per line) or .csv (header row); fields are the anchors; one JSON line per input on stdout, in order", "FILE");
        public readonly Option<(int, int)?> Shard = new("--shard")
        {
            Description = "only the inputs I, I+N, I+2N, ... (1 <= I <= N): N machines split a file", HelpName = "I/N",
            CustomParser = r => Value<(int, int)?>(r, v => BatchCommand.ParseShard(v)),
        };
        public readonly Option<int?> Jobs = new("--jobs")
        {
            Description = "inputs in progress at once (default: enough to keep the oracle busy: four batches for an in-process oracle, two per call slot of an endpoint pool, else 1000)",
            HelpName = "N",
            CustomParser = r => Value<int?>(r, s => Commands.ParseCount(s, "--jobs", 1)),
        };
        public readonly Option<int> BatchSize = Count("--batch-size", "questions per oracle call across inputs (default 50)", 50);

        private readonly bool _batch;

        public OracleOptionSet(bool batch) => _batch = batch;

        private IEnumerable<Option> Resolver => [Model, SmallModel, BaseUrl, Batch, Concurrency, Timeout, Retries, MaxReplyBytes];

        /// <summary>Every option of the set, as added by <see cref="AddTo"/>.</summary>
        public IEnumerable<Option> All =>
            [Oracle, Transcript, NoCache, CacheDir, MinConfidence, OnInvalid, Escalate, Ambiguity, Trace, CacheUrl, Endpoint, Endpoints, .. Resolver,
             .. (_batch ? new Option[] { Inputs, Shard, Jobs, BatchSize } : [])];

        public void AddTo(Command c)
        {
            foreach (var o in new Option[] { Oracle, Transcript, NoCache, CacheDir, MinConfidence, OnInvalid, Escalate, Ambiguity, Trace, CacheUrl, Endpoint, Endpoints }) c.Add(o);
            foreach (var o in Resolver) c.Add(o);
            if (_batch) foreach (var o in new Option[] { Inputs, Shard, Jobs, BatchSize }) c.Add(o);
        }

        /// <summary>The resolver options as given, in OracleOptions' syntax.</summary>
        public List<string> ResolverArgs(ParseResult p)
        {
            var list = new List<string>();
            foreach (var o in Resolver)
            {
                var r = p.GetResult(o);
                if (r == null || r.Implicit) continue;
                if (o == Batch) { if (p.GetValue(Batch)) list.Add("--batch"); continue; }
                list.Add(o.Name);
                list.Add(r.Tokens[^1].Value);
            }
            return list;
        }

        public RunOptions Read(ParseResult p, int threads)
        {
            var (mode, limit) = p.GetValue(Ambiguity) ?? (AmbiguityMode.Strict, 3);
            var o = new RunOptions
            {
                Oracle = p.GetValue(Oracle)!,
                Transcript = p.GetValue(Transcript),
                Cache = !p.GetValue(NoCache),
                CacheDir = p.GetValue(CacheDir)!,
                MinConfidence = p.GetValue(MinConfidence),
                OnInvalid = p.GetValue(OnInvalid) ?? InvalidPolicy.Fail,
                EscalateHuman = p.GetValue(Escalate) == "human",
                Ambiguity = mode,
                RecursionLimit = limit,
                Trace = p.GetValue(Trace),
                CacheUrl = p.GetValue(CacheUrl),
                EndpointsFile = p.GetValue(Endpoints),
                Threads = threads,
            };
            o.Endpoints.AddRange(p.GetValue(Endpoint)!);
            o.ResolverArgs.AddRange(ResolverArgs(p));
            if (_batch)
            {
                o.Inputs = p.GetValue(Inputs);
                o.Shard = p.GetValue(Shard) ?? (1, 1);
                o.Jobs = p.GetValue(Jobs);
                o.BatchSize = p.GetValue(BatchSize);
            }
            return o;
        }
    }

    // ---- the commands ----

    /// <summary>The top-level commands, in the order of the help; each built only when it is needed.</summary>
    private static readonly (string Name, Func<CliContext, Command> Make)[] TopLevel =
    [
        ("run", RunCommand),
        ("fmt", FmtCommand),
        ("check", cli => CheckCommand(cli, "check", "report errors and warnings only")),
        ("compile", cli => CheckCommand(cli, "compile", "print the compiled book as HVM2 text (--emit hvm) or as a readable dump with the data tags and the oracle site table (--emit net, the default)")),
        ("words", WordsCommand),
        ("repl", ReplCommandLine),
        ("viz", VizCommandLine),
        ("debug", DebugCommandLine),
        ("cache", CacheCommandLine),
        ("bench", BenchCommand),
        ("bench-child", BenchChildCommand),
        ("compile-shapes-child", CompileShapesChildCommand),
        ("oracle-ask", OracleAskCommandLine),
        ("version", VersionCommand),
        ("help", HelpCommand),
    ];

    /// <summary>The whole command tree; actions write to <paramref name="cli"/>'s writers.</summary>
    public static RootCommand Build(CliContext cli) => Build(cli, null);

    /// <summary>
    /// The tree with every command, or (startup: declaring every option of every command costs milliseconds)
    /// with only the command named <paramref name="only"/> when that is one.
    /// </summary>
    public static RootCommand Build(CliContext cli, string? only)
    {
        var root = new RootCommand("lmn: an interaction-net runtime (HVM2 .hvm and LMN .lmn programs) with oracles for ∿ ambiguity sites");
        root.HelpName = "lmn";
        if (!root.Directives.OfType<System.CommandLine.Completions.SuggestDirective>().Any()) root.Add(new System.CommandLine.Completions.SuggestDirective());
        bool one = only != null && TopLevel.Any(t => t.Name == only);
        foreach (var (name, make) in TopLevel)
            if (!one || name == only) root.Add(make(cli));
        return root;
    }

    private static Command VersionCommand(CliContext cli)
    {
        var version = new Command("version", "print the version");
        version.SetAction(_ => { cli.Out.WriteLine("lmn " + VersionText); return 0; });
        return version;
    }

    private static Command HelpCommand(CliContext cli)
    {
        var help = new Command("help", "show the help of lmn or of a command: lmn help CMD");
        var helpArgs = new Argument<string[]>("COMMAND") { Arity = ArgumentArity.ZeroOrMore, Description = "the command, e.g. run or bench oracle" };
        help.Add(helpArgs);
        help.SetAction(p => Execute([.. p.GetValue(helpArgs)!, "--help"], cli));
        return help;
    }

    public static string VersionText => typeof(LmnCommandLine).Assembly.GetName().Version?.ToString(3) ?? "0";

    private static Command RunCommand(CliContext cli)
    {
        var c = new Command("run", "run FILE.hvm (reduce @main to normal form, print `Result: <tree>`) or FILE.lmn (check, compile, reduce main with the oracles, print its value); FILE - reads the program from standard input");
        var file = FileArgument("the program: .hvm, .lmn, or - for standard input");
        var stats = Flag("--stats", ".hvm: also print HVM2's `- ITRS`, `- TIME`, `- MIPS` lines and `- RULE: N` per rule; .lmn: counters on stderr as `key: value` lines", "-s");
        var emit = new Option<string?>("--emit") { Description = ".hvm: print the parsed book as canonical .hvm text instead of running it", HelpName = "hvm" };
        emit.Validators.Add(r => { if (r.Tokens.Count > 0 && r.Tokens[^1].Value != "hvm") r.AddError($"--emit {r.Tokens[^1].Value}: expected 'hvm'"); });
        var noIo = Flag("--no-io", ".hvm: reduce only; skip HVM2's IO loop");
        var threads = Threads();
        var lmn = new LmnOptionSet();
        var oracle = new OracleOptionSet(batch: true);
        c.Add(file); c.Add(stats); c.Add(emit); c.Add(noIo); c.Add(threads);
        lmn.AddTo(c);
        oracle.AddTo(c);
        c.SetAction(p =>
        {
            string path = p.GetValue(file)!;
            var source = ReadProgram(path, cli, out bool isHvm);
            if (source == null) return 1;
            if (isHvm)
            {
                // The LMN and oracle options mean nothing to a .hvm book: a usage error, as before.
                foreach (var lmnOnly in oracle.All.Concat([lmn.Context, lmn.ContextFile, lmn.Quiet]))
                    if (p.GetResult(lmnOnly) is { Implicit: false })
                        throw new Commands.UsageException($"{lmnOnly.Name}: an option for .lmn programs, not for {(path == "-" ? StdinName : path)} (a .hvm book)");
                var o = new Commands.RunOptions
                {
                    File = path, Stats = p.GetValue(stats), Emit = p.GetValue(emit), MaxMemory = MemoryOf(p, lmn.MaxMemory),
                    Io = !p.GetValue(noIo), Interpret = p.GetValue(lmn.Interpret), Threads = ThreadsOf(p, threads),
                };
                return Commands.RunHvm(o, source, cli);
            }
            if (p.GetValue(emit) != null) throw new Commands.UsageException("--emit: for .hvm files; use lmn compile FILE.lmn --emit hvm|net");
            var mo = oracle.Read(p, ThreadsOf(p, threads));
            var mem = p.GetValue(lmn.MaxMemory);
            return LmnCommands.Run(source, lmn.Bindings(p), mo, mem, !p.GetValue(lmn.Interpret), p.GetValue(stats), p.GetValue(lmn.Quiet), cli);
        });
        return c;
    }

    /// <summary>
    /// The program text of FILE, or of standard input for "-" (named &lt;stdin&gt; in messages; a .hvm book
    /// when its first non-blank line is `@name = ...`). Null, with the message written, when it cannot be read.
    /// </summary>
    internal static Lmn.Text.SourceText? ReadProgram(string path, CliContext cli, out bool isHvm)
    {
        if (path == "-")
        {
            string text = cli.In.ReadToEnd();
            string? first = text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0);
            isHvm = first != null && HvmHead().IsMatch(first);
            return new Lmn.Text.SourceText(StdinName, text);
        }
        isHvm = !path.EndsWith(".lmn", StringComparison.OrdinalIgnoreCase);
        if (!File.Exists(path))
        {
            cli.Err.WriteLine($"lmn: {path}: no such file");
            return null;
        }
        if (isHvm && !path.EndsWith(".hvm", StringComparison.OrdinalIgnoreCase))
        {
            cli.Err.WriteLine($"lmn: {path}: expected a .hvm or .lmn file");
            return null;
        }
        return Lmn.Text.SourceText.FromFile(path);
    }

    public const string StdinName = "<stdin>";

    [GeneratedRegex(@"^@[A-Za-z0-9_.\-/]+\s*=")]
    private static partial Regex HvmHead();

    private static Command FmtCommand(CliContext cli)
    {
        var c = new Command("fmt", "print the book in canonical .hvm text (same as run --emit hvm)");
        var file = FileArgument("the .hvm program (- for standard input)");
        c.Add(file);
        c.SetAction(p =>
        {
            string path = p.GetValue(file)!;
            var source = ReadProgram(path, cli, out _);
            if (source == null) return 1;
            return Commands.RunHvm(new Commands.RunOptions { File = path, Emit = "hvm" }, source, cli);
        });
        return c;
    }

    private static Command CheckCommand(CliContext cli, string name, string description)
    {
        var c = new Command(name, description);
        var file = FileArgument("the .lmn program");
        var stats = Flag("--stats", "accepted for symmetry with run", "-s");
        stats.Hidden = true;
        var noIo = Flag("--no-io", "accepted for symmetry with run");
        noIo.Hidden = true;
        var lmn = new LmnOptionSet();
        c.Add(file); c.Add(stats); c.Add(noIo);
        lmn.AddTo(c);
        Option<string?>? emit = null;
        if (name == "compile")
        {
            emit = new Option<string?>("--emit") { Description = "hvm: HVM2 text; net: a readable dump with the data tags and the oracle site table (default)", HelpName = "hvm|net" };
            emit.Validators.Add(r => { if (r.Tokens.Count > 0 && r.Tokens[^1].Value is not ("hvm" or "net")) r.AddError($"--emit {r.Tokens[^1].Value}: expected 'hvm' or 'net'"); });
            c.Add(emit);
        }
        c.SetAction(p =>
        {
            string path = p.GetValue(file)!;
            var ctx = lmn.Bindings(p);
            bool quiet = p.GetValue(lmn.Quiet);
            return name == "check"
                ? LmnCommands.Check(path, ctx, quiet, cli.Out, cli.Err)
                : LmnCommands.Compile(path, ctx, quiet, p.GetValue(emit!), cli.Out, cli.Err);
        });
        return c;
    }

    private static Command WordsCommand(CliContext cli)
    {
        var c = new Command("words", "look Limn words up by name, meaning or domain");
        var query = new Argument<string[]>("QUERY") { Arity = ArgumentArity.ZeroOrMore, Description = "a word, part of a meaning, or a domain" };
        c.Add(query);
        c.SetAction(p => LmnCommands.Words(p.GetValue(query)!, cli.Out, cli.Err));
        return c;
    }

    private static Command ReplCommandLine(CliContext cli)
    {
        var c = new Command("repl", "an interactive session: each line is compiled and reduced in its own region; `let x = e` and `def` keep their value in the session (docs/repl.md). Piped input is read line by line.");
        var file = new Argument<string?>("FILE") { Arity = ArgumentArity.ZeroOrOne, Description = "a .lmn file loaded first" };
        var threads = Threads();
        var lmn = new LmnOptionSet();
        var oracle = new OracleOptionSet(batch: false);
        c.Add(file); c.Add(threads);
        lmn.AddTo(c);
        oracle.AddTo(c);
        c.SetAction(p => ReplCommand.Execute(new ReplOptions
        {
            Oracle = oracle.Read(p, ThreadsOf(p, threads)), Context = lmn.Bindings(p), MaxMemory = MemoryOf(p, lmn.MaxMemory),
            FastCalls = !p.GetValue(lmn.Interpret), Quiet = p.GetValue(lmn.Quiet), Load = p.GetValue(file),
        }, cli));
        return c;
    }

    private static Dictionary<string, string> ContextDictionary(List<KeyValuePair<string, string>> list)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in list) d[k] = v;
        return d;
    }

    private static Command VizCommandLine(CliContext cli)
    {
        var c = new Command("viz", "draw the net of FILE.lmn|FILE.hvm as SVG (Graphviz), DOT or JSON (docs/debugger.md)");
        var file = FileArgument("the program");
        var output = Text("--output", "write FILE.svg (default, laid out by Graphviz dot), FILE.dot or FILE.json; without -o, SVG on stdout", "FILE", "-o");
        var format = Text("--format", "the format when writing to stdout", "svg|dot|json");
        var steps = new Option<long>("--steps") { Description = "draw the net after N interactions (default: at the start)", HelpName = "N", CustomParser = r => Value(r, s => (long)Commands.ParseCount(s, "--steps", 0)) };
        var atSites = Flag("--at-sites", "draw the net at the first pause for the oracle (every site parked)");
        var limit = Count("--limit", "draw at most N nodes; the rest is summarised with counts (default 500)", Lmn.Debugging.NetPicture.DefaultLimit);
        var context = Context();
        c.Add(file); c.Add(output); c.Add(format); c.Add(steps); c.Add(atSites); c.Add(limit); c.Add(context);
        c.SetAction(p => VizCommand.Execute(p.GetValue(file)!, p.GetValue(format) ?? "", p.GetValue(output) ?? "", p.GetValue(steps), p.GetValue(atSites),
            p.GetValue(limit), ContextDictionary(p.GetValue(context)!), cli.Out, cli.Err));
        return c;
    }

    private static Command DebugCommandLine(CliContext cli)
    {
        var c = new Command("debug", "step through the run of FILE.lmn|FILE.hvm in the browser (a local web app on 127.0.0.1; docs/debugger.md); the oracle options choose who answers when the page asks");
        var file = FileArgument("the program");
        var port = new Option<int>("--port")
        {
            Description = "listen on 127.0.0.1:N (default: a free port, printed)", HelpName = "N",
            CustomParser = r => Value(r, s =>
            {
                int n = Commands.ParseCount(s, "--port", 0);
                return n <= 65535 ? n : throw new Commands.UsageException($"--port {n}: expected 0 to 65535");
            }),
        };
        var open = Flag("--open", "open the page in a browser ($BROWSER, else xdg-open)");
        var limit = Count("--limit", "nodes drawn per picture, the rest summarised (default 150)", VizBench.DebuggerLimit);
        var context = Context();
        var threads = Threads();
        var oracle = new OracleOptionSet(batch: false);
        c.Add(file); c.Add(port); c.Add(open); c.Add(limit); c.Add(context); c.Add(threads);
        oracle.AddTo(c);
        c.SetAction(p => DebugCommand.Execute(p.GetValue(file)!, p.GetValue(port), p.GetValue(open), p.GetValue(limit),
            ContextDictionary(p.GetValue(context)!), oracle.Read(p, ThreadsOf(p, threads)), cli.Out, cli.Err));
        return c;
    }

    private static Command CacheCommandLine(CliContext cli)
    {
        var c = new Command("cache", "the oracle answer cache in .lmn/cache: stats, clear, or purge --binding NAME (the answers that depended on the anchor @NAME)");
        var action = new Argument<string?>("ACTION") { Arity = ArgumentArity.ZeroOrOne, Description = "stats | clear | purge" };
        var dir = new Option<string>("--dir") { Description = "the cache directory", HelpName = "DIR", DefaultValueFactory = _ => CacheCommand.DefaultDirectory };
        var binding = Text("--binding", "purge: the anchor whose answers are removed", "NAME");
        var url = Text("--cache-url", "the shared PostgreSQL cache (postgres://...; default $LMN_CACHE_URL)", "URL");
        c.Add(action); c.Add(dir); c.Add(binding); c.Add(url);
        c.SetAction(p => CacheCommand.Execute(p.GetValue(action), p.GetValue(dir)!, p.GetValue(binding), p.GetValue(url), cli.Out, cli.Err));
        return c;
    }

    private static Command BenchCommand(CliContext cli)
    {
        var c = new Command("bench", "lmn bench [NAME...]: run the benchmark programs in bench/ (default: all; each in a child process) and print ITRS, median time and MIPS; subcommands for the other benchmarks");
        var names = new Argument<string[]>("NAME") { Arity = ArgumentArity.ZeroOrMore, Description = "programs of bench/ to run (default: all)", Hidden = true };
        var runs = Count("--runs", "runs per program (default 5); the median is reported", 5);
        var threads = new Option<List<int>>("--threads", "-t")
        {
            Description = "thread counts to measure (default 1); speedup is against the first", HelpName = "1,2",
            DefaultValueFactory = _ => [1], CustomParser = r => Value(r, s => s.Split(',').Select(Commands.ParseThreads).ToList()),
        };
        var dir = Text("--dir", "where the benchmark programs are (default: bench/ beside the tool)", "DIR");
        var atomic = Flag("--atomic", "also one thread on the parallel core (row 1a: atomic wires, no second thread), interleaved with the others: what the atomics cost");
        c.Add(names); c.Add(runs); c.Add(threads); c.Add(dir); c.Add(atomic);
        c.SetAction(p => Bench.Execute(p.GetValue(names)!, p.GetValue(runs), p.GetValue(threads)!, p.GetValue(dir), cli.Out, cli.Err, p.GetValue(atomic)));

        {
            var t = new Command("transmigrate", "move a 1,000,000-node graph between regions: nodes/s against a dictionary copy");
            var nodes = Count("--nodes", "nodes of the graph (default 1000000)", 1_000_000);
            var tr = Count("--runs", "timed runs (default 15)", 15);
            var warmup = Count("--warmup", "untimed runs first (default 3)", 3, 0);
            var seed = Count("--seed", "seed of the graph (default 1)", 1, 0);
            var sites = Count("--sites", "answers grafted during a run, for the graft figures (default 100000; 0: none)", 100_000, 0);
            t.Add(nodes); t.Add(tr); t.Add(warmup); t.Add(seed); t.Add(sites);
            t.SetAction(p =>
            {
                var inv = CultureInfo.InvariantCulture;
                string[] a = ["--nodes", p.GetValue(nodes).ToString(inv), "--runs", p.GetValue(tr).ToString(inv), "--warmup", p.GetValue(warmup).ToString(inv),
                    "--seed", p.GetValue(seed).ToString(inv), "--sites", p.GetValue(sites).ToString(inv)];
                return TransmigrateBenchmark.Run(a, cli.Out);
            });
            c.Add(t);
        }
        {
            var t = new Command("oracle", "Model B's cost per site and its batching");
            var sites = Count("--sites", "sites of the generated program (default 10000)", 10_000);
            var delay = Count("--delay-ms", "the fake oracle's delay per call (default 0)", 0, 0, "D");
            var r = Count("--runs", "runs; the median is reported (default 5)", 5);
            t.Add(sites); t.Add(delay); t.Add(r);
            t.SetAction(p => OracleBench.Execute(p.GetValue(sites), p.GetValue(delay), p.GetValue(r), cli.Out, cli.Err));
            c.Add(t);
        }
        {
            var t = new Command("compile", "compile a generated LMN program: median time");
            var lines = Count("--lines", "lines of the generated program (default 10000)", 10_000);
            var r = Count("--runs", "runs (default 5)", 5);
            t.Add(lines); t.Add(r);
            t.SetAction(p => CompileBench.Execute(p.GetValue(lines), p.GetValue(r), cli.Out, cli.Err));
            c.Add(t);
        }
        {
            var t = new Command("oracle-quality", "accuracy of first, lexicon and semantic on the evaluation set, ms per question, model load and peak RSS");
            var f = Text("--file", "the evaluation set (default bench/oracle-quality/eval.jsonl)", "F");
            var misses = Flag("--misses", "list the questions answered wrongly");
            t.Add(f); t.Add(misses);
            t.SetAction(p => OracleQualityBench.Execute(p.GetValue(f), p.GetValue(misses), cli.Out, cli.Err));
            c.Add(t);
        }
        {
            var t = new Command("compile-shapes", "check/compile time per line of generated lets, nested ∿, nested if, .hvm defs (each size in a child process)");
            var sizes = new Option<List<int>>("--sizes")
            {
                Description = "lines per program (default 10000,100000,1000000)", HelpName = "N,N", DefaultValueFactory = _ => [10_000, 100_000, 1_000_000],
                CustomParser = r => Value(r, s => s.Split(',').Select(x => Commands.ParseCount(x, "--sizes", 10)).ToList()),
            };
            var shapes = new Option<List<string>>("--shapes")
            {
                Description = "some of " + string.Join(",", CompileShapesBench.Shapes), HelpName = "S,S", DefaultValueFactory = _ => [.. CompileShapesBench.Shapes],
                CustomParser = r => Value(r, s =>
                {
                    var list = s.Split(',').ToList();
                    foreach (var x in list)
                        if (!CompileShapesBench.Shapes.Contains(x)) throw new Commands.UsageException($"--shapes {x}: expected some of {string.Join(", ", CompileShapesBench.Shapes)}");
                    return list;
                }),
            };
            var timeout = new Option<double>("--timeout")
            {
                Description = "seconds per size before it is reported as a timeout (default 60)", HelpName = "S", DefaultValueFactory = _ => 60,
                CustomParser = r => Value(r, v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) && x > 0 && x <= 86_400
                    ? x : throw new Commands.UsageException($"--timeout {v}: expected seconds, more than 0 and at most 86400")),
            };
            var memory = MaxMemory("--memory");
            memory.Description = "heap limit per size (default 4G)";
            t.Add(sizes); t.Add(shapes); t.Add(timeout); t.Add(memory);
            t.SetAction(p => CompileShapesBench.Execute(p.GetValue(sizes)!, p.GetValue(shapes)!, p.GetValue(timeout),
                p.GetValue(memory) ?? 4L << 30, cli.Out, cli.Err));
            c.Add(t);
        }
        {
            var t = new Command("fuzz", "mutate the examples; parsers never throw, rejections located");
            var inputs = Count("--inputs", "inputs per parser (default 20000)", 20_000);
            var seed = Count("--seed", "the random seed (default 11)", 11, 0);
            var depth = Count("--depth", "deepest nesting generated (default 20000)", 20_000);
            var line = Count("--line", "longest line generated (default 200000)", 200_000);
            var d = Text("--dir", "the repository whose examples/ are mutated", "REPO");
            t.Add(inputs); t.Add(seed); t.Add(depth); t.Add(line); t.Add(d);
            t.SetAction(p => Fuzz.Execute(new Fuzz.Options
            {
                InputsPerParser = p.GetValue(inputs), Seed = p.GetValue(seed), MaxDepth = p.GetValue(depth), MaxLine = p.GetValue(line),
            }, p.GetValue(d), cli.Out, cli.Err));
            c.Add(t);
        }
        {
            var t = new Command("viz", "lmn viz on 1,000 / 10,000 / 1,000,000-node nets; a debugger step on 10,000");
            var limit = Count("--limit", "drawn nodes (default 500)", Lmn.Debugging.NetPicture.DefaultLimit);
            var debugLimit = Count("--debug-limit", "drawn nodes of the debugger step (default 150)", VizBench.DebuggerLimit);
            t.Add(limit); t.Add(debugLimit);
            t.SetAction(p => VizBench.Execute(p.GetValue(limit), p.GetValue(debugLimit), cli.Out, cli.Err));
            c.Add(t);
        }
        {
            var t = new Command("batch", "a batch run over 4 fake endpoints (docs/scaling.md)");
            var inputs = Count("--inputs", "inputs (default 10000)", 10_000);
            var endpoints = Count("--endpoints", "fake endpoints (default 4)", 4);
            var delay = Count("--delay-ms", "the endpoints' delay per call (default 100)", 100, 0);
            var batch = Count("--batch-size", "questions per call (default 50)", 50);
            var url = Text("--cache-url", "the shared cache (default: a throwaway cluster from scripts/postgres.sh)", "URL");
            var noPg = Flag("--no-postgres", "skip the shared-cache runs");
            t.Add(inputs); t.Add(endpoints); t.Add(delay); t.Add(batch); t.Add(url); t.Add(noPg);
            t.SetAction(p => BatchBench.Execute(p.GetValue(inputs), p.GetValue(endpoints), p.GetValue(delay), p.GetValue(batch),
                p.GetValue(url), p.GetValue(noPg), cli.Out, cli.Err));
            c.Add(t);
        }
        {
            var t = new Command("startup", "the median and minimum wall time of a short `lmn run`, and the load average (docs/startup.md)");
            var r = Count("--runs", "runs (default 21); the median is reported", 21);
            var f = Text("--file", "the program (default: a one-line .hvm program; with --compare a one-line .lmn one too)", "F");
            var command = new Option<List<string>>("--command")
            {
                Description = "an lmn to measure, e.g. ./lmn or ~/.dotnet/tools/lmn (repeatable; default: this one)", HelpName = "C",
                Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = false, DefaultValueFactory = _ => [],
            };
            var compare = Flag("--compare", "also ./lmn, the NativeAOT front and the managed apphost beside this lmn, and ~/.dotnet/tools/lmn, in interleaved rounds");
            t.Add(r); t.Add(f); t.Add(command); t.Add(compare);
            t.SetAction(p => StartupBench.Execute(p.GetValue(r), p.GetValue(f), p.GetValue(command)!, p.GetValue(compare), cli.Out, cli.Err));
            c.Add(t);
        }
        return c;
    }

    /// <summary>`lmn bench-child FILE --runs N --thread-list 1,2` (hidden): one program of `lmn bench`, in a process of its own.</summary>
    private static Command BenchChildCommand(CliContext cli)
    {
        var c = new Command("bench-child", "one program of lmn bench (run by lmn bench in a child process)") { Hidden = true };
        var file = FileArgument("the .hvm program");
        var runs = Count("--runs", "runs", 5);
        var threads = new Option<string>("--thread-list") { Description = "thread counts, comma-separated (1a: one thread on the parallel core)", DefaultValueFactory = _ => "1" };
        c.Add(file); c.Add(runs); c.Add(threads);
        c.SetAction(p => Bench.One(p.GetValue(file)!, p.GetValue(runs), p.GetValue(threads)!.Split(','), cli.Out, cli.Err));
        return c;
    }

    /// <summary>`lmn compile-shapes-child SHAPE LINES` (hidden): one size of `lmn bench compile-shapes`.</summary>
    private static Command CompileShapesChildCommand(CliContext cli)
    {
        var c = new Command("compile-shapes-child", "one size of lmn bench compile-shapes (run in a child process)") { Hidden = true };
        var shape = new Argument<string>("SHAPE");
        var lines = new Argument<int>("LINES") { CustomParser = r => Value(r, s => Commands.ParseCount(s, "LINES")) };
        c.Add(shape); c.Add(lines);
        c.SetAction(p => CompileShapesBench.One(p.GetValue(shape)!, p.GetValue(lines), cli.Out, cli.Err));
        return c;
    }

    private static Command OracleAskCommandLine(CliContext cli)
    {
        var c = new Command("oracle-ask", "for oracle authors: ask one oracle the request(s) in FILE.json ('-' for stdin) and print the protocol response; exit 0 when every answer is accepted");
        var request = Text("--request", "the protocol request(s): one or a batch; - is standard input", "FILE.json");
        var events = Flag("--events", "write every attempt, retry and error to stderr as JSON lines");
        var oracle = new Option<string?>("--oracle") { Description = "semantic, lexicon, anthropic, openai, human, exec:'PROGRAM ARGS', script:FILE, replay:FILE", HelpName = "NAME" };
        var escalate = Text("--escalate", "hand low-confidence answers and errors to the human oracle", "human");
        var minConfidence = Text("--min-confidence", "confidence threshold 0..1 for escalation and validation (default 0)", "C");
        var set = new OracleOptionSet(batch: false);
        c.Add(request); c.Add(events); c.Add(oracle); c.Add(escalate); c.Add(minConfidence);
        foreach (var o in new Option[] { set.Model, set.SmallModel, set.BaseUrl, set.Batch, set.Concurrency, set.Timeout, set.Retries, set.MaxReplyBytes }) c.Add(o);
        c.SetAction(p =>
        {
            var args = new List<string>();
            foreach (var o in new[] { oracle, escalate, minConfidence })
                if (p.GetResult(o) is { Implicit: false } r) { args.Add(o.Name); args.Add(r.Tokens[^1].Value); }
            args.AddRange(set.ResolverArgs(p));
            return OracleAskCommand.Run(args, p.GetValue(request), p.GetValue(events), cli);
        });
        return c;
    }

    // ---- invocation ----

    private static readonly ParserConfiguration Parser = new() { ResponseFileTokenReplacer = null };

    /// <summary>Parses and runs one command line; the exit code.</summary>
    public static int Execute(IReadOnlyList<string> args, CliContext cli)
    {
        StartupTrace.Mark("thread");
        var root = Build(cli, args.Count > 0 ? args[0] : null);
        if (args.Count == 0)
        {
            // No command: the help, on stderr, as a usage error.
            root.Parse(["--help"], Parser).Invoke(new InvocationConfiguration { Output = cli.Err, Error = cli.Err });
            return ExitUsage;
        }
        StartupTrace.Mark("command line built");
        var parse = root.Parse(args, Parser);
        StartupTrace.Mark("parsed");
        var config = new InvocationConfiguration { Output = cli.Out, Error = cli.Err, EnableDefaultExceptionHandler = false };
        if (parse.Action is HelpAction || parse.Errors.Count == 0 || parse.GetResult(SuggestDirectiveOf(root)) != null)
            return parse.Invoke(config);
        // An unknown word explains the others (a missing subcommand, a missing argument): it comes first.
        var error = parse.Errors.OrderBy(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal) ? 0 : 1).First();
        return UsageError(cli.Err, Message(parse, error), CommandPath(parse.CommandResult));
    }

    private static System.CommandLine.Completions.SuggestDirective SuggestDirectiveOf(RootCommand root) =>
        root.Directives.OfType<System.CommandLine.Completions.SuggestDirective>().First();

    /// <summary>`lmn: MESSAGE` and where the usage is, exit 2.</summary>
    public static int UsageError(TextWriter stderr, string message, string command)
    {
        stderr.WriteLine($"lmn: {message}");
        stderr.WriteLine(command == "" ? "run 'lmn --help' for usage" : $"run 'lmn {command} --help' for usage");
        return ExitUsage;
    }

    internal static string CommandPath(CommandResult? r)
    {
        var names = new List<string>();
        for (var c = r; c != null && c.Parent != null; c = c.Parent as CommandResult) names.Add(c.Command.Name);
        names.Reverse();
        return string.Join(' ', names);
    }

    /// <summary>The parser's messages in lmn's wording (`unknown option '--x'`, `option '--x' needs a value`, `missing FILE`).</summary>
    private static string Message(ParseResult parse, ParseError e)
    {
        string m = e.Message;
        var unrecognized = Regex.Match(m, "^Unrecognized command or argument '(.*)'\\.$");
        if (unrecognized.Success)
        {
            string token = unrecognized.Groups[1].Value;
            if (token.StartsWith('-') && token.Length > 1) return $"unknown option '{token}'";
            if (parse.CommandResult.Parent == null) return $"unknown command '{token}'";
            return $"unexpected argument '{token}' (one file at a time)";
        }
        var needsValue = Regex.Match(m, "^Required argument missing for option: '(.*)'\\.$");
        if (needsValue.Success) return $"option '{needsValue.Groups[1].Value}' needs a value";
        var missing = Regex.Match(m, "^Required argument '(.*)' missing for command");
        if (missing.Success) return $"missing {missing.Groups[1].Value}";
        if (m.StartsWith("Required command was not provided", StringComparison.Ordinal))
            return $"{CommandPath(parse.CommandResult)}: expected a subcommand".TrimStart(':', ' ');
        return m.TrimEnd('.');
    }
}
