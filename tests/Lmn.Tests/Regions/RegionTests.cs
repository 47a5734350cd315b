using Lmn.Net;
using Lmn.Regions;
using Xunit;
using static Lmn.Tests.Regions.RegionGraphs;

namespace Lmn.Tests.Regions;

/// <summary>The region arena: allocation, growth, slots, external ports, reset.</summary>
public sealed class RegionTests
{
    [Fact]
    public void AllocatesPastItsInitialCapacity()
    {
        using var heap = NewHeap();
        var r = heap.Create(nodeCapacity: 16, varCapacity: 16);
        for (uint i = 1; i <= 10_000; i++)
        {
            Assert.Equal(i, r.AllocNode(Num(i), Port.New(Tag.VAR, i)));
            Assert.Equal(i, r.AllocVar());
        }
        for (uint i = 1; i <= 10_000; i++)
        {
            Assert.Equal(Port.Pair(Num(i), Port.New(Tag.VAR, i)), r.NodeAt(i));
            Assert.Equal(Port.NONE, r.VarAt(i));
        }
        Assert.Equal(10_001u, r.NodeCount);
        Assert.Equal(10_001u, r.VarCount);
    }

    [Fact]
    public void SlotZeroIsReservedAndTheRootVariableIsUnset()
    {
        using var heap = NewHeap();
        var r = heap.Create();
        Assert.Equal(1u, r.NodeCount);
        Assert.Equal(1u, r.VarCount);
        Assert.Equal(Port.NONE, r.VarAt(Port.RootVar));
        Assert.Throws<ArgumentOutOfRangeException>(() => r.NodeAt(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => r.NodeAt(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => r.VarAt(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => r.SetNode(1, Era, Era));
    }

    [Fact]
    public void ResetEmptiesAndKeepsWorking()
    {
        using var heap = NewHeap();
        var r = heap.Create();
        var other = heap.Create();
        Chain(r, 100);
        r.SetVar(0, Num(1));
        r.Import(new RegionPort(other.Id, Era));
        r.Reset();
        Assert.Equal(1u, r.NodeCount);
        Assert.Equal(1u, r.VarCount);
        Assert.Equal(0u, r.ExternalCount);
        Assert.Equal(Port.NONE, r.VarAt(0));
        Assert.Equal(1u, r.AllocNode(Era, Era));
    }

    [Fact]
    public void ImportsNameAnotherLiveRegionsPort()
    {
        using var heap = NewHeap();
        var a = heap.Create();
        var b = heap.Create();
        uint n = b.AllocNode(Era, Era);
        uint e = a.Import(new RegionPort(b.Id, Dup(n)));
        Assert.True(External.Is(e));
        Assert.Equal(Tag.REF, e & 7);
        Assert.Equal(0u, External.IndexOf(e));
        Assert.Equal(new RegionPort(b.Id, Dup(n)), a.ExternalAt(e));
        Assert.Equal(new RegionPort(b.Id, Dup(n)), a.Resolve(e));
        Assert.Equal(new RegionPort(a.Id, Num(3)), a.Resolve(Num(3)));
        Assert.True(a.IsValidLocal(e));
        Assert.False(a.IsValidLocal(External.New(1)));

        Assert.Throws<ArgumentException>(() => a.Import(new RegionPort(a.Id, Era)));
        Assert.Throws<ArgumentException>(() => a.Import(new RegionPort(b.Id, Con(2))));
        Assert.Throws<RegionFault>(() => a.Import(new RegionPort(99, Era)));
        Assert.Throws<ArgumentException>(() => a.ExternalAt(Ref(1)));
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(1u)]
    [InlineData(0x0FFF_FFFu)]
    public void OrdinaryReferencesAreNotExternal(uint fid)
    {
        Assert.False(External.Is(Ref(fid)));
        Assert.False(External.Is(Ref(fid | 0x1000_0000))); // HVM2's par mark
        Assert.False(External.Is(Num(External.Flag)));
        Assert.True(External.Is(External.New(fid & External.MaxIndex)));
    }
}
