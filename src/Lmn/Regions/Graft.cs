using Lmn.Hvm;
using Lmn.Net;

namespace Lmn.Regions;

/// <summary>
/// The one way a graph enters a running net: the graph is built in a fragment region and transmigrated by
/// the <see cref="Transmigrator"/> into a run of slots the net's allocator lends (<see cref="IBumpAllocator"/>,
/// <see cref="RegionHeap.Lend"/>), so what `lmn bench transmigrate` measures is what grafts answers. The
/// fragment is consumed (nothing is written into it); the caller exits it.
/// </summary>
public static class Graft
{
    [ThreadStatic] private static Transmigrator? t_mover;

    /// <summary>
    /// Moves the graph reachable from <paramref name="roots"/> in <paramref name="fragment"/> into the net and
    /// returns the roots' new ports. Sharing and cycles are kept and both ends of a wire stay one wire. The
    /// fragment must be closed: a port into another region is a fault.
    /// </summary>
    public static uint[] Into(IBumpAllocator net, Region fragment, ReadOnlySpan<uint> roots)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(fragment);
        // Each source slot is copied at most once; the slack covers the roots and the table's growth checks.
        var run = net.LendRun(fragment.NodeCount + 4, fragment.VarCount + 4 + (uint)roots.Length);
        var main = fragment.Heap.Lend(run);
        uint nodeEnd = run.NodeStart, varEnd = run.VarStart;
        try
        {
            var result = (t_mover ??= new Transmigrator()).Transmigrate(roots, fragment, main);
            if (main.ExternalCount != 0)
                throw new EngineFault("a fragment holds a port into another region; answers must be closed terms");
            nodeEnd = main.NodeCount;
            varEnd = main.VarCount;
            return result;
        }
        finally
        {
            fragment.Heap.GiveBack(main);
            net.ReturnRun(run, nodeEnd, varEnd);
        }
    }

    extension(INetRunner net)
    {
        /// <summary>
        /// Builds a text tree into the net and returns its root port: the tree is built in a fragment region and
        /// grafted (<see cref="Into"/>). Variables of the tree are wires by name; references resolve by name.
        /// </summary>
        public uint Inject(Tree tree)
        {
            using var heap = new RegionHeap();
            var fragment = heap.Create(64, 16);
            uint root = Fragments.Build(fragment, tree, net.Book.Fids);
            uint port = Into(net, fragment, [root])[0];
            heap.RegionExit(fragment);
            return port;
        }
    }
}
