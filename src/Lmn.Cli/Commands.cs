using System.Diagnostics;
using System.Globalization;
using System.Text;
using Lmn.Hvm;
using Lmn.Net;
using Lmn.Text;
using Lmn.Runtime;

namespace Lmn.Cli;

/// <summary>The `lmn` command: a thin layer over library calls. Exit codes: 0 success, 1 bad input or a
/// runtime fault, 2 bad usage.</summary>
public static class Commands
{
    public const string Usage = """
        usage: lmn <command> [options]

        commands:
          run FILE.hvm        reduce @main to normal form and print `Result: <tree>`
          fmt FILE.hvm        print the book in canonical .hvm text (same as run --emit hvm)
          bench [NAME...]     run the benchmark programs in bench/ and print ITRS, median time and MIPS
          bench transmigrate  move a 1,000,000-node graph between regions: nodes/s against a dictionary copy
          bench oracle [--sites N] [--delay-ms D]   Model B's cost per site and its batching
          bench compile [--lines N]                 compile a generated LMN program: median time
          bench oracle-quality [--file F]           accuracy of first, lexicon and semantic on the evaluation
                                                    set, ms per question, model load and peak RSS
          bench compile-shapes [--sizes N,N] [--shapes S,S] [--timeout S]
                              check/compile time per line of generated lets, nested ∿, nested if, .hvm defs
          bench fuzz [--inputs N] [--seed N]        mutate the examples; parsers never throw, rejections located
          bench viz           lmn viz on 1,000 / 10,000 / 1,000,000-node nets; a debugger step on 10,000
          viz FILE            draw the net as SVG, DOT or JSON (at the start, --steps N, --at-sites)
          debug FILE          step through the run in the browser (a local web app; --port, --open)
          cache stats|clear   the oracle answer cache in .lmn/cache (--dir DIR for another)
          cache purge --binding NAME   remove the answers that depended on the anchor @NAME
                              (--cache-url postgres://... or $LMN_CACHE_URL: the shared PostgreSQL cache)
          bench batch [--inputs N] [--cache-url URL]   a batch run over 4 fake endpoints (docs/scaling.md)
          help                show this text

        run options:
          -s, --stats         also print HVM2's `- ITRS`, `- TIME` and `- MIPS` lines, then `- RULE: N` per rule
          --emit hvm          print the parsed book as canonical .hvm text instead of running it
          --max-memory SIZE   limit on the net's memory, e.g. 512M or 8G (default 4G)
          --no-io             reduce only; skip HVM2's IO loop
          -t, --threads N     reduce on N threads (default: all cores); same result and ITRS at any N
          --interpret         the reference interpreter: plain copying, no compiled definitions; for checking

        bench options:
          --runs N            runs per program (default 5); the median is reported
          --threads 1,2       thread counts to measure (default 1); speedup is against the first
          --dir DIR           where the benchmark programs are (default: bench/ beside the tool)

        exit status: 0 success, 1 bad input or a runtime fault, 2 bad usage
        """ + "\n\n" + LmnCommands.Usage + "\n" + ReplCommand.Usage + "\n" + VizCommand.Usage + "\n" + DebugCommand.Usage + "\n" + ModelBOptions.Usage;

    public static int Execute(string[] args, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            if (args.Length == 0 || args[0] is "help" or "-h" or "--help")
            {
                (args.Length == 0 ? stderr : stdout).WriteLine(Usage);
                return args.Length == 0 ? 2 : 0;
            }
            if (args[0] is "--version" or "version")
            {
                stdout.WriteLine("lmn " + typeof(Commands).Assembly.GetName().Version);
                return 0;
            }
            var rest = args[1..];
            return args[0] switch
            {
                "run" => Run(rest, stdout, stderr),
                "fmt" => Run([.. rest, "--emit", "hvm"], stdout, stderr),
                "bench" => Bench.Execute(rest, stdout, stderr),
                "cache" => CacheCommand.Execute(rest, stdout, stderr),
                "oracle-ask" => OracleAskCommand.Execute(rest, stdout, stderr),
                "check" => LmnCommands.Check(rest, stdout, stderr),
                "compile" => LmnCommands.Compile(rest, stdout, stderr),
                "words" => LmnCommands.Words(rest, stdout, stderr),
                "viz" => VizCommand.Execute(rest, stdout, stderr),
                "debug" => DebugCommand.Execute(rest, stdout, stderr),
                "repl" => ReplCommand.Execute(rest, stdout, stderr),
                _ => UsageError(stderr, $"unknown command '{args[0]}'"),
            };
        }
        catch (UsageException e)
        {
            return UsageError(stderr, e.Message);
        }
        catch (IOException e)
        {
            // Output that cannot be written (stdout on a full disk, a device that refuses writes) or a
            // file that cannot be read: a message, never a stack trace.
            TryWrite(stderr, $"lmn: input/output error: {e.Message}");
            return 1;
        }
        catch (UnauthorizedAccessException e)
        {
            TryWrite(stderr, $"lmn: permission denied: {e.Message}");
            return 1;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("LMN_DEBUG") != "1")
        {
            // The last line of defence: a bug still gets one line (LMN_DEBUG=1 shows the stack trace).
            TryWrite(stderr, $"lmn: internal error: {e.Message} (this is a bug in lmn; please report it with the command that caused it)");
            return 1;
        }
    }

    private static void TryWrite(TextWriter w, string line)
    {
        try { w.WriteLine(line); }
        catch (IOException) { }
    }

    public sealed class UsageException(string message) : Exception(message);

    private static int UsageError(TextWriter stderr, string message)
    {
        stderr.WriteLine($"lmn: {message}");
        stderr.WriteLine("run 'lmn help' for usage");
        return 2;
    }

    /// <summary>Options of `lmn run`.</summary>
    public sealed record RunOptions
    {
        public string File { get; init; } = "";
        public bool Stats { get; init; }
        public string? Emit { get; init; }
        public long MaxMemory { get; init; } = Engine.DefaultMaxMemory;
        public bool Io { get; init; } = true;
        public bool Interpret { get; init; }
        public int Threads { get; init; } = Environment.ProcessorCount;
    }

    public static RunOptions ParseRunOptions(string[] args)
    {
        var o = new RunOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            switch (a)
            {
                case "-s" or "--stats": o = o with { Stats = true }; break;
                case "--no-io": o = o with { Io = false }; break;
                case "--interpret": o = o with { Interpret = true }; break;
                case "-t" or "--threads": o = o with { Threads = ParseThreads(Next(args, ref i, a)) }; break;
                case "--emit":
                    string e = Next(args, ref i, a);
                    if (e != "hvm") throw new UsageException($"--emit {e}: expected 'hvm'");
                    o = o with { Emit = e };
                    break;
                case "--max-memory": o = o with { MaxMemory = ParseSize(Next(args, ref i, a)) }; break;
                default:
                    if (a.StartsWith('-') && a.Length > 1) throw new UsageException($"unknown option '{a}'");
                    if (o.File != "") throw new UsageException($"unexpected argument '{a}' (one file at a time)");
                    o = o with { File = a };
                    break;
            }
        }
        if (o.File == "") throw new UsageException("missing FILE");
        return o;
    }

    /// <summary>The value of `--context NAME=VALUE`: the name (a leading @ dropped) and the value.</summary>
    internal static KeyValuePair<string, string> ContextPair(string[] args, ref int i, string opt)
    {
        string kv = Next(args, ref i, opt);
        int eq = kv.IndexOf('=');
        if (eq <= 0) throw new UsageException($"{opt} {kv}: expected NAME=VALUE, such as now=present_moment");
        return new(kv[..eq].TrimStart('@'), kv[(eq + 1)..]);
    }

    /// <summary>An argument that is not an option: the one FILE a command takes.</summary>
    internal static void TakeFile(ref string file, string a)
    {
        if (a.StartsWith('-') && a.Length > 1) throw new UsageException($"unknown option '{a}'");
        if (file != "") throw new UsageException($"unexpected argument '{a}' (one file at a time)");
        file = a;
    }

    internal static string Next(string[] args, ref int i, string opt)
    {
        if (i + 1 >= args.Length) throw new UsageException($"option '{opt}' needs a value");
        return args[++i];
    }

    /// <summary>A whole number of at least <paramref name="min"/> for an option.</summary>
    public static int ParseCount(string s, string option, int min = 1)
    {
        if (!int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < min)
            throw new UsageException($"{option} {s}: expected a whole number of at least {min}");
        return n;
    }

    public static int ParseThreads(string s)
    {
        if (!int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 1 || n > 1024)
            throw new UsageException($"--threads {s}: expected a number of threads from 1 to 1024");
        return n;
    }

    /// <summary>The largest --max-memory accepted: 1 PiB (far beyond any machine, far below overflow).</summary>
    public const long MaxMemoryLimit = 1L << 50;

    /// <summary>Parses 512M, 8G, 1024K or a plain byte count, at most <see cref="MaxMemoryLimit"/>.</summary>
    public static long ParseSize(string s)
    {
        long mult = 1;
        string num = s;
        if (s.Length > 0 && char.ToUpperInvariant(s[^1]) is 'K' or 'M' or 'G' or 'T')
        {
            mult = char.ToUpperInvariant(s[^1]) switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, _ => 1L << 40 };
            num = s[..^1];
        }
        if (!long.TryParse(num, NumberStyles.None, CultureInfo.InvariantCulture, out long v) || v <= 0)
            throw new UsageException($"--max-memory {s}: expected a size such as 512M or 8G");
        if (v > MaxMemoryLimit / mult)
            throw new UsageException($"--max-memory {s}: too large; the most is {MaxMemoryLimit >> 40}T");
        return v * mult;
    }

    private static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Any(a => a.EndsWith(".lmn", StringComparison.OrdinalIgnoreCase))) return LmnCommands.Run(args, stdout, stderr);
        var o = ParseRunOptions(args);
        if (!File.Exists(o.File))
        {
            stderr.WriteLine($"lmn: {o.File}: no such file");
            return 1;
        }
        if (!o.File.EndsWith(".hvm", StringComparison.OrdinalIgnoreCase))
        {
            stderr.WriteLine($"lmn: {o.File}: expected a .hvm or .lmn file");
            return 1;
        }
        HvmBook ast;
        try
        {
            ast = HvmParser.Parse(SourceText.FromFile(o.File));
        }
        catch (DiagnosticException e)
        {
            foreach (var d in e.Diagnostics) stderr.WriteLine(d.Render());
            stderr.WriteLine($"{e.Diagnostics.Count(d => d.Severity == Severity.Error)} error(s)");
            return 1;
        }
        if (o.Emit == "hvm")
        {
            stdout.Write(ast.Show());
            return 0;
        }
        // A book LMN emitted (`lmn compile --emit hvm`) says in comments how to read its result as LMN.
        var lmn = Lmn.Language.CompiledProgram.FromHvmComments(File.ReadAllText(o.File), ast);
        var result = HvmRunner.Run(ast, o.MaxMemory, o.Io ? new IoHost() : null, fastCalls: !o.Interpret, threads: o.Threads, lmn: lmn);
        if (result.Error != null)
        {
            stderr.WriteLine($"{o.File}: error: {result.Error}");
            return 1;
        }
        stdout.WriteLine("Result: " + result.Output);
        if (result.LmnValue != null) stdout.WriteLine("Value: " + result.LmnValue);
        if (o.Stats) stdout.Write(result.StatsText());
        return 0;
    }
}
