namespace Lmn.Net;

/// <summary>
/// A definition ready to instantiate: its nodes as pairs of ports whose node and variable values are
/// local indices (renamed to fresh addresses by CALL), its redexes and its root port.
/// </summary>
public sealed class Def
{
    public required string Name { get; init; }
    /// <summary>No DUP is reachable from it: a REF meeting a DUP may be copied instead of expanded.</summary>
    public bool Safe { get; set; }
    /// <summary>
    /// When not -1, this definition is an oracle site: CALL parks `@site ~ (args out)` for the supervisor
    /// instead of expanding it (ARCHITECTURE.md §2). Its template is never instantiated.
    /// </summary>
    public int SiteId { get; set; } = -1;
    /// <summary>
    /// A runtime error's value (LMN's `@fail.N`): meeting any node it copies itself into both of the
    /// node's ports, as an eraser would, so the error spreads to whatever needed the value; never expanded.
    /// </summary>
    public bool Poison { get; set; }
    public uint Root { get; set; }
    public List<ulong> Nodes { get; } = [];
    public List<ulong> Redexes { get; } = [];
    public int Vars { get; set; }
}

/// <summary>The definitions of a program, indexed by fid (HVM2's numbering: @main is 0, the rest by name).</summary>
public sealed class Book
{
    public Book(IReadOnlyList<Def> defs)
    {
        Defs = defs;
        for (int i = 0; i < defs.Count; i++) Fids[defs[i].Name] = i;
    }

    public IReadOnlyList<Def> Defs { get; }
    public Dictionary<string, int> Fids { get; } = new(StringComparer.Ordinal);
}
