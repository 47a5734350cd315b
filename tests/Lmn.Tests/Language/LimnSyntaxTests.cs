using Lmn.Language;
using Lmn.Oracles;
using Lmn.Tests.Reference;
using Lmn.Text;

namespace Lmn.Tests.Language;

/// <summary>
/// The Limn project's surface syntax (issue 17) beside the seed's: the parser on every ambiguity between
/// the two, the meaning of phrases, flows, collapses, waves, blocks and local functions, and every program
/// of examples/limn against its .expected file, on the compiled pipeline and on the reference interpreter.
/// </summary>
public class LimnSyntaxTests
{
    private static Expr Parse1(string text)
    {
        var diags = new List<Diagnostic>();
        var ast = Parser.Parse(new SourceText("F.lmn", text), diags);
        Assert.True(diags.All(d => d.Severity != Severity.Error), string.Join("\n", diags.Select(d => d.Render())));
        return Assert.IsAssignableFrom<Expr>(ast.Main);
    }

    private static string ParseError(string text)
    {
        var diags = new List<Diagnostic>();
        Parser.Parse(new SourceText("F.lmn", text), diags);
        return diags.First(d => d.Severity == Severity.Error).Render();
    }

    // The two syntaxes side by side
    // -----------------------------

    [Fact]
    public void AtWithoutSpacesAnchorsAndWithSpacesCollapses()
    {
        var anchored = Assert.IsType<Anchored>(Parse1("joy@now"));
        Assert.Equal("now", anchored.Anchor);
        var collapse = Assert.IsType<Collapse>(Parse1("[red, blue] @ user_pref"));
        Assert.IsType<ListLit>(collapse.Sup);
        Assert.Equal("user_pref", Assert.IsType<Name>(collapse.Ctx).Id);
        // A space after '@' is what makes the collapse: `e@ ctx` too.
        Assert.IsType<Collapse>(Parse1("xs@ ctx"));
        // `e @now` is e beside the anchor's value, `@now e` anchors e (the seed's forms, unchanged).
        var beside = Assert.IsType<Apply>(Parse1("joy @now"));
        Assert.Equal(ApplyKind.Juxt, beside.Kind);
        Assert.IsType<AnchorRef>(beside.Arg);
        Assert.IsType<Anchored>(Parse1("@now joy"));
        // An anchor's value collapsed: `@mood @ ctx`.
        Assert.IsType<AnchorRef>(Assert.IsType<Collapse>(Parse1("@mood @ ctx")).Sup);
    }

    [Fact]
    public void AmbiguityGluedIsTheSeedsQuestionAndSpacedWithATenseIsAWave()
    {
        var q = Assert.IsType<SiteExpr>(Parse1("∿now[x]"));
        Assert.Equal("now", q.Head);
        Assert.False(q.Open);
        var w = Assert.IsType<Wave>(Parse1("∿ now [x]"));
        Assert.Equal("now", w.Tense);
        Assert.Equal("x", Assert.IsType<Name>(w.Body).Id);
        // Without brackets: the operand after the tense, here a phrase.
        var w2 = Assert.IsType<Wave>(Parse1("∿ now hello world"));
        Assert.Equal(ApplyKind.Juxt, Assert.IsType<Apply>(w2.Body).Kind);
        // Several items in the brackets: a list, anchored.
        Assert.IsType<ListLit>(Assert.IsType<Wave>(Parse1("∿ was [a, b]")).Body);
        // A label and a block.
        var w3 = Assert.IsType<Wave>(Parse1("∿ now [calculate sum] { fn add(a, b) = a + b; add(2, 3) }"));
        Assert.NotNull(w3.Label);
        Assert.IsType<LetFn>(w3.Body);
        // A spaced head that is no tense word is the seed's question spelled with spaces.
        Assert.Equal("lov", Assert.IsType<SiteExpr>(Parse1("∿ lov [joy, pai]")).Head);
        Assert.Contains("a tense word after '∿ '", ParseError("∿ mea flo"));
    }

    [Fact]
    public void OpenQuestionsReadTheSameWithOrWithoutSpaces()
    {
        var a = Assert.IsType<SiteExpr>(Parse1("~x[y]"));
        var b = Assert.IsType<SiteExpr>(Parse1("~ x [y]"));
        Assert.True(a.Open && b.Open);
        Assert.Equal(a.Head, b.Head);
        Assert.Equal(Assert.IsType<Name>(a.Args[0]).Id, Assert.IsType<Name>(b.Args[0]).Id);
        // The phrase inside, with the word `in`.
        var e = Assert.IsType<SiteExpr>(Parse1("~ explain [result in context]"));
        Assert.Equal("result in context", ExprPrinter.Print(e.Args[0]));
        // The old diagnostic "unexpected '[', expected '['" is gone; a missing bracket says what it wants.
        Assert.DoesNotContain("unexpected '[', expected '['", ParseError("~ explain"));
        Assert.Contains("expected '[' after ~explain", ParseError("~ explain"));
    }

    [Fact]
    public void CallJuxtapositionAndFlowAreThreeKindsOfApplication()
    {
        Assert.Equal(ApplyKind.Call, Assert.IsType<Apply>(Parse1("f(x)")).Kind);
        Assert.Equal(ApplyKind.Juxt, Assert.IsType<Apply>(Parse1("f x")).Kind);
        var flow = Assert.IsType<Apply>(Parse1("x → f"));
        Assert.Equal(ApplyKind.Flow, flow.Kind);
        Assert.Equal("f", Assert.IsType<Name>(flow.Fn).Id);
        Assert.Equal(ApplyKind.Flow, Assert.IsType<Apply>(Parse1("x -> f")).Kind);
        // A flow into an open question gives it the value as its first argument.
        var q = Assert.IsType<SiteExpr>(Parse1("x → ~explain[in context]"));
        Assert.Equal(2, q.Args.Count);
        Assert.Equal("x", Assert.IsType<Name>(q.Args[0]).Id);
    }

    [Fact]
    public void InIsAWordOutsideALetAndStillEndsALetsValue()
    {
        Assert.Equal("1", LmnTest.Out("let x = 1 in x"));
        Assert.Equal("[result in context]", LmnTest.Out("[result in context]"));
        Assert.Equal("b in a", LmnTest.Out("let p = a in b in p"));
    }

    [Fact]
    public void TopLevelStatements()
    {
        // Several expressions: one value per line; bindings and fn anywhere, visible everywhere.
        Assert.Equal("2\n10", LmnTest.Out("y = double(x)\n2\nfn double(n) = n * 2\nx = 5\ny"));
        Assert.IsType<Lines>(Parse1("1\n2"));
        // Only bindings: the last one's value.
        Assert.Equal("[3, 4]", LmnTest.Out("a = 3\nb = [a, a + 1]"));
        // A definition after the expression (an error before) is fine.
        Assert.Equal("1", LmnTest.Out("1\ndef f = 2"));
        Assert.Contains("duplicate definition 'x'", LmnTest.Out("x = 1\nx = 2\nx"));
        // A line that starts with an arrow continues the flow above it.
        Assert.Equal("a → b → c", LmnTest.Out("a\n→ b\n-> c"));
    }

    [Fact]
    public void BlocksSeparateStatementsByLinesOrSemicolons()
    {
        Assert.Equal("3", LmnTest.Out("{ a = 1; b = 2; a + b }"));
        Assert.Equal("3", LmnTest.Out("{\n  a = 1\n  b = 2\n  a + b\n}"));
        // A line indented deeper than its statement continues it.
        Assert.Equal("7", LmnTest.Out("{\n  a = 1 +\n     6\n  a\n}"));
        // The value of a block ending in a binding is that binding's.
        Assert.Equal("5", LmnTest.Out("{ r = 5 }"));
        Assert.Contains("empty block", LmnTest.Out("{ }"));
        Assert.Contains("'def' inside a block", LmnTest.Out("{ def f = 1; f }"));
        Assert.Contains("expected '}' to close the block opened at 1:1", LmnTest.Out("{ a = 1"));
        // A match's braces are its arms, not a block.
        Assert.Equal("one", LmnTest.Out("match 1 { 0 => zero; _ => one }"));
    }

    // Meaning
    // -------

    [Fact]
    public void WordsSideBySideAreAPhrase()
    {
        Assert.Equal("hello world", LmnTest.Out("hello world"));
        Assert.Equal("a b c", LmnTest.Out("(a b) c"));
        Assert.Equal("a (b c)", LmnTest.Out("a (b c)"));
        Assert.Equal("3 apples", LmnTest.Out("3 apples"));
        Assert.Equal("[1, 0]", LmnTest.Out("[(a b) == (a b), (a b) == (a c)]"));
        // A function beside its argument is applied; a word is not a function.
        Assert.Equal("3", LmnTest.Out("let f = \\x. x + 1; f 2"));
        Assert.Equal("nine lives", LmnTest.Out("def num(n) = if n == 9 then nine else other\nnum 9 lives"));
    }

    [Fact]
    public void CallingAnUnknownNameWithParenthesesStaysAnError()
    {
        Assert.Contains("unknown function doubel; did you mean double?", LmnTest.Out("def double(x) = x * 2\ndoubel(3)"));
        // Beside its argument it is a phrase, with a warning naming the near miss.
        var diags = LmnTest.Check("def double(x) = x * 2\ndoubel 3");
        Assert.DoesNotContain(diags, d => d.Severity == Severity.Error);
        Assert.Contains(diags, d => d.Severity == Severity.Warning && d.Message.Contains("did you mean double?"));
        Assert.Equal("doubel 3", LmnTest.Out("def double(x) = x * 2\ndoubel 3"));
        // Prose draws no lexicon warnings.
        Assert.DoesNotContain(LmnTest.Check("user said hello"), d => d.Severity == Severity.Warning);
    }

    [Fact]
    public void FlowsApplyFunctionsAndKeepOtherSteps()
    {
        Assert.Equal("8", LmnTest.Out("def double(x) = x * 2\n2 → double → double"));
        Assert.Equal("input → process → output", LmnTest.Out("input → process → output"));
        Assert.Equal("6 → done", LmnTest.Out("def double(x) = x * 2\n3 → double → done"));
        Assert.Equal("(a → b) c", LmnTest.Out("(a → b) c"));
    }

    [Fact]
    public void WavesAnchorToTheirTense()
    {
        Assert.Equal("(hello world)@now", LmnTest.Out("∿ now hello world"));
        Assert.Equal("x@now", LmnTest.Out("∿ now [x]"));
        Assert.Equal("[a, b]@was", LmnTest.Out("∿ was [a, b]"));
        Assert.Equal("(a@bef → b@aft)@was", LmnTest.Out("∿ was [∿ bef [a] → ∿ aft [b]]"));
        // The printed value reads back as the same value (x@now is the anchoring).
        Assert.Equal("(hello world)@now", LmnTest.Out("(hello world)@now"));
        // The tense anchor is in scope: its context value, or the word itself.
        Assert.Equal("present_moment@now", LmnTest.Out("∿ now [@now]", ("now", "present_moment")));
        Assert.Equal("now@now", LmnTest.Out("∿ now [@now]"));
        Assert.Equal("(calculate sum)@now", LmnTest.Out("∿ now [calculate sum] { @now }"));
    }

    [Fact]
    public void LocalFunctionsCallThemselvesAndCapture()
    {
        Assert.Equal("120", LmnTest.Out("{ fn fact(n) = if n == 0 then 1 else n * fact(n - 1); fact(5) }"));
        Assert.Equal("[3, 6, 9]", LmnTest.Out("k = 3\n{ fn mul(x) = x * k; map(mul, [1, 2, 3]) }"));
        // Recursion through a closure that captures and is passed around.
        Assert.Equal("[1, 2, 6]", LmnTest.Out("{ one = 1; fn f(n) = if n == 0 then one else n * f(n - 1); map(f, [0, 2, 3]) }"));
        // Parameters hide the function's own name.
        Assert.Equal("4", LmnTest.Out("{ fn f(f) = f + 1; f(3) }"));
    }

    [Fact]
    public void CollapseOfANonListIsItselfAndOfEmptyIsAnError()
    {
        Assert.Equal("joy", LmnTest.Out("joy @ ctx"));
        Assert.Equal("(greet user)@now", LmnTest.Out("∿ now [greet user] @ friendly"));
        Assert.Contains("nothing to collapse", LmnTest.Out("[] @ ctx"));
        Assert.Contains("F.lmn:1:1", LmnTest.Out("[] @ ctx"));
    }

    [Fact]
    public void CollapseAsksWithItsContextAndTheTraceShowsIt()
    {
        string prog = TestUtil.TempFile("[run, execute, perform] @ code_context\ncolors = [red, blue]\ncolors @ @pref\n", ".lmn");
        string answers = TestUtil.TempFile("{\"[run, execute, perform] @ code_context\": \"execute\", \"[red, blue] @ \\\"a calm evening\\\"\": \"blue\"}", ".json");
        var (code, stdout, stderr) = TestUtil.Cli("run", prog, "--oracle", "script:" + answers, "--no-cache", "--trace", "--context", "pref=a calm evening");
        Assert.True(code == 0, stderr);
        Assert.Equal("execute\nblue", stdout.TrimEnd('\n'));
        Assert.Contains("[run, execute, perform] @ code_context", stderr);
        Assert.Contains("[red, blue] @ \"a calm evening\"", stderr);
        // The request carries the context as the binding @context.
        var oracle = new TestOracle();
        DifferentialTests.RunCompiled("[run, execute, perform] @ code_context\n", 1, oracle);
        var req = Assert.Single(oracle.Asked);
        Assert.Equal("code_context", req.LexicalBindings["@context"]);
        Assert.Equal(["run", "execute", "perform"], req.Args);
        Assert.Equal("choice", req.Kind);
    }

    [Fact]
    public void QuestionsInsideAWaveSeeItsTense()
    {
        var oracle = new TestOracle();
        DifferentialTests.RunCompiled("∿ now [implementing solution] { ∿lov[joy, pai] }\n", 1, oracle);
        var req = Assert.Single(oracle.Asked);
        Assert.Equal("implementing solution", req.LexicalBindings["@now"]);
    }

    [Fact]
    public void TheSeedsExamplesAreUnchanged()
    {
        Assert.Equal("fir[lov, pai]", LmnTest.Out("fir[lov, pai]"));
        Assert.Equal("hop", LmnTest.Out("hop"));
        Assert.Equal("joy@now", LmnTest.Out("@now joy"));
        Assert.Equal("[1, 2, 3]", LmnTest.Out("def inc(x) = x + 1\nmap(inc, [0, 1, 2])"));
    }

    // examples/limn
    // -------------

    private static string Dir => Path.Combine(TestUtil.RepoRoot, "examples", "limn");

    public static TheoryData<string> Programs()
    {
        var data = new TheoryData<string>();
        foreach (string f in Directory.GetFiles(Dir, "*.lmn").Order(StringComparer.Ordinal)) data.Add(Path.GetFileName(f));
        return data;
    }

    private static string Expected(string file) =>
        File.ReadAllText(Path.Combine(Dir, Path.ChangeExtension(file, ".expected"))).ReplaceLineEndings("\n").TrimEnd('\n');

    [Fact]
    public void EveryProgramOfTheTwoDocumentsIsAnExample() => Assert.True(Programs().Count >= 14);

    [Theory]
    [MemberData(nameof(Programs))]
    public void ExampleMatchesExpected(string file)
    {
        string path = Path.Combine(Dir, file);
        var args = ExampleProgramsTests.Args(File.ReadAllText(path));
        var (code, stdout, stderr) = TestUtil.Cli(["run", path, "-s", "-q", .. args]);
        Assert.True(code == 0, stderr);
        string itrs = stderr.Split('\n').First(l => l.StartsWith("interactions: ", StringComparison.Ordinal))["interactions: ".Length..].Trim();
        Assert.Equal(Expected(file), stdout.ReplaceLineEndings("\n").TrimEnd('\n') + "\n- ITRS: " + itrs);
    }

    /// <summary>The reference interpreter, with the same scripted answers, prints the same values.</summary>
    [Theory]
    [MemberData(nameof(Programs))]
    public void InterpreterGivesTheSameValues(string file)
    {
        string path = Path.Combine(Dir, file);
        string text = File.ReadAllText(path);
        var (oracle, ctx) = ExampleProgramsTests.OracleOf(ExampleProgramsTests.Args(text));
        var r = RefInterpreter.Run(file, text, oracle, ctx);
        Assert.True(r.Ok, r.Error);
        string expected = Expected(file);
        Assert.Equal(expected[..expected.LastIndexOf("\n- ITRS:", StringComparison.Ordinal)], r.Output);
    }
}
