namespace Lmn.Language;

/// <summary>Surface syntax of LMN, as parsed. Offset is the source offset used in diagnostics.</summary>
public abstract record Expr(int Offset);

public sealed record NumLit(int Offset, uint Numb) : Expr(Offset);
public sealed record StrLit(int Offset, string Value) : Expr(Offset);
/// <summary>An identifier: a variable, a definition or a word, decided by scope.</summary>
public sealed record Name(int Offset, string Id) : Expr(Offset);
/// <summary>`'name`: the word name, even where a variable or definition of that name is in scope.</summary>
public sealed record QuotedWord(int Offset, string Id) : Expr(Offset);
public sealed record AnchorRef(int Offset, string Anchor) : Expr(Offset);
public sealed record Anchored(int Offset, string Anchor, Expr Body) : Expr(Offset);
public sealed record CompoundLit(int Offset, string Head, IReadOnlyList<Expr> Fields) : Expr(Offset);
/// <summary>`[a, b]` or `[a, ...t]` (Tail is the spread list).</summary>
public sealed record ListLit(int Offset, IReadOnlyList<Expr> Items, Expr? Tail) : Expr(Offset);
public sealed record Lambda(int Offset, IReadOnlyList<Param> Params, Expr Body) : Expr(Offset);
/// <summary>How an application was written: `f(x)` (Call), `f x` (Juxt: a phrase when f is not a function), `x → f` (Flow: a flow of steps when f is not a function).</summary>
public enum ApplyKind { Call, Juxt, Flow }
public sealed record Apply(int Offset, Expr Fn, Expr Arg, ApplyKind Kind = ApplyKind.Call) : Expr(Offset);
/// <summary>`e @ ctx`: the oracle picks one element of the superposition e (a list) in the context ctx; anything else is itself.</summary>
public sealed record Collapse(int Offset, int End, Expr Sup, Expr Ctx) : Expr(Offset);
/// <summary>`∿ now [e]`, `∿ now e`, `∿ now [label] { block }`: e with the tense anchor in scope, anchored to the tense.</summary>
public sealed record Wave(int Offset, string Tense, Expr? Label, Expr Body) : Expr(Offset);
/// <summary>`fn name(a, b) = body` in a block: a local function that may call itself; Rest is what follows.</summary>
public sealed record LetFn(int Offset, string Name, IReadOnlyList<Param> Params, Expr Body, Expr Rest) : Expr(Offset);
/// <summary>A program's several top-level expressions: each is printed on its own line.</summary>
public sealed record Lines(int Offset, IReadOnlyList<Expr> Items) : Expr(Offset);
public sealed record LetIn(int Offset, Pattern Pattern, Expr Value, Expr Body) : Expr(Offset);
public sealed record LetAnchor(int Offset, string Anchor, Expr Value, Expr Body) : Expr(Offset);
public sealed record IfThen(int Offset, Expr Cond, Expr Then, Expr Else) : Expr(Offset);
public sealed record MatchExpr(int Offset, Expr Scrutinee, IReadOnlyList<Arm> Arms) : Expr(Offset);
public sealed record Binary(int Offset, Tok Op, Expr Left, Expr Right) : Expr(Offset);
public sealed record Unary(int Offset, Tok Op, Expr Operand) : Expr(Offset);
/// <summary>`∿head[c1, ..., cn]` (Open = false) or `~head[a1, ..., an]` (Open = true); Tail is a spread list.</summary>
public sealed record SiteExpr(int Offset, int End, bool Open, string Head, IReadOnlyList<Expr> Args, Expr? Tail, string? Type) : Expr(Offset);
/// <summary>`e : type`.</summary>
public sealed record Typed(int Offset, Expr Body, string Type) : Expr(Offset);
/// <summary>Stands in for an expression that did not parse (its error is already reported).</summary>
public sealed record BadExpr(int Offset) : Expr(Offset);

public sealed record Param(int Offset, string Id);

public sealed record Arm(int Offset, Pattern Pattern, Expr Body);

public abstract record Pattern(int Offset);
public sealed record PNum(int Offset, uint Numb) : Pattern(Offset);
/// <summary>`k+p`: matches a number n >= k and matches p against n - k.</summary>
public sealed record PSucc(int Offset, uint K, Pattern Pred) : Pattern(Offset);
/// <summary>An identifier: a word if the program uses that word in an expression, else a variable.</summary>
public sealed record PName(int Offset, string Id) : Pattern(Offset);
/// <summary>`'name` in a pattern: always the word name.</summary>
public sealed record PWord(int Offset, string Id) : Pattern(Offset);
public sealed record PWild(int Offset) : Pattern(Offset);
public sealed record PStr(int Offset, string Value) : Pattern(Offset);
public sealed record PCompound(int Offset, string Head, IReadOnlyList<Pattern> Fields) : Pattern(Offset);
public sealed record PList(int Offset, IReadOnlyList<Pattern> Items, Pattern? Tail) : Pattern(Offset);
public sealed record PBad(int Offset) : Pattern(Offset);

public sealed record Definition(int Offset, string Name, IReadOnlyList<Param> Params, Expr Body);

/// <summary>A parsed file: its definitions and, optionally, the trailing expression that is its entry point.</summary>
/// <summary>A parsed file. Broken: names of definitions that did not parse (their errors are reported; later passes stay quiet about them).</summary>
public sealed record ProgramAst(IReadOnlyList<Definition> Defs, Expr? Main, IReadOnlySet<string>? Broken = null);
