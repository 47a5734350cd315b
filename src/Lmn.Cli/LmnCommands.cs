using System.Globalization;
using Lmn.Language;
using Lmn.Net;
using Lmn.Text;

namespace Lmn.Cli;

/// <summary>The LMN-language commands: `run FILE.lmn`, `check`, `compile --emit hvm|net`, `words`.</summary>
public static class LmnCommands
{
    public const string Usage = """
        LMN commands:
          run FILE.lmn        check, compile, reduce main and print its value in LMN syntax
          check FILE.lmn      report errors and warnings only
          compile FILE.lmn --emit hvm|net
                              print the compiled book as HVM2 text (hvm) or as a readable dump with
                              the data tags and the oracle site table (net)
          words QUERY         look Limn words up by name, meaning or domain

        LMN options:
          --context NAME=VALUE   bind the anchor @NAME to an LMN value (repeatable)
          --context-file FILE    lines of NAME=VALUE (# comments allowed)
          -s, --stats            write counters to stderr as `key: value` lines (see docs/model-b.md)
          --max-memory SIZE      as for .hvm files
          --interpret            no fast calls (for checking)
          -q, --quiet            do not print warnings
        """;

    private sealed record Options(string File, List<KeyValuePair<string, string>> Context, bool Stats, long MaxMemory,
        bool Interpret, bool Quiet, string? Emit)
    {
        public ModelBOptions Oracle { get; init; } = new();
    }

    private static Options Parse(string[] args, bool allowEmit)
    {
        string file = "";
        var ctx = new List<KeyValuePair<string, string>>();
        bool stats = false, interpret = false, quiet = false;
        long mem = Engine.DefaultMaxMemory;
        string? emit = null;
        var oracle = new ModelBOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (oracle.TryParse(args, ref i)) continue;
            switch (a)
            {
                case "-s" or "--stats": stats = true; break;
                case "--interpret": interpret = true; break;
                case "-q" or "--quiet": quiet = true; break;
                case "--no-io": break;
                case "--max-memory": mem = Commands.ParseSize(Commands.Next(args, ref i, a)); break;
                case "--context":
                {
                    string kv = Commands.Next(args, ref i, a);
                    int eq = kv.IndexOf('=');
                    if (eq <= 0) throw new Commands.UsageException($"--context {kv}: expected NAME=VALUE, such as now=present_moment");
                    ctx.Add(new(kv[..eq].TrimStart('@'), kv[(eq + 1)..]));
                    break;
                }
                case "--context-file":
                {
                    string f = Commands.Next(args, ref i, a);
                    if (!File.Exists(f)) throw new Commands.UsageException($"--context-file {f}: no such file");
                    foreach (string raw in File.ReadAllLines(f))
                    {
                        string line = raw.Trim();
                        if (line.Length == 0 || line.StartsWith('#')) continue;
                        int eq = line.IndexOf('=');
                        if (eq <= 0) throw new Commands.UsageException($"--context-file {f}: expected NAME=VALUE lines, got '{line}'");
                        ctx.Add(new(line[..eq].Trim().TrimStart('@'), line[(eq + 1)..].Trim()));
                    }
                    break;
                }
                case "--emit" when allowEmit:
                    emit = Commands.Next(args, ref i, a);
                    if (emit is not ("hvm" or "net")) throw new Commands.UsageException($"--emit {emit}: expected 'hvm' or 'net'");
                    break;
                default:
                    if (a.StartsWith('-') && a.Length > 1) throw new Commands.UsageException($"unknown option '{a}'");
                    if (file != "") throw new Commands.UsageException($"unexpected argument '{a}' (one file at a time)");
                    file = a;
                    break;
            }
        }
        if (file == "") throw new Commands.UsageException("missing FILE");
        return new Options(file, ctx, stats, mem, interpret, quiet, emit) { Oracle = oracle };
    }

    /// <summary>Reads, checks and compiles; prints diagnostics. Null (and exit status 1) on errors.</summary>
    private static CompiledProgram? Load(Options o, TextWriter stderr)
    {
        if (!File.Exists(o.File))
        {
            stderr.WriteLine($"lmn: {o.File}: no such file");
            return null;
        }
        var diags = new List<Diagnostic>();
        var ctx = LmnDriver.ParseContext(o.Context, diags);
        var prog = diags.Count == 0 ? LmnDriver.Compile(SourceText.FromFile(o.File), diags, ctx) : null;
        int errors = diags.Count(d => d.Severity == Severity.Error);
        var sorted = diags.Select((d, i) => (d, i)).OrderBy(x => x.d.Source.Path != o.File).ThenBy(x => x.d.Offset).ThenBy(x => x.i).Select(x => x.d);
        foreach (var d in sorted)
            if (d.Severity == Severity.Error || !o.Quiet) stderr.WriteLine(d.Render());
        if (errors > 0)
        {
            stderr.WriteLine($"{errors} error{(errors == 1 ? "" : "s")}");
            return null;
        }
        return prog;
    }

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var o = Parse(args, allowEmit: false);
        var prog = Load(o, stderr);
        if (prog == null) return 1;
        var context = o.Context.GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => CanonicalValue(g.Last().Value), StringComparer.Ordinal);
        return ModelBCommand.Run(prog, o.Oracle, context, o.MaxMemory, !o.Interpret, o.Stats, stdout, stderr);
    }

    /// <summary>An anchor value as the protocol shows it: the canonical LMN text of the value.</summary>
    private static string CanonicalValue(string text) =>
        Lmn.Runtime.DataTerms.TryParse(text, out var t, out _) ? Lmn.Runtime.DataTerms.Print(t) : text.Trim();

    public static int Check(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var o = Parse(args, allowEmit: false);
        var prog = Load(o, stderr);
        if (prog == null) return 1;
        stdout.WriteLine($"{o.File}: ok");
        return 0;
    }

    public static int Compile(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var o = Parse(args, allowEmit: true);
        var prog = Load(o, stderr);
        if (prog == null) return 1;
        switch (o.Emit ?? "net")
        {
            case "hvm":
                if (prog.Sites.Count > 0)
                    stderr.WriteLine($"lmn: warning: {o.File} has {prog.Sites.Count} oracle site(s); HVM2 cannot ask an oracle, so each @amb.N is an eraser there");
                stdout.Write(prog.Book.Show());
                break;
            default:
                stdout.Write(prog.Dump());
                break;
        }
        return 0;
    }

    public static int Words(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0) throw new Commands.UsageException("words: missing QUERY (a word, part of a meaning, or a domain)");
        string q = string.Join(' ', args);
        var hits = Lexicon.Default.Search(q);
        if (hits.Count == 0)
        {
            var sugg = Lexicon.Default.Suggest(q);
            stderr.WriteLine($"lmn: no Limn word matches '{q}'" + (sugg.Count > 0 ? $"; did you mean {string.Join(", ", sugg)}?" : ""));
            return 1;
        }
        foreach (var e in hits)
            stdout.WriteLine($"{e.Word,-5} {e.Meaning}  ({e.Examples})  [{e.Type}]");
        return 0;
    }
}
