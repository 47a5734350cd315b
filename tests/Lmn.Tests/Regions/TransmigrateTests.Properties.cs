using Lmn.Regions;
using Xunit;
using static Lmn.Tests.Regions.RegionGraphs;

namespace Lmn.Tests.Regions;

/// <summary>10. Seeded property tests: random graphs, every forwarding mode, the same answer.</summary>
public sealed partial class TransmigrateTests
{
    /// <summary>The sizes of the random graphs: the edges of the range, then a seeded spread over it.</summary>
    public static TheoryData<int, int> RandomCases()
    {
        var data = new TheoryData<int, int>();
        int[] fixedSizes = [0, 1, 2, 3, 20_000];
        for (int i = 0; i < fixedSizes.Length; i++) data.Add(1000 + i, fixedSizes[i]);
        var rng = new Random(0x6f25);
        for (int i = 0; i < 40; i++)
        {
            // Log-uniform over 1..20,000: many small graphs, some large ones.
            int size = (int)Math.Round(Math.Exp(rng.NextDouble() * Math.Log(20_000)));
            data.Add(2000 + i, Math.Clamp(size, 0, 20_000));
        }
        return data;
    }

    /// <summary>One random graph, moved under one forwarding setting into a fresh copy of the same destination.</summary>
    private sealed record Run(uint[] NewRoots, Region Dst, TransmigrateStats Stats);

    [Theory]
    [MemberData(nameof(RandomCases))]
    public void RandomGraphsMoveTheSameWayInEveryMode(int seed, int size)
    {
        using var heap = NewHeap();
        var thirds = new[] { heap.Create(), heap.Create() };
        foreach (var t3 in thirds)
        {
            Chain(t3, 5);
            for (int i = 0; i < 5; i++) t3.AllocVar();
        }

        // Several destinations with the same prior content, so that every mode starts from the same state.
        const int modes = 8;
        var dsts = new Region[modes];
        for (int i = 0; i < modes; i++)
        {
            dsts[i] = heap.Create();
            Chain(dsts[i], 7);
            dsts[i].AllocVar();
        }
        var src = heap.Create();
        var rng = new Random(seed);
        // The generator imports from dsts[0]; the other destinations hold the same ports, so the same
        // entries are rewritten to point at each of them before their move.
        uint[] roots = RandomGraph(rng, src, dsts[0], thirds, size);
        var srcBefore = Snap(src);
        var thirdsBefore = thirds.Select(Snap).ToArray();

        var runs = new List<Run>();
        uint importsInto = dsts[0].Id;
        Run Move(int k, Action<Transmigrator> setup)
        {
            var dst = dsts[k];
            RetargetImports(src, importsInto, dst.Id);
            importsInto = dst.Id;
            var t = new Transmigrator();
            setup(t);
            var mark = Mark.Of(dst);
            uint[] got = t.Transmigrate(roots, src, dst);
            CheckMove(src, roots, dst, got, mark);
            Snap(src).AssertSame(RetargetSnapshot(srcBefore, dsts[0].Id, dst.Id));
            var run = new Run(got, dst, t.Last);
            runs.Add(run);
            return run;
        }

        var dense = Move(0, t => t.DictionaryMinSlots = uint.MaxValue);
        Assert.Equal(ForwardMode.Dense, dense.Stats.Mode);
        Assert.Equal((uint)size, dense.Stats.Nodes); // the generator makes every node reachable
        var table = Move(1, t => { t.DictionaryMinSlots = 0; t.PromoteDivisor = 0; });
        Assert.Equal(ForwardMode.Dictionary, table.Stats.Mode);
        Move(2, t => { }); // the defaults, whatever they choose for this size

        // The switch forced around its threshold: the number of slots the move copies.
        uint reach = dense.Stats.Nodes + dense.Stats.Vars;
        uint[] limits = [1, Math.Max(1, reach / 2), Math.Max(1, reach - 1), Math.Max(1, reach), reach + 1];
        for (int i = 0; i < limits.Length; i++)
        {
            uint limit = limits[i];
            var r = Move(3 + i, t => { t.DictionaryMinSlots = 0; t.PromoteAfter = limit; });
            if (limit > reach) Assert.Equal(ForwardMode.Dictionary, r.Stats.Mode);
            if (limit < reach) Assert.Equal(ForwardMode.Promoted, r.Stats.Mode);
        }

        // Every mode gives an isomorphic graph (in fact the same slots, since the scan order decides them).
        foreach (var r in runs)
        {
            Assert.Equal(dense.Stats.Nodes, r.Stats.Nodes);
            Assert.Equal(dense.Stats.Vars, r.Stats.Vars);
            Assert.Equal(dense.Stats.Externals, r.Stats.Externals);
            AssertIsomorphicAcross(dense, r);
        }

        heap.RegionExit(src);
        for (int i = 0; i < thirds.Length; i++) Snap(thirds[i]).AssertSame(thirdsBefore[i]);
        Assert.Null(heap.FindClosureViolation());
    }

    /// <summary>Isomorphism of two moves into different destinations: the same up to which destination a port into it names.</summary>
    private static void AssertIsomorphicAcross(Run a, Run b)
    {
        if (a.Dst == b.Dst) return;
        // Ports the move resolved into its own destination are plain local ports there; both destinations
        // have the same prior content, so those ports are equal bit for bit, as everything else must be.
        Assert.Equal(a.NewRoots, b.NewRoots);
        var sa = Snap(a.Dst);
        var sb = Snap(b.Dst);
        Assert.Equal(sa.Nodes, sb.Nodes);
        Assert.Equal(sa.Vars, sb.Vars);
        Assert.Equal(sa.Externals, sb.Externals);
        AssertIsomorphic(a.Dst, a.NewRoots, b.Dst, b.NewRoots);
    }

    /// <summary>Points every import of `src` from region `from` at region `to` instead (same port).</summary>
    private static void RetargetImports(Region src, uint from, uint to)
    {
        if (from == to) return;
        for (uint k = 0; k < src.ExternalCount; k++)
        {
            var e = src.ExternalAt(External.New(k));
            if (e.Region == from) src.Ext[k] = ((ulong)to << 32) | e.Port;
        }
    }

    private static Snapshot RetargetSnapshot(Snapshot s, uint from, uint to) =>
        s with { Externals = s.Externals.Select(e => e.Region == from ? e with { Region = to } : e).ToArray() };
}
