using System.Diagnostics;

namespace Lmn.Net;

/// <summary>
/// An oracle site the engine met and parked: `@site ~ (args out)`. Args is the port of the site's
/// arguments, Out the wire its value goes to. Neither has been touched: the supervisor reads the args
/// back, asks, and links an answer to Out (or erases both if Out was dropped).
/// </summary>
public readonly record struct ParkedSite(int SiteId, uint Args, uint Out);

/// <summary>Parking of oracle sites, and the calls the supervisor makes on the net between rounds (grafts come in through <see cref="IBumpAllocator"/>).</summary>
public unsafe partial class EngineCore<TSync>
{
    private readonly List<ParkedSite> _parked = [];

    private void ResetSites() => _parked.Clear();

    //  @site ~ (args out)  →  parked: nothing happens to args or out until the supervisor answers.
    //  (Not an interaction of HVM2's: it is not counted.)
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
                // The site itself, not applied, is the value of a wire: keep it there.
                Link(site, b);
                return;
            default:
                throw new EngineFault($"oracle site #{siteId} used where a {Port.TagOf(b) switch { Tag.OPR => "number operation", Tag.SWI => "number switch", _ => "duplicator" }} expected a value");
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

    /// <summary>Lends worker-free bump slots (see <see cref="IBumpAllocator"/>): answers are grafted into them.</summary>
    public BumpRun LendRun(uint nodes, uint vars)
    {
        if ((ulong)_nodeBump + nodes > _nodeCap) OutOfMemory("nodes", _nodeCap - _nodeStart);
        if ((ulong)_varBump + vars > _varCap) OutOfMemory("variables", _varCap - _varStart);
        return new BumpRun(_node, _vars, _nodeBump, _nodeBump + nodes, _varBump, _varBump + vars);
    }

    /// <summary>Takes a lent run back: the bump pointers move past what the borrower used.</summary>
    public void ReturnRun(in BumpRun run, uint nodeEnd, uint varEnd)
    {
        Debug.Assert(run.NodeStart == _nodeBump && run.VarStart == _varBump, "one run is lent at a time, and nothing allocates meanwhile");
        Debug.Assert(nodeEnd >= run.NodeStart && nodeEnd <= run.NodeEnd && varEnd >= run.VarStart && varEnd <= run.VarEnd);
        _nodeBump = nodeEnd;
        _varBump = varEnd;
    }
}
