using System.Diagnostics;
using Lmn.Language;
using Lmn.Net;
using Lmn.Oracles;
using Lmn.Regions;
using Lmn.Words;

namespace Lmn.Runtime;

/// <summary>What a supervised run (the supervisor loop with an oracle) reports: the value, and the counters `--stats` prints.</summary>
public sealed record SupervisedRun(string? Output, Term? Value, long Interactions, TimeSpan Time, int Rounds, PipelineStats Oracle,
    int Skipped, string? Error)
{
    public double Mips => Interactions / Math.Max(Time.TotalSeconds, 1e-9) / 1e6;

    /// <summary>Interactions per rule (Rules.Total is Interactions).</summary>
    public Net.RuleCounts Rules { get; init; }
}

/// <summary>Options of the supervisor loop.</summary>
public sealed record SupervisorOptions
{
    /// <summary>Anchor values given on the command line (`--context now=present_moment`), by name without `@`.</summary>
    public IReadOnlyDictionary<string, string> Context { get; init; } = new Dictionary<string, string>();
    public long MaxMemory { get; init; } = Engine.DefaultMaxMemory;
    public int Threads { get; init; } = 1;
    public bool FastCalls { get; init; } = true;
    /// <summary>Receives each question and answer (`--trace`).</summary>
    public Action<string>? Trace { get; init; }
    /// <summary>Receives a status line after each step (`lmn run` shows it on a terminal).</summary>
    public Action<string>? Status { get; init; }
    /// <summary>Receives each answer of a round, in the round's canonical order (batch runs list them per input).</summary>
    public Action<Answer>? Answered { get; init; }
    /// <summary>Where a one-thread run takes its engine from and returns it (batch runs: one net per input, reused).</summary>
    public EnginePool? Engines { get; init; }
}

/// <summary>
/// The Model B supervisor (ARCHITECTURE.md §3; seed §2-§5): reduce everything that is not parked; drop
/// parked sites whose value was erased; ask the oracle pipeline about every site whose arguments read
/// back closed, all in one batch; graft each validated answer into the net, erase the site's arguments;
/// repeat. Sites that can never become ready (inside a lambda that is the result) print as written.
/// Questions get ids in a canonical order (by expression, then location), so a run is the same at any
/// thread count and its transcript replays.
/// </summary>
public sealed class Supervisor(CompiledProgram program, OraclePipeline pipeline, SupervisorOptions options)
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Hvm.HvmBook, Book> s_books = new();
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Hvm.HvmBook, Dictionary<int, IReadOnlyList<string>>> s_traces = new();
    private int _nextId;
    private readonly Dictionary<ParkedSite, IReadOnlyDictionary<string, string>> _inherited = [];
    // Fragments live one graft each, so checking the closure property on every exit costs nothing.
    private readonly RegionHeap _regions = new() { VerifyClosure = true };

    // The state of the run RunAsync drives (one run per supervisor).
    private INetRunner _net = null!;
    private ReadBack _rb = null!;
    private SiteWatch _watch = null!;
    private readonly List<(ParkedSite Site, SiteInfo Info)> _pending = [];
    private int _rounds;

    /// <summary>A ready site: parked, its arguments closed, and the question it asks.</summary>
    private readonly record struct Ready(ParkedSite Site, SiteInfo Info, OracleRequest Request);

    /// <summary>
    /// The loop of ARCHITECTURE.md §3: reduce; collect the ready sites; number their questions; ask them in one
    /// batch; graft the answers; until no site is ready. Then read the value back.
    /// </summary>
    public async Task<SupervisedRun> RunAsync(CancellationToken cancellationToken)
    {
        // Programs that share a compiled book (a batch run's inputs, see CompiledProgram.WithSymbols) share its runtime book.
        // (looked up first: GetValue's callback would capture `program`, an allocation per input)
        if (!s_books.TryGetValue(program.Book, out var book)) book = s_books.GetValue(program.Book, _ => LmnDriver.BuildBook(program));
        var pool = options.Threads > 1 ? null : options.Engines;
        INetRunner net = options.Threads > 1
            ? new ParallelEngine(book, options.Threads, options.MaxMemory, options.FastCalls)
            : pool?.Rent(book, options.MaxMemory, Engine.ModeOf(options.FastCalls)) ?? new Engine(book, options.MaxMemory, options.FastCalls);
        try
        {
            return await RunOnAsync(net, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (pool != null) pool.Return((Engine)net);
            else net.Dispose();
        }
    }

    private async Task<SupervisedRun> RunOnAsync(INetRunner net, CancellationToken cancellationToken)
    {
        net.Cancellation = cancellationToken;
        _net = net;
        _rb = new ReadBack(net, program);
        _watch = new SiteWatch(net, program);
        var sw = Stopwatch.StartNew();
        try
        {
            net.Run();
            while (CollectReady() is { Count: > 0 } ready)
            {
                _rounds++;
                Status(_rounds, _pending.Count, ready.Count);
                var requests = Number(ready);
                var answers = await AskAsync(requests, cancellationToken).ConfigureAwait(false);
                await GraftAllAsync(ready, requests, answers, cancellationToken).ConfigureAwait(false);
                net.Normalize();
                Status(_rounds, _pending.Count, 0);
            }
            return Finish(sw);
        }
        catch (Exception e) when (e is EngineFault or NumericFault)
        {
            return Result(sw, null, null, $"{program.MainPath}: error: {e.Message}");
        }
        catch (OracleFailure e)
        {
            return Result(sw, null, null, e.Message);
        }
    }

    /// <summary>
    /// The sites ready to ask (their arguments closed), after taking what the net parked and dropping the
    /// sites whose value was erased. A site whose candidates hold a runtime error gets that error as its
    /// value without asking (and the net reduces again). Empty when the run is done.
    /// </summary>
    private List<Ready> CollectReady()
    {
        while (true)
        {
            _watch.ScanParked();
            foreach (var r in _watch.Reached) _pending.Add((r.Call, r.Site));
            _watch.Reached.Clear();
            // Dropped while it waited: never asked.
            RemovePending(null, drop: true);
            if (_pending.Count == 0) return [];

            var ready = new List<Ready>();
            HashSet<ParkedSite>? failed = null;   // made when a candidate fails (rare)
            foreach (var (site, info) in _pending)
            {
                if (!_watch.IsReady(site, out uint cands, out uint anchors)) continue;
                if ((_rb.FirstFailIn(cands) ?? _rb.FirstFailIn(anchors)) is { } bad)
                {
                    // A candidate is a runtime error: the question's value is that error, nothing is asked.
                    _net.LinkPorts(site.Out, _net.Inject(Hvm.Tree.Ref(Lowering.FailDef(bad.Id))));
                    _net.Erase(site.Args);
                    (failed ??= []).Add(site);
                    continue;
                }
                var request = Request(info, _rb.Read(cands), _rb.Read(anchors));
                if (_inherited.TryGetValue(site, out var inherited))
                {
                    var merged = new Dictionary<string, string>(inherited, StringComparer.Ordinal);
                    foreach (var (k, v) in request.LexicalBindings) merged[k] = v;
                    request = request with { LexicalBindings = merged };
                }
                ready.Add(new Ready(site, info, request));
            }
            if (failed == null) return ready;
            RemovePending(failed, drop: false);
            _net.Normalize();
            if (ready.Count > 0) return ready;
        }
    }

    /// <summary>
    /// Puts the ready sites in canonical order (by expression, location, bindings) and gives their questions
    /// ids, so the same run gives the same ids at any thread count; fills in the batch's parallel context.
    /// </summary>
    private List<OracleRequest> Number(List<Ready> ready)
    {
        ready.Sort((x, y) =>
        {
            int c = string.CompareOrdinal(x.Request.Expression, y.Request.Expression);
            if (c == 0) c = string.CompareOrdinal(x.Request.SourceLocation, y.Request.SourceLocation);
            if (c == 0) c = string.CompareOrdinal(BindingsText(x.Request), BindingsText(y.Request));
            return c;
        });
        var ids = new List<string>();
        for (int i = 0; i < ready.Count; i++) ids.Add("amb#" + ++_nextId);
        // A variable bound in two questions of the round (none with one question: a batch run's usual round).
        List<string> shared = ready.Count < 2 ? [] : ready.SelectMany(r => r.Request.LexicalBindings.Keys).GroupBy(k => k).Where(g => g.Count() > 1).Select(g => g.Key).Order(StringComparer.Ordinal).ToList();
        // parallel_context lists the other questions of the batch, at most 32 of them (a batch of
        // n would otherwise carry n² ids).
        var requests = new List<OracleRequest>(ready.Count);
        for (int i = 0; i < ready.Count; i++)
        {
            var r = ready[i].Request;
            requests.Add(r with
            {
                AmbNodeId = ids[i],
                OtherAmbNodes = ready.Count < 2 ? Array.Empty<string>() : OthersOf(ids, i),
                SharedVariables = shared.Count == 0 ? Array.Empty<string>() : shared.Where(r.LexicalBindings.ContainsKey).ToList(),
            });
        }
        foreach (var q in requests) options.Trace?.Invoke($"? {q.AmbNodeId} {q.Display}  ({q.SourceLocation})");
        return requests;
    }

    /// <summary>Asks the oracle pipeline about the whole round at once, in one span (OpenTelemetry: ActivitySource "Lmn.Oracles").</summary>
    private Task<IReadOnlyList<Answer>> AskAsync(List<OracleRequest> requests, CancellationToken ct)
    {
        // Without a listener there is no span to end after the round: the pipeline's task is the round's
        // (no state machine of its own; a batch run has a round per input).
        if (!OracleTelemetry.Source.HasListeners())
        {
            OracleTelemetry.Rounds.Add(1);
            return pipeline.AskAsync(requests, ct);
        }
        return AskInSpanAsync(requests, ct);
    }

    private async Task<IReadOnlyList<Answer>> AskInSpanAsync(List<OracleRequest> requests, CancellationToken ct)
    {
        // Each oracle call has its own span inside the round's.
        using var roundSpan = OracleTelemetry.Source.StartActivity("lmn round " + _rounds);
        roundSpan?.SetTag("lmn.round", _rounds);
        roundSpan?.SetTag(OracleTelemetry.OracleName, pipeline.Oracle.Identity);
        roundSpan?.SetTag(OracleTelemetry.BatchSize, requests.Count);
        OracleTelemetry.Rounds.Add(1);
        return await pipeline.AskAsync(requests, ct).ConfigureAwait(false);
    }

    /// <summary>Grafts each answer of the round in order (see <see cref="GraftAsync"/>); the answered sites leave the pending list.</summary>
    private async Task GraftAllAsync(List<Ready> ready, List<OracleRequest> requests, IReadOnlyList<Answer> answers, CancellationToken ct)
    {
        for (int i = 0; i < ready.Count; i++)
            await GraftAsync(ready[i], requests[i], answers[i], ct).ConfigureAwait(false);
        var answered = new HashSet<ParkedSite>(ready.Count);
        foreach (var r in ready) answered.Add(r.Site);
        RemovePending(answered, drop: false);
    }

    /// <summary>
    /// One answer: its term (nested questions asked first under --ambiguity recursive) is compiled into a
    /// fragment region, transmigrated into the main net (<see cref="Graft.Into"/>), and the fragment exits
    /// with the closure check on; the answer is linked to the site's out and its arguments are erased. Lazy
    /// ambiguity: each question in the answer becomes a new site there, asked only if its value is needed.
    /// </summary>
    private async Task GraftAsync(Ready site, OracleRequest request, Answer a, CancellationToken ct)
    {
        options.Answered?.Invoke(a);
        options.Trace?.Invoke($"= {a.Request.AmbNodeId} {a.Substitution}  ({a.Source.ToString().ToLowerInvariant()}, {a.Response.Metadata.Model}, confidence {a.Response.Metadata.Confidence:0.##})");
        var term = pipeline.Policies.Ambiguity == AmbiguityMode.Lazy
            ? Parse(a, request)
            : await ResolveNestedAsync(a, request, 0, ct).ConfigureAwait(false);
        var questions = new List<(DataTerms.Question Q, string Wire)>();
        var trees = new List<Hvm.Tree> { DataTerms.Encode(term, program.Symbols, questions) };
        for (int k = 0; k < questions.Count; k++)
        {
            trees.Add(DataTerms.SiteArgs(questions[k].Q, program.Symbols, questions));
            trees.Add(Hvm.Tree.Var(questions[k].Wire));
        }
        var fragment = _regions.Create(64, 16);
        var roots = Fragments.BuildMany(fragment, trees);
        var ports = Graft.Into(_net, fragment, roots);
        _regions.RegionExit(fragment);
        _net.LinkPorts(ports[0], site.Site.Out);
        _net.Erase(site.Site.Args);
        for (int k = 0; k < questions.Count; k++)
        {
            var q = questions[k].Q;
            var nested = new ParkedSite(-1, ports[1 + 2 * k], ports[2 + 2 * k]);
            var info = site.Info with
            {
                Open = q.Open,
                Head = q.Head,
                SourceText = DataTerms.Print(q),
                TypeExpected = Lexicon.Default.Find(q.Head)?.Type ?? site.Info.TypeExpected,
            };
            _pending.Add((nested, info));
            _inherited[nested] = request.LexicalBindings;
            options.Trace?.Invoke($"  {DataTerms.Print(q)} from {a.Request.AmbNodeId} waits until its value is needed (lazy)");
        }
    }

    /// <summary>No site is ready: reads the value back (a runtime error met on the way is the run's error).</summary>
    private SupervisedRun Finish(Stopwatch sw)
    {
        var value = _rb.ReadRoot();
        sw.Stop();
        _regions.Dispose();
        if (_rb.FirstError is { } fail) return Result(sw, null, null, LmnDriver.RuntimeError(fail));
        return Result(sw, Printer.Print(value), value, null);
    }

    private SupervisedRun Result(Stopwatch sw, string? output, Term? value, string? error) =>
        new(output, value, _net.Interactions, sw.Elapsed, _rounds, pipeline.Stats, _watch.Dropped, error) { Rules = _net.Rules };

    private void Status(int rounds, int pending, int asking)
    {
        var s = pipeline.Stats;
        options.Status?.Invoke($"round {rounds} · pending {pending} · asking {asking} · asked {s.Questions} · cache hits {s.CacheHits}");
    }

    private static List<string> OthersOf(List<string> ids, int i)
    {
        var list = new List<string>(Math.Min(ids.Count - 1, MaxOthers));
        for (int j = 0; j < ids.Count && list.Count < MaxOthers; j++) if (j != i) list.Add(ids[j]);
        return list;
    }

    /// <summary>Takes out of the pending list the sites in `sites`, or with drop the ones erased while they waited (a loop: no delegate per round).</summary>
    private void RemovePending(HashSet<ParkedSite>? sites, bool drop)
    {
        int kept = 0;
        for (int i = 0; i < _pending.Count; i++)
        {
            var p = _pending[i];
            if (drop ? _watch.DropIfErased(p.Site) : sites!.Contains(p.Site)) continue;
            _pending[kept++] = p;
        }
        _pending.RemoveRange(kept, _pending.Count - kept);
    }

    /// <summary>How many other ids a request's parallel_context lists.</summary>
    public const int MaxOthers = 32;

    private static string BindingsText(OracleRequest r) =>
        string.Join(";", r.LexicalBindings.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value));

    // The lexicon's glosses of an expression's words, made once per expression text (a batch run asks the
    // same question for each of thousands of inputs); read-only, so requests share them. Emptied past
    // 10,000 expressions (candidates made of input text are a new expression per input).
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, IReadOnlyDictionary<string, string>> s_glosses = new(StringComparer.Ordinal);
    private static int s_glossCount;

    private static IReadOnlyDictionary<string, string> GlossesOf(string expression)
    {
        if (s_glosses.TryGetValue(expression, out var known)) return known;
        var glosses = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string w in LexiconOracle.WordsOf(expression))
            if (Lexicon.Default.Find(w) is { } e) glosses[w] = LexiconOracle.Gloss(e);
        if (Interlocked.Increment(ref s_glossCount) > 10_000)
        {
            s_glosses.Clear();
            Interlocked.Exchange(ref s_glossCount, 0);
        }
        s_glosses.TryAdd(expression, glosses);
        return glosses;
    }

    /// <summary>The protocol request for a ready site, as a run would send it (the debugger shows it).</summary>
    public OracleRequest BuildRequest(SiteInfo info, Term candidates, Term anchors) => Request(info, candidates, anchors);

    /// <summary>Builds the protocol request for a ready site (its id is set later).</summary>
    private OracleRequest Request(SiteInfo info, Term candidates, Term anchors)
    {
        IReadOnlyList<Term> cands = candidates is TList l ? l.Items : [candidates];
        // Each candidate printed once, for the arguments and the expression.
        var args = new List<string>(cands.Count);
        foreach (var c in cands) args.Add(DataTerms.Print(c));
        string expression = DataTerms.QuestionText(info.Open, info.Head, args);
        var bindings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string name in info.StaticAnchors)
            if (options.Context.TryGetValue(name.TrimStart('@'), out string? v)) bindings[name] = v;
        if (anchors is TList al)
            foreach (var item in al.Items)
                if (item is TAnchored a) bindings["@" + a.Anchor] = DataTerms.Print(a.Value);
        var glosses = GlossesOf(expression);
        return new OracleRequest
        {
            AmbNodeId = "",
            Kind = info.Open ? "open" : "choice",
            Expression = expression,
            Args = args,
            TypeExpected = info.TypeExpected,
            LexicalBindings = bindings,
            TypeEnvironment = glosses,
            ReductionTrace = TraceOf(info),
            SourceLocation = info.Location,
        };
    }

    /// <summary>The definition chains to each site (see <see cref="TraceOf"/>), shared by the runs of one book.</summary>
    private Dictionary<int, IReadOnlyList<string>>? _traces;

    /// <summary>
    /// The chain of definitions from main to the site: the shortest path of references in the compiled
    /// book from @main to the net that holds the site, named by their LMN definitions (lifted parts of
    /// one definition count once). A static chain: the engine does not record calls.
    /// </summary>
    private IReadOnlyList<string> TraceOf(SiteInfo info)
    {
        if (info.Id < 0) return info.EnclosingDefs;
        if (_traces == null && !s_traces.TryGetValue(program.Book, out _traces)) _traces = s_traces.GetValue(program.Book, _ => BuildTraces());
        return _traces.TryGetValue(info.Id, out var t) && t.Count > 0 ? t : info.EnclosingDefs;
    }

    private Dictionary<int, IReadOnlyList<string>> BuildTraces()
    {
        var refs = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var def in program.Book.Defs)
        {
            var list = new List<string>();
            var stack = new Stack<Hvm.Tree>();
            stack.Push(def.Net.Root);
            foreach (var r in def.Net.Redexes) { stack.Push(r.A); stack.Push(r.B); }
            while (stack.Count > 0)
            {
                var t = stack.Pop();
                if (t.Kind == Hvm.TreeKind.Ref) list.Add(t.Name);
                else if (t.Fst != null) { stack.Push(t.Snd!); stack.Push(t.Fst); }
            }
            refs[def.Name] = list;
        }
        // Breadth-first from main: the first way each definition is reached.
        var parent = new Dictionary<string, string?>(StringComparer.Ordinal) { ["main"] = null };
        var queue = new Queue<string>();
        queue.Enqueue("main");
        while (queue.Count > 0)
        {
            string d = queue.Dequeue();
            if (!refs.TryGetValue(d, out var next)) continue;
            foreach (string n in next)
                if (parent.TryAdd(n, d)) queue.Enqueue(n);
        }
        var traces = new Dictionary<int, IReadOnlyList<string>>();
        foreach (var site in program.Sites)
        {
            string def = CompiledProgram.SiteDef(site.Id);
            if (!parent.TryGetValue(def, out string? holder) || holder == null) continue;
            var chain = new List<string>();
            for (string? d = holder; d != null; d = parent[d])
            {
                // Lifted parts (`f.0`) count as their definition; prelude, runtime and lambda codes are skipped.
                string key = program.Defs.ContainsKey(d) ? d : d.Split('.')[0];
                string name = program.Defs.TryGetValue(key, out var info) ? info.Lmn : "";
                if (name.Length > 0 && (chain.Count == 0 || chain[^1] != name)) chain.Add(name);
            }
            chain.Reverse();
            traces[site.Id] = chain;
        }
        return traces;
    }

    /// <summary>The answer's term: the one the pipeline parsed when it validated it, else parsed here.</summary>
    private static Term Parse(Answer a, OracleRequest parent) =>
        a.Term as Term ?? (DataTerms.TryParse(a.Substitution, out var term, out string error) ? term
            : throw new OracleFailure(parent, $"{parent.SourceLocation}: error: the answer `{a.Substitution}` does not parse: {error}"));

    /// <summary>
    /// `--ambiguity recursive[N]`: an answer that holds questions has them asked in turn (innermost
    /// first), at most N levels deep; the answers replace them. (Strict mode refuses such answers in
    /// the pipeline.)
    /// </summary>
    private async Task<Term> ResolveNestedAsync(Answer a, OracleRequest parent, int depth, CancellationToken ct)
    {
        var term = Parse(a, parent);
        if (!DataTerms.HasQuestion(term)) return term;
        if (pipeline.Policies.Ambiguity != AmbiguityMode.Recursive || depth >= pipeline.Policies.RecursionLimit)
            throw new OracleFailure(parent, $"{parent.SourceLocation}: error: the answer for {parent.Expression} still holds a question after {depth} nested answers (--ambiguity recursive[{pipeline.Policies.RecursionLimit}])");
        return await ReplaceAsync(term, parent, depth, ct).ConfigureAwait(false);
    }

    private async Task<Term> ReplaceAsync(Term t, OracleRequest parent, int depth, CancellationToken ct)
    {
        switch (t)
        {
            case DataTerms.Question q:
            {
                var args = new List<Term>();
                foreach (var x in q.Args) args.Add(await ReplaceAsync(x, parent, depth, ct).ConfigureAwait(false));
                var inner = parent with
                {
                    AmbNodeId = "amb#" + ++_nextId,
                    Kind = q.Open ? "open" : "choice",
                    Expression = DataTerms.Print(q with { Args = args }),
                    Args = args.Select(DataTerms.Print).ToList(),
                    OtherAmbNodes = [],
                };
                options.Trace?.Invoke($"? {inner.AmbNodeId} {inner.Display}  (nested in {parent.AmbNodeId})");
                var ans = (await pipeline.AskAsync([inner], ct).ConfigureAwait(false))[0];
                options.Trace?.Invoke($"= {inner.AmbNodeId} {ans.Substitution}");
                return await ResolveNestedAsync(ans, inner, depth + 1, ct).ConfigureAwait(false);
            }
            case TCompound c:
            {
                var fs = new List<Term>();
                foreach (var f in c.Fields) fs.Add(await ReplaceAsync(f, parent, depth, ct).ConfigureAwait(false));
                return c with { Fields = fs };
            }
            case TList l:
            {
                var items = new List<Term>();
                foreach (var f in l.Items) items.Add(await ReplaceAsync(f, parent, depth, ct).ConfigureAwait(false));
                return new TList(items, l.Tail == null ? null : await ReplaceAsync(l.Tail, parent, depth, ct).ConfigureAwait(false));
            }
            case TAnchored an:
                return an with { Value = await ReplaceAsync(an.Value, parent, depth, ct).ConfigureAwait(false) };
            default:
                return t;
        }
    }

}
