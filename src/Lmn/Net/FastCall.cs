using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Lmn.Net;

/// <summary>
/// Definitions instantiated by interaction with the caller instead of by copying: the definition's
/// template tree is matched against the port it meets, and every interaction that would fire at once
/// between a freshly built node and what it is linked to (ANNI, ERAS, VOID, SWIT, OPER, a safe REF
/// meeting a DUP) fires on the template, counted exactly as the interpreter counts it, without building
/// the node, pushing the redex and popping it again. What does not interact at once is built and
/// linked as usual. This is HVM2's gen-c "fast paths", generalised to every position of every template
/// and done by the interpreter, so it needs no code generation.
///
/// Counting stays exact because interaction nets are strongly confluent (order does not change the
/// count) and because the one rule that looks at an auxiliary port (OPER reads its first port's tag)
/// sees the same port it would see in a built node: template variables in that position are never
/// resolved early.
/// </summary>
public unsafe partial class EngineCore<TSync>
{
    private DefData* _cur; // the definition being instantiated

    // Template variables get a slot in the variable array only when they need one. Both ends of a
    // template variable lie in the template, so both are met during the call: if the first end met is
    // linked to a port X, X is kept here (_vval) and the second end connects to X directly; a slot
    // (_vloc) is taken only when the first end is built into a node before its partner is known.
    //   unseen:  _vloc = 0, _vval = NONE      linked: _vloc = 0, _vval = X      slot: _vloc = v

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void FastCall(DefData* d, uint b)
    {
        if (d->Deep)
        {
            // The template matching recurses once per level: a template thousands of levels deep is copied.
            CopyCall(d, b);
            return;
        }
        _cur = d;
        uint* vloc = _vloc, vval = _vval;
        for (int i = 0; i < d->VarLen; i++)
        {
            vloc[i] = 0;
            vval[i] = Port.NONE;
        }
        LinkT(d->Root, b);
        uint* rx = d->Redexes;
        for (int i = 0; i < d->RedexLen; i++) LinkTT(rx[2 * i], rx[2 * i + 1]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint TplFst(uint t) => _cur->Nodes[2 * (t >> 3)];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint TplSnd(uint t) => _cur->Nodes[2 * (t >> 3) + 1];

    /// <summary>Builds a template subtree into the net and returns its port (variables and atoms inline).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint Build(uint t)
    {
        uint tag = Port.TagOf(t);
        if (tag == Tag.VAR) return VarEnd(t >> 3);
        if (tag < Tag.CON) return t;
        return BuildNode(t);
    }

    /// <summary>
    /// The port a template variable's end stands for where it is placed: what its other end was linked
    /// to, or (first end met) a fresh slot whose other end will be linked later.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint VarEnd(uint i)
    {
        uint v = _vloc[i];
        if (v != 0)
        {
            // Second end of a wire whose first end was built into a node.
            return v << 3;
        }
        uint x = _vval[i];
        if (x != Port.NONE) return x;
        v = AllocVar();
        _vars[v] = Port.NONE;
        _vloc[i] = v;
        return v << 3;
    }

    /// <summary>A template variable's end that must stay a variable (an operator's first port).</summary>
    private uint VarSlot(uint i)
    {
        uint v = _vloc[i];
        if (v != 0) return v << 3;
        v = AllocVar();
        // If the first end was linked to X, the slot holds X, as if that end had been linked to it.
        // (The slot is fresh and unpublished: a plain store is safe.)
        _vars[v] = _vval[i];
        _vloc[i] = v;
        return v << 3;
    }

    /// <summary>Links a template variable's end to a port of the net.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void LinkVar(uint i, uint b)
    {
        if (_vloc[i] == 0 && _vval[i] == Port.NONE)
        {
            // First end met: remember its partner; the second end connects to it directly.
            _vval[i] = b;
            return;
        }
        Link(VarEnd(i), b);
    }

    /// <summary>Builds a template node and everything under it.</summary>
    private uint BuildNode(uint t)
    {
        uint tag = Port.TagOf(t);
        uint n = AllocNode();
        uint f = TplFst(t);
        // OPER reads the tag of an operator's first port: keep a variable there a variable.
        uint fp = tag == Tag.OPR && Port.TagOf(f) == Tag.VAR ? VarSlot(f >> 3) : Build(f);
        _node[n] = Port.Pair(fp, Build(TplSnd(t)));
        return (n << 3) | tag;
    }

    /// <summary>Links a template port to a net port; variables and atoms inline, nodes in LinkTpl.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void LinkT(uint t, uint b)
    {
        uint tt = Port.TagOf(t);
        if (tt == Tag.VAR)
        {
            LinkVar(t >> 3, b);
            return;
        }
        if (tt < Tag.CON)
        {
            b = Enter(b);
            uint bt = Port.TagOf(b);
            if (bt == Tag.VAR) Link(t, b);
            else if (bt < Tag.CON) _nVoid++; // atom meets atom: VOID
            else PushRedex(t, b);
            return;
        }
        LinkTpl(t, b);
    }

    /// <summary>Links two template ports of the definition being instantiated.</summary>
    private void LinkTT(uint t1, uint t2)
    {
        if (Port.TagOf(t1) == Tag.VAR) LinkT(t2, VarEnd(t1 >> 3));
        else if (Port.TagOf(t2) == Tag.VAR) LinkT(t1, VarEnd(t2 >> 3));
        else if (Port.TagOf(t2) < Tag.CON) LinkT(t1, t2);
        else if (Port.TagOf(t1) < Tag.CON) LinkT(t2, t1);
        else if (Port.TagOf(t1) == Port.TagOf(t2))
        {
            //  T(a1 a2) ~ T(b1 b2), both in the template  →  a1 ~ b1, a2 ~ b2   (ANNI)
            _nAnni++;
            LinkTT(TplFst(t1), TplFst(t2));
            LinkTT(TplSnd(t1), TplSnd(t2));
        }
        else Link(Build(t1), Build(t2));
    }

    /// <summary>Links a template node to a port of the net, interacting at once where a rule would.</summary>
    // Not AggressiveOptimization (nor BuildNode, LinkTT, Call, the rules in Engine.cs, Numb.Operate and
    // SiteWatch's scans): ahead-of-time code instead of 30 ms of JIT at the first call of every process
    // (docs/startup.md). Tiering replaces it when hot; a batch run (tiering off) keeps it, measured as
    // fast there. The loops that run a whole reduction or a whole graph (Normalize, WorkLoop, the
    // transmigrator's scans) keep the attribute.
    private void LinkTpl(uint t, uint b)
    {
        Debug.Assert(Port.TagOf(t) >= Tag.CON, $"LinkTpl takes template nodes, got {t:X8}");
        b = Enter(b);
        uint tt = Port.TagOf(t), bt = Port.TagOf(b);
        if (bt == Tag.VAR)
        {
            Link(BuildNode(t), b);
            return;
        }
        if (bt >= Tag.CON)
        {
            if (tt == bt)
            {
                //  T(t1 t2) ~ B(b1 b2)  →  t1 ~ b1, t2 ~ b2   (ANNI)
                _nAnni++;
                uint bi = b >> 3;
                ulong bn = _node[bi];
                FreeNode(bi);
                uint t1 = TplFst(t), t2 = TplSnd(t);
                // A variable second (typically a return wire) is linked first, so that building the
                // first side can take its value at once instead of going through the variable.
                if (Port.TagOf(t2) == Tag.VAR)
                {
                    LinkT(t2, (uint)(bn >> 32));
                    LinkT(t1, (uint)bn);
                }
                else
                {
                    LinkT(t1, (uint)bn);
                    LinkT(t2, (uint)(bn >> 32));
                }
                return;
            }
            PushRedex(Build(t), b);
            return;
        }
        if (bt == Tag.ERA || (bt == Tag.NUM && tt <= Tag.DUP))
        {
            //  T(t1 t2) ~ atom  →  t1 ~ atom, t2 ~ atom   (ERAS)
            _nEras++;
            LinkT(TplFst(t), b);
            LinkT(TplSnd(t), b);
            return;
        }
        if (bt == Tag.REF)
        {
            if (tt == Tag.DUP && _defs[(b >> 3) & 0x0FFF_FFFF].Safe)
            {
                //  @safe ~ {t1 t2}  →  t1 ~ @safe, t2 ~ @safe   (CALL as a copy)
                _nCall++;
                LinkT(TplFst(t), b);
                LinkT(TplSnd(t), b);
                return;
            }
            PushRedex(b, Build(t));
            return;
        }
        // bt == NUM and the template is an OPR or a SWI.
        if (tt == Tag.OPR)
        {
            _nOper++;
            uint f = TplFst(t);
            if (Port.TagOf(f) == Tag.NUM)
            {
                //  #x ~ $(#y t2)  →  t2 ~ #op(x, y)   (OPER)
                LinkT(TplSnd(t), Port.New(Tag.NUM, Numb.Operate(b >> 3, f >> 3)));
                return;
            }
            //  #x ~ $(t1 t2)  →  t1 ~ $(#x t2)   (OPER, roles swapped)
            uint n = AllocNode();
            _node[n] = Port.Pair(b, Build(TplSnd(t)));
            LinkT(f, (n << 3) | Tag.OPR);
            return;
        }
        {
            //  #n ~ ?(t1 t2)   (SWIT)  →  t1 ~ (t2 *)  if n = 0,  t1 ~ (* (#n-1 t2))  otherwise
            _nSwit++;
            uint av = Numb.GetU24(b >> 3);
            uint t1 = TplFst(t), t2 = TplSnd(t);
            if (Port.TagOf(t1) == Tag.CON)
            {
                //  t1 = (z s): the new CON annihilates with it at once (ANNI)
                _nAnni++;
                uint z = TplFst(t1), s = TplSnd(t1);
                if (av == 0)
                {
                    LinkTT(z, t2);
                    LinkT(s, Tag.ERA);
                }
                else
                {
                    LinkT(z, Tag.ERA);
                    if (Port.TagOf(s) == Tag.CON)
                    {
                        //  s = (p r): (#n-1 t2) annihilates with it too (ANNI)
                        _nAnni++;
                        LinkT(TplFst(s), Port.New(Tag.NUM, Numb.NewU24(av - 1)));
                        LinkTT(TplSnd(s), t2);
                    }
                    else
                    {
                        uint n1 = AllocNode();
                        _node[n1] = Port.Pair(Port.New(Tag.NUM, Numb.NewU24(av - 1)), Build(t2));
                        LinkT(s, (n1 << 3) | Tag.CON);
                    }
                }
                return;
            }
            uint n0 = AllocNode();
            if (av == 0)
            {
                _node[n0] = Port.Pair(Build(t2), Tag.ERA);
            }
            else
            {
                uint n1 = AllocNode();
                _node[n1] = Port.Pair(Port.New(Tag.NUM, Numb.NewU24(av - 1)), Build(t2));
                _node[n0] = Port.Pair(Tag.ERA, (n1 << 3) | Tag.CON);
            }
            LinkT(t1, (n0 << 3) | Tag.CON);
        }
    }
}
