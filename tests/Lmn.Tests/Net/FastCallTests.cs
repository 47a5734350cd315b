namespace Lmn.Tests.Net;

/// <summary>Differential: compiled definitions (the default for fastCalls: true) and plain copying give the same normal form and interaction count.</summary>
public class FastCallTests
{
    public static TheoryData<string> Programs()
    {
        var data = new TheoryData<string>
        {
            "@main = a & @loop ~ (1000 a)\n@loop = (?((0 @loop) r) r)",
            "@main = a & @sum ~ (10 a)\n@sum = (?((1 @sum_s) r) r)\n@sum_s = ({a b} r) & @sum ~ (a x) & @sum ~ (b y) & [+] ~ $(x $(y r))",
            "@main = (a b) & @k ~ {a b}\n@k = (x x)",
            "@main = r & @f ~ (3 r)\n@f = (?((@z @s) r) r)\n@z = 7\n@s = (p r) & [*2] ~ $(p r)",
            "@main = r & @f ~ (4 r)\n@f = (n r) & ?((10 (p q)) r) ~ n & [+1] ~ $(p q)",
            "@main = x & @g ~ (* x)\n@g = (a (b c)) & {b c} ~ a",
            "@main = r & @op ~ (6 (7 r))\n@op = (a (b r)) & [*] ~ $(a $(b r))",
            "@main = r & @op ~ (6 r)\n@op = (a r) & a ~ $(1.5 r)",
            // The operator's first port is a variable whose other end met the caller's 6 first: OPER must
            // see a variable there (two OPERs: the swap, then 6 ~ $(3 r)), not the 6 (one OPER).
            "@main = r & @op ~ (6 r)\n@op = (a r) & @k ~ $(a r)\n@k = 3",
            "@main = r & @op ~ (6 (2 r))\n@op = (a (b r)) & @k ~ $(a $(b r))\n@k = [*]",
        };
        foreach (string f in Directory.GetFiles(Path.Combine(TestUtil.RepoRoot, "examples"), "*.hvm"))
            if (!File.ReadAllText(f).Contains("0xD0CA11")) data.Add(File.ReadAllText(f));
        return data;
    }

    [Theory]
    [MemberData(nameof(Programs))]
    public void SameAsInterpreter(string program)
    {
        var fast = TestUtil.Run(program, fastCalls: true);
        var slow = TestUtil.Run(program, fastCalls: false);
        Assert.Equal(slow.Result, fast.Result);
        Assert.Equal(slow.Itrs, fast.Itrs);
    }
}
