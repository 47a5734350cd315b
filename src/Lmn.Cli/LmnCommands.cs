using System.Globalization;
using Lmn.Language;
using Lmn.Net;
using Lmn.Text;
using Lmn.Words;

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
          --context NAME=VALUE   bind the anchor @NAME (repeatable): VALUE is an LMN word, number or
                                 compound when it is exactly one, otherwise the text itself, as a string
          --context-file FILE    a JSON object {"NAME": value} (strings, numbers, lists, objects as
                                 compounds), or lines of NAME=VALUE (# comments allowed)
          -s, --stats            write counters to stderr as `key: value` lines (see docs/model-b.md)
          --max-memory SIZE      as for .hvm files
          --interpret            the reference interpreter, no compiled definitions (for checking)
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
                case "--context": ctx.Add(Commands.ContextPair(args, ref i, a)); break;
                case "--context-file":
                {
                    string f = Commands.Next(args, ref i, a);
                    if (!File.Exists(f)) throw new Commands.UsageException($"--context-file {f}: no such file");
                    ctx.AddRange(ReadContextFile(f));
                    break;
                }
                case "--emit" when allowEmit:
                    emit = Commands.Next(args, ref i, a);
                    if (emit is not ("hvm" or "net")) throw new Commands.UsageException($"--emit {emit}: expected 'hvm' or 'net'");
                    break;
                default: Commands.TakeFile(ref file, a); break;
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
        if (o.Oracle.Inputs != null)
            return BatchCommand.Run(o.File, o.Context, o.Oracle, o.MaxMemory == Engine.DefaultMaxMemory ? null : o.MaxMemory, !o.Interpret, o.Stats, o.Quiet, stdout, stderr);
        var prog = Load(o, stderr);
        if (prog == null) return 1;
        var context = o.Context.GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => LmnDriver.ContextText(g.Key, g.Last().Value), StringComparer.Ordinal);
        return ModelBCommand.Run(prog, o.Oracle, context, o.MaxMemory, !o.Interpret, o.Stats, stdout, stderr);
    }

    /// <summary>
    /// A context file: a JSON object whose members are the bindings, or the older NAME=VALUE lines.
    /// JSON strings follow the --context rule (one LMN term, else text), numbers are numbers, arrays
    /// lists, true/false the words true/false, and an object under key K the compound K[k1[v1], ...].
    /// </summary>
    public static List<KeyValuePair<string, string>> ReadContextFile(string f)
    {
        string text;
        try { text = File.ReadAllText(f); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new Commands.UsageException($"--context-file {f}: {e.Message}"); }
        var list = new List<KeyValuePair<string, string>>();
        if (text.TrimStart().StartsWith('{'))
        {
            System.Text.Json.JsonDocument doc;
            try { doc = System.Text.Json.JsonDocument.Parse(text); }
            catch (System.Text.Json.JsonException e)
            {
                throw new Commands.UsageException($"--context-file {f}:{(e.LineNumber ?? 0) + 1}:{(e.BytePositionInLine ?? 0) + 1}: not valid JSON: {e.Message.Split(" Path:")[0]}");
            }
            using (doc)
                foreach (var m in doc.RootElement.EnumerateObject())
                    list.Add(new(m.Name.TrimStart('@'), JsonValue(f, m.Name.TrimStart('@'), m.Value)));
            return list;
        }
        int n = 0;
        foreach (string raw in text.Split('\n'))
        {
            n++;
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            int eq = line.IndexOf('=');
            if (eq <= 0) throw new Commands.UsageException($"--context-file {f}:{n}: expected NAME=VALUE lines or a JSON object, got '{line}'");
            list.Add(new(line[..eq].Trim().TrimStart('@'), line[(eq + 1)..].Trim()));
        }
        return list;
    }

    internal static string JsonValue(string f, string key, System.Text.Json.JsonElement v)
    {
        switch (v.ValueKind)
        {
            case System.Text.Json.JsonValueKind.String:
            {
                string s = v.GetString()!;
                return LmnDriver.ContextValue(key, s) is StrLit ? Printer.Quote(s) : s.Trim();
            }
            case System.Text.Json.JsonValueKind.Number:
                return LmnDriver.ContextValue(key, v.GetRawText()) is StrLit ? Printer.Quote(v.GetRawText()) : v.GetRawText();
            case System.Text.Json.JsonValueKind.True: return "true";
            case System.Text.Json.JsonValueKind.False: return "false";
            case System.Text.Json.JsonValueKind.Array:
                return "[" + string.Join(", ", v.EnumerateArray().Select(x => JsonValue(f, key, x))) + "]";
            case System.Text.Json.JsonValueKind.Object:
            {
                if (!IsIdentifier(key)) throw new Commands.UsageException($"--context-file {f}: '{key}' holds an object, so it must be a word (letters, digits, _) to head a compound");
                var fields = new List<string>();
                foreach (var m in v.EnumerateObject())
                {
                    if (!IsIdentifier(m.Name)) throw new Commands.UsageException($"--context-file {f}: key '{m.Name}' in '{key}' is not a word (letters, digits, _)");
                    fields.Add(m.Value.ValueKind == System.Text.Json.JsonValueKind.Object ? JsonValue(f, m.Name, m.Value) : $"{m.Name}[{JsonValue(f, m.Name, m.Value)}]");
                }
                return $"{key}[{string.Join(", ", fields)}]";
            }
            default:
                throw new Commands.UsageException($"--context-file {f}: '{key}' is null; expected a string, number, list or object");
        }
    }

    private static bool IsIdentifier(string s) =>
        s.Length > 0 && char.IsAsciiLetter(s[0]) && s.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

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
                    stderr.WriteLine($"lmn: warning: {o.File} has {prog.Sites.Count} oracle site(s); HVM2 cannot ask an oracle, so each @ask.N is an eraser there");
                stdout.Write(prog.EmitHvm());
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
