using System.Diagnostics;
using Lmn.Net;
using Lmn.Regions;
using Xunit;
using static Lmn.Tests.Regions.RegionGraphs;

namespace Lmn.Tests.Regions;

/// <summary>The transmigrator: moves of trivial roots, nodes, sharing, cycles, deep graphs, several roots,
/// external ports, failures that publish nothing, and (in the other part of the class) seeded random graphs.</summary>
public sealed partial class TransmigrateTests
{
    /// <summary>Moves `roots` from src to dst with a fresh transmigrator, checks the move, exits src (verified).</summary>
    private static uint[] MoveChecked(RegionHeap heap, Region src, Region dst, uint[] roots, Transmigrator? t = null)
    {
        var mark = Mark.Of(dst);
        var newRoots = (t ?? new Transmigrator()).Transmigrate(roots, src, dst);
        CheckMove(src, roots, dst, newRoots, mark);
        heap.RegionExit(src);
        return newRoots;
    }

    // 1. Trivial roots
    // ----------------

    [Theory]
    [InlineData(Tag.ERA)]
    [InlineData((3u << 3) | Tag.NUM)]
    [InlineData(0xFFFF_FFF8u | Tag.NUM)]
    [InlineData((42u << 3) | Tag.REF)]
    [InlineData((0x1000_0000u << 3) | Tag.REF)]
    public void TrivialRootComesBackUnchanged(uint root)
    {
        using var heap = NewHeap();
        var src = heap.Create();
        var dst = heap.Create();
        Chain(dst, 3);
        var before = Snap(dst);
        var t = new Transmigrator();
        uint[] got = t.Transmigrate([root], src, dst);
        Assert.Equal([root], got);
        Snap(dst).AssertSame(before);
        Assert.Equal(new TransmigrateStats(0, 0, 0, ForwardMode.Dense, 0), t.Last);
        heap.RegionExit(src);
    }

    [Fact]
    public void NoRootsMoveNothing()
    {
        using var heap = NewHeap();
        var src = heap.Create();
        var dst = heap.Create();
        Chain(src, 10);
        var before = Snap(dst);
        Assert.Empty(Transmigration.Transmigrate([], src, dst));
        Snap(dst).AssertSame(before);
        heap.RegionExit(src);
    }

    // 2. One node
    // -----------

    [Fact]
    public void OneNodeAndItsFields()
    {
        using var heap = NewHeap();
        var src = heap.Create();
        var dst = heap.Create();
        Chain(dst, 2);
        uint n = src.AllocNode(Num(5), Ref(9));
        var mark = Mark.Of(dst);
        uint[] got = Transmigration.Transmigrate([Dup(n)], src, dst);
        CheckMove(src, [Dup(n)], dst, got, mark);
        Assert.Equal(Tag.DUP, got[0] & 7);
        Assert.Equal(mark.Nodes, got[0] >> 3);
        Assert.Equal(Port.Pair(Num(5), Ref(9)), dst.NodeAt(got[0] >> 3));

        // The copy is independent of the source.
        src.SetNode(n, Era, Era);
        Assert.Equal(Port.Pair(Num(5), Ref(9)), dst.NodeAt(got[0] >> 3));
        heap.RegionExit(src);
        Assert.Equal(Port.Pair(Num(5), Ref(9)), dst.NodeAt(got[0] >> 3));
    }

    [Fact]
    public void OneWireBothEndsInOneNode()
    {
        using var heap = NewHeap();
        var src = heap.Create();
        var dst = heap.Create();
        uint v = src.AllocVar();
        uint n = src.AllocNode(Var(v), Var(v));
        uint[] got = MoveChecked(heap, src, dst, [Con(n)]);
        ulong copy = dst.NodeAt(got[0] >> 3);
        Assert.Equal(Tag.VAR, Port.Fst(copy) & 7);
        Assert.Equal(Port.Fst(copy), Port.Snd(copy));
        Assert.Equal(Port.NONE, dst.VarAt(Port.Fst(copy) >> 3));
        Assert.Equal(2u, dst.VarCount);
    }

    // 3. Sharing
    // ----------

    [Fact]
    public void DiamondMapsToOneBottomNode()
    {
        //      top
        //     /   \
        //  left   right
        //     \   /
        //     bottom
        using var heap = NewHeap();
        var src = heap.Create();
        var dst = heap.Create();
        Chain(src, 5); // unrelated nodes: they must not move
        uint bottom = src.AllocNode(Num(1), Era);
        uint left = src.AllocNode(Con(bottom), Num(2));
        uint right = src.AllocNode(Num(3), Dup(bottom));
        uint top = src.AllocNode(Con(left), Con(right));
        var mark = Mark.Of(dst);
        uint[] got = Transmigration.Transmigrate([Con(top)], src, dst);
        var map = CheckMove(src, [Con(top)], dst, got, mark);
        Assert.Equal(4u, dst.NodeCount - mark.Nodes);
        ulong l = dst.NodeAt(map.Nodes[left]), r = dst.NodeAt(map.Nodes[right]);
        Assert.Equal(Port.Fst(l) >> 3, Port.Snd(r) >> 3);
        heap.RegionExit(src);
    }

    [Fact]
    public void NodeReferencedTwiceIsCopiedOnce()
    {
        using var heap = NewHeap();
        var src = heap.Create();
        var dst = heap.Create();
        uint x = src.AllocNode(Num(7), Num(8));
        uint top = src.AllocNode(Con(x), Con(x));
        var mark = Mark.Of(dst);
        uint[] got = MoveChecked(heap, src, dst, [Con(top)]);
        Assert.Equal(2u, dst.NodeCount - mark.Nodes);
        ulong t = dst.NodeAt(got[0] >> 3);
        Assert.Equal(Port.Fst(t), Port.Snd(t));
    }

    // 4. Cycles
    // ---------

    [Fact]
    public void SelfLoopKeepsItsShape()
    {
        using var heap = NewHeap();
        var src = heap.Create();
        var dst = heap.Create();
        uint n = src.AllocNode(Era, Era);
        src.SetNode(n, Con(n), Num(1));
        uint[] got = MoveChecked(heap, src, dst, [Con(n)]);
        Assert.Equal(Port.Pair(got[0], Num(1)), dst.NodeAt(got[0] >> 3));
    }

    [Fact]
    public void TwoCycleKeepsItsShape()
    {
        using var heap = NewHeap();
        var src = heap.Create();
        var dst = heap.Create();
        uint a = src.AllocNode(Era, Era);
        uint b = src.AllocNode(Dup(a), Era);
        src.SetNode(a, Era, Dup(b));
        uint[] got = MoveChecked(heap, src, dst, [Dup(a)]);
        uint a2 = got[0] >> 3;
        uint b2 = Port.Snd(dst.NodeAt(a2)) >> 3;
        Assert.NotEqual(a2, b2);
        Assert.Equal(Dup(a2), Port.Fst(dst.NodeAt(b2)));
        Assert.Equal(3u, dst.NodeCount);
    }

    [Fact]
    public void RingOfHundredThousandKeepsItsShape()
    {
        const int n = 100_000;
        using var heap = NewHeap();
        var src = heap.Create();
        var dst = heap.Create();
        uint first = src.NodeCount;
        for (int i = 0; i < n; i++) src.AllocNode(Era, Num((uint)i));
        for (int i = 0; i < n; i++) src.SetNode(first + (uint)i, Con(first + (uint)((i + 1) % n)), Num((uint)i));
        uint start = first + 12_345;
        uint[] got = MoveChecked(heap, src, dst, [Con(start)]);
        Assert.Equal((uint)n + 1, dst.NodeCount);
        // Walking n steps from the new root visits every node once and comes back.
        uint at = got[0] >> 3;
        var seen = new HashSet<uint>();
        for (int i = 0; i < n; i++)
        {
            ulong node = dst.NodeAt(at);
            Assert.Equal(Num((uint)((12_345 + i) % n)), Port.Snd(node));
            Assert.True(seen.Add(at));
            at = Port.Fst(node) >> 3;
        }
        Assert.Equal(got[0] >> 3, at);
    }

    // 5. Depth
    // --------

    /// <summary>Runs `body` on a thread with a 256 KB stack: a recursive move would overflow it.</summary>
    private static void OnSmallStack(Action body)
    {
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try { body(); }
            catch (Exception e) { error = e; }
        }, 256 * 1024);
        thread.Start();
        thread.Join();
        if (error != null) throw new Xunit.Sdk.XunitException($"on the small stack: {error}");
    }

    [Fact]
    public void MillionNodeChainOnSmallStack()
    {
        OnSmallStack(() =>
        {
            using var heap = NewHeap();
            var src = heap.Create(1 << 20);
            var dst = heap.Create();
            uint root = Chain(src, 1_000_000);
            uint[] got = Transmigration.Transmigrate([root], src, dst);
            Assert.Equal(1_000_001u, dst.NodeCount);
            // Follow the copy to its end without recursion.
            uint p = got[0];
            int length = 0;
            for (uint expect = 999_999; (p & 7) == Tag.CON; expect--, length++)
            {
                ulong node = dst.NodeAt(p >> 3);
                Assert.Equal(Num(expect & 0xFFFFFF), Port.Fst(node));
                p = Port.Snd(node);
            }
            Assert.Equal(1_000_000, length);
            Assert.Equal(Era, p);
            heap.RegionExit(src);
        });
    }

    [Fact]
    public void MillionDeepNestedTreeOnSmallStack()
    {
        // Depth 10^6, every level a DUP whose fst is a small subtree and snd the next level:
        //   DUP(CON(#d, *), DUP(CON(#d-1, *), ... ))
        const int depth = 1_000_000;
        OnSmallStack(() =>
        {
            using var heap = NewHeap();
            var src = heap.Create(1 << 21, 1 << 10);
            var dst = heap.Create();
            uint next = Num(0);
            for (int d = 0; d < depth; d++)
            {
                uint leaf = src.AllocNode(Num((uint)d & 0xFFFFFF), Era);
                next = Dup(src.AllocNode(Con(leaf), next));
            }
            uint[] got = Transmigration.Transmigrate([next], src, dst);
            Assert.Equal(2u * depth + 1, dst.NodeCount);
            uint p = got[0];
            for (int d = depth - 1; d >= 0; d--)
            {
                Assert.Equal(Tag.DUP, p & 7);
                ulong level = dst.NodeAt(p >> 3);
                Assert.Equal(Num((uint)d & 0xFFFFFF), Port.Fst(dst.NodeAt(Port.Fst(level) >> 3)));
                p = Port.Snd(level);
            }
            Assert.Equal(Num(0), p);
            heap.RegionExit(src);
        });
    }

    // 6. Several roots
    // ----------------

    [Fact]
    public void SharingAcrossRootsIsKeptAndRedexPairsAreRemapped()
    {
        // root: CON(shared, #1); redexes: DUP(shared, a) ~ CON(b, a'), x ~ y where a, a' and x, y are wires.
        using var heap = NewHeap();
        var src = heap.Create();
        var dst = heap.Create();
        Chain(dst, 4);
        uint shared = src.AllocNode(Num(10), Num(11));
        uint root = src.AllocNode(Con(shared), Num(1));
        uint wa = src.AllocVar(), wx = src.AllocVar();
        uint r1a = src.AllocNode(Con(shared), Var(wa));
        uint r1b = src.AllocNode(Num(2), Var(wa));
        uint[] roots = [Con(root), Dup(r1a), Con(r1b), Var(wx), Var(wx)];
        var mark = Mark.Of(dst);
        var t = new Transmigrator();
        uint[] got = t.Transmigrate(roots, src, dst);
        var map = CheckMove(src, roots, dst, got, mark);
        Assert.Equal(4u, dst.NodeCount - mark.Nodes);
        Assert.Equal(2u, dst.VarCount - mark.Vars);
        // The redex pair is still a pair of the copies of its two ports.
        Assert.Equal(Dup(map.Nodes[r1a]), got[1]);
        Assert.Equal(Con(map.Nodes[r1b]), got[2]);
        Assert.Equal(got[3], got[4]);
        // The node shared by the root and a redex is one node.
        Assert.Equal(Port.Fst(dst.NodeAt(got[0] >> 3)), Port.Fst(dst.NodeAt(got[1] >> 3)));
        heap.RegionExit(src);
    }

    [Fact]
    public void RootsMayRepeat()
    {
        using var heap = NewHeap();
        var src = heap.Create();
        var dst = heap.Create();
        uint root = Chain(src, 3);
        uint[] got = MoveChecked(heap, src, dst, [root, root, Era, root]);
        Assert.Equal(got[0], got[1]);
        Assert.Equal(got[0], got[3]);
        Assert.Equal(4u, dst.NodeCount);
    }

    // 7. External ports
    // -----------------

    [Fact]
    public void ExternalPortsKeepTheirIdentity()
    {
        using var heap = NewHeap();
        var third = heap.Create();
        uint t1 = third.AllocNode(Num(1), Era);
        uint tv = third.AllocVar();
        var thirdBefore = Snap(third);
        var src = heap.Create();
        var dst = heap.Create();
        uint e1 = src.Import(new RegionPort(third.Id, Con(t1)));
        uint e2 = src.Import(new RegionPort(third.Id, Var(tv)));
        uint e1Again = src.Import(new RegionPort(third.Id, Con(t1))); // a second entry, same target
        uint n = src.AllocNode(e1, e2);
        uint m = src.AllocNode(Con(n), e1);           // the same entry used twice
        uint k = src.AllocNode(e1Again, Con(m));
        uint[] roots = [Con(k), e2];                  // an external port as a root too
        var mark = Mark.Of(dst);
        uint[] got = Transmigration.Transmigrate(roots, src, dst);
        var map = CheckMove(src, roots, dst, got, mark);

        ulong nn = dst.NodeAt(map.Nodes[n]), mm = dst.NodeAt(map.Nodes[m]), kk = dst.NodeAt(map.Nodes[k]);
        Assert.Equal(new RegionPort(third.Id, Con(t1)), dst.Resolve(Port.Fst(nn)));
        Assert.Equal(new RegionPort(third.Id, Var(tv)), dst.Resolve(Port.Snd(nn)));
        Assert.Equal(new RegionPort(third.Id, Var(tv)), dst.Resolve(got[1]));
        Assert.Equal(new RegionPort(third.Id, Con(t1)), dst.Resolve(Port.Fst(kk)));
        // Two uses of one source entry are two uses of one destination entry.
        Assert.Equal(Port.Fst(nn), Port.Snd(mm));
        Assert.Equal(Port.Snd(nn), got[1]);
        Assert.Equal(3u, dst.ExternalCount - mark.Externals);
        // The third region was not copied, not touched.
        Assert.Equal(4u, dst.NodeCount);
        heap.RegionExit(src);
        Snap(third).AssertSame(thirdBefore);
        Assert.Null(heap.FindClosureViolation());
    }

    [Fact]
    public void ExternalPortIntoTheDestinationBecomesLocal()
    {
        // A fragment whose wire leads into the main region: after the move both ends are in the main region.
        using var heap = NewHeap();
        var main = heap.Create();
        uint w = main.AllocVar();
        uint consumer = main.AllocNode(Var(w), Era);
        var frag = heap.Create();
        uint toMain = frag.Import(new RegionPort(main.Id, Var(w)));
        uint toNode = frag.Import(new RegionPort(main.Id, Dup(consumer)));
        uint answer = frag.AllocNode(Num(42), toMain);
        uint other = frag.AllocNode(toNode, Con(answer));
        uint[] got = MoveChecked(heap, frag, main, [Con(other), toMain]);
        ulong a = main.NodeAt(Port.Snd(main.NodeAt(got[0] >> 3)) >> 3);
        Assert.Equal(Var(w), Port.Snd(a));
        Assert.Equal(Dup(consumer), Port.Fst(main.NodeAt(got[0] >> 3)));
        Assert.Equal(Var(w), got[1]);
        Assert.Equal(0u, main.ExternalCount);
    }

    [Fact]
    public void ManyExternalPortsAreAllRewritten()
    {
        // More slots with external ports than the move logs at once (it stops and fixes them as it goes).
        using var heap = NewHeap();
        var third = heap.Create();
        var targets = new uint[50];
        for (int i = 0; i < targets.Length; i++) targets[i] = Con(third.AllocNode(Num((uint)i), Era));
        var src = heap.Create();
        var dst = heap.Create();
        var imports = targets.Select(p => src.Import(new RegionPort(third.Id, p))).ToArray();
        uint next = Era;
        for (int i = 0; i < 5000; i++)
        {
            uint w = src.AllocVar();
            src.SetVar(w, imports[(i * 7) % imports.Length]);
            next = Con(src.AllocNode(i % 3 == 0 ? Var(w) : imports[i % imports.Length], next));
        }
        uint[] got = MoveChecked(heap, src, dst, [next]);
        Assert.Equal(50u, dst.ExternalCount);
        Assert.Null(heap.FindClosureViolation());
        Assert.Equal(new RegionPort(third.Id, targets[4999 % 50]), dst.Resolve(Port.Fst(dst.NodeAt(got[0] >> 3))));
    }

    [Fact]
    public void ExternalPortsInVariablesThenInNodes()
    {
        // The scan meets 2,000 external ports in variable slots, then nodes full of them: the log must stop
        // the scan for a fix-up before a batch of nodes could overflow it.
        using var heap = NewHeap();
        var third = heap.Create();
        uint target = Con(third.AllocNode(Era, Era));
        var src = heap.Create();
        var dst = heap.Create();
        uint next = Era;
        for (int i = 0; i < 2300; i++)
        {
            uint w = src.AllocVar();
            uint e = src.Import(new RegionPort(third.Id, target));
            src.SetVar(w, i < 2000 ? e : Con(src.AllocNode(e, src.Import(new RegionPort(third.Id, Num((uint)i))))));
            next = Con(src.AllocNode(Var(w), next));
        }
        MoveChecked(heap, src, dst, [next]);
        Assert.Equal(2600u, dst.ExternalCount);
        Assert.Null(heap.FindClosureViolation());
    }

    // 9. No silent fallback
    // ---------------------

    [Theory]
    [InlineData(Tag.VAR)]
    [InlineData(Tag.REF)]
    [InlineData(Tag.ERA)]
    [InlineData(Tag.NUM)]
    [InlineData(Tag.CON)]
    [InlineData(Tag.DUP)]
    [InlineData(Tag.OPR)]
    [InlineData(Tag.SWI)]
    public void EveryKindHasAHandler(uint tag)
    {
        var handler = Transmigrator.HandlerOf(tag);
        Assert.NotEqual(Transmigrator.Handler.Unknown, handler);
        var expected = tag switch
        {
            Tag.VAR => Transmigrator.Handler.Var,
            Tag.REF => Transmigrator.Handler.Ref,
            Tag.ERA or Tag.NUM => Transmigrator.Handler.Leaf,
            _ => Transmigrator.Handler.Node,
        };
        Assert.Equal(expected, handler);
    }

    [Fact]
    public void EveryKindIsMoved()
    {
        using var heap = NewHeap();
        var third = heap.Create();
        var src = heap.Create();
        var dst = heap.Create();
        uint ext = src.Import(new RegionPort(third.Id, Num(1)));
        uint v = src.AllocVar();
        uint a = src.AllocNode(Var(v), Ref(3));
        uint b = src.AllocNode(Era, Num(4));
        uint c = src.AllocNode(ext, Var(v));
        uint d = src.AllocNode(Port.New(Tag.OPR, a), Port.New(Tag.SWI, b));
        uint e = src.AllocNode(Dup(c), Con(d));
        MoveChecked(heap, src, dst, [Con(e)]);
        Assert.Equal(6u, dst.NodeCount);
    }

    /// <summary>
    /// A graph in which the kind `tag` appears only deep inside, after a thousand levels of other kinds (nodes,
    /// wires, leaves) have been copied; its roots are the graph and then an external port, which the move
    /// enters into dst's table before it scans.
    /// </summary>
    private static uint[] GraphWithLateKind(Region src, Region third, uint tag)
    {
        uint chainTag = tag == Tag.CON ? Tag.DUP : Tag.CON;
        uint filler = tag == Tag.NUM ? Era : Num(1);
        uint next = tag switch
        {
            Tag.VAR => Var(src.AllocVar()),
            Tag.REF => Ref(5),
            Tag.ERA => Era,
            Tag.NUM => Num(6),
            _ => Port.New(tag, src.AllocNode(filler, filler)),
        };
        for (int i = 0; i < 1000; i++)
        {
            uint side = (i % 3) switch
            {
                0 => filler,
                1 when tag != Tag.VAR => Var(src.AllocVar()),
                _ => Port.New(chainTag, src.AllocNode(filler, filler)),
            };
            next = Port.New(chainTag, src.AllocNode(side, next));
        }
        uint ext = tag == Tag.REF ? filler : src.Import(new RegionPort(third.Id, Num(9)));
        return [next, ext];
    }

    [Theory]
    [InlineData(Tag.VAR, 0)]
    [InlineData(Tag.REF, 0)]
    [InlineData(Tag.ERA, 0)]
    [InlineData(Tag.NUM, 0)]
    [InlineData(Tag.CON, 0)]
    [InlineData(Tag.DUP, 0)]
    [InlineData(Tag.OPR, 0)]
    [InlineData(Tag.SWI, 0)]
    [InlineData(Tag.SWI, 0x5A)]
    [InlineData(Tag.DUP, 0xFF)]
    public void InjectedUnknownKindThrowsAndPublishesNothing(uint tag, byte handler)
    {
        using var heap = NewHeap();
        var third = heap.Create();
        var src = heap.Create();
        var dst = heap.Create();
        Chain(dst, 10);
        dst.Import(new RegionPort(third.Id, Num(3)));
        uint[] roots = GraphWithLateKind(src, third, tag);
        var srcBefore = Snap(src);
        var dstBefore = Snap(dst);
        ulong table = Transmigrator.WithHandler(Transmigrator.DefaultHandlers, tag, handler);

        // With the dense map and with the table (forced), and the same transmigrator twice: its scratch
        // must come back clean from a failed move.
        var t = new Transmigrator(table);
        foreach (uint minSlots in new[] { Transmigrator.DefaultDictionaryMinSlots, 0u, Transmigrator.DefaultDictionaryMinSlots })
        {
            t.DictionaryMinSlots = minSlots;
            var e = Assert.Throws<UnreachableException>(() => t.Transmigrate(roots, src, dst));
            Assert.Contains($"no handler for tag {tag}", e.Message);
            Snap(dst).AssertSame(dstBefore);
            Snap(src).AssertSame(srcBefore);
        }

        // A graph without the unknown kind still moves, and correctly.
        var other = heap.Create();
        uint filler = tag == Tag.NUM ? Era : Num(1);
        uint chainTag = tag == Tag.CON ? Tag.DUP : Tag.CON;
        uint ok = Port.New(chainTag, other.AllocNode(filler, Port.New(chainTag, other.AllocNode(filler, filler))));
        var mark = Mark.Of(dst);
        uint[] got = t.Transmigrate([ok], other, dst);
        CheckMove(other, [ok], dst, got, mark);
        heap.RegionExit(other);
        heap.RegionExit(src);
    }

    [Fact]
    public void MalformedPortsThrowAndPublishNothing()
    {
        using var heap = NewHeap();
        var src = heap.Create();
        var dst = heap.Create();
        Chain(dst, 3);
        uint good = Chain(src, 100);
        uint bad = src.AllocNode(Con(9999), Era);         // a node index the region never handed out
        uint badVar = src.AllocNode(Var(777), Era);       // a variable it never handed out
        uint badExt = src.AllocNode(External.New(5), Era); // an external entry it does not have
        uint zero = src.AllocNode(Con(0), Era);           // node 0 is reserved
        var dstBefore = Snap(dst);
        foreach (uint b in new[] { bad, badVar, badExt, zero })
        {
            uint root = Con(src.AllocNode(good, Con(b)));
            var e = Assert.Throws<RegionFault>(() => Transmigration.Transmigrate([root], src, dst));
            Assert.Equal(src.Id, e.Region);
            Snap(dst).AssertSame(dstBefore);
        }
        heap.RegionExit(src);
    }

    [Fact]
    public void ExternalIntoExitedRegionThrowsAndPublishesNothing()
    {
        using var heap = NewHeap();
        heap.VerifyClosure = false; // the point is to build the broken state the verifier would reject
        var gone = heap.Create();
        uint target = gone.AllocNode(Era, Era);
        var src = heap.Create();
        var dst = heap.Create();
        var third = heap.Create();
        uint fine = src.Import(new RegionPort(third.Id, Num(1)));
        uint stale = src.Import(new RegionPort(gone.Id, Con(target)));
        heap.RegionExit(gone);
        uint root = Con(src.AllocNode(fine, Con(src.AllocNode(stale, Era))));
        var dstBefore = Snap(dst);
        var e = Assert.Throws<RegionFault>(() => Transmigration.Transmigrate([fine, root], src, dst));
        Assert.Equal(gone.Id, e.Region);
        Assert.Contains("exited", e.Message);
        Snap(dst).AssertSame(dstBefore);
    }

    [Fact]
    public void ArgumentsAreChecked()
    {
        using var heap = NewHeap();
        using var other = NewHeap();
        var a = heap.Create();
        var b = heap.Create();
        var c = other.Create();
        Assert.Throws<ArgumentException>(() => Transmigration.Transmigrate([Era], a, a));
        Assert.Throws<ArgumentException>(() => Transmigration.Transmigrate([Era], a, c));
        Assert.Throws<ArgumentException>(() => Transmigration.Transmigrate([Era, Era], a, b, new uint[1]));
        heap.RegionExit(b);
        Assert.Throws<RegionFault>(() => Transmigration.Transmigrate([Era], a, b));
    }

    // Forwarding maps
    // ---------------

    [Fact]
    public void HugeSourceTinyReachUsesTheTable()
    {
        using var heap = NewHeap();
        var src = heap.Create(1 << 17);
        var dst = heap.Create();
        Chain(src, 100_000);
        uint small = Chain(src, 10);
        var t = new Transmigrator();
        var mark = Mark.Of(dst);
        uint[] got = t.Transmigrate([small], src, dst);
        CheckMove(src, [small], dst, got, mark);
        Assert.Equal(ForwardMode.Dictionary, t.Last.Mode);
        Assert.Equal(10u, t.Last.Nodes);
    }

    [Fact]
    public void HugeSourceLargeReachSwitchesToDense()
    {
        using var heap = NewHeap();
        var src = heap.Create(1 << 17);
        var dst = heap.Create();
        uint big = Chain(src, 100_000);
        var t = new Transmigrator();
        var mark = Mark.Of(dst);
        uint[] got = t.Transmigrate([big], src, dst);
        CheckMove(src, [big], dst, got, mark);
        Assert.Equal(ForwardMode.Promoted, t.Last.Mode);
        // Promoted at the documented switch point: one slot in PromoteDivisor of the source.
        uint slots = src.NodeCount + src.VarCount;
        Assert.Equal(slots / Transmigrator.DefaultPromoteDivisor, t.Last.PromotedAt);
    }

    [Fact]
    public void SmallSourceUsesDenseMaps()
    {
        using var heap = NewHeap();
        var src = heap.Create();
        var dst = heap.Create();
        uint r = Chain(src, (int)Transmigrator.DefaultDictionaryMinSlots - 10);
        var t = new Transmigrator();
        t.Transmigrate([r], src, dst);
        Assert.Equal(ForwardMode.Dense, t.Last.Mode);
    }

    [Fact]
    public void TransmigratorIsReusableAcrossSourcesOfDifferentSizes()
    {
        // Scratch maps must be all zero between moves, whatever size the last source had.
        using var heap = NewHeap();
        var t = new Transmigrator { DictionaryMinSlots = 0, PromoteDivisor = 4 };
        var dst = heap.Create();
        foreach (int size in new[] { 50, 5000, 20, 3000, 1, 700 })
        {
            var src = heap.Create();
            uint r = Chain(src, size);
            var mark = Mark.Of(dst);
            uint[] got = t.Transmigrate([r, r], src, dst);
            CheckMove(src, [r, r], dst, got, mark);
            heap.RegionExit(src);
        }
    }
}
