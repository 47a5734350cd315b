namespace Lmn.Tests.Net;

/// <summary>One test per interaction rule: the normal form and HVM2's interaction count.</summary>
public class RuleTests
{
    [Theory]
    // CALL: boot (1) + @id ~ (1 a) (1) + ANNI (1)
    [InlineData("@main = a & @id ~ (1 a)\n@id = (x x)", "1", 3)]
    // VOID: ERA ~ NUM and NUM ~ NUM
    [InlineData("@main = * & * ~ 5 & 1 ~ 2", "*", 3)]
    // ERAS: the eraser meets a CON and copies itself into both wires; they meet again (VOID)
    [InlineData("@main = * & * ~ (a a)", "*", 3)]
    // ERAS of a number: it is copied into both ports of a CON
    [InlineData("@main = (a b) & 7 ~ (a b)", "(7 7)", 2)]
    // ANNI: same kinds meet, ports connect pairwise
    [InlineData("@main = r & (1 r) ~ (x x)", "1", 2)]
    [InlineData("@main = (a b) & {a b} ~ {1 2}", "(1 2)", 2)]
    // COMM: different kinds duplicate each other
    [InlineData("@main = (a b) & {a b} ~ (1 2)", "((1 2) (1 2))", 4)]
    // OPER: a number meets an operator node whose first port is a number
    [InlineData("@main = r & [+2] ~ $(3 r)", "5", 2)]
    // OPER with a variable operand (even one already set): the operator swaps in, two more OPERs finish
    [InlineData("@main = r & [+] ~ $(x $(4 r)) & 3 ~ x", "7", 4)]
    // SWIT: zero takes the first branch
    [InlineData("@main = r & 0 ~ ?((10 *) r)", "10", 4)]
    // SWIT: n+1 gives the predecessor to the second branch (then ANNI, VOID, ANNI)
    [InlineData("@main = r & 3 ~ ?((* (p p)) r)", "2", 5)]
    // LINK is never counted
    [InlineData("@main = a & b ~ a & 5 ~ b", "5", 1)]
    public void Rule(string src, string result, long itrs)
    {
        var (r, n) = TestUtil.Run(src);
        Assert.Equal(result, r);
        Assert.Equal(itrs, n);
    }

    [Fact]
    public void SafeRefMeetingDupIsCopied()
    {
        // @k has no DUP: meeting a DUP it is copied (one interaction), not expanded.
        var (r, n) = TestUtil.Run("@main = (a b) & @k ~ {a b}\n@k = (x x)");
        Assert.Equal("(@k @k)", r);
        Assert.Equal(2, n);
    }

    [Fact]
    public void UnsafeRefMeetingDupIsExpanded()
    {
        // @u holds a DUP, so it is expanded before being duplicated: CALL, then COMM and friends.
        var (r, n) = TestUtil.Run("@main = (a b) & @u ~ {a b}\n@u = 5 & * ~ {x x}");
        Assert.Equal("(5 5)", r);
        Assert.Equal(5, n);
    }

    [Fact]
    public void UnsafetyPropagatesThroughReferences()
    {
        // @w refers to @u, which holds a DUP: @w is unsafe too (HVM2's propagate_safety).
        var (r, _) = TestUtil.Run("@main = (a b) & @w ~ {a b}\n@w = @u\n@u = 5 & * ~ {x x}");
        Assert.Equal("(5 5)", r);
    }

    [Fact]
    public void FreeWiresAreNamedInOrderOfAppearance()
    {
        var (r, n) = TestUtil.Run("@main = (x x)");
        Assert.Equal("(v0 v0)", r);
        Assert.Equal(1, n);
    }

    [Fact]
    public void ReferencesPrintByName()
    {
        var (r, _) = TestUtil.Run("@main = (@foo @main)\n@foo = *");
        Assert.Equal("(@foo @main)", r);
    }

    [Fact]
    public void DeepResultDoesNotOverflowTheStack()
    {
        // A list of 200,000 numbers built by recursion reads back without recursion.
        var (r, _) = TestUtil.Run("""
            @main = a & @mk ~ (200000 a)
            @mk = (?((* @mk_s) r) r)
            @mk_s = ({a b} (a r)) & @mk ~ (b r)
            """);
        Assert.StartsWith("(199999 (199998 (", r);
        Assert.EndsWith("(0 *)" + new string(')', 199999), r);
    }
}
