namespace Lmn.Net;

/// <summary>
/// A run of fresh, contiguous slots lent by a net's allocator: node slots [NodeStart, NodeEnd) and variable
/// slots [VarStart, VarEnd) of the arrays at Nodes and Vars (indexed by absolute slot, as ports address them).
/// Nothing else allocates from the run while it is lent; the borrower writes nodes and variables into it and
/// hands back how far it got (see <see cref="IBumpAllocator"/>).
/// </summary>
public readonly unsafe struct BumpRun(ulong* nodes, uint* vars, uint nodeStart, uint nodeEnd, uint varStart, uint varEnd)
{
    public ulong* Nodes { get; } = nodes;
    public uint* Vars { get; } = vars;
    public uint NodeStart { get; } = nodeStart;
    public uint NodeEnd { get; } = nodeEnd;
    public uint VarStart { get; } = varStart;
    public uint VarEnd { get; } = varEnd;
}

/// <summary>
/// The allocator interface a region needs to write into a net: a bump run of fresh slots, lent and returned.
/// The engines implement it so that an answer's fragment region is transmigrated straight into the main
/// net (Lmn.Regions.Graft), the one way a graph enters a running net.
/// </summary>
public interface IBumpAllocator
{
    /// <summary>
    /// Lends at least <paramref name="nodes"/> node slots and <paramref name="vars"/> variable slots past the
    /// allocator's bump pointers (a fault if the net has no room). Every slot of the run is unused.
    /// </summary>
    BumpRun LendRun(uint nodes, uint vars);

    /// <summary>
    /// Takes the run back: slots below <paramref name="nodeEnd"/> and <paramref name="varEnd"/> are now in use
    /// (the borrower filled them, variables set or NONE); the rest return to the allocator.
    /// </summary>
    void ReturnRun(in BumpRun run, uint nodeEnd, uint varEnd);
}
