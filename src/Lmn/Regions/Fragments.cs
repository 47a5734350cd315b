using Lmn.Hvm;
using Lmn.Net;

namespace Lmn.Regions;

/// <summary>Building trees into regions (answers and injected terms are built in a fragment region, then moved).</summary>
public static class Fragments
{
    /// <summary>
    /// Builds a tree into a region and returns its root port. Variables are wires by name (each should
    /// occur twice); references resolve through <paramref name="fids"/> (none allowed without it).
    /// </summary>
    public static uint Build(Region region, Tree tree, IReadOnlyDictionary<string, int>? fids = null) =>
        Build(region, tree, fids, new Dictionary<string, uint>(StringComparer.Ordinal));

    /// <summary>Builds several trees into a region; a variable name shared by two of them is one wire.</summary>
    public static uint[] BuildMany(Region region, IReadOnlyList<Tree> trees, IReadOnlyDictionary<string, int>? fids = null)
    {
        var wires = new Dictionary<string, uint>(StringComparer.Ordinal);
        return trees.Select(t => Build(region, t, fids, wires)).ToArray();
    }

    private static uint Build(Region region, Tree tree, IReadOnlyDictionary<string, int>? fids, Dictionary<string, uint> wires)
    {
        var work = new Stack<(Tree Tree, int State, uint Fst)>();
        var done = new Stack<uint>();
        work.Push((tree, 0, 0));
        while (work.Count > 0)
        {
            var (t, state, _) = work.Pop();
            switch (t.Kind)
            {
                case TreeKind.Era: done.Push(Tag.ERA); break;
                case TreeKind.Num: done.Push(Port.New(Tag.NUM, t.Numb)); break;
                case TreeKind.Ref:
                    if (fids == null || !fids.TryGetValue(t.Name, out int fid)) throw new ArgumentException($"unknown definition @{t.Name}");
                    done.Push(Port.New(Tag.REF, (uint)fid));
                    break;
                case TreeKind.Var:
                    if (!wires.TryGetValue(t.Name, out uint v)) wires[t.Name] = v = region.AllocVar();
                    done.Push(Port.New(Tag.VAR, v));
                    break;
                case TreeKind.Con: case TreeKind.Dup: case TreeKind.Opr: case TreeKind.Swi:
                    if (state == 0)
                    {
                        // Children first (iteratively: deep answers must not overflow the stack).
                        work.Push((t, 1, 0));
                        work.Push((t.Snd!, 0, 0));
                        work.Push((t.Fst!, 0, 0));
                    }
                    else
                    {
                        uint s = done.Pop(), f = done.Pop();
                        uint tag = t.Kind switch { TreeKind.Con => Tag.CON, TreeKind.Dup => Tag.DUP, TreeKind.Opr => Tag.OPR, _ => Tag.SWI };
                        done.Push(Port.New(tag, region.AllocNode(f, s)));
                    }
                    break;
                default:
                    throw new System.Diagnostics.UnreachableException($"tree kind {t.Kind}");
            }
        }
        return done.Pop();
    }
}
