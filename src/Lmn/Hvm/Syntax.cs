using System.Text;
using Lmn.Net;
using Lmn.Text;

namespace Lmn.Hvm;

public enum TreeKind { Var, Ref, Era, Num, Con, Dup, Opr, Swi }

/// <summary>A tree of HVM2's textual format; Offset points into the source for diagnostics.</summary>
public sealed class Tree
{
    public TreeKind Kind { get; init; }
    public string Name { get; init; } = "";
    public uint Numb { get; init; }
    public Tree? Fst { get; init; }
    public Tree? Snd { get; init; }
    public int Offset { get; init; }

    public static Tree Era(int offset = 0) => new() { Kind = TreeKind.Era, Offset = offset };
    public static Tree Var(string name, int offset = 0) => new() { Kind = TreeKind.Var, Name = name, Offset = offset };
    public static Tree Ref(string name, int offset = 0) => new() { Kind = TreeKind.Ref, Name = name, Offset = offset };
    public static Tree Num(uint numb, int offset = 0) => new() { Kind = TreeKind.Num, Numb = numb, Offset = offset };
    public static Tree Node(TreeKind kind, Tree fst, Tree snd, int offset = 0) =>
        new() { Kind = kind, Fst = fst, Snd = snd, Offset = offset };

    /// <summary>HVM2's textual form of this tree.</summary>
    public string Show(bool parseableNumbers = false)
    {
        var sb = new StringBuilder();
        Write(sb, parseableNumbers);
        return sb.ToString();
    }

    /// <summary>Writes the tree without recursion (results can be millions of nodes deep).</summary>
    public void Write(StringBuilder sb, bool parseableNumbers = false)
    {
        var stack = new Stack<object>();
        stack.Push(this);
        while (stack.Count > 0)
        {
            object item = stack.Pop();
            if (item is string s) { sb.Append(s); continue; }
            var t = (Tree)item;
            switch (t.Kind)
            {
                case TreeKind.Var: sb.Append(t.Name); break;
                case TreeKind.Ref: sb.Append('@').Append(t.Name); break;
                case TreeKind.Era: sb.Append('*'); break;
                case TreeKind.Num:
                    sb.Append(parseableNumbers && Net.Numb.TypeOf(t.Numb) == Net.Numb.TY_F24
                        ? Net.Numb.ShowF24(Net.Numb.GetF24(t.Numb), parseable: true)
                        : Net.Numb.Show(t.Numb));
                    break;
                case TreeKind.Con: case TreeKind.Dup: case TreeKind.Opr: case TreeKind.Swi:
                    sb.Append(t.Kind switch { TreeKind.Con => "(", TreeKind.Dup => "{", TreeKind.Opr => "$(", _ => "?(" });
                    stack.Push(t.Kind == TreeKind.Dup ? "}" : ")");
                    stack.Push(t.Snd!);
                    stack.Push(" ");
                    stack.Push(t.Fst!);
                    break;
                default:
                    throw new System.Diagnostics.UnreachableException($"tree kind {t.Kind}");
            }
        }
    }

    public override string ToString() => Show();
}

public sealed record Redex(bool Par, Tree A, Tree B, int Offset);

/// <summary>A net: a root tree and a bag of redexes.</summary>
public sealed class HvmNet(Tree root, List<Redex> redexes)
{
    public Tree Root { get; } = root;
    public List<Redex> Redexes { get; } = redexes;

    public string Show(bool parseableNumbers = false)
    {
        var sb = new StringBuilder();
        Root.Write(sb, parseableNumbers);
        foreach (var r in Redexes)
        {
            sb.Append(" &").Append(r.Par ? "!" : " ");
            r.A.Write(sb, parseableNumbers);
            sb.Append(" ~ ");
            r.B.Write(sb, parseableNumbers);
        }
        return sb.ToString();
    }
}

public sealed record HvmDef(string Name, HvmNet Net, int Offset);

/// <summary>A parsed `.hvm` book: its definitions in source order.</summary>
public sealed class HvmBook(IReadOnlyList<HvmDef> defs)
{
    public IReadOnlyList<HvmDef> Defs { get; } = defs;

    private Dictionary<string, HvmDef>? _byName;

    /// <summary>The first definition of that name (an index built on first use: constant time per look-up).</summary>
    public HvmDef? Find(string name)
    {
        if (_byName == null)
        {
            var map = new Dictionary<string, HvmDef>(Defs.Count, StringComparer.Ordinal);
            foreach (var d in Defs) map.TryAdd(d.Name, d);
            _byName = map;
        }
        return _byName.GetValueOrDefault(name);
    }

    /// <summary>The canonical text HVM2 prints for a book: one line per definition, sorted by name.</summary>
    public string Show()
    {
        var sb = new StringBuilder();
        foreach (var def in Defs.OrderBy(d => d.Name, StringComparer.Ordinal))
            sb.Append('@').Append(def.Name).Append(" = ").Append(def.Net.Show(parseableNumbers: true)).Append('\n');
        return sb.ToString();
    }
}
