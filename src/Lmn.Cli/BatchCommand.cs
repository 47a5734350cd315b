using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Lmn.Language;
using Lmn.Oracles;
using Lmn.Runtime;
using Lmn.Text;
using Lmn.Words;

namespace Lmn.Cli;

/// <summary>One input of a batch run: its number (1-based, in file order), its line, its fields, or why it cannot be read.</summary>
public sealed record BatchInput(int Index, int Line, List<KeyValuePair<string, string>> Fields, string? Error);

/// <summary>What one input gave: the value (LMN text), the questions it asked with their answers, or an error.</summary>
public sealed record BatchOutcome(BatchInput Input, string? Value, List<(string Expression, string Answer)> Questions, string? Error);

/// <summary>
/// `lmn run prog.lmn --inputs data.jsonl|data.csv`: one run of the program per input, the input's fields
/// as its anchors; inputs run concurrently (--jobs), their questions go out together (a
/// <see cref="CoalescingOracle"/> over the resolver); one JSON line per input on stdout, in input
/// order. `--shard i/n` takes every n-th input starting at the i-th. See docs/scaling.md.
/// </summary>
public static class BatchCommand
{
    public const long DefaultInputMemory = 16L << 20;

    /// <summary>Reads the inputs: JSON lines (an object per line) or CSV with a header row.</summary>
    public static List<BatchInput> ReadInputs(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new Commands.UsageException($"--inputs {path}: {e.Message}"); }
        if (path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase)) return ReadCsv(path, text);
        if (!(path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)))
            throw new Commands.UsageException($"--inputs {path}: expected a .jsonl (one JSON object per line) or .csv (header row) file");
        var list = new List<BatchInput>();
        int line = 0;
        foreach (string raw in text.Split('\n'))
        {
            line++;
            string s = raw.TrimEnd('\r');
            if (s.Trim().Length == 0) continue;
            int index = list.Count + 1;
            try
            {
                using var doc = JsonDocument.Parse(s);
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                {
                    list.Add(new BatchInput(index, line, [], $"{path}:{line}:1: expected a JSON object such as {{\"msg\": \"...\"}}, got {doc.RootElement.ValueKind.ToString().ToLowerInvariant()}"));
                    continue;
                }
                var fields = new List<KeyValuePair<string, string>>();
                foreach (var m in doc.RootElement.EnumerateObject())
                    fields.Add(new(m.Name.TrimStart('@'), LmnCommands.JsonValue($"{path}:{line}", m.Name.TrimStart('@'), m.Value)));
                list.Add(new BatchInput(index, line, fields, null));
            }
            catch (JsonException e)
            {
                list.Add(new BatchInput(index, line, [], $"{path}:{line}:{(e.BytePositionInLine ?? 0) + 1}: not valid JSON: {e.Message.Split(" Path:")[0].Split(" LineNumber:")[0]}"));
            }
            catch (Commands.UsageException e)
            {
                list.Add(new BatchInput(index, line, [], e.Message.Replace("--context-file ", "")));
            }
        }
        return list;
    }

    private static List<BatchInput> ReadCsv(string path, string text)
    {
        var rows = CsvRows(text);
        if (rows.Count == 0) throw new Commands.UsageException($"--inputs {path}: empty; expected a header row of field names");
        var header = rows[0].Fields.Select(h => h.Trim().TrimStart('@')).ToList();
        for (int i = 0; i < header.Count; i++)
            if (header[i].Length == 0) throw new Commands.UsageException($"--inputs {path}:{rows[0].Line}:{i + 1}: header field {i + 1} is empty; every column needs a name");
        var list = new List<BatchInput>();
        foreach (var (line, fields) in rows.Skip(1))
        {
            if (fields.Count == 1 && fields[0].Length == 0) continue;
            int index = list.Count + 1;
            if (fields.Count != header.Count)
            {
                list.Add(new BatchInput(index, line, [], $"{path}:{line}:1: {fields.Count} field{(fields.Count == 1 ? "" : "s")}, but the header has {header.Count}"));
                continue;
            }
            list.Add(new BatchInput(index, line, header.Zip(fields, (h, v) => new KeyValuePair<string, string>(h, v)).ToList(), null));
        }
        return list;
    }

    /// <summary>RFC 4180 rows: quoted fields may hold commas, quotes ("") and newlines.</summary>
    private static List<(int Line, List<string> Fields)> CsvRows(string text)
    {
        var rows = new List<(int, List<string>)>();
        var fields = new List<string>();
        var sb = new StringBuilder();
        bool quoted = false, any = false;
        int line = 1, start = 1;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { sb.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else { if (c == '\n') line++; sb.Append(c); }
                continue;
            }
            switch (c)
            {
                case '"': quoted = true; any = true; break;
                case ',': fields.Add(sb.ToString()); sb.Clear(); any = true; break;
                case '\r': break;
                case '\n':
                    fields.Add(sb.ToString());
                    sb.Clear();
                    rows.Add((start, fields));
                    fields = [];
                    any = false;
                    line++;
                    start = line;
                    break;
                default: sb.Append(c); any = true; break;
            }
        }
        if (any || sb.Length > 0 || fields.Count > 0)
        {
            fields.Add(sb.ToString());
            rows.Add((start, fields));
        }
        return rows;
    }

    /// <summary>`--shard i/n`: i from 1 to n.</summary>
    public static (int I, int N) ParseShard(string s)
    {
        int slash = s.IndexOf('/');
        if (slash > 0 && int.TryParse(s[..slash], NumberStyles.None, CultureInfo.InvariantCulture, out int i)
            && int.TryParse(s[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 && i >= 1 && i <= n)
            return (i, n);
        throw new Commands.UsageException($"--shard {s}: expected i/n with 1 <= i <= n, such as 1/4 (the first of four machines)");
    }

    public static int Run(string file, List<KeyValuePair<string, string>> baseContext, RunOptions o, long? maxMemory, bool fastCalls,
        bool stats, bool quiet, TextWriter stdout, TextWriter stderr)
    {
        if (!File.Exists(file))
        {
            stderr.WriteLine($"lmn: {file}: no such file");
            return 1;
        }
        if (!File.Exists(o.Inputs)) throw new Commands.UsageException($"--inputs {o.Inputs}: no such file");
        var all = ReadInputs(o.Inputs!);
        var (si, sn) = o.Shard;
        var inputs = all.Where(x => (x.Index - 1) % sn == si - 1).ToList();
        var source = SourceText.FromFile(file);

        // The program is checked once, with the first input's anchors, so that its own errors stop the run.
        // The check is the compilation of that input's template, which the inputs of its shape then use
        // (it used to be a compilation of its own, thrown away); errors, and any message that would show a
        // placeholder string, come from a compilation with the input's own text.
        var templates = new Templates(source);
        {
            var first = inputs.FirstOrDefault(x => x.Error == null)?.Fields ?? [];
            var fields = baseContext.Count == 0 ? first : [.. baseContext, .. first];
            var diags = new List<Diagnostic>();
            var prog = templates.Compile(fields, diags, allDiagnostics: true);
            if (prog == null || diags.Any(d => d.Render().Contains(Templates.PlaceholderMark)))
            {
                diags.Clear();
                var ctx = LmnDriver.ParseContext(fields, diags);
                prog = diags.Count == 0 ? LmnDriver.Compile(source, diags, ctx) : null;
            }
            if (prog == null)
            {
                foreach (var d in diags) if (d.Severity == Severity.Error || !quiet) stderr.WriteLine(d.Render());
                int errors = diags.Count(d => d.Severity == Severity.Error);
                stderr.WriteLine($"{errors} error{(errors == 1 ? "" : "s")}");
                return 1;
            }
            if (!quiet) foreach (var d in diags) stderr.WriteLine(d.Render());
        }

        using var setup = RunCommand.Setup(o, stderr);
        if (setup.Failed) return 1;
        int? capacity = setup.Oracle is Lmn.Llm.EndpointPool pool ? pool.Endpoints.Sum(e => e.MaxConcurrency) : null;
        var coalescer = new CoalescingOracle(setup.Oracle, o.BatchSize, capacity: capacity);
        var resumed = setup.Resume == null ? null : OraclePipeline.IndexResume(setup.Resume);
        var checker = new LmnTermChecker(Lexicon.Default);
        long mem = maxMemory ?? DefaultInputMemory;
        int jobs = Math.Max(1, o.Jobs ?? DefaultJobs(setup.Oracle, o.BatchSize, capacity));
        // One pipeline for every input: its stages keep nothing of a run (each round has its own context),
        // its counters add up over the inputs (the batch counts its questions itself, see Answered).
        var pipeline = new OraclePipeline(coalescer, checker, setup.Policies, setup.Cache, setup.Transcript) { Resumed = resumed ?? OraclePipeline.NoResume };
        // An engine per job at most, reset between inputs (see EnginePool).
        using var engines = new Lmn.Net.EnginePool(jobs);

        var outcomes = new BatchOutcome?[inputs.Count];
        int next = 0, done = 0, failed = 0, asked = 0, cached = 0;
        long compileTicks = 0;
        var writeLock = new object();
        var sw = Stopwatch.StartNew();
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        long alloc0 = GC.GetTotalAllocatedBytes();
        int gc0 = GC.CollectionCount(0);
        var pause0 = GC.GetTotalPauseDuration();
        bool terminal = !Console.IsErrorRedirected && ReferenceEquals(stderr, Console.Error);
        using var progress = terminal ? new Timer(_ => Progress(stderr, Volatile.Read(ref done), inputs.Count, sw.Elapsed, Volatile.Read(ref asked), Volatile.Read(ref cached)), null, 250, 250) : null;

        // Console.Out flushes every line; a buffered stream flushed ten times a second costs one write per
        // flush, and takes each line's UTF-8 bytes as the JSON writer made them (no string, no second
        // encoding). Any other writer (the tests' StringWriter) gets the line as a string.
        var raw = ReferenceEquals(stdout, Console.Out) ? new BufferedStream(Console.OpenStandardOutput(), 1 << 16) : null;
        var output = stdout;
        void FlushOutput() { if (raw != null) raw.Flush(); else output.Flush(); }
        bool dirty = false;
        using var flusher = new Timer(_ => { lock (writeLock) if (dirty) { FlushOutput(); dirty = false; } }, null, 100, 100);
        var lines = new LineWriter();
        void Complete(int k, BatchOutcome r)
        {
            lock (writeLock)
            {
                outcomes[k] = r;
                while (next < outcomes.Length && outcomes[next] is { } ready)
                {
                    if (raw != null) lines.WriteTo(raw, ready);
                    else output.WriteLine(lines.Line(ready));
                    outcomes[next] = null;
                    next++;
                    dirty = true;
                }
            }
            Interlocked.Increment(ref done);
            if (r.Error != null) Interlocked.Increment(ref failed);
        }

        async Task RunOne(int k)
        {
            var input = inputs[k];
            if (input.Error != null)
            {
                Complete(k, new BatchOutcome(input, null, [], input.Error));
                return;
            }
            var questions = new List<(string, string)>();
            try
            {
                var fields = baseContext.Count == 0 ? input.Fields : [.. baseContext, .. input.Fields];
                var diags = new List<Diagnostic>();
                long t0 = Stopwatch.GetTimestamp();
                var prog = templates.Compile(fields, diags);
                Interlocked.Add(ref compileTicks, Stopwatch.GetTimestamp() - t0);
                if (prog == null)
                {
                    Complete(k, new BatchOutcome(input, null, [], string.Join("\n", diags.Where(d => d.Severity == Severity.Error).Select(d => d.Render()))));
                    return;
                }
                // The last binding of a name wins (an input's own field over --context), as in a single run.
                var context = RunCore.Context(fields);
                var sup = new Supervisor(prog, pipeline, new SupervisorOptions
                {
                    Context = context,
                    MaxMemory = mem,
                    Threads = 1,
                    FastCalls = fastCalls,
                    Engines = engines,
                    Answered = a =>
                    {
                        questions.Add((a.Request.Expression, a.Substitution));
                        if (a.Source is AnswerSource.Cache or AnswerSource.Transcript) Interlocked.Increment(ref cached);
                        else Interlocked.Increment(ref asked);
                    },
                });
                var r = await sup.RunAsync(CancellationToken.None).ConfigureAwait(false);
                Complete(k, new BatchOutcome(input, r.Output, questions, r.Error));
            }
            catch (TranscriptWriteException)
            {
                throw;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Complete(k, new BatchOutcome(input, null, questions, $"input {input.Index} (line {input.Line}): error: {e.Message}"));
            }
        }

        // --jobs loops, each taking the next input when its last one is done (a gate and a task per input
        // kept the main thread spinning on the gate: a seventh of the run's CPU).
        int nextInput = -1;
        async Task Job()
        {
            int k;
            while ((k = Interlocked.Increment(ref nextInput)) < inputs.Count) await RunOne(k).ConfigureAwait(false);
        }
        var tasks = new Task[Math.Min(jobs, inputs.Count)];
        try
        {
            for (int j = 0; j < tasks.Length; j++) tasks[j] = Task.Run(Job);
            Task.WaitAll(tasks);
        }
        catch (AggregateException e) when (e.InnerExceptions.OfType<TranscriptWriteException>().FirstOrDefault() is { } t)
        {
            if (terminal) stderr.Write("\r\x1b[2K");
            flusher.Dispose();
            lock (writeLock) FlushOutput();
            stderr.WriteLine($"lmn: --transcript {o.Transcript}: {t.Message}; the run was stopped (a run that cannot be recorded cannot be resumed)");
            return 1;
        }
        progress?.Dispose();
        flusher.Dispose();
        lock (writeLock) FlushOutput();
        sw.Stop();
        double batchCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        long allocated = GC.GetTotalAllocatedBytes() - alloc0;
        int gcs = GC.CollectionCount(0) - gc0;
        var pause = GC.GetTotalPauseDuration() - pause0;
        if (terminal)
        {
            // The bar's last state stays on the terminal.
            Progress(stderr, done, inputs.Count, sw.Elapsed, asked, cached);
            stderr.WriteLine();
        }
        setup.Finish(stderr);
        if (stats)
        {
            stderr.Write(string.Create(CultureInfo.InvariantCulture, $"""
                inputs: {inputs.Count}
                inputs_total: {all.Count}
                shard: {si}/{sn}
                jobs: {jobs}
                failed: {failed}
                questions: {asked + cached}
                asked: {asked}
                cache_hits: {cached}
                oracle_calls: {coalescer.Calls}
                oracle_questions: {coalescer.Questions}
                shared_between_inputs: {coalescer.Shared}
                wall: {sw.Elapsed.TotalSeconds:F3}s
                compile_cpu: {compileTicks / (double)Stopwatch.Frequency:F3}s
                cpu: {Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds:F3}s
                batch_cpu: {batchCpu:F3}s
                allocated_per_input: {allocated / Math.Max(1, inputs.Count)}
                gc_collections: {gcs}
                gc_pause: {pause.TotalSeconds:F3}s
                jit_methods: {System.Runtime.JitInfo.GetCompiledMethodCount()}
                jit_time: {System.Runtime.JitInfo.GetCompilationTime().TotalSeconds:F3}s
                inputs_per_s: {inputs.Count / Math.Max(sw.Elapsed.TotalSeconds, 1e-9):F1}

                """));
            RunCommand.WriteOracleStats(setup.Oracle, setup.Cache, stderr);
        }
        return failed == 0 ? 0 : 1;
    }

    /// <summary>
    /// Inputs in progress at once when --jobs is not given: enough to keep the oracle busy and no more,
    /// since every input in progress holds a net, a supervisor and its questions, and a thousand of them
    /// spread a batch's work over more memory than the caches hold (10,000 inputs, an instant oracle,
    /// warm: 73 µs per input with 1000 in progress, 40-43 µs with 50-200). An in-process oracle answers
    /// at once: four batches. An endpoint pool makes <paramref name="capacity"/> calls at once: two
    /// batches per call slot (one in flight, one filling). Any other oracle (one LLM endpoint, a process,
    /// a person) has a latency and a concurrency this cannot see: 1000.
    /// </summary>
    public static int DefaultJobs(IOracle oracle, int batchSize, int? capacity)
    {
        const int Most = 1000;
        int batch = Math.Max(1, batchSize);
        if (oracle is FirstOracle or LexiconOracle or ReplayOracle or ScriptOracle or Lmn.Semantic.SemanticOracle)
            return (int)Math.Min(Most, 4L * batch);
        if (capacity is > 0 and var c) return (int)Math.Min(Most, 2L * c * batch);
        return Most;
    }

    /// <summary>
    /// Compiles each input's program from a template: inputs whose fields are strings in the same places
    /// (and equal elsewhere) share one compilation made with placeholder strings; each gets a copy of its
    /// symbol table that holds its own text. The program is the one a compilation with the input's own
    /// context gives, since a string is only its symbol to the net; an input whose text equals a string of
    /// the program or another of its fields (equal strings share a symbol) is compiled on its own.
    /// </summary>
    private sealed class Templates(SourceText source)
    {
        private sealed record Template(CompiledProgram? Program, List<Diagnostic> Diagnostics, Dictionary<string, string> Placeholders, HashSet<string> Strings);

        /// <summary>In every placeholder string (no text read from a file or a context spells it).</summary>
        public const char PlaceholderMark = '\u0001';

        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<Template>> _cache = new(StringComparer.Ordinal);
        private int _shapes;


        /// <summary>The program of an input with these fields (null: its errors are in <paramref name="diags"/>; with <paramref name="allDiagnostics"/> its warnings too).</summary>
        public CompiledProgram? Compile(List<KeyValuePair<string, string>> fields, List<Diagnostic> diags, bool allDiagnostics = false)
        {
            // This runs per input: its lists are the thread's, reused (they do not outlive the call).
            var sc = t_scratch ??= new Scratch();
            // The last binding of each name, sorted by name (one loop and a sort).
            var last = sc.Last;
            last.Clear();
            foreach (var f in fields)
            {
                int at = last.Count - 1;
                while (at >= 0 && last[at].Key != f.Key) at--;
                if (at >= 0) last[at] = f;
                else last.Add(f);
            }
            if (last.Count > 1) last.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
            var strs = sc.Strs;
            var isString = sc.IsString;
            strs.Clear();
            isString.Clear();
            for (int i = 0; i < last.Count; i++)
            {
                strs.Add(LmnDriver.ContextValue(last[i].Key, last[i].Value) as StrLit);
                isString.Add(strs[i] != null);
            }
            var shape = sc.Shape;
            shape.Clear();
            for (int i = 0; i < last.Count; i++)
                shape.Append(last[i].Key).Append('\u001f').Append(isString[i] ? "\u0001" : last[i].Value.Trim()).Append('\u001e');
            // ConcurrentDictionary.Count takes every lock of the table: the shapes made are counted here instead.
            if (Volatile.Read(ref _shapes) > 10_000)
            {
                _cache.Clear();
                Interlocked.Exchange(ref _shapes, 0);
            }
            string key = shape.ToString();
            if (!_cache.TryGetValue(key, out var lazy)) lazy = AddShape(key, last, isString);
            var t = lazy.Value;
            int before = diags.Count;
            if (t.Program == null || allDiagnostics) diags.AddRange(t.Diagnostics);
            if (t.Program == null) return null;
            var map = sc.Map;
            var values = sc.Values;
            map.Clear();
            values.Clear();
            for (int i = 0; i < last.Count; i++)
            {
                if (!isString[i]) continue;
                string text = strs[i]!.Value;
                if (t.Strings.Contains(text) || !values.Add(text))
                {
                    diags.RemoveRange(before, diags.Count - before);   // the direct compilation's own, not the template's
                    return Direct(fields, diags);
                }
                if (t.Placeholders.TryGetValue(last[i].Key, out string? ph)) map[ph] = text;
            }
            // (Copy reads the map and keeps nothing of it.)
            return t.Program.WithSymbols(t.Program.Symbols.Copy(map));
        }

        /// <summary>A new shape's template, compiled on first use from copies of the thread's lists (another thread may be the one that compiles it).</summary>
        private Lazy<Template> AddShape(string key, List<KeyValuePair<string, string>> last, List<bool> isString)
        {
            var fields = new List<KeyValuePair<string, string>>(last);
            var strings = new List<bool>(isString);
            return _cache.GetOrAdd(key, _ =>
            {
                Interlocked.Increment(ref _shapes);
                return new Lazy<Template>(() => Build(fields, strings));
            });
        }

        private sealed class Scratch
        {
            public readonly List<KeyValuePair<string, string>> Last = [];
            public readonly List<StrLit?> Strs = [];
            public readonly List<bool> IsString = [];
            public readonly StringBuilder Shape = new();
            public readonly Dictionary<string, string> Map = new(StringComparer.Ordinal);
            public readonly HashSet<string> Values = new(StringComparer.Ordinal);
        }

        [ThreadStatic] private static Scratch? t_scratch;

        private Template Build(List<KeyValuePair<string, string>> fields, List<bool> isString)
        {
            var placeholders = new Dictionary<string, string>(StringComparer.Ordinal);
            var bound = new List<KeyValuePair<string, string>>();
            for (int i = 0; i < fields.Count; i++)
            {
                if (isString[i])
                {
                    string ph = $"{PlaceholderMark}lmn-input-field{PlaceholderMark}{fields[i].Key}{PlaceholderMark}";
                    placeholders[fields[i].Key] = ph;
                    bound.Add(new(fields[i].Key, ph));
                }
                else bound.Add(fields[i]);
            }
            var diags = new List<Diagnostic>();
            var ctx = LmnDriver.ParseContext(bound, diags);
            var prog = diags.Count == 0 ? LmnDriver.Compile(source, diags, ctx) : null;
            var strings = new HashSet<string>(StringComparer.Ordinal);
            if (prog != null)
                foreach (var sym in prog.Symbols.All)
                    if (sym.Kind == SymKind.String && !placeholders.ContainsValue(sym.Name)) strings.Add(sym.Name);
            return new Template(prog, diags, placeholders, strings);
        }

        private CompiledProgram? Direct(List<KeyValuePair<string, string>> fields, List<Diagnostic> diags)
        {
            var ctx = LmnDriver.ParseContext(fields, diags);
            return diags.Count == 0 ? LmnDriver.Compile(source, diags, ctx) : null;
        }
    }

    private static void Progress(TextWriter w, int done, int total, TimeSpan elapsed, int asked, int cached)
    {
        double rate = done / Math.Max(elapsed.TotalSeconds, 1e-3);
        string eta = rate > 0 && done < total ? TimeSpan.FromSeconds((total - done) / rate).ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) : "--:--:--";
        int width = 24, fill = total == 0 ? width : (int)((long)done * width / total);
        string bar = new string('#', fill) + new string('.', width - fill);
        try { w.Write(string.Create(CultureInfo.InvariantCulture, $"\r\x1b[2K[{bar}] {done}/{total} · {rate:F0}/s · ETA {eta} · asked {asked} · cached {cached}")); }
        catch (IOException) { }
    }

    /// <summary>One output line: {"input":N,"line":L,"value":"...","questions":[{"expression","answer"}],"error":null}.</summary>
    public static string Line(BatchOutcome r) => new LineWriter().Line(r);

    /// <summary>Writes output lines with one buffer and one JSON writer, reused line after line (not thread-safe: the batch writes under its lock).</summary>
    internal sealed class LineWriter
    {
        private readonly System.Buffers.ArrayBufferWriter<byte> _buf = new(512);
        private readonly Utf8JsonWriter _w;

        public LineWriter()
        {
            _w = new Utf8JsonWriter(_buf, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        }

        public string Line(BatchOutcome r) => Encoding.UTF8.GetString(Render(r));

        private static readonly byte[] NewLine = Encoding.UTF8.GetBytes(Environment.NewLine);   // what WriteLine ends a line with

        /// <summary>The line and its newline, written as UTF-8 bytes.</summary>
        public void WriteTo(Stream s, BatchOutcome r)
        {
            s.Write(Render(r));
            s.Write(NewLine);
        }

        /// <summary>The line's UTF-8 bytes, in the reused buffer (valid until the next line).</summary>
        private ReadOnlySpan<byte> Render(BatchOutcome r)
        {
            _buf.ResetWrittenCount();
            _w.Reset(_buf);
            Write(_w, r);
            _w.Flush();
            return _buf.WrittenSpan;
        }
    }

    private static void Write(Utf8JsonWriter w, BatchOutcome r)
    {
        w.WriteStartObject();
        w.WriteNumber("input", r.Input.Index);
        w.WriteNumber("line", r.Input.Line);
        if (r.Value != null) w.WriteString("value", r.Value);
        else w.WriteNull("value");
        w.WriteStartArray("questions");
        foreach (var (q, a) in r.Questions)
        {
            w.WriteStartObject();
            w.WriteString("expression", q);
            w.WriteString("answer", a);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (r.Error != null) w.WriteString("error", r.Error);
        else w.WriteNull("error");
        w.WriteEndObject();
    }
}
