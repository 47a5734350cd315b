using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Lmn.Net;

namespace Lmn.Regions;

/// <summary>A port with the region it belongs to: the identity of a port across regions.</summary>
public readonly record struct RegionPort(uint Region, uint Port)
{
    public override string ToString() => $"r{Region}:{Port:X8}";
}

/// <summary>A runtime fault of the region layer (a move or an exit that would break the closure property).</summary>
public sealed class RegionFault(string message, uint region) : Exception(message)
{
    /// <summary>The region the fault is about.</summary>
    public uint Region { get; } = region;
}

/// <summary>
/// External ports: a port that leads into another region. It is a REF whose value has bit 27 set; the low 27
/// bits index the holding region's external table, whose entry is the target's (region id, port).
/// <code>
///   port  = | index (27) | EXT=1 | PAR=0 | REF (3) |      bit 28 stays HVM2's par mark, fids stay below 2^27
///   table : index -> (region id, port local to that region)
/// </code>
/// </summary>
public static class External
{
    /// <summary>The flag bit in a REF port's 29-bit value.</summary>
    public const uint Flag = 0x0800_0000;
    /// <summary>The largest index an external table can hand out.</summary>
    public const uint MaxIndex = Flag - 1;

    // Tag and flag bits as they sit in the port word, for one-mask tests.
    internal const uint PortMask = (Flag << 3) | 7;
    internal const uint PortBits = (Flag << 3) | Tag.REF;

    /// <summary>Whether a port is an external port (a REF with the external flag).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Is(uint port) => (port & PortMask) == PortBits;

    /// <summary>The external port for entry `index` of the holding region's table.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint New(uint index)
    {
        Debug.Assert(index <= MaxIndex, $"external index {index} exceeds {MaxIndex}");
        return Port.New(Tag.REF, Flag | index);
    }

    /// <summary>The table index of an external port; a port with stray high bits gets an index no table has.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint IndexOf(uint port) => (port >> 3) ^ Flag;
}

/// <summary>
/// An arena of nodes and variables with one lifetime, on the engine's layout: a node is a ulong pair of
/// 32-bit ports (fst in the low half) in a flat native array indexed by the port's value, a variable is a
/// uint substitution slot (NONE while unset) in a second array, and both ends of a wire are VAR ports with
/// the same slot. Allocation is bump-only: there is no free list, a region is emptied whole by Reset and
/// released by its heap's RegionExit. Slot 0 of each array is reserved (the node slot is never handed out,
/// the variable slot is the root variable), so a forwarding entry of 0 can mean "not yet copied".
/// Ports into other regions go through the external table (see <see cref="External"/>).
/// Not thread-safe: one region has one owner at a time.
/// </summary>
public sealed unsafe class Region : IDisposable
{
    /// <summary>The most slots a port's 29-bit value can address.</summary>
    public const uint MaxSlots = 1u << 29;

    internal ulong* Nodes;
    internal uint* Vars;
    internal uint NodeBump = 1;
    internal uint VarBump = 1;
    internal uint NodeCap;
    internal uint VarCap;
    internal ulong[] Ext = [];   // entry: target region id in the high half, target port in the low half
    internal uint ExtCount;

    internal Region(RegionHeap heap, uint id, uint nodeCapacity, uint varCapacity)
    {
        Heap = heap;
        Id = id;
        NodeCap = Math.Clamp(nodeCapacity, 16, MaxSlots);
        VarCap = Math.Clamp(varCapacity, 16, MaxSlots);
        Nodes = (ulong*)NativeMemory.Alloc(NodeCap, sizeof(ulong));
        Vars = (uint*)NativeMemory.Alloc(VarCap, sizeof(uint));
        Nodes[0] = 0;
        Vars[Port.RootVar] = Port.NONE;
    }

    /// <summary>
    /// A lent region: a window onto a run of slots a net's allocator lent (<see cref="RegionHeap.Lend"/>).
    /// Its arrays are the net's; they cannot grow past the run, and the region frees nothing when it ends.
    /// </summary>
    internal Region(RegionHeap heap, uint id, in BumpRun run)
    {
        Heap = heap;
        Id = id;
        IsLent = true;
        Nodes = run.Nodes;
        Vars = run.Vars;
        NodeBump = run.NodeStart;
        VarBump = run.VarStart;
        NodeCap = run.NodeEnd;
        VarCap = run.VarEnd;
    }

    /// <summary>Whether the region is a window onto slots a net lent (see <see cref="RegionHeap.Lend"/>).</summary>
    public bool IsLent { get; }

    /// <summary>The heap that created the region and knows which regions are live.</summary>
    public RegionHeap Heap { get; }

    /// <summary>The region's id, unique in its heap and never reused.</summary>
    public uint Id { get; }

    /// <summary>False once the region has exited.</summary>
    public bool IsLive => Nodes != null;

    /// <summary>Node slots in use, counting the reserved slot 0.</summary>
    public uint NodeCount => NodeBump;

    /// <summary>Variable slots in use, counting the root variable.</summary>
    public uint VarCount => VarBump;

    /// <summary>Entries in the external table.</summary>
    public uint ExternalCount => ExtCount;

    /// <summary>Bytes reserved for nodes and variables.</summary>
    public long ReservedBytes => (long)NodeCap * 8 + (long)VarCap * 4;

    // Allocation
    // ----------

    /// <summary>A fresh node slot, holding (fst, snd).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint AllocNode(uint fst, uint snd)
    {
        if (NodeBump >= NodeCap) GrowNodes(1); // also the exited case: cap 0
        uint i = NodeBump++;
        Nodes[i] = Port.Pair(fst, snd);
        return i;
    }

    /// <summary>A fresh, unset variable slot.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint AllocVar()
    {
        if (VarBump >= VarCap) GrowVars(1);
        uint i = VarBump++;
        Vars[i] = Port.NONE;
        return i;
    }

    /// <summary>Makes room for `more` nodes beyond the current count, so the next allocations do not grow.</summary>
    public void ReserveNodes(uint more)
    {
        if ((ulong)NodeBump + more > NodeCap) GrowNodes(more);
    }

    /// <summary>Makes room for `more` variables beyond the current count.</summary>
    public void ReserveVars(uint more)
    {
        if ((ulong)VarBump + more > VarCap) GrowVars(more);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void GrowNodes(uint more) => GrowNodesTo((ulong)NodeBump + more);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void GrowVars(uint more) => GrowVarsTo((ulong)VarBump + more);

    /// <summary>Grows the node array to hold at least `need` slots (doubling); the count is unchanged.</summary>
    internal void GrowNodesTo(ulong need)
    {
        ThrowIfExited();
        if (need <= NodeCap) return;
        if (need > MaxSlots || IsLent) Full("nodes");
        uint cap = (uint)Math.Min(Math.Max((ulong)NodeCap * 2, need), MaxSlots);
        Nodes = (ulong*)NativeMemory.Realloc(Nodes, (nuint)cap * sizeof(ulong));
        NodeCap = cap;
    }

    /// <summary>Grows the variable array to hold at least `need` slots (doubling); the count is unchanged.</summary>
    internal void GrowVarsTo(ulong need)
    {
        ThrowIfExited();
        if (need <= VarCap) return;
        if (need > MaxSlots || IsLent) Full("variables");
        uint cap = (uint)Math.Min(Math.Max((ulong)VarCap * 2, need), MaxSlots);
        Vars = (uint*)NativeMemory.Realloc(Vars, (nuint)cap * sizeof(uint));
        VarCap = cap;
    }

    [DoesNotReturn]
    private void Full(string what) =>
        throw new RegionFault(IsLent ? $"region {Id}: out of {what}: the run a net lent is full" : $"region {Id}: out of {what}: a port addresses at most {MaxSlots:N0} slots", Id);

    // Slots
    // -----

    /// <summary>The node at `index` as a (fst, snd) pair.</summary>
    public ulong NodeAt(uint index)
    {
        CheckNode(index);
        return Nodes[index];
    }

    /// <summary>Overwrites the node at `index`.</summary>
    public void SetNode(uint index, uint fst, uint snd)
    {
        CheckNode(index);
        Nodes[index] = Port.Pair(fst, snd);
    }

    /// <summary>The substitution of variable `index`: NONE while unset, otherwise the port it was linked to.</summary>
    public uint VarAt(uint index)
    {
        CheckVar(index);
        return Vars[index];
    }

    /// <summary>Sets the substitution of variable `index`.</summary>
    public void SetVar(uint index, uint port)
    {
        CheckVar(index);
        Vars[index] = port;
    }

    private void CheckNode(uint index)
    {
        ThrowIfExited();
        if (index == 0 || index >= NodeBump)
            throw new ArgumentOutOfRangeException(nameof(index), $"region {Id} has nodes 1..{NodeBump - 1}, not {index}");
    }

    private void CheckVar(uint index)
    {
        ThrowIfExited();
        if (index >= VarBump)
            throw new ArgumentOutOfRangeException(nameof(index), $"region {Id} has variables 0..{VarBump - 1}, not {index}");
    }

    // External ports
    // --------------

    /// <summary>
    /// An external port of this region standing for `target`, a port of another live region of the same
    /// heap. Each call adds a table entry; equal targets may share one port (the caller keeps it).
    /// </summary>
    public uint Import(RegionPort target)
    {
        ThrowIfExited();
        if (target.Region == Id)
            throw new ArgumentException($"region {Id} cannot import its own port {target.Port:X8}", nameof(target));
        var other = Heap.Find(target.Region)
            ?? throw new RegionFault($"region {Id} cannot import {target}: region {target.Region} is not live", target.Region);
        if (!other.IsValidLocal(target.Port))
            throw new ArgumentException($"{target} is not a port of region {target.Region}", nameof(target));
        return External.New(AddExternal(target.Region, target.Port));
    }

    /// <summary>The (region id, port) an external port of this region stands for.</summary>
    public RegionPort ExternalAt(uint port)
    {
        ThrowIfExited();
        if (!External.Is(port)) throw new ArgumentException($"{port:X8} is not an external port", nameof(port));
        uint k = External.IndexOf(port);
        if (k >= ExtCount) throw new ArgumentException($"region {Id} has no external #{k}", nameof(port));
        ulong e = Ext[k];
        return new RegionPort((uint)(e >> 32), (uint)e);
    }

    /// <summary>Where a port of this region leads: itself, or for an external port the port it stands for.</summary>
    public RegionPort Resolve(uint port) => External.Is(port) ? ExternalAt(port) : new RegionPort(Id, port);

    internal uint AddExternal(uint region, uint port)
    {
        if (ExtCount > External.MaxIndex)
            throw new RegionFault($"region {Id}: more than {External.MaxIndex + 1:N0} external ports", Id);
        if (ExtCount == Ext.Length) Array.Resize(ref Ext, Math.Max(8, Ext.Length * 2));
        Ext[ExtCount] = ((ulong)region << 32) | port;
        return ExtCount++;
    }

    /// <summary>Whether a port is well-formed here: leaves always, nodes and variables within the used slots.</summary>
    public bool IsValidLocal(uint port)
    {
        uint tag = Port.TagOf(port);
        if (tag >= Tag.CON) return port >> 3 != 0 && port >> 3 < NodeBump;
        if (tag == Tag.VAR) return port >> 3 < VarBump;
        if (External.Is(port)) return External.IndexOf(port) < ExtCount;
        return true;
    }

    // Lifetime
    // --------

    /// <summary>Empties the region, keeping its memory. Nothing may still point into it (checked when the heap verifies).</summary>
    public void Reset()
    {
        ThrowIfExited();
        Heap.BeforeReset(this);
        NodeBump = 1;
        VarBump = 1;
        ExtCount = 0;
        Vars[Port.RootVar] = Port.NONE;
    }

    /// <summary>Rolls the bump pointers back to a mark: a failed move publishes nothing.</summary>
    internal void Truncate(uint nodeBump, uint varBump, uint extCount)
    {
        Debug.Assert(nodeBump <= NodeBump && varBump <= VarBump && extCount <= ExtCount,
            $"truncate to {nodeBump}/{varBump}/{extCount} above {NodeBump}/{VarBump}/{ExtCount}");
        NodeBump = nodeBump;
        VarBump = varBump;
        ExtCount = extCount;
    }

    internal void ThrowIfExited()
    {
        if (Nodes == null) ThrowExited();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    [DoesNotReturn]
    private void ThrowExited() => throw new RegionFault($"region {Id} has exited", Id);

    /// <summary>Releases the memory; the heap's RegionExit is the way to end a region's life.</summary>
    internal void Release()
    {
        if (Nodes == null) return;
        if (!IsLent)
        {
            NativeMemory.Free(Nodes);
            NativeMemory.Free(Vars);
        }
        Nodes = null;
        Vars = null;
        Ext = [];
        NodeBump = VarBump = 1;
        NodeCap = VarCap = 0;
        ExtCount = 0;
        GC.SuppressFinalize(this);
    }

    /// <summary>Same as the heap's RegionExit.</summary>
    public void Dispose()
    {
        if (IsLive) Heap.RegionExit(this);
    }

    ~Region() => Release();

    public override string ToString() =>
        IsLive ? $"region {Id} ({NodeBump - 1} nodes, {VarBump} vars, {ExtCount} externals)" : $"region {Id} (exited)";
}
