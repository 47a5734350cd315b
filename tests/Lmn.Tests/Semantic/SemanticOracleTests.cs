using System.Diagnostics;
using Lmn.Language;
using Lmn.Oracles;
using Lmn.Semantic;
using Lmn.Words;

namespace Lmn.Tests.Semantic;

/// <summary>
/// The semantic oracle with the real all-MiniLM-L6-v2 model (loaded once for the whole test process:
/// <see cref="MiniLmEmbedder.Shared"/>).
/// </summary>
public class SemanticOracleTests
{
    private static OracleRequest Choice(string head, string[] cands, Dictionary<string, string>? anchors = null) => new()
    {
        AmbNodeId = "amb#1",
        Kind = "choice",
        Expression = $"∿{head}[{string.Join(", ", cands)}]",
        Args = cands,
        TypeExpected = Lexicon.Default.Find(head)?.Type,
        LexicalBindings = anchors ?? new Dictionary<string, string>(),
        ReductionTrace = ["main"],
    };

    private static Dictionary<string, string> Item(string text) => new() { ["@item"] = LmnDriver.ContextText("item", text) };

    private static OracleResponse Ask(SemanticOracle o, OracleRequest r) => Assert.IsType<OracleResponse>(o.Answer(r));

    /// <summary>Counts what is handed to the model.</summary>
    private sealed class CountingEmbedder : ITextEmbedder
    {
        public int Texts;
        public string ModelName => MiniLmEmbedder.Shared.ModelName;

        public float[][] Embed(IReadOnlyList<string> texts)
        {
            Interlocked.Add(ref Texts, texts.Count);
            return MiniLmEmbedder.Shared.Embed(texts);
        }
    }

    [Theory]
    [InlineData("our old dog died this morning", "emo", "joy, sad, ang", "sad")]
    [InlineData("I finally got the job I wanted!", "emo", "joy, sad, ang", "joy")]
    [InlineData("there is a strange noise downstairs and I am home alone", "emo", "joy, sad, fea", "fea")]
    [InlineData("it has poured for three days and the basement flooded", "cli", "wet, dry, col", "wet")]
    [InlineData("not a drop of rain all summer and the river bed is cracked", "cli", "hot, col, dry", "dry")]
    public void PicksByMeaningWhenTheContextIsASentence(string text, string head, string cands, string expected)
    {
        var o = new SemanticOracle(Lexicon.Default);
        var res = Ask(o, Choice(head, cands.Split(", "), Item(text)));
        Assert.Equal(expected, res.Substitution);
        Assert.StartsWith("embeddings:", res.Metadata.Reasoning);
        Assert.Contains("gloss", res.Metadata.Reasoning);
        Assert.InRange(res.Metadata.Confidence, 1.0 / 3, 1.0);
        Assert.Equal("semantic-v1/all-MiniLM-L6-v2", res.Metadata.Model);
    }

    [Fact]
    public void ANegatedContextCountsWhatIsAbsentAgainstACandidate()
    {
        Assert.True(SemanticOracle.HasNegation("not a drop of rain", out string cue));
        Assert.Equal("not", cue);
        Assert.True(SemanticOracle.HasNegation("I can't sleep", out cue));
        Assert.Equal("can't", cue);
        Assert.False(SemanticOracle.HasNegation("a note on knots", out _));
        var res = Ask(new SemanticOracle(Lexicon.Default), Choice("cli", ["hot", "col", "dry"], Item("not a drop of rain all summer and the river bed is cracked")));
        Assert.Equal("dry", res.Substitution);
        Assert.Contains("negates ('not')", res.Metadata.Reasoning);
    }

    [Fact]
    public void LexiconWordsInTheContextAreScoredByTheLexicon()
    {
        var o = new SemanticOracle(Lexicon.Default, embedder: () => throw new InvalidOperationException("the model must not be needed"));
        var res = Ask(o, Choice("cli", ["hot", "col"], new() { ["@weather"] = "winter" }));
        Assert.Equal("col", res.Substitution);
        Assert.StartsWith("lexicon (the context is made of lexicon words", res.Metadata.Reasoning);
        // A text made only of words the lexicon knows is read by the lexicon too (examples/hello.lmn).
        res = Ask(o, Choice("lov", ["joy", "pai", "hop"], new() { ["@mood"] = "\"a bright future\"" }));
        Assert.Equal("hop", res.Substitution);
        // No anchors: nothing to compare, the first of the family, as the lexicon oracle says.
        res = Ask(o, Choice("lov", ["joy", "pai", "hop"]));
        Assert.Equal("joy", res.Substitution);
        Assert.Equal(0, o.EmbeddingAnswers);
    }

    [Fact]
    public void CandidatesThatAreNotLexiconWordsAreEmbeddedAsThemselves()
    {
        var o = new SemanticOracle(Lexicon.Default);
        var res = Ask(o, Choice("classify", ["billing", "shipping", "login"], Item("I was charged twice for one order")));
        Assert.Equal("billing", res.Substitution);
        res = Ask(o, Choice("classify", ["billing", "shipping", "login"], Item("my parcel has been stuck in transit for two weeks")));
        Assert.Equal("shipping", res.Substitution);
    }

    [Fact]
    public void CompoundAndStringCandidatesAreReadWordByWord()
    {
        var o = new SemanticOracle(Lexicon.Default);
        var res = Ask(o, Choice("say", ["fir[lov, pai]", "wat[joy, hop]"], Item("a painful love that burns")));
        Assert.Equal("fir[lov, pai]", res.Substitution);
        res = Ask(o, Choice("say", ["\"a rainy afternoon\"", "\"a heatwave\""], Item("we stayed in and listened to the drops on the window")));
        Assert.Equal("\"a rainy afternoon\"", res.Substitution);
    }

    [Fact]
    public void ClassifyInThePreludeReadsTheMessage()
    {
        string p = TestUtil.TempFile("classify(\"I forgot my password and cannot get into my account\", [billing, shipping, login])\n", ".lmn");
        var (code, stdout, stderr) = TestUtil.Cli("run", p, "-q", "--no-cache");
        Assert.True(code == 0, stderr);
        Assert.Equal("login", stdout.Trim());
    }

    [Fact]
    public void LetAnchorWithAStringIsTextForTheOracle()
    {
        string p = TestUtil.TempFile("let @item = \"my grandmother passed away last night\"; ∿emo[joy, sad, ang]\n", ".lmn");
        var (code, stdout, stderr) = TestUtil.Cli("run", p, "-q", "--no-cache");
        Assert.True(code == 0, stderr);
        Assert.Equal("sad", stdout.Trim());
    }

    [Fact]
    public void RunWithASentenceContextUsesTheDefaultOracle()
    {
        string p = TestUtil.TempFile("def main = @item ∿emo[joy, sad, ang]\n", ".lmn");
        var (code, stdout, stderr) = TestUtil.Cli("run", p, "-q", "--no-cache", "--context", "item=someone stole my bike, and I'm furious!");
        Assert.True(code == 0, stderr);
        Assert.Equal("ang@item", stdout.Trim());
        (code, stdout, stderr) = TestUtil.Cli("run", p, "-q", "--no-cache", "--oracle", "lexicon", "--context", "item=someone stole my bike, and I'm furious!");
        Assert.True(code == 0, stderr);
        Assert.Equal("joy@item", stdout.Trim()); // the lexicon oracle, unchanged: no word matches, the first
    }

    [Fact]
    public void OpenQuestionsPickAWordOfTheHeadsTypeAndRefuseWithoutOne()
    {
        var o = new SemanticOracle(Lexicon.Default);
        var open = new OracleRequest
        {
            AmbNodeId = "amb#2", Kind = "open", Expression = "~emo[\"the storm was terrifying\"]", Args = ["\"the storm was terrifying\""],
            TypeExpected = Lexicon.Default.Find("emo")!.Type,
        };
        var res = Ask(o, open);
        Assert.Contains(Lexicon.Default.Entries, e => e.Word == res.Substitution && e.Type == open.TypeExpected);
        Assert.Contains(res.Substitution, new[] { "fea", "anx" });
        // No type: the question read back in Limn, a phrase of the lexicon words nearest in meaning.
        var untyped = Assert.IsType<OracleResponse>(o.Answer(open with { TypeExpected = null, Expression = "~zzz[\"the storm was terrifying\"]" }));
        var words = untyped.Substitution.Split(' ');
        Assert.Equal(SemanticOracle.PhraseWords, words.Length);
        Assert.All(words, w => Assert.Contains(Lexicon.Default.Entries, e => e.Word == w));
        Assert.Equal(words.Length, words.Distinct().Count());
        Assert.True(Lmn.Language.DataTerms.TryParse(untyped.Substitution, out _, out _), "the phrase is data");
        var err = Assert.IsType<OracleError>(o.Answer(open with { Args = [], Expression = "~emo[]" }));
        Assert.Equal("refused", err.Kind);
    }

    [Fact]
    public void SameAnswerOnEveryRunInstanceAndThread()
    {
        string[] texts = ["our old dog died this morning", "the pipes froze and the lake is covered in ice", "we won the championship in the last second", "I am not sure that story is really true"];
        var requests = texts.Select(t => Choice("emo", ["joy", "sad", "ang", "fea", "dou"], Item(t))).ToList();
        string Show(OracleResult r) => r is OracleResponse x ? $"{x.Substitution}|{x.Metadata.Confidence}|{x.Metadata.Reasoning}" : r.ToString();
        var reference = requests.Select(r => Show(new SemanticOracle(Lexicon.Default).Answer(r))).ToList();
        for (int run = 0; run < 3; run++)
        {
            var o = new SemanticOracle(Lexicon.Default);
            Assert.Equal(reference, requests.Select(r => Show(o.Answer(r))).ToList());
        }
        // Eight threads asking at once (one shared model, calls serialised): the same answers.
        var o2 = new SemanticOracle(Lexicon.Default);
        var got = new string[requests.Count * 8];
        Parallel.For(0, got.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => got[i] = Show(o2.Answer(requests[i % requests.Count])));
        for (int i = 0; i < got.Length; i++) Assert.Equal(reference[i % requests.Count], got[i]);
    }

    [Fact]
    public void RunsAgreeWhateverTheReducersThreadCount()
    {
        string p = TestUtil.TempFile("def main = [@item ∿emo[joy, sad, ang], @item ∿cli[hot, col], @item ∿tem[daw, dus]]\n", ".lmn");
        string ctx = "item=the sun went down behind the frozen hills and she wept";
        var one = TestUtil.Cli("run", p, "-q", "--no-cache", "--threads", "1", "--context", ctx);
        var two = TestUtil.Cli("run", p, "-q", "--no-cache", "--threads", "2", "--context", ctx);
        Assert.True(one.Code == 0, one.Err);
        Assert.Equal(one.Out, two.Out);
    }

    [Fact]
    public async Task GlossEmbeddingsAreCachedInMemoryAndOnDisk()
    {
        string dir = Path.Combine(Path.GetTempPath(), "lmn-emb-" + Guid.NewGuid().ToString("N"));
        var r = Choice("emo", ["joy", "sad", "ang"], Item("our old dog died this morning"));
        var counter = new CountingEmbedder();
        var o = new SemanticOracle(Lexicon.Default, dir, () => counter);
        var first = Assert.IsType<OracleResponse>((await o.AskAsync([r], CancellationToken.None))[0]);
        int cold = counter.Texts;
        Assert.True(cold > 3, $"{cold} texts embedded");
        Assert.True(File.Exists(o.GlossCache.FilePath));
        // In memory: the same candidates again embed only the new context.
        o.Answer(r with { LexicalBindings = Item("the cat knocked my coffee over") });
        Assert.Equal(cold + 1, counter.Texts);

        // On disk: a new oracle (a new process, as far as the cache knows) embeds only the context.
        var counter2 = new CountingEmbedder();
        var o2 = new SemanticOracle(Lexicon.Default, dir, () => counter2);
        var again = Assert.IsType<OracleResponse>(o2.Answer(r));
        Assert.Equal(1, counter2.Texts);
        Assert.StartsWith("loaded ", o2.GlossCache.LoadNote);
        Assert.Equal(first.Substitution, again.Substitution);
        Assert.Equal(first.Metadata.Confidence, again.Metadata.Confidence);
        Directory.Delete(dir, recursive: true);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("truncated")]
    [InlineData("flipped")]
    [InlineData("empty")]
    [InlineData("missing")]
    public async Task AMissingOrCorruptCacheFileIsRebuiltNotFatal(string damage)
    {
        string dir = Path.Combine(Path.GetTempPath(), "lmn-emb-" + Guid.NewGuid().ToString("N"));
        var r = Choice("emo", ["joy", "sad", "ang"], Item("our old dog died this morning"));
        var o = new SemanticOracle(Lexicon.Default, dir);
        var good = Assert.IsType<OracleResponse>((await o.AskAsync([r], CancellationToken.None))[0]);
        string file = o.GlossCache.FilePath!;
        byte[] bytes = File.ReadAllBytes(file);
        switch (damage)
        {
            case "garbage": File.WriteAllText(file, "this is not an embedding cache"); break;
            case "truncated": File.WriteAllBytes(file, bytes[..(bytes.Length / 2)]); break;
            case "flipped": bytes[bytes.Length / 2] ^= 0x5A; File.WriteAllBytes(file, bytes); break;
            case "empty": File.WriteAllBytes(file, []); break;
            case "missing": File.Delete(file); break;
        }
        var o2 = new SemanticOracle(Lexicon.Default, dir);
        var res = Assert.IsType<OracleResponse>((await o2.AskAsync([r], CancellationToken.None))[0]);
        Assert.Equal(good.Substitution, res.Substitution);
        Assert.Equal(good.Metadata.Reasoning, res.Metadata.Reasoning);
        Assert.True(damage == "missing" ? o2.GlossCache.LoadNote == "missing" : o2.GlossCache.LoadNote.StartsWith("ignored", StringComparison.Ordinal), o2.GlossCache.LoadNote);
        // Rebuilt: a third oracle reads the rewritten file.
        var o3 = new SemanticOracle(Lexicon.Default, dir);
        Assert.True(o3.GlossCache.Count > 0);
        Assert.StartsWith("loaded ", o3.GlossCache.LoadNote);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void LexiconOnlyRunsDoNotLoadTheModel()
    {
        // A process of its own: in this one other tests load the model.
        static string Stats(params string[] args)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Lmn.Cli.dll"));
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            string o = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, err.Result);
            return o + err.Result;
        }
        string hello = Path.Combine(TestUtil.RepoRoot, "examples", "hello.lmn");
        string outHello = Stats("run", hello, "--no-cache", "-s", "-q");
        Assert.Contains("say[fri, hop]", outHello);
        Assert.Contains("embedding_model_loaded: no", outHello);
        string p = TestUtil.TempFile("def main = @item ∿emo[joy, sad, ang]\n", ".lmn");
        string outText = Stats("run", p, "--no-cache", "-s", "-q", "--context", "item=our old dog died this morning");
        Assert.Contains("sad@item", outText);
        Assert.Contains("embedding_model_loaded: yes", outText);
    }
}
