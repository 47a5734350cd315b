using Lmn.Hvm;

namespace Lmn.Net;

/// <summary>
/// An oracle site the engine met and parked: `@site ~ (args out)`. Args is the port of the site's
/// arguments, Out the wire its value goes to. Neither has been touched: the supervisor reads the args
/// back, asks, and links an answer to Out (or erases both if Out was dropped).
/// </summary>
public readonly record struct ParkedSite(int SiteId, uint Args, uint Out);

/// <summary>Parking of oracle sites, and the calls the supervisor makes on the net between rounds.</summary>
public unsafe partial class EngineCore<TSync>
{
    private readonly List<ParkedSite> _parked = [];

    //  @site ~ (args out)  →  parked: nothing happens to args or out until the supervisor answers.
    //  (Not an interaction of HVM2's: it is not counted.)
    private void Park(int siteId, uint site, uint b)
    {
        switch (b & 7)
        {
            case Tag.CON:
            {
                ulong n = _node[b >> 3];
                FreeNode(b >> 3);
                _parked.Add(new ParkedSite(siteId, (uint)n, (uint)(n >> 32)));
                return;
            }
            case Tag.VAR:
                // The site itself, not applied, is the value of a wire: keep it there.
                Link(site, b);
                return;
            default:
                throw new EngineFault($"oracle site #{siteId} used where a {(b & 7) switch { Tag.OPR => "number operation", Tag.SWI => "number switch", _ => "duplicator" }} expected a value");
        }
    }

    /// <summary>The sites parked so far by this reducer; taking them empties the list.</summary>
    public virtual List<ParkedSite> TakeParked()
    {
        var list = new List<ParkedSite>(_parked);
        _parked.Clear();
        return list;
    }

    /// <summary>
    /// Expands a reference on its own and reduces it: the read-back forces a definition that stands
    /// for data (a constant such as `def xs = [1, 2]`) this way. Returns the port of its normal form.
    /// </summary>
    public uint Force(uint refPort)
    {
        uint v = AllocVar();
        _vars[v] = Port.NONE;
        if (Call(refPort, v << 3)) _nCall++;
        Normalize();
        return Peek(v << 3);
    }

    /// <summary>Links two ports of the net (between rounds, on one thread).</summary>
    public void LinkPorts(uint a, uint b) => Link(a, b);

    /// <summary>Erases a port: links an eraser to it.</summary>
    public void Erase(uint port) => Link(Tag.ERA, port);

    /// <summary>
    /// Builds a tree into the net and returns its root port: the tree is built in a fragment region and
    /// moved in (see <see cref="Adopt"/>). Variables of the tree are wires by name; references resolve by
    /// definition name.
    /// </summary>
    public uint Inject(Tree tree)
    {
        using var heap = new Regions.RegionHeap();
        var fragment = heap.Create(64, 16);
        uint root = Regions.Fragments.Build(fragment, tree, Book.Fids);
        uint port = Adopt(fragment, [root])[0];
        heap.RegionExit(fragment);
        return port;
    }

}

/// <summary>Moving a fragment region into the main net (how answers are grafted).</summary>
public unsafe partial class EngineCore<TSync>
{
    /// <summary>
    /// Moves the graph reachable from <paramref name="roots"/> in a fragment region into this net: an
    /// eager copy with dense forwarding arrays over the fragment's slots (the transmigration of
    /// docs/regions.md, with this net's allocator as the destination), driven by an explicit worklist.
    /// Sharing and cycles are kept, both ends of a wire stay one wire, and nothing is written into the
    /// fragment, which the caller then exits. Returns the roots' new ports.
    /// </summary>
    public uint[] Adopt(Regions.Region fragment, ReadOnlySpan<uint> roots)
    {
        var nodeMap = new uint[fragment.NodeCount];
        var varMap = new uint[Math.Max(1, fragment.VarCount)];
        var nodes = new Stack<uint>();
        var vars = new Stack<uint>();

        uint Map(uint p)
        {
            uint tag = p & 7;
            if (tag >= Tag.CON)
            {
                uint i = p >> 3;
                if (nodeMap[i] == 0)
                {
                    nodeMap[i] = AllocNode();
                    nodes.Push(i);
                }
                return (nodeMap[i] << 3) | tag;
            }
            if (tag == Tag.VAR)
            {
                uint v = p >> 3;
                if (varMap[v] == 0)
                {
                    uint nv = AllocVar();
                    _vars[nv] = Port.NONE;
                    varMap[v] = nv;
                    vars.Push(v);
                }
                return varMap[v] << 3;
            }
            if (Regions.External.Is(p))
                throw new EngineFault("a fragment holds a port into another region; answers must be closed terms");
            return p;
        }

        var result = new uint[roots.Length];
        for (int r = 0; r < roots.Length; r++) result[r] = Map(roots[r]);
        while (nodes.Count > 0 || vars.Count > 0)
        {
            if (nodes.Count > 0)
            {
                uint i = nodes.Pop();
                ulong n = fragment.NodeAt(i);
                _node[nodeMap[i]] = Port.Pair(Map((uint)n), Map((uint)(n >> 32)));
            }
            else
            {
                uint v = vars.Pop();
                uint val = fragment.VarAt(v);
                if (val != Port.NONE) _vars[varMap[v]] = Map(val);
            }
        }
        return result;
    }
}
