using System.Globalization;
using Lmn.Language;
using Lmn.Net;
using Lmn.Text;
using Lmn.Words;

namespace Lmn.Cli;

/// <summary>The LMN-language commands: `run FILE.lmn`, `check`, `compile --emit hvm|net`, `words`.</summary>
public static class LmnCommands
{
    /// <summary>Checks and compiles; prints diagnostics. Null (and exit status 1) on errors.</summary>
    private static CompiledProgram? Load(SourceText source, List<KeyValuePair<string, string>> context, bool quiet, TextWriter stderr) =>
        RunCore.Load(source, context, quiet, stderr);

    private static CompiledProgram? Load(string file, List<KeyValuePair<string, string>> context, bool quiet, TextWriter stderr)
    {
        if (!File.Exists(file))
        {
            stderr.WriteLine($"lmn: {file}: no such file");
            return null;
        }
        return Load(SourceText.FromFile(file), context, quiet, stderr);
    }

    /// <summary>`lmn run FILE.lmn` (or `-`): a batch run with --inputs, else one Model B run.</summary>
    public static int Run(SourceText source, List<KeyValuePair<string, string>> bindings, RunOptions oracle, long? maxMemory, bool fastCalls,
        bool stats, bool quiet, CliContext cli)
    {
        if (oracle.Inputs != null)
        {
            if (source.Path == LmnCommandLine.StdinName) throw new Commands.UsageException("--inputs: the program must be a file, not standard input");
            return BatchCommand.Run(source.Path, bindings, oracle, maxMemory, fastCalls, stats, quiet, cli.Out, cli.Err);
        }
        var prog = Load(source, bindings, quiet, cli.Err);
        StartupTrace.Mark("compiled");
        if (prog == null) return 1;
        return RunCommand.Run(prog, oracle, RunCore.Context(bindings), maxMemory ?? Engine.DefaultMaxMemory, fastCalls, stats, cli.Out, cli.Err, cli.Cancellation);
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

    public static int Check(string file, List<KeyValuePair<string, string>> context, bool quiet, TextWriter stdout, TextWriter stderr)
    {
        var prog = Load(file, context, quiet, stderr);
        if (prog == null) return 1;
        stdout.WriteLine($"{file}: ok");
        return 0;
    }

    public static int Compile(string file, List<KeyValuePair<string, string>> context, bool quiet, string? emit, TextWriter stdout, TextWriter stderr)
    {
        var prog = Load(file, context, quiet, stderr);
        if (prog == null) return 1;
        switch (emit ?? "net")
        {
            case "hvm":
                if (prog.Sites.Count > 0)
                    stderr.WriteLine($"lmn: warning: {file} has {prog.Sites.Count} oracle site(s); HVM2 cannot ask an oracle, so each @ask.N is an eraser there");
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
