using System.Text;

namespace Lmn.Language;

/// <summary>A bound name after scope resolution; unique per binding site.</summary>
public sealed class Binder(string name, int id)
{
    public string Name { get; } = name;
    public int Id { get; } = id;
    public override string ToString() => $"{Name}#{Id}";
}

/// <summary>
/// The core language the compiler turns into nets. Every surface form lowers to these: data are pairs of
/// a tag number and a payload, `if` and `match` become switches, words and strings become tags.
/// </summary>
public abstract class Core;

public sealed class CVar(Binder b) : Core { public Binder B { get; } = b; }
public sealed class CRef(string def) : Core { public string Def { get; } = def; }
public sealed class CNum(uint numb) : Core { public uint Numb { get; } = numb; }
public sealed class CEra : Core { public static readonly CEra I = new(); }
public sealed class CPair(Core a, Core b) : Core { public Core A { get; } = a; public Core B { get; } = b; }
/// <summary>`let (a, b) = value; body` on a pair (null binder: that half is erased).</summary>
public sealed class CLetPair(Binder? a, Binder? b, Core value, Core body) : Core
{
    public Binder? A { get; } = a;
    public Binder? B { get; } = b;
    public Core Value { get; } = value;
    public Core Body { get; } = body;
}
public sealed class CLam(Binder? x, Core body) : Core { public Binder? X { get; } = x; public Core Body { get; } = body; }
public sealed class CApp(Core f, Core a) : Core { public Core F { get; } = f; public Core A { get; } = a; }
public sealed class CLet(Binder x, Core value, Core body) : Core
{
    public Binder X { get; } = x;
    public Core Value { get; } = value;
    public Core Body { get; } = body;
}
/// <summary>A binary operator; Op is an HVM2 operator code (Numb.OP_*).</summary>
public sealed class COp(uint op, Core a, Core b) : Core { public uint Op { get; } = op; public Core A { get; } = a; public Core B { get; } = b; }
/// <summary>A numeric switch: Zero if scrut is 0, else Succ with Pred bound to scrut - 1.</summary>
public sealed class CSwitch(Core scrut, Core zero, Binder? pred, Core succ) : Core
{
    public Core Scrut { get; } = scrut;
    public Core Zero { get; } = zero;
    public Binder? Pred { get; } = pred;
    public Core Succ { get; } = succ;
    internal List<Binder>? FreeVars;
}
/// <summary>An oracle site: `REF(site) ~ (args out)`; Args is the (candidates, (anchors, guards)) structure.</summary>
public sealed class CSite(int id, Core args) : Core { public int Id { get; } = id; public Core Args { get; } = args; }

/// <summary>What a data tag stands for.</summary>
public enum SymKind { Nil, Cons, Anchored, Word, Compound, String }

public sealed record Symbol(int Tag, SymKind Kind, string Name, int Arity);

/// <summary>
/// Data tags: 0 is `[]`, 1 is a cons, 2 an anchored value; words, compound heads (per arity) and strings
/// are numbered from 3 in order of first use. The read-back prints a datum by its tag's symbol, and an
/// oracle answer that names a new word or string adds a symbol at run time.
/// </summary>
public sealed class SymbolTable
{
    public const int Nil = 0, Cons = 1, AnchoredTag = 2;
    private readonly List<Symbol> _syms = [];
    private readonly Dictionary<(SymKind, string, int), int> _index = [];

    public SymbolTable()
    {
        Add(SymKind.Nil, "[]", 0);
        Add(SymKind.Cons, "cons", 2);
        Add(SymKind.Anchored, "@", 2);
    }

    public IReadOnlyList<Symbol> All => _syms;

    public Symbol this[int tag] => _syms[tag];

    public bool Has(int tag) => tag >= 0 && tag < _syms.Count;

    private int Add(SymKind kind, string name, int arity)
    {
        var key = (kind, name, arity);
        if (_index.TryGetValue(key, out int tag)) return tag;
        tag = _syms.Count;
        _syms.Add(new Symbol(tag, kind, name, arity));
        _index[key] = tag;
        return tag;
    }

    public int Word(string name) => Add(SymKind.Word, name, 0);
    public int Compound(string head, int arity) => Add(SymKind.Compound, head, arity);
    public int String(string text) => Add(SymKind.String, text, 0);

    public string Dump()
    {
        var sb = new StringBuilder();
        foreach (var s in _syms)
            sb.Append("  ").Append(s.Tag).Append('\t').Append(s.Kind).Append('\t')
              .Append(s.Kind == SymKind.String ? Printer.Quote(s.Name) : s.Name)
              .Append(s.Kind == SymKind.Compound ? $"[{s.Arity}]" : "").Append('\n');
        return sb.ToString();
    }
}

/// <summary>What the supervisor needs to know about an oracle site, kept beside the net (not in it).</summary>
public sealed record SiteInfo(
    int Id,
    string DefName,
    bool Open,
    string Head,
    string SourceText,
    string Location,
    int Offset,
    string? TypeExpected,
    IReadOnlyList<string> StaticAnchors,
    IReadOnlyList<string> EnclosingDefs,
    int CandidateCount,
    IReadOnlyList<string> GuardNames);
