using System.Diagnostics;
using Lmn.Hvm;
using Lmn.Net;

namespace Lmn.Debugging;

/// <summary>What one step did: the rule of the redex, its two ports, and the LINKs it caused.</summary>
public readonly record struct StepInfo(int Rule, uint A, uint B, int Links, bool Counted);

/// <summary>
/// A second, deliberately plain engine for the debugger and <c>lmn viz</c>: one thread, managed arrays,
/// definitions instantiated by copying (no fast calls), one interaction per <see cref="Step"/>, each
/// classified by rule. It keeps the engine's layout (HVM2's ports, the same substitution slots, the same
/// high/low priority redex bags, popped in the same order) so that its counts agree with the main engine
/// and its pictures show the real addresses; it is not the hot path, and is independent of it.
/// </summary>
public sealed class SteppingNet : INetRunner
{
    private ulong[] _node = new ulong[1024];
    private uint[] _vars = new uint[1024];
    private uint _nodeBump = 1, _varBump = 1, _nodeFree, _varFree;
    private readonly List<ulong> _hi = [], _lo = [];
    private readonly List<ParkedSite> _parked = [];
    private readonly uint _nodeCap, _varCap;
    private long _itrs;
    private int _links;

    public SteppingNet(Book book, long maxMemory = EngineCore<Plain>.DefaultMaxMemory)
    {
        Book = book;
        _nodeCap = (uint)Math.Clamp(maxMemory / 2 / 8, 64, 1L << 29);
        _varCap = (uint)Math.Clamp(maxMemory / 4 / 4, 64, 1L << 29);
        _vars[Port.RootVar] = Port.NONE;
    }

    public Book Book { get; }

    /// <summary>Interactions performed (every rule but LINK, as HVM2 counts).</summary>
    public long Interactions => _itrs;

    /// <summary>Interactions by rule (index: <see cref="Rule"/>); LINK counts variable links.</summary>
    public long[] RuleCounts { get; } = new long[8];

    /// <summary>The same counts as the engines report them.</summary>
    public Lmn.Net.RuleCounts Rules => new()
    {
        Link = RuleCounts[Rule.LINK], Call = RuleCounts[Rule.CALL], Void = RuleCounts[Rule.VOID], Eras = RuleCounts[Rule.ERAS],
        Anni = RuleCounts[Rule.ANNI], Comm = RuleCounts[Rule.COMM], Oper = RuleCounts[Rule.OPER], Swit = RuleCounts[Rule.SWIT],
    };

    /// <summary>Nothing to compile: the stepping engine interprets every definition.</summary>
    public TimeSpan Precompile() => TimeSpan.Zero;

    /// <summary>Binary nodes in use now.</summary>
    public long LiveNodes { get; private set; }

    /// <summary>Substitution slots in use now.</summary>
    public long LiveVars { get; private set; }

    public long PeakBytes => (long)_nodeBump * 8 + (long)_varBump * 4 + ((long)_hi.Capacity + _lo.Capacity) * 8;

    /// <summary>Bytes in use now: live nodes, live variables and pending redexes.</summary>
    public long BytesInUse => LiveNodes * 8 + LiveVars * 4 + ((long)_hi.Count + _lo.Count) * 8;

    /// <summary>The highest node address handed out, plus one (for dense per-node arrays).</summary>
    public uint NodeSpan => _nodeBump;

    public int PendingRedexes => _hi.Count + _lo.Count;

    /// <summary>The pending redexes in the order they will fire (next first).</summary>
    public IEnumerable<(uint A, uint B)> Redexes()
    {
        for (int i = _hi.Count - 1; i >= 0; i--) yield return ((uint)_hi[i], (uint)(_hi[i] >> 32));
        for (int i = _lo.Count - 1; i >= 0; i--) yield return ((uint)_lo[i], (uint)(_lo[i] >> 32));
    }

    /// <summary>Sites parked and not yet taken (the picture shows them too).</summary>
    public IReadOnlyList<ParkedSite> Parked => _parked;

    // Allocation

    private uint AllocNode()
    {
        LiveNodes++;
        uint i = _nodeFree;
        if (i != 0)
        {
            _nodeFree = (uint)_node[i];
            return i;
        }
        i = _nodeBump++;
        if (i >= _nodeCap) throw new EngineFault($"out of memory: the net needs more than {_nodeCap:N0} nodes; rerun with a larger --max-memory");
        if (i >= _node.Length) Array.Resize(ref _node, (int)Math.Min((long)_node.Length * 2, _nodeCap + 1L));
        return i;
    }

    private void FreeNode(uint i)
    {
        LiveNodes--;
        _node[i] = _nodeFree;
        _nodeFree = i;
    }

    private uint AllocVar()
    {
        LiveVars++;
        uint i = _varFree;
        if (i != 0)
        {
            _varFree = _vars[i];
            return i;
        }
        i = _varBump++;
        if (i >= _varCap) throw new EngineFault($"out of memory: the net needs more than {_varCap:N0} variables; rerun with a larger --max-memory");
        if (i >= _vars.Length) Array.Resize(ref _vars, (int)Math.Min((long)_vars.Length * 2, _varCap + 1L));
        return i;
    }

    private void FreeVar(uint i)
    {
        LiveVars--;
        _vars[i] = _varFree;
        _varFree = i;
    }

    private uint NewVar()
    {
        uint v = AllocVar();
        _vars[v] = Port.NONE;
        return v;
    }

    // Linking, as the engine does it

    private void PushRedex(uint a, uint b)
    {
        ulong r = Port.Pair(a, b);
        int rule = Port.RuleOf(a, b);
        if (((0b0001_1101 >> rule) & 1) != 0) _hi.Add(r);
        else _lo.Add(r);
    }

    private uint Enter(uint p)
    {
        while (Port.TagOf(p) == Tag.VAR)
        {
            uint got = _vars[p >> 3];
            if (got == Port.NONE) break;
            FreeVar(p >> 3);
            p = got;
        }
        return p;
    }

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
            _links++;
            uint ai = a >> 3;
            uint old = _vars[ai];
            _vars[ai] = b;
            if (old == Port.NONE) return;
            FreeVar(ai);
            a = old;
        }
    }

    // Reduction: the rules of Engine.cs, one redex at a time (the before/after diagrams are there)
    //
    //  ANNI (a1 a2) ~ (b1 b2), same kind   →  a1 ~ b1, a2 ~ b2
    //  COMM A(a1 a2) ~ B(b1 b2), kinds differ → four new nodes, crossed
    //  ERAS * ~ (b1 b2)                    →  * ~ b1, * ~ b2
    //  VOID two nullary ports              →  nothing
    //  CALL @f ~ b                         →  f's net with fresh addresses, its root ~ b (sites park)
    //  OPER #x ~ $(#y r)                   →  r ~ #op(x, y)
    //  SWIT #n ~ ?(b1 b2)                  →  b1 ~ (b2 *) or (* (#n-1 b2))

    public void Run(int fid = 0)
    {
        Boot(Port.New(Tag.REF, (uint)fid));
        Normalize();
    }

    /// <summary>`@main ~ ROOT`: the boot CALL (counted, as the engine counts it).</summary>
    public void Boot(uint port)
    {
        _vars[Port.RootVar] = Port.NONE;
        if (Port.TagOf(port) == Tag.REF)
        {
            if (Call(port, Port.ROOT))
            {
                _itrs++;
                RuleCounts[Rule.CALL]++;
            }
        }
        else Link(port, Port.ROOT);
    }

    /// <summary>The redex that <see cref="Step"/> performs next, if any.</summary>
    public (uint A, uint B)? NextRedex =>
        _hi.Count > 0 ? ((uint)_hi[^1], (uint)(_hi[^1] >> 32))
        : _lo.Count > 0 ? ((uint)_lo[^1], (uint)(_lo[^1] >> 32)) : null;

    /// <summary>Performs one interaction (high priority first, as the engine); null if none is pending.</summary>
    public StepInfo? Step()
    {
        ulong r;
        if (_hi.Count > 0) { r = _hi[^1]; _hi.RemoveAt(_hi.Count - 1); }
        else if (_lo.Count > 0) { r = _lo[^1]; _lo.RemoveAt(_lo.Count - 1); }
        else return null;
        uint a = (uint)r, b = (uint)(r >> 32);
        if (Port.TagOf(b) < Port.TagOf(a)) (a, b) = (b, a);
        int rule = Port.RuleOf(a, b);
        int links0 = _links;
        bool counted = true;
        switch (rule)
        {
            case Rule.LINK: Link(a, b); counted = false; break;
            case Rule.CALL: counted = Call(a, b); break;
            case Rule.VOID: break;
            case Rule.ERAS: Eras(a, b); break;
            case Rule.ANNI: Anni(a, b); break;
            case Rule.COMM: Comm(a, b); break;
            case Rule.OPER: Oper(a, b); break;
            case Rule.SWIT: Swit(a, b); break;
            default: throw new UnreachableException($"rule of {a:X8} ~ {b:X8}");
        }
        int links = _links - links0;
        RuleCounts[Rule.LINK] += links;
        if (counted)
        {
            _itrs++;
            if (rule != Rule.LINK) RuleCounts[rule]++;
        }
        return new StepInfo(rule, a, b, links, counted);
    }

    public void Normalize()
    {
        while (Step() != null) { }
    }

    private bool Call(uint a, uint b)
    {
        var d = Book.Defs[(int)((a >> 3) & 0x0FFF_FFFF)];
        if ((d.Safe && Port.TagOf(b) == Tag.DUP) || d.Poison)
        {
            Eras(a, b);
            return true;
        }
        if (d.SiteId >= 0)
        {
            Park(d.SiteId, a, b);
            return false;
        }
        var vloc = new uint[d.Vars];
        for (int i = 0; i < d.Vars; i++) vloc[i] = NewVar();
        var nloc = new uint[d.Nodes.Count];
        for (int i = 0; i < nloc.Length; i++) nloc[i] = AllocNode();
        for (int i = 0; i < nloc.Length; i++)
            _node[nloc[i]] = Port.Pair(Adjust(Port.Fst(d.Nodes[i]), nloc, vloc), Adjust(Port.Snd(d.Nodes[i]), nloc, vloc));
        foreach (ulong rx in d.Redexes) Link(Adjust(Port.Fst(rx), nloc, vloc), Adjust(Port.Snd(rx), nloc, vloc));
        Link(Adjust(d.Root, nloc, vloc), b);
        return true;
    }

    private static uint Adjust(uint p, uint[] nloc, uint[] vloc)
    {
        uint tag = Port.TagOf(p);
        if (tag >= Tag.CON) return (nloc[p >> 3] << 3) | tag;
        if (tag == Tag.VAR) return vloc[p >> 3] << 3;
        return p;
    }

    private void Park(int siteId, uint site, uint b)
    {
        switch (Port.TagOf(b))
        {
            case Tag.CON:
            {
                ulong n = _node[b >> 3];
                FreeNode(b >> 3);
                _parked.Add(new ParkedSite(siteId, (uint)n, (uint)(n >> 32)));
                return;
            }
            case Tag.VAR:
                Link(site, b);
                return;
            default:
                throw new EngineFault($"oracle site #{siteId} used where a {Port.TagOf(b) switch { Tag.OPR => "number operation", Tag.SWI => "number switch", _ => "duplicator" }} expected a value");
        }
    }

    private void Eras(uint a, uint b)
    {
        uint bi = b >> 3;
        ulong bn = _node[bi];
        FreeNode(bi);
        Link(a, (uint)bn);
        Link(a, (uint)(bn >> 32));
    }

    private void Anni(uint a, uint b)
    {
        uint ai = a >> 3, bi = b >> 3;
        ulong an = _node[ai], bn = _node[bi];
        FreeNode(ai);
        FreeNode(bi);
        Link((uint)an, (uint)bn);
        Link((uint)(an >> 32), (uint)(bn >> 32));
    }

    private void Comm(uint a, uint b)
    {
        uint ai = a >> 3, bi = b >> 3;
        ulong an = _node[ai], bn = _node[bi];
        uint v0 = NewVar(), v1 = NewVar(), v2 = NewVar(), v3 = NewVar();
        uint n0 = ai, n1 = bi, n2 = AllocNode(), n3 = AllocNode();
        uint x0 = v0 << 3, x1 = v1 << 3, x2 = v2 << 3, x3 = v3 << 3;
        _node[n0] = Port.Pair(x0, x1);
        _node[n1] = Port.Pair(x2, x3);
        _node[n2] = Port.Pair(x0, x2);
        _node[n3] = Port.Pair(x1, x3);
        uint ta = Port.TagOf(a), tb = Port.TagOf(b);
        Link((n0 << 3) | tb, (uint)an);
        Link((n1 << 3) | tb, (uint)(an >> 32));
        Link((n2 << 3) | ta, (uint)bn);
        Link((n3 << 3) | ta, (uint)(bn >> 32));
    }

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

    private void Swit(uint a, uint b)
    {
        uint av = Numb.GetU24(a >> 3);
        uint bi = b >> 3;
        ulong bn = _node[bi];
        uint b1 = (uint)bn, b2 = (uint)(bn >> 32);
        if (av == 0) _node[bi] = Port.Pair(b2, Tag.ERA);
        else
        {
            uint n1 = AllocNode();
            _node[n1] = Port.Pair(Port.New(Tag.NUM, Numb.NewU24(av - 1)), b2);
            _node[bi] = Port.Pair(Tag.ERA, (n1 << 3) | Tag.CON);
        }
        Link((bi << 3) | Tag.CON, b1);
    }

    // What the supervisor and the read-back use

    public void RunIo(IoHost io, int fid = 0) => throw new EngineFault("the stepping engine does not run HVM2's IO loop; use --no-io");

    public uint RootPort => Peek(Port.ROOT);

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

    public ulong NodeAt(uint index) => _node[index];

    public List<ParkedSite> TakeParked()
    {
        var list = new List<ParkedSite>(_parked);
        _parked.Clear();
        return list;
    }

    public void LinkPorts(uint a, uint b) => Link(a, b);

    public void Erase(uint port) => Link(Tag.ERA, port);

    public uint Force(uint refPort)
    {
        uint v = NewVar();
        if (Call(refPort, v << 3))
        {
            _itrs++;
            RuleCounts[Rule.CALL]++;
        }
        Normalize();
        return Peek(v << 3);
    }

    private System.Runtime.InteropServices.GCHandle _lentNodes, _lentVars;

    /// <summary>Lends fresh bump slots (pinned while lent): grafted answers are transmigrated into them.</summary>
    public unsafe BumpRun LendRun(uint nodes, uint vars)
    {
        if ((ulong)_nodeBump + nodes > _nodeCap) throw new EngineFault($"out of memory: the net needs more than {_nodeCap:N0} nodes; rerun with a larger --max-memory");
        if ((ulong)_varBump + vars > _varCap) throw new EngineFault($"out of memory: the net needs more than {_varCap:N0} variables; rerun with a larger --max-memory");
        if (_nodeBump + nodes > _node.Length) Array.Resize(ref _node, (int)Math.Max(_node.Length * 2L, _nodeBump + nodes));
        if (_varBump + vars > _vars.Length) Array.Resize(ref _vars, (int)Math.Max(_vars.Length * 2L, _varBump + vars));
        _lentNodes = System.Runtime.InteropServices.GCHandle.Alloc(_node, System.Runtime.InteropServices.GCHandleType.Pinned);
        _lentVars = System.Runtime.InteropServices.GCHandle.Alloc(_vars, System.Runtime.InteropServices.GCHandleType.Pinned);
        return new BumpRun((ulong*)_lentNodes.AddrOfPinnedObject(), (uint*)_lentVars.AddrOfPinnedObject(),
            _nodeBump, _nodeBump + nodes, _varBump, _varBump + vars);
    }

    /// <summary>Takes a lent run back (see <see cref="IBumpAllocator.ReturnRun"/>).</summary>
    public void ReturnRun(in BumpRun run, uint nodeEnd, uint varEnd)
    {
        Debug.Assert(run.NodeStart == _nodeBump && run.VarStart == _varBump, "one run is lent at a time");
        _lentNodes.Free();
        _lentVars.Free();
        LiveNodes += nodeEnd - _nodeBump;
        LiveVars += varEnd - _varBump;
        _nodeBump = nodeEnd;
        _varBump = varEnd;
    }

    public void Dispose() { }
}
