using Lmn.Net;

namespace Lmn.Regions;

/// <summary>A port that breaks the region closure property, and where it sits.</summary>
public readonly record struct ClosureViolation(uint Region, string Site, uint Port, string Problem)
{
    public override string ToString() => $"region {Region} {Site} holds {Port:X8}: {Problem}";
}

/// <summary>
/// The live regions of one runtime, and their lifetimes. Ids are handed out once and never reused, so an
/// external port into an exited region can never be mistaken for a port into a newer one.
/// With <see cref="VerifyClosure"/> on, every RegionExit (and Reset) checks the region closure property:
/// nothing in any live region points into the region that ended.
/// </summary>
public sealed class RegionHeap : IDisposable
{
    private readonly List<Region> _live = [];   // ordered by id: the verifier reports deterministically
    private uint _nextId = 1;

    /// <summary>Whether exits and resets run the closure verifier (on by default in Debug builds).</summary>
    public bool VerifyClosure { get; set; } =
#if DEBUG
        true;
#else
        false;
#endif

    /// <summary>Live regions, oldest first.</summary>
    public IReadOnlyList<Region> Live => _live;

    /// <summary>A new empty region with room reserved for the given numbers of nodes and variables.</summary>
    public Region Create(uint nodeCapacity = 1024, uint varCapacity = 1024)
    {
        var r = new Region(this, _nextId++, nodeCapacity, varCapacity);
        _live.Add(r);
        return r;
    }

    /// <summary>
    /// A region over a run of slots a net's allocator lent: a transmigration into it writes straight into
    /// the net (this is how answers are grafted, see <see cref="Graft"/>). Its bump pointers start at the
    /// run's start and it cannot grow past the run. It is not in <see cref="Live"/> (the net's other slots
    /// are not the heap's to verify); <see cref="GiveBack"/> ends it without freeing the net's memory.
    /// </summary>
    public Region Lend(in BumpRun run) => new(this, _nextId++, run);

    /// <summary>Ends a lent region; returns how far its bump pointers got (the slots the borrower used).</summary>
    public (uint NodeEnd, uint VarEnd) GiveBack(Region lent)
    {
        ArgumentNullException.ThrowIfNull(lent);
        if (!lent.IsLent || lent.Heap != this) throw new ArgumentException($"region {lent.Id} is not lent by this heap", nameof(lent));
        var ends = (lent.NodeBump, lent.VarBump);
        lent.Release();
        return ends;
    }

    /// <summary>The live region with this id, or null.</summary>
    public Region? Find(uint id)
    {
        // Binary search: ids grow with creation order and the list keeps that order.
        int lo = 0, hi = _live.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            uint at = _live[mid].Id;
            if (at == id) return _live[mid];
            if (at < id) lo = mid + 1;
            else hi = mid - 1;
        }
        return null;
    }

    /// <summary>
    /// Ends a region's life: its memory is released and its id never comes back. Whatever must survive has
    /// to be transmigrated out first. With VerifyClosure on, throws a RegionFault if a live region still
    /// holds a port into it.
    /// </summary>
    public void RegionExit(Region src)
    {
        ArgumentNullException.ThrowIfNull(src);
        if (src.Heap != this) throw new ArgumentException($"region {src.Id} belongs to another heap", nameof(src));
        src.ThrowIfExited();
        _live.Remove(src);
        src.Release();
        if (VerifyClosure && FindClosureViolation(src.Id) is { } v)
            throw new RegionFault($"region closure violated after the exit of region {src.Id}: {v}", src.Id);
    }

    internal void BeforeReset(Region r)
    {
        if (VerifyClosure && FindClosureViolation(r.Id) is { } v)
            throw new RegionFault($"region {r.Id} cannot be reset, it is still referenced: {v}", r.Id);
    }

    /// <summary>
    /// The debug verifier: the first port in a live region that leads nowhere or into `target` (a region that
    /// is ending), or null. It checks every allocated node and variable slot, a superset of what is reachable
    /// (regions have no free list), so it needs no roots: node and variable ports must lie within the region's
    /// used slots, external ports must name a table entry, and the entry must lead into another live region,
    /// not `target`, at a port valid there.
    /// </summary>
    public unsafe ClosureViolation? FindClosureViolation(uint target = 0)
    {
        foreach (var r in _live)
        {
            for (uint i = 1; i < r.NodeBump; i++)
            {
                ulong n = r.Nodes[i];
                if (Check(r, (uint)n, target) is { } p1) return new ClosureViolation(r.Id, $"node {i} fst", (uint)n, p1);
                if (Check(r, (uint)(n >> 32), target) is { } p2) return new ClosureViolation(r.Id, $"node {i} snd", (uint)(n >> 32), p2);
            }
            for (uint i = 0; i < r.VarBump; i++)
            {
                uint v = r.Vars[i];
                if (v != Port.NONE && Check(r, v, target) is { } p) return new ClosureViolation(r.Id, $"var {i}", v, p);
            }
        }
        return null;
    }

    /// <summary>What is wrong with one port of a live region, or null.</summary>
    private string? Check(Region r, uint port, uint target)
    {
        uint tag = Port.TagOf(port);
        if (tag >= Tag.CON)
            return port >> 3 != 0 && port >> 3 < r.NodeBump ? null : $"node {port >> 3} is not allocated (1..{r.NodeBump - 1})";
        if (tag == Tag.VAR)
            return port >> 3 < r.VarBump ? null : $"variable {port >> 3} is not allocated (0..{r.VarBump - 1})";
        if (!External.Is(port)) return null;
        uint k = External.IndexOf(port);
        if (k >= r.ExtCount) return $"external #{k} is not in the table ({r.ExtCount} entries)";
        ulong e = r.Ext[k];
        uint to = (uint)(e >> 32), at = (uint)e;
        if (to == target) return $"external #{k} points into region {to}, which is ending";
        if (to == r.Id) return $"external #{k} points into its own region";
        var other = Find(to);
        if (other == null) return $"external #{k} points into region {to}, which has exited";
        if (!other.IsValidLocal(at)) return $"external #{k} points to {at:X8}, not a port of region {to}";
        return null;
    }

    /// <summary>Releases every live region without verification (the runtime is shutting down).</summary>
    public void Dispose()
    {
        foreach (var r in _live) r.Release();
        _live.Clear();
    }
}
