namespace Lmn.Tests.Reliability;

/// <summary>Issue 11, items 1, 3 and 9: bad option values, damaged cache entries, the threshold on cached answers.</summary>
public class OptionAndCacheTests
{
    private static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "lmn-rel-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static void AssertNoTrace(string err)
    {
        Assert.DoesNotContain("   at ", err);
        Assert.DoesNotContain("Exception", err);
    }

    [Theory]
    [InlineData("--max-memory", "9999999T", "--max-memory 9999999T: too large")]
    [InlineData("--max-memory", "99999999999999999G", "--max-memory 99999999999999999G: too large")]
    [InlineData("--min-confidence", "NaN", "--min-confidence NaN: expected a number from 0 to 1")]
    [InlineData("--min-confidence", "-0.1", "--min-confidence -0.1: expected a number from 0 to 1")]
    public void BadOptionValuesAreUsageErrors(string option, string value, string expected)
    {
        string dir = TempDir();
        try
        {
            string program = Path.Combine(dir, "p.lmn");
            File.WriteAllText(program, "joy\n");
            var (code, _, err) = TestUtil.Cli("run", program, option, value);
            Assert.Equal(2, code);
            Assert.Contains(expected, err);
            AssertNoTrace(err);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void MaxMemoryTooLargeForHvmToo()
    {
        string f = TestUtil.TempFile("@main = 1");
        try
        {
            var (code, _, err) = TestUtil.Cli("run", f, "--max-memory", "9999999T");
            Assert.Equal(2, code);
            Assert.Contains("too large", err);
            Assert.DoesNotContain("-6939870208G", err);
        }
        finally { File.Delete(f); }
    }

    private static (string Dir, string Program, string Script, string Cache) CacheSetup(double confidence)
    {
        string dir = TempDir();
        string program = Path.Combine(dir, "p.lmn");
        File.WriteAllText(program, "∿lov[joy, pai]\n");
        string script = Path.Combine(dir, "s.json");
        File.WriteAllText(script, "{\"∿lov[joy, pai]\": {\"substitution\": \"joy\", \"confidence\": " +
            confidence.ToString(System.Globalization.CultureInfo.InvariantCulture) + "}}");
        return (dir, program, script, Path.Combine(dir, "cache"));
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("1e20")]
    [InlineData("-3")]
    [InlineData("\"many\"")]
    public void DamagedTokensUsedInACacheEntryIsAMiss(string tokens)
    {
        var (dir, program, script, cache) = CacheSetup(0.9);
        try
        {
            var (code, _, err) = TestUtil.Cli("run", program, "--oracle", "script:" + script, "--cache-dir", cache, "--context", "now=present_moment", "-q");
            Assert.True(code == 0, err);
            var entries = Directory.GetFiles(cache, "*.json", SearchOption.AllDirectories);
            Assert.Single(entries);
            string text = File.ReadAllText(entries[0]);
            Assert.Contains("\"tokens_used\": 0", text);
            File.WriteAllText(entries[0], text.Replace("\"tokens_used\": 0", "\"tokens_used\": " + tokens));

            (code, string stdout, err) = TestUtil.Cli("run", program, "--oracle", "script:" + script, "--cache-dir", cache, "--context", "now=present_moment", "-q", "-s");
            Assert.True(code == 0, err);
            Assert.Equal("joy", stdout.Trim());
            Assert.Contains("questions: 1\n", err); // the damaged entry was a miss: asked again
            AssertNoTrace(err);

            File.WriteAllText(entries[0], File.ReadAllText(entries[0]).Replace("\"tokens_used\": 0", "\"tokens_used\": " + tokens));
            (code, stdout, err) = TestUtil.Cli("cache", "purge", "--binding", "now", "--dir", cache);
            Assert.True(code == 0, err);
            AssertNoTrace(err);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void MinConfidenceAppliesToCachedAnswers()
    {
        var (dir, program, script, cache) = CacheSetup(0.36);
        try
        {
            // Accepted with no threshold, and cached.
            var (code, stdout, err) = TestUtil.Cli("run", program, "--oracle", "script:" + script, "--cache-dir", cache, "-q");
            Assert.True(code == 0, err);
            Assert.Equal("joy", stdout.Trim());
            // The same answer fresh is refused at 0.5 ...
            (code, _, err) = TestUtil.Cli("run", program, "--oracle", "script:" + script, "--no-cache", "--min-confidence", "0.5", "-q");
            Assert.Equal(1, code);
            Assert.Contains("confidence 0.36 is below --min-confidence 0.5", err);
            // ... and from the cache: the cached answer is not taken, the question is asked again and refused.
            (code, _, err) = TestUtil.Cli("run", program, "--oracle", "script:" + script, "--cache-dir", cache, "--min-confidence", "0.5", "-q", "-s");
            Assert.Equal(1, code);
            Assert.Contains("confidence 0.36 is below --min-confidence 0.5", err);
            Assert.Contains("cache_hits: 0\n", err);
        }
        finally { Directory.Delete(dir, true); }
    }
}
