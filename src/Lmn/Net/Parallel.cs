using System.Runtime.ExceptionServices;

namespace Lmn.Net;

/// <summary>
/// Reduces one net on several threads. The design follows HVM2's C runtime and paper, in our words:
///
/// - Ownership instead of locks. A redex is owned by the one worker that popped it, and so are the two
///   nodes at its principal ports: no other thread can reach them (a node has one principal port, and
///   the redex holds it). A worker reads and frees them with plain memory operations.
/// - Wires are the only shared state. The two ends of a variable may be linked by two threads at once.
///   An end that reads NONE in the slot swaps its partner in with an atomic exchange (see Link); the end
///   whose exchange returns NONE arrived first and stops; the end that finds a port there, by its
///   exchange or by a plain acquire read before it (Link, Enter), owns both and links them: the far end
///   filled the slot and left it for good. Every slot is written by at most its two ends, once each, so
///   this is the only race.
/// - Publication. A node is written with plain stores before its port is published, and a port is only
///   published through an atomic exchange or through the pool's lock, both full fences, so a worker
///   that reaches a node through a wire or a stolen redex sees it whole.
/// - Per-thread memory. Each worker allocates from its own share of the node and variable arrays and
///   keeps its own free lists and redex bags: no allocation is shared. A slot freed by one worker joins
///   that worker's free list (it owned the slot when it freed it).
/// - Work sharing. A busy worker checks every 128 interactions whether another is idle with nothing on
///   offer; if so it moves the older half of its low-priority bag (the biggest pending calls) to the
///   pool. An idle worker takes half of what the pool holds.
/// - Termination. The pool counts idle workers under its lock. Only busy workers add work, so when the
///   last worker taking part goes idle with the pool empty, no redex exists anywhere: reduction is done.
/// - Threads live as long as the engine. Workers 1..n-1 are started once and sleep between
///   normalisations; a normalisation starts on the calling thread (worker 0) alone, and a sleeping
///   worker is woken only when a busy one has work to share (checked every 128 interactions). So the
///   IO loop's many short normalisations run on one thread with no thread started or woken, and a long
///   one spreads over every thread as before.
///
/// Interaction nets are strongly confluent: any order gives the same normal form and the same number of
/// interactions, so results and ITRS do not depend on the thread count or on scheduling.
/// </summary>
public sealed class ParallelEngine : INetRunner
{
    private readonly NetMemory _mem;
    private readonly Worker[] _workers;
    private readonly WorkPool _pool;
    private readonly byte[][] _padding;

    public ParallelEngine(Book book, int threads, long maxMemory = Engine.DefaultMaxMemory, bool fastCalls = true)
        : this(book, threads, maxMemory, Engine.ModeOf(fastCalls))
    {
    }

    public ParallelEngine(Book book, int threads, long maxMemory, EngineMode mode)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), "at least one thread");
        _mem = new NetMemory(book, maxMemory);
        _pool = new WorkPool(threads);
        _workers = new Worker[threads];
        _padding = new byte[threads][];
        for (int i = 0; i < threads; i++)
        {
            // Keep each worker's hot fields off the cache lines of its neighbours (false sharing).
            _padding[i] = new byte[256];
            _workers[i] = new Worker(this, _mem, mode, i, threads);
        }
    }

    public int Threads => _workers.Length;

    /// <summary>LMN_DEBUG_WORKERS=1 prints each worker's interactions, shares and idle time after a normalisation.</summary>
    internal static readonly bool DebugWorkers = Environment.GetEnvironmentVariable("LMN_DEBUG_WORKERS") == "1";

    public long Interactions => _workers.Sum(w => w.OwnInteractions);

    /// <summary>Atomic swaps of variable slots by every worker (the cost of sharing a net; docs/engine.md § Threads).</summary>
    public long Swaps => _workers.Sum(w => w.OwnSwaps);

    public TimeSpan Precompile() => _workers[0].Precompile();

    public RuleCounts Rules => _workers.Aggregate(new RuleCounts(), (acc, w) => acc + w.OwnRules);

    public long PeakBytes => _workers.Sum(w => w.OwnPeakBytes);

    public uint RootPort => _workers[0].RootPort;

    public void Run(int fid = 0)
    {
        _workers[0].Boot(Port.New(Tag.REF, (uint)fid));
        Normalize();
    }

    public void RunIo(IoHost io, int fid = 0) => _workers[0].RunIo(io, fid);

    /// <summary>Every worker checks it; a cancelled token aborts the work pool and Normalize throws.</summary>
    public CancellationToken Cancellation
    {
        get => _workers[0].Cancellation;
        set { foreach (var w in _workers) w.Cancellation = value; }
    }

    /// <summary>Sites parked by every worker. Their order depends on scheduling: callers sort them.</summary>
    public List<ParkedSite> TakeParked() => _workers.SelectMany(w => w.TakeOwnParked()).ToList();

    public void LinkPorts(uint a, uint b) => _workers[0].LinkPorts(a, b);

    public void Erase(uint port) => _workers[0].Erase(port);

    public uint Peek(uint port) => _workers[0].Peek(port);

    public ulong NodeAt(uint index) => _workers[0].NodeAt(index);

    public uint Force(uint refPort) => _workers[0].Force(refPort);

    public Book Book => _mem.Book;

    public BumpRun LendRun(uint nodes, uint vars) => _workers[0].LendRun(nodes, vars);

    public void ReturnRun(in BumpRun run, uint nodeEnd, uint varEnd) => _workers[0].ReturnRun(run, nodeEnd, varEnd);

    private Thread[]? _threads;

    /// <summary>OS threads this engine has started (at most <see cref="Threads"/> - 1, however many normalisations).</summary>
    public int ThreadsStarted { get; private set; }

    /// <summary>Normalisations so far, and how many of them woke a second worker.</summary>
    public long Normalizations { get; private set; }

    public long SpreadNormalizations { get; private set; }

    /// <summary>Reduces every pending redex; the calling thread is worker 0, the others join when there is work to share.</summary>
    public void Normalize()
    {
        if (_threads == null && _workers.Length > 1)
        {
            _threads = new Thread[_workers.Length - 1];
            for (int i = 1; i < _workers.Length; i++)
            {
                var w = _workers[i];
                int index = i;
                _threads[i - 1] = new Thread(() => _pool.SleeperLoop(index, () => w.WorkLoop(_pool)), 16 << 20) { IsBackground = true, Name = $"lmn-worker-{i}" };
                _threads[i - 1].Start();
                ThreadsStarted++;
            }
        }
        _pool.Reset();
        var sched0 = DebugWorkers ? ThreadSched.Now() : default;
        _pool.Guard(() => _workers[0].WorkLoop(_pool));
        if (DebugWorkers) _pool.MarkEnd(0, sched0);
        bool spread = _pool.WaitForHelpers();
        Normalizations++;
        if (spread) SpreadNormalizations++;
        if (_pool.Fault != null) ExceptionDispatchInfo.Capture(_pool.Fault).Throw();
        if (DebugWorkers)
            Console.Error.WriteLine("workers: " + string.Join(" ", _workers.Select(w => w.OwnInteractions)) + $" swaps={Swaps} shares={_pool.Shares} takes={_pool.Takes} spread={SpreadNormalizations}/{Normalizations} idle_ms={_pool.IdleTicks * 1000.0 / System.Diagnostics.Stopwatch.Frequency:F0} spans_ms={_pool.Spans()} cpu_ms={string.Join(" ", _pool.Sched.Select(d => $"{d.Cpu / 1e6:F1}"))} wait_ms={string.Join(" ", _pool.Sched.Select(d => $"{d.Wait / 1e6:F1}"))}");
    }

    public void Dispose()
    {
        _pool.Stop();
        if (_threads != null) foreach (var t in _threads) t.Join();
        foreach (var w in _workers) w.Dispose();
        _mem.Dispose();
    }

    /// <summary>One reducer of a shared net; as worker 0 it also drives IO between parallel normalisations.</summary>
    private sealed class Worker(ParallelEngine group, NetMemory mem, EngineMode mode, int index, int count)
        : EngineCore<Atomic>(mem, ownsMemory: false, mode, index, count)
    {
        public override void Normalize() => group.Normalize();

        public override List<ParkedSite> TakeParked() => group.TakeParked();

        public List<ParkedSite> TakeOwnParked() => base.TakeParked();

        public override long Interactions => group.Interactions;

        public override RuleCounts Rules => group.Rules;

        public long OwnPeakBytes => base.PeakBytes;

        public override long PeakBytes => group.PeakBytes;
    }
}

/// <summary>
/// The redexes on offer between workers, the idle count, termination and the sleeping workers, under one
/// lock. Worker 0 takes part in every normalisation; a sleeping worker takes part from the moment a busy
/// one shares work (it is counted as taking part from then on), until the normalisation ends.
/// </summary>
internal sealed class WorkPool(int workers)
{
    private readonly object _lock = new();
    private ulong[] _pool = new ulong[1024];
    private int _count;      // redexes on offer; written under the lock, read racily by Hungry
    private int _idle;       // idle workers taking part; written under the lock
    private int _active = 1; // workers taking part in this normalisation (worker 0 and those woken)
    private int _running;    // woken workers that have not yet gone back to sleep
    private bool _done;
    private volatile bool _aborted;
    private bool _stopped;
    private readonly Stack<int> _sleeping = new(Enumerable.Range(1, workers - 1).Reverse());
    private readonly bool[] _wake = new bool[workers];
    private volatile int _sleepingCount = workers - 1;
    private bool _spread;

    public Exception? Fault { get; private set; }

    // When each worker started and stopped taking part: kept only with LMN_DEBUG_WORKERS=1.
    private readonly long[] _startTicks = new long[workers];
    private readonly long[] _endTicks = new long[workers];

    /// <summary>Each worker's CPU time and time waiting for a CPU while runnable over its span (LMN_DEBUG_WORKERS; Linux).</summary>
    public readonly ThreadSched[] Sched = new ThreadSched[workers];

    public void MarkEnd(int index, ThreadSched start)
    {
        _endTicks[index] = System.Diagnostics.Stopwatch.GetTimestamp();
        Sched[index] = ThreadSched.Now() - start;
    }

    /// <summary>Each worker's start and end in ms from the normalisation's start (LMN_DEBUG_WORKERS).</summary>
    public string Spans()
    {
        double f = 1000.0 / System.Diagnostics.Stopwatch.Frequency;
        return string.Join(" ", Enumerable.Range(0, _startTicks.Length).Select(i =>
            _startTicks[i] >= _startTicks[0] && _endTicks[i] >= _startTicks[0]
                ? $"{(_startTicks[i] - _startTicks[0]) * f:F1}-{(_endTicks[i] - _startTicks[0]) * f:F1}"
                : "-"));
    }

    public int Shares { get; private set; }

    public int Takes { get; private set; }

    public bool Aborted => _aborted;

    /// <summary>Someone is idle or asleep and nothing is on offer (a racy read: a stale answer costs a little balance, never correctness).</summary>
    public bool Hungry => (Volatile.Read(ref _idle) > 0 || _sleepingCount > 0) && Volatile.Read(ref _count) == 0;

    /// <summary>Starts a normalisation: worker 0 alone, every other worker asleep.</summary>
    public void Reset()
    {
        lock (_lock)
        {
            _count = 0;
            _idle = 0;
            _active = 1;
            _done = false;
            _aborted = false;
            _spread = false;
            Fault = null;
            if (ParallelEngine.DebugWorkers)
            {
                _startTicks[0] = System.Diagnostics.Stopwatch.GetTimestamp();
                Array.Clear(Sched);
            }
            Shares = 0;
            Takes = 0;
            IdleTicks = 0;
        }
    }

    public void Share<TSync>(EngineCore<TSync> from) where TSync : struct, ISync
    {
        lock (_lock)
        {
            if (_done || _aborted) return;
            if (_pool.Length - _count < 1 << 16) Array.Resize(ref _pool, Math.Max(_pool.Length * 2, _count + (1 << 16)));
            int n = from.GiveAway(_pool.AsSpan(_count));
            if (n == 0) return;
            _count += n;
            Shares++;
            // Nobody idle to take it: wake a sleeping worker, which takes part from now on.
            if (_idle == 0 && _sleeping.Count > 0)
            {
                int w = _sleeping.Pop();
                _sleepingCount = _sleeping.Count;
                _wake[w] = true;
                _active++;
                _running++;
                _spread = true;
            }
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>Stopwatch ticks the workers spent waiting for work in <see cref="Take"/> (LMN_DEBUG_WORKERS).</summary>
    public long IdleTicks;

    /// <summary>Waits for work; false when reduction is over (or aborted).</summary>
    public bool Take<TSync>(EngineCore<TSync> to) where TSync : struct, ISync
    {
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        try { return TakeInner(to); }
        finally { Interlocked.Add(ref IdleTicks, System.Diagnostics.Stopwatch.GetTimestamp() - t0); }
    }

    private bool TakeInner<TSync>(EngineCore<TSync> to) where TSync : struct, ISync
    {
        lock (_lock)
        {
            _idle++;
            while (true)
            {
                if (_aborted || _done) return false;
                if (_count > 0)
                {
                    int m = (_count + 1) / 2;
                    _count -= m;
                    _idle--;
                    Takes++;
                    to.Receive(_pool.AsSpan(_count, m));
                    return true;
                }
                if (_idle == _active)
                {
                    _done = true;
                    Monitor.PulseAll(_lock);
                    return false;
                }
                Monitor.Wait(_lock);
            }
        }
    }

    /// <summary>A worker thread's life: sleep until woken for a normalisation, work, sleep again; until <see cref="Stop"/>.</summary>
    public void SleeperLoop(int index, Action work)
    {
        while (true)
        {
            lock (_lock)
            {
                while (!_stopped && !_wake[index]) Monitor.Wait(_lock);
                if (_stopped) return;
                _wake[index] = false;
            }
            if (ParallelEngine.DebugWorkers) _startTicks[index] = System.Diagnostics.Stopwatch.GetTimestamp();
            var sched0 = ParallelEngine.DebugWorkers ? ThreadSched.Now() : default;
            Guard(work);
            if (ParallelEngine.DebugWorkers) MarkEnd(index, sched0);
            lock (_lock)
            {
                _running--;
                _sleeping.Push(index);
                _sleepingCount = _sleeping.Count;
                Monitor.PulseAll(_lock);
            }
        }
    }

    /// <summary>After worker 0's part: waits until every woken worker is asleep again; true if any was woken.</summary>
    public bool WaitForHelpers()
    {
        lock (_lock)
        {
            while (_running > 0) Monitor.Wait(_lock);
            return _spread;
        }
    }

    /// <summary>Ends every worker thread (the engine is disposed).</summary>
    public void Stop()
    {
        lock (_lock)
        {
            _stopped = true;
            _aborted = true;
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>Runs a worker; a fault stops every worker and is rethrown by the caller.</summary>
    public void Guard(Action work)
    {
        try { work(); }
        catch (Exception e)
        {
            lock (_lock)
            {
                Fault ??= e;
                _aborted = true;
                Monitor.PulseAll(_lock);
            }
        }
    }
}

/// <summary>
/// The calling thread's CPU time and the time it spent runnable but waiting for a CPU, in ns, from Linux's
/// /proc/thread-self/schedstat (zeros elsewhere). A worker that waited was kept from its core by another
/// thread of this machine: another process, or this one's JIT or GC (LMN_DEBUG_WORKERS).
/// </summary>
internal readonly record struct ThreadSched(long Cpu, long Wait)
{
    public static ThreadSched Now()
    {
        string[] p;
        try { p = File.ReadAllText("/proc/thread-self/schedstat").Split(' '); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return default; }
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        return p.Length >= 2 && long.TryParse(p[0], inv, out long cpu) && long.TryParse(p[1], inv, out long wait) ? new(cpu, wait) : default;
    }

    public static ThreadSched operator -(ThreadSched a, ThreadSched b) => new(a.Cpu - b.Cpu, a.Wait - b.Wait);
}
