using Lmn.Net;
using Lmn.Regions;
using Xunit;

namespace Lmn.Tests.Regions;

/// <summary>Helpers shared by the region tests: heaps with the verifier on, snapshots, graph builders and checkers.</summary>
internal static class RegionGraphs
{
    /// <summary>A heap with the closure verifier on, as every region test runs.</summary>
    public static RegionHeap NewHeap() => new() { VerifyClosure = true };

    public static uint Con(uint index) => Port.New(Tag.CON, index);
    public static uint Dup(uint index) => Port.New(Tag.DUP, index);
    public static uint Var(uint index) => Port.New(Tag.VAR, index);
    public static uint Num(uint value) => Port.New(Tag.NUM, value);
    public static uint Ref(uint fid) => Port.New(Tag.REF, fid);
    public const uint Era = Tag.ERA;

    /// <summary>Everything observable about a region: its used slots and its external table.</summary>
    public sealed record Snapshot(ulong[] Nodes, uint[] Vars, RegionPort[] Externals)
    {
        public void AssertSame(Snapshot other)
        {
            Assert.Equal(Nodes, other.Nodes);
            Assert.Equal(Vars, other.Vars);
            Assert.Equal(Externals, other.Externals);
        }
    }

    public static Snapshot Snap(Region r)
    {
        var nodes = new ulong[r.NodeCount - 1];
        for (uint i = 1; i < r.NodeCount; i++) nodes[i - 1] = r.NodeAt(i);
        var vars = new uint[r.VarCount];
        for (uint i = 0; i < r.VarCount; i++) vars[i] = r.VarAt(i);
        var ext = new RegionPort[r.ExternalCount];
        for (uint k = 0; k < r.ExternalCount; k++) ext[k] = r.ExternalAt(External.New(k));
        return new Snapshot(nodes, vars, ext);
    }

    /// <summary>The counts of a region before a move, to measure its growth.</summary>
    public readonly record struct Mark(uint Nodes, uint Vars, uint Externals)
    {
        public static Mark Of(Region r) => new(r.NodeCount, r.VarCount, r.ExternalCount);
    }

    /// <summary>What a checked move found: the old -> new maps of nodes and variables.</summary>
    public sealed record MoveMap(Dictionary<uint, uint> Nodes, Dictionary<uint, uint> Vars, HashSet<uint> SrcExternals);

    /// <summary>
    /// Checks a finished move independently of the transmigrator: walks src from the roots and dst from the new
    /// roots side by side (explicit stack, no recursion) and asserts that the old -> new maps of nodes and
    /// variables are functions (sharing kept), injective, total over what the roots reach, land in the slots
    /// the move added, that every edge is preserved with its tag, leaves are identical, external ports lead to
    /// the same (region, port), and that dst grew by exactly the number of distinct reachable nodes and
    /// variables.
    /// </summary>
    public static MoveMap CheckMove(Region src, ReadOnlySpan<uint> roots, Region dst, ReadOnlySpan<uint> newRoots, Mark mark)
    {
        Assert.Equal(roots.Length, newRoots.Length);
        var nodes = new Dictionary<uint, uint>();
        var nodesBack = new Dictionary<uint, uint>();
        var vars = new Dictionary<uint, uint>();
        var varsBack = new Dictionary<uint, uint>();
        var exts = new HashSet<uint>();
        var work = new Stack<(uint Old, uint New)>();
        for (int i = 0; i < roots.Length; i++) work.Push((roots[i], newRoots[i]));
        while (work.Count > 0)
        {
            var (o, n) = work.Pop();
            uint tag = o & 7;
            if (tag >= Tag.CON)
            {
                Assert.Equal(tag, n & 7);
                uint oi = o >> 3, ni = n >> 3;
                Assert.InRange(ni, mark.Nodes, dst.NodeCount - 1);
                if (nodes.TryGetValue(oi, out uint seen))
                {
                    Assert.Equal(seen, ni);
                    continue;
                }
                Assert.False(nodesBack.ContainsKey(ni), $"dst node {ni} stands for src nodes {(nodesBack.TryGetValue(ni, out var x) ? x : 0)} and {oi}");
                nodes[oi] = ni;
                nodesBack[ni] = oi;
                ulong on = src.NodeAt(oi), nn = dst.NodeAt(ni);
                work.Push((Port.Fst(on), Port.Fst(nn)));
                work.Push((Port.Snd(on), Port.Snd(nn)));
            }
            else if (tag == Tag.VAR)
            {
                Assert.Equal(Tag.VAR, n & 7);
                uint oi = o >> 3, ni = n >> 3;
                Assert.InRange(ni, mark.Vars, dst.VarCount - 1);
                if (vars.TryGetValue(oi, out uint seen))
                {
                    Assert.Equal(seen, ni);
                    continue;
                }
                Assert.False(varsBack.ContainsKey(ni), $"dst var {ni} stands for two src vars");
                vars[oi] = ni;
                varsBack[ni] = oi;
                uint ov = src.VarAt(oi), nv = dst.VarAt(ni);
                if (ov == Port.NONE) Assert.Equal(Port.NONE, nv);
                else work.Push((ov, nv));
            }
            else if (External.Is(o))
            {
                exts.Add(External.IndexOf(o));
                var target = src.ExternalAt(o);
                if (target.Region == dst.Id) Assert.Equal(target.Port, n);
                else Assert.Equal(target, dst.ExternalAt(n));
            }
            else
            {
                Assert.Equal(o, n);
            }
        }
        Assert.Equal((uint)nodes.Count, dst.NodeCount - mark.Nodes);
        Assert.Equal((uint)vars.Count, dst.VarCount - mark.Vars);
        // One destination entry per source entry reached, except those that lead into dst itself.
        int entries = exts.Count(k => src.ExternalAt(External.New(k)).Region != dst.Id);
        Assert.Equal((uint)entries, dst.ExternalCount - mark.Externals);
        return new MoveMap(nodes, vars, exts);
    }

    /// <summary>Asserts that the graphs reachable from two root lists in two regions are isomorphic (a bijection that keeps tags, edges and leaves).</summary>
    public static void AssertIsomorphic(Region a, ReadOnlySpan<uint> rootsA, Region b, ReadOnlySpan<uint> rootsB)
    {
        Assert.Equal(rootsA.Length, rootsB.Length);
        var nodes = new Dictionary<uint, uint>();
        var nodesBack = new Dictionary<uint, uint>();
        var vars = new Dictionary<uint, uint>();
        var varsBack = new Dictionary<uint, uint>();
        var work = new Stack<(uint A, uint B)>();
        for (int i = 0; i < rootsA.Length; i++) work.Push((rootsA[i], rootsB[i]));
        while (work.Count > 0)
        {
            var (x, y) = work.Pop();
            uint tag = x & 7;
            Assert.Equal(tag, y & 7);
            if (tag >= Tag.CON || tag == Tag.VAR)
            {
                var map = tag == Tag.VAR ? vars : nodes;
                var back = tag == Tag.VAR ? varsBack : nodesBack;
                uint xi = x >> 3, yi = y >> 3;
                if (map.TryGetValue(xi, out uint seen))
                {
                    Assert.Equal(seen, yi);
                    continue;
                }
                Assert.False(back.ContainsKey(yi), "not injective");
                map[xi] = yi;
                back[yi] = xi;
                if (tag == Tag.VAR)
                {
                    uint xv = a.VarAt(xi), yv = b.VarAt(yi);
                    if (xv == Port.NONE) Assert.Equal(Port.NONE, yv);
                    else work.Push((xv, yv));
                }
                else
                {
                    ulong xn = a.NodeAt(xi), yn = b.NodeAt(yi);
                    work.Push((Port.Fst(xn), Port.Fst(yn)));
                    work.Push((Port.Snd(xn), Port.Snd(yn)));
                }
            }
            else if (External.Is(x)) Assert.Equal(a.ExternalAt(x), b.ExternalAt(y));
            else Assert.Equal(x, y);
        }
    }

    /// <summary>A chain of `n` CON nodes, each holding #i and the next; returns the root port.</summary>
    public static uint Chain(Region r, int n)
    {
        // Built back to front so that every node exists before a port names it.
        uint next = Era;
        for (int i = 0; i < n; i++) next = Con(r.AllocNode(Num((uint)i & 0xFFFFFF), next));
        return next;
    }

    /// <summary>
    /// A random graph in `src`: `nodeCount` nodes, all reachable from the first root, whose ports are a mix of
    /// edges to any node (sharing, cycles, self-loops), wires (both ends placed, or one end placed and the slot substituted, or a free end),
    /// numbers, erasers, references and external ports into `thirds` (entries shared by several ports, and
    /// entries naming the same target) and into `dst`. Returns the roots: a root port, then redex pairs.
    /// </summary>
    public static uint[] RandomGraph(Random rng, Region src, Region dst, Region[] thirds, int nodeCount)
    {
        uint first = src.NodeCount;
        for (int i = 0; i < nodeCount; i++) src.AllocNode(Era, Era);
        var exts = new List<uint>();
        var openVars = new List<uint>();

        uint AnyNode() => Port.New(Tag.CON + (uint)rng.Next(4), first + (uint)rng.Next(nodeCount));
        uint Leaf() => rng.Next(3) switch
        {
            0 => Era,
            1 => Num((uint)rng.Next(1 << 24)),
            _ => Ref((uint)rng.Next(1000)),
        };
        uint NewExternal()
        {
            if (exts.Count > 0 && rng.Next(3) == 0) return exts[rng.Next(exts.Count)];
            Region target = rng.Next(5) == 0 ? dst : thirds[rng.Next(thirds.Length)];
            uint port = rng.Next(3) switch
            {
                0 => Con(1 + (uint)rng.Next((int)target.NodeCount - 1)),
                1 => Var((uint)rng.Next((int)target.VarCount)),
                _ => Num(7),
            };
            uint e = src.Import(new RegionPort(target.Id, port));
            exts.Add(e);
            return e;
        }
        uint Wire()
        {
            if (openVars.Count > 0 && rng.Next(2) == 0)
            {
                int k = rng.Next(openVars.Count);
                uint v = openVars[k];
                openVars[k] = openVars[^1];
                openVars.RemoveAt(openVars.Count - 1);
                return v;
            }
            uint nv = Var(src.AllocVar());
            openVars.Add(nv);
            return nv;
        }
        uint AnyPort(bool allowNodes)
        {
            int roll = rng.Next(100);
            if (roll < 40 && allowNodes) return AnyNode();
            if (roll < 70) return Wire();
            if (roll < 93) return Leaf();
            return NewExternal();
        }

        // A random spanning tree from the first node, so that the first root reaches every node: each node
        // takes a free port of an earlier node. The ports left over get anything, including edges back
        // (cycles, self-loops) and across (sharing).
        var ports = new uint[2 * nodeCount];
        var set = new bool[2 * nodeCount];
        var free = new List<int>();
        if (nodeCount > 0) free.AddRange([0, 1]);
        for (int i = 1; i < nodeCount; i++)
        {
            int k = rng.Next(free.Count);
            int slot = free[k];
            free[k] = free[^1];
            free.RemoveAt(free.Count - 1);
            ports[slot] = Port.New(Tag.CON + (uint)rng.Next(4), first + (uint)i);
            set[slot] = true;
            free.Add(2 * i);
            free.Add(2 * i + 1);
        }
        for (int slot = 0; slot < ports.Length; slot++)
            if (!set[slot]) ports[slot] = AnyPort(true);
        for (int i = 0; i < nodeCount; i++)
            src.SetNode(first + (uint)i, ports[2 * i], ports[2 * i + 1]);
        // Wires with one end placed: substitute some (as a link would, sometimes to another variable, which
        // may close a cycle of substitutions), leave the others free.
        foreach (uint v in openVars.ToArray())
        {
            switch (rng.Next(4))
            {
                case 0 when nodeCount > 0: src.SetVar(v >> 3, AnyNode()); break;
                case 1: src.SetVar(v >> 3, Leaf()); break;
                case 2: src.SetVar(v >> 3, Var((uint)rng.Next((int)src.VarCount))); break;
                default: break;
            }
        }

        int pairs = rng.Next(4);
        var roots = new uint[1 + 2 * pairs];
        roots[0] = nodeCount > 0 ? Port.New(Tag.CON + (uint)rng.Next(4), first) : AnyPort(false);
        for (int i = 1; i < roots.Length; i++) roots[i] = AnyPort(nodeCount > 0);
        return roots;
    }
}
