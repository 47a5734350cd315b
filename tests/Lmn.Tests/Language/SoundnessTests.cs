using Lmn.Hvm;
using Lmn.Language;
using Lmn.Oracles;
using Lmn.Runtime;
using Lmn.Text;
using Lmn.Words;

namespace Lmn.Tests.Language;

/// <summary>
/// Issue 10: every program prints what it means, or a located error. The rows of the table,
/// one test per static error kind, runtime errors with their locations, questions and the `--emit hvm`
/// round trip.
/// </summary>
public class SoundnessTests
{
    /// <summary>Runs a program through the Model B supervisor with the `first` oracle; returns output or error and the questions.</summary>
    public static async Task<(string Output, List<OracleRequest> Asked)> Ask(string source, int threads = 1)
    {
        var diags = new List<Diagnostic>();
        var prog = LmnDriver.Compile(new SourceText("F.lmn", source), diags);
        if (prog == null) return (string.Join("\n", diags.Where(d => d.Severity == Severity.Error).Select(d => d.Render())), []);
        var asked = new List<OracleRequest>();
        var oracle = new Tests.Oracles.FakeOracle(r =>
        {
            lock (asked) asked.Add(r);
            return new OracleResponse(r.AmbNodeId, r.Args.Count > 0 ? r.Args[0] : "joy", new OracleMetadata());
        });
        var pipeline = new OraclePipeline(oracle, new LmnTermChecker(Lexicon.Default));
        var r = await new Supervisor(prog, pipeline, new SupervisorOptions { Threads = threads }).RunAsync(CancellationToken.None);
        return (r.Error ?? r.Output!, asked);
    }

    // The table
    // -----------------

    [Theory]
    [InlineData("let k = 3; let f = \\x. x * x + k; [f(2), f(3)]", "[7, 12]")]
    [InlineData("def between(lo, hi, xs) = filter(\\x. x >= lo && x <= hi, xs)\nbetween(2, 4, [1, 2, 3, 4, 5])", "[2, 3, 4]")]
    [InlineData("def sq(x) = x * x\nmap(\\x. sq(x) + 1, [1, 2, 3])", "[2, 5, 10]")]
    [InlineData("def same(a, b) = a == b\n[same(joy, joy), same(joy, pai)]", "[1, 0]")]
    [InlineData("def first(xs) = match xs { [x, ..._] => x; [] => none }\n[first([7, 8]), x]", "[7, x]")]
    // More of the same kind: closures duplicated by higher-order functions.
    [InlineData("def twice(f, x) = f(f(x))\nlet n = 4; twice(\\y. y * y + n, 1)", "29")]
    [InlineData("def adder(n) = \\x. x + n\nmap(adder(10), [1, 2])", "[11, 12]")]
    [InlineData("let fs = map(\\k. \\x. x * k, [1, 2, 3]); map(\\f. f(f(2)), fs)", "[2, 8, 18]")]
    [InlineData("def compose(f, g) = \\x. f(g(x))\nlet inc = \\x. x + 1; let dbl = \\x. x + x; [compose(inc, dbl)(5), compose(dbl, inc)(5)]", "[11, 12]")]
    [InlineData("fold(\\acc x. acc + x * x, 0, range(1, 5))", "30")]
    [InlineData("[[1, [joy, 2]] == [1, [joy, 2]], [1, [joy, 2]] == [1, [joy, 3]], fir[a, b] != fir[a, b], \"x\" == \"x\", 1 == joy]", "[1, 0, 0, 1, 0]")]
    [InlineData("def zero(f, x) = x\ndef succ(n) = \\f x. f(n(f, x))\nlet three = succ(succ(succ(zero))); three(\\k. k + 1, 0)", "3")]
    public async Task TableRows(string src, string expected)
    {
        Assert.Equal(expected, (await Ask(src)).Output);
        Assert.Equal(expected, (await Ask(src, threads: 2)).Output);
    }

    [Fact]
    public async Task AConstantQuestionIsAsked()
    {
        var (output, asked) = await Ask("def g = ∿lov[joy, pai]\n[g, 1]");
        Assert.Equal("[joy, 1]", output);
        Assert.Single(asked);
    }

    [Fact]
    public async Task NestedQuestionsHaveTheirOwnIdHeadAndLocation()
    {
        var (output, asked) = await Ask("∿lov[joy, ∿mov[run, sit]]");
        Assert.Equal("joy", output);
        Assert.Equal(2, asked.Count);
        var inner = asked.Single(q => q.Expression.StartsWith("∿mov", StringComparison.Ordinal));
        var outer = asked.Single(q => q.Expression.StartsWith("∿lov", StringComparison.Ordinal));
        Assert.Equal("∿mov[run, sit]", inner.Expression);
        Assert.Equal("∿lov[joy, run]", outer.Expression);
        Assert.Equal("F.lmn:1:11", inner.SourceLocation);
        Assert.Equal("F.lmn:1:1", outer.SourceLocation);
        Assert.NotEqual(inner.AmbNodeId, outer.AmbNodeId);
        Assert.NotEqual(inner.TypeExpected, outer.TypeExpected);
    }

    [Theory]
    [InlineData("let m = ∿lov[joy, pai]; let k = \\a b. b; pr[k(m, 1), k(m, 2)]", "pr[1, 2]")]
    [InlineData("let x = ∿lov[joy, pai]; 42", "42")]
    [InlineData("def pick(a, b) = b\npick(∿lov[joy, pai], 7)", "7")]
    [InlineData("let m = ∿lov[joy, pai]; let xs = [m, m]; len(xs)", "2")]
    [InlineData("if 0 then ∿lov[joy, pai] else sad", "sad")]
    public async Task DroppedQuestionsAreNeverAsked(string src, string expected)
    {
        var (output, asked) = await Ask(src);
        Assert.Equal(expected, output);
        Assert.Empty(asked);
    }

    [Fact]
    public async Task AQuestionInThePreludeReportsTheUsersCallSite()
    {
        var (output, asked) = await Ask("def mood(x) = classify(x, [joy, sad])\n[mood(hop), choose([pai, ang])]");
        Assert.Equal("[joy, pai]", output);
        Assert.Equal(2, asked.Count);
        Assert.Contains(asked, q => q.SourceLocation == "F.lmn:1:15" && q.Expression == "∿classify[joy, sad]");
        Assert.Contains(asked, q => q.SourceLocation == "F.lmn:2:13" && q.Expression == "∿choose[pai, ang]");
    }

    [Fact]
    public async Task AnAnswerSelectsAMatchArmAndItsQuestionIsAsked()
    {
        var (output, asked) = await Ask("match ∿lov[joy, pai] { joy => ∿mov[run, sit]; _ => none }");
        Assert.Equal("run", output);
        Assert.Equal(2, asked.Count);
    }

    [Fact]
    public async Task QuestionsAreTheSameAtOneAndTwoThreads()
    {
        const string src = "def feel(x) = ∿lov[x, calm]\nlet xs = map(feel, [joy, pai, hop]); [xs, len(xs), feel(sad) == sad]";
        var one = await Ask(src);
        var two = await Ask(src, threads: 2);
        Assert.Equal(one.Output, two.Output);
        Assert.Equal(one.Asked.Select(q => q.Expression).Order(), two.Asked.Select(q => q.Expression).Order());
        Assert.Equal(4, one.Asked.Count);
    }

    // Static errors: one per kind, the exact message and location
    // -----------------------------------------------------------

    [Theory]
    [InlineData("unknown function", "def double(x) = x * 2\ndoubel(3)", "F.lmn:2:1: error: unknown function doubel; did you mean double?")]
    [InlineData("unknown function, no near name", "frobnicate(3)", "F.lmn:1:1: error: unknown function frobnicate, expected a definition, a parameter or a let-bound function")]
    [InlineData("too many arguments", "def add(a, b) = a + b\nadd(1, 2, 3)", "F.lmn:2:1: error: add takes 2 arguments, but this call passes 3; its result is a number, not a function")]
    [InlineData("applying a number", "5(3)", "F.lmn:1:1: error: applying a number, which is not a function")]
    [InlineData("applying a word through a variable", "let w = joy; w(1)", "F.lmn:1:14: error: applying a word, which is not a function")]
    [InlineData("arithmetic on a list", "[1, 2] + 3", "F.lmn:1:8: error: '+' expects numbers, but its left operand is a list")]
    [InlineData("arithmetic on a word", "def f(x) = x * 2\nf(joy)", "F.lmn:1:14: error: '*' expects numbers, but its left operand is a word")]
    [InlineData("ordering on a compound", "fir[1] < 3", "F.lmn:1:8: error: '<' expects numbers, but its left operand is a compound")]
    [InlineData("arithmetic on a function", "let f = \\x. x; f + 1", "F.lmn:1:18: error: '+' expects numbers, but its left operand is a function")]
    [InlineData("condition is a word", "if joy then 1 else 2", "F.lmn:1:1: error: the condition of this if is a word, expected a number (0 is false)")]
    [InlineData("arithmetic on an answer that is a word", "∿lov[joy, pai] + 1", "F.lmn:1:16: error: '+' expects numbers, but its left operand is a word")]
    [InlineData("underscore as a value", "_", "F.lmn:1:1: error: '_' is the wildcard of patterns, expected an expression")]
    [InlineData("error without a string", "error(3)", "F.lmn:1:1: error: error(...) takes one string")]
    public void StaticErrors(string kind, string src, string expected)
    {
        var diags = LmnTest.Check(src);
        var errors = diags.Where(d => d.Severity == Severity.Error).Select(d => d.Render()).ToList();
        Assert.True(errors.Count > 0, kind);
        Assert.StartsWith(expected, errors[0]);
        Assert.Contains("^", errors[0]);
    }

    [Fact]
    public void StaticErrorsExitOneFromTheCommand()
    {
        string path = TestUtil.TempFile("def double(x) = x * 2\ndoubel(3)\n", ".lmn");
        try
        {
            var (code, stdout, err) = TestUtil.Cli("run", path);
            Assert.Equal(1, code);
            Assert.Equal("", stdout);
            Assert.Contains("error: unknown function doubel; did you mean double?", err);
            var (ccode, _, cerr) = TestUtil.Cli("check", path);
            Assert.Equal(1, ccode);
            Assert.Contains("did you mean double?", cerr);
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData("match 1 { _ => 1; 2 => 3 }", "F.lmn:1:19: warning: unreachable match arm")]
    [InlineData("def f(x) = match x { joy => 1; 0 => 2; _ => 3 }\n[f(joy), f(pai)]", "F.lmn:1:32: warning: unreachable match arm: the value matched is a word")]
    [InlineData("def f(x) = match x { yes => 1; no => 0 }\n[f(no), ∿ans[yes, no]]", "F.lmn:1:22: warning: 'yes' binds a variable here")]
    [InlineData("def f(x) = match x { acc => acc + 1; _ => 0 }\nf(1)", "F.lmn:1:22: warning: 'acc' in this pattern is the Limn word acc")]
    public void Warnings(string src, string expected)
    {
        var diags = LmnTest.Check(src);
        Assert.Contains(diags, d => d.Severity == Severity.Warning && d.Render().StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void OnlyNearMissesOfLimnWordsAreWarned()
    {
        var diags = LmnTest.Check("[apple, banana, jyo]");
        var warnings = diags.Where(d => d.Severity == Severity.Warning).Select(d => d.Message).ToList();
        Assert.DoesNotContain(warnings, w => w.Contains("apple", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("'jyo' is not a Limn word; did you mean joy", StringComparison.Ordinal));
    }

    // Runtime errors: located, exit 1, never `_` or `no_match`
    // --------------------------------------------------------

    [Theory]
    [InlineData("def f(x) = 10 / x\nf(0)", "F.lmn:1:15: error: division by zero")]
    [InlineData("def f(x) = 10 % x\nf(0)", "F.lmn:1:15: error: remainder by zero")]
    [InlineData("let xs = []; [1, head(xs)]", "F.lmn:1:18: error: head of an empty list")]
    [InlineData("tail([])", "F.lmn:1:1: error: tail of an empty list")]
    [InlineData("def f(x) = match x { 0 => z; 2 => two }\nf(4)", "F.lmn:1:12: error: no arm of this match fits the value")]
    [InlineData("def f(p) = let fir[a, b] = p; a\nf(pai[1, 2])", "F.lmn:1:16: error: the value does not fit this let pattern")]
    [InlineData("let f = \\x. x; let g = \\y. y; f == g", "F.lmn:1:33: error: cannot compare functions with ==")]
    [InlineData("def add1(x) = x + 1\nmap(add1, [1, joy])", "F.lmn:1:17: error: '+' expects numbers, found another kind of value")]
    [InlineData("def call(f) = f(1)\n[call(\\x. x), call(head([joy]))]", "F.lmn:1:15: error: applying a value that is not a function")]
    [InlineData("def f(x) = if x then 1 else 2\nf(1) + f(head(tail([1, joy, 2])))", "F.lmn:1:12: error: the condition is not a number")]
    [InlineData("error(\"no good\")", "F.lmn:1:1: error: no good")]
    // Found by the differential test: an error that is a number, put among data (boxed), is still the
    // value of whatever inspects it, also a wildcard arm or a comparison with a word.
    [InlineData("def f(n) = match n { 0 => (n - 4) % 0; 1+p => joy }\n[match f(0) { [h, ..._] => 1; _ => 2 }, 5]", "F.lmn:1:35: error: remainder by zero")]
    [InlineData("def f(n) = match n { 0 => (n - 4) % 0; 1+p => joy }\n[f(0) == joy, 5]", "F.lmn:1:35: error: remainder by zero")]
    [InlineData("def f(n) = match n { 0 => 1 / 0; 1+p => \\x. x }\nf(0)(3)", "F.lmn:1:29: error: division by zero")]
    public async Task RuntimeErrorsNameTheirLocation(string src, string expected)
    {
        var (output, _) = await Ask(src);
        Assert.StartsWith(expected, output);
        Assert.Contains("^", output);
    }

    [Fact]
    public async Task ADroppedErrorIsHarmless()
    {
        Assert.Equal("2", (await Ask("let k = \\a b. b; k(head([]), 2)")).Output);
        Assert.Equal("[1]", (await Ask("let x = 1 / 0; [1]")).Output);
    }

    [Fact]
    public async Task TheFirstErrorInReadingOrderIsReported()
    {
        var (output, _) = await Ask("[1, 1 / 0, head([])]");
        Assert.StartsWith("F.lmn:1:7: error: division by zero", output);
        var (left, _) = await Ask("def f(x) = x\nf(head([])) + f(1 / 0)");
        Assert.StartsWith("F.lmn:2:3: error: head of an empty list", left);
    }

    [Fact]
    public void RuntimeErrorExitsOne()
    {
        string path = TestUtil.TempFile("def f(x) = 10 / x\nf(0)\n", ".lmn");
        try
        {
            var (code, stdout, err) = TestUtil.Cli("run", path);
            Assert.Equal(1, code);
            Assert.Equal("", stdout);
            Assert.Contains(":1:15: error: division by zero", err);
            Assert.DoesNotContain("Exception", err);
        }
        finally { File.Delete(path); }
    }

    // Patterns
    // --------

    [Theory]
    [InlineData("match 5 { 0 => zero; joy => happy; n => n + 1 }", "6")]
    [InlineData("match joy { 0 => zero; joy => happy; _ => other }", "happy")]
    [InlineData("def f(x) = match x { 'yes => 1; 'no => 0; _ => 2 }\n[f(yes), f(no), f(maybe)]", "[1, 0, 2]")]
    [InlineData("match ∿ans[yes, no] { yes => 1; no => 0 }", "1")]
    [InlineData("def f(x) = match x { [a, b] => a + b; [a] => a; _ => 0 }\n[f([1, 2]), f([5]), f(joy), f(3)]", "[3, 5, 0, 0]")]
    [InlineData("let x = 3; match [x, joy] { [n, w] => fir[w, n * 2] }", "fir[joy, 6]")]
    public async Task PatternScopingIsLocal(string src, string expected) => Assert.Equal(expected, (await Ask(src)).Output);

    // --emit hvm: the emitted book gives the same value
    // --------------------------------------------------

    public static TheoryData<string> Examples()
    {
        var data = new TheoryData<string>();
        foreach (string f in Directory.GetFiles(Path.Combine(TestUtil.RepoRoot, "examples"), "*.lmn").Order(StringComparer.Ordinal))
        {
            string t = File.ReadAllText(f);
            if (!t.Contains('∿') && !t.Contains('~') && !t.Contains("--context") && !f.Contains("sum_tree")) data.Add(Path.GetFileName(f));
        }
        return data;
    }

    /// <summary>
    /// The book printed by `--emit hvm`, parsed back as HVM2 text and run by the `.hvm` path (HVM2's own
    /// safety rules for references, no LMN extension), reads back to the same LMN value.
    /// </summary>
    [Theory]
    [MemberData(nameof(Examples))]
    public void EmittedHvmGivesTheSameValue(string file)
    {
        string text = File.ReadAllText(Path.Combine(TestUtil.RepoRoot, "examples", file));
        var diags = new List<Diagnostic>();
        var prog = LmnDriver.Compile(new SourceText(file, text), diags)!;
        var direct = Lmn.Runtime.LmnRunner.Run(prog, 256L << 20);
        var ast = Lmn.Hvm.HvmParser.Parse(new SourceText(file + ".hvm", prog.Book.Show()));
        var book = Lmn.Net.Book.FromHvm(ast);
        using var engine = new Lmn.Net.Engine(book, 256L << 20);
        engine.Run();
        var value = new ReadBack(engine, prog).ReadRoot();
        Assert.Equal(direct.Output, Printer.Print(value));
    }
}

/// <summary>`lmn compile --emit hvm` then `lmn run X.hvm` prints the value `lmn run X.lmn` prints.</summary>
public class EmitHvmCommandTests
{
    [Theory]
    [InlineData("def node(l, v, r) = nd[l, v, r]\ndef total(t) = match t { lf[] => 0; nd[l, v, r] => total(l) + v + total(r) }\ndef sq(x) = x * x\n[total(node(node(lf[], 1, lf[]), 2, lf[])), map(\\x. sq(x) + 1, [1, 2, 3])]")]
    [InlineData("let k = 3; let f = \\x. x * x + k; [f(2), f(3), \"t\\\"x\", joy@now]")]
    [InlineData("def fact(n) = if n == 0 then 1 else n * fact(n - 1)\nfact(10)")]
    public void TheHvmRunPrintsTheSameValue(string src)
    {
        string dir = Path.Combine(Path.GetTempPath(), "lmn-emit-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string lmn = Path.Combine(dir, "p.lmn");
            File.WriteAllText(lmn, src + "\n");
            var (c1, value, e1) = TestUtil.Cli("run", lmn, "-q");
            Assert.True(c1 == 0, e1);
            var (c2, hvm, e2) = TestUtil.Cli("compile", lmn, "--emit", "hvm");
            Assert.True(c2 == 0, e2);
            string path = Path.Combine(dir, "p.hvm");
            File.WriteAllText(path, hvm);
            var (c3, outp, e3) = TestUtil.Cli("run", path);
            Assert.True(c3 == 0, e3);
            var lines = outp.Split('\n');
            Assert.StartsWith("Result: ", lines[0]);
            Assert.Equal("Value: " + value.TrimEnd('\n'), lines[1]);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}

/// <summary>Issue 11, item 2: reading back and printing a result nested very deep uses no recursion.</summary>
public class DeepResultTests
{
    [Fact]
    public void AResultNestedThreeHundredThousandDeepPrintsOnASmallStack()
    {
        string? output = null;
        Exception? error = null;
        // 256 KiB of stack: a recursive read-back or printer would overflow at a few thousand levels.
        var t = new Thread(() =>
        {
            try { output = LmnTest.Out("def f(n) = match n { 0 => end; 1+p => box[f(p)] }\nf(300000)"); }
            catch (Exception e) { error = e; }
        }, 256 * 1024);
        t.Start();
        t.Join();
        Assert.Null(error);
        Assert.StartsWith("box[box[", output);
        Assert.Equal(300000 * 4 + 3 + 300000, output!.Length);
        Assert.Contains("box[end]", output);
        Assert.EndsWith(new string(']', 10), output);
    }
}
