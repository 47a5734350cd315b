using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Lmn.Hvm;
using Lmn.Language;
using Lmn.Net;
using Lmn.Oracles;
using Lmn.Regions;
using Lmn.Runtime;
using Lmn.Text;
using Lmn.Words;

namespace Lmn.Debugging;

/// <summary>A program the debugger or `lmn viz` runs: an LMN program compiled, or an .hvm book.</summary>
public sealed class DebugProgram
{
    public required string Path { get; init; }
    public required string SourceText { get; init; }
    public required Book Book { get; init; }
    /// <summary>The LMN program (null for a plain .hvm file without LMN comments).</summary>
    public CompiledProgram? Lmn { get; init; }

    /// <summary>Loads FILE.lmn or FILE.hvm; diagnostics (file:line:col) in the exception.</summary>
    public static DebugProgram Load(string path, IReadOnlyDictionary<string, string>? context = null)
    {
        if (!File.Exists(path)) throw new DebugLoadException($"{path}: no such file");
        var src = Text.SourceText.FromFile(path);
        if (path.EndsWith(".lmn", StringComparison.OrdinalIgnoreCase))
        {
            var diags = new List<Diagnostic>();
            var ctx = LmnDriver.ParseContext(context ?? new Dictionary<string, string>(), diags);
            var prog = diags.Count == 0 ? LmnDriver.Compile(src, diags, ctx) : null;
            var errors = diags.Where(d => d.Severity == Severity.Error).ToList();
            if (prog == null || errors.Count > 0)
                throw new DebugLoadException(string.Join("\n", errors.Select(d => d.Render())) + $"\n{errors.Count} error{(errors.Count == 1 ? "" : "s")}");
            return new DebugProgram { Path = path, SourceText = src.Text, Book = LmnDriver.BuildBook(prog), Lmn = prog };
        }
        HvmBook ast;
        try { ast = HvmParser.Parse(src); }
        catch (DiagnosticException e)
        {
            throw new DebugLoadException(string.Join("\n", e.Diagnostics.Select(d => d.Render())) + $"\n{e.Diagnostics.Count(d => d.Severity == Severity.Error)} error(s)");
        }
        var lmn = CompiledProgram.FromHvmComments(src.Text, ast);
        var book = lmn != null ? LmnDriver.BuildBook(lmn) : Book.FromHvm(ast);
        if (!book.Fids.ContainsKey("main")) throw new DebugLoadException($"{path}: no @main definition");
        return new DebugProgram { Path = path, SourceText = src.Text, Book = book, Lmn = lmn };
    }
}

public sealed class DebugLoadException(string message) : Exception(message);

/// <summary>A site of the debugged run and everything known about it.</summary>
public sealed class DebugSite
{
    public required int Index { get; init; }
    public required ParkedSite Parked { get; init; }
    public required SiteInfo Info { get; init; }
    /// <summary>parked, ready, asked, answered or dropped.</summary>
    public string State { get; set; } = "parked";
    public OracleRequest? Request { get; set; }
    public string? Answer { get; set; }
    public string? Oracle { get; set; }
    public double? Confidence { get; set; }
    public int? Tokens { get; set; }
    public double? TimeMs { get; set; }
    public string? Error { get; set; }
    /// <summary>Interactions done when the site was answered.</summary>
    public long? AnsweredAt { get; set; }
}

/// <summary>
/// One deterministic single-thread run under the debugger: steps, pauses for the oracle, answers by hand
/// or by the configured oracle, and going back. Every action is recorded (steps and answers with their
/// text), and going back replays the record from the start on a fresh net, so the state reached is
/// exactly the one that was there (no oracle is asked again on the way).
/// </summary>
public sealed class DebugSession
{
    private readonly DebugProgram _program;
    private readonly OraclePipeline? _pipeline;
    private readonly Supervisor? _requests;
    private readonly long _maxMemory;
    // The record: answers given at a step count, in order.
    private readonly List<(long Step, int Site, string Text, string Oracle, double? Confidence, int? Tokens, double? TimeMs)> _answers = [];
    private readonly List<string> _transcript = [];

    public DebugSession(DebugProgram program, OraclePipeline? pipeline, IReadOnlyDictionary<string, string>? context = null,
        long maxMemory = 1L << 30)
    {
        _program = program;
        _pipeline = pipeline;
        _maxMemory = maxMemory;
        if (program.Lmn != null && pipeline != null)
            _requests = new Supervisor(program.Lmn, pipeline, new SupervisorOptions { Context = context ?? new Dictionary<string, string>() });
        else if (program.Lmn != null)
            _requests = new Supervisor(program.Lmn, new OraclePipeline(new FirstOracle(), new LmnTermChecker(Lexicon.Default)),
                new SupervisorOptions { Context = context ?? new Dictionary<string, string>() });
        Reset();
    }

    public DebugProgram Program => _program;
    public SteppingNet Net { get; private set; } = null!;
    private ReadBack? _rb;
    private SiteWatch? _watch;
    public List<DebugSite> Sites { get; } = [];
    /// <summary>Steps taken (every redex popped, counted or not).</summary>
    public long Steps { get; private set; }
    public StepInfo? LastStep { get; private set; }
    public string? Fault { get; private set; }
    public bool HasOracle => _pipeline != null;
    public string OracleName => _pipeline?.Oracle.Identity ?? "none";
    private int _nextAmb;

    private int _generation;

    private void Reset()
    {
        _generation++;
        Net = new SteppingNet(_program.Book, _maxMemory);
        _rb = _program.Lmn != null ? new ReadBack(Net, _program.Lmn) : null;
        _watch = _program.Lmn != null ? new SiteWatch(Net, _program.Lmn) : null;
        Sites.Clear();
        Steps = 0;
        LastStep = null;
        Fault = null;
        _nextAmb = 0;
        _transcript.Clear();
        try { Net.Boot(Port.New(Tag.REF, (uint)_program.Book.Fids["main"])); }
        catch (EngineFault e) { Fault = e.Message; }
        TakeParked();
        if (Net.PendingRedexes == 0) Pause();
    }

    /// <summary>No redex pending and no site ready: the run is over.</summary>
    public bool Finished => Fault != null || (Net.PendingRedexes == 0 && !Sites.Any(s => s.State is "ready" or "asked"));

    /// <summary>No redex pending: the run waits for the oracle (or is finished).</summary>
    public bool Paused => Net.PendingRedexes == 0;

    /// <summary>One interaction; at a pause, nothing (false).</summary>
    public bool Step()
    {
        if (Fault != null) return false;
        StepInfo? s;
        try { s = Net.Step(); }
        catch (EngineFault e)
        {
            Fault = e.Message;
            return false;
        }
        if (s == null) return false;
        Steps++;
        LastStep = s;
        if (Net.Parked.Count > 0) TakeParked();
        if (Net.PendingRedexes == 0) Pause();
        ReplayAnswersAt();
        return true;
    }

    /// <summary>Up to n interactions; stops early at a pause.</summary>
    public long StepMany(long n)
    {
        long k = 0;
        while (k < n && Step()) k++;
        return k;
    }

    /// <summary>Steps until no redex is pending (the next oracle pause, or the end).</summary>
    public long RunToPause()
    {
        long k = 0;
        while (Step()) k++;
        return k;
    }

    /// <summary>Runs to the end, asking the configured oracle at every pause that has ready sites.</summary>
    public async Task<long> RunToEndAsync(CancellationToken ct)
    {
        long k = 0;
        while (true)
        {
            k += RunToPause();
            var ready = Sites.Where(s => s.State == "ready").ToList();
            if (ready.Count == 0 || _pipeline == null || Fault != null) return k;
            foreach (var s in ready)
            {
                await AskAsync(s.Index, ct).ConfigureAwait(false);
                if (s.State != "answered") return k;
            }
        }
    }

    /// <summary>Goes back n steps: replays the record from the start up to Steps - n.</summary>
    public void Back(long n) => GoTo(Math.Max(0, Steps - n));

    /// <summary>Replays the record to exactly `target` steps.</summary>
    public void GoTo(long target)
    {
        var keep = _answers.Where(a => a.Step <= target).ToList();
        _answers.Clear();
        _answers.AddRange(keep);
        _replaying = true;
        try
        {
            Reset();
            ReplayAnswersAt();
            while (Steps < target && Step()) { }
        }
        finally { _replaying = false; }
    }

    private bool _replaying;

    /// <summary>During a replay: the answers recorded at the current step, given again.</summary>
    private void ReplayAnswersAt()
    {
        if (!_replaying) return;
        foreach (var a in _answers.Where(a => a.Step == Steps).ToList())
        {
            var site = Sites.FirstOrDefault(s => s.Index == a.Site);
            if (site == null || site.State is "answered" or "dropped") continue;
            Graft(site, a.Text, a.Oracle, a.Confidence, a.Tokens, a.TimeMs, record: false);
        }
    }

    private void TakeParked()
    {
        if (_watch == null)
        {
            // A plain .hvm book has no site table: parked sites are shown but never asked.
            foreach (var p in Net.TakeParked())
                Sites.Add(new DebugSite { Index = Sites.Count, Parked = p, Info = new SiteInfo(p.SiteId, "", false, "?", $"site #{p.SiteId}", "", 0, null, [], [], 0, []) });
            return;
        }
        _watch.ScanParked();
        foreach (var r in _watch.Reached) Sites.Add(new DebugSite { Index = Sites.Count, Parked = r.Call, Info = r.Site });
        _watch.Reached.Clear();
    }

    /// <summary>At a pause: sites whose value was erased are dropped; sites whose arguments are closed are ready.</summary>
    private void Pause()
    {
        if (_rb == null || _watch == null || _requests == null) return;
        var ready = new List<DebugSite>();
        foreach (var s in Sites)
        {
            if (s.State != "parked") continue;
            if (_watch.DropIfErased(s.Parked))
            {
                s.State = "dropped";
                continue;
            }
            if (!_watch.IsReady(s.Parked, out uint cands, out uint anchors)) continue;
            if ((_rb.FirstFailIn(cands) ?? _rb.FirstFailIn(anchors)) is { } bad)
            {
                Net.LinkPorts(s.Parked.Out, Net.Inject(Tree.Ref(Lowering.FailDef(bad.Id))));
                Net.Erase(s.Parked.Args);
                s.State = "answered";
                s.Answer = "(a runtime error: " + bad.Message + ")";
                s.Oracle = "none";
                continue;
            }
            s.Request = _requests.BuildRequest(s.Info, _rb.Read(cands), _rb.Read(anchors));
            s.State = "ready";
            ready.Add(s);
        }
        // Ids in the supervisor's canonical order (by expression, then location), as `lmn run` numbers them.
        ready.Sort((x, y) =>
        {
            int c = string.CompareOrdinal(x.Request!.Expression, y.Request!.Expression);
            return c != 0 ? c : string.CompareOrdinal(x.Request.SourceLocation, y.Request.SourceLocation);
        });
        foreach (var s in ready) s.Request = s.Request! with { AmbNodeId = "amb#" + ++_nextAmb };
    }

    /// <summary>Answers a ready site by hand. Returns an error message, or null.</summary>
    public string? Answer(int index, string text)
    {
        var site = Sites.FirstOrDefault(s => s.Index == index);
        if (site == null) return $"no site {index}";
        if (site.State != "ready") return $"site {index} is {site.State}, not ready";
        if (!DataTerms.TryParse(text, out var term, out string error)) return $"the answer `{text}` does not parse: {error}";
        string canonical = DataTerms.Print(term);
        if (site.Request is { Kind: "choice" } r)
        {
            // A choice is answered with one of its candidates, as the pipeline checks an oracle's answer.
            var cands = r.Args.Select(a => DataTerms.TryParse(a, out var t, out _) ? DataTerms.Print(t) : a.Trim()).ToList();
            if (!cands.Contains(canonical)) return $"`{canonical}` is not a candidate of {r.Expression}: expected one of {string.Join(", ", cands)}";
        }
        return Graft(site, canonical, "human (debugger)", 1.0, 0, 0, record: true);
    }

    /// <summary>Lets the configured oracle answer a ready site (and waits for it).</summary>
    public async Task<string?> AskAsync(int index, CancellationToken ct)
    {
        var ask = StartAsk(index, ct, out string? error);
        if (ask == null) return error;
        try { await ask.Answer.ConfigureAwait(false); }
        catch (OracleFailure) { }
        return FinishAsk(ask);
    }

    /// <summary>An oracle call in flight for one site.</summary>
    public sealed record PendingAsk(int Site, int Generation, Task<IReadOnlyList<Answer>> Answer, Stopwatch Watch);

    /// <summary>
    /// Starts asking the configured oracle about a ready site: the site is `asked` until
    /// <see cref="FinishAsk"/> (the debugger's page stays live meanwhile). Null with a message if it cannot be asked.
    /// </summary>
    public PendingAsk? StartAsk(int index, CancellationToken ct, out string? error)
    {
        error = null;
        var site = Sites.FirstOrDefault(s => s.Index == index);
        if (site == null) error = $"no site {index}";
        else if (site.State != "ready" || site.Request == null) error = $"site {index} is {site.State}, not ready";
        else if (_pipeline == null) error = "no oracle is configured (--oracle)";
        if (error != null) return null;
        site!.State = "asked";
        site.Error = null;
        return new PendingAsk(index, _generation, _pipeline!.AskAsync([site.Request!], ct), Stopwatch.StartNew());
    }

    /// <summary>Grafts the oracle's answer of a finished call; a message if it failed or the run went back meanwhile.</summary>
    public string? FinishAsk(PendingAsk ask)
    {
        if (ask.Generation != _generation) return "the run went back while the oracle answered; its answer was not used";
        var site = Sites.FirstOrDefault(s => s.Index == ask.Site);
        if (site == null || site.State != "asked") return $"site {ask.Site} is no longer asked";
        site.State = "ready";
        Answer a;
        try { a = ask.Answer.GetAwaiter().GetResult()[0]; }
        catch (OracleFailure e)
        {
            site.Error = e.Message;
            return e.Message;
        }
        var m = a.Response.Metadata;
        string oracle = (m.Model.Length > 0 ? m.Model : _pipeline!.Oracle.Identity) + (a.Source == AnswerSource.Oracle ? "" : $" ({a.Source.ToString().ToLowerInvariant()})");
        return Graft(site, a.Substitution, oracle, m.Confidence, m.TokensUsed, ask.Watch.Elapsed.TotalMilliseconds, record: true);
    }

    private string? Graft(DebugSite site, string text, string oracle, double? confidence, int? tokens, double? timeMs, bool record)
    {
        if (!DataTerms.TryParse(text, out var term, out string error)) return $"the answer `{text}` does not parse: {error}";
        var prog = _program.Lmn!;
        var questions = new List<(DataTerms.Question Q, string Wire)>();
        var trees = new List<Tree> { DataTerms.Encode(term, prog.Symbols, questions) };
        for (int k = 0; k < questions.Count; k++)
        {
            trees.Add(DataTerms.SiteArgs(questions[k].Q, prog.Symbols, questions));
            trees.Add(Tree.Var(questions[k].Wire));
        }
        using var heap = new Regions.RegionHeap { VerifyClosure = true };
        var fragment = heap.Create(64, 16);
        var roots = Regions.Fragments.BuildMany(fragment, trees);
        var ports = Regions.Graft.Into(Net, fragment, roots);
        heap.RegionExit(fragment);
        Net.LinkPorts(ports[0], site.Parked.Out);
        Net.Erase(site.Parked.Args);
        for (int k = 0; k < questions.Count; k++)
        {
            var q = questions[k].Q;
            Sites.Add(new DebugSite
            {
                Index = Sites.Count,
                Parked = new ParkedSite(-1, ports[1 + 2 * k], ports[2 + 2 * k]),
                Info = site.Info with { Open = q.Open, Head = q.Head, SourceText = DataTerms.Print(q) },
            });
        }
        site.State = "answered";
        site.Answer = text;
        site.Oracle = oracle;
        site.Confidence = confidence;
        site.Tokens = tokens;
        site.TimeMs = timeMs;
        site.AnsweredAt = Steps;
        site.Error = null;
        if (record) _answers.Add((Steps, site.Index, text, oracle, confidence, tokens, timeMs));
        _transcript.Add(TranscriptLine(site));
        if (Net.PendingRedexes == 0) Pause();
        return null;
    }

    private static string TranscriptLine(DebugSite s)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("kind", "answer");
            w.WriteString("amb_node_id", s.Request?.AmbNodeId ?? "");
            w.WriteString("expression", s.Request?.Expression ?? s.Info.SourceText);
            w.WriteString("source_location", s.Info.Location);
            w.WritePropertyName("request");
            if (s.Request != null)
            {
                using var doc = JsonDocument.Parse(OracleJson.Serialize(s.Request));
                doc.RootElement.WriteTo(w);
            }
            else w.WriteNullValue();
            w.WriteString("substitution", s.Answer);
            w.WriteString("oracle", s.Oracle);
            if (s.Confidence is { } c) w.WriteNumber("confidence", c);
            if (s.Tokens is { } t) w.WriteNumber("tokens", t);
            if (s.TimeMs is { } ms2) w.WriteNumber("time_ms", Math.Round(ms2, 3));
            w.WriteNumber("at_step", s.AnsweredAt ?? 0);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>The transcript so far: one JSON line per answered site.</summary>
    public string Transcript => string.Concat(_transcript.Select(l => l + "\n"));

    /// <summary>The current term: LMN syntax where the program is LMN and the root reads back, else HVM2 text.</summary>
    public string ReadBackText()
    {
        if (Fault != null) return "error: " + Fault;
        uint root = Net.RootPort;
        if (root == Port.ROOT) return "(the root is not linked yet)";
        if (_rb != null && _program.Lmn != null)
        {
            try
            {
                var t = _rb.ReadRoot();
                if (_rb.FirstError is { } f) return LmnDriver.RuntimeError(f);
                return Printer.Print(t);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Not yet a value (an operation or a call still pending): the net's own text.
            }
        }
        try
        {
            string s = Net.ReadBack(Net.RootPort).ToString();
            return s.Length > 4000 ? s[..4000] + " …" : s;
        }
        catch (Exception e) when (e is not OutOfMemoryException) { return "(cannot read back: " + e.Message + ")"; }
    }

    /// <summary>The printed result at the end (null before).</summary>
    public string? Result => Finished ? ReadBackText() : null;

    /// <summary>The picture now: site labels carry their states.</summary>
    public NetPicture Picture(int limit)
    {
        var labels = Sites.Where(s => s.State is "parked" or "ready" or "asked")
            .Select(s => (s.Parked, new SiteLabel(s.Request?.Expression ?? s.Info.SourceText, s.Info.Location, s.State))).ToList();
        return NetPicture.Build(Net, limit, labels);
    }
}
