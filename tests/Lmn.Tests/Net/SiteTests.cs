using Lmn.Hvm;
using Lmn.Net;
using Lmn.Regions;

namespace Lmn.Tests.Net;

/// <summary>Oracle sites at the engine level: parked, never expanded, grafted between rounds.</summary>
public class SiteTests
{
    private static Book BookWithSite(string hvm, params string[] sites)
    {
        var book = Book.FromHvm(HvmParser.Parse("sites.hvm", hvm));
        for (int i = 0; i < sites.Length; i++) book.Defs[book.Fids[sites[i]]].SiteId = i;
        return book;
    }

    private static INetRunner Make(Book book, int threads) =>
        threads == 1 ? new Lmn.Net.Engine(book, 1L << 26) : new ParallelEngine(book, threads, 1L << 26);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void AppliedSiteIsParkedThenGrafted(int threads)
    {
        using var net = Make(BookWithSite("@main = r & @site ~ (5 r)\n@site = *", "site"), threads);
        net.Run();
        var parked = net.TakeParked();
        var p = Assert.Single(parked);
        Assert.Equal(0, p.SiteId);
        Assert.Equal("5", net.ReadBack(p.Args).Show());
        Assert.Equal(1, net.Interactions); // the boot CALL only: parking is not an interaction
        net.LinkPorts(net.Inject(Tree.Num(Numb.NewU24(42))), p.Out);
        net.Erase(p.Args);
        net.Normalize();
        Assert.Equal("42", net.ReadBack(net.RootPort).Show());
        Assert.Empty(net.TakeParked());
    }

    [Fact]
    public void DroppedSiteShowsAnErasedOut()
    {
        using var net = Make(BookWithSite("@main = 7 & @site ~ (5 *)\n@site = *", "site"), 1);
        net.Run();
        var p = Assert.Single(net.TakeParked());
        Assert.Equal(Tag.ERA, net.Peek(p.Out));
        Assert.Equal("7", net.ReadBack(net.RootPort).Show());
    }

    [Fact]
    public void UntakenBranchParksNothing()
    {
        using var net = Make(BookWithSite("@main = r & 0 ~ ?((7 @ask) r)\n@ask = (p r) & @site ~ (p r)\n@site = *", "site"), 1);
        net.Run();
        Assert.Empty(net.TakeParked());
        Assert.Equal("7", net.ReadBack(net.RootPort).Show());
    }

    [Fact]
    public void DuplicatedSiteIsCopiedNotExpanded()
    {
        using var net = Make(BookWithSite("@main = (a b) & @site ~ {a b}\n@site = *", "site"), 1);
        net.Run();
        Assert.Empty(net.TakeParked());
        Assert.Equal("(@site @site)", net.ReadBack(net.RootPort).Show());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(8)]
    public void ManySitesAcrossThreads(int threads)
    {
        // 256 leaves each ask the site about their depth-first index; answers are index + 1.
        const string src = """
            @main = r & @t ~ (8 (0 r))
            @t = (?(((x r) @t_s) (i r)) (i r))
            @leaf = (x r) & @site ~ (x r)
            @t_s = ({a b} ({$([*2] i0) $([*2] $([+1] i1))} r)) & @t ~ (a (i0 x)) & @t ~ (b (i1 y)) & [+] ~ $(x $(y r))
            @site = *
            """;
        // Leaf: d == 0 hands (x r) the index; the site answers for it.
        string prog = src.Replace("@t = (?(((x r) @t_s) (i r)) (i r))", "@t = (?((@leaf @t_s) r) r)");
        using var net = Make(BookWithSite(prog, "site"), threads);
        net.Run();
        var parked = net.TakeParked();
        Assert.Equal(256, parked.Count);
        foreach (var p in parked)
        {
            uint index = Numb.GetU24(Port.ValOf(net.Peek(p.Args)));
            net.LinkPorts(net.Inject(Tree.Num(Numb.NewU24(index + 1))), p.Out);
        }
        net.Normalize();
        Assert.Equal((256 * 257 / 2).ToString(), net.ReadBack(net.RootPort).Show());
    }
}

/// <summary>Answers move from a fragment region into the main net: sharing and wires kept, fragment untouched.</summary>
public class GraftTests
{
    [Fact]
    public void SharingAndWiresSurviveTheMove()
    {
        var book = Book.FromHvm(HvmParser.Parse("a.hvm", "@main = *"));
        using var net = new Lmn.Net.Engine(book, 1L << 24);
        using var heap = new Lmn.Regions.RegionHeap { VerifyClosure = true };
        var frag = heap.Create();
        uint shared = Port.New(Tag.CON, frag.AllocNode(Port.New(Tag.NUM, Numb.NewU24(1)), Port.New(Tag.NUM, Numb.NewU24(2))));
        uint v = frag.AllocVar();
        uint root = Port.New(Tag.CON, frag.AllocNode(shared, Port.New(Tag.CON, frag.AllocNode(shared, Port.New(Tag.CON, frag.AllocNode(Port.New(Tag.VAR, v), Port.New(Tag.VAR, v)))))));
        ulong before = frag.NodeAt(Port.ValOf(root));
        uint moved = Lmn.Regions.Graft.Into(net, frag, [root])[0];
        Assert.Equal(before, frag.NodeAt(Port.ValOf(root)));
        heap.RegionExit(frag);
        ulong top = net.NodeAt(Port.ValOf(moved));
        ulong second = net.NodeAt(Port.ValOf(Port.Snd(top)));
        Assert.Equal(Port.Fst(top), Port.Fst(second)); // the shared node is one node
        ulong wire = net.NodeAt(Port.ValOf(Port.Snd(second)));
        Assert.Equal(Port.Fst(wire), Port.Snd(wire)); // both ends of the wire are one variable
        Assert.Equal("((1 2) ((1 2) (v0 v0)))", net.ReadBack(moved).Show());
    }

    [Fact]
    public void AFragmentWithAPortIntoAnotherRegionIsRefusedAndTheNetKeepsItsSlots()
    {
        var book = Book.FromHvm(HvmParser.Parse("a.hvm", "@main = *"));
        using var net = new Lmn.Net.Engine(book, 1L << 24);
        using var heap = new Lmn.Regions.RegionHeap { VerifyClosure = false };
        var other = heap.Create();
        uint target = Port.New(Tag.CON, other.AllocNode(Port.Eraser, Port.Eraser));
        var frag = heap.Create();
        uint ext = frag.Import(new Lmn.Regions.RegionPort(other.Id, target));
        uint root = Port.New(Tag.CON, frag.AllocNode(ext, Port.Eraser));
        long before = net.PeakBytes;
        var e = Assert.Throws<EngineFault>(() => Lmn.Regions.Graft.Into(net, frag, [root]));
        Assert.Contains("answers must be closed terms", e.Message);
        Assert.Equal(before, net.PeakBytes); // the lent run went back unused
    }

    [Fact]
    public void GraftsInTheSteppingNetTooAndCountNoInteraction()
    {
        var book = Book.FromHvm(HvmParser.Parse("a.hvm", "@main = *"));
        var net = new Lmn.Debugging.SteppingNet(book, 1L << 24);
        uint port = net.Inject(Tree.Node(TreeKind.Con, Tree.Num(Numb.NewU24(1)), Tree.Node(TreeKind.Con, Tree.Var("x"), Tree.Var("x"))));
        Assert.Equal("(1 (v0 v0))", net.ReadBack(port).Show());
        Assert.Equal(0, net.Interactions);
        Assert.Equal(2, net.LiveNodes);
    }
}
