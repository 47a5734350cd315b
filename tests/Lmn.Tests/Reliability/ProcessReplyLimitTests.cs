namespace Lmn.Tests.Reliability;

/// <summary>Issue 11, item 10: the process oracle's reply lines have a size limit; a longer one is a malformed reply.</summary>
public class ProcessReplyLimitTests
{
    // The first reply is one line of N bytes of junk; every later one is a proper answer.
    private const string Oracle = """
        import sys, json
        size = int(sys.argv[1])
        n = 0
        for line in sys.stdin:
            r = json.loads(line)["oracle_request"]
            n += 1
            if n == 1:
                sys.stdout.write("x" * size + "\n")
                sys.stdout.flush()
                continue
            print(json.dumps({"oracle_response": {"amb_node_id": r["amb_node_id"], "substitution": r["args"][0], "metadata": {"confidence": 1}}}), flush=True)
        """;

    private static (int Code, string Out, string Err) Run(int junk, params string[] extra)
    {
        string dir = CliProcess.TempDir();
        try
        {
            string program = Path.Combine(dir, "p.lmn"), oracle = Path.Combine(dir, "o.py");
            File.WriteAllText(program, "∿lov[joy, pai]\n");
            File.WriteAllText(oracle, Oracle);
            return TestUtil.Cli(["run", program, "--oracle", $"exec:python3 {oracle} {junk}", "--no-cache", "-q", "-s", .. extra]);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void LongerThanTheLimitIsMalformed()
    {
        var (code, _, err) = Run(100_000, "--max-reply-bytes", "64K");
        Assert.Equal(1, code);
        Assert.Contains("malformed reply: a line of 100000 bytes, longer than the limit of 65536 bytes (--max-reply-bytes)", err);
    }

    [Fact]
    public void TheProcessStaysInStepAfterALongLine()
    {
        var (code, stdout, err) = Run(100_000, "--max-reply-bytes", "64K", "--on-invalid", "retry");
        Assert.True(code == 0, err);
        Assert.Equal("joy", stdout.Trim());
        Assert.Contains("retries: 1\n", err);
    }

    [Fact]
    public void TheDefaultLimitIs16MiB()
    {
        var (code, _, err) = Run((16 << 20) + 1);
        Assert.Equal(1, code);
        Assert.Contains($"longer than the limit of {16 << 20} bytes", err);
    }

    [Fact]
    public void UnderTheLimitIsRead()
    {
        // 60,000 bytes of junk under a 64K limit is read whole and refused as JSON, not as too long.
        var (code, _, err) = Run(60_000, "--max-reply-bytes", "64K");
        Assert.Equal(1, code);
        Assert.Contains("malformed reply (malformed JSON", err);
    }

    [Theory]
    [InlineData("12")]
    [InlineData("2G")]
    [InlineData("lots")]
    public void BadLimitIsAUsageError(string v)
    {
        var (code, _, err) = Run(10, "--max-reply-bytes", v);
        Assert.Equal(2, code);
        Assert.Contains("--max-reply-bytes needs a size from 1K to 1G", err);
    }
}
