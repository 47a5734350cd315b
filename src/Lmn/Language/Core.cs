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
    /// <summary>The value is computed even when neither half is used (its result is then erased).</summary>
    public bool Strict { get; init; }
}
public sealed class CLam(Binder? x, Core body) : Core { public Binder? X { get; } = x; public Core Body { get; } = body; }
public sealed class CApp(Core f, Core a) : Core { public Core F { get; } = f; public Core A { get; } = a; }
public sealed class CLet(Binder x, Core value, Core body) : Core
{
    public Binder X { get; } = x;
    public Core Value { get; } = value;
    public Core Body { get; } = body;
    /// <summary>The value is computed even when the name is unused (its result is then erased).</summary>
    public bool Strict { get; init; }
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

/// <summary>What a data tag stands for.</summary>
public enum SymKind { Nil, Cons, Anchored, Word, Compound, String, Box, Closure, Susp }

/// <summary>A data tag's meaning. Arity: fields of a compound; for a closure, the code's id and supplied count live in ClosureCode.</summary>
public sealed record Symbol(int Tag, SymKind Kind, string Name, int Arity)
{
    public int Id => Tag >> SymbolTable.ShapeBits;
    public int Shape => Tag & SymbolTable.ShapeMask;
}

/// <summary>
/// Data tags. A uniform value is `(#tag payload)`; the tag is `id &lt;&lt; 6 | shape`, so the shape of the payload
/// can be read off any tag, also of words an oracle answer brings at run time: shape 0 an atom (word,
/// string, `[]`, `head[]`; payload `*`), 1..59 a compound of that many fields (cons is 2), 60 an anchored
/// value (the id is the anchor word's), 61 a boxed number, 62 a closure (the id names its code), 63 a
/// suspended question. Ids are numbered in order of first use; `[]` has id 0 and cons id 1.
/// </summary>
public sealed class SymbolTable
{
    public const int ShapeBits = 6, ShapeMask = 63;
    public const int MaxFields = 59;
    public const int ShapeAnchored = 60, ShapeBox = 61, ShapeClosure = 62, ShapeSusp = 63;
    public const int Nil = 0, Cons = (1 << ShapeBits) | 2, BoxTag = ShapeBox, SuspTag = ShapeSusp;
    /// <summary>
    /// Reserved compound heads (no identifier can spell them): a phrase `a b` is `·phrase[a, b]` (left
    /// nested: `a b c` is `·phrase[·phrase[a, b], c]`), a flow of steps `a → b` is `·flow[a, b]`, and a
    /// program's several top-level values are `·lines[list]`.
    /// </summary>
    public const string PhraseHead = "·phrase", FlowHead = "·flow", LinesHead = "·lines";
    // A copy (Copy) reads through to the table it was made from, which no longer changes, and holds only
    // what differs: the strings it renamed and the symbols added since. A batch run makes one per input.
    private readonly SymbolTable? _base;
    private readonly int _baseNames;                     // ids below this are the base's
    private readonly HashSet<(SymKind, string)>? _gone;   // renamed away: the base's entries for these names do not count here
    private readonly HashSet<int>? _renamed;              // the tags of the strings renamed here
    private bool _frozen;                                 // copied: never changes again
    private readonly List<Symbol> _syms = [];
    private readonly Dictionary<int, Symbol> _byTag = [];
    private readonly Dictionary<(SymKind, string, int), int> _index = [];
    private int _names;
    private readonly Dictionary<(SymKind, string), int> _ids = [];

    public SymbolTable()
    {
        Add(SymKind.Nil, "[]", 0);
        Add(SymKind.Cons, "cons", 2);
    }

    /// <summary>Every symbol, in the order they were added (a copy: the base's, renamed, then its own).</summary>
    public IReadOnlyList<Symbol> All
    {
        get
        {
            if (_base == null) return _syms;
            var all = new List<Symbol>(_base.All.Count + _syms.Count);
            // Only the renamed strings replace the base's symbols (a word and a compound of no fields share
            // a tag: one added here beside the base's word is listed after it, as in a table of its own).
            foreach (var sym in _base.All) all.Add(_renamed != null && _renamed.Contains(sym.Tag) && _byTag.TryGetValue(sym.Tag, out var mine) ? mine : sym);
            all.AddRange(_syms);   // added since the copy: ids past the base's
            return all;
        }
    }

    public Symbol this[int tag] => TryGet(tag, out var sym) ? sym : throw new KeyNotFoundException($"no symbol has tag {tag}");

    public bool Has(int tag) => TryGet(tag, out _) || (tag & ShapeMask) == ShapeBox || (tag & ShapeMask) == ShapeSusp;

    public bool TryGet(int tag, out Symbol sym) => _byTag.TryGetValue(tag, out sym!) || (_base != null && _base.TryGet(tag, out sym));

    private bool TryIndex((SymKind, string, int) key, out int tag) =>
        _index.TryGetValue(key, out tag) || (_base != null && !(_gone?.Contains((key.Item1, key.Item2)) ?? false) && _base.TryIndex(key, out tag));

    private bool TryId((SymKind, string) key, out int id) =>
        _ids.TryGetValue(key, out id) || (_base != null && !(_gone?.Contains(key) ?? false) && _base.TryId(key, out id));

    private int IdOf(SymKind kind, string name)
    {
        // Words, compound heads and anchors share ids by name; strings and closures have their own.
        var k = kind is SymKind.Word or SymKind.Compound or SymKind.Anchored or SymKind.Nil or SymKind.Cons ? (SymKind.Word, name) : (kind, name);
        if (kind is SymKind.Nil) k = (SymKind.Nil, name);
        if (kind is SymKind.Cons) k = (SymKind.Cons, name);
        if (TryId(k, out int id)) return id;
        id = _baseNames + _names;
        if (id >= 1 << (24 - ShapeBits)) throw new InvalidOperationException("more than 262,143 distinct words, strings and functions");
        _names++;
        _ids[k] = id;
        return id;
    }

    private int Add(SymKind kind, string name, int arity)
    {
        var key = (kind, name, arity);
        if (TryIndex(key, out int tag)) return tag;
        if (_frozen) throw new InvalidOperationException("a symbol table that was copied does not change (its copies read through to it)");
        int shape = kind switch
        {
            SymKind.Compound or SymKind.Cons => arity,
            SymKind.Anchored => ShapeAnchored,
            SymKind.Closure => ShapeClosure,
            _ => 0,
        };
        tag = (IdOf(kind, name) << ShapeBits) | shape;
        var sym = new Symbol(tag, kind, name, arity);
        _syms.Add(sym);
        _byTag[tag] = sym;
        _index[key] = tag;
        return tag;
    }

    /// <summary>
    /// A copy, with string symbols renamed by <paramref name="strings"/> (same ids and tags): a batch run
    /// compiles a program once with placeholder strings for its inputs' text and gives each input a copy
    /// that holds its own text. The copy can grow on its own (answers bring new words); this table does
    /// not change from now on (the copy reads through to it instead of copying its entries: a batch run
    /// copies the table, prelude included, once per input).
    /// </summary>
    public SymbolTable Copy(IReadOnlyDictionary<string, string>? strings = null)
    {
        _frozen = true;
        var t = new SymbolTable(this, strings?.Count > 0);
        if (strings == null) return t;
        if (strings is Dictionary<string, string> d)
            foreach (var (from, to) in d) t.Rename(this, from, to);   // the struct enumerator: nothing allocated per copy
        else
            foreach (var (from, to) in strings) t.Rename(this, from, to);
        return t;
    }

    /// <summary>In this new copy of <paramref name="from"/>: the string <paramref name="was"/> is now <paramref name="now"/> (same id, same tag).</summary>
    private void Rename(SymbolTable from, string was, string now)
    {
        if (!from.TryId((SymKind.String, was), out int id)) return;
        _gone!.Add((SymKind.String, was));
        _ids[(SymKind.String, now)] = id;
        if (!from.TryIndex((SymKind.String, was, 0), out int tag)) return;
        _index[(SymKind.String, now, 0)] = tag;
        _byTag[tag] = from[tag] with { Name = now };
        _renamed!.Add(tag);
    }

    private SymbolTable(SymbolTable from, bool renames)
    {
        _base = from;
        _baseNames = from._baseNames + from._names;
        _gone = renames ? [] : null;
        _renamed = renames ? [] : null;
    }

    /// <summary>Registers a symbol under a tag read from a file (`lmn compile --emit hvm` writes the table as comments).</summary>
    public void Restore(int tag, SymKind kind, string name, int arity)
    {
        if (_frozen) throw new InvalidOperationException("a symbol table that was copied does not change (its copies read through to it)");
        var sym = new Symbol(tag, kind, name, arity);
        _syms.Add(sym);
        _byTag[tag] = sym;
        _index[(kind, name, arity)] = tag;
    }

    public int Word(string name) => Add(SymKind.Word, name, 0);
    public int Compound(string head, int arity) => arity > MaxFields
        ? throw new ArgumentOutOfRangeException(nameof(arity), $"a compound has at most {MaxFields} fields")
        : Add(SymKind.Compound, head, arity);
    public int String(string text) => Add(SymKind.String, text, 0);
    public int Anchor(string name) => Add(SymKind.Anchored, name, 1);
    /// <summary>The tag of a closure: `key` names its code and how many arguments it holds.</summary>
    public int Closure(string key) => Add(SymKind.Closure, key, 0);

    public string Dump()
    {
        var sb = new StringBuilder();
        foreach (var s in All)
            sb.Append("  ").Append(s.Tag).Append('\t').Append(s.Kind).Append('\t')
              .Append(s.Kind == SymKind.String ? Printer.Quote(s.Name) : s.Name)
              .Append(s.Kind == SymKind.Compound ? $"[{s.Arity}]" : "").Append('\n');
        sb.Append("  ").Append(BoxTag).Append("\tBox\t(a number)\n");
        sb.Append("  ").Append(SuspTag).Append("\tSusp\t(a question not asked yet)\n");
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
