using System.Globalization;
using System.Runtime.CompilerServices;

namespace Lmn.Net;

/// <summary>Raised by an operation HVM2 leaves undefined (integer division by zero).</summary>
public sealed class NumericFault(string message) : Exception(message);

/// <summary>
/// HVM2's 29-bit numbers: a 5-bit type and a 24-bit payload. Types 0..3 are SYM (an operator or
/// cast symbol), U24, I24 and F24; types 4..22 are an operator partially applied to a payload.
/// Every operation below mirrors HVM2's C runtime (src/hvm.c) bit for bit.
/// </summary>
public static class Numb
{
    public const uint TY_SYM = 0x00;
    public const uint TY_U24 = 0x01;
    public const uint TY_I24 = 0x02;
    public const uint TY_F24 = 0x03;
    public const uint OP_ADD = 0x04;
    public const uint OP_SUB = 0x05;
    public const uint FP_SUB = 0x06;
    public const uint OP_MUL = 0x07;
    public const uint OP_DIV = 0x08;
    public const uint FP_DIV = 0x09;
    public const uint OP_REM = 0x0A;
    public const uint FP_REM = 0x0B;
    public const uint OP_EQ = 0x0C;
    public const uint OP_NEQ = 0x0D;
    public const uint OP_LT = 0x0E;
    public const uint OP_GT = 0x0F;
    public const uint OP_AND = 0x10;
    public const uint OP_OR = 0x11;
    public const uint OP_XOR = 0x12;
    public const uint OP_SHL = 0x13;
    public const uint FP_SHL = 0x14;
    public const uint OP_SHR = 0x15;
    public const uint FP_SHR = 0x16;

    public const int U24Max = 0xFF_FFFF;
    public const int I24Max = (1 << 23) - 1;
    public const int I24Min = -(1 << 23);

    /// <summary>Operator spellings in HVM2's text format, indexed by type code.</summary>
    public static readonly string?[] OpSymbols =
    [
        null, "u24", "i24", "f24", "+", "-", ":-", "*", "/", ":/", "%", ":%",
        "=", "!", "<", ">", "&", "|", "^", "<<", ":<<", ">>", ":>>",
    ];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint NewSym(uint sym) => ((sym << 5) | TY_SYM) & 0x1FFF_FFFF;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint GetSym(uint w) => w >> 5;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint NewU24(uint v) => ((v & 0xFF_FFFF) << 5) | TY_U24;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint GetU24(uint w) => (w >> 5) & 0xFF_FFFF;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint NewI24(int v) => (((uint)v & 0xFF_FFFF) << 5) | TY_I24;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int GetI24(uint w) => ((int)(w << 3)) >> 8;

    /// <summary>Rounds an f32 to f24 (drops the low 8 bits) as HVM2 does, ties to even, NaN kept NaN.</summary>
    public static uint NewF24(float val)
    {
        uint bits = BitConverter.SingleToUInt32Bits(val);
        uint shifted = bits >> 8;
        uint lost = bits & 0xFF;
        uint notNan = float.IsNaN(val) ? 0u : 1u;
        // HVM2's expression, kept verbatim: `!shifted_bits` tests the whole value, not its low bit.
        uint tie = ((lost >> 7) & (shifted == 0 ? 1u : 0u));
        shifted += notNan & ((lost - tie) >> 7);
        shifted |= 1 - notNan;
        return ((shifted & 0xFF_FFFF) << 5) | TY_F24;
    }

    /// <summary>
    /// An f24 literal as HVM2's parser makes it: rounded to nearest with ties to even, and NaN the
    /// positive quiet NaN (0x7FC00000), whatever sign .NET's parse gave it. (Results of operations
    /// round with <see cref="NewF24"/>, as HVM2's runtime does.)
    /// </summary>
    public static uint F24Literal(float val)
    {
        // HVM2 parses `NaN` to f32::NAN (the sign bit clear) and packs it as every NaN is packed.
        if (float.IsNaN(val)) return NewF24(BitConverter.UInt32BitsToSingle(0x7FC0_0000u));
        uint bits = BitConverter.SingleToUInt32Bits(val);
        uint shifted = bits >> 8;
        uint lost = bits & 0xFF;
        if (lost > 0x80 || (lost == 0x80 && (shifted & 1) != 0)) shifted++;
        return ((shifted & 0xFF_FFFF) << 5) | TY_F24;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float GetF24(uint w) => BitConverter.UInt32BitsToSingle((w << 3) & 0xFFFF_FF00);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint TypeOf(uint w) => w & 0x1F;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsNum(uint w) => TypeOf(w) is >= TY_U24 and <= TY_F24;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsCast(uint w) => TypeOf(w) == TY_SYM && GetSym(w) is >= TY_U24 and <= TY_F24;

    /// <summary>Partial application: b's payload under a's operator.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Partial(uint a, uint b) => ((b & ~0x1Fu) | GetSym(a)) & 0x1FFF_FFFF;

    /// <summary>Numeric cast, as HVM2: int/int reinterprets bits, float to int saturates (NaN to 0).</summary>
    public static uint Cast(uint a, uint b)
    {
        uint to = GetSym(a), ty = TypeOf(b);
        switch (to)
        {
            case TY_U24:
                if (ty == TY_U24) return b;
                if (ty == TY_I24) return NewU24((uint)GetI24(b));
                if (ty == TY_F24)
                {
                    float v = GetF24(b);
                    return float.IsNaN(v) ? NewU24(0) : NewU24((uint)Math.Clamp(v, 0f, 16777215f));
                }
                break;
            case TY_I24:
                if (ty == TY_U24) return NewI24((int)GetU24(b));
                if (ty == TY_I24) return b;
                if (ty == TY_F24)
                {
                    float v = GetF24(b);
                    return float.IsNaN(v) ? NewI24(0) : NewI24((int)Math.Clamp(v, -8388608f, 8388607f));
                }
                break;
            case TY_F24:
                if (ty == TY_U24) return NewF24(GetU24(b));
                if (ty == TY_I24) return NewF24(GetI24(b));
                if (ty == TY_F24) return b;
                break;
        }
        return NewU24(0);
    }

    /// <summary>HVM2's `operate`: applies whichever side carries an operator to the other side's number.</summary>
    public static uint Operate(uint a, uint b)
    {
        uint at = a & 0x1F, bt = b & 0x1F;
        // The common case first: an operator with its operand meets a plain number. (None of the
        // earlier checks of HVM2's order can fire then, so the result is the same.)
        if (at >= OP_ADD && bt - TY_U24 <= TY_F24 - TY_U24) return Apply(at, bt, a, b);
        if (bt >= OP_ADD && at - TY_U24 <= TY_F24 - TY_U24) return Apply(bt, at, b, a);
        return OperateSlow(a, b);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static uint OperateSlow(uint a, uint b)
    {
        uint at = TypeOf(a), bt = TypeOf(b);
        if (at == TY_SYM && bt == TY_SYM) return NewU24(0);
        if (IsCast(a) && IsNum(b)) return Cast(a, b);
        if (IsCast(b) && IsNum(a)) return Cast(b, a);
        if (at == TY_SYM && bt != TY_SYM) return Partial(a, b);
        if (at != TY_SYM && bt == TY_SYM) return Partial(b, a);
        if (at >= OP_ADD && bt >= OP_ADD) return NewU24(0);
        if (at < OP_ADD && bt < OP_ADD) return NewU24(0);
        return at >= OP_ADD ? Apply(at, bt, a, b) : Apply(bt, at, b, a);
    }

    /// <summary>Applies operator op, carried by a with its operand, to b, a plain number of type ty.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Apply(uint op, uint ty, uint a, uint b)
    {
        switch (ty)
        {
            case TY_U24:
            {
                uint av = GetU24(a), bv = GetU24(b);
                switch (op)
                {
                    case OP_ADD: return NewU24(av + bv);
                    case OP_SUB: return NewU24(av - bv);
                    case FP_SUB: return NewU24(bv - av);
                    case OP_MUL: return NewU24(av * bv);
                    case OP_DIV: return bv == 0 ? DivByZero() : NewU24(av / bv);
                    case FP_DIV: return av == 0 ? DivByZero() : NewU24(bv / av);
                    case OP_REM: return bv == 0 ? DivByZero() : NewU24(av % bv);
                    case FP_REM: return av == 0 ? DivByZero() : NewU24(bv % av);
                    case OP_EQ: return NewU24(av == bv ? 1u : 0u);
                    case OP_NEQ: return NewU24(av != bv ? 1u : 0u);
                    case OP_LT: return NewU24(av < bv ? 1u : 0u);
                    case OP_GT: return NewU24(av > bv ? 1u : 0u);
                    case OP_AND: return NewU24(av & bv);
                    case OP_OR: return NewU24(av | bv);
                    case OP_XOR: return NewU24(av ^ bv);
                    case OP_SHL: return NewU24(av << (int)(bv & 31));
                    case FP_SHL: return NewU24(bv << (int)(av & 31));
                    case OP_SHR: return NewU24(av >> (int)(bv & 31));
                    case FP_SHR: return NewU24(bv >> (int)(av & 31));
                    default: return NewU24(0);
                }
            }
            case TY_I24:
            {
                int av = GetI24(a), bv = GetI24(b);
                switch (op)
                {
                    case OP_ADD: return NewI24(av + bv);
                    case OP_SUB: return NewI24(av - bv);
                    case FP_SUB: return NewI24(bv - av);
                    case OP_MUL: return NewI24(av * bv);
                    case OP_DIV: return bv == 0 ? DivByZero() : NewI24(av / bv);
                    case FP_DIV: return av == 0 ? DivByZero() : NewI24(bv / av);
                    case OP_REM: return bv == 0 ? DivByZero() : NewI24(av % bv);
                    case FP_REM: return av == 0 ? DivByZero() : NewI24(bv % av);
                    case OP_EQ: return NewU24(av == bv ? 1u : 0u);
                    case OP_NEQ: return NewU24(av != bv ? 1u : 0u);
                    case OP_LT: return NewU24(av < bv ? 1u : 0u);
                    case OP_GT: return NewU24(av > bv ? 1u : 0u);
                    case OP_AND: return NewI24(av & bv);
                    case OP_OR: return NewI24(av | bv);
                    case OP_XOR: return NewI24(av ^ bv);
                    // HVM2 has no i24 shifts: they fall to its default case.
                    default: return NewI24(0);
                }
            }
            case TY_F24:
            {
                float av = GetF24(a), bv = GetF24(b);
                switch (op)
                {
                    case OP_ADD: return NewF24(av + bv);
                    case OP_SUB: return NewF24(av - bv);
                    case FP_SUB: return NewF24(bv - av);
                    case OP_MUL: return NewF24(av * bv);
                    case OP_DIV: return NewF24(av / bv);
                    case FP_DIV: return NewF24(bv / av);
                    case OP_REM: return NewF24(av % bv);
                    case FP_REM: return NewF24(bv % av);
                    case OP_EQ: return NewU24(av == bv ? 1u : 0u);
                    case OP_NEQ: return NewU24(av != bv ? 1u : 0u);
                    case OP_LT: return NewU24(av < bv ? 1u : 0u);
                    case OP_GT: return NewU24(av > bv ? 1u : 0u);
                    case OP_AND: return NewF24(MathF.Atan2(av, bv));
                    case OP_OR: return NewF24(MathF.Log(bv) / MathF.Log(av));
                    case OP_XOR: return NewF24(MathF.Pow(av, bv));
                    // HVM2 computes these two in double precision.
                    case OP_SHL: return NewF24((float)Math.Sin(av + bv));
                    case OP_SHR: return NewF24((float)Math.Tan(av + bv));
                    default: return NewF24(0);
                }
            }
            default:
                return NewU24(0);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static uint DivByZero() =>
        throw new NumericFault("integer division by zero (HVM2 leaves this undefined: its C runtime crashes)");

    /// <summary>Prints a number as HVM2 does (f24 as its Rust runtime's `{:?}`).</summary>
    public static string Show(uint w)
    {
        uint ty = TypeOf(w);
        switch (ty)
        {
            case TY_SYM:
            {
                uint sym = GetSym(w);
                return sym is > 0 and <= FP_SHR ? "[" + OpSymbols[sym] + "]" : "[?]";
            }
            case TY_U24: return GetU24(w).ToString(CultureInfo.InvariantCulture);
            case TY_I24:
            {
                int v = GetI24(w);
                return (v >= 0 ? "+" : "") + v.ToString(CultureInfo.InvariantCulture);
            }
            case TY_F24: return ShowF24(GetF24(w), parseable: false);
            default:
            {
                string sym = ty <= FP_SHR ? OpSymbols[ty]! : "?";
                return "[" + sym + "0x" + GetU24(w).ToString("X7", CultureInfo.InvariantCulture) + "]";
            }
        }
    }

    /// <summary>
    /// Formats an f24 like Rust's `{:?}` for f32: shortest round-trip digits, plain decimal with at
    /// least one fractional digit for 1e-4 &lt;= |x| &lt; 1e16, otherwise `1.5e16` / `1e-5`.
    /// With <paramref name="parseable"/> the exponential form keeps a `.0` so HVM2's parser reads it back.
    /// </summary>
    public static string ShowF24(float v, bool parseable)
    {
        if (float.IsNaN(v)) return "+NaN";
        if (float.IsPositiveInfinity(v)) return "+inf";
        if (float.IsNegativeInfinity(v)) return "-inf";
        bool neg = float.IsNegative(v);
        string sign = neg ? "-" : "";
        float abs = MathF.Abs(v);
        if (abs == 0) return sign + "0.0";
        (string digits, int point) = ShortestDigits(abs);
        if (abs >= 1e-4f && abs < 1e16f)
        {
            if (point <= 0) return sign + "0." + new string('0', -point) + digits;
            if (point >= digits.Length) return sign + digits + new string('0', point - digits.Length) + ".0";
            return sign + digits[..point] + "." + digits[point..];
        }
        string mant = digits.Length > 1 ? digits[..1] + "." + digits[1..] : digits + (parseable ? ".0" : "");
        return sign + mant + "e" + (point - 1).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Shortest round-trip decimal digits of a positive float and the position of the decimal point.</summary>
    private static (string Digits, int Point) ShortestDigits(float abs)
    {
        string s = abs.ToString("R", CultureInfo.InvariantCulture);
        int exp = 0;
        int e = s.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exp = int.Parse(s[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            s = s[..e];
        }
        int dot = s.IndexOf('.');
        string digits = dot >= 0 ? s.Remove(dot, 1) : s;
        int point = (dot >= 0 ? dot : s.Length) + exp;
        int lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0') lead++;
        digits = digits[lead..];
        point -= lead;
        digits = digits.TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        return (digits, point);
    }
}
