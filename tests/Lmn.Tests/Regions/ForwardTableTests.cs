using Lmn.Regions;
using Xunit;

namespace Lmn.Tests.Regions;

/// <summary>The sparse forwarding map.</summary>
public sealed class ForwardTableTests
{
    [Fact]
    public void AgreesWithADictionary()
    {
        var t = new ForwardTable();
        var reference = new Dictionary<uint, uint>();
        var rng = new Random(7);
        for (int i = 0; i < 50_000; i++)
        {
            uint key = (uint)rng.Next(1 << 30);
            if (reference.ContainsKey(key)) continue;
            uint value = (uint)rng.Next(1, int.MaxValue);
            reference[key] = value;
            t.Add(key, value);
        }
        Assert.Equal((uint)reference.Count, t.Count);
        Assert.True(t.Capacity >= 2 * reference.Count);
        foreach (var (k, v) in reference) Assert.Equal(v, t.Get(k));
        for (int i = 0; i < 1000; i++)
        {
            uint key = (uint)rng.Next(1 << 30);
            Assert.Equal(reference.GetValueOrDefault(key), t.Get(key));
        }
        var seen = new Dictionary<uint, uint>();
        foreach (var (k, v) in t) seen.Add(k, v);
        Assert.Equal(reference.OrderBy(p => p.Key), seen.OrderBy(p => p.Key));
    }

    [Fact]
    public void ClearKeepsTheCapacity()
    {
        var t = new ForwardTable();
        for (uint k = 0; k < 1000; k++) t.Add(k * 2 + 1, k + 1);
        int cap = t.Capacity;
        t.Clear();
        Assert.Equal(0u, t.Count);
        Assert.Equal(cap, t.Capacity);
        Assert.Equal(0u, t.Get(1));
        t.Add(1, 5);
        Assert.Equal(5u, t.Get(1));
    }

    [Fact]
    public void KeyZeroIsAnOrdinaryKey()
    {
        var t = new ForwardTable();
        Assert.Equal(0u, t.Get(0));
        t.Add(0, 9);
        Assert.Equal(9u, t.Get(0));
    }
}
