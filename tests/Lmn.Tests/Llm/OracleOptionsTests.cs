using Lmn.Oracles;

namespace Lmn.Tests.Llm;

/// <summary>Parsing of the oracle options.</summary>
public class OracleOptionsTests
{
    [Fact]
    public void Defaults()
    {
        var o = OracleOptions.Parse([], out var rest);
        Assert.Equal(OracleKind.Semantic, o.Kind);
        Assert.Equal(4, o.Concurrency);
        Assert.Equal(TimeSpan.FromSeconds(60), o.Timeout);
        Assert.False(o.Batch);
        Assert.Empty(rest);
    }

    [Fact]
    public void EveryOptionAndTheRestInOrder()
    {
        var o = OracleOptions.Parse(["run", "--oracle", "anthropic", "x.lmn", "--model", "claude-opus-4-1", "--small-model=claude-haiku-4-5",
            "--base-url", "http://127.0.0.1:8080/", "--batch", "--concurrency", "8", "--timeout", "1500ms", "--retries", "2",
            "--escalate", "human", "--min-confidence", "0.75", "--stats"], out var rest);
        Assert.Equal(["run", "x.lmn", "--stats"], rest);
        Assert.Equal(OracleKind.Anthropic, o.Kind);
        Assert.Equal("claude-opus-4-1", o.Model);
        Assert.Equal("claude-haiku-4-5", o.SmallModel);
        Assert.Equal("http://127.0.0.1:8080", o.BaseUrl);
        Assert.True(o.Batch);
        Assert.Equal(8, o.Concurrency);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), o.Timeout);
        Assert.Equal(2, o.Retries);
        Assert.Equal("human", o.Escalate);
        Assert.Equal(0.75, o.MinConfidence);
    }

    [Theory]
    [InlineData("exec:python3 my_oracle.py --fast", OracleKind.Exec, "python3 my_oracle.py --fast")]
    [InlineData("script:answers.txt", OracleKind.Script, "answers.txt")]
    [InlineData("replay:run.jsonl", OracleKind.Replay, "run.jsonl")]
    [InlineData("openai", OracleKind.OpenAI, null)]
    [InlineData("human", OracleKind.Human, null)]
    public void OracleNames(string value, OracleKind kind, string? target)
    {
        var o = OracleOptions.Parse(["--oracle", value], out _);
        Assert.Equal(kind, o.Kind);
        Assert.Equal(target, o.Target);
    }

    [Theory]
    [InlineData("30", 30)]
    [InlineData("2.5s", 2.5)]
    [InlineData("2m", 120)]
    [InlineData("250ms", 0.25)]
    public void Durations(string text, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), OracleOptions.Parse(["--timeout", text], out _).Timeout);

    [Fact]
    public void EscalationDefaultsItsThreshold() =>
        Assert.Equal(0.5, OracleOptions.Parse(["--oracle", "openai", "--escalate", "human"], out _).MinConfidence);

    [Theory]
    [InlineData("unknown oracle 'gpt'", "--oracle", "gpt")]
    [InlineData("needs a program", "--oracle", "exec:")]
    [InlineData("--concurrency needs a whole number from 1 to 256, got '0'", "--concurrency", "0")]
    [InlineData("--timeout needs a duration", "--timeout", "soon")]
    [InlineData("--min-confidence needs a number from 0 to 1, got '1.5'", "--min-confidence", "1.5")]
    [InlineData("--escalate takes 'human'", "--escalate", "robot")]
    [InlineData("--base-url needs an http or https URL", "--base-url", "localhost:11434")]
    [InlineData("--small-model needs --oracle anthropic or --oracle openai", "--small-model", "m")]
    [InlineData("--model needs a value", "--model")]
    [InlineData("--batch takes no value", "--batch=yes")]
    [InlineData("already the human one", "--oracle", "human", "--escalate", "human")]
    public void BadOptionsNameTheProblem(string message, params string[] args)
    {
        var e = Assert.Throws<OracleOptionsException>(() => OracleOptions.Parse(args, out _));
        Assert.Contains(message, e.Message);
    }
}
