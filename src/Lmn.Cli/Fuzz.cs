using System.Diagnostics;
using System.Globalization;
using System.Text;
using Lmn.Hvm;
using Lmn.Language;
using Lmn.Net;
using Lmn.Text;

namespace Lmn.Cli;

/// <summary>One input that broke a rule of the fuzz harness.</summary>
public sealed record FuzzFailure(string Kind, int Index, string Mutation, string Problem, string Excerpt)
{
    public override string ToString() => $"{Kind} input #{Index} ({Mutation}): {Problem}\n  input starts: {Excerpt}";
}

/// <summary>What a fuzz run did.</summary>
public sealed class FuzzReport
{
    public int LmnInputs, HvmInputs, LmnAccepted, HvmAccepted, LmnRejected, HvmRejected;
    public List<FuzzFailure> Failures { get; } = [];
    public TimeSpan Time;
    public double SlowestMs;
    public string Slowest = "";
}

/// <summary>
/// The parsers' fuzz harness: mutates the example programs (byte flips, deletions, duplications, splices,
/// deep nesting, huge literals, invalid UTF-8, NUL bytes, very long lines, truncation) and feeds each
/// result through the entry points `lmn check`, `lmn compile` and `lmn run` use: Parser.Parse and
/// LmnDriver.Compile for .lmn, HvmParser.Parse and Book.FromHvm for .hvm. The rules: no exception escapes;
/// every rejection has at least one error, and every error is located (a position inside the text)
/// and names no .NET exception; every accepted program's emitted text parses back (for .hvm, printing
/// it again gives the same text). Seeded: a run is repeatable, and a failure names its seed and index.
/// Each input runs on a thread with the CLI's 512 MB stack and a time limit, so a hang is reported too.
/// </summary>
public static class Fuzz
{
    public sealed record Options
    {
        public int InputsPerParser { get; init; } = 2000;
        public int Seed { get; init; } = 11;
        /// <summary>Deepest nesting and longest line a mutation makes (the long run goes further).</summary>
        public int MaxDepth { get; init; } = 1000;
        public int MaxLine { get; init; } = 20_000;
        public TimeSpan PerInputLimit { get; init; } = TimeSpan.FromSeconds(30);
    }

    public static FuzzReport Run(IReadOnlyList<(string Path, byte[] Bytes)> corpus, Options o, TextWriter? progress = null)
    {
        var lmn = corpus.Where(c => c.Path.EndsWith(".lmn", StringComparison.Ordinal)).ToList();
        var hvm = corpus.Where(c => c.Path.EndsWith(".hvm", StringComparison.Ordinal)).ToList();
        if (lmn.Count == 0 || hvm.Count == 0) throw new ArgumentException("the corpus needs .lmn and .hvm files", nameof(corpus));
        var report = new FuzzReport();
        var rng = new Random(o.Seed);
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < o.InputsPerParser; i++)
        {
            foreach (var (kind, files) in new[] { ("lmn", lmn), ("hvm", hvm) })
            {
                var (bytes, mutation) = Mutate(rng, files, kind, o);
                string text = Decode(bytes);
                var t0 = Stopwatch.GetTimestamp();
                string? problem = RunOne(kind, text, o.PerInputLimit, report);
                double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                if (ms > report.SlowestMs)
                {
                    report.SlowestMs = ms;
                    report.Slowest = $"{kind} #{i} ({mutation}, {text.Length} chars)";
                }
                if (kind == "lmn") report.LmnInputs++; else report.HvmInputs++;
                if (problem != null)
                    report.Failures.Add(new FuzzFailure(kind, i, mutation, problem, Excerpt(text)));
            }
            if (progress != null && (i + 1) % 500 == 0)
            {
                progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {i + 1} of {o.InputsPerParser} per parser, {report.Failures.Count} failures, {sw.Elapsed.TotalSeconds:F1} s"));
                progress.Flush();
            }
        }
        report.Time = sw.Elapsed;
        return report;
    }

    /// <summary>The examples and benchmark programs under a repository root.</summary>
    public static List<(string Path, byte[] Bytes)> Corpus(string root)
    {
        var list = new List<(string, byte[])>();
        foreach (string dir in new[] { "examples", "bench" })
        {
            string d = Path.Combine(root, dir);
            if (!Directory.Exists(d)) continue;
            foreach (string f in Directory.GetFiles(d).Where(f => f.EndsWith(".lmn", StringComparison.Ordinal) || f.EndsWith(".hvm", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
                list.Add((f, File.ReadAllBytes(f)));
        }
        return list;
    }

    /// <summary>Bytes to text exactly as `lmn check FILE` reads a file (UTF-8, a BOM dropped, bad bytes as U+FFFD).</summary>
    private static string Decode(byte[] bytes)
    {
        using var r = new StreamReader(new MemoryStream(bytes), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return r.ReadToEnd();
    }

    private static string Excerpt(string text)
    {
        string s = text.Length > 120 ? text[..120] + $"... ({text.Length} chars)" : text;
        var sb = new StringBuilder();
        foreach (char c in s) sb.Append(c < ' ' && c != '\n' ? $"\\u{(int)c:X4}" : c == '\n' ? "\\n" : c.ToString());
        return sb.ToString();
    }

    /// <summary>Runs one input on a thread of its own; the problem found, or null.</summary>
    private static string? RunOne(string kind, string text, TimeSpan limit, FuzzReport report)
    {
        string? problem = null;
        bool accepted = false;
        var t = new Thread(() =>
        {
            try { problem = kind == "lmn" ? CheckLmn(text, out accepted) : CheckHvm(text, out accepted); }
            catch (Exception e) { problem = $"an exception escaped: {e.GetType().Name}: {e.Message}"; }
        }, 1 << 29) { IsBackground = true, Name = "lmn-fuzz" };
        t.Start();
        if (!t.Join(limit)) return $"no answer within {limit.TotalSeconds:0} s (a hang)";
        if (problem == null)
        {
            if (kind == "lmn") { if (accepted) report.LmnAccepted++; else report.LmnRejected++; }
            else { if (accepted) report.HvmAccepted++; else report.HvmRejected++; }
        }
        return problem;
    }

    private static string? CheckLmn(string text, out bool accepted)
    {
        var src = new SourceText("fuzz.lmn", text);
        var parseDiags = new List<Diagnostic>();
        Parser.Parse(src, parseDiags);
        if (Unlocated(parseDiags, text) is { } p0) { accepted = false; return "Parser.Parse: " + p0; }
        var diags = new List<Diagnostic>();
        var prog = LmnDriver.Compile(src, diags);
        if (Unlocated(diags, text) is { } p1) { accepted = false; return "LmnDriver.Compile: " + p1; }
        if (prog == null)
        {
            accepted = false;
            return diags.Any(d => d.Severity == Severity.Error) ? null : "LmnDriver.Compile rejected the program without an error";
        }
        accepted = true;
        string emitted = prog.Book.Show();
        try
        {
            var back = HvmParser.Parse(new SourceText("emitted.hvm", emitted));
            Book.FromHvm(back);
            LmnDriver.BuildBook(prog);
        }
        catch (DiagnosticException e)
        {
            return "the emitted .hvm text does not parse back: " + e.Diagnostics[0].Render().Split('\n')[0];
        }
        return null;
    }

    private static string? CheckHvm(string text, out bool accepted)
    {
        HvmBook book;
        try
        {
            book = HvmParser.Parse(new SourceText("fuzz.hvm", text));
        }
        catch (DiagnosticException e)
        {
            accepted = false;
            if (!e.Diagnostics.Any(d => d.Severity == Severity.Error)) return "rejected without an error";
            return Unlocated(e.Diagnostics, text);
        }
        accepted = true;
        Book.FromHvm(book);
        string shown = book.Show();
        try
        {
            var again = HvmParser.Parse(new SourceText("shown.hvm", shown));
            if (again.Show() != shown) return "printing the parsed book, parsing and printing again gives another text";
        }
        catch (DiagnosticException e)
        {
            return "the printed book does not parse back: " + e.Diagnostics[0].Render().Split('\n')[0];
        }
        return null;
    }

    /// <summary>The first diagnostic that is not located inside its text, names a .NET exception, or cannot be shown.</summary>
    private static string? Unlocated(IEnumerable<Diagnostic> diags, string text)
    {
        foreach (var d in diags)
        {
            if (d.Source == null) return $"a diagnostic without a source: {d.Message}";
            if (d.Offset < 0 || d.Offset > d.Source.Text.Length) return $"a diagnostic at offset {d.Offset}, outside its text of {d.Source.Text.Length} characters: {d.Message}";
            if (string.IsNullOrWhiteSpace(d.Message)) return "a diagnostic with no message";
            if (d.Message.Contains("Exception", StringComparison.Ordinal)) return $"a message that names a .NET exception: {d.Message}";
            string shown = d.Render();
            if (!shown.StartsWith(d.Source.Path + ":", StringComparison.Ordinal)) return $"a diagnostic shown without its location: {shown}";
        }
        return null;
    }

    private static readonly string[] HugeLiterals =
    [
        "18446744073709551616", "+0xFFFFFFFFFFFFFFFF", "-0x8000000000000000", "9223372036854775808", "1e999", "-1e-999",
        "0b" + new string('1', 70), new string('9', 400), "0x" + new string('F', 40), "+inf", "NaN", "16777216", "-8388609",
        "1.5e38", "340282366920938463463374607431768211456",
    ];

    private static readonly byte[][] BadUtf8 =
    [
        [0xC3], [0xFF], [0xFE, 0xFF], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x88], [0xEF, 0xBB, 0xBF],
    ];

    private const string Punctuation = "()[]{}<>@$?*~=;,.:\"\\|&!+-/%^#'`_\n\t ";

    private static (byte[] Bytes, string Mutation) Mutate(Random rng, List<(string Path, byte[] Bytes)> files, string kind, Options o)
    {
        var (path, original) = files[rng.Next(files.Count)];
        var b = new List<byte>(original);
        int steps = 1 + (rng.Next(4) == 0 ? rng.Next(3) : 0);
        var names = new List<string>();
        for (int s = 0; s < steps; s++)
        {
            int m = rng.Next(11);
            int at = b.Count == 0 ? 0 : rng.Next(b.Count + 1);
            switch (m)
            {
                case 0: // byte flips
                {
                    int n = 1 + rng.Next(8);
                    for (int k = 0; k < n && b.Count > 0; k++)
                        b[rng.Next(b.Count)] = rng.Next(2) == 0 ? (byte)rng.Next(256) : (byte)Punctuation[rng.Next(Punctuation.Length)];
                    names.Add("flip");
                    break;
                }
                case 1: // deletion
                {
                    int n = Math.Min(b.Count - Math.Min(at, b.Count), 1 + rng.Next(64));
                    if (n > 0) b.RemoveRange(Math.Min(at, b.Count - n), n);
                    names.Add("delete");
                    break;
                }
                case 2: // duplication
                {
                    if (b.Count == 0) break;
                    int from = rng.Next(b.Count);
                    int n = Math.Min(b.Count - from, 1 + rng.Next(256));
                    int times = rng.Next(4) == 0 ? 1 + rng.Next(50) : 1;
                    var span = b.GetRange(from, n);
                    for (int k = 0; k < times; k++) b.InsertRange(Math.Min(at, b.Count), span);
                    names.Add("duplicate");
                    break;
                }
                case 3: // splice from another program of the same kind
                {
                    var other = files[rng.Next(files.Count)].Bytes;
                    if (other.Length == 0) break;
                    int from = rng.Next(other.Length);
                    int n = Math.Min(other.Length - from, 1 + rng.Next(200));
                    b.InsertRange(Math.Min(at, b.Count), other.Skip(from).Take(n));
                    names.Add("splice");
                    break;
                }
                case 4: // deep nesting around a span, or as a whole new value
                {
                    int depth = 1 + rng.Next(o.MaxDepth);
                    var (open, close) = kind == "hvm"
                        ? rng.Next(3) switch { 0 => ("(* ", ")"), 1 => ("{a ", " a}"), _ => ("(", " *)") }
                        : rng.Next(4) switch { 0 => ("(", ")"), 1 => ("[", "]"), 2 => ("∿lov[joy, ", "]"), _ => ("fir[", ", joy]") };
                    var inner = rng.Next(2) == 0 && kind == "hvm" ? "*" : kind == "hvm" ? "1" : "joy";
                    var sb = new StringBuilder();
                    for (int k = 0; k < depth; k++) sb.Append(open);
                    sb.Append(inner);
                    for (int k = 0; k < depth; k++) sb.Append(close);
                    string nested = sb.ToString();
                    byte[] ins = Encoding.UTF8.GetBytes(rng.Next(2) == 0
                        ? (kind == "hvm" ? "\n@main = " + nested + "\n" : "\ndef main = " + nested + "\n")
                        : nested);
                    if (rng.Next(2) == 0) b.Clear();
                    b.InsertRange(Math.Min(at, b.Count), ins);
                    names.Add($"nest({depth})");
                    break;
                }
                case 5: // huge literal
                    b.InsertRange(Math.Min(at, b.Count), Encoding.UTF8.GetBytes(" " + HugeLiterals[rng.Next(HugeLiterals.Length)] + " "));
                    names.Add("huge-literal");
                    break;
                case 6: // invalid UTF-8
                    b.InsertRange(Math.Min(at, b.Count), BadUtf8[rng.Next(BadUtf8.Length)]);
                    names.Add("bad-utf8");
                    break;
                case 7: // NUL bytes
                    b.InsertRange(Math.Min(at, b.Count), Enumerable.Repeat((byte)0, 1 + rng.Next(3)));
                    names.Add("nul");
                    break;
                case 8: // a very long line
                {
                    string[] tokens = kind == "hvm" ? ["(* ", "*", "x", "1 ", "[+1]", "//"] : ["joy, ", "1 + ", "x", "\"s", "// ", "∿"];
                    string tok = tokens[rng.Next(tokens.Length)];
                    int len = 1 + rng.Next(o.MaxLine);
                    var sb = new StringBuilder(len + tok.Length);
                    while (sb.Length < len) sb.Append(tok);
                    b.InsertRange(Math.Min(at, b.Count), Encoding.UTF8.GetBytes(sb.ToString()));
                    names.Add($"long-line({sb.Length})");
                    break;
                }
                case 9: // truncation
                    if (b.Count > 0) b.RemoveRange(Math.Min(at, b.Count), b.Count - Math.Min(at, b.Count));
                    names.Add("truncate");
                    break;
                default: // a random token swapped in from the punctuation set
                    b.Insert(Math.Min(at, b.Count), (byte)Punctuation[rng.Next(Punctuation.Length)]);
                    names.Add("insert");
                    break;
            }
        }
        return (b.ToArray(), Path.GetFileName(path) + ": " + string.Join("+", names));
    }

    /// <summary>`lmn bench fuzz [--inputs N] [--seed N] [--depth N] [--line N]`: the long run.</summary>
    public static int Execute(Options o, string? root, TextWriter stdout, TextWriter stderr)
    {
        root ??= FindRoot();
        if (root == null)
        {
            stderr.WriteLine("lmn bench fuzz: no examples/ directory found; pass --dir REPO");
            return 1;
        }
        var corpus = Corpus(root);
        stdout.WriteLine($"fuzz: {corpus.Count} seed programs from {root}, {o.InputsPerParser} inputs per parser, seed {o.Seed}, nesting up to {o.MaxDepth}, lines up to {o.MaxLine} chars");
        var r = Run(corpus, o, stdout);
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"lmn: {r.LmnInputs} inputs, {r.LmnAccepted} accepted, {r.LmnRejected} rejected with located errors"));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"hvm: {r.HvmInputs} inputs, {r.HvmAccepted} accepted, {r.HvmRejected} rejected with located errors"));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"time: {r.Time.TotalSeconds:F1} s; slowest input {r.SlowestMs:F0} ms: {r.Slowest}"));
        stdout.WriteLine($"failures: {r.Failures.Count}");
        foreach (var f in r.Failures.Take(int.TryParse(Environment.GetEnvironmentVariable("LMN_FUZZ_SHOW"), out int show) ? show : 20)) stdout.WriteLine(f.ToString());
        return r.Failures.Count == 0 ? 0 : 1;
    }

    private static string? FindRoot()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
                if (Directory.Exists(Path.Combine(d.FullName, "examples")) && Directory.GetFiles(Path.Combine(d.FullName, "examples"), "*.lmn").Length > 0)
                    return d.FullName;
        }
        return null;
    }
}
