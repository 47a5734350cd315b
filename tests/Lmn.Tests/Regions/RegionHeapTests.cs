using Lmn.Net;
using Lmn.Regions;
using Xunit;
using static Lmn.Tests.Regions.RegionGraphs;

namespace Lmn.Tests.Regions;

/// <summary>8. The heap: region lifetimes, RegionExit and the closure verifier.</summary>
public sealed class RegionHeapTests
{
    [Fact]
    public void VerifierPassesAfterACorrectMove()
    {
        using var heap = NewHeap();
        var main = heap.Create();
        var third = heap.Create();
        uint w = main.AllocVar();
        var frag = heap.Create();
        uint into = frag.Import(new RegionPort(main.Id, Var(w)));
        uint other = frag.Import(new RegionPort(third.Id, Num(1)));
        uint root = Con(frag.AllocNode(into, Con(frag.AllocNode(other, Chain(frag, 100)))));
        uint[] got = Transmigration.Transmigrate([root], frag, main);
        heap.RegionExit(frag); // verifies: must not throw
        Assert.False(frag.IsLive);
        Assert.Null(heap.FindClosureViolation());
        Assert.Equal([main, third], heap.Live);
        Assert.Equal(Var(w), Port.Fst(main.NodeAt(got[0] >> 3)));
    }

    [Fact]
    public void VerifierDetectsAPlantedNodePortIntoTheExitedRegion()
    {
        using var heap = NewHeap();
        var src = heap.Create();
        var dst = heap.Create();
        uint root = Chain(src, 10);
        uint[] got = Transmigration.Transmigrate([root], src, dst);
        // Plant a pointer back into src in the copy.
        uint back = dst.Import(new RegionPort(src.Id, root));
        uint node = got[0] >> 3;
        dst.SetNode(node, Port.Fst(dst.NodeAt(node)), back);
        var e = Assert.Throws<RegionFault>(() => heap.RegionExit(src));
        Assert.Equal(src.Id, e.Region);
        Assert.Contains($"region {dst.Id} node {node} snd", e.Message);
        Assert.Contains($"points into region {src.Id}", e.Message);
        // The region is gone all the same; the verifier keeps reporting the dangling port.
        Assert.False(src.IsLive);
        var v = heap.FindClosureViolation();
        Assert.NotNull(v);
        Assert.Equal(dst.Id, v.Value.Region);
        Assert.Equal(back, v.Value.Port);
        Assert.Contains("has exited", v.Value.Problem);
    }

    [Fact]
    public void VerifierDetectsAPlantedVariablePortIntoTheExitedRegion()
    {
        using var heap = NewHeap();
        var src = heap.Create();
        var dst = heap.Create();
        var bystander = heap.Create();
        Chain(bystander, 3);
        uint v = src.AllocVar();
        uint root = Con(src.AllocNode(Var(v), Var(v)));
        uint[] got = Transmigration.Transmigrate([root], src, dst);
        uint dv = Port.Fst(dst.NodeAt(got[0] >> 3)) >> 3;
        dst.SetVar(dv, dst.Import(new RegionPort(src.Id, Var(v))));
        var e = Assert.Throws<RegionFault>(() => heap.RegionExit(src));
        Assert.Contains($"region {dst.Id} var {dv}", e.Message);
    }

    [Fact]
    public void VerifierCanBeOffAndAskedLater()
    {
        using var heap = NewHeap();
        heap.VerifyClosure = false;
        var src = heap.Create();
        var dst = heap.Create();
        uint n = dst.AllocNode(dst.Import(new RegionPort(src.Id, Chain(src, 2))), Era);
        heap.RegionExit(src); // not verified
        var v = heap.FindClosureViolation();
        Assert.NotNull(v);
        Assert.Equal($"node {n} fst", v.Value.Site);
    }

    [Fact]
    public void VerifierDetectsDanglingLocalPorts()
    {
        using var heap = NewHeap();
        var r = heap.Create();
        Chain(r, 3);
        Assert.Null(heap.FindClosureViolation());
        uint n = r.AllocNode(Con(99), Era);
        Assert.Contains("node 99 is not allocated", heap.FindClosureViolation()!.Value.Problem);
        r.SetNode(n, Var(50), Era);
        Assert.Contains("variable 50 is not allocated", heap.FindClosureViolation()!.Value.Problem);
        r.SetNode(n, External.New(3), Era);
        Assert.Contains("external #3 is not in the table", heap.FindClosureViolation()!.Value.Problem);
        r.SetNode(n, Era, Era);
        Assert.Null(heap.FindClosureViolation());
    }

    [Fact]
    public void ResetOfAReferencedRegionIsRejected()
    {
        using var heap = NewHeap();
        var a = heap.Create();
        var b = heap.Create();
        uint target = Chain(a, 2);
        b.AllocNode(b.Import(new RegionPort(a.Id, target)), Era);
        var e = Assert.Throws<RegionFault>(() => a.Reset());
        Assert.Contains("still referenced", e.Message);
        Assert.Equal(3u, a.NodeCount);
        b.Reset();
        a.Reset();
        Assert.Equal(1u, a.NodeCount);
    }

    [Fact]
    public void IdsAreNeverReused()
    {
        using var heap = NewHeap();
        var a = heap.Create();
        var b = heap.Create();
        heap.RegionExit(a);
        var c = heap.Create();
        Assert.NotEqual(a.Id, c.Id);
        Assert.NotEqual(b.Id, c.Id);
        Assert.Null(heap.Find(a.Id));
        Assert.Same(c, heap.Find(c.Id));
        Assert.Same(b, heap.Find(b.Id));
    }

    [Fact]
    public void ExitedRegionsRefuseUse()
    {
        using var heap = NewHeap();
        var a = heap.Create();
        var b = heap.Create();
        heap.RegionExit(a);
        Assert.Throws<RegionFault>(() => heap.RegionExit(a));
        Assert.Throws<RegionFault>(() => a.AllocNode(Era, Era));
        Assert.Throws<RegionFault>(() => a.AllocVar());
        Assert.Throws<RegionFault>(() => a.Reset());
        Assert.Throws<RegionFault>(() => b.Import(new RegionPort(a.Id, Era)));
        a.Dispose(); // no-op once exited
        using var other = NewHeap();
        Assert.Throws<ArgumentException>(() => other.RegionExit(b));
    }

    [Fact]
    public void DisposeIsRegionExit()
    {
        using var heap = NewHeap();
        var a = heap.Create();
        using (var b = heap.Create()) Chain(b, 4);
        Assert.Equal([a], heap.Live);
    }
}
