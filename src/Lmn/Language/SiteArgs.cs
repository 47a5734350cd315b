using Lmn.Hvm;
using Lmn.Net;

namespace Lmn.Language;

/// <summary>
/// The layout of an oracle site's argument subnet, defined here once: `(candidates anchors)`, a pair whose
/// first is the list of candidates and whose second is the list of anchored values (`#@name value` data).
/// The compiler lays it out (<see cref="Core"/>), an answer's nested question is built with it
/// (<see cref="Tree(Hvm.Tree, Hvm.Tree)"/>), and the supervisor takes it apart (<see cref="Split"/>).
/// </summary>
public static class SiteArgs
{
    /// <summary>The arguments as core code: the compiler's `@amb.N (cands anchors)`.</summary>
    public static Core Core(Core candidates, Core anchors) => new CPair(candidates, anchors);

    /// <summary>The arguments as a text tree (a fragment's nested question).</summary>
    public static Tree Tree(Tree candidates, Tree anchors) => Hvm.Tree.Node(TreeKind.Con, candidates, anchors);

    /// <summary>The candidates' and the anchors' ports of a parked site's arguments (ERA, ERA if not yet a pair).</summary>
    public static (uint Candidates, uint Anchors) Split(INetRunner net, uint args)
    {
        uint p = net.Peek(args);
        if (Port.TagOf(p) != Tag.CON) return (Tag.ERA, Tag.ERA);
        ulong n = net.NodeAt(p >> 3);
        return ((uint)n, (uint)(n >> 32));
    }
}
