using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Lmn.Net;

/// <summary>A runtime fault of the engine (out of memory, an undefined numeric operation).</summary>
public sealed class EngineFault(string message) : Exception(message);

/// <summary>How variable slots are exchanged: plainly on one thread, atomically when threads share a net.</summary>
public unsafe interface ISync
{
    /// <summary>Stores v in *p and returns what *p held.</summary>
    static abstract uint Exchange(uint* p, uint v);

    /// <summary>Reads *p (with acquire ordering when threads share the net).</summary>
    static abstract uint Load(uint* p);
}

/// <summary>One thread owns the net: a plain load and store.</summary>
public readonly struct Plain : ISync
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe uint Exchange(uint* p, uint v)
    {
        uint old = *p;
        *p = v;
        return old;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe uint Load(uint* p) => *p;
}

/// <summary>Threads share the net: both ends of a wire may be linked at once, so slots are swapped atomically.</summary>
public readonly struct Atomic : ISync
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe uint Exchange(uint* p, uint v) => Interlocked.Exchange(ref *p, v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe uint Load(uint* p) => Volatile.Read(ref *p);
}

/// <summary>
/// The memory of one net, shared by every thread that reduces it: the node array and the variable array,
/// reserved once from the memory limit (pages are touched only as allocators reach them), and the book's
/// definitions in native form (<see cref="BookImage"/>, one copy per book shared by all its nets).
/// </summary>
public sealed unsafe class NetMemory : IDisposable
{
    internal ulong* Node;
    internal uint* Vars;
    internal readonly uint NodeCap;
    internal readonly uint VarCap;
    internal readonly long RedexBytes;
    internal readonly DefData* Defs;
    internal readonly int DefCount;
    internal readonly int MaxDefNodes;
    internal readonly int MaxDefVars;
    internal object? Code;         // the compiled definitions (CodeCache<TSync>), shared by every net of the book
    // Keeps the definitions' native copy alive as long as a net uses it.
    private readonly BookImage _image;

    public NetMemory(Book book, long maxMemory)
    {
        Book = book;
        MaxMemory = maxMemory;
        // Budget: half for nodes (8 bytes), a quarter for variables (4 bytes), a quarter for redex bags.
        NodeCap = (uint)Math.Clamp(maxMemory / 2 / 8, 64, 1L << 29);
        VarCap = (uint)Math.Clamp(maxMemory / 4 / 4, 64, 1L << 29);
        RedexBytes = maxMemory / 4;
        Node = (ulong*)NativeMemory.Alloc(NodeCap, sizeof(ulong));
        Vars = (uint*)NativeMemory.Alloc(VarCap, sizeof(uint));
        Vars[Port.RootVar] = Port.NONE;
        _image = BookImage.Of(book);
        Defs = _image.Defs;
        DefCount = _image.DefCount;
        MaxDefNodes = _image.MaxDefNodes;
        MaxDefVars = _image.MaxDefVars;
    }

    public Book Book { get; }
    public long MaxMemory { get; }

    /// <summary>The compiled definitions of the book for reducers of this kind, made on first use and shared by every net of the book.</summary>
    internal object CodeFor<TSync>(Func<object> make) where TSync : struct, ISync => Code ??= _image.CodeFor<TSync>(make);

    public void Dispose()
    {
        if (Node == null) return;
        NativeMemory.Free(Node);
        NativeMemory.Free(Vars);
        Node = null;
        GC.SuppressFinalize(this);
    }

    ~NetMemory() => Dispose();
}

/// <summary>
/// A book's definitions in native form, made once per <see cref="Book"/> and shared by every net of it
/// (a batch run makes one net per input: copying the prelude's definitions for each cost more than
/// reducing). Read-only once made, except <see cref="DefData.Calls"/>, a racy count that only decides
/// when a definition is compiled; the compiled code (<see cref="CodeCache{TSync}"/>) is shared too.
/// Freed when the book and every net of it are gone.
/// </summary>
internal sealed unsafe class BookImage
{
    private static readonly ConditionalWeakTable<Book, BookImage> s_images = new();

    internal readonly DefData* Defs;
    internal readonly int DefCount;
    internal readonly int MaxDefNodes;
    internal readonly int MaxDefVars;
    private object? _plain, _atomic;   // CodeCache<Plain>, CodeCache<Atomic>
    private readonly object _lock = new();

    /// <summary>The image of a book; the book must not change once a net of it was made (LmnDriver.BuildBook marks it before).</summary>
    public static BookImage Of(Book book) => s_images.GetValue(book, b => new BookImage(b));

    private BookImage(Book book)
    {
        DefCount = book.Defs.Count;
        Defs = (DefData*)NativeMemory.AllocZeroed((nuint)Math.Max(1, DefCount), (nuint)sizeof(DefData));
        int maxNodes = 1, maxVars = 1;
        for (int i = 0; i < DefCount; i++)
        {
            var d = book.Defs[i];
            var dd = new DefData
            {
                NodeLen = d.Nodes.Count,
                RedexLen = d.Redexes.Count,
                VarLen = d.Vars,
                Root = d.Root,
                Safe = d.Safe || d.SiteId >= 0,
                SiteId = d.SiteId,
                Poison = d.Poison,
                Deep = DefDepth.IsDeep(d),
                Nodes = (uint*)NativeMemory.Alloc((nuint)Math.Max(1, d.Nodes.Count * 2), sizeof(uint)),
                Redexes = (uint*)NativeMemory.Alloc((nuint)Math.Max(1, d.Redexes.Count * 2), sizeof(uint)),
            };
            for (int k = 0; k < d.Nodes.Count; k++)
            {
                dd.Nodes[2 * k] = Port.Fst(d.Nodes[k]);
                dd.Nodes[2 * k + 1] = Port.Snd(d.Nodes[k]);
            }
            for (int k = 0; k < d.Redexes.Count; k++)
            {
                dd.Redexes[2 * k] = Port.Fst(d.Redexes[k]);
                dd.Redexes[2 * k + 1] = Port.Snd(d.Redexes[k]);
            }
            Defs[i] = dd;
            maxNodes = Math.Max(maxNodes, d.Nodes.Count);
            maxVars = Math.Max(maxVars, d.Vars);
        }
        MaxDefNodes = maxNodes;
        MaxDefVars = maxVars;
    }

    public object CodeFor<TSync>(Func<object> make) where TSync : struct, ISync
    {
        lock (_lock)
        {
            if (typeof(TSync) == typeof(Plain)) return _plain ??= make();
            if (typeof(TSync) == typeof(Atomic)) return _atomic ??= make();
            throw new UnreachableException($"no code cache for {typeof(TSync).Name}");
        }
    }

    ~BookImage()
    {
        for (int i = 0; i < DefCount; i++)
        {
            NativeMemory.Free(Defs[i].Nodes);
            NativeMemory.Free(Defs[i].Redexes);
        }
        NativeMemory.Free(Defs);
    }
}

/// <summary>A definition in native memory: its node ports (two per node), redex ports and root.</summary>
internal unsafe struct DefData
{
    public uint* Nodes;
    public uint* Redexes;
    public int NodeLen;
    public int RedexLen;
    public int VarLen;
    public uint Root;
    public bool Safe;
    public int SiteId;
    public bool Poison;
    public int Calls;      // calls so far, until the definition is compiled (EngineMode.Compiled)
    /// <summary>Its template nests deeper than <see cref="DefDepth.Max"/>: instantiated by the plain copy, never by the recursive fast call.</summary>
    public bool Deep;
}

/// <summary>How deep a definition's template trees nest (the fast call recurses once per level).</summary>
internal static class DefDepth
{
    /// <summary>Templates deeper than this (a literal list of thousands of elements) are copied, not matched.</summary>
    public const int Max = 1024;

    /// <summary>Whether any tree of d nests deeper than Max. Nodes come parent first (HVM2's order), so one pass in index order gives each node's depth.</summary>
    public static bool IsDeep(Def d)
    {
        if (d.Nodes.Count <= Max) return false;
        var depth = new int[d.Nodes.Count];
        void Root(uint p)
        {
            if (Port.TagOf(p) >= Tag.CON) depth[Port.ValOf(p)] = 1;
        }
        Root(d.Root);
        foreach (ulong r in d.Redexes)
        {
            Root(Port.Fst(r));
            Root(Port.Snd(r));
        }
        for (int i = 0; i < depth.Length; i++)
        {
            int k = Math.Max(depth[i], 1);
            if (k > Max) return true;
            foreach (uint c in (ReadOnlySpan<uint>)[Port.Fst(d.Nodes[i]), Port.Snd(d.Nodes[i])])
                if (Port.TagOf(c) >= Tag.CON) depth[Port.ValOf(c)] = k + 1;
        }
        return false;
    }
}

/// <summary>What a caller needs of an engine, one thread or many.</summary>
public interface INetRunner : IBumpAllocator, IDisposable
{
    /// <summary>Boots @main (or fid) and reduces to normal form.</summary>
    void Run(int fid = 0);

    /// <summary>Runs @main (or fid) under HVM2's IO loop.</summary>
    void RunIo(IoHost io, int fid = 0);

    /// <summary>Checked every 65,536 interactions: when cancelled, reduction stops with an OperationCanceledException.</summary>
    CancellationToken Cancellation { get => default; set { } }

    /// <summary>Interactions performed (every rule but LINK, as HVM2 counts).</summary>
    long Interactions { get; }

    /// <summary>Interactions performed, per rule (see <see cref="RuleCounts"/>); Rules.Total is Interactions.</summary>
    RuleCounts Rules { get; }

    /// <summary>Compiles every definition now (EngineMode.Compiled; else nothing); returns the time taken.</summary>
    TimeSpan Precompile();

    /// <summary>Bytes of net memory touched.</summary>
    long PeakBytes { get; }

    /// <summary>The port connected to the root.</summary>
    uint RootPort { get; }

    /// <summary>Reduces every pending redex (after a graft).</summary>
    void Normalize();

    /// <summary>The oracle sites parked since the last call (see <see cref="ParkedSite"/>).</summary>
    List<ParkedSite> TakeParked();

    /// <summary>Links two ports of the net (between rounds).</summary>
    void LinkPorts(uint a, uint b);

    /// <summary>Erases a port.</summary>
    void Erase(uint port);

    /// <summary>The value a port stands for now (follows set variables).</summary>
    uint Peek(uint port);

    /// <summary>The two ports of a node.</summary>
    ulong NodeAt(uint index);

    /// <summary>Expands a reference on its own, reduces, and returns its normal form's port.</summary>
    uint Force(uint refPort);

    /// <summary>The program's definitions.</summary>
    Book Book { get; }
}

/// <summary>The single-threaded engine (see <see cref="EngineCore{TSync}"/>).</summary>
public sealed class Engine : EngineCore<Plain>
{
    public Engine(Book book, long maxMemory = DefaultMaxMemory, bool fastCalls = true)
        : this(book, maxMemory, ModeOf(fastCalls))
    {
    }

    public Engine(Book book, long maxMemory, EngineMode mode)
        : base(new NetMemory(book, maxMemory), ownsMemory: true, mode, worker: 0, workers: 1)
    {
    }
}

/// <summary>
/// The interaction-net engine: one reducer of a net. Layout, as HVM2: a port is a uint (3-bit tag,
/// 29-bit value), a node is a ulong pair of ports in a flat array, a variable is a uint substitution
/// slot. Memory is native (no GC scanning, no bounds checks in the hot loop). Each reducer allocates from
/// its own share of the node and variable arrays and keeps its own free lists and redex bags; with
/// several reducers (<see cref="ParallelEngine"/>) they share the arrays and exchange variable slots
/// atomically (TSync = <see cref="Atomic"/>); alone, TSync = <see cref="Plain"/> compiles to plain loads
/// and stores.
/// </summary>
public unsafe partial class EngineCore<TSync> : INetRunner where TSync : struct, ISync
{
    /// <summary>Default limit on the memory of one net (nodes, variables and redex bags).</summary>
    public const long DefaultMaxMemory = 4L << 30;

    private readonly NetMemory _mem;
    private readonly bool _ownsMemory;
    private ulong* _node;          // node slots; a free slot holds the index of the next free one
    private uint* _vars;           // substitution slots; a free slot holds the index of the next free one
    private readonly uint _nodeStart, _nodeCap; // this reducer's share of the node array
    private readonly uint _varStart, _varCap;   // this reducer's share of the variable array
    private uint _nodeBump;
    private uint _varBump;
    private uint _nodeFree;        // 0 ends the free list: slot 0 is never handed out
    private uint _varFree;         // 0 ends the free list: slot 0 is the root variable

    private ulong* _hi;            // high-priority redexes (LINK VOID ERAS ANNI): cheap, they shrink the net
    private ulong* _lo;            // low-priority redexes (CALL COMM OPER SWIT)
    private int _hiLen, _hiCap, _loLen, _loCap;
    private readonly long _redexBytes;

    private readonly DefData* _defs;
    private uint* _nloc;           // fresh node addresses for the definition being instantiated
    private uint* _vloc;           // fresh variable addresses for the definition being instantiated
    private uint* _vval;           // fast calls: what the first end of a template variable was linked to

    // Interactions per rule (plain fields: one increment each, no indexing)
    private long _nLink, _nCall, _nVoid, _nEras, _nAnni, _nComm, _nOper, _nSwit;

    protected EngineCore(NetMemory mem, bool ownsMemory, EngineMode mode, int worker, int workers)
    {
        _mem = mem;
        _ownsMemory = ownsMemory;
        // Without dynamic code (NativeAOT: the lmn front, docs/startup.md) no IL can be generated: compiled
        // definitions become the fast walk they unroll (same normal form, same interaction count).
        Mode = mode == EngineMode.Compiled && !RuntimeFeature.IsDynamicCodeSupported ? EngineMode.Fast : mode;
        FastCalls = mode != EngineMode.Interpret;
        InitCode(mem);
        _node = mem.Node;
        _vars = mem.Vars;
        _defs = mem.Defs;
        _nodeStart = (uint)((long)mem.NodeCap * worker / workers);
        _nodeCap = (uint)((long)mem.NodeCap * (worker + 1) / workers);
        _varStart = (uint)((long)mem.VarCap * worker / workers);
        _varCap = (uint)((long)mem.VarCap * (worker + 1) / workers);
        _nodeBump = Math.Max(1, _nodeStart);
        _varBump = Math.Max(1, _varStart);
        _redexBytes = mem.RedexBytes / workers;
        _hiCap = 1 << 12;
        _loCap = 1 << 12;
        _hi = (ulong*)NativeMemory.Alloc((nuint)_hiCap, sizeof(ulong));
        _lo = (ulong*)NativeMemory.Alloc((nuint)_loCap, sizeof(ulong));
        _nloc = (uint*)NativeMemory.Alloc((nuint)mem.MaxDefNodes, sizeof(uint));
        _vloc = (uint*)NativeMemory.Alloc((nuint)mem.MaxDefVars, sizeof(uint));
        _vval = (uint*)NativeMemory.Alloc((nuint)mem.MaxDefVars, sizeof(uint));
    }

    public Book Book => _mem.Book;
    public long MaxMemory => _mem.MaxMemory;
    internal NetMemory Memory => _mem;

    /// <summary>
    /// Instantiate definitions by interacting their template with the caller's net directly (see
    /// FastCall.cs) instead of building every node first. Same normal form, same interaction count.
    /// </summary>
    public bool FastCalls { get; }

    /// <summary>How definitions are instantiated (see <see cref="EngineMode"/>).</summary>
    public EngineMode Mode { get; }

    /// <summary>
    /// The mode for the engines' `fastCalls` flag: true is compiled definitions, false the plain
    /// interpreter; LMN_ENGINE=interpret|fast|compiled overrides it (for measuring one path against another).
    /// </summary>
    public static EngineMode ModeOf(bool fastCalls) =>
        s_modeOverride ?? (fastCalls ? EngineMode.Compiled : EngineMode.Interpret);

    // Read once: a batch run makes an engine per input, and reading the environment cost more than the rest of the constructor.
    private static readonly EngineMode? s_modeOverride = Environment.GetEnvironmentVariable("LMN_ENGINE") switch
    {
        "interpret" => EngineMode.Interpret,
        "fast" => EngineMode.Fast,
        "compiled" => EngineMode.Compiled,
        _ => null,
    };

    /// <summary>Interactions performed so far by this reducer (every rule but LINK, as HVM2 counts).</summary>
    public virtual long Interactions => OwnInteractions;

    /// <summary>Interactions performed so far by this reducer, per rule.</summary>
    public virtual RuleCounts Rules => OwnRules;

    /// <summary>Atomic swaps of a variable slot so far by this reducer (threads only; LMN_DEBUG_WORKERS prints them).</summary>
    internal long OwnSwaps => _nSwap;

    private long _nSwap;

    internal long OwnInteractions => _nCall + _nVoid + _nEras + _nAnni + _nComm + _nOper + _nSwit;

    internal RuleCounts OwnRules => new()
    {
        Link = _nLink, Call = _nCall, Void = _nVoid, Eras = _nEras, Anni = _nAnni, Comm = _nComm, Oper = _nOper, Swit = _nSwit,
    };

    /// <summary>Bytes of net memory ever touched by this reducer: nodes, variables and redex bags.</summary>
    public virtual long PeakBytes => (long)(_nodeBump - _nodeStart) * 8 + (long)(_varBump - _varStart) * 4 + ((long)_hiCap + _loCap) * 8;

    // Allocation
    // ----------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint AllocNode()
    {
        uint i = _nodeFree;
        if (i != 0)
        {
            _nodeFree = (uint)_node[i];
            return i;
        }
        i = _nodeBump++;
        if (i >= _nodeCap) OutOfMemory("nodes", _nodeCap - _nodeStart);
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void FreeNode(uint i)
    {
        _node[i] = _nodeFree;
        _nodeFree = i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint AllocVar()
    {
        uint i = _varFree;
        if (i != 0)
        {
            _varFree = _vars[i];
            return i;
        }
        i = _varBump++;
        if (i >= _varCap) OutOfMemory("variables", _varCap - _varStart);
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void FreeVar(uint i)
    {
        Debug.Assert(i != Port.RootVar, "the root variable is never freed");
        _vars[i] = _varFree;
        _varFree = i;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    [DoesNotReturn]
    private void OutOfMemory(string what, long cap) =>
        throw new EngineFault($"out of memory: the net needs more than {cap:N0} {what}, the share of --max-memory={FormatBytes(MaxMemory)}; rerun with a larger --max-memory");

    public static string FormatBytes(long bytes) =>
        bytes % (1L << 30) == 0 ? $"{bytes >> 30}G" : bytes % (1L << 20) == 0 ? $"{bytes >> 20}M" : $"{bytes}";

    // Redex bags
    // ----------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PushRedex(uint a, uint b)
    {
        ulong r = Port.Pair(a, b);
        int rule = RuleOfTags(a, b);
        // HVM2's priority: LINK, VOID, ERAS and ANNI are high priority (mask 0b00011101).
        if (((0b0001_1101 >> rule) & 1) != 0)
        {
            if (_hiLen == _hiCap) Grow(ref _hi, ref _hiCap);
            _hi[_hiLen++] = r;
        }
        else
        {
            if (_loLen == _loCap) Grow(ref _lo, ref _loCap);
            _lo[_loLen++] = r;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int RuleOfTags(uint a, uint b) =>
        Unsafe.Add(ref MemoryMarshal.GetReference(Port.RuleTable), (int)((Port.TagOf(a) << 3) | Port.TagOf(b)));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow(ref ulong* buf, ref int cap)
    {
        long used = ((long)_hiCap + _loCap) * 8;
        if (used + (long)cap * 8 > _redexBytes)
            throw new EngineFault($"out of memory: more than {used / 8:N0} pending redexes, the share of --max-memory={FormatBytes(MaxMemory)}; rerun with a larger --max-memory");
        cap *= 2;
        buf = (ulong*)NativeMemory.Realloc(buf, (nuint)cap * sizeof(ulong));
    }

    // Linking
    // -------

    /// <summary>Follows a variable's substitution while it is set, freeing the variables it passes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint Enter(uint p)
    {
        while (Port.TagOf(p) == Tag.VAR)
        {
            // Threads: a slot holding a port was filled by the far end, which has left it for good, so
            // this end owns it and may take it without a swap. A slot still NONE stays with our end in
            // it; whoever links the far end later finds our end through it (HVM2 swaps NONE in here,
            // to the same effect).
            uint got = TSync.Load(_vars + (p >> 3));
            if (got == Port.NONE) break;
            FreeVar(p >> 3);
            p = got;
        }
        return p;
    }

    /// <summary>
    /// Connects two ports. Two principal ports make a redex; a variable end stores the other port in its
    /// slot, and if the slot already held the far end's port, the two are linked in turn (HVM2's link).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Link(uint a, uint b)
    {
        while (true)
        {
            if (Port.TagOf(a) != Tag.VAR)
            {
                if (Port.TagOf(b) != Tag.VAR)
                {
                    PushRedex(a, b);
                    return;
                }
                (a, b) = (b, a);
            }
            b = Enter(b);
            uint ai = a >> 3;
            // Threads: of the two ends of a wire, the one whose swap returns NONE arrived first and
            // leaves its partner in the slot; the one that finds a port there owns both and links on.
            // A slot that already holds a port was left for good by the far end (as in Enter): a plain
            // read takes it, and only a slot still NONE needs the swap (which may yet find a port).
            uint old = TSync.Load(_vars + ai);
            if (old == Port.NONE)
            {
                if (typeof(TSync) == typeof(Atomic)) _nSwap++;
                old = TSync.Exchange(_vars + ai, b);
                if (old == Port.NONE) return;
            }
            // The far end of `a` was already set: `a` is spent, link what it held with `b`.
            _nLink++;
            FreeVar(ai);
            a = old;
        }
    }

    // Reduction
    // ---------

    /// <summary>Boots the net with `@main ~ ROOT` and reduces it to normal form.</summary>
    public void Run(int fid = 0)
    {
        Boot(Port.New(Tag.REF, (uint)fid));
        Normalize();
    }

    /// <summary>Sets the root variable free and links a port to it through a CALL (HVM2's boot redex).</summary>
    public void Boot(uint port)
    {
        _vars[Port.RootVar] = Port.NONE;
        if (Port.TagOf(port) == Tag.REF)
        {
            if (Call(port, Port.ROOT)) _nCall++;
        }
        else Link(port, Port.ROOT);
    }

    /// <summary>Reduces every pending redex, high priority first.</summary>
    // Fully optimised from the first call: the loop runs once for the whole reduction, so tiered
    // compilation would only ever reach it through on-stack replacement.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public virtual void Normalize()
    {
        // No try/finally here: a handler would keep the loop's locals out of registers.
        long fuel = _fuel;
        while (true)
        {
            ulong r;
            if (_hiLen > 0) r = _hi[--_hiLen];
            else if (_loLen > 0) r = _lo[--_loLen];
            else
            {
                _fuel = fuel;
                return;
            }
            if (--fuel < 0) OutOfFuel();
            if ((fuel & 0xFFFF) == 0 && Cancellation.IsCancellationRequested) Cancelled(fuel);
            Interact(r);
        }
    }

    private long _fuel = long.MaxValue;

    /// <summary>Ctrl+C and the like: checked every 65,536 interactions by <see cref="Normalize"/> and the workers.</summary>
    public CancellationToken Cancellation { get; set; }

    [MethodImpl(MethodImplOptions.NoInlining)]
    [DoesNotReturn]
    private void Cancelled(long fuel)
    {
        _fuel = fuel;
        throw new OperationCanceledException(Cancellation);
    }

    /// <summary>
    /// At most this many redexes more are taken from the bags by <see cref="Normalize"/> (one thread) before
    /// it stops with an <see cref="EngineFault"/>; unlimited by default. For tests that run generated nets,
    /// some of which never reach a normal form.
    /// </summary>
    public long RedexLimit
    {
        get => _fuel;
        set => _fuel = value;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    [DoesNotReturn]
    private static void OutOfFuel() => throw new EngineFault("redex limit reached: no normal form within the limit");

    /// <summary>
    /// A worker's loop when several threads reduce one net: reduce the local bags; every 128
    /// interactions, if another worker is idle and nothing is on offer, give away the older half of the
    /// low-priority bag (near the bottom sit the biggest pending calls); when empty, take from the pool.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void WorkLoop(WorkPool pool)
    {
        uint tick = 0;
        while (true)
        {
            while (true)
            {
                ulong r;
                if (_hiLen > 0) r = _hi[--_hiLen];
                else if (_loLen > 0) r = _lo[--_loLen];
                else break;
                Interact(r);
                if ((++tick & 127) == 0)
                {
                    if (pool.Aborted) return;
                    if ((tick & 0xFFFF) == 0 && Cancellation.IsCancellationRequested) throw new OperationCanceledException(Cancellation);
                    if (_loLen > 1 && pool.Hungry) pool.Share(this);
                }
            }
            if (!pool.Take(this)) return;
        }
    }

    /// <summary>Moves the older half of the low-priority bag into dst; returns how many.</summary>
    internal int GiveAway(Span<ulong> dst)
    {
        int k = Math.Min(_loLen / 2, dst.Length);
        new Span<ulong>(_lo, k).CopyTo(dst);
        new Span<ulong>(_lo + k, _loLen - k).CopyTo(new Span<ulong>(_lo, _loLen - k));
        _loLen -= k;
        return k;
    }

    /// <summary>Takes redexes given by another worker.</summary>
    internal void Receive(ReadOnlySpan<ulong> redexes)
    {
        foreach (ulong r in redexes) PushRedex((uint)r, (uint)(r >> 32));
    }

    /// <summary>Performs the interaction of one redex.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Interact(ulong r)
    {
        uint a = (uint)r, b = (uint)(r >> 32);
        if (Port.TagOf(b) < Port.TagOf(a)) (a, b) = (b, a);
        switch (RuleOfTags(a, b))
        {
            case Rule.LINK: Link(a, b); return;
            case Rule.CALL: if (Call(a, b)) _nCall++; return;
            case Rule.VOID: _nVoid++; return;
            case Rule.ERAS: _nEras++; Eras(a, b); return;
            case Rule.ANNI: _nAnni++; Anni(a, b); return;
            case Rule.COMM: _nComm++; Comm(a, b); return;
            case Rule.OPER: _nOper++; Oper(a, b); return;
            case Rule.SWIT: _nSwit++; Swit(a, b); return;
            default: throw new UnreachableException($"rule of {a:X8} ~ {b:X8}");
        }
    }

    //  @f ~ b       : the definition's net with fresh addresses, its root linked to b.
    //  @f ~ {x y}   : if @f is safe (no DUP reachable), x ~ @f and y ~ @f instead (a copy).
    private bool Call(uint a, uint b)
    {
        DefData* d = _defs + ((a >> 3) & 0x0FFF_FFFF);
        if ((d->Safe && Port.TagOf(b) == Tag.DUP) || d->Poison)
        {
            //  @fail ~ X(b1 b2)  →  b1 ~ @fail, b2 ~ @fail   (an error spreads to what uses the value)
            Eras(a, b);
            return true;
        }
        if (d->SiteId >= 0)
        {
            Park(d->SiteId, a, b);
            return false;
        }
        if (_code != null)
        {
            CompiledCall((int)((a >> 3) & 0x0FFF_FFFF), d, b);
            return true;
        }
        if (FastCalls)
        {
            FastCall(d, b);
            return true;
        }
        CopyCall(d, b);
        return true;
    }

    /// <summary>CALL by copying: the template's nodes get fresh addresses, in order, and are linked as written.</summary>
    private void CopyCall(DefData* d, uint b)
    {
        uint* vloc = _vloc;
        uint* nloc = _nloc;
        uint* vars = _vars;
        for (int i = 0; i < d->VarLen; i++)
        {
            uint v = AllocVar();
            vars[v] = Port.NONE;
            vloc[i] = v;
        }
        int nodeLen = d->NodeLen;
        for (int i = 0; i < nodeLen; i++) nloc[i] = AllocNode();
        uint* tpl = d->Nodes;
        ulong* node = _node;
        for (int i = 0; i < nodeLen; i++)
            node[nloc[i]] = Port.Pair(Adjust(tpl[2 * i], nloc, vloc), Adjust(tpl[2 * i + 1], nloc, vloc));
        uint* rx = d->Redexes;
        for (int i = 0; i < d->RedexLen; i++)
            Link(Adjust(rx[2 * i], nloc, vloc), Adjust(rx[2 * i + 1], nloc, vloc));
        Link(Adjust(d->Root, nloc, vloc), b);
    }

    /// <summary>Renames a template port's local node or variable index to its fresh address.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Adjust(uint p, uint* nloc, uint* vloc)
    {
        uint tag = Port.TagOf(p);
        if (tag >= Tag.CON) return (nloc[p >> 3] << 3) | tag;
        if (tag == Tag.VAR) return vloc[p >> 3] << 3;
        return p;
    }

    //  a ~ (b1 b2)   (a an eraser, number or safe ref)
    //  -----------
    //  a ~ b1, a ~ b2
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Eras(uint a, uint b)
    {
        uint bi = b >> 3;
        ulong bn = _node[bi];
        FreeNode(bi);
        Link(a, (uint)bn);
        Link(a, (uint)(bn >> 32));
    }

    //  (a1 a2) ~ (b1 b2)   (same kind)
    //  -----------------
    //  a1 ~ b1, a2 ~ b2
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Anni(uint a, uint b)
    {
        uint ai = a >> 3, bi = b >> 3;
        ulong an = _node[ai], bn = _node[bi];
        FreeNode(ai);
        FreeNode(bi);
        Link((uint)an, (uint)bn);
        Link((uint)(an >> 32), (uint)(bn >> 32));
    }

    //  A(a1 a2) ~ B(b1 b2)   (different kinds)
    //  -------------------
    //  B(x0 x1) ~ a1, B(x2 x3) ~ a2, A(x0 x2) ~ b1, A(x1 x3) ~ b2
    private void Comm(uint a, uint b)
    {
        uint ai = a >> 3, bi = b >> 3;
        ulong an = _node[ai], bn = _node[bi];
        uint v0 = AllocVar(), v1 = AllocVar(), v2 = AllocVar(), v3 = AllocVar();
        uint* vars = _vars;
        vars[v0] = Port.NONE;
        vars[v1] = Port.NONE;
        vars[v2] = Port.NONE;
        vars[v3] = Port.NONE;
        uint n0 = ai, n1 = bi, n2 = AllocNode(), n3 = AllocNode();
        ulong* node = _node;
        uint x0 = v0 << 3, x1 = v1 << 3, x2 = v2 << 3, x3 = v3 << 3;
        node[n0] = Port.Pair(x0, x1);
        node[n1] = Port.Pair(x2, x3);
        node[n2] = Port.Pair(x0, x2);
        node[n3] = Port.Pair(x1, x3);
        uint ta = Port.TagOf(a), tb = Port.TagOf(b);
        Link((n0 << 3) | tb, (uint)an);
        Link((n1 << 3) | tb, (uint)(an >> 32));
        Link((n2 << 3) | ta, (uint)bn);
        Link((n3 << 3) | ta, (uint)(bn >> 32));
    }

    //  #x ~ $(#y r)  →  r ~ #op(x, y)
    //  #x ~ $(b1 r)  →  b1 ~ $(#x r)      (b1 not yet a number: swap the operands' roles)
    private void Oper(uint a, uint b)
    {
        uint bi = b >> 3;
        ulong bn = _node[bi];
        uint b1 = (uint)bn;
        uint b2 = Enter((uint)(bn >> 32));
        if (Port.TagOf(b1) == Tag.NUM)
        {
            FreeNode(bi);
            Link(Port.New(Tag.NUM, Numb.Operate(a >> 3, b1 >> 3)), b2);
        }
        else
        {
            _node[bi] = Port.Pair(a, b2);
            Link(b1, (bi << 3) | Tag.OPR);
        }
    }

    //  #0   ~ ?(b1 b2)  →  b1 ~ (b2 *)
    //  #n+1 ~ ?(b1 b2)  →  b1 ~ (* (#n b2))
    private void Swit(uint a, uint b)
    {
        uint av = Numb.GetU24(a >> 3);
        uint bi = b >> 3;
        ulong bn = _node[bi];
        uint b1 = (uint)bn, b2 = (uint)(bn >> 32);
        if (av == 0)
        {
            _node[bi] = Port.Pair(b2, Tag.ERA);
        }
        else
        {
            uint n1 = AllocNode();
            _node[n1] = Port.Pair(Port.New(Tag.NUM, Numb.NewU24(av - 1)), b2);
            _node[bi] = Port.Pair(Tag.ERA, (n1 << 3) | Tag.CON);
        }
        Link((bi << 3) | Tag.CON, b1);
    }

    // Read-back
    // ---------

    /// <summary>The value a port stands for: follows set variables without changing the net.</summary>
    public uint Peek(uint p)
    {
        while (Port.TagOf(p) == Tag.VAR)
        {
            uint got = _vars[p >> 3];
            if (got == Port.NONE) break;
            p = got;
        }
        return p;
    }

    /// <summary>The port connected to the root.</summary>
    public uint RootPort => Peek(Port.ROOT);

    public ulong NodeAt(uint index) => _node[index];

    /// <summary>
    /// Empties the net for another run, as a new engine of the same book and memory limit would be: the
    /// same addresses handed out in the same order, so a run on a reset engine equals a run on a fresh one
    /// (same value, same interaction count). The pages already touched stay mapped; the definitions, their
    /// compiled code and the redex bags' capacity are kept. Only for an engine that owns its memory (not a
    /// worker of a <see cref="ParallelEngine"/>), between runs.
    /// </summary>
    public void Reset()
    {
        if (!_ownsMemory) throw new InvalidOperationException("a worker of a parallel engine is not reset on its own");
        _nodeBump = Math.Max(1, _nodeStart);
        _varBump = Math.Max(1, _varStart);
        _nodeFree = 0;
        _varFree = 0;
        _hiLen = _loLen = 0;
        _nLink = _nCall = _nVoid = _nEras = _nAnni = _nComm = _nOper = _nSwit = _nSwap = 0;
        _fuel = long.MaxValue;
        Cancellation = default;
        _cur = null;
        _vars[Port.RootVar] = Port.NONE;
        ResetSites();
        ResetIo();
    }

    public void Dispose()
    {
        if (_hi == null) return;
        NativeMemory.Free(_hi);
        NativeMemory.Free(_lo);
        NativeMemory.Free(_nloc);
        NativeMemory.Free(_vloc);
        NativeMemory.Free(_vval);
        _hi = null;
        if (_ownsMemory) _mem.Dispose();
        GC.SuppressFinalize(this);
    }

    ~EngineCore() => Dispose();
}
