using Lmn.Oracles;

namespace Lmn.Tests.Reference;

/// <summary>The reference interpreter on hand-written programs; every expected output was worked out by hand.</summary>
public class RefInterpreterTests
{
    private static RefResult Run(string program, IOracle? oracle = null) =>
        RefInterpreter.Run("F.lmn", program + "\n", oracle ?? new FirstOracle());

    private static string Out(string program)
    {
        var r = Run(program);
        Assert.True(r.Ok, r.Error);
        return r.Output!;
    }

    [Theory]
    [InlineData("1 + 2 * 3", "7")]
    [InlineData("let k = 3; let f = \\x. x * x + k; [f(2), f(3)]", "[7, 12]")]
    [InlineData("def between(lo, hi, xs) = filter(\\x. x >= lo && x <= hi, xs)\nbetween(2, 4, [1, 2, 3, 4, 5])", "[2, 3, 4]")]
    [InlineData("def sq(x) = x * x\nmap(\\x. sq(x) + 1, [1, 2, 3])", "[2, 5, 10]")]
    [InlineData("def same(a, b) = a == b\n[same(joy, joy), same(joy, pai)]", "[1, 0]")]
    [InlineData("def add(a, b) = a + b\nlet inc = add(1); [inc(1), inc(41)]", "[2, 42]")]
    [InlineData("def adder(n) = \\x. x + n\n[adder(10)(5), map(adder(1), [1, 2])]", "[15, [2, 3]]")]
    [InlineData("let f = \\a b. a - b; let g = f(10); [g(3), f(5, 1)]", "[7, 4]")]
    [InlineData("def twice(f, x) = f(f(x))\ntwice(\\y. y * 3, 2)", "18")]
    [InlineData("def compose(f, g) = \\x. f(g(x))\nlet h = compose(\\x. x + 1, \\x. x * 2); h(5)", "11")]
    [InlineData("fold(\\a b. a * 10 + b, 0, [1, 2, 3])", "123")]
    [InlineData("reverse([1, 2, 3])", "[3, 2, 1]")]
    [InlineData("[len(concat([1, 2], [3])), concat([a], [b, c])]", "[3, [a, b, c]]")]
    [InlineData("range(2, 5)", "[2, 3, 4]")]
    [InlineData("sum(range(0, 101))", "5050")]
    [InlineData("[head([7, 8]), tail([7, 8])]", "[7, [8]]")]
    [InlineData("def f(n) = match n { 0 => zero; 1 => one; _ => many }\nmap(f, [0, 1, 2])", "[zero, one, many]")]
    [InlineData("def fact(n) = match n { 0 => 1; 1+p => n * fact(p) }\nfact(5)", "120")]
    [InlineData("def mood(w) = match w { joy => 1; sad => 2; _ => 0 }\n[mood(joy), mood(sad), mood(hop)]", "[1, 2, 0]")]
    [InlineData("match zork { zz => [zz, zz] }", "[zork, zork]")]
    [InlineData("def sumL(xs) = match xs { [] => 0; [h, ...t] => h + sumL(t) }\nsumL([1, 2, 3])", "6")]
    [InlineData("def area(s) = match s { sq[a] => a * a; rect[w, h] => w * h }\n[area(sq[3]), area(rect[2, 5])]", "[9, 10]")]
    [InlineData("def kind(x) = match x { 0 => zero; [] => empty; [_, ..._] => list; pt[_, _] => point; \"s\" => str; _ => other }\nmap(kind, [0, [], [1], pt[1, 2], \"s\", joy, 5])",
        "[zero, empty, list, point, str, other, other]")]
    [InlineData("[fir[lov, [1, pai]] == fir[lov, [1, pai]], fir[lov, [1, pai]] == fir[lov, [1, hop]], [1, 2] != [1, 2], \"a\" == \"a\", joy == \"joy\", head[] == hd]", "[1, 0, 0, 1, 0, 0]")]
    [InlineData("[1 == joy, [] == 0, pt[] == pt[], [[1], [2, [3]]] == [[1], [2, [3]]]]", "[0, 0, 1, 1]")]
    [InlineData("let pt[x, y] = pt[3, 4]; x * y", "12")]
    [InlineData("let e = 1 / 0; 5", "5")]
    [InlineData("def k(a, b) = b\nk(1 / 0, 7)", "7")]
    [InlineData("let x = 3; [!0, !5, 10 + -x, !joy]", "[1, 0, 7, 0]")]
    [InlineData("[0 && 1 / 0, 1 || 1 / 0, 2 && 3, 0 || 0]", "[0, 1, 1, 0]")]
    [InlineData("[(\\x. x) == 1]", "[0]")]
    [InlineData("def ev(n) = match n { 0 => 1; 1+p => od(p) }\ndef od(n) = match n { 0 => 0; 1+p => ev(p) }\n[ev(4), od(4), ev(7)]", "[1, 0, 0]")]
    [InlineData("map(\\i. \\x. x + i, [1, 2]) → map(\\f. f(10))", "[11, 12]")]
    [InlineData("let inc = map(\\x. x + 1); inc([1, 2])", "[2, 3]")]
    [InlineData("def id(f) = f\nid(\\x. x * 2, 21)", "42")]
    [InlineData("def add(a, b) = a + b\n[add, add(1), 1]", "[add, add(1), 1]")]
    [InlineData("(joy)@now", "joy@now")]
    [InlineData("let k = 3; \\x. x + k", "λx. x + 3")]
    [InlineData("let k = 3; [\\x. (x + k) * 2, \\a b. a - b * k]", "[λx. (x + 3) * 2, λa b. a - b * 3]")]
    [InlineData("(\\a b. a + b)(1)", "(λa b. a + b)(1)")]
    [InlineData("let f = \\y. y; \\x. f(x)", "λx. (λy. y)(x)")]
    [InlineData("let xs = [1]; \\x. [x, ...xs]", "λx. [x, ...[1]]")]
    [InlineData("let k = 2; \\x. \\y. x * y + k", "λx. λy. x * y + 2")]
    [InlineData("[\"a\" == \"b\", match \"hi\" { \"hi\" => 1; _ => 0 }]", "[0, 1]")]
    [InlineData("[0, ...tl]", "[0, ...tl]")]
    [InlineData("[hello, world]", "[hello, world]")]
    [InlineData("def map(f, xs) = 0\n[map(1, 2), reverse([1, 2])]", "[0, [2, 1]]")]
    [InlineData("let x = 2 + 3; [x, x * x, x]", "[5, 25, 5]")]
    [InlineData("match 5 { 2+p => p; _ => 0 }", "3")]
    [InlineData("let f = \\x. \\y. [x, y]; let g = f(1); [g(2), g(3)]", "[[1, 2], [1, 3]]")]
    [InlineData("def count(n) = if n == 0 then [] else [n, ...count(n - 1)]\ncount(4)", "[4, 3, 2, 1]")]
    [InlineData("let xs = [3, 1, 2]; let [a, ...rest] = xs; [a, len(rest), rest]", "[3, 2, [1, 2]]")]
    [InlineData("def pick(c) = match c { pt[0, w] => w; pt[1+n, _] => n; _ => none }\n[pick(pt[0, joy]), pick(pt[4, joy]), pick(joy)]", "[joy, 3, none]")]
    public void Evaluates(string program, string expected) => Assert.Equal(expected, Out(program));

    [Theory]
    [InlineData("let pt[x, y] = pr[3, 4]; x", "F.lmn:1:5", "does not fit")]
    [InlineData("[1, 10 / 0]", "F.lmn:1:8", "division by zero")]
    [InlineData("[1, 10 % 0]", "F.lmn:1:8", "division by zero")]
    [InlineData("[1, head([])]", "F.lmn:1:5", "empty list")]
    [InlineData("let xs = []; tail(xs)", "F.lmn:1:14", "empty list")]
    [InlineData("[1, 2] + 3", "F.lmn:1:8", "expected a number")]
    [InlineData("1 + joy", "F.lmn:1:3", "expected a number")]
    [InlineData("if joy then 1 else 2", "F.lmn:1:1", "condition")]
    [InlineData("match 3 { 0 => a; 1 => b }", "F.lmn:1:1", "no arm")]
    [InlineData("(\\x. x) == (\\x. x)", "F.lmn:1:9", "cannot compare functions")]
    [InlineData("let n = 3; n(4)", "F.lmn:1:14", "not a function")]
    [InlineData("[1] < [2]", "F.lmn:1:5", "expected a number")]
    [InlineData("def f(x) = x / 0\n[1, f(2)]", "F.lmn:1:14", "division by zero")]
    [InlineData("sum([1, joy])", "F.lmn:1:1", "expected a number")]
    [InlineData("[error(\"boom\"), 1 / 0]", "F.lmn:1:2", "boom")]
    public void FailsAt(string program, string location, string message)
    {
        var r = Run(program);
        Assert.False(r.Ok, r.Output);
        Assert.Equal(location, r.ErrorLocation);
        Assert.Contains(message, r.Error);
        Assert.StartsWith(location + ": error: ", r.Error);
    }

    private static void Asks(string program, string output, params string[] questions)
    {
        var r = Run(program);
        Assert.True(r.Ok, r.Error);
        Assert.Equal(output, r.Output);
        Assert.Equal(questions, r.Questions.Select(q => q.Key + " at " + q.Location).ToArray());
    }

    [Fact]
    public void DroppedSharedQuestionIsNotAsked() =>
        Asks("let m = ∿lov[joy, pai]; let k = \\a b. b; pr[k(m, 1), k(m, 2)]", "pr[1, 2]");

    [Fact]
    public void DefinitionWithoutParametersAsks() =>
        Asks("def g = ∿lov[joy, pai]\n[g, 1]", "[joy, 1]", "∿lov[joy, pai] at F.lmn:1:9");

    [Fact]
    public void NestedQuestionsAreAskedInnermostFirst() =>
        Asks("∿lov[joy, ∿mov[run, sit]]", "joy", "∿mov[run, sit] at F.lmn:1:11", "∿lov[joy, run] at F.lmn:1:1");

    [Fact]
    public void SharedQuestionIsAskedOnce() =>
        Asks("let m = ∿lov[joy, pai]; [m, m, m == joy]", "[joy, joy, 1]", "∿lov[joy, pai] at F.lmn:1:9");

    [Fact]
    public void UntakenBranchAsksNothing() => Asks("if 0 then ∿lov[joy, pai] else sad", "sad");

    [Fact]
    public void PreludeQuestionsAreLocatedAtTheUsersReference()
    {
        Asks("classify(5, [big, sad])", "big", "∿classify[big, sad] {@item=5} at F.lmn:1:1");
        Asks("[1, choose([a, b])]", "[1, a]", "∿choose[a, b] at F.lmn:1:5");
    }

    [Fact]
    public void AnchorsInScopeAreBindings() =>
        Asks("let @mood = joy; ∿lov[pai, hop]", "pai", "∿lov[pai, hop] {@mood=joy} at F.lmn:1:18");

    [Fact]
    public void ArithmeticInspectsAQuestion() => Asks("∿lov[1, 2] + 10", "11", "∿lov[1, 2] at F.lmn:1:1");

    [Fact]
    public void LenDoesNotInspectTheElements() => Asks("len([∿lov[joy, pai], ∿lov[hop, sad]])", "2");

    [Fact]
    public void PrintingAsksEveryQuestionLeftToRight() =>
        Asks("map(\\e. ∿lov[e, calm], [joy, pai])", "[joy, pai]", "∿lov[joy, calm] at F.lmn:1:9", "∿lov[pai, calm] at F.lmn:1:9");

    [Fact]
    public void EqualityStopsAtTheFirstDifference() => Asks("[1, ∿lov[joy, pai]] == [2, ∿lov[hop, sad]]", "0");

    [Fact]
    public void WordsWrittenInTheScrutineeArePatternWords() =>
        Asks("match ∿lov[zed, qux] { qux => 1; zed => 2 }", "2", "∿lov[zed, qux] at F.lmn:1:7");

    [Fact]
    public void AMatchArmSelectedByAnAnswerAsksItsOwnQuestion() =>
        Asks("match ∿lov[joy, pai] { joy => ∿mov[run, sit]; _ => sad }", "run", "∿lov[joy, pai] at F.lmn:1:7", "∿mov[run, sit] at F.lmn:1:31");

    [Fact]
    public void AnErrorInACandidateIsTheQuestionsValue()
    {
        var r = Run("let q = ∿lov[joy, 1 / 0]; [q]");
        Assert.Equal("F.lmn:1:21", r.ErrorLocation);
        Assert.Empty(r.Questions);
    }

    [Fact]
    public void TheTestOracleIsAFunctionOfTheQuestion()
    {
        var a = RefInterpreter.Run("F.lmn", "[∿lov[joy, pai, hop], ∿lov[joy, pai, hop], ~say[hi]]\n", new TestOracle());
        var b = RefInterpreter.Run("G.lmn", "def x = 1\n[∿lov[joy, pai, hop], ∿lov[joy, pai, hop], ~say[hi]]\n", new TestOracle());
        Assert.True(a.Ok, a.Error);
        Assert.Equal(a.Output, b.Output);
        Assert.Matches("^\\[(joy|pai|hop), \\1, \"open\"\\]$", a.Output);
        // Two sites of the same question (distinct locations), and the open one.
        Assert.Equal(3, a.Questions.Count);
        Assert.Equal(2, a.Questions.Select(q => q.Key).Distinct().Count());
    }

    [Fact]
    public void ExhaustedFuelIsReported() =>
        Assert.Throws<RefFuelExhausted>(() => RefInterpreter.Run("F.lmn", "def f(n) = f(n + 1)\nf(0)\n", new FirstOracle(), fuel: 10_000));
}
