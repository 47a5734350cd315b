using CsCheck;
using Lmn.Language;

namespace Lmn.Tests.Language;

/// <summary>
/// A copy of a symbol table (what a batch run gives each input) reads through to the table it was made
/// from: checked against a table built from scratch with the renamed strings, the way a compilation with
/// the input's own text builds it.
/// </summary>
public class SymbolTableTests
{
    private enum Op { Word, Compound, String, Anchor, Closure }

    private static int Apply(SymbolTable t, (Op Op, string Name, int Arity) x) => x.Op switch
    {
        Op.Word => t.Word(x.Name),
        Op.Compound => t.Compound(x.Name, x.Arity),
        Op.String => t.String(x.Name),
        Op.Anchor => t.Anchor(x.Name),
        _ => t.Closure(x.Name),
    };

    private static readonly string[] Names = ["a", "b", "c", "ph1", "ph2", "ph3", "x", "cons"];

    private static readonly Gen<(Op, string, int)> GenOp =
        Gen.Select(Gen.Int[0, 4].Select(i => (Op)i), Gen.Int[0, Names.Length - 1].Select(i => Names[i]), Gen.Int[1, 3]);

    /// <summary>A word and a compound of no fields share a tag: a copy that adds `x[]` beside its base's `x` lists both, once each (found by review).</summary>
    [Fact]
    public void ACopyListsASymbolThatSharesATagWithItsBasesOnce()
    {
        var template = new SymbolTable();
        template.Word("x");
        template.String("ph");
        var copy = template.Copy(new Dictionary<string, string>(StringComparer.Ordinal) { ["ph"] = "text" });
        Assert.Equal(template.Word("x"), copy.Compound("x", 0));
        var reference = new SymbolTable();
        reference.Word("x");
        reference.String("text");
        reference.Compound("x", 0);
        Assert.Equal(reference.All, copy.All);
    }

    [Fact]
    public void ACopyWithRenamedStringsEqualsATableBuiltWithThem()
    {
        Gen.Select(GenOp.Array[0, 30], GenOp.Array[0, 20], Gen.Bool).Sample((before, after, renameAll) =>
        {
            var map = new Dictionary<string, string>(StringComparer.Ordinal) { ["ph1"] = "input one" };
            if (renameAll) { map["ph2"] = "input two"; map["ph3"] = "input three"; }
            var template = new SymbolTable();
            foreach (var x in before) Apply(template, x);
            var copy = template.Copy(map);
            var reference = new SymbolTable();
            foreach (var (op, name, arity) in before) Apply(reference, (op, op == Op.String && map.TryGetValue(name, out var to) ? to : name, arity));
            // What the input's run adds: the same tags in both, the placeholders' names now new strings.
            foreach (var x in after) Assert.Equal(Apply(reference, x), Apply(copy, x));
            foreach (var x in before) Assert.Equal(Apply(reference, (x.Item1, x.Item1 == Op.String && map.TryGetValue(x.Item2, out var to) ? to : x.Item2, x.Item3)), Apply(copy, (x.Item1, x.Item1 == Op.String && map.TryGetValue(x.Item2, out var t2) ? t2 : x.Item2, x.Item3)));
            Assert.Equal(reference.All.OrderBy(s => s.Tag), copy.All.OrderBy(s => s.Tag));
            foreach (var s in reference.All)
            {
                Assert.True(copy.TryGet(s.Tag, out var c));
                Assert.Equal(s, c);
                Assert.Equal(s, copy[s.Tag]);
            }
            // The template still has its placeholders, and does not change any more.
            foreach (var s in template.All) Assert.Equal(s, template[s.Tag]);
            Assert.Throws<InvalidOperationException>(() => template.Word("never seen before"));
            // A copy of the copy reads through both.
            var second = copy.Copy(new Dictionary<string, string>(StringComparer.Ordinal) { ["input one"] = "again" });
            if (copy.All.Any(s => s.Kind == SymKind.String && s.Name == "input one"))
                Assert.Contains(second.All, s => s.Kind == SymKind.String && s.Name == "again");
            Assert.Equal(copy.All.Count, second.All.Count);
            Assert.Equal(Apply(reference, (Op.Word, "fresh", 0)), Apply(second, (Op.Word, "fresh", 0)));
        }, iter: 2000);
    }
}
