using System.Diagnostics;
using System.Globalization;
using System.Text;
using Lmn.Hvm;
using Lmn.Net;
using Lmn.Text;
using Lmn.Runtime;

namespace Lmn.Cli;

/// <summary>The `lmn` command: a thin layer over library calls (the command line is declared in
/// <see cref="LmnCommandLine"/>). Exit codes: 0 success, 1 bad input or a runtime fault, 2 bad usage, 130 interrupted.</summary>
public static class Commands
{
    public static int Execute(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellation = default) =>
        Execute(args, new CliContext { Out = stdout, Err = stderr, Cancellation = cancellation });

    public static int Execute(IReadOnlyList<string> args, CliContext cli)
    {
        var stderr = cli.Err;
        try
        {
            return LmnCommandLine.Execute(args, cli);
        }
        catch (UsageException e)
        {
            return LmnCommandLine.UsageError(stderr, e.Message, args.Count > 0 && !args[0].StartsWith('-') ? args[0] : "");
        }
        catch (Exception e) when (RunCore.Ends(e, cli.Cancellation))
        {
            return RunCore.Fail(e, cli.Cancellation, stderr);
        }
    }

    public sealed class UsageException(string message) : Exception(message);

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

    /// <summary>The value of `--context NAME=VALUE`: the name (a leading @ dropped) and the value.</summary>
    internal static KeyValuePair<string, string> ContextPair(string kv, string opt)
    {
        int eq = kv.IndexOf('=');
        if (eq <= 0) throw new UsageException($"{opt} {kv}: expected NAME=VALUE, such as now=present_moment");
        return new(kv[..eq].TrimStart('@'), kv[(eq + 1)..]);
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

    /// <summary>`lmn run FILE.hvm` (and `fmt`): parse, then print the book or run it (<see cref="RunCore.Hvm"/>).</summary>
    internal static int RunHvm(RunOptions o, SourceText source, CliContext cli) =>
        RunCore.Hvm(source, o.Emit == "hvm", o.MaxMemory, o.Io, o.Interpret, o.Threads, o.Stats, cli.Out, cli.Err, cli.Cancellation);
}
