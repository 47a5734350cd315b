using Lmn.Oracles;
using Lmn.Tests.Llm;
using static Lmn.Tests.Llm.LlmTestUtil;

namespace Lmn.Tests.Reliability;

/// <summary>Issue 11, item 11: messages name the process, the field and the problem; no .NET type names.</summary>
public class MessageTests
{
    [Theory]
    [InlineData("not json at all {")]
    [InlineData("{\"id\": 5, \"content\": \"x\"}")]
    public async Task MalformedLlmBodyHasNoTypeName(string body)
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Responder = _ => new Scripted(200, body);
        string req = TestUtil.TempFile(OracleJson.Serialize(Request()), ".json");
        var (code, stdout, stderr) = OracleAskCommandTests.Ask(OracleAskCommandTests.Env(), "--oracle", "anthropic", "--base-url", s.Url, "--request", req, "--retries", "0");
        Assert.Equal(1, code);
        Assert.DoesNotContain("Exception", stdout + stderr);
        Assert.Contains("could not be read", stdout + stderr);
    }

    [Fact]
    public async Task TruncatedBodyHasNoTypeName()
    {
        await using var s = await FakeLlmServer.StartAsync();
        string full = Wire.AnthropicMessage(Wire.Answer("joy"));
        // Content-Length promises the whole body; half of it arrives and the connection closes.
        s.Responder = _ => new Scripted(200, full[..(full.Length / 2)], new Dictionary<string, string> { ["Content-Length"] = System.Text.Encoding.UTF8.GetByteCount(full).ToString() });
        string req = TestUtil.TempFile(OracleJson.Serialize(Request()), ".json");
        var (code, stdout, stderr) = OracleAskCommandTests.Ask(OracleAskCommandTests.Env(), "--oracle", "anthropic", "--base-url", s.Url, "--request", req, "--retries", "0");
        Assert.Equal(1, code);
        Assert.DoesNotContain("Exception", stdout + stderr);
    }

    [Fact]
    public void ExecReplyWithFractionalTokensNamesTheProcessAndTheField()
    {
        string dir = CliProcess.TempDir();
        try
        {
            string program = Path.Combine(dir, "p.lmn");
            File.WriteAllText(program, "∿lov[joy, pai]\n");
            string oracle = Path.Combine(dir, "oracle.py");
            File.WriteAllText(oracle, """
                import sys, json
                for line in sys.stdin:
                    r = json.loads(line)["oracle_request"]
                    print(json.dumps({"oracle_response": {"amb_node_id": r["amb_node_id"], "substitution": "joy", "metadata": {"confidence": 1, "tokens_used": 1.5}}}), flush=True)
                """);
            var (code, _, err) = TestUtil.Cli("run", program, "--oracle", "exec:python3 " + oracle, "--no-cache", "-q");
            Assert.Equal(1, code);
            Assert.Contains("oracle process 'python3'", err);
            Assert.Contains("metadata.tokens_used", err);
            Assert.Contains("1.5", err);
            Assert.DoesNotContain("invalid format", err);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("@main = 1\0", "1:10", "NUL")]
    [InlineData("@main = (a\0 a)", "1:11", "NUL")]
    [InlineData("@ma\0in = 1", "1:4", "NUL")]
    public void NulInHvmIsNamed(string text, string at, string expected)
    {
        string f = TestUtil.TempFile(text);
        try
        {
            var (code, _, err) = TestUtil.Cli("run", f);
            Assert.Equal(1, code);
            Assert.Contains(f + ":" + at + ": error:", err);
            Assert.Contains(expected, err);
            Assert.DoesNotContain("end of file", err);
        }
        finally { File.Delete(f); }
    }

    [Fact]
    public void UnterminatedQuoteInExecIsAUsageError()
    {
        string f = TestUtil.TempFile("∿lov[joy, pai]\n", ".lmn");
        try
        {
            var (code, _, err) = TestUtil.Cli("run", f, "--oracle", "exec:'abc");
            Assert.Equal(2, code);
            Assert.Contains("unterminated ' quote", err);
            CliProcess.AssertNoTrace(err);
        }
        finally { File.Delete(f); }
    }
}

/// <summary>Issue 11, item 6: integer literals of 2^63 and more are out of range, never wrapped.</summary>
public class HvmLiteralRangeTests
{
    [Theory]
    [InlineData("@main = +0xFFFFFFFFFFFFFFFF", "out of range for i24")]
    [InlineData("@main = -0x8000000000000000", "out of range for i24")]
    [InlineData("@main = +9223372036854775808", "out of range for i24")]
    [InlineData("@main = +99999999999999999999999", "out of range for i24")]
    [InlineData("@main = 0xFFFFFFFFFFFFFFFFFF", "out of range for u24")]
    [InlineData("@main = 18446744073709551616", "out of range for u24")]
    [InlineData("@main = 0b11111111111111111111111111111111111111111111111111111111111111111", "out of range for u24")]
    [InlineData("@main = r & [+0xFFFFFFFFFFFFFFFF] ~ $(1 r)", "out of range for u24")]
    public void HugeLiteralsAreErrors(string text, string expected)
    {
        string f = TestUtil.TempFile(text);
        try
        {
            var (code, stdout, err) = TestUtil.Cli("run", f);
            Assert.Equal(1, code);
            Assert.Contains(expected, err);
            Assert.DoesNotContain("Result", stdout);
        }
        finally { File.Delete(f); }
    }

    [Theory]
    [InlineData("@main = -8388608", "-8388608")]
    [InlineData("@main = +8388607", "+8388607")]
    [InlineData("@main = 0xFFFFFF", "16777215")]
    public void EdgesStillParse(string text, string result) => Assert.Equal(result, TestUtil.Run(text).Result);
}
