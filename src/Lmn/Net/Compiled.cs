using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;

namespace Lmn.Net;

/// <summary>How an engine instantiates a definition when a CALL fires.</summary>
public enum EngineMode
{
    /// <summary>The reference: copy the template with fresh addresses, link its root and redexes (HVM2's run-c).</summary>
    Interpret,

    /// <summary>Walk the template against the caller's port, firing what fires at once (FastCall.cs).</summary>
    Fast,

    /// <summary>Each definition compiled to IL when first called (Compiled.cs): the fast walk, unrolled.</summary>
    Compiled,
}

/// <summary>
/// Compiled definitions. When a definition is first called, its template is turned into IL (a
/// <see cref="DynamicMethod"/>) that does what <see cref="EngineCore{TSync}.FastCall"/> does for that
/// template, with the template's shape known: no template is read at run time, no tag of a template port
/// is tested, and the template's variables live in IL locals instead of the _vloc/_vval arrays. What is
/// left to test at run time is the caller's side: the tag of the port each template node meets (ANNI,
/// ERAS, a safe REF copied into a DUP, OPER on a number, SWIT on a number: fired at once and counted;
/// anything else: the node is built and linked, and the interaction is left to the redex loop), and for a
/// variable met once, whether its first end was linked or built (one local holds either).
///
/// The counts are the interpreter's: each rule fired here is one the interpreter would fire on the same
/// two nodes (strong confluence: the order does not change the count), and an operator's first port that
/// is a template variable is still a variable when the operator meets its number (OPER reads that port's
/// tag; see FastCall.cs).
///
/// Definitions above <see cref="MaxNodes"/> nodes (rare: a long literal list in an LMN program) keep the
/// fast walk; so do oracle sites and error values, which are never instantiated.
/// </summary>
internal sealed class CodeCache<TSync> where TSync : struct, ISync
{
    public delegate void DefCode(EngineCore<TSync> e, uint b);

    /// <summary>Largest template compiled; larger ones use the fast walk (code size grows with nodes × depth).</summary>
    public const int MaxNodes = 256;

    private readonly Book _book;
    private readonly DefCode?[] _code;
    private readonly object _lock = new();

    public CodeCache(Book book)
    {
        _book = book;
        _code = new DefCode?[book.Defs.Count];
    }

    /// <summary>Definitions compiled to IL so far (not those left to the fast walk).</summary>
    public int Compiled { get; private set; }

    public DefCode?[] Code => _code;

    /// <summary>The compiled code of fid, generated on first use (thread-safe).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public DefCode Get(int fid)
    {
        lock (_lock)
        {
            var c = Volatile.Read(ref _code[fid]);
            if (c != null) return c;
            c = DefEmitter<TSync>.Emit(_book.Defs[fid], fid);
            if (c != null) Compiled++;
            else c = (e, b) => { if (b != Port.NONE) e.FastCallFid(fid, b); };
            Volatile.Write(ref _code[fid], c);
            return c;
        }
    }
}

/// <summary>Turns one definition's template into IL (see <see cref="CodeCache{TSync}"/>).</summary>
internal sealed class DefEmitter<TSync> where TSync : struct, ISync
{
    private static readonly Type E = typeof(EngineCore<TSync>);
    private const BindingFlags Inst = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public;

    private static MethodInfo M(string name) => E.GetMethod(name, Inst) ?? throw new MissingMethodException(E.Name, name);

    private static readonly MethodInfo Enter = M("Enter");
    private static readonly MethodInfo Link = M(nameof(EngineCore<TSync>.CLink));
    private static readonly MethodInfo LinkAtom = M(nameof(EngineCore<TSync>.CLinkAtom));
    private static readonly MethodInfo NewVar = M(nameof(EngineCore<TSync>.CNewVar));
    private static readonly MethodInfo SlotFor = M(nameof(EngineCore<TSync>.CSlotFor));
    private static readonly MethodInfo NewNode = M(nameof(EngineCore<TSync>.CNewNode));
    private static readonly MethodInfo SetNode = M(nameof(EngineCore<TSync>.CSetNode));
    private static readonly MethodInfo TakeNode = M(nameof(EngineCore<TSync>.CTakeNode));
    private static readonly MethodInfo IsSafeRef = M(nameof(EngineCore<TSync>.CIsSafeRef));
    private static readonly MethodInfo OperNum = M(nameof(EngineCore<TSync>.COperNum));
    private static readonly MethodInfo Pred = M(nameof(EngineCore<TSync>.CPred));
    private static readonly MethodInfo[] Count = Rule.Names.Select(n => M("C" + n)).ToArray();

    private readonly Def _def;
    private readonly ILGenerator _il;
    private readonly LocalBuilder[] _x; // per template variable: the partner of its first end, or its slot
    private readonly byte[] _met;       // per template variable: ends met so far at this point of the code
    private bool _uneven;               // two branches left the variables in different states (never expected)

    private DefEmitter(Def def, ILGenerator il)
    {
        _def = def;
        _il = il;
        _x = new LocalBuilder[def.Vars];
        for (int i = 0; i < def.Vars; i++) _x[i] = il.DeclareLocal(typeof(uint));
        _met = new byte[def.Vars];
    }

    /// <summary>The compiled code of a definition, or null if it keeps the fast walk.</summary>
    public static CodeCache<TSync>.DefCode? Emit(Def def, int fid)
    {
        if (def.SiteId >= 0 || def.Poison || def.Nodes.Count > MaxNodesOf) return null;
        var dm = new DynamicMethod("lmn_" + fid, typeof(void), [E, typeof(uint)], typeof(EngineCore<>).Module, skipVisibility: true);
        var il = dm.GetILGenerator();
        var g = new DefEmitter<TSync>(def, il);
        var b = il.DeclareLocal(typeof(uint));
        // Called with NONE (never a port a CALL meets) it returns at once: that call makes the JIT compile it.
        var go = il.DefineLabel();
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Ldc_I4_M1);
        il.Emit(OpCodes.Bne_Un, go);
        il.Emit(OpCodes.Ret);
        il.MarkLabel(go);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Stloc, b);
        g.LinkT(def.Root, b);
        foreach (ulong r in def.Redexes) g.LinkTT(Port.Fst(r), Port.Snd(r));
        il.Emit(OpCodes.Ret);
        // Every variable of a net has two ends; a template that breaks this keeps the fast walk.
        if (g._met.Any(m => m != 2) || g._uneven) return null;
        return (CodeCache<TSync>.DefCode)dm.CreateDelegate(typeof(CodeCache<TSync>.DefCode));
    }

    private const int MaxNodesOf = CodeCache<TSync>.MaxNodes;

    private uint Fst(uint t) => Port.Fst(_def.Nodes[(int)(t >> 3)]);

    private uint Snd(uint t) => Port.Snd(_def.Nodes[(int)(t >> 3)]);

    private int Size(uint t) => Port.TagOf(t) >= Tag.CON ? 1 + Size(Fst(t)) + Size(Snd(t)) : 0;

    private void Ldc(uint v) => _il.Emit(OpCodes.Ldc_I4, unchecked((int)v));

    private void Counted(int rule)
    {
        _il.Emit(OpCodes.Ldarg_0);
        _il.Emit(OpCodes.Call, Count[rule]);
    }

    private LocalBuilder Const(uint v)
    {
        var l = _il.DeclareLocal(typeof(uint));
        Ldc(v);
        _il.Emit(OpCodes.Stloc, l);
        return l;
    }

    private LocalBuilder Store()
    {
        var l = _il.DeclareLocal(typeof(uint));
        _il.Emit(OpCodes.Stloc, l);
        return l;
    }

    // Variables: the state of each is known at every point of the code (ends met: 0, 1 or 2); which
    // kind a once-met variable is (linked to a port, or given a slot) is not, and need not be: the
    // local holds the port its second end stands for either way.

    /// <summary>Pushes the port a variable's end stands for where it is built.</summary>
    private void VarEnd(int i)
    {
        if (_met[i] == 0)
        {
            _il.Emit(OpCodes.Ldarg_0);
            _il.Emit(OpCodes.Call, NewVar);
            _il.Emit(OpCodes.Dup);
            _il.Emit(OpCodes.Stloc, _x[i]);
        }
        else _il.Emit(OpCodes.Ldloc, _x[i]);
        _met[i]++;
    }

    /// <summary>Pushes a variable's end that must stay a variable (an operator's first port).</summary>
    private void VarSlot(int i)
    {
        if (_met[i] == 0)
        {
            VarEnd(i);
            return;
        }
        _il.Emit(OpCodes.Ldarg_0);
        _il.Emit(OpCodes.Ldloc, _x[i]);
        _il.Emit(OpCodes.Call, SlotFor);
        _met[i]++;
    }

    private void LinkVar(int i, LocalBuilder b)
    {
        if (_met[i] == 0)
        {
            _il.Emit(OpCodes.Ldloc, b);
            _il.Emit(OpCodes.Stloc, _x[i]);
        }
        else
        {
            _il.Emit(OpCodes.Ldarg_0);
            _il.Emit(OpCodes.Ldloc, _x[i]);
            _il.Emit(OpCodes.Ldloc, b);
            _il.Emit(OpCodes.Call, Link);
        }
        _met[i]++;
    }

    /// <summary>Pushes the port of a template subtree built into the net (straight-line code).</summary>
    private void Build(uint t)
    {
        uint tag = Port.TagOf(t);
        if (tag == Tag.VAR) VarEnd((int)(t >> 3));
        else if (tag < Tag.CON) Ldc(t);
        else
        {
            _il.Emit(OpCodes.Ldarg_0);
            uint f = Fst(t);
            if (tag == Tag.OPR && Port.TagOf(f) == Tag.VAR) VarSlot((int)(f >> 3));
            else Build(f);
            Build(Snd(t));
            Ldc(tag);
            _il.Emit(OpCodes.Call, NewNode);
        }
    }

    private void LinkT(uint t, LocalBuilder b)
    {
        uint tag = Port.TagOf(t);
        if (tag == Tag.VAR) LinkVar((int)(t >> 3), b);
        else if (tag < Tag.CON)
        {
            _il.Emit(OpCodes.Ldarg_0);
            Ldc(t);
            _il.Emit(OpCodes.Ldloc, b);
            _il.Emit(OpCodes.Call, LinkAtom);
        }
        else LinkTpl(t, b);
    }

    private void LinkTT(uint t1, uint t2)
    {
        if (Port.TagOf(t1) == Tag.VAR)
        {
            VarEnd((int)(t1 >> 3));
            LinkT(t2, Store());
        }
        else if (Port.TagOf(t2) == Tag.VAR)
        {
            VarEnd((int)(t2 >> 3));
            LinkT(t1, Store());
        }
        else if (Port.TagOf(t2) < Tag.CON) LinkT(t1, Const(t2));
        else if (Port.TagOf(t1) < Tag.CON) LinkT(t2, Const(t1));
        else if (Port.TagOf(t1) == Port.TagOf(t2))
        {
            //  T(a1 a2) ~ T(b1 b2), both in the template: ANNI
            Counted(Rule.ANNI);
            LinkTT(Fst(t1), Fst(t2));
            LinkTT(Snd(t1), Snd(t2));
        }
        else
        {
            _il.Emit(OpCodes.Ldarg_0);
            Build(t1);
            Build(t2);
            _il.Emit(OpCodes.Call, Link);
        }
    }

    /// <summary>A branch of the generated code: runs from the given variable state, which every branch must leave alike.</summary>
    private void Branch(byte[] start, ref byte[]? end, Action body)
    {
        start.CopyTo(_met, 0);
        body();
        if (end == null) end = (byte[])_met.Clone();
        else if (!end.AsSpan().SequenceEqual(_met)) _uneven = true;
    }

    /// <summary>A template node meets a port of the net: what fires at once fires, else the node is built.</summary>
    private void LinkTpl(uint t, LocalBuilder b0)
    {
        var il = _il;
        uint tag = Port.TagOf(t);
        uint t1 = Fst(t), t2 = Snd(t);
        var b = il.DeclareLocal(typeof(uint));
        var bt = il.DeclareLocal(typeof(uint));
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Ldloc, b0);
        il.Emit(OpCodes.Call, Enter);
        il.Emit(OpCodes.Dup);
        il.Emit(OpCodes.Stloc, b);
        Ldc(7);
        il.Emit(OpCodes.And);
        il.Emit(OpCodes.Stloc, bt);
        var end = il.DefineLabel();
        byte[] start = (byte[])_met.Clone();
        byte[]? after = null;
        // The branches that walk the children again (ERAS, a copied REF) are generated only for a node
        // whose children are leaves: nested, they would multiply the code by three per level.
        bool small = Size(t) == 1;

        //  T(t1 t2) ~ T(b1 b2)  →  t1 ~ b1, t2 ~ b2   (ANNI; constructors and duplicators: an operator
        //  or a switch meeting its own kind is rare, and left to the redex loop)
        var next = il.DefineLabel();
        if (tag <= Tag.DUP)
        {
        il.Emit(OpCodes.Ldloc, bt);
        Ldc(tag);
        il.Emit(OpCodes.Bne_Un, next);
        Branch(start, ref after, () =>
        {
            Counted(Rule.ANNI);
            var bn = il.DeclareLocal(typeof(ulong));
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Ldloc, b);
            il.Emit(OpCodes.Call, TakeNode);
            il.Emit(OpCodes.Stloc, bn);
            var lo = il.DeclareLocal(typeof(uint));
            var hi = il.DeclareLocal(typeof(uint));
            il.Emit(OpCodes.Ldloc, bn);
            il.Emit(OpCodes.Conv_U4);
            il.Emit(OpCodes.Stloc, lo);
            il.Emit(OpCodes.Ldloc, bn);
            il.Emit(OpCodes.Ldc_I4, 32);
            il.Emit(OpCodes.Shr_Un);
            il.Emit(OpCodes.Conv_U4);
            il.Emit(OpCodes.Stloc, hi);
            // A variable second (typically the return wire) first, as FastCall does.
            if (Port.TagOf(t2) == Tag.VAR)
            {
                LinkT(t2, hi);
                LinkT(t1, lo);
            }
            else
            {
                LinkT(t1, lo);
                LinkT(t2, hi);
            }
        });
        il.Emit(OpCodes.Br, end);
        }
        il.MarkLabel(next);

        if (small)
        {
            //  T(t1 t2) ~ atom  →  t1 ~ atom, t2 ~ atom   (ERAS; a number erases CON and DUP only)
            next = il.DefineLabel();
            var hit = il.DefineLabel();
            il.Emit(OpCodes.Ldloc, bt);
            Ldc(Tag.ERA);
            il.Emit(OpCodes.Beq, hit);
            if (tag <= Tag.DUP)
            {
                il.Emit(OpCodes.Ldloc, bt);
                Ldc(Tag.NUM);
                il.Emit(OpCodes.Beq, hit);
            }
            il.Emit(OpCodes.Br, next);
            il.MarkLabel(hit);
            Branch(start, ref after, () =>
            {
                Counted(Rule.ERAS);
                LinkT(t1, b);
                LinkT(t2, b);
            });
            il.Emit(OpCodes.Br, end);
            il.MarkLabel(next);

            if (tag == Tag.DUP)
            {
                //  @safe ~ {t1 t2}  →  t1 ~ @safe, t2 ~ @safe   (CALL as a copy)
                next = il.DefineLabel();
                il.Emit(OpCodes.Ldloc, bt);
                Ldc(Tag.REF);
                il.Emit(OpCodes.Bne_Un, next);
                il.Emit(OpCodes.Ldarg_0);
                il.Emit(OpCodes.Ldloc, b);
                il.Emit(OpCodes.Call, IsSafeRef);
                il.Emit(OpCodes.Brfalse, next);
                Branch(start, ref after, () =>
                {
                    Counted(Rule.CALL);
                    LinkT(t1, b);
                    LinkT(t2, b);
                });
                il.Emit(OpCodes.Br, end);
                il.MarkLabel(next);
            }
        }

        if (tag == Tag.OPR)
        {
            next = il.DefineLabel();
            il.Emit(OpCodes.Ldloc, bt);
            Ldc(Tag.NUM);
            il.Emit(OpCodes.Bne_Un, next);
            Branch(start, ref after, () =>
            {
                Counted(Rule.OPER);
                if (Port.TagOf(t1) == Tag.NUM)
                {
                    //  #x ~ $(#y t2)  →  t2 ~ #op(x, y)
                    il.Emit(OpCodes.Ldarg_0);
                    il.Emit(OpCodes.Ldloc, b);
                    Ldc(t1);
                    il.Emit(OpCodes.Call, OperNum);
                    LinkT(t2, Store());
                }
                else
                {
                    //  #x ~ $(t1 t2)  →  t1 ~ $(#x t2)
                    il.Emit(OpCodes.Ldarg_0);
                    il.Emit(OpCodes.Ldloc, b);
                    Build(t2);
                    Ldc(Tag.OPR);
                    il.Emit(OpCodes.Call, NewNode);
                    LinkT(t1, Store());
                }
            });
            il.Emit(OpCodes.Br, end);
            il.MarkLabel(next);
        }

        if (tag == Tag.SWI)
        {
            next = il.DefineLabel();
            il.Emit(OpCodes.Ldloc, bt);
            Ldc(Tag.NUM);
            il.Emit(OpCodes.Bne_Un, next);
            Branch(start, ref after, () => Swit(t1, t2, b));
            il.Emit(OpCodes.Br, end);
            il.MarkLabel(next);
        }

        // Anything else (a variable, another kind of node, a reference, an atom this node does not
        // take at once): build the node and link it; the redex loop does the rest.
        Branch(start, ref after, () =>
        {
            il.Emit(OpCodes.Ldarg_0);
            Build(t);
            il.Emit(OpCodes.Ldloc, b);
            il.Emit(OpCodes.Call, Link);
        });
        il.MarkLabel(end);
        after!.CopyTo(_met, 0);
    }

    //  #n ~ ?(t1 t2)   (SWIT)  →  t1 ~ (t2 *)  if n = 0,  t1 ~ (* (#n-1 t2))  otherwise
    private void Swit(uint t1, uint t2, LocalBuilder b)
    {
        var il = _il;
        Counted(Rule.SWIT);
        // The predecessor's port, #(n-1) (only used when n > 0); zero when n = 0.
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Ldloc, b);
        il.Emit(OpCodes.Call, Pred);
        var pred = Store();
        var nonzero = il.DefineLabel();
        var done = il.DefineLabel();
        il.Emit(OpCodes.Ldloc, pred);
        il.Emit(OpCodes.Brtrue, nonzero);
        byte[] start = (byte[])_met.Clone();
        byte[]? after = null;
        if (Port.TagOf(t1) == Tag.CON)
        {
            //  t1 = (z s): the new CON annihilates with it at once (ANNI)
            uint z = Fst(t1), s = Snd(t1);
            Branch(start, ref after, () =>
            {
                Counted(Rule.ANNI);
                LinkTT(z, t2);
                LinkT(s, Const(Tag.ERA));
            });
            il.Emit(OpCodes.Br, done);
            il.MarkLabel(nonzero);
            Branch(start, ref after, () =>
            {
                Counted(Rule.ANNI);
                LinkT(z, Const(Tag.ERA));
                if (Port.TagOf(s) == Tag.CON)
                {
                    //  s = (p r): (#n-1 t2) annihilates with it too (ANNI)
                    Counted(Rule.ANNI);
                    LinkT(Fst(s), pred);
                    LinkTT(Snd(s), t2);
                }
                else
                {
                    il.Emit(OpCodes.Ldarg_0);
                    il.Emit(OpCodes.Ldloc, pred);
                    Build(t2);
                    Ldc(Tag.CON);
                    il.Emit(OpCodes.Call, NewNode);
                    LinkT(s, Store());
                }
            });
        }
        else
        {
            Branch(start, ref after, () =>
            {
                il.Emit(OpCodes.Ldarg_0);
                Build(t2);
                Ldc(Tag.ERA);
                Ldc(Tag.CON);
                il.Emit(OpCodes.Call, NewNode);
                LinkT(t1, Store());
            });
            il.Emit(OpCodes.Br, done);
            il.MarkLabel(nonzero);
            Branch(start, ref after, () =>
            {
                il.Emit(OpCodes.Ldarg_0);
                Ldc(Tag.ERA);
                il.Emit(OpCodes.Ldarg_0);
                il.Emit(OpCodes.Ldloc, pred);
                Build(t2);
                Ldc(Tag.CON);
                il.Emit(OpCodes.Call, NewNode);
                Ldc(Tag.CON);
                il.Emit(OpCodes.Call, NewNode);
                LinkT(t1, Store());
            });
        }
        il.MarkLabel(done);
        after!.CopyTo(_met, 0);
    }
}

/// <summary>The engine's side of compiled definitions: small inlined steps the generated IL calls.</summary>
public unsafe partial class EngineCore<TSync>
{
    private CodeCache<TSync>? _codeCache;
    private CodeCache<TSync>.DefCode?[]? _code;

    /// <summary>Definitions compiled to IL so far in this net (0 unless the mode is Compiled).</summary>
    public int CompiledDefinitions => _codeCache?.Compiled ?? 0;

    private void InitCode(NetMemory mem)
    {
        if (Mode != EngineMode.Compiled) return;
        lock (mem)
        {
            _codeCache = (CodeCache<TSync>)mem.CodeFor<TSync>(() => new CodeCache<TSync>(mem.Book));
        }
        _code = _codeCache.Code;
    }

    /// <summary>Calls before a definition is compiled when it was not compiled at load (<see cref="Precompile"/>).</summary>
    public const int CompileAfterCalls = 64;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CompiledCall(int fid, DefData* d, uint b)
    {
        var c = _code![fid];
        if (c != null) c(this, b);
        else if (++d->Calls < CompileAfterCalls) FastCall(d, b); // a racy count among threads: only a threshold
        else _codeCache!.Get(fid)(this, b);
    }

    /// <summary>
    /// Compiles every definition now (and has the JIT compile each), so that a timed run does not pay for
    /// it; without this, a definition is compiled after <see cref="CompileAfterCalls"/> calls (short runs
    /// of programs with many definitions never pay for the ones called a few times). Returns the time taken.
    /// </summary>
    public TimeSpan Precompile()
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        if (_codeCache == null) return sw.Elapsed;
        for (int fid = 0; fid < _mem.DefCount; fid++) _codeCache.Get(fid)(this, Port.NONE);
        return sw.Elapsed;
    }

    internal void FastCallFid(int fid, uint b) => FastCall(_defs + fid, b);

    // Link is big (a loop, the redex bags): generated code calls it out of line, so that a definition's
    // code stays small enough for the instruction cache.
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal void CLink(uint a, uint b) => Link(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void CLinkAtom(uint t, uint b)
    {
        b = Enter(b);
        uint bt = Port.TagOf(b);
        if (bt != Tag.VAR && bt < Tag.CON) _nVoid++; // atom meets atom: VOID
        else CLink(t, b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal uint CNewVar()
    {
        uint v = AllocVar();
        _vars[v] = Port.NONE;
        return v << 3;
    }

    /// <summary>An operator's first port for a variable met once: a variable stays; anything else gets a slot holding it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal uint CSlotFor(uint x)
    {
        if (Port.TagOf(x) == Tag.VAR) return x;
        uint v = AllocVar();
        _vars[v] = x; // fresh and unpublished: a plain store is safe
        return v << 3;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal uint CNewNode(uint a, uint b, uint tag)
    {
        uint n = AllocNode();
        _node[n] = Port.Pair(a, b);
        return (n << 3) | tag;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void CSetNode(uint n, uint a, uint b) => _node[n] = Port.Pair(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong CTakeNode(uint p)
    {
        uint i = p >> 3;
        ulong n = _node[i];
        FreeNode(i);
        return n;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool CIsSafeRef(uint p) => _defs[(p >> 3) & 0x0FFF_FFFF].Safe;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal uint COperNum(uint a, uint b) => Port.New(Tag.NUM, Numb.Operate(a >> 3, b >> 3));

    /// <summary>For a switch on #n: 0 if n = 0, else the port of #(n-1) (never 0: a NUM port has tag 3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal uint CPred(uint a)
    {
        uint av = Numb.GetU24(a >> 3);
        return av == 0 ? 0 : Port.New(Tag.NUM, Numb.NewU24(av - 1));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] internal void CLINK() => _nLink++;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] internal void CCALL() => _nCall++;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] internal void CVOID() => _nVoid++;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] internal void CERAS() => _nEras++;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] internal void CANNI() => _nAnni++;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] internal void CCOMM() => _nComm++;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] internal void COPER() => _nOper++;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] internal void CSWIT() => _nSwit++;
}
