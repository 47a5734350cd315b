using System.Globalization;
using System.Runtime.InteropServices;
using Lmn.Net;
using Xunit;

namespace Lmn.Tests.Net;

/// <summary>
/// HVM2 numbers, bit for bit. <c>Data/numb-table.tsv</c> is a differential oracle produced by HVM2's
/// own numeric C code (see the file's header); the hand-written tables below document the semantics.
/// </summary>
public class NumbTests
{
    private static uint U(uint v) => Numb.NewU24(v);
    private static uint I(int v) => Numb.NewI24(v);
    private static uint F(float v) => Numb.NewF24(v);

    /// <summary>An operator symbol partially applied to x's payload: HVM2's <c>[OP x]</c>.</summary>
    private static uint Op(uint op, uint x) => Numb.Partial(Numb.NewSym(op), x);

    /// <summary><c>[OP x] ~ y</c>, i.e. x OP y.</summary>
    private static uint Bin(uint op, uint x, uint y) => Numb.Operate(Op(op, x), y);

    // ---------------------------------------------------------------------------------------------
    // Differential table
    // ---------------------------------------------------------------------------------------------

    private static readonly string TablePath = Path.Combine(AppContext.BaseDirectory, "Data", "numb-table.tsv");

    /// <summary>The table was generated on x86-64 Linux; elsewhere NaN bits and libm's last bit may differ.</summary>
    private static readonly bool SamePlatformAsTable =
        OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    public static TheoryData<int, string, uint, uint, uint, string> TableRows()
    {
        var data = new TheoryData<int, string, uint, uint, uint, string>();
        int line = 0;
        foreach (string raw in File.ReadLines(TablePath))
        {
            line++;
            if (raw.Length == 0 || raw[0] == '#') continue;
            string[] f = raw.Split('\t');
            if (f.Length != 5) throw new FormatException($"numb-table.tsv:{line}: expected 5 columns");
            uint b = f[2] == "-" ? 0 : Hex(f[2]);
            data.Add(line, f[0], Hex(f[1]), b, Hex(f[3]), f[4]);
        }
        return data;
    }

    private static uint Hex(string s) => uint.Parse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);

    [Fact]
    public void TableIsLargeAndCoversEveryKind()
    {
        var rows = TableRows().Select(r => (string)r[1]).ToList();
        Assert.True(rows.Count >= 500, $"only {rows.Count} rows");
        Assert.Contains("op", rows);
        Assert.Contains("new_f24", rows);
    }

    [Theory]
    [MemberData(nameof(TableRows))]
    public void MatchesHvm2Table(int line, string kind, uint a, uint b, uint expected, string note)
    {
        uint got = kind switch
        {
            "op" => Numb.Operate(a, b),
            "new_f24" => Numb.NewF24(BitConverter.UInt32BitsToSingle(a)),
            _ => throw new FormatException($"numb-table.tsv:{line}: unknown kind {kind}"),
        };
        if (got == expected || SamePlatformAsTable)
        {
            Assert.True(got == expected, $"line {line} ({note}): expected {expected:X8}, got {got:X8}");
            return;
        }
        // Off the generating platform: any NaN stands for a NaN, and libm results may differ by one f24 ulp.
        bool expNan = Numb.TypeOf(expected) == Numb.TY_F24 && float.IsNaN(Numb.GetF24(expected));
        if (expNan)
        {
            Assert.True(Numb.TypeOf(got) == Numb.TY_F24 && float.IsNaN(Numb.GetF24(got)), $"line {line} ({note}): got {got:X8}");
            return;
        }
        bool libm = kind == "op" && Numb.TypeOf(expected) == Numb.TY_F24 && Numb.TypeOf(got) == Numb.TY_F24
            && (Numb.TypeOf(a) is Numb.OP_AND or Numb.OP_OR or Numb.OP_XOR or Numb.OP_SHL or Numb.OP_SHR
                || Numb.TypeOf(b) is Numb.OP_AND or Numb.OP_OR or Numb.OP_XOR or Numb.OP_SHL or Numb.OP_SHR);
        long ulps = Math.Abs((long)Numb.GetU24(got) - Numb.GetU24(expected));
        Assert.True(libm && ulps <= 1, $"line {line} ({note}): expected {expected:X8}, got {got:X8}");
    }

    // ---------------------------------------------------------------------------------------------
    // u24
    // ---------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(Numb.OP_ADD, 3u, 5u, 8u)]
    [InlineData(Numb.OP_ADD, 0xFFFFFFu, 1u, 0u)]               // wraps at 2^24
    [InlineData(Numb.OP_SUB, 3u, 5u, 16777214u)]              // 3 - 5 wraps
    [InlineData(Numb.FP_SUB, 3u, 5u, 2u)]                     // flipped: 5 - 3
    [InlineData(Numb.OP_MUL, 1000u, 1000u, 1000000u)]
    [InlineData(Numb.OP_MUL, 4096u, 4096u, 0u)]               // 2^24 wraps to 0
    [InlineData(Numb.OP_MUL, 0x800000u, 3u, 0x800000u)]
    [InlineData(Numb.OP_DIV, 7u, 2u, 3u)]
    [InlineData(Numb.OP_DIV, 0u, 5u, 0u)]
    [InlineData(Numb.FP_DIV, 2u, 7u, 3u)]                     // flipped: 7 / 2
    [InlineData(Numb.OP_REM, 7u, 2u, 1u)]
    [InlineData(Numb.FP_REM, 2u, 7u, 1u)]                     // flipped: 7 % 2
    [InlineData(Numb.OP_EQ, 42u, 42u, 1u)]
    [InlineData(Numb.OP_NEQ, 42u, 42u, 0u)]
    [InlineData(Numb.OP_LT, 3u, 5u, 1u)]
    [InlineData(Numb.OP_GT, 3u, 5u, 0u)]
    [InlineData(Numb.OP_LT, 0xFFFFFFu, 0u, 0u)]               // unsigned comparison
    [InlineData(Numb.OP_AND, 0xF0F0F0u, 0xFF00FFu, 0xF000F0u)]
    [InlineData(Numb.OP_OR, 0xF0u, 0x0Fu, 0xFFu)]
    [InlineData(Numb.OP_XOR, 0xFFFFFFu, 0x0F0F0Fu, 0xF0F0F0u)]
    [InlineData(Numb.OP_SHL, 1u, 23u, 0x800000u)]
    [InlineData(Numb.OP_SHL, 1u, 24u, 0u)]                    // shifted out of 24 bits
    [InlineData(Numb.OP_SHL, 5u, 32u, 5u)]                    // shift count is taken mod 32
    [InlineData(Numb.OP_SHL, 3u, 33u, 6u)]
    [InlineData(Numb.FP_SHL, 3u, 1u, 8u)]                     // flipped: 1 << 3
    [InlineData(Numb.OP_SHR, 0x800000u, 23u, 1u)]
    [InlineData(Numb.OP_SHR, 0xFFFFFFu, 31u, 0u)]
    [InlineData(Numb.OP_SHR, 0xFFFFFFu, 32u, 0xFFFFFFu)]
    [InlineData(Numb.FP_SHR, 4u, 0xFFu, 0xFu)]                // flipped: 0xFF >> 4
    public void U24Operations(uint op, uint x, uint y, uint expected)
    {
        Assert.Equal(U(expected), Bin(op, U(x), U(y)));
        Assert.Equal(U(expected), Numb.Operate(U(y), Op(op, U(x)))); // either side may carry the operator
    }

    // ---------------------------------------------------------------------------------------------
    // i24
    // ---------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(Numb.OP_ADD, Numb.I24Max, 1, Numb.I24Min)]     // wraps
    [InlineData(Numb.OP_ADD, -1, -1, -2)]
    [InlineData(Numb.OP_SUB, 3, 5, -2)]
    [InlineData(Numb.FP_SUB, 3, 5, 2)]
    [InlineData(Numb.OP_MUL, -7, 2, -14)]
    [InlineData(Numb.OP_MUL, Numb.I24Min, -1, Numb.I24Min)]
    [InlineData(Numb.OP_MUL, 4096, 4096, 0)]
    [InlineData(Numb.OP_DIV, -7, 2, -3)]                      // truncates toward zero
    [InlineData(Numb.OP_DIV, 7, -2, -3)]
    [InlineData(Numb.FP_DIV, 2, -7, -3)]
    [InlineData(Numb.OP_DIV, Numb.I24Min, -1, Numb.I24Min)]   // 2^23 wraps back
    [InlineData(Numb.OP_REM, -7, 2, -1)]                      // sign of the dividend
    [InlineData(Numb.OP_REM, 7, -2, 1)]
    [InlineData(Numb.FP_REM, 2, -7, -1)]
    [InlineData(Numb.OP_AND, -1, 0x0F, 15)]
    [InlineData(Numb.OP_OR, -8, 3, -5)]
    [InlineData(Numb.OP_XOR, -1, 5, -6)]
    [InlineData(Numb.OP_SHL, 1, 1, 0)]                        // HVM2 has no i24 shifts: +0
    [InlineData(Numb.OP_SHR, -1, 1, 0)]
    [InlineData(Numb.FP_SHL, 1, 1, 0)]
    [InlineData(Numb.FP_SHR, -1, 1, 0)]
    public void I24Operations(uint op, int x, int y, int expected) =>
        Assert.Equal(I(expected), Bin(op, I(x), I(y)));

    [Theory]
    [InlineData(Numb.OP_LT, -1, 1, 1u)]                        // signed comparison, u24 result
    [InlineData(Numb.OP_GT, -1, 1, 0u)]
    [InlineData(Numb.OP_EQ, -5, -5, 1u)]
    [InlineData(Numb.OP_NEQ, Numb.I24Min, Numb.I24Max, 1u)]
    [InlineData(Numb.OP_LT, Numb.I24Min, Numb.I24Max, 1u)]
    public void I24ComparisonsGiveU24(uint op, int x, int y, uint expected) =>
        Assert.Equal(U(expected), Bin(op, I(x), I(y)));

    // ---------------------------------------------------------------------------------------------
    // f24
    // ---------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(Numb.OP_ADD, 1.5f, 2.25f, 3.75f)]
    [InlineData(Numb.OP_SUB, 1f, 3f, -2f)]
    [InlineData(Numb.FP_SUB, 1f, 3f, 2f)]
    [InlineData(Numb.OP_MUL, -1.5f, 4f, -6f)]
    [InlineData(Numb.OP_MUL, 3.4e38f, 10f, float.PositiveInfinity)]
    [InlineData(Numb.OP_DIV, 1f, 0f, float.PositiveInfinity)]
    [InlineData(Numb.OP_DIV, -1f, 0f, float.NegativeInfinity)]
    [InlineData(Numb.OP_DIV, 1f, -0f, float.NegativeInfinity)]
    [InlineData(Numb.OP_DIV, 7f, 2f, 3.5f)]
    [InlineData(Numb.FP_DIV, 2f, 7f, 3.5f)]
    [InlineData(Numb.OP_REM, 7.5f, 2f, 1.5f)]
    [InlineData(Numb.OP_REM, -7.5f, 2f, -1.5f)]               // fmodf: sign of the dividend
    [InlineData(Numb.FP_REM, 2f, 7.5f, 1.5f)]
    [InlineData(Numb.OP_AND, 0f, 1f, 0f)]                     // atan2(0, 1)
    [InlineData(Numb.OP_OR, 2f, 8f, 3f)]                      // log(8) / log(2)
    [InlineData(Numb.OP_XOR, 2f, 10f, 1024f)]                 // pow
    [InlineData(Numb.OP_XOR, 0f, 0f, 1f)]
    [InlineData(Numb.OP_SHL, 0f, 0f, 0f)]                     // sin(x + y)
    [InlineData(Numb.OP_SHR, 0f, 0f, 0f)]                     // tan(x + y)
    [InlineData(Numb.FP_SHL, 1f, 2f, 0f)]                     // no flipped float shifts: 0.0
    [InlineData(Numb.FP_SHR, 1f, 2f, 0f)]
    [InlineData(Numb.OP_ADD, 1f, 1f / 65536, 1f + 1f / 32768)] // exact tie rounds up, not to even
    public void F24Operations(uint op, float x, float y, float expected) =>
        Assert.Equal(F(expected), Bin(op, F(x), F(y)));

    [Fact]
    public void F24SignedZeros()
    {
        Assert.Equal(0x10000003u, F(-0f));
        Assert.Equal(F(-0f), Bin(Numb.OP_ADD, F(-0f), F(-0f)));
        Assert.Equal(F(0f), Bin(Numb.OP_ADD, F(0f), F(-0f)));
        Assert.Equal(F(-0f), Bin(Numb.OP_MUL, F(-1f), F(0f)));
    }

    [Theory]
    [InlineData(Numb.OP_DIV, 0f, 0f)]
    [InlineData(Numb.OP_ADD, float.PositiveInfinity, float.NegativeInfinity)]
    [InlineData(Numb.OP_REM, 1f, 0f)]
    [InlineData(Numb.OP_MUL, 0f, float.PositiveInfinity)]
    [InlineData(Numb.OP_XOR, -8f, 0.5f)]                      // pow of a negative base
    [InlineData(Numb.OP_ADD, float.NaN, 1f)]
    public void F24NaNResults(uint op, float x, float y)
    {
        uint r = Bin(op, F(x), F(y));
        Assert.Equal(Numb.TY_F24, Numb.TypeOf(r));
        Assert.True(float.IsNaN(Numb.GetF24(r)));
    }

    [Theory]
    [InlineData(Numb.OP_EQ, 0f, -0f, 1u)]
    [InlineData(Numb.OP_EQ, float.NaN, float.NaN, 0u)]
    [InlineData(Numb.OP_NEQ, float.NaN, float.NaN, 1u)]
    [InlineData(Numb.OP_LT, float.NegativeInfinity, float.PositiveInfinity, 1u)]
    [InlineData(Numb.OP_GT, float.NaN, 1f, 0u)]
    [InlineData(Numb.OP_LT, -1.5f, -1f, 1u)]
    public void F24ComparisonsGiveU24(uint op, float x, float y, uint expected) =>
        Assert.Equal(U(expected), Bin(op, F(x), F(y)));

    [Theory]
    [InlineData(0x00000080u, 0x00000003u)] // tie at +0 stays +0 (HVM2 tests the whole value, not its low bit)
    [InlineData(0x80000080u, 0x10000023u)] // ...so a tie at -0 rounds away to the smallest negative subnormal
    [InlineData(0x00000280u, 0x00000063u)] // ties round up even from an even value
    [InlineData(0x3F800080u, 0x07F00023u)] // 1 + 2^-16 -> 1 + 2^-15
    [InlineData(0x3F80007Fu, 0x07F00003u)] // below the tie: truncated
    [InlineData(0x7F7FFF80u, 0x0FF00003u)] // rounds past the largest f24 to +inf
    [InlineData(0x7F800001u, 0x0FF00023u)] // a NaN with only low payload bits stays a NaN
    [InlineData(0xFFC00000u, 0x1FF80023u)] // x86's default NaN, low payload bit forced
    public void NewF24Rounding(uint f32Bits, uint expected) =>
        Assert.Equal(expected, Numb.NewF24(BitConverter.UInt32BitsToSingle(f32Bits)));

    [Fact]
    public void F24KeepsTheTop24BitsOfAnF32() =>
        Assert.Equal(BitConverter.UInt32BitsToSingle(0x3FC00000), Numb.GetF24(F(1.5f)));

    // ---------------------------------------------------------------------------------------------
    // Casts
    // ---------------------------------------------------------------------------------------------

    public static TheoryData<uint, uint, uint> Casts() => new()
    {
        { Numb.TY_U24, U(7), U(7) },
        { Numb.TY_U24, I(-1), U(16777215) },                     // reinterprets bits
        { Numb.TY_U24, F(2.75f), U(2) },                          // truncates
        { Numb.TY_U24, F(-1.5f), U(0) },                          // saturates
        { Numb.TY_U24, F(1e10f), U(16777215) },
        { Numb.TY_U24, F(float.PositiveInfinity), U(16777215) },
        { Numb.TY_U24, F(float.NaN), U(0) },
        { Numb.TY_I24, U(0xFFFFFF), I(-1) },
        { Numb.TY_I24, U(0x800000), I(Numb.I24Min) },
        { Numb.TY_I24, I(-9), I(-9) },
        { Numb.TY_I24, F(-2.75f), I(-2) },
        { Numb.TY_I24, F(8388608f), I(Numb.I24Max) },
        { Numb.TY_I24, F(-1e10f), I(Numb.I24Min) },
        { Numb.TY_I24, F(float.NegativeInfinity), I(Numb.I24Min) },
        { Numb.TY_I24, F(float.NaN), I(0) },
        { Numb.TY_F24, U(65537), F(65538f) },                     // an exact f24 tie, rounded up
        { Numb.TY_F24, U(16777215), F(16777216f) },
        { Numb.TY_F24, I(-5), F(-5f) },
        { Numb.TY_F24, F(0.1f), F(0.1f) },
    };

    [Theory]
    [MemberData(nameof(Casts))]
    public void CastsLikeHvm2(uint to, uint x, uint expected)
    {
        Assert.Equal(expected, Numb.Operate(Numb.NewSym(to), x));
        Assert.Equal(expected, Numb.Operate(x, Numb.NewSym(to)));
    }

    // ---------------------------------------------------------------------------------------------
    // Partial application and degenerate pairs
    // ---------------------------------------------------------------------------------------------

    [Fact]
    public void SymbolMeetingANumberIsAPartialApplication()
    {
        uint expected = (5u << 5) | Numb.OP_ADD;
        Assert.Equal(expected, Numb.Operate(Numb.NewSym(Numb.OP_ADD), U(5)));
        Assert.Equal(expected, Numb.Operate(U(5), Numb.NewSym(Numb.OP_ADD)));
        Assert.Equal(Op(Numb.OP_SUB, U(9)), Numb.Operate(Numb.NewSym(Numb.OP_SUB), Op(Numb.OP_MUL, U(9))));
    }

    [Fact]
    public void CastSymbolMeetingAPartialOperatorRetypesIt() =>
        Assert.Equal(I(5), Numb.Operate(Numb.NewSym(Numb.TY_I24), Op(Numb.OP_ADD, U(5))));

    [Fact]
    public void DegeneratePairsGiveU24Zero()
    {
        Assert.Equal(U(0), Numb.Operate(Numb.NewSym(Numb.OP_ADD), Numb.NewSym(Numb.OP_MUL)));
        Assert.Equal(U(0), Numb.Operate(Numb.NewSym(Numb.TY_F24), Numb.NewSym(Numb.TY_I24)));
        Assert.Equal(U(0), Numb.Operate(U(5), U(3)));
        Assert.Equal(U(0), Numb.Operate(I(-5), F(3)));
        Assert.Equal(U(0), Numb.Operate(Op(Numb.OP_ADD, U(5)), Op(Numb.OP_MUL, U(3))));
    }

    // ---------------------------------------------------------------------------------------------
    // Integer division by zero: undefined in HVM2 (SIGFPE), a NumericFault here
    // ---------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(Numb.OP_DIV, 7, 0)]
    [InlineData(Numb.OP_REM, 7, 0)]
    [InlineData(Numb.FP_DIV, 0, 7)]
    [InlineData(Numb.FP_REM, 0, 7)]
    [InlineData(Numb.OP_DIV, 0, 0)]
    public void IntegerDivisionByZeroThrows(uint op, int x, int y)
    {
        Assert.Throws<NumericFault>(() => Bin(op, U((uint)x), U((uint)y)));
        Assert.Throws<NumericFault>(() => Numb.Operate(U((uint)y), Op(op, U((uint)x))));
        Assert.Throws<NumericFault>(() => Bin(op, I(x), I(y)));
        Assert.Throws<NumericFault>(() => Numb.Operate(I(y), Op(op, I(x))));
    }

    [Fact]
    public void FloatDivisionByZeroDoesNotThrow()
    {
        Assert.Equal(F(float.PositiveInfinity), Bin(Numb.OP_DIV, F(1), F(0)));
        Assert.True(float.IsNaN(Numb.GetF24(Bin(Numb.FP_REM, F(0), F(1)))));
    }

    // ---------------------------------------------------------------------------------------------
    // Show: HVM2's Rust `Numb::show` (u24 `{}`, i24 `{:+}`, f24 `{:?}`)
    // ---------------------------------------------------------------------------------------------

    public static TheoryData<uint, string> Shown() => new()
    {
        { U(42), "42" },
        { U(0), "0" },
        { U(0xFFFFFF), "16777215" },
        { I(5), "+5" },
        { I(-5), "-5" },
        { I(0), "+0" },
        { I(Numb.I24Min), "-8388608" },
        { Numb.NewSym(Numb.OP_ADD), "[+]" },
        { Numb.NewSym(Numb.FP_SUB), "[:-]" },
        { Numb.NewSym(Numb.OP_REM), "[%]" },
        { Numb.NewSym(Numb.FP_SHR), "[:>>]" },
        { Numb.NewSym(Numb.TY_U24), "[u24]" },
        { Numb.NewSym(Numb.TY_I24), "[i24]" },
        { Numb.NewSym(Numb.TY_F24), "[f24]" },
        { Numb.NewSym(0), "[?]" },
        { Numb.NewSym(23), "[?]" },
        { Op(Numb.OP_ADD, U(5)), "[+0x0000005]" },
        { Op(Numb.FP_SHL, I(-1)), "[:<<0x0FFFFFF]" },
        { Op(Numb.OP_MUL, F(1.5f)), "[*0x03FC000]" },
        { (5u << 5) | 23u, "[?0x0000005]" },
        { 0x0FF80023u, "+NaN" },                                  // the parser's NaN
        { 0x1FF80023u, "+NaN" },                                  // a negative NaN (x86's 0/0) also shows "+NaN"
        { F(float.PositiveInfinity), "+inf" },
        { F(float.NegativeInfinity), "-inf" },
    };

    [Theory]
    [MemberData(nameof(Shown))]
    public void ShowsLikeHvm2(uint word, string expected) => Assert.Equal(expected, Numb.Show(word));

    /// <summary>f24 words and Rust's `{:?}` of their f32 value (printed by rustc 1.95).</summary>
    [Theory]
    [InlineData(0x00000003u, "0.0")]
    [InlineData(0x10000003u, "-0.0")]
    [InlineData(0x07F80003u, "1.5")]
    [InlineData(0x08080003u, "3.0")]
    [InlineData(0x07B999A3u, "0.10000038")]           // 0.1 as an f24
    [InlineData(0x18040003u, "-2.5")]
    [InlineData(0x06E4F8C3u, "1.0000076e-5")]         // 1e-5 as an f24
    [InlineData(0x0B41C383u, "1.0000058e16")]         // 1e16 as an f24
    [InlineData(0x0B4AA543u, "1.5000087e16")]
    [InlineData(0x08FE2403u, "123456.0")]
    [InlineData(0x08F00023u, "65538.0")]
    [InlineData(0x071A36E3u, "9.999983e-5")]          // 1e-4 rounds below 1e-4: exponential
    [InlineData(0x071F7523u, "0.000120000914")]
    [InlineData(0x0FEFF943u, "3.4000198e38")]
    [InlineData(0x067AD803u, "1.0000076e-7")]
    [InlineData(0x07D33343u, "0.30000305")]
    [InlineData(0x08590003u, "100.0")]
    [InlineData(0x09700003u, "16777216.0")]
    [InlineData(0x08092203u, "3.1416016")]            // pi as an f24
    [InlineData(0x17F00003u, "-1.0")]
    [InlineData(0x0B0C6C03u, "1000005800000000.0")]   // below 1e16: plain decimal
    [InlineData(0x0B419603u, "9900003000000000.0")]
    [InlineData(0x000022E3u, "1.00086e-40")]          // subnormal
    [InlineData(0x1C15AF23u, "-1.0000018e20")]
    [InlineData(0x07506243u, "0.0009999871")]
    [InlineData(0x0E293E63u, "1.0000041e30")]
    public void ShowsF24LikeRustDebug(uint word, string expected) => Assert.Equal(expected, Numb.Show(word));

    /// <summary>Arbitrary f32 bit patterns and Rust's `{:?}` (printed by rustc 1.95).</summary>
    [Theory]
    [InlineData(0x3727C5ACu, "1e-5")]
    [InlineData(0xB727C5ACu, "-1e-5")]
    [InlineData(0x5A0E1BCAu, "1e16")]
    [InlineData(0x5A5529AFu, "1.5e16")]
    [InlineData(0x3DCCCCCDu, "0.1")]
    [InlineData(0x38D1B717u, "0.0001")]
    [InlineData(0x38D1B68Eu, "9.9999e-5")]
    [InlineData(0x00000001u, "1e-45")]
    [InlineData(0x7F7FFFFFu, "3.4028235e38")]
    [InlineData(0x4CEB79A3u, "123456790.0")]
    [InlineData(0x58635FA9u, "1000000000000000.0")]
    [InlineData(0x3E99999Au, "0.3")]
    [InlineData(0x32D6BF95u, "2.5e-8")]
    [InlineData(0x656D2B52u, "7e22")]
    [InlineData(0x3EAAAAABu, "0.33333334")]
    [InlineData(0x00800000u, "1.1754944e-38")]
    public void ShowF24MatchesRustDebugForAnyF32(uint bits, string expected) =>
        Assert.Equal(expected, Numb.ShowF24(BitConverter.UInt32BitsToSingle(bits), parseable: false));

    [Theory]
    [InlineData(0x3727C5ACu, "1.0e-5")]
    [InlineData(0x656D2B52u, "7.0e22")]
    [InlineData(0x5A5529AFu, "1.5e16")]
    [InlineData(0x3FC00000u, "1.5")]
    public void ParseableShowKeepsAFractionInExponents(uint bits, string expected) =>
        Assert.Equal(expected, Numb.ShowF24(BitConverter.UInt32BitsToSingle(bits), parseable: true));
}

/// <summary>Issue 14, item 2: f24 literals as HVM2's parser makes them (ties to even, NaN with the sign bit clear).</summary>
public class F24LiteralTests
{
    [Theory]
    [InlineData("430068.0", "430064.0")]   // an exact tie between 430064 and 430072: to even
    [InlineData("430076.0", "430080.0")]   // the other tie: up to the even one
    [InlineData("430069.0", "430072.0")]   // above the tie: up
    [InlineData("430067.0", "430064.0")]   // below the tie: down
    [InlineData("1.5", "1.5")]
    [InlineData("-0.25", "-0.25")]
    [InlineData("+inf", "+inf")]
    [InlineData("-inf", "-inf")]
    public void LiteralsRoundToNearestTiesToEven(string literal, string printed) =>
        Assert.Equal(printed, Lmn.Net.Numb.Show(Lmn.Hvm.HvmParser.Parse("f.hvm", $"@main = {literal}\n").Defs[0].Net.Root.Numb));

    [Fact]
    public void NaNHasTheSignBitClear()
    {
        uint numb = Lmn.Hvm.HvmParser.Parse("f.hvm", "@main = +NaN\n").Defs[0].Net.Root.Numb;
        // HVM2: 0x7FC00000 packed as f24, whose payload read as a u24 is 8372225 (.NET's NaN gave 16760833).
        Assert.Equal(8372225u, Lmn.Net.Numb.GetU24(numb));
        Assert.Equal(numb, Lmn.Net.Numb.F24Literal(float.NaN));
    }

    [Fact]
    public void LmnLiteralsAgreeWithHvmLiterals()
    {
        var diags = new List<Lmn.Text.Diagnostic>();
        foreach (string lit in new[] { "430068.0", "430076.0", "1.0e-5", "+NaN", "-inf", "3.0e38" })
        {
            var toks = Lmn.Language.Lexer.Lex(new Lmn.Text.SourceText("f.lmn", lit), diags);
            uint hvm = Lmn.Hvm.HvmParser.Parse("f.hvm", $"@main = {lit}\n").Defs[0].Net.Root.Numb;
            Assert.Equal(hvm, toks[0].Numb);
        }
        Assert.Empty(diags);
    }
}
