using Lmn.Llm;
using Lmn.Oracles;

namespace Lmn.Tests.Llm;

/// <summary>The chain the factory builds for each --oracle.</summary>
public class OracleFactoryTests
{
    private static OracleEnvironment Env(string? anthropicKey = null, string? openAiKey = null) => new()
    {
        HumanInput = new StringReader(""),
        HumanOutput = new StringWriter(),
        Log = new StringWriter(),
        GetEnvironmentVariable = name => name switch
        {
            "ANTHROPIC_API_KEY" => anthropicKey,
            "OPENAI_API_KEY" => openAiKey,
            _ => null,
        },
    };

    private static IOracle Create(OracleEnvironment env, params string[] args) => OracleFactory.Create(OracleOptions.Parse(args, out _), env);

    [Fact]
    public void Resolvers()
    {
        Assert.IsType<AnthropicOracle>(Create(Env("sk-ant-x-123456789"), "--oracle", "anthropic"));
        Assert.Equal("anthropic:claude-sonnet-4-5;prompt=" + PromptBuilder.Version, Create(Env("sk-ant-x-123456789"), "--oracle", "anthropic").Identity);
        Assert.IsType<OpenAiOracle>(Create(Env(openAiKey: "sk-123456789"), "--oracle", "openai", "--model", "gpt-4.1"));
        Assert.IsType<OpenAiOracle>(Create(Env(), "--oracle", "openai", "--base-url", "http://localhost:11434/v1", "--model", "llama3.2"));
        Assert.IsType<HumanOracle>(Create(Env(), "--oracle", "human"));
        Assert.Equal("exec:python3 o.py", Create(Env(), "--oracle", "exec:python3 o.py").Identity);
        var chain = Assert.IsType<EscalatingOracle>(Create(Env("sk-ant-x-123456789"), "--oracle", "anthropic", "--escalate", "human", "--min-confidence", "0.9"));
        Assert.Equal(0.9, chain.Threshold);
    }

    [Theory]
    [InlineData("ANTHROPIC_API_KEY", "--oracle", "anthropic")]
    [InlineData("OPENAI_API_KEY", "--oracle", "openai")]
    public void MissingKeyIsAClearError(string variable, params string[] args)
    {
        var e = Assert.Throws<OracleConfigurationException>(() => Create(Env(), args));
        Assert.Contains("set " + variable, e.Message);
    }

    [Theory]
    [InlineData("lexicon")]
    [InlineData("script:a.txt")]
    [InlineData("replay:run.jsonl")]
    public void PipelineOraclesAreNotAvailableYet(string oracle)
    {
        var e = Assert.Throws<OracleConfigurationException>(() => Create(Env(), "--oracle", oracle));
        Assert.Contains("is built by the oracle pipeline", e.Message);
    }
}
