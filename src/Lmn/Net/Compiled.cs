using System.Diagnostics.CodeAnalysis;
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
            c = DefEmitter<TSync>.Emit(_book, fid);
            if (c != null) Compiled++;
            else c = (e, b) => { if (b != Port.NONE) e.FastCallFid(fid, b); };
            Volatile.Write(ref _code[fid], c);
            return c;
        }
    }
}

/// <summary>
/// Turns one definition's template into IL (see <see cref="CodeCache{TSync}"/>). Besides the fast walk
/// unrolled, the code does three things the template's shape allows at compile time:
/// <list type="bullet">
/// <item>A call of the definition itself in tail position (the last link its code makes) is a jump back
/// to the start of the code with the new port, counted as the CALL it is: a loop instead of a redex
/// pushed and popped (HVM3's loops for tail calls). At most <see cref="SelfLoops"/> jumps per entry, so
/// the redex loop still checks its fuel, Ctrl+C and the other workers' hunger.</item>
/// <item>A reference meeting a template node (a redex of the template, or a switch's branch meeting the
/// constructor the switch builds) is expanded in place: the callee's template is inlined, renamed, and
/// walked against the caller's node, so the CALL and the ANNI that follows fire without building either
/// node (up to <see cref="MaxInlineDepth"/> levels and <see cref="CodeCache{TSync}.MaxNodes"/> nodes).</item>
/// <item>A port known at compile time to be a number or an eraser (a switch's predecessor, an operator's
/// result, a literal) meets template nodes with the rule chosen statically, with no tag test.</item>
/// </list>
/// Every rule fired this way is one the interpreter fires on the same two nodes, so the counts stay
/// exact (strong confluence; a redex fired early is fired once either way).
/// </summary>
internal sealed class DefEmitter<TSync> where TSync : struct, ISync
{
    // The engine's steps are looked up by name: kept, with their metadata, when the library is trimmed.
    [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicMethods | DynamicallyAccessedMemberTypes.NonPublicMethods)]
    private static readonly Type E = typeof(EngineCore<TSync>);
    private const BindingFlags Inst = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public;

    private static MethodInfo M(string name) => E.GetMethod(name, Inst) ?? throw new MissingMethodException(E.Name, name);

    private static readonly MethodInfo Enter = M("Enter");
    private static readonly MethodInfo Link = M(nameof(EngineCore<TSync>.CLink));
    private static readonly MethodInfo LinkAtom = M(nameof(EngineCore<TSync>.CLinkAtom));
    private static readonly MethodInfo NewVar = M(nameof(EngineCore<TSync>.CNewVar));
    private static readonly MethodInfo SlotFor = M(nameof(EngineCore<TSync>.CSlotFor));
    private static readonly MethodInfo NewNode = M(nameof(EngineCore<TSync>.CNewNode));
    private static readonly MethodInfo TakeNode = M(nameof(EngineCore<TSync>.CTakeNode));
    private static readonly MethodInfo IsSafeRef = M(nameof(EngineCore<TSync>.CIsSafeRef));
    private static readonly MethodInfo OperNum = M(nameof(EngineCore<TSync>.COperNum));
    private static readonly MethodInfo Pred = M(nameof(EngineCore<TSync>.CPred));
    private static readonly MethodInfo Tail = M(nameof(EngineCore<TSync>.CTail));
    private static readonly MethodInfo[] Count = Rule.Names.Select(n => M("C" + n)).ToArray();

    /// <summary>Jumps back to the start per entry of the code; then the tail call goes through the redex loop.</summary>
    public const int SelfLoops = 256;

    /// <summary>Definitions inlined into each other at most this deep.</summary>
    public const int MaxInlineDepth = 2;

    private const int MaxNodesOf = CodeCache<TSync>.MaxNodes;

    private readonly Book _book;
    private readonly int _fid;            // the definition compiled
    private readonly bool _selfSafe;
    private readonly ILGenerator _il;
    private readonly List<ulong> _nodes;  // the template's nodes, then those of each definition inlined (renamed)
    private readonly List<LocalBuilder> _x = []; // per variable: the partner of its first end, or its slot
    private readonly List<byte> _met = [];       // per variable: ends met so far at this point of the code
    private bool _uneven;                 // two branches left the variables in different states (never expected)
    private int _depth;                   // definitions inlined around this point of the code
    private LocalBuilder _b = null!;      // the port the definition's root meets
    private LocalBuilder _iter = null!;   // self jumps left
    private Label _top;

    private DefEmitter(Book book, int fid, ILGenerator il)
    {
        _book = book;
        _fid = fid;
        var def = book.Defs[fid];
        _selfSafe = def.Safe;
        _il = il;
        _nodes = [.. def.Nodes];
        AddVars(def.Vars);
    }

    private void AddVars(int n)
    {
        for (int i = 0; i < n; i++)
        {
            _x.Add(_il.DeclareLocal(typeof(uint)));
            _met.Add(0);
        }
    }

    /// <summary>The compiled code of a definition, or null if it keeps the fast walk.</summary>
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Never reached without dynamic code: EngineCore's constructor turns EngineMode.Compiled into Fast (the NativeAOT front, docs/startup.md).")]
    public static CodeCache<TSync>.DefCode? Emit(Book book, int fid)
    {
        var def = book.Defs[fid];
        if (def.SiteId >= 0 || def.Poison || def.Nodes.Count > MaxNodesOf) return null;
        var dm = new DynamicMethod("lmn_" + fid, typeof(void), [E, typeof(uint)], typeof(EngineCore<>).Module, skipVisibility: true);
        var il = dm.GetILGenerator();
        var g = new DefEmitter<TSync>(book, fid, il);
        g._b = il.DeclareLocal(typeof(uint));
        g._iter = il.DeclareLocal(typeof(int));
        // Called with NONE (never a port a CALL meets) it returns at once: that call makes the JIT compile it.
        var go = il.DefineLabel();
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Ldc_I4_M1);
        il.Emit(OpCodes.Bne_Un, go);
        il.Emit(OpCodes.Ret);
        il.MarkLabel(go);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Stloc, g._b);
        il.Emit(OpCodes.Ldc_I4, SelfLoops);
        il.Emit(OpCodes.Stloc, g._iter);
        g._top = il.DefineLabel();
        il.MarkLabel(g._top);
        g.Body(def.Root, [.. def.Redexes], g._b, tail: true);
        il.Emit(OpCodes.Ret);
        // Every variable of a net has two ends; a template that breaks this keeps the fast walk.
        if (g._met.Any(m => m != 2) || g._uneven) return null;
        return (CodeCache<TSync>.DefCode)dm.CreateDelegate(typeof(CodeCache<TSync>.DefCode));
    }

    /// <summary>A definition's root meets b, then its redexes are linked; the last link is the tail.</summary>
    private void Body(uint root, ulong[] redexes, LocalBuilder b, bool tail)
    {
        SelfLast(redexes);
        LinkT(root, b, tail && redexes.Length == 0);
        for (int i = 0; i < redexes.Length; i++) LinkTT(Port.Fst(redexes[i]), Port.Snd(redexes[i]), tail && i == redexes.Length - 1);
    }

    /// <summary>
    /// Moves a redex that calls the definition itself to the end, where it is the tail and becomes a
    /// jump (the order of a net's redexes does not change its result or its counts).
    /// </summary>
    private void SelfLast(ulong[] redexes)
    {
        for (int i = redexes.Length - 1; i >= 0; i--)
        {
            uint a = Port.Fst(redexes[i]), c = Port.Snd(redexes[i]);
            if (!IsSelf(a) && !IsSelf(c)) continue;
            ulong r = redexes[i];
            Array.Copy(redexes, i + 1, redexes, i, redexes.Length - 1 - i);
            redexes[^1] = r;
            return;
        }
    }

    private bool IsSelf(uint p) => Port.TagOf(p) == Tag.REF && RefId(p) == _fid;

    private uint Fst(uint t) => Port.Fst(_nodes[(int)(t >> 3)]);

    private uint Snd(uint t) => Port.Snd(_nodes[(int)(t >> 3)]);

    private static int RefId(uint t) => (int)((t >> 3) & 0x0FFF_FFFF);

    /// <summary>Whether the variable v is a leaf of the template subtree t.</summary>
    private bool Occurs(uint v, uint t) => Port.TagOf(t) >= Tag.CON ? Occurs(v, Fst(t)) || Occurs(v, Snd(t)) : t == v;

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

    // Inlining
    // --------

    /// <summary>Whether the definition gid may be expanded in place here.</summary>
    private bool CanInline(int gid)
    {
        if (gid == _fid || _depth >= MaxInlineDepth || gid >= _book.Defs.Count) return false;
        var g = _book.Defs[gid];
        return g.SiteId < 0 && !g.Poison && _nodes.Count + g.Nodes.Count <= MaxNodesOf;
    }

    /// <summary>Appends a definition's nodes and variables, renamed past the ones already here; returns its root and redexes.</summary>
    private (uint Root, ulong[] Redexes) Rename(Def g)
    {
        uint nOff = (uint)_nodes.Count, vOff = (uint)_x.Count;
        uint Map(uint p)
        {
            uint tag = Port.TagOf(p);
            return tag == Tag.VAR ? Port.New(Tag.VAR, Port.ValOf(p) + vOff) : tag >= Tag.CON ? Port.New(tag, Port.ValOf(p) + nOff) : p;
        }
        foreach (ulong n in g.Nodes) _nodes.Add(Port.Pair(Map(Port.Fst(n)), Map(Port.Snd(n))));
        AddVars(g.Vars);
        var reds = new ulong[g.Redexes.Count];
        for (int i = 0; i < reds.Length; i++) reds[i] = Port.Pair(Map(Port.Fst(g.Redexes[i])), Map(Port.Snd(g.Redexes[i])));
        return (Map(g.Root), reds);
    }

    /// <summary>Whether @gid is expanded when it meets a node (not an oracle site, not an error value).</summary>
    private bool Callable(int gid) => gid < _book.Defs.Count && _book.Defs[gid].SiteId < 0 && !_book.Defs[gid].Poison;

    /// <summary>
    /// A reference meets p (already entered) in tail position: if p is a node that expands it, the
    /// definition itself jumps back to the start with p (counted as the CALL it is), another is left to
    /// the engine's trampoline (<see cref="EngineCore{TSync}.CTail"/>); otherwise p is linked as usual.
    /// </summary>
    private void TailCall(uint r, LocalBuilder p)
    {
        if (RefId(r) == _fid)
        {
            TailSelf(r, p);
            return;
        }
        var il = _il;
        var no = il.DefineLabel();
        var done = il.DefineLabel();
        UnlessExpands(p, _book.Defs[RefId(r)].Safe, no);
        il.Emit(OpCodes.Ldarg_0);
        Ldc((uint)RefId(r));
        il.Emit(OpCodes.Ldloc, p);
        il.Emit(OpCodes.Call, Tail);
        il.Emit(OpCodes.Br, done);
        il.MarkLabel(no);
        il.Emit(OpCodes.Ldarg_0);
        Ldc(r);
        il.Emit(OpCodes.Ldloc, p);
        il.Emit(OpCodes.Call, LinkAtom);
        il.MarkLabel(done);
    }

    /// <summary>Branches to no unless p is a node that expands a reference (a safe one meeting a DUP is copied instead).</summary>
    private void UnlessExpands(LocalBuilder p, bool safe, Label no)
    {
        _il.Emit(OpCodes.Ldloc, p);
        Ldc(7);
        _il.Emit(OpCodes.And);
        Ldc(Tag.CON);
        _il.Emit(OpCodes.Blt_Un, no);
        if (!safe) return;
        // a safe reference meeting a duplicator is copied, not expanded: the redex loop does it
        _il.Emit(OpCodes.Ldloc, p);
        Ldc(7);
        _il.Emit(OpCodes.And);
        Ldc(Tag.DUP);
        _il.Emit(OpCodes.Beq, no);
    }

    /// <summary>
    /// The definition's own reference meets p (already entered) in tail position: if p is a node that
    /// expands it, count the CALL and jump back to the start with p; otherwise link as usual.
    /// </summary>
    private void TailSelf(uint self, LocalBuilder p)
    {
        var il = _il;
        var no = il.DefineLabel();
        UnlessExpands(p, _selfSafe, no);
        il.Emit(OpCodes.Ldloc, _iter);
        il.Emit(OpCodes.Ldc_I4_1);
        il.Emit(OpCodes.Sub);
        il.Emit(OpCodes.Dup);
        il.Emit(OpCodes.Stloc, _iter);
        il.Emit(OpCodes.Ldc_I4_0);
        il.Emit(OpCodes.Blt, no);
        Counted(Rule.CALL);
        il.Emit(OpCodes.Ldloc, p);
        il.Emit(OpCodes.Stloc, _b);
        il.Emit(OpCodes.Br, _top);
        il.MarkLabel(no);
        il.Emit(OpCodes.Ldarg_0);
        Ldc(self);
        il.Emit(OpCodes.Ldloc, p);
        il.Emit(OpCodes.Call, LinkAtom);
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

    /// <summary>Builds a template subtree and links it to b: the interaction is left to the redex loop.</summary>
    private void BuildLink(uint t, LocalBuilder b)
    {
        _il.Emit(OpCodes.Ldarg_0);
        Build(t);
        _il.Emit(OpCodes.Ldloc, b);
        _il.Emit(OpCodes.Call, Link);
    }

    /// <summary>A template port meets a port of the net (b, not yet entered).</summary>
    private void LinkT(uint t, LocalBuilder b, bool tail = false)
    {
        uint tag = Port.TagOf(t);
        if (tag == Tag.VAR) LinkVar((int)(t >> 3), b);
        else if (tag == Tag.REF && tail && Callable(RefId(t)))
        {
            _il.Emit(OpCodes.Ldarg_0);
            _il.Emit(OpCodes.Ldloc, b);
            _il.Emit(OpCodes.Call, Enter);
            TailCall(t, Store());
        }
        else if (tag < Tag.CON)
        {
            _il.Emit(OpCodes.Ldarg_0);
            Ldc(t);
            _il.Emit(OpCodes.Ldloc, b);
            _il.Emit(OpCodes.Call, LinkAtom);
        }
        else LinkTpl(t, b, tail);
    }

    /// <summary>
    /// A template port meets a port known to be an atom of the given tag (NUM or ERA; its value in v):
    /// the rule is known here, so no tag is tested at run time.
    /// </summary>
    private void LinkK(uint t, LocalBuilder v, uint vtag, bool tail = false)
    {
        uint tag = Port.TagOf(t);
        if (tag == Tag.VAR) LinkVar((int)(t >> 3), v);
        else if (tag < Tag.CON) Counted(Rule.VOID); //  atom ~ atom
        else if (tag == Tag.OPR && vtag == Tag.NUM) Oper(t, v, tail);
        else if (tag == Tag.SWI && vtag == Tag.NUM) Swit(Fst(t), Snd(t), v, tail);
        else
        {
            //  X(t1 t2) ~ atom  →  t1 ~ atom, t2 ~ atom   (ERAS; a number copied into a CON or DUP)
            Counted(Rule.ERAS);
            LinkK(Fst(t), v, vtag);
            LinkK(Snd(t), v, vtag, tail);
        }
    }

    /// <summary>
    /// Whether t1 ~ t2 only names a variable (see LinkTT): one side a variable met for the first time, the
    /// other a variable met once or a subtree it does not occur in.
    /// </summary>
    private bool IsAlias(uint t1, uint t2)
    {
        if (Port.TagOf(t1) != Tag.VAR || _met[(int)(t1 >> 3)] != 0) (t1, t2) = (t2, t1);
        if (Port.TagOf(t1) != Tag.VAR || _met[(int)(t1 >> 3)] != 0) return false;
        return Port.TagOf(t2) == Tag.VAR ? _met[(int)(t2 >> 3)] == 1 : !Occurs(t1, t2);
    }

    private void LinkTT(uint t1, uint t2, bool tail = false)
    {
        uint g1 = Port.TagOf(t1), g2 = Port.TagOf(t2);
        if (g2 == Tag.VAR && (g1 != Tag.VAR || _met[(int)(t2 >> 3)] == 0)) (t1, t2, g1, g2) = (t2, t1, g2, g1);
        if (IsAlias(t1, t2))
        {
            // A variable met for the first time meets what its second end will stand for: no slot and no
            // link now (which would swap a port into a fresh slot and leave an indirection behind). Its
            // local holds the other side, the port of t2 built here, or the port t2's variable stands for.
            int i = (int)(t1 >> 3);
            if (g2 == Tag.VAR)
            {
                int j = (int)(t2 >> 3);
                _il.Emit(OpCodes.Ldloc, _x[j]);
                _met[j]++;
            }
            else Build(t2);
            _il.Emit(OpCodes.Stloc, _x[i]);
            _met[i]++;
        }
        else if (g1 == Tag.VAR)
        {
            VarEnd((int)(t1 >> 3));
            LinkT(t2, Store(), tail);
        }
        else if (g2 == Tag.VAR)
        {
            VarEnd((int)(t2 >> 3));
            LinkT(t1, Store(), tail);
        }
        else if (g1 < Tag.CON && g2 < Tag.CON) Counted(Rule.VOID); //  atom ~ atom
        else if (g1 == Tag.REF) RefMeetsTpl(t1, t2, tail);
        else if (g2 == Tag.REF) RefMeetsTpl(t2, t1, tail);
        else if (g2 < Tag.CON) LinkK(t1, Const(t2), g2, tail);
        else if (g1 < Tag.CON) LinkK(t2, Const(t1), g1, tail);
        else if (g1 == g2)
        {
            //  T(a1 a2) ~ T(b1 b2), both in the template: ANNI. A pair that only names a variable goes
            //  first, so that the other pair builds the port it names into its nodes instead of a
            //  variable that would have to be linked afterwards (with a swap, once its node is out).
            Counted(Rule.ANNI);
            if (!IsAlias(Fst(t1), Fst(t2)) && IsAlias(Snd(t1), Snd(t2)))
            {
                LinkTT(Snd(t1), Snd(t2));
                LinkTT(Fst(t1), Fst(t2), tail);
            }
            else
            {
                LinkTT(Fst(t1), Fst(t2));
                LinkTT(Snd(t1), Snd(t2), tail);
            }
        }
        else
        {
            _il.Emit(OpCodes.Ldarg_0);
            Build(t1);
            Build(t2);
            _il.Emit(OpCodes.Call, Link);
        }
    }

    /// <summary>@g ~ t, t a template node: a copy into a DUP, a jump, the callee inlined, or the two built and linked.</summary>
    private void RefMeetsTpl(uint r, uint t, bool tail)
    {
        int gid = RefId(r);
        var g = gid < _book.Defs.Count ? _book.Defs[gid] : null;
        if (g != null && g.SiteId < 0 && !g.Poison)
        {
            if (Port.TagOf(t) == Tag.DUP && g.Safe)
            {
                //  @safe ~ {t1 t2}  →  t1 ~ @safe, t2 ~ @safe   (CALL as a copy)
                Counted(Rule.CALL);
                LinkTT(Fst(t), r);
                LinkTT(Snd(t), r, tail);
                return;
            }
            if (gid == _fid && tail)
            {
                //  @self ~ t in tail position: build t and jump back to the start with it
                Build(t);
                TailSelf(r, Store());
                return;
            }
            if (tail && !CanInline(gid))
            {
                //  @g ~ t as the last act: build t; the trampoline runs g (a copy into a DUP is above)
                Build(t);
                TailCall(r, Store());
                return;
            }
            if (CanInline(gid))
            {
                //  @g ~ t  →  g's template, renamed, with its root meeting t   (CALL)
                Counted(Rule.CALL);
                _depth++;
                var (root, reds) = Rename(g);
                SelfLast(reds);
                LinkTT(root, t, tail && reds.Length == 0);
                for (int i = 0; i < reds.Length; i++) LinkTT(Port.Fst(reds[i]), Port.Snd(reds[i]), tail && i == reds.Length - 1);
                _depth--;
                return;
            }
        }
        _il.Emit(OpCodes.Ldarg_0);
        Build(r);
        Build(t);
        _il.Emit(OpCodes.Call, Link);
    }

    private byte[] Snapshot() => [.. _met];

    private void Restore(byte[] state)
    {
        for (int i = 0; i < state.Length; i++) _met[i] = state[i];
    }

    /// <summary>A branch of the generated code: runs from the given variable state, which every branch must leave alike.</summary>
    private void Branch(byte[] start, ref byte[]? end, Action body)
    {
        Restore(start);
        int before = _met.Count;
        body();
        // the variables of a definition inlined in this branch are spent within it
        for (int i = before; i < _met.Count; i++) if (_met[i] != 2) _uneven = true;
        if (end == null) end = _met.Take(start.Length).ToArray();
        else if (!end.AsSpan().SequenceEqual(_met.Take(start.Length).ToArray())) _uneven = true;
    }

    /// <summary>A template node meets a port of the net: what fires at once fires, else the node is built.</summary>
    private void LinkTpl(uint t, LocalBuilder b0, bool tail)
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
        byte[] start = Snapshot();
        byte[]? after = null;
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
                    LinkT(t1, lo, tail);
                }
                else
                {
                    LinkT(t1, lo);
                    LinkT(t2, hi, tail);
                }
            });
            il.Emit(OpCodes.Br, end);
        }
        il.MarkLabel(next);

        //  T(t1 t2) ~ atom  →  t1 ~ atom, t2 ~ atom   (ERAS: an eraser erases any node, a number is
        //  copied into a CON or a DUP); the atom's kind is then known for the whole subtree, so the walk
        //  below is straight-line code, one rule per node (an operator meeting the number: OPER). A
        //  number meets a CON or DUP of any size here (a DUP copying an argument into operators, as
        //  Bend's `2x+1` and `2x` make); an eraser only a node whose children are leaves (erasing a big
        //  template is rare, and the branch would grow the code by the subtree at every level).
        if (small)
        {
            next = il.DefineLabel();
            il.Emit(OpCodes.Ldloc, bt);
            Ldc(Tag.ERA);
            il.Emit(OpCodes.Bne_Un, next);
            Branch(start, ref after, () => LinkK(t, b, Tag.ERA, tail));
            il.Emit(OpCodes.Br, end);
            il.MarkLabel(next);
        }
        if (tag <= Tag.DUP)
        {
            next = il.DefineLabel();
            il.Emit(OpCodes.Ldloc, bt);
            Ldc(Tag.NUM);
            il.Emit(OpCodes.Bne_Un, next);
            Branch(start, ref after, () => LinkK(t, b, Tag.NUM, tail));
            il.Emit(OpCodes.Br, end);
            il.MarkLabel(next);
        }

        if (small && tag == Tag.DUP)
        {
            //  @safe ~ {t1 t2}  →  t1 ~ @safe, t2 ~ @safe   (CALL as a copy; only for leaves, as the
            //  children meet a reference whose kind the code does not know)
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

        if (tag == Tag.OPR || tag == Tag.SWI)
        {
            next = il.DefineLabel();
            il.Emit(OpCodes.Ldloc, bt);
            Ldc(Tag.NUM);
            il.Emit(OpCodes.Bne_Un, next);
            if (tag == Tag.OPR) Branch(start, ref after, () => Oper(t, b, tail));
            else Branch(start, ref after, () => Swit(t1, t2, b, tail));
            il.Emit(OpCodes.Br, end);
            il.MarkLabel(next);
        }

        // Anything else (a variable, another kind of node, a reference, an atom this node does not
        // take at once): build the node and link it; the redex loop does the rest.
        Branch(start, ref after, () => BuildLink(t, b));
        il.MarkLabel(end);
        Restore(after!);
    }

    //  #x ~ $(t1 t2)   (OPER; b holds #x)
    private void Oper(uint t, LocalBuilder b, bool tail)
    {
        var il = _il;
        uint t1 = Fst(t), t2 = Snd(t);
        Counted(Rule.OPER);
        if (Port.TagOf(t1) == Tag.NUM)
        {
            //  #x ~ $(#y t2)  →  t2 ~ #op(x, y)
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Ldloc, b);
            Ldc(t1);
            il.Emit(OpCodes.Call, OperNum);
            LinkK(t2, Store(), Tag.NUM, tail);
        }
        else
        {
            //  #x ~ $(t1 t2)  →  t1 ~ $(#x t2)
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Ldloc, b);
            Build(t2);
            Ldc(Tag.OPR);
            il.Emit(OpCodes.Call, NewNode);
            LinkT(t1, Store(), tail);
        }
    }

    //  #n ~ ?(t1 t2)   (SWIT)  →  t1 ~ (t2 *)  if n = 0,  t1 ~ (* (#n-1 t2))  otherwise
    private void Swit(uint t1, uint t2, LocalBuilder b, bool tail)
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
        byte[] start = Snapshot();
        byte[]? after = null;
        if (Port.TagOf(t1) == Tag.CON)
        {
            //  t1 = (z s): the new CON annihilates with it at once (ANNI)
            uint z = Fst(t1), s = Snd(t1);
            Branch(start, ref after, () =>
            {
                Counted(Rule.ANNI);
                LinkK(s, Const(Tag.ERA), Tag.ERA);
                LinkTT(z, t2, tail);
            });
            il.Emit(OpCodes.Br, done);
            il.MarkLabel(nonzero);
            Branch(start, ref after, () =>
            {
                Counted(Rule.ANNI);
                LinkK(z, Const(Tag.ERA), Tag.ERA);
                Succ(s, pred, t2, tail);
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
                LinkT(t1, Store(), tail);
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
                LinkT(t1, Store(), tail);
            });
        }
        il.MarkLabel(done);
        Restore(after!);
    }

    /// <summary>A switch's successor branch s meets (#n-1 t2), the constructor the switch made.</summary>
    private void Succ(uint s, LocalBuilder pred, uint t2, bool tail)
    {
        var il = _il;
        uint tag = Port.TagOf(s);
        if (tag == Tag.CON)
        {
            //  s = (p r): (#n-1 t2) annihilates with it too (ANNI)
            Counted(Rule.ANNI);
            LinkK(Fst(s), pred, Tag.NUM);
            LinkTT(Snd(s), t2, tail);
            return;
        }
        if (tag == Tag.REF)
        {
            int gid = RefId(s);
            if (gid == _fid && tail && !_book.Defs[gid].Poison)
            {
                BuildSucc(pred, t2);
                TailSelf(s, Store());
                return;
            }
            if (CanInline(gid))
            {
                //  @g ~ (#n-1 t2)  →  g's template, renamed, its root meeting the constructor   (CALL)
                Counted(Rule.CALL);
                _depth++;
                var (root, reds) = Rename(_book.Defs[gid]);
                SelfLast(reds);
                bool last = tail && reds.Length == 0;
                if (Port.TagOf(root) == Tag.CON)
                {
                    Counted(Rule.ANNI);
                    LinkK(Fst(root), pred, Tag.NUM);
                    LinkTT(Snd(root), t2, last);
                }
                else
                {
                    BuildSucc(pred, t2);
                    LinkT(root, Store(), last);
                }
                for (int i = 0; i < reds.Length; i++) LinkTT(Port.Fst(reds[i]), Port.Snd(reds[i]), tail && i == reds.Length - 1);
                _depth--;
                return;
            }
        }
        BuildSucc(pred, t2);
        LinkT(s, Store(), tail);
    }

    /// <summary>Pushes the port of a new (#n-1 t2).</summary>
    private void BuildSucc(LocalBuilder pred, uint t2)
    {
        _il.Emit(OpCodes.Ldarg_0);
        _il.Emit(OpCodes.Ldloc, pred);
        Build(t2);
        Ldc(Tag.CON);
        _il.Emit(OpCodes.Call, NewNode);
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
        _localCalls = new int[mem.DefCount];
    }

    /// <summary>
    /// Calls of a definition (counted over every net of its book) before it is compiled, when it was not
    /// compiled at load (<see cref="Precompile"/>). Emitting and JIT-compiling a definition is dear, and
    /// so is the code of a small one against the fast walk it unrolls only a little: the twelve prelude
    /// definitions a batch run calls cost its first thousand inputs 0.17 s (about 14 ms each) when they
    /// were compiled after 64 calls, and 10,000 inputs ran in 0.72 s when five of them were compiled
    /// after 32,768 calls, 0.63 s on the fast walk alone (medians of three). A definition worth its code
    /// is called millions of times (the benchmarks' are), and the first quarter million calls on the
    /// walk cost such a run a few milliseconds; a run that calls one less often never pays the JIT.
    /// </summary>
    public const int DefaultCompileAfterCalls = 1 << 18;

    private int _compileAfter = DefaultCompileAfterCalls;

    /// <summary>This net's threshold (<see cref="DefaultCompileAfterCalls"/> unless set; tests set a small one to compile on the way).</summary>
    public int CompileAfterCalls
    {
        get => _compileAfter;
        set => _compileAfter = Math.Max(0, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CompiledCall(int fid, DefData* d, uint b)
    {
        RunCode(fid, d, b);
        if (_tailPort != 0) Trampoline();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void RunCode(int fid, DefData* d, uint b)
    {
        var c = _code![fid];
        if (c != null) c(this, b);
        else if (++_localCalls![fid] < CallChunk) FastCall(d, b);
        else
        {
            // This net's calls go into the book's shared count a chunk at a time: a shared count written on
            // every call kept its cache line moving between the cores (a batch run's nets call the prelude's
            // definitions a few times each, and every net's increments went to the same few lines).
            _localCalls[fid] = 0;
            if ((d->Calls += CallChunk) < _compileAfter) FastCall(d, b); // a racy count among threads: only a threshold
            else _codeCache!.Get(fid)(this, b);
        }
    }

    /// <summary>Calls a net counts on its own before it adds them to the book's count (<see cref="CompileAfterCalls"/> is reached in steps of this).</summary>
    private const int CallChunk = 64;

    private int[]? _localCalls;   // this net's calls of each definition not yet added to DefData.Calls

    // A call another definition's code made as its last act (CTail): the definition and the node its
    // reference meets; 0 when none (a node's port is never 0: its tag is at least CON).
    private uint _tailPort;
    private int _tailFid;

    /// <summary>Tail calls between definitions run here, one after another, instead of through the redex bags.</summary>
    public const int TailCalls = 256;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Trampoline()
    {
        for (int i = 0; i < TailCalls; i++)
        {
            uint p = _tailPort;
            int fid = _tailFid;
            _tailPort = 0;
            _nCall++;
            RunCode(fid, _defs + fid, p);
            if (_tailPort == 0) return;
        }
        // Past the limit the next one goes through the redex bag, where fuel, Ctrl+C and hunger are checked.
        uint q = _tailPort;
        _tailPort = 0;
        Link(Port.New(Tag.REF, (uint)_tailFid), q);
    }

    /// <summary>Compiled code's last act: @fid meets the node p (checked to expand it); the caller runs it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void CTail(int fid, uint p)
    {
        _tailFid = fid;
        _tailPort = p;
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
