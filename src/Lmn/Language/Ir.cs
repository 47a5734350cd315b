using Lmn.Text;

namespace Lmn.Language;

/// <summary>
/// The resolved program the analysis and the closure conversion work on: names are bound (variables,
/// function codes, words), every lambda is a function code with its captured variables, applications
/// of known functions are direct calls, patterns are resolved. Off is the offset in the owner code's
/// source (its location in diagnostics and runtime errors).
/// </summary>
public abstract class Ir(int off)
{
    public int Off { get; } = off;
    /// <summary>The runtime error this node gives when its operand does not fit (a number expected, not a function, no arm...).</summary>
    public int FailId { get; set; } = -1;
    /// <summary>A second runtime error (division by zero).</summary>
    public int FailId2 { get; set; } = -1;
}

public sealed class IVar(int off, Binder b) : Ir(off) { public Binder B { get; } = b; }
public sealed class INum(int off, uint numb) : Ir(off) { public uint Numb { get; } = numb; }
/// <summary>A datum: an atom (no fields), a compound, a cons (2 fields) or an anchored value (1 field).</summary>
public sealed class IData(int off, int tag, Ir[] fields) : Ir(off) { public int Tag { get; } = tag; public Ir[] Fields { get; } = fields; }
/// <summary>A function code as a value with some of its arguments given (none: the function itself).</summary>
public sealed class IPap(int off, Fn fn, Ir[] args) : Ir(off)
{
    public Fn Fn { get; } = fn;
    public Ir[] Args { get; } = args;
    /// <summary>A local function naming itself in its own body: its captures are read from its own (Fn.Captures), not the enclosing scope's.</summary>
    public bool Self { get; init; }
}
/// <summary>A direct call of a known function with exactly its arity of arguments (a constant: none).</summary>
public sealed class ICall(int off, Fn fn, Ir[] args) : Ir(off) { public Fn Fn { get; } = fn; public Ir[] Args { get; } = args; }
/// <summary>Application of a value only known at run time.</summary>
public sealed class IApp(int off, Ir f, Ir[] args) : Ir(off)
{
    public Ir F { get; } = f;
    public Ir[] Args { get; } = args;
    /// <summary>Juxt (`f x`, one argument): a phrase when f is not a function; Flow (`x → f`): a flow of steps; Call: an error.</summary>
    public ApplyKind Mode { get; init; }
}
/// <summary>A numeric operation (Numb.OP_*); Le/Ge are composed by the lowering.</summary>
public sealed class IPrim(int off, uint op, Ir a, Ir b, string text) : Ir(off)
{
    public uint Op { get; } = op;
    public Ir A { get; } = a;
    public Ir B { get; } = b;
    public string Text { get; } = text;
}
/// <summary>`if c then t else e` on a number (also `&&`, `||`, `!` after lowering).</summary>
public sealed class IIf(int off, Ir c, Ir t, Ir e) : Ir(off) { public Ir C { get; } = c; public Ir T { get; } = t; public Ir E { get; } = e; }
public sealed class IEq(int off, Ir a, Ir b, bool neg) : Ir(off) { public Ir A { get; } = a; public Ir B { get; } = b; public bool Neg { get; } = neg; }
public sealed class ILet(int off, Binder x, Ir v, Ir body) : Ir(off)
{
    public Binder X { get; } = x;
    public Ir V { get; } = v;
    public Ir Body { get; } = body;
    /// <summary>An argument bound by applying a lambda at once: evaluated even if unused (call-by-value).</summary>
    public bool Strict { get; init; }
}
/// <summary>`match` (or a let pattern, IsLet): first arm that fits wins; none: a runtime error at Off.</summary>
public sealed class IMatch(int off, Ir scrut, List<IArm> arms, bool isLet) : Ir(off)
{
    public Ir Scrut { get; } = scrut;
    public List<IArm> Arms { get; } = arms;
    public bool IsLet { get; } = isLet;
    /// <summary>Made by the compiler (a collapse's test): no warnings about its arms.</summary>
    public bool Quiet { get; init; }
}
public sealed record IArm(int Off, RPat Pat, Ir Body);
/// <summary>A question: its candidates (Tail: a spread list), the local anchors in scope.</summary>
public sealed class ISite(int off, SiteInfo info, Ir[] cands, Ir? tail, (string Name, Ir Value)[] anchors) : Ir(off)
{
    public SiteInfo Info { get; } = info;
    public Ir[] Cands { get; } = cands;
    public Ir? Tail { get; } = tail;
    public (string Name, Ir Value)[] Anchors { get; } = anchors;
}
/// <summary>A runtime error value (see CompiledProgram.Fails).</summary>
public sealed class IFail(int off, int id) : Ir(off) { public int Id { get; } = id; }

/// <summary>Resolved patterns.</summary>
public abstract record RPat(int Off);
public sealed record RNum(int Off, uint Numb) : RPat(Off);
/// <summary>`k+p`: a u24 number n >= k, p matched against n - k.</summary>
public sealed record RSucc(int Off, uint K, RPat Pred) : RPat(Off);
/// <summary>A datum with this tag; fields matched in order (atoms have none).</summary>
public sealed record RCtor(int Off, int Tag, RPat[] Fields) : RPat(Off);
public sealed record RVar(int Off, Binder B) : RPat(Off);
public sealed record RWild(int Off) : RPat(Off);

/// <summary>
/// A function code: a definition (with parameters), a constant (a definition without), a lambda (its
/// captured variables come first), or the entry point. Prelude definitions get one instance per
/// reference from the user's program, so their questions and errors carry the user's location.
/// </summary>
public sealed class Fn(int id, string netName, string lmnName, SourceText src, int offset)
{
    public int Id { get; } = id;
    public string NetName { get; } = netName;
    public string LmnName { get; } = lmnName;
    public SourceText Src { get; } = src;
    public int Offset { get; } = offset;
    public List<Binder> Captures { get; } = [];
    /// <summary>The enclosing scope's binders the captures stand for (same order).</summary>
    public List<Binder> CapturedFrom { get; } = [];
    public List<Binder> Params { get; } = [];
    public Ir Body { get; set; } = null!;
    public bool IsLambda { get; init; }
    public bool IsConst { get; init; }
    public bool IsMain { get; init; }
    public bool Prelude { get; init; }
    /// <summary>Used as a value (a closure), not only called directly.</summary>
    public bool Escapes { get; set; }
    /// <summary>The lambda as written, for printing closures.</summary>
    public Lambda? Ast { get; init; }
    /// <summary>Where a prelude instance was referenced (the location of its questions and errors).</summary>
    public string? UserLocation { get; init; }
    public int Arity => Params.Count;
    public override string ToString() => NetName;
}

/// <summary>A runtime error: where, and what.</summary>
public sealed record FailInfo(int Id, string Location, SourceText Src, int Offset, string Message);
