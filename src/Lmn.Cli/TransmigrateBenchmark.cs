using System.Diagnostics;
using System.Globalization;
using Lmn.Hvm;
using Lmn.Net;
using Lmn.Regions;

namespace Lmn.Cli;

/// <summary>
/// `lmn bench transmigrate`: moves a graph of a million nodes with sharing and cycles from one region to
/// another, with the <see cref="Transmigrator"/> and with a straightforward Dictionary-based copy, and prints
/// the medians: `nodes_per_s: N`, `dictionary_nodes_per_s: N`, `ratio: R`.
/// Then it grafts N answers into a running net the way the supervisor does (each built in a fragment region,
/// transmigrated into the main net by <see cref="Graft.Into"/>, the fragment exited) and prints
/// `graft_answers_per_s: N` and `graft_nodes_per_s: N`.
/// Options: --nodes N (default 1000000), --runs N (default 15), --warmup N (default 3), --seed N,
/// --sites N (answers grafted, default 100000; 0 skips the graft figures).
/// </summary>
public static class TransmigrateBenchmark
{
    public static int Run(string[] args, TextWriter stdout)
    {
        int nodes = 1_000_000, runs = 15, warmup = 3, seed = 1, sites = 100_000;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--nodes": nodes = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--runs": runs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--warmup": warmup = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--seed": seed = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--sites": sites = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"unknown option '{args[i]}'");
            }
        }
        if (nodes < 1 || runs < 1 || warmup < 0 || sites < 0) throw new ArgumentException("--nodes and --runs must be positive, --warmup and --sites not negative");

        using var heap = new RegionHeap { VerifyClosure = false };
        var src = heap.Create((uint)nodes + 1, (uint)nodes + 1);
        var dst = heap.Create((uint)nodes + 1, (uint)nodes + 1);
        var third = heap.Create();
        uint[] roots = BuildGraph(src, third, nodes, seed);
        var mover = new Transmigrator();
        var newRoots = new uint[roots.Length];
        uint moved = src.NodeCount - 1;

        var fast = new double[runs];
        var dict = new double[runs];
        for (int r = -warmup; r < runs; r++)
        {
            dst.Reset();
            Settle();
            long t0 = Stopwatch.GetTimestamp();
            mover.Transmigrate(roots, src, dst, newRoots);
            long t1 = Stopwatch.GetTimestamp();
            Debug.Assert(dst.NodeCount - 1 == moved, $"moved {dst.NodeCount - 1} of {moved} nodes");
            if (r >= 0) fast[r] = moved / Stopwatch.GetElapsedTime(t0, t1).TotalSeconds;

            dst.Reset();
            Settle();
            t0 = Stopwatch.GetTimestamp();
            DictionaryCopy(roots, src, dst);
            t1 = Stopwatch.GetTimestamp();
            Debug.Assert(dst.NodeCount - 1 == moved, $"baseline moved {dst.NodeCount - 1} of {moved} nodes");
            if (r >= 0) dict[r] = moved / Stopwatch.GetElapsedTime(t0, t1).TotalSeconds;
        }
        double f = BenchMath.Median(fast), d = BenchMath.Median(dict);
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"nodes_per_s: {f:F0}"));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"dictionary_nodes_per_s: {d:F0}"));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio: {f / d:F2}"));
        if (sites > 0)
        {
            var (answers, graftNodes) = GraftAnswers(sites, runs, warmup);
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"graft_answers_per_s: {answers:F0}"));
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"graft_nodes_per_s: {graftNodes:F0}"));
        }
        return 0;
    }

    /// <summary>
    /// Grafting answers during a run: a net that has reduced a program receives `sites` answers, each a typical
    /// answer term (a compound of words and numbers in a list, 12 nodes, one wire) built in a fragment region
    /// and grafted as the supervisor grafts (<see cref="Graft.Into"/>), linked to a wire of the net and erased
    /// there so the net stays small. Medians over the runs of answers per second and grafted nodes per second,
    /// fragment building and region exit included.
    /// </summary>
    private static (double Answers, double Nodes) GraftAnswers(int sites, int runs, int warmup)
    {
        var book = Book.FromHvm(HvmParser.Parse("graft.hvm", "@main = (* (1 2))\n"));
        using var net = new Engine(book, 1L << 30);
        net.Run();
        var answer = Answer();
        using var heap = new RegionHeap { VerifyClosure = false };
        var perAnswer = new double[runs];
        uint nodesPerAnswer = 0;
        for (int r = -warmup; r < runs; r++)
        {
            Settle();
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < sites; i++)
            {
                var fragment = heap.Create(64, 16);
                uint root = Fragments.Build(fragment, answer, book.Fids);
                nodesPerAnswer = fragment.NodeCount - 1;
                uint port = Graft.Into(net, fragment, [root])[0];
                heap.RegionExit(fragment);
                net.Erase(port);
            }
            net.Normalize();
            long t1 = Stopwatch.GetTimestamp();
            if (r >= 0) perAnswer[r] = sites / Stopwatch.GetElapsedTime(t0, t1).TotalSeconds;
        }
        double a = BenchMath.Median(perAnswer);
        return (a, a * nodesPerAnswer);
    }

    /// <summary>`[#cat(sun, 3), #cat(moon, 4), x]` in the uniform data layout's shape: nodes, numbers, a wire.</summary>
    private static Tree Answer()
    {
        static Tree N(uint n) => Tree.Num(Numb.NewU24(n));
        static Tree Cons(Tree h, Tree t) => Tree.Node(TreeKind.Con, N(2), Tree.Node(TreeKind.Con, h, t));
        static Tree Compound(uint word, uint k) => Tree.Node(TreeKind.Con, N(7), Tree.Node(TreeKind.Con, N(word), Tree.Node(TreeKind.Con, N(k), Tree.Era())));
        return Cons(Compound(11, 3), Cons(Compound(12, 4), Tree.Node(TreeKind.Con, Tree.Var("x"), Tree.Var("x"))));
    }

    /// <summary>Collects the garbage of the previous run first, so no GC work (the baseline makes plenty) overlaps a timed run.</summary>
    private static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }


    /// <summary>
    /// Builds the benchmark graph in `src` and returns its roots (the root, then two redex pairs): a complete
    /// binary tree of `nodes` nodes laid out in preorder (as a parser or CALL allocates), whose leaf nodes'
    /// ports are a mix of edges to random nodes (sharing, and cycles where they reach an ancestor), wires
    /// (paired variables, some already substituted), numbers, erasers, references and a few external ports
    /// into `third`.
    /// </summary>
    public static uint[] BuildGraph(Region src, Region third, int nodes, int seed)
    {
        var rng = new Random(seed);
        uint first = src.NodeCount;
        src.ReserveNodes((uint)nodes);
        for (int i = 0; i < nodes; i++) src.AllocNode(Tag.ERA, Tag.ERA);

        // Preorder rank of each heap index h (children 2h, 2h+1), without recursion.
        var rank = new uint[nodes + 1];
        var stack = new Stack<int>();
        stack.Push(1);
        uint next = first;
        while (stack.Count > 0)
        {
            int h = stack.Pop();
            rank[h] = next++;
            if (2 * h + 1 <= nodes) stack.Push(2 * h + 1);
            if (2 * h <= nodes) stack.Push(2 * h);
        }

        uint extTarget = third.AllocNode(Tag.ERA, Tag.ERA);
        uint ext = src.Import(new RegionPort(third.Id, Port.New(Tag.CON, extTarget)));
        uint openVar = Port.NONE;
        uint NodePort(uint index) => Port.New(Tag.CON + (uint)rng.Next(4), index);
        uint Extra()
        {
            int roll = rng.Next(100);
            if (roll < 30) return NodePort(first + (uint)rng.Next(nodes));
            if (roll < 60)
            {
                if (openVar != Port.NONE)
                {
                    uint v = openVar;
                    openVar = Port.NONE;
                    return v;
                }
                uint s = src.AllocVar();
                if (rng.Next(10) == 0) src.SetVar(s, NodePort(first + (uint)rng.Next(nodes)));
                else openVar = Port.New(Tag.VAR, s);
                return Port.New(Tag.VAR, s);
            }
            if (roll < 80) return Port.New(Tag.NUM, (uint)rng.Next(1 << 24));
            if (roll < 90) return Tag.ERA;
            if (roll < 99) return Port.New(Tag.REF, (uint)rng.Next(100));
            return ext;
        }
        for (int h = 1; h <= nodes; h++)
        {
            uint a = 2 * h <= nodes ? NodePort(rank[2 * h]) : Extra();
            uint b = 2 * h + 1 <= nodes ? NodePort(rank[2 * h + 1]) : Extra();
            src.SetNode(rank[h], a, b);
        }
        return
        [
            NodePort(rank[1]),
            NodePort(first + (uint)rng.Next(nodes)), NodePort(first + (uint)rng.Next(nodes)),
            NodePort(first + (uint)rng.Next(nodes)), Tag.ERA,
        ];
    }

    /// <summary>
    /// The baseline: a straightforward recursion-free copy with Dictionary&lt;int,int&gt; forwarding maps and an
    /// explicit stack of source nodes still to fill in, through the regions' public API.
    /// </summary>
    public static uint[] DictionaryCopy(ReadOnlySpan<uint> roots, Region src, Region dst)
    {
        var nodeMap = new Dictionary<int, int>();
        var varMap = new Dictionary<int, int>();
        var extMap = new Dictionary<int, uint>();
        var nodeWork = new Stack<int>();
        var varWork = new Stack<int>();

        uint MapPort(uint p)
        {
            uint tag = Port.TagOf(p);
            int i = (int)Port.ValOf(p);
            switch (tag)
            {
                case Tag.CON: case Tag.DUP: case Tag.OPR: case Tag.SWI:
                    if (!nodeMap.TryGetValue(i, out int d))
                    {
                        d = (int)dst.AllocNode(0, 0);
                        nodeMap.Add(i, d);
                        nodeWork.Push(i);
                    }
                    return Port.New(tag, (uint)d);
                case Tag.VAR:
                    if (!varMap.TryGetValue(i, out int v))
                    {
                        v = (int)dst.AllocVar();
                        varMap.Add(i, v);
                        varWork.Push(i);
                    }
                    return Port.New(Tag.VAR, (uint)v);
                case Tag.REF:
                    if (!External.Is(p)) return p;
                    if (!extMap.TryGetValue(i, out uint e))
                    {
                        var target = src.ExternalAt(p);
                        e = target.Region == dst.Id ? target.Port : External.New(dst.AddExternal(target.Region, target.Port));
                        extMap.Add(i, e);
                    }
                    return e;
                case Tag.ERA: case Tag.NUM:
                    return p;
                default:
                    throw new UnreachableException($"tag {tag}");
            }
        }

        var result = new uint[roots.Length];
        for (int r = 0; r < roots.Length; r++) result[r] = MapPort(roots[r]);
        while (nodeWork.Count > 0 || varWork.Count > 0)
        {
            if (nodeWork.Count > 0)
            {
                int i = nodeWork.Pop();
                ulong n = src.NodeAt((uint)i);
                uint a = MapPort(Port.Fst(n));
                uint b = MapPort(Port.Snd(n));
                dst.SetNode((uint)nodeMap[i], a, b);
            }
            else
            {
                int i = varWork.Pop();
                uint got = src.VarAt((uint)i);
                if (got != Port.NONE) dst.SetVar((uint)varMap[i], MapPort(got));
            }
        }
        return result;
    }
}
