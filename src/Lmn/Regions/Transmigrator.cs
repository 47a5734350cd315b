using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Lmn.Net;

namespace Lmn.Regions;

/// <summary>How a move mapped source addresses to destination addresses.</summary>
public enum ForwardMode
{
    /// <summary>No move has run yet.</summary>
    None,
    /// <summary>Dense arrays indexed by source address, from the start.</summary>
    Dense,
    /// <summary>The hash table only: the source was huge and the reachable part stayed small.</summary>
    Dictionary,
    /// <summary>Started with the hash table, switched to dense arrays once the reachable part grew.</summary>
    Promoted,
}

/// <summary>What one move did: slots it added to the destination and how it mapped addresses.</summary>
public readonly record struct TransmigrateStats(uint Nodes, uint Vars, uint Externals, ForwardMode Mode, uint PromotedAt);

/// <summary>
/// Moves the graph reachable from a set of roots out of one region into another, eagerly, as a copying
/// collector does (Cheney's scan). A node is copied raw into the next destination slot the first time a
/// port reaches it, and the forwarding map records source -> destination; a scan pointer then walks the
/// destination's new slots in order and rewrites each copied port through the map, copying what it reaches
/// for the first time. The destination's new slots are the worklist: no recursion, no stack, no queue.
/// <code>
///   src:  [1] CON(v5, [3])   [2] ...   [3] DUP(#7, [1])       roots: CON [1]
///
///   dst:  ... | d0 = raw [1] | d1 = raw [3] | d2 ...
///                ^ scan: rewrite fields of d0 through the map, copying [3] to d1 on first sight
///                         then scan d1: [1] is already forwarded to d0, so the cycle closes
/// </code>
/// Variables are copied the same way (a variable slot holds NONE or the port it was linked to), so both
/// ends of a wire get the one fresh slot. An external port into a third region gets an entry in the
/// destination's table with the same target, never a copy of what it points to; an external port into the
/// destination becomes the plain local port it names. The source is only read.
///
/// The forwarding map is dense (a uint per source slot, 0 = not copied yet) unless the source holds at
/// least <see cref="DictionaryMinSlots"/> slots: then the move starts with a hash table and switches to the
/// dense arrays once it has copied one slot in <see cref="PromoteDivisor"/> of the source, when clearing
/// dense arrays of the source's size has become cheap next to the hashing it saves. The dense scan works in
/// batches sorted by port kind (see ScanDense). The addresses a move hands out depend only on the scan
/// order, so every mode gives the same destination bit for bit.
///
/// A failed move (an unknown node kind, a malformed port, an external port into an exited region)
/// throws and rolls the destination back: it publishes nothing. One instance reuses its scratch arrays
/// from move to move; it is not thread-safe.
/// </summary>
public sealed unsafe class Transmigrator
{
    /// <summary>
    /// Source size (nodes plus variables) from which a move starts with the hash table. Below it, clearing a
    /// dense map costs under ~6 us, about what hashing a hundred slots costs (docs/regions.md has the figures).
    /// </summary>
    public const uint DefaultDictionaryMinSlots = 1u << 16;

    /// <summary>
    /// The hash table gives way to dense arrays after copying one slot in this many of the source: measured
    /// here, a dense map costs ~0.1 ns per source slot (clearing) plus ~6.5 ns per copied slot, the table
    /// 22-30 ns per copied slot, so they break even between one slot in 200 and one in 140. Switching at
    /// about break-even costs at most about twice the better choice made in hindsight (ski rental).
    /// </summary>
    public const uint DefaultPromoteDivisor = 256;

    /// <summary>What the move does with a port of a given tag.</summary>
    internal enum Handler : byte
    {
        Unknown = 0,   // no handler: the move throws
        Var = 1,       // a wire end: forward the variable slot
        Leaf = 2,      // ERA, NUM: copied as is
        Ref = 3,       // a definition (copied as is) or an external port (re-entered in the destination's table)
        Node = 4,      // CON DUP OPR SWI: forward the node slot, keep the tag
    }

    /// <summary>The handler of each tag, one byte per tag (tag 0 in the low byte): every kind has one.</summary>
    internal const ulong DefaultHandlers =
        (ulong)Handler.Var << (int)(Tag.VAR * 8) | (ulong)Handler.Ref << (int)(Tag.REF * 8) |
        (ulong)Handler.Leaf << (int)(Tag.ERA * 8) | (ulong)Handler.Leaf << (int)(Tag.NUM * 8) |
        (ulong)Handler.Node << (int)(Tag.CON * 8) | (ulong)Handler.Node << (int)(Tag.DUP * 8) |
        (ulong)Handler.Node << (int)(Tag.OPR * 8) | (ulong)Handler.Node << (int)(Tag.SWI * 8);

    private readonly ulong _handlers;

    // Scratch, reused across moves. Dense maps are pinned (the loop reads them through pointers) and all
    // zero between moves; entries past the source's size are never read.
    private uint[] _nodeFwdArr = [];
    private uint[] _varFwdArr = [];
    private uint* _nodeFwd;
    private uint* _varFwd;
    private ulong[] _extFwd = [];   // per source external: bit 32 set once mapped, low half the new port
    private readonly ForwardTable _table = new();
    private uint[] _roots = [];
    private readonly uint[] _extLogArr = GC.AllocateArray<uint>(ExtLogCap, pinned: true);
    private readonly uint* _extLog;
    private readonly uint[] _batchArr = GC.AllocateArray<uint>(4 * BatchPorts, pinned: true);
    private readonly uint* _batch;
    private Region? _src, _dst;     // set during a move, for the cold paths

    public Transmigrator() : this(DefaultHandlers) { }

    /// <summary>A transmigrator with a given handler table (tests inject an unknown kind with it).</summary>
    internal Transmigrator(ulong handlers)
    {
        _handlers = handlers;
        _extLog = (uint*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_extLogArr));
        _batch = (uint*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_batchArr));
    }

    /// <summary>Source slots (nodes plus variables) from which a move starts with the hash table.</summary>
    public uint DictionaryMinSlots { get; set; } = DefaultDictionaryMinSlots;

    /// <summary>The hash table switches to dense arrays once it holds source slots / PromoteDivisor entries; 0 never switches.</summary>
    public uint PromoteDivisor { get; set; } = DefaultPromoteDivisor;

    /// <summary>For tests: promote after exactly this many copied slots (0: use PromoteDivisor).</summary>
    internal uint PromoteAfter { get; set; }

    /// <summary>What the last successful move did.</summary>
    public TransmigrateStats Last { get; private set; }

    /// <summary>The handler of a tag in the default table.</summary>
    internal static Handler HandlerOf(uint tag, ulong table = DefaultHandlers) => (Handler)(byte)(table >> (int)(Port.TagOf(tag) * 8));

    /// <summary>A handler table with one tag's handler replaced.</summary>
    internal static ulong WithHandler(ulong table, uint tag, byte handler) =>
        (table & ~(0xFFUL << (int)(tag * 8))) | ((ulong)handler << (int)(tag * 8));

    /// <summary>Moves what `roots` reach in `src` into `dst` and returns the new roots (see the class summary).</summary>
    public uint[] Transmigrate(ReadOnlySpan<uint> roots, Region src, Region dst)
    {
        var result = new uint[roots.Length];
        Transmigrate(roots, src, dst, result);
        return result;
    }

    /// <summary>
    /// Moves what `roots` reach in `src` into `dst`; `newRoots[i]` gets the port that stands for `roots[i]`.
    /// Pass a net's root and then both ports of each pending redex: pairs stay pairs. Roots are ports of `src`
    /// (a leaf, a node, a variable, or an external port); the new roots are ports of `dst`.
    /// </summary>
    public void Transmigrate(ReadOnlySpan<uint> roots, Region src, Region dst, Span<uint> newRoots)
    {
        ArgumentNullException.ThrowIfNull(src);
        ArgumentNullException.ThrowIfNull(dst);
        src.ThrowIfExited();
        dst.ThrowIfExited();
        if (src == dst) throw new ArgumentException($"region {src.Id}: a move needs two regions", nameof(dst));
        if (src.Heap != dst.Heap) throw new ArgumentException($"regions {src.Id} and {dst.Id} belong to different heaps", nameof(dst));
        if (newRoots.Length < roots.Length) throw new ArgumentException($"{roots.Length} roots need as many new roots, not {newRoots.Length}", nameof(newRoots));
        if (_src != null) throw new InvalidOperationException("a transmigrator runs one move at a time");

        uint nodeMark = dst.NodeBump, varMark = dst.VarBump, extMark = dst.ExtCount;
        if (_roots.Length < roots.Length) _roots = new uint[Math.Max(roots.Length, 2 * _roots.Length)];
        if (_extFwd.Length < src.ExtCount) _extFwd = new ulong[Math.Max(src.ExtCount, 2 * (uint)_extFwd.Length)];
        _src = src;
        _dst = dst;
        bool dense = false, ok = false;
        try
        {
            var m = new Move
            {
                SN = src.Nodes, SV = src.Vars, SNodes = src.NodeBump, SVars = src.VarBump,
                DN = dst.Nodes, DV = dst.Vars, NB = nodeMark, VB = varMark, NCap = dst.NodeCap, VCap = dst.VarCap,
                NodeScan = nodeMark, VarScan = varMark,
            };
            ulong slots = (ulong)src.NodeBump + src.VarBump;
            // A dense move reserves room in dst for every source slot; where that exceeds what ports can
            // address, the move stays with the table (and grows dst as it goes).
            bool canDense = (ulong)nodeMark + src.NodeBump <= Region.MaxSlots && (ulong)varMark + src.VarBump <= Region.MaxSlots;
            var mode = ForwardMode.Dense;
            uint promotedAt = 0;
            if (slots < DictionaryMinSlots && canDense)
            {
                var f = DenseForward(ref m);
                dense = true;
                MapRoots(roots, ref m, f);
                bool done = Run(ref m, f);
                Debug.Assert(done, "a dense move never stops early");
            }
            else
            {
                mode = ForwardMode.Dictionary;
                uint limit = !canDense ? uint.MaxValue
                    : PromoteAfter != 0 ? PromoteAfter
                    : PromoteDivisor == 0 ? uint.MaxValue
                    : (uint)Math.Max(1, slots / PromoteDivisor);
                var f = new SparseForward(_table, limit);
                MapRoots(roots, ref m, f);
                if (!Run(ref m, f))
                {
                    mode = ForwardMode.Promoted;
                    promotedAt = _table.Count;
                    var d = DenseForward(ref m);
                    dense = true;
                    foreach (var (key, value) in _table)
                    {
                        if ((key & 1) == 0) _nodeFwd[key >> 1] = value;
                        else _varFwd[key >> 1] = value;
                    }
                    _table.Clear();
                    bool done = Run(ref m, d);
                    Debug.Assert(done, "a dense move never stops early");
                }
            }
            Debug.Assert(m.NodeScan == m.NB && m.VarScan == m.VB, $"scan {m.NodeScan}/{m.VarScan} behind {m.NB}/{m.VB}");

            dst.NodeBump = m.NB;
            dst.VarBump = m.VB;
            _roots.AsSpan(0, roots.Length).CopyTo(newRoots);
            Last = new TransmigrateStats(m.NB - nodeMark, m.VB - varMark, dst.ExtCount - extMark, mode, promotedAt);
            ok = true;
        }
        finally
        {
            if (!ok) dst.Truncate(nodeMark, varMark, extMark);
            // Restore the all-zero invariant of the scratch maps.
            if (dense)
            {
                new Span<uint>(_nodeFwd, (int)src.NodeBump).Clear();
                new Span<uint>(_varFwd, (int)src.VarBump).Clear();
            }
            _table.Clear();
            Array.Clear(_extFwd, 0, (int)src.ExtCount);
            _src = _dst = null;
        }
    }

    /// <summary>The copy loop's state: both regions' arrays, the destination's bumps and scan pointers.</summary>
    private struct Move
    {
        public ulong* SN;      // source nodes
        public uint* SV;       // source variables
        public uint SNodes;    // source node count: valid node indices are 1..SNodes-1
        public uint SVars;     // source variable count
        public ulong* DN;      // destination nodes
        public uint* DV;       // destination variables
        public uint NB, VB;    // destination bumps (published only when the move succeeds)
        public uint NCap, VCap;
        public uint NodeScan;  // next destination node whose ports still name source addresses
        public uint VarScan;   // next destination variable whose substitution still names a source port
        public uint ExtN;      // entries in the external log (see FixExternals)
    }

    /// <summary>A forwarding map: destination address of a source node or variable, 0 if not copied yet.</summary>
    private interface IForward
    {
        uint Node(uint i);
        void SetNode(uint i, uint d);
        uint Var(uint i);
        void SetVar(uint i, uint d);
        /// <summary>Whether the move should switch to the dense map now.</summary>
        bool Promote { get; }
        /// <summary>Whether the destination may run out of room (a dense move reserves room for all of the source first).</summary>
        bool CheckRoom { get; }
    }

    /// <summary>Dense arrays indexed by source address; the caller checks the index against the source's size.</summary>
    private readonly struct Dense(uint* nodes, uint* vars) : IForward
    {
        public uint* Nodes => nodes;
        public uint* Vars => vars;
        public uint Node(uint i) => nodes[i];
        public void SetNode(uint i, uint d) => nodes[i] = d;
        public uint Var(uint i) => vars[i];
        public void SetVar(uint i, uint d) => vars[i] = d;
        public bool Promote => false;
        public bool CheckRoom => false;
    }

    /// <summary>The hash table: key (index &lt;&lt; 1) for a node, (index &lt;&lt; 1) | 1 for a variable.</summary>
    private readonly struct SparseForward(ForwardTable table, uint limit) : IForward
    {
        public uint Node(uint i) => table.Get(i << 1);
        public void SetNode(uint i, uint d) => table.Add(i << 1, d);
        public uint Var(uint i) => table.Get((i << 1) | 1);
        public void SetVar(uint i, uint d) => table.Add((i << 1) | 1, d);
        public bool Promote => table.Count >= limit;
        public bool CheckRoom => true;
    }

    /// <summary>
    /// The dense map, sized for the current source (pinned arrays, zero between moves). Also reserves room in
    /// dst for every source slot: each is copied at most once, so the dense loop needs no capacity checks.
    /// (Reserved, not touched: pages the move does not reach are never committed.)
    /// </summary>
    private Dense DenseForward(ref Move m)
    {
        var src = _src!;
        m.DN = GrowNodes((ulong)m.NB + src.NodeBump);
        m.NCap = _dst!.NodeCap;
        m.DV = GrowVars((ulong)m.VB + src.VarBump);
        m.VCap = _dst.VarCap;
        if (_nodeFwdArr.Length < src.NodeBump)
        {
            _nodeFwdArr = GC.AllocateArray<uint>((int)Math.Max(src.NodeBump, 64), pinned: true);
            _nodeFwd = (uint*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_nodeFwdArr));
        }
        if (_varFwdArr.Length < src.VarBump)
        {
            _varFwdArr = GC.AllocateArray<uint>((int)Math.Max(src.VarBump, 64), pinned: true);
            _varFwd = (uint*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_varFwdArr));
        }
        return new Dense(_nodeFwd, _varFwd);
    }

    private void MapRoots<TF>(ReadOnlySpan<uint> roots, ref Move m, TF f) where TF : struct, IForward
    {
        ulong handlers = _handlers;
        for (int i = 0; i < roots.Length; i++)
        {
            if (m.NB + 1 > m.NCap) { m.DN = GrowNodes(m.NB + 1); m.NCap = _dst!.NodeCap; }
            if (m.VB + 1 > m.VCap) { m.DV = GrowVars(m.VB + 1); m.VCap = _dst!.VarCap; }
            uint r = Map(roots[i], f, handlers, m.SN, m.SV, m.SNodes, m.SVars, m.DN, m.DV, ref m.NB, ref m.VB);
            _roots[i] = External.Is(r) ? MapExternal(r) : r;
        }
    }

    /// <summary>How many ports holding external ports the scan logs before it stops for FixExternals (at least a batch's worth).</summary>
    private const int ExtLogCap = 4 * BatchPorts;

    /// <summary>Why Scan stopped.</summary>
    private enum Stop { Done, Promote, LogFull }

    /// <summary>Scans until done or until the map asks to be promoted (false), fixing external ports as the log fills.</summary>
    private bool Run<TF>(ref Move m, TF f) where TF : struct, IForward
    {
        while (true)
        {
            var stop = typeof(TF) == typeof(Dense) ? ScanDense(ref m, (Dense)(object)f) : Scan(ref m, f);
            FixExternals(ref m);
            if (stop != Stop.LogFull) return stop == Stop.Done;
        }
    }

    /// <summary>
    /// Cheney's scan, port by port (the table's scan; dense moves use ScanDense): rewrites the copied slots
    /// until the scan pointers catch up with the bumps, or until the map asks to be promoted or the external
    /// log is full (the state is left consistent, so the scan resumes where it stopped). The state lives in
    /// locals so the JIT keeps it in registers, which is also why the loop makes no call that returns except
    /// to grow dst: external ports are logged for FixExternals, throw helpers never return.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Stop Scan<TF>(ref Move m, TF f) where TF : struct, IForward
    {
        ulong* sn = m.SN, dn = m.DN;
        uint* sv = m.SV, dv = m.DV;
        uint sNodes = m.SNodes, sVars = m.SVars;
        uint nb = m.NB, vb = m.VB, nscan = m.NodeScan, vscan = m.VarScan;
        ulong handlers = _handlers;
        var stop = Stop.Done;
        while (true)
        {
            while (nscan < nb)
            {
                // One node maps two ports: at most two new nodes and two new variables.
                if (f.CheckRoom && nb + 2 > m.NCap) { dn = GrowNodes(nb + 2); m.NCap = _dst!.NodeCap; }
                if (f.CheckRoom && vb + 2 > m.VCap) { dv = GrowVars(vb + 2); m.VCap = _dst!.VarCap; }
                ulong n = dn[nscan];
                uint a = Map((uint)n, f, handlers, sn, sv, sNodes, sVars, dn, dv, ref nb, ref vb);
                uint b = Map((uint)(n >> 32), f, handlers, sn, sv, sNodes, sVars, dn, dv, ref nb, ref vb);
                dn[nscan] = Port.Pair(a, b);
                nscan++;
                if (External.Is(a) | External.Is(b))
                {
                    // Rare: the log and its count stay in memory, not in registers the loop needs.
                    if (External.Is(a)) _extLog[m.ExtN++] = (nscan - 1) << 1;
                    if (External.Is(b)) _extLog[m.ExtN++] = ((nscan - 1) << 1) | 1;
                    if (m.ExtN >= ExtLogCap - 1) { stop = Stop.LogFull; goto exit; }
                }
                if (f.Promote) { stop = Stop.Promote; goto exit; }
            }
            if (vscan == vb) break;
            while (vscan < vb)
            {
                if (f.CheckRoom && nb + 1 > m.NCap) { dn = GrowNodes(nb + 1); m.NCap = _dst!.NodeCap; }
                if (f.CheckRoom && vb + 1 > m.VCap) { dv = GrowVars(vb + 1); m.VCap = _dst!.VarCap; }
                uint v = dv[vscan];
                if (v != Port.NONE)
                {
                    v = Map(v, f, handlers, sn, sv, sNodes, sVars, dn, dv, ref nb, ref vb);
                    dv[vscan] = v;
                }
                vscan++;
                if (External.Is(v))
                {
                    _extLog[m.ExtN++] = (vscan - 1) | VarSlot;
                    if (m.ExtN >= ExtLogCap - 1) { stop = Stop.LogFull; goto exit; }
                }
                if (f.Promote) { stop = Stop.Promote; goto exit; }
            }
        }
    exit:
        m.DN = dn;
        m.DV = dv;
        m.NB = nb;
        m.VB = vb;
        m.NodeScan = nscan;
        m.VarScan = vscan;
        return stop;
    }

    /// <summary>Nodes per batch of ScanDense, and the ports they hold (the batch buffer, 8 KB, stays in L1).</summary>
    private const int BatchNodes = 256, BatchPorts = 2 * BatchNodes;

    /// <summary>Below this many queued nodes ScanDense maps port by port: sorting a tiny batch costs more than it saves.</summary>
    private const uint SmallBatch = 16;

    /// <summary>What ScanDense does with a port: nothing (a leaf), forward a node, forward a variable, or Map.</summary>
    private const uint KLeaf = 0, KNode = 1, KVar = 2, KOther = 3;

    /// <summary>The batch kind of each tag, two bits per tag, from the handler table.</summary>
    private uint BatchKinds()
    {
        uint kinds = 0;
        for (uint tag = 0; tag < 8; tag++)
        {
            uint k = HandlerOf(tag, _handlers) switch
            {
                Handler.Leaf => KLeaf,
                Handler.Node => KNode,
                Handler.Var => KVar,
                _ => KOther, // Ref (an external port needs the log), and anything unknown: Map decides
            };
            kinds |= k << (int)(tag * 2);
        }
        return kinds;
    }

    /// <summary>
    /// Cheney's scan with the dense map, in batches of 256 nodes, sorted by kind before any is mapped. The kinds
    /// of neighbouring ports are as good as random in a net (a wire, a number, a node, ...), and a branch on
    /// each one mispredicts often; so a first pass files each port's position under its kind without a
    /// branch (four counters packed in one register), and a second pass maps the node ports, then the
    /// variable ports, then the rest through Map, each a loop of one kind. Leaves need nothing: the raw copy
    /// already holds them. Ports are mapped in the same order within each kind as Scan maps them, and nodes
    /// and variables have separate bumps, so the destination is the same bit for bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Stop ScanDense(ref Move m, Dense f)
    {
        ulong* sn = m.SN, dn = m.DN;
        uint* sv = m.SV, dv = m.DV;
        uint* nf = f.Nodes, vf = f.Vars;
        uint sNodes = m.SNodes, sVars = m.SVars;
        uint nb = m.NB, vb = m.VB, nscan = m.NodeScan, vscan = m.VarScan;
        uint* batch = _batch;
        uint kinds = BatchKinds();
        ulong handlers = _handlers;
        var stop = Stop.Done;
        while (true)
        {
            while (nscan < nb)
            {
                // A batch logs at most BatchPorts external ports: stop first if they might not fit.
                if (m.ExtN > ExtLogCap - BatchPorts) { stop = Stop.LogFull; goto exit; }
                if (nb - nscan < SmallBatch)
                {
                    // A narrow frontier (a list, a chain): batches would be a node or two, so port by port.
                    ulong n = dn[nscan];
                    uint a = Map((uint)n, f, handlers, sn, sv, sNodes, sVars, dn, dv, ref nb, ref vb);
                    uint b = Map((uint)(n >> 32), f, handlers, sn, sv, sNodes, sVars, dn, dv, ref nb, ref vb);
                    dn[nscan] = Port.Pair(a, b);
                    if (External.Is(a)) _extLog[m.ExtN++] = nscan << 1;
                    if (External.Is(b)) _extLog[m.ExtN++] = (nscan << 1) | 1;
                    nscan++;
                    continue;
                }
                uint end = Math.Min(nb, nscan + BatchNodes);
                // File every port's position (node << 1 | half) under its kind: section k of the batch
                // buffer, count k in bits 16k.. of `counts`.
                ulong counts = 0;
                for (uint at = nscan; at < end; at++)
                {
                    ulong n = dn[at];
                    uint ka = (kinds >> (int)(Port.TagOf((uint)n) << 1)) & 3;
                    uint kb = (kinds >> (int)(Port.TagOf((uint)(n >> 32)) << 1)) & 3;
                    batch[ka * BatchPorts + (uint)((counts >> (int)(ka << 4)) & 0xFFFF)] = at << 1;
                    counts += 1UL << (int)(ka << 4);
                    batch[kb * BatchPorts + (uint)((counts >> (int)(kb << 4)) & 0xFFFF)] = (at << 1) | 1;
                    counts += 1UL << (int)(kb << 4);
                }
                uint nodes = (uint)(counts >> 16) & 0xFFFF, vars = (uint)(counts >> 32) & 0xFFFF, others = (uint)(counts >> 48);
                for (uint j = 0; j < nodes; j++)
                {
                    uint pos = batch[KNode * BatchPorts + j];
                    uint* port = (uint*)(dn + (pos >> 1)) + (pos & 1);
                    uint p = *port;
                    uint i = p >> 3;
                    if (i - 1 >= sNodes - 1) ThrowBadPort(p, "node");
                    uint d = nf[i];
                    if (d == 0)
                    {
                        d = nb++;
                        nf[i] = d;
                        dn[d] = sn[i];
                    }
                    *port = (d << 3) | Port.TagOf(p);
                }
                for (uint j = 0; j < vars; j++)
                {
                    uint pos = batch[KVar * BatchPorts + j];
                    uint* port = (uint*)(dn + (pos >> 1)) + (pos & 1);
                    uint i = *port >> 3;
                    if (i >= sVars) ThrowBadPort(*port, "variable");
                    uint d = vf[i];
                    if (d == 0)
                    {
                        d = vb++;
                        vf[i] = d;
                        dv[d] = sv[i];
                    }
                    *port = d << 3;
                }
                for (uint j = 0; j < others; j++)
                {
                    uint pos = batch[KOther * BatchPorts + j];
                    uint* port = (uint*)(dn + (pos >> 1)) + (pos & 1);
                    uint p = Map(*port, f, handlers, sn, sv, sNodes, sVars, dn, dv, ref nb, ref vb);
                    *port = p;
                    if (External.Is(p)) _extLog[m.ExtN++] = pos;
                }
                nscan = end;
            }
            if (vscan == vb) break;
            while (vscan < vb)
            {
                uint v = dv[vscan];
                if (v != Port.NONE)
                {
                    v = Map(v, f, handlers, sn, sv, sNodes, sVars, dn, dv, ref nb, ref vb);
                    dv[vscan] = v;
                }
                vscan++;
                if (External.Is(v))
                {
                    _extLog[m.ExtN++] = (vscan - 1) | VarSlot;
                    if (m.ExtN >= ExtLogCap - 1) { stop = Stop.LogFull; goto exit; }
                }
            }
        }
    exit:
        m.NB = nb;
        m.VB = vb;
        m.NodeScan = nscan;
        m.VarScan = vscan;
        return stop;
    }

    /// <summary>
    /// Marks a variable slot in the external log; other entries are (node &lt;&lt; 1) | half, half 0 for fst.
    /// Each logged port holds a source external port until FixExternals rewrites it, exactly once.
    /// </summary>
    private const uint VarSlot = 0x8000_0000;

    /// <summary>
    /// The destination port for a source port, copying its node or variable raw on first sight; an external
    /// port comes back unchanged (the caller logs it for FixExternals). The handlers are tested in order of
    /// frequency rather than by a switch (its jump table cost an indirect branch per port, ~15% slower on the
    /// benchmark); as a switch's default would, a handler it does not know throws.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint Map<TF>(uint p, TF f, ulong handlers, ulong* sn, uint* sv, uint sNodes, uint sVars, ulong* dn, uint* dv,
        ref uint nb, ref uint vb) where TF : struct, IForward
    {
        uint tag = Port.TagOf(p);
        var h = (Handler)(byte)(handlers >> (int)(tag << 3));
        if (h == Handler.Node)
        {
            uint i = p >> 3;
            // Unsigned trick: i == 0 wraps to uint.MaxValue, so one compare rejects slot 0 and i >= sNodes.
            if (i - 1 >= sNodes - 1) ThrowBadPort(p, "node");
            uint d = f.Node(i);
            if (d == 0)
            {
                d = nb++;
                f.SetNode(i, d);
                dn[d] = sn[i];
            }
            return (d << 3) | tag;
        }
        if (h == Handler.Var)
        {
            uint i = p >> 3;
            if (i >= sVars) ThrowBadPort(p, "variable");
            uint d = f.Var(i);
            if (d == 0)
            {
                d = vb++;
                f.SetVar(i, d);
                dv[d] = sv[i];
            }
            return d << 3;
        }
        if (h == Handler.Leaf | h == Handler.Ref) return p;
        ThrowUnknownKind(p);
        return 0;
    }

    /// <summary>
    /// Rewrites the source external ports the scan left in the slots it logged: the scan treats them as
    /// leaves (a call in the loop would make the JIT keep the loop's state on the stack), and mapping one never
    /// copies anything, so doing it after the scan gives the same result.
    /// </summary>
    private void FixExternals(ref Move m)
    {
        Debug.Assert(m.ExtN <= ExtLogCap, $"external log overflowed: {m.ExtN} > {ExtLogCap}");
        for (uint k = 0; k < m.ExtN; k++)
        {
            uint at = _extLog[k];
            if ((at & VarSlot) != 0)
            {
                uint* v = m.DV + (at & ~VarSlot);
                *v = MapExternal(*v);
            }
            else
            {
                // Node `at >> 1`, fst (low half) or snd.
                uint* half = (uint*)(m.DN + (at >> 1)) + (at & 1);
                *half = MapExternal(*half);
            }
        }
        m.ExtN = 0;
    }

    /// <summary>An external port of the source: the destination's own port, or a destination entry with the same target.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private uint MapExternal(uint p)
    {
        Region src = _src!, dst = _dst!;
        uint k = External.IndexOf(p);
        if (k >= src.ExtCount) ThrowBadPort(p, "external");
        ulong seen = _extFwd[k];
        if (seen >> 32 != 0) return (uint)seen;
        ulong e = src.Ext[k];
        uint region = (uint)(e >> 32), port = (uint)e;
        uint q;
        if (region == dst.Id)
        {
            // Ports of the destination that existed before the move: the bump is still at its mark.
            if (!dst.IsValidLocal(port))
                throw new RegionFault($"transmigrate: region {src.Id} external #{k} names {port:X8}, not a port of region {dst.Id}", src.Id);
            q = port;
        }
        else if (region == src.Id)
            throw new RegionFault($"transmigrate: region {src.Id} external #{k} points into its own region", src.Id);
        else if (src.Heap.Find(region) == null)
            throw new RegionFault($"transmigrate: region {src.Id} external #{k} points into region {region}, which has exited", region);
        else
            q = External.New(dst.AddExternal(region, port));
        _extFwd[k] = (1UL << 32) | q;
        return q;
    }

    /// <summary>Grows the destination's node array to at least `need` slots; returns the (moved) array.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong* GrowNodes(ulong need)
    {
        _dst!.GrowNodesTo(need);
        return _dst.Nodes;
    }

    /// <summary>Grows the destination's variable array to at least `need` slots; returns the (moved) array.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private uint* GrowVars(ulong need)
    {
        _dst!.GrowVarsTo(need);
        return _dst.Vars;
    }

    // Throw helpers, as in dotnet/runtime's ThrowHelper: a tiny method whose IL only throws, so that the
    // JIT sees the call never returns and keeps the loop's state in registers rather than saving it around
    // the call; the message is built in a separate cold method.
    [DoesNotReturn]
    private void ThrowBadPort(uint p, string what) => throw BadPort(p, what);

    [DoesNotReturn]
    private void ThrowUnknownKind(uint p) => throw UnknownKind(p);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private RegionFault BadPort(uint p, string what) =>
        new($"transmigrate: port {p:X8} of region {_src!.Id} names {what} {p >> 3}, which the region does not hold", _src.Id);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private UnreachableException UnknownKind(uint p) =>
        new($"transmigrate: no handler for tag {Port.TagOf(p)} (handler byte {(byte)(_handlers >> (int)(Port.TagOf(p) * 8))}) at port {p:X8} of region {_src!.Id}");
}

/// <summary>Transmigration with a per-thread <see cref="Transmigrator"/>.</summary>
public static class Transmigration
{
    [ThreadStatic] private static Transmigrator? t_shared;

    /// <summary>The calling thread's transmigrator.</summary>
    public static Transmigrator Shared => t_shared ??= new Transmigrator();

    /// <summary>Moves what `roots` reach in `src` into `dst` and returns the new roots.</summary>
    public static uint[] Transmigrate(ReadOnlySpan<uint> roots, Region src, Region dst) => Shared.Transmigrate(roots, src, dst);

    /// <summary>Moves what `roots` reach in `src` into `dst`, writing the new roots into `newRoots`.</summary>
    public static void Transmigrate(ReadOnlySpan<uint> roots, Region src, Region dst, Span<uint> newRoots) =>
        Shared.Transmigrate(roots, src, dst, newRoots);
}
