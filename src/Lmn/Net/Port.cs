using System.Runtime.CompilerServices;

namespace Lmn.Net;

/// <summary>Node kinds, stored in a port's low three bits (HVM2's tags).</summary>
public static class Tag
{
    public const uint VAR = 0x0; // variable: the value is an index into the vars array
    public const uint REF = 0x1; // reference to a definition: the value is its fid
    public const uint ERA = 0x2; // eraser
    public const uint NUM = 0x3; // number: the value is a 29-bit Numb
    public const uint CON = 0x4; // constructor node
    public const uint DUP = 0x5; // duplicator node
    public const uint OPR = 0x6; // operator node
    public const uint SWI = 0x7; // switch node
}

/// <summary>Interaction rules (HVM2's numbering; the redex bag priority depends on it).</summary>
public static class Rule
{
    public const byte LINK = 0x0;
    public const byte CALL = 0x1;
    public const byte VOID = 0x2;
    public const byte ERAS = 0x3;
    public const byte ANNI = 0x4;
    public const byte COMM = 0x5;
    public const byte OPER = 0x6;
    public const byte SWIT = 0x7;

    public static readonly string[] Names = ["LINK", "CALL", "VOID", "ERAS", "ANNI", "COMM", "OPER", "SWIT"];
}

/// <summary>
/// A port is a 32-bit word: a 3-bit tag and a 29-bit value, as in HVM2.
/// A pair (a node's two auxiliary ports, or a redex) is a 64-bit word, first port in the low half.
/// </summary>
public static class Port
{
    /// <summary>The substitution slot of the root variable; never handed out by the allocator.</summary>
    public const uint RootVar = 0;
    /// <summary>The port that stands for the root of the net (a VAR to slot 0).</summary>
    public const uint ROOT = 0;
    /// <summary>An unset substitution slot (both ends not yet met).</summary>
    public const uint NONE = 0xFFFF_FFFF;
    /// <summary>The eraser port.</summary>
    public const uint Eraser = Tag.ERA;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint New(uint tag, uint val) => (val << 3) | tag;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint TagOf(uint port) => port & 7;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint ValOf(uint port) => port >> 3;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Pair(uint fst, uint snd) => ((ulong)snd << 32) | fst;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Fst(ulong pair) => (uint)pair;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Snd(ulong pair) => (uint)(pair >> 32);

    /// <summary>HVM2's rule table, indexed by tagA * 8 + tagB.</summary>
    internal static ReadOnlySpan<byte> RuleTable =>
    [
        //    VAR        REF        ERA        NUM        CON        DUP        OPR        SWI
        /* VAR */ Rule.LINK, Rule.LINK, Rule.LINK, Rule.LINK, Rule.LINK, Rule.LINK, Rule.LINK, Rule.LINK,
        /* REF */ Rule.LINK, Rule.VOID, Rule.VOID, Rule.VOID, Rule.CALL, Rule.CALL, Rule.CALL, Rule.CALL,
        /* ERA */ Rule.LINK, Rule.VOID, Rule.VOID, Rule.VOID, Rule.ERAS, Rule.ERAS, Rule.ERAS, Rule.ERAS,
        /* NUM */ Rule.LINK, Rule.VOID, Rule.VOID, Rule.VOID, Rule.ERAS, Rule.ERAS, Rule.OPER, Rule.SWIT,
        /* CON */ Rule.LINK, Rule.CALL, Rule.ERAS, Rule.ERAS, Rule.ANNI, Rule.COMM, Rule.COMM, Rule.COMM,
        /* DUP */ Rule.LINK, Rule.CALL, Rule.ERAS, Rule.ERAS, Rule.COMM, Rule.ANNI, Rule.COMM, Rule.COMM,
        /* OPR */ Rule.LINK, Rule.CALL, Rule.ERAS, Rule.OPER, Rule.COMM, Rule.COMM, Rule.ANNI, Rule.COMM,
        /* SWI */ Rule.LINK, Rule.CALL, Rule.ERAS, Rule.SWIT, Rule.COMM, Rule.COMM, Rule.COMM, Rule.ANNI,
    ];

    /// <summary>The rule that fires when ports a and b meet.</summary>
    public static int RuleOf(uint a, uint b) => RuleTable[(int)((TagOf(a) << 3) | TagOf(b))];
}
