using Lmn.Net;

namespace Lmn.Hvm;

/// <summary>
/// Conversions between HVM2's text trees (this folder) and the runtime net (Lmn.Net), kept above the net as
/// HVM2 keeps ast.rs above hvm.rs: a book from its text form, and a port's normal form read back as a tree.
/// The net itself knows nothing of text.
/// </summary>
public static class NetText
{
    extension(Book)
    {
        /// <summary>Builds the runtime book exactly as HVM2's ast.rs does (node order, variable numbering, safety).</summary>
        public static Book FromHvm(HvmBook ast)
        {
            // One pass builds the index by name (the first definition of a name wins), so each definition is
            // found in constant time: the book is built in time linear in its size.
            var byName = new Dictionary<string, HvmDef>(ast.Defs.Count, StringComparer.Ordinal);
            foreach (var d in ast.Defs) byName.TryAdd(d.Name, d);
            var names = new List<string>(byName.Count + 1) { "main" };
            names.AddRange(byName.Keys.Where(n => n != "main").Order(StringComparer.Ordinal));
            var fids = new Dictionary<string, int>(names.Count, StringComparer.Ordinal);
            for (int i = 0; i < names.Count; i++) fids[names[i]] = i;

            var defs = new List<Def>();
            var deps = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
            foreach (string name in names)
            {
                var src = byName.GetValueOrDefault(name) ?? throw new InvalidOperationException($"missing @{name} definition");
                var def = new Def { Name = name, Safe = true };
                var vars = new Dictionary<string, int>(StringComparer.Ordinal);
                var refs = new HashSet<string>(StringComparer.Ordinal);
                def.Root = Build(src.Net.Root, def, fids, vars, refs);
                foreach (var r in src.Net.Redexes)
                {
                    int index = def.Redexes.Count;
                    def.Redexes.Add(0);
                    uint a = Build(r.A, def, fids, vars, refs);
                    uint b = Build(r.B, def, fids, vars, refs);
                    if (r.Par && Port.TagOf(a) == Tag.REF) a = Port.New(Tag.REF, Port.ValOf(a) | 0x1000_0000);
                    def.Redexes[index] = Port.Pair(a, b);
                }
                def.Vars = vars.Count;
                defs.Add(def);
                deps[name] = refs;
            }

            // A definition that refers to an unsafe one is unsafe too (HVM2's propagate_safety). The same
            // fixed point as repeating passes until nothing changes, reached in one walk of the reversed
            // references from the unsafe definitions (a chain of n definitions would take n passes).
            var referrers = new List<int>?[defs.Count];
            for (int i = 0; i < defs.Count; i++)
                foreach (string dep in deps[defs[i].Name])
                    (referrers[fids[dep]] ??= []).Add(i);
            var work = new Stack<int>();
            for (int i = 0; i < defs.Count; i++) if (!defs[i].Safe) work.Push(i);
            while (work.Count > 0)
            {
                int u = work.Pop();
                if (referrers[u] is not { } users) continue;
                foreach (int r in users)
                {
                    if (!defs[r].Safe) continue;
                    defs[r].Safe = false;
                    work.Push(r);
                }
            }
            return new Book(defs);
        }
    }

    extension(INetRunner net)
    {
        /// <summary>
        /// Reads a port's normal form back as a tree. Free wires are named `v0`, `v1`, ... (hex) in order of first
        /// appearance, so the output depends neither on allocation nor on the thread count.
        /// </summary>
        public Tree ReadBack(uint port)
        {
            var names = new Dictionary<uint, string>();
            // Iterative post-order construction: deep results must not overflow the stack.
            var work = new Stack<(uint Port, int State)>();
            var done = new Stack<Tree>();
            work.Push((port, 0));
            while (work.Count > 0)
            {
                var (p, state) = work.Pop();
                if (state == 1)
                {
                    var snd = done.Pop();
                    var fst = done.Pop();
                    var kind = Port.TagOf(p) switch { Tag.CON => TreeKind.Con, Tag.DUP => TreeKind.Dup, Tag.OPR => TreeKind.Opr, _ => TreeKind.Swi };
                    done.Push(Tree.Node(kind, fst, snd));
                    continue;
                }
                uint q = net.Peek(p);
                switch (Port.TagOf(q))
                {
                    case Tag.VAR:
                        if (!names.TryGetValue(q >> 3, out string? name))
                            names[q >> 3] = name = "v" + names.Count.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
                        done.Push(Tree.Var(name));
                        break;
                    case Tag.REF: done.Push(Tree.Ref(net.Book.Defs[(int)((q >> 3) & 0x0FFF_FFFF)].Name)); break;
                    case Tag.ERA: done.Push(Tree.Era()); break;
                    case Tag.NUM: done.Push(Tree.Num(q >> 3)); break;
                    case Tag.CON: case Tag.DUP: case Tag.OPR: case Tag.SWI:
                    {
                        ulong n = net.NodeAt(q >> 3);
                        work.Push((q, 1));
                        work.Push(((uint)(n >> 32), 0));
                        work.Push(((uint)n, 0));
                        break;
                    }
                    default: throw new System.Diagnostics.UnreachableException($"port {q:X8}");
                }
            }
            return done.Pop();
        }
    }

    /// <summary>
    /// The port of a tree, its nodes appended to def in HVM2's order (a node before its children, the first
    /// child's subtree before the second's) and its variables numbered in order of first appearance. An
    /// explicit stack: a long list is a tree a million nodes deep.
    /// </summary>
    private static uint Build(Tree tree, Def def, Dictionary<string, int> fids, Dictionary<string, int> vars, HashSet<string> refs)
    {
        // Each entry: a tree whose port goes into slot Slot of node Node (0 first, 1 second; Node -1: the result).
        var work = new Stack<(Tree Tree, int Node, int Slot)>();
        work.Push((tree, -1, 0));
        uint result = 0;
        while (work.Count > 0)
        {
            var (t, node, slot) = work.Pop();
            uint port;
            switch (t.Kind)
            {
                case TreeKind.Var:
                    if (!vars.TryGetValue(t.Name, out int v)) vars[t.Name] = v = vars.Count;
                    port = Port.New(Tag.VAR, (uint)v);
                    break;
                case TreeKind.Ref:
                    refs.Add(t.Name);
                    port = Port.New(Tag.REF, (uint)fids[t.Name]);
                    break;
                case TreeKind.Era:
                    port = Port.New(Tag.ERA, 0);
                    break;
                case TreeKind.Num:
                    port = Port.New(Tag.NUM, t.Numb);
                    break;
                case TreeKind.Con: case TreeKind.Dup: case TreeKind.Opr: case TreeKind.Swi:
                {
                    if (t.Kind == TreeKind.Dup) def.Safe = false;
                    int index = def.Nodes.Count;
                    def.Nodes.Add(0);
                    work.Push((t.Snd!, index, 1));
                    work.Push((t.Fst!, index, 0));
                    uint tag = t.Kind switch { TreeKind.Con => Tag.CON, TreeKind.Dup => Tag.DUP, TreeKind.Opr => Tag.OPR, _ => Tag.SWI };
                    port = Port.New(tag, (uint)index);
                    break;
                }
                default:
                    throw new System.Diagnostics.UnreachableException($"tree kind {t.Kind}");
            }
            if (node < 0) result = port;
            else
            {
                ulong pair = def.Nodes[node];
                def.Nodes[node] = slot == 0 ? Port.Pair(port, Port.Snd(pair)) : Port.Pair(Port.Fst(pair), port);
            }
        }
        return result;
    }
}
