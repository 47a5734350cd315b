using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Lmn.Hvm;

namespace Lmn.Net;

/// <summary>A runtime fault of the engine (out of memory, an undefined numeric operation).</summary>
public sealed class EngineFault(string message) : Exception(message);

/// <summary>
/// The single-threaded interaction-net engine. Layout, as HVM2: a port is a uint (3-bit tag, 29-bit value),
/// a node is a ulong pair of ports in a flat array, a variable is a uint substitution slot. Memory is
/// native (no GC scanning, no bounds checks in the hot loop) and reserved up front from the memory limit;
/// pages are only touched as the allocator reaches them, and freed nodes and variables are reused first
/// (intrusive free lists), so the touched size stays close to the live size.
/// </summary>
public sealed unsafe partial class Engine : IDisposable
{
    /// <summary>Default limit on the memory of one net (nodes, variables and redex bags).</summary>
    public const long DefaultMaxMemory = 4L << 30;

    private ulong* _node;          // node slots; a free slot holds the index of the next free one
    private uint* _vars;           // substitution slots; a free slot holds the index of the next free one
    private readonly uint _nodeCap;
    private readonly uint _varCap;
    private uint _nodeBump = 1;    // slot 0 is reserved so that 0 can end the free list
    private uint _varBump = 1;     // slot 0 is the root variable
    private uint _nodeFree;
    private uint _varFree;

    private ulong* _hi;            // high-priority redexes (LINK VOID ERAS ANNI): cheap, they shrink the net
    private ulong* _lo;            // low-priority redexes (CALL COMM OPER SWIT)
    private int _hiLen, _hiCap, _loLen, _loCap;
    private long _redexBytes;

    private readonly DefData* _defs;
    private readonly int _defCount;
    private uint* _nloc;           // fresh node addresses for the definition being instantiated
    private uint* _vloc;           // fresh variable addresses for the definition being instantiated

    private long _itrs;

    /// <summary>A definition in native memory: its node ports (two per node), redex ports and root.</summary>
    private struct DefData
    {
        public uint* Nodes;
        public uint* Redexes;
        public int NodeLen;
        public int RedexLen;
        public int VarLen;
        public uint Root;
        public bool Safe;
        public bool Park;
    }

    public Engine(Book book, long maxMemory = DefaultMaxMemory, bool fastCalls = true)
    {
        Book = book;
        FastCalls = fastCalls;
        MaxMemory = maxMemory;
        // Budget: half for nodes (8 bytes), a quarter for variables (4 bytes), a quarter for redex bags.
        _nodeCap = (uint)Math.Clamp(maxMemory / 2 / 8, 64, 1L << 29);
        _varCap = (uint)Math.Clamp(maxMemory / 4 / 4, 64, 1L << 29);
        _redexBytes = maxMemory / 4;
        _node = (ulong*)NativeMemory.Alloc(_nodeCap, sizeof(ulong));
        _vars = (uint*)NativeMemory.Alloc(_varCap, sizeof(uint));
        _hiCap = 1 << 12;
        _loCap = 1 << 12;
        _hi = (ulong*)NativeMemory.Alloc((nuint)_hiCap, sizeof(ulong));
        _lo = (ulong*)NativeMemory.Alloc((nuint)_loCap, sizeof(ulong));
        _vars[Port.RootVar] = Port.NONE;

        _defCount = book.Defs.Count;
        _defs = (DefData*)NativeMemory.AllocZeroed((nuint)Math.Max(1, _defCount), (nuint)sizeof(DefData));
        int maxNodes = 1, maxVars = 1;
        for (int i = 0; i < _defCount; i++)
        {
            var d = book.Defs[i];
            var dd = new DefData
            {
                NodeLen = d.Nodes.Count,
                RedexLen = d.Redexes.Count,
                VarLen = d.Vars,
                Root = d.Root,
                Safe = d.Safe,
                Park = d.Park,
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
            _defs[i] = dd;
            maxNodes = Math.Max(maxNodes, d.Nodes.Count);
            maxVars = Math.Max(maxVars, d.Vars);
        }
        _nloc = (uint*)NativeMemory.Alloc((nuint)maxNodes, sizeof(uint));
        _vloc = (uint*)NativeMemory.Alloc((nuint)maxVars, sizeof(uint));
    }

    public Book Book { get; }
    public long MaxMemory { get; }

    /// <summary>
    /// Instantiate definitions by interacting their template with the caller's net directly (see
    /// FastCall.cs) instead of building every node first. Same normal form, same interaction count.
    /// </summary>
    public bool FastCalls { get; }

    /// <summary>Interactions performed so far (every rule but LINK, as HVM2 counts).</summary>
    public long Interactions => _itrs;

    /// <summary>Node slots ever touched (the high-water mark of the node array).</summary>
    public long PeakNodes => _nodeBump;

    /// <summary>Bytes of net memory ever touched: nodes, variables and redex bags.</summary>
    public long PeakBytes => (long)_nodeBump * 8 + (long)_varBump * 4 + ((long)_hiCap + _loCap) * 8;

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
        if (i >= _nodeCap) OutOfMemory("nodes", _nodeCap);
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
        if (i >= _varCap) OutOfMemory("variables", _varCap);
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
        Unsafe.Add(ref MemoryMarshal.GetReference(Port.RuleTable), (int)(((a & 7) << 3) | (b & 7)));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow(ref ulong* buf, ref int cap)
    {
        long used = ((long)_hiCap + _loCap) * 8;
        if (used + (long)cap * 8 > _redexBytes)
            throw new EngineFault($"out of memory: more than {used / 8:N0} pending redexes, the share of --max-memory={FormatBytes(MaxMemory)}; rerun with a larger --max-memory");
        cap *= 2;
        buf = (ulong*)NativeMemory.Realloc(buf, (nuint)cap * sizeof(ulong));
    }

    /// <summary>Pending redexes.</summary>
    public int PendingRedexes => _hiLen + _loLen;

    // Linking
    // -------

    /// <summary>Follows a variable's substitution while it is set, freeing the variables it passes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint Enter(uint p)
    {
        while ((p & 7) == Tag.VAR)
        {
            uint got = _vars[p >> 3];
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
            if ((a & 7) != Tag.VAR)
            {
                if ((b & 7) != Tag.VAR)
                {
                    PushRedex(a, b);
                    return;
                }
                (a, b) = (b, a);
            }
            b = Enter(b);
            uint ai = a >> 3;
            uint old = _vars[ai];
            _vars[ai] = b;
            if (old == Port.NONE) return;
            // The far end of `a` was already set: `a` is spent, link what it held with `b`.
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
        if ((port & 7) == Tag.REF)
        {
            _itrs++;
            Call(port, Port.ROOT);
        }
        else Link(port, Port.ROOT);
    }

    /// <summary>Reduces every pending redex, high priority first.</summary>
    // Fully optimised from the first call: the loop runs once for the whole reduction, so tiered
    // compilation would only ever reach it through on-stack replacement.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Normalize()
    {
        while (true)
        {
            ulong r;
            if (_hiLen > 0) r = _hi[--_hiLen];
            else if (_loLen > 0) r = _lo[--_loLen];
            else return;
            uint a = (uint)r, b = (uint)(r >> 32);
            if ((b & 7) < (a & 7)) (a, b) = (b, a);
            switch (RuleOfTags(a, b))
            {
                case Rule.LINK: Link(a, b); continue;
                case Rule.CALL: Call(a, b); break;
                case Rule.VOID: break;
                case Rule.ERAS: Eras(a, b); break;
                case Rule.ANNI: Anni(a, b); break;
                case Rule.COMM: Comm(a, b); break;
                case Rule.OPER: Oper(a, b); break;
                case Rule.SWIT: Swit(a, b); break;
                default: throw new UnreachableException($"rule of {a:X8} ~ {b:X8}");
            }
            _itrs++;
        }
    }

    //  @f ~ b       : the definition's net with fresh addresses, its root linked to b.
    //  @f ~ {x y}   : if @f is safe (no DUP reachable), x ~ @f and y ~ @f instead (a copy).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Call(uint a, uint b)
    {
        DefData* d = _defs + ((a >> 3) & 0x0FFF_FFFF);
        if (d->Park)
        {
            ParkCall(a, b);
            return;
        }
        if (d->Safe && (b & 7) == Tag.DUP)
        {
            Eras(a, b);
            return;
        }
        uint* vloc = _vloc;
        uint* nloc = _nloc;
        uint* vars = _vars;
        for (int i = 0; i < d->VarLen; i++)
        {
            uint v = AllocVar();
            vars[v] = Port.NONE;
            vloc[i] = v;
        }
        if (FastCalls)
        {
            FastCall(d, b);
            return;
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
        uint tag = p & 7;
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
        uint ta = a & 7, tb = b & 7;
        Link((n0 << 3) | tb, (uint)an);
        Link((n1 << 3) | tb, (uint)(an >> 32));
        Link((n2 << 3) | ta, (uint)bn);
        Link((n3 << 3) | ta, (uint)(bn >> 32));
    }

    //  #x ~ $(#y r)  →  r ~ #op(x, y)
    //  #x ~ $(b1 r)  →  b1 ~ $(#x r)      (b1 not yet a number: swap the operands' roles)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Oper(uint a, uint b)
    {
        uint bi = b >> 3;
        ulong bn = _node[bi];
        uint b1 = (uint)bn;
        uint b2 = Enter((uint)(bn >> 32));
        if ((b1 & 7) == Tag.NUM)
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
        while ((p & 7) == Tag.VAR)
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

    /// <summary>Reads the normal form back as a tree; a free wire prints as `v` and its slot in hex (HVM2's naming).</summary>
    public Tree ReadBack(uint port)
    {
        // Iterative post-order construction: deep results must not overflow the stack.
        var work = new Stack<(uint Port, int State)>();
        var done = new Stack<Tree>();
        work.Push((port, 0));
        while (work.Count > 0)
        {
            var (p, state) = work.Pop();
            if (state == 1)
            {
                var snd = done.Pop();
                var fst = done.Pop();
                var kind = (p & 7) switch { Tag.CON => TreeKind.Con, Tag.DUP => TreeKind.Dup, Tag.OPR => TreeKind.Opr, _ => TreeKind.Swi };
                done.Push(Tree.Node(kind, fst, snd));
                continue;
            }
            uint q = p;
            while ((q & 7) == Tag.VAR)
            {
                uint got = _vars[q >> 3];
                if (got == Port.NONE) break;
                q = got;
            }
            switch (q & 7)
            {
                case Tag.VAR: done.Push(Tree.Var("v" + (q >> 3).ToString("x"))); break;
                case Tag.REF: done.Push(Tree.Ref(Book.Defs[(int)((q >> 3) & 0x0FFF_FFFF)].Name)); break;
                case Tag.ERA: done.Push(Tree.Era()); break;
                case Tag.NUM: done.Push(Tree.Num(q >> 3)); break;
                case Tag.CON: case Tag.DUP: case Tag.OPR: case Tag.SWI:
                {
                    ulong n = _node[q >> 3];
                    work.Push((q, 1));
                    work.Push(((uint)(n >> 32), 0));
                    work.Push(((uint)n, 0));
                    break;
                }
                default: throw new UnreachableException($"port {q:X8}");
            }
        }
        return done.Pop();
    }

    public void Dispose()
    {
        if (_node == null) return;
        NativeMemory.Free(_node);
        NativeMemory.Free(_vars);
        NativeMemory.Free(_hi);
        NativeMemory.Free(_lo);
        for (int i = 0; i < _defCount; i++)
        {
            NativeMemory.Free(_defs[i].Nodes);
            NativeMemory.Free(_defs[i].Redexes);
        }
        NativeMemory.Free(_defs);
        NativeMemory.Free(_nloc);
        NativeMemory.Free(_vloc);
        _node = null;
        GC.SuppressFinalize(this);
    }

    ~Engine() => Dispose();
}
