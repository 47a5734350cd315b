using Lmn.Language;
using Lmn.Text;

namespace Lmn.Tests.Reference;

/// <summary>A source location: a file and an offset in it; prints as `file:line:col`.</summary>
public sealed record RefLoc(SourceText Src, int Offset)
{
    public override string ToString()
    {
        var (l, c) = Src.LineColumn(Offset);
        return $"{Src.Path}:{l}:{c}";
    }
}

/// <summary>A value of the reference interpreter (SEMANTICS-10.md, "Values").</summary>
public abstract class RefValue;

public sealed class VNum(uint numb) : RefValue
{
    public uint Numb { get; } = numb;
}

public sealed class VWord(string name) : RefValue
{
    public string Name { get; } = name;
}

public sealed class VStr(string value) : RefValue
{
    public string Value { get; } = value;
}

public sealed class VCompound(string head, RefValue[] fields) : RefValue
{
    public string Head { get; } = head;
    public RefValue[] Fields { get; } = fields;
}

public sealed class VNil : RefValue
{
    public static readonly VNil I = new();
}

public sealed class VCons(RefValue head, RefValue tail) : RefValue
{
    public RefValue Head { get; } = head;
    public RefValue Tail { get; } = tail;
}

public sealed class VAnchored(RefValue value, string anchor) : RefValue
{
    public RefValue Value { get; } = value;
    public string Anchor { get; } = anchor;
}

/// <summary>A failed operation: a message and where it happened. Errors are values (SEMANTICS-10.md).</summary>
public sealed class VError(string message, RefLoc loc) : RefValue
{
    public string Message { get; } = message;
    public RefLoc Loc { get; } = loc;
    public override string ToString() => $"{Loc}: error: {Message}";
}

/// <summary>Where code runs: user code, or prelude code entered from the user's reference Entry.</summary>
public sealed record RefCode(bool Prelude, RefLoc? Entry);

/// <summary>A function value: a closure or a definition, with the arguments given so far (partial application).</summary>
public abstract class VFun(RefValue[] args) : RefValue
{
    public RefValue[] Args { get; } = args;
    public abstract int Arity { get; }
}

public sealed class VClosure(Lambda lam, RefEnv? env, RefCode code, RefValue[] args, string? self = null) : VFun(args)
{
    public Lambda Lam { get; } = lam;
    /// <summary>A local `fn`'s own name (bound to itself in Env; not substituted when printed).</summary>
    public string? Self { get; } = self;
    public RefEnv? Env { get; } = env;
    public RefCode Code { get; } = code;
    public override int Arity => Lam.Params.Count;
}

public sealed class VDefRef(Definition def, RefCode code, RefValue[] args) : VFun(args)
{
    public Definition Def { get; } = def;
    /// <summary>Code.Prelude: a prelude definition, Entry the user's reference to it.</summary>
    public RefCode Code { get; } = code;
    public override int Arity => Def.Params.Count;
}

/// <summary>A suspended question: its candidates are values, it is asked when inspected (then Answer is set).</summary>
public sealed class VQuestion(SiteExpr site, RefValue[] cands, RefValue? tail, RefEnv? env, RefLoc loc) : RefValue
{
    public SiteExpr Site { get; } = site;
    public RefValue[] Cands { get; } = cands;
    public RefValue? Tail { get; } = tail;
    public RefEnv? Env { get; } = env;
    public RefLoc Loc { get; } = loc;
    public RefValue? Answer { get; set; }
}

/// <summary>Variables and local anchors (anchors are stored as "@name").</summary>
public sealed record RefEnv(string Name, RefValue Value, RefEnv? Next)
{
    /// <summary>Settable once, for a local `fn` that refers to itself.</summary>
    public RefValue Value { get; set; } = Value;

    public static RefValue? Find(RefEnv? env, string name)
    {
        for (var e = env; e != null; e = e.Next)
            if (e.Name == name) return e.Value;
        return null;
    }
}

/// <summary>A question the interpreter asked: its canonical text, its anchor bindings (sorted `@a=v` joined by `;`), its location.</summary>
public sealed record RefQuestion(string Expression, string Bindings, string Location)
{
    public string Key => Bindings.Length == 0 ? Expression : Expression + " {" + Bindings + "}";
}

/// <summary>What a reference run gives: the printed value, or the first error met while printing; the distinct questions asked.</summary>
public sealed record RefResult(string? Output, Term? Value, string? Error, string? ErrorLocation, IReadOnlyList<RefQuestion> Questions)
{
    public bool Ok => Error == null;
    public override string ToString() => Ok ? Output! : Error!;
}

/// <summary>The interpreter met something it does not define (a bug in the generator or the interpreter, never a program error).</summary>
public sealed class RefInternalException(string message) : Exception(message);

/// <summary>The oracle could not answer: the run fails (as `lmn run` does).</summary>
public sealed class RefOracleFailure(string message) : Exception(message);

/// <summary>The run took more steps than allowed.</summary>
public sealed class RefFuelExhausted() : Exception("the reference run exceeded its step budget");
