using System.Globalization;
using System.Text;

namespace Lmn.Net;

/// <summary>
/// Interactions performed, one count per rule of HVM2's table (<see cref="Rule"/>). <see cref="Total"/> is
/// HVM2's ITRS: every rule but LINK. LINK counts the links that met a variable whose other end was already
/// set (two wire ends joined through a substitution slot); it is bookkeeping, not an interaction, so it is
/// outside the total, and unlike the seven rules it depends on how definitions are instantiated (the fast
/// and compiled paths join many wires without a slot). The seven rules are the same on every path and at
/// every thread count (interaction nets are strongly confluent: every complete reduction fires the same
/// multiset of rules).
/// </summary>
public struct RuleCounts : IEquatable<RuleCounts>
{
    public long Link;
    public long Call;
    public long Void;
    public long Eras;
    public long Anni;
    public long Comm;
    public long Oper;
    public long Swit;

    /// <summary>HVM2's ITRS: every rule but LINK.</summary>
    public readonly long Total => Call + Void + Eras + Anni + Comm + Oper + Swit;

    /// <summary>The count of one rule by HVM2's number (<see cref="Rule.LINK"/> .. <see cref="Rule.SWIT"/>).</summary>
    public readonly long this[int rule] => rule switch
    {
        Rule.LINK => Link,
        Rule.CALL => Call,
        Rule.VOID => Void,
        Rule.ERAS => Eras,
        Rule.ANNI => Anni,
        Rule.COMM => Comm,
        Rule.OPER => Oper,
        Rule.SWIT => Swit,
        _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, "a rule is 0 (LINK) to 7 (SWIT)"),
    };

    /// <summary>The rules by name, in HVM2's order, with their counts.</summary>
    public readonly IEnumerable<KeyValuePair<string, long>> ByName()
    {
        for (int r = 0; r < Rule.Names.Length; r++) yield return new(Rule.Names[r], this[r]);
    }

    public static RuleCounts operator +(RuleCounts a, RuleCounts b) => new()
    {
        Link = a.Link + b.Link,
        Call = a.Call + b.Call,
        Void = a.Void + b.Void,
        Eras = a.Eras + b.Eras,
        Anni = a.Anni + b.Anni,
        Comm = a.Comm + b.Comm,
        Oper = a.Oper + b.Oper,
        Swit = a.Swit + b.Swit,
    };

    /// <summary>The seven counted rules are equal (LINK is left out: it depends on the instantiation path).</summary>
    public readonly bool SameInteractions(RuleCounts o) =>
        Call == o.Call && Void == o.Void && Eras == o.Eras && Anni == o.Anni && Comm == o.Comm && Oper == o.Oper && Swit == o.Swit;

    /// <summary>One `- NAME: count` line per rule, as `lmn run -s` prints them.</summary>
    public readonly string Lines(string prefix = "- ")
    {
        var sb = new StringBuilder();
        foreach (var (name, n) in ByName()) sb.Append(CultureInfo.InvariantCulture, $"{prefix}{name}: {n}\n");
        return sb.ToString();
    }

    public readonly bool Equals(RuleCounts o) => Link == o.Link && SameInteractions(o);

    public override readonly bool Equals(object? obj) => obj is RuleCounts o && Equals(o);

    public override readonly int GetHashCode() => HashCode.Combine(Link, Call, Void, Eras, Anni, Comm, Oper, Swit);

    public static bool operator ==(RuleCounts a, RuleCounts b) => a.Equals(b);

    public static bool operator !=(RuleCounts a, RuleCounts b) => !a.Equals(b);

    public override readonly string ToString() =>
        string.Join(" ", ByName().Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key}={kv.Value}")));
}
