namespace Lmn.Cli;

/// <summary>
/// `lmn repl`: reads inputs line by line (an input continues on the next line while a bracket is open or
/// it ends in `=`, `;`, `,` or an arrow), evaluates each in its own region (<see cref="ReplSession"/>),
/// and keeps going after an error. Commands start with `:`.
/// </summary>
public static class Repl
{
    public const string Help = """
        :type e         what e can be (the program analysis; nothing is run or asked)
        :net e          the compiled net of e's main (HVM2 text)
        :stats          the session's counters: lines, regions, values, questions, cache hits
        :oracle NAME    switch the oracle (names as for --oracle)
        :context k=v    bind the anchor @k for the lines that follow
        :load FILE      evaluate a file's definitions and expressions into the session
        :help           this text
        :quit           end the session (so does end of input)
        """;

    /// <summary>
    /// Runs a session over <paramref name="input"/>. With a null <paramref name="editor"/> the input is read
    /// line by line with no prompt (piped input); with one, lines come from the editor (a terminal). Exit
    /// status: 0, or 1 if any input had an error (so a piped script can be checked), 2 if the session
    /// could not start.
    /// </summary>
    public static async Task<int> RunAsync(TextReader input, TextWriter output, TextWriter error, ReplOptions options,
        LineEditor? editor = null, CancellationToken cancellationToken = default)
    {
        using var session = new ReplSession(options, output, error);
        if (!session.Open()) return 1;
        if (editor != null) output.WriteLine("lmn repl · :help for commands, :quit to leave");
        if (options.Load != null && !await LoadAsync(session, options.Load, cancellationToken).ConfigureAwait(false)) { }
        var reader = new ChunkReader(editor == null ? input.ReadLine : () => editor.ReadLine(ChunkPrompt(editor)));
        while (true)
        {
            if (editor != null) editor.Continuing = false;
            var chunk = reader.Next(editor);
            if (chunk == null) break;
            var (text, line) = chunk.Value;
            if (text.StartsWith(':'))
            {
                if (!await CommandAsync(session, text, line, cancellationToken).ConfigureAwait(false)) break;
                continue;
            }
            await session.EvalAsync(text, "repl", line, cancellationToken).ConfigureAwait(false);
            output.Flush();
        }
        return session.Errors > 0 && editor == null ? 1 : 0;
    }

    private static string ChunkPrompt(LineEditor e) => e.Continuing ? "...> " : "lmn> ";

    /// <summary>Runs a `:` command; false for `:quit`.</summary>
    private static async Task<bool> CommandAsync(ReplSession s, string text, int line, CancellationToken ct)
    {
        int sp = text.IndexOfAny([' ', '\t']);
        string cmd = sp < 0 ? text : text[..sp];
        string arg = sp < 0 ? "" : text[(sp + 1)..].Trim();
        switch (cmd)
        {
            case ":quit" or ":q" or ":exit": return false;
            case ":help" or ":h" or ":?": s.Out.WriteLine(Help); return true;
            case ":stats": s.WriteStats(); return true;
            case ":type" or ":t":
                if (!Need(s, cmd, arg, "an expression", line) || !s.TypeOf(PadTo(text, arg), "repl", line)) Failed(s);
                return true;
            case ":net":
                if (!Need(s, cmd, arg, "an expression", line) || !s.NetOf(PadTo(text, arg), "repl", line)) Failed(s);
                return true;
            case ":oracle":
                if (!Need(s, cmd, arg, "an oracle name", line)) { Failed(s); return true; }
                if (s.SetOracle(arg)) s.Out.WriteLine($"oracle: {arg}");
                else Failed(s);
                return true;
            case ":context":
            {
                int eq = arg.IndexOf('=');
                if (eq <= 0)
                {
                    s.Err.WriteLine($"repl:{line}: error: {cmd} needs NAME=VALUE, such as now=present_moment");
                    Failed(s);
                    return true;
                }
                s.SetContext(arg[..eq].Trim(), arg[(eq + 1)..].Trim());
                s.Out.WriteLine($"@{arg[..eq].Trim().TrimStart('@')} = {arg[(eq + 1)..].Trim()}");
                return true;
            }
            case ":load":
                if (!Need(s, cmd, arg, "a file", line) || !await LoadAsync(s, arg, ct).ConfigureAwait(false)) Failed(s);
                return true;
            default:
                s.Err.WriteLine($"repl:{line}: error: unknown command {cmd}; :help lists them");
                Failed(s);
                return true;
        }
    }

    private static void Failed(ReplSession s) => s.CountError();

    private static bool Need(ReplSession s, string cmd, string arg, string what, int line)
    {
        if (arg.Length > 0) return true;
        s.Err.WriteLine($"repl:{line}: error: {cmd} needs {what}");
        return false;
    }

    /// <summary>The argument of a command at its own column (blanks where the command was), for located errors.</summary>
    private static string PadTo(string text, string arg) => new string(' ', text.IndexOf(arg, StringComparison.Ordinal)) + arg;

    /// <summary>`:load FILE`: each of the file's inputs in turn, errors named by the file's lines.</summary>
    private static async Task<bool> LoadAsync(ReplSession s, string file, CancellationToken ct)
    {
        string[] lines;
        try { lines = File.ReadAllLines(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            s.Err.WriteLine($"lmn: {file}: {(e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : e.Message)}");
            return false;
        }
        int i = 0;
        // In a file an indented line also continues the input before it (definitions span lines).
        var reader = new ChunkReader(() => i < lines.Length ? lines[i++] : null) { IndentContinues = true };
        bool ok = true;
        while (reader.Next(null) is { } chunk)
            ok &= await s.EvalAsync(chunk.Text, file, chunk.Line, ct).ConfigureAwait(false);
        return ok;
    }
}

/// <summary>Groups input lines into inputs: a line continues while brackets are open or it ends in an operator that needs more.</summary>
public sealed class ChunkReader(Func<string?> readLine)
{
    private int _line;
    private string? _peeked;
    private bool _hasPeek;

    /// <summary>An indented line continues the previous input (files; a terminal has no lookahead).</summary>
    public bool IndentContinues { get; init; }

    private string? Read()
    {
        if (_hasPeek) { _hasPeek = false; return _peeked; }
        return readLine();
    }

    private string? Peek()
    {
        if (!_hasPeek) { _peeked = readLine(); _hasPeek = true; }
        return _peeked;
    }

    /// <summary>The next input and the number of its first line; null at the end.</summary>
    public (string Text, int Line)? Next(LineEditor? editor)
    {
        while (true)
        {
            string? first = Read();
            if (first == null) return null;
            int start = ++_line;
            if (first.Trim().Length == 0 || first.TrimStart().StartsWith('#')) continue;
            if (first.TrimStart().StartsWith(':')) return (first.Trim(), start);
            var text = first;
            while (true)
            {
                bool more = NeedsMore(text);
                if (!more && IndentContinues && Peek() is { } p && p.Length > 0 && char.IsWhiteSpace(p[0]) && p.Trim().Length > 0) more = true;
                if (!more) break;
                if (editor != null) editor.Continuing = true;
                string? next = Read();
                if (next == null) break;
                _line++;
                text += "\n" + next;
            }
            return (text, start);
        }
    }

    /// <summary>Open brackets, or a trailing `=`, `;`, `,`, `→`, `->`, `\`, `λ` or binary operator (outside strings and comments).</summary>
    public static bool NeedsMore(string s)
    {
        int depth = 0;
        bool str = false;
        char last = ' ';
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (str)
            {
                if (c == '\\') i++;
                else if (c == '"') str = false;
                last = 'x';
                continue;
            }
            if (c == '#') { while (i < s.Length && s[i] != '\n') i++; continue; }
            if (c == '"') { str = true; last = 'x'; continue; }
            if (c is '(' or '[' or '{') depth++;
            else if (c is ')' or ']' or '}') depth--;
            if (!char.IsWhiteSpace(c)) last = c;
        }
        if (str || depth > 0) return true;
        string t = StripComment(s).TrimEnd();
        // A trailing binary operator needs its right side too.
        return last is '=' or ';' or ',' or '→' or '\\' or 'λ' or '+' or '-' or '*' or '/' or '%' or '&' or '|' or '^' or '<' or '>'
            || t.EndsWith("->", StringComparison.Ordinal);
    }

    private static string StripComment(string s)
    {
        int lastNl = s.LastIndexOf('\n');
        string tail = s[(lastNl + 1)..];
        bool str = false;
        for (int i = 0; i < tail.Length; i++)
        {
            if (str) { if (tail[i] == '\\') i++; else if (tail[i] == '"') str = false; continue; }
            if (tail[i] == '"') str = true;
            else if (tail[i] == '#') return s[..(lastNl + 1 + i)];
        }
        return s;
    }
}
