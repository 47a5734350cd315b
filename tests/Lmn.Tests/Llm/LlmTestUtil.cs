using Lmn.Llm;
using Lmn.Oracles;

namespace Lmn.Tests.Llm;

/// <summary>Requests, fast resilience settings and oracles pointed at a fake server.</summary>
public static class LlmTestUtil
{
    public const string AnthropicKey = "sk-ant-api03-TESTKEY-0123456789abcdefXYZ";
    public const string OpenAiKey = "sk-proj-TESTKEY-9876543210fedcbaQRS";

    public static OracleRequest Request(string id = "amb#42", params string[] args) => new()
    {
        AmbNodeId = id,
        Kind = "choice",
        Expression = $"∿lov[{string.Join(", ", args.Length > 0 ? args : ["joy", "pai", "hop"])}]",
        Args = args.Length > 0 ? args : ["joy", "pai", "hop"],
        TypeExpected = "Mind & Cognition / Emotions",
        LexicalBindings = new Dictionary<string, string> { ["@now"] = "present_moment", ["@self"] = "agent_alice" },
        TypeEnvironment = new Dictionary<string, string> { ["lov"] = "love: affection, bond, care", ["joy"] = "joy: happiness, pleasure, delight" },
        ReductionTrace = ["main", "map_over_states"],
        OtherAmbNodes = ["amb#17"],
        SharedVariables = ["@now"],
        SourceLocation = "examples/mood.lmn:15:8",
    };

    /// <summary>Short delays and a short timeout so that retries take milliseconds.</summary>
    public static ResilienceSettings Fast(TimeSpan? timeout = null, int retries = 3) => new()
    {
        Timeout = timeout ?? TimeSpan.FromSeconds(5),
        MaxRetries = retries,
        BaseDelay = TimeSpan.FromMilliseconds(5),
        MaxDelay = TimeSpan.FromMilliseconds(40),
        RetryAfterCap = TimeSpan.FromSeconds(3),
        BreakerMinimumThroughput = 100,
    };

    public static LlmOracleOptions Options(string model = "claude-sonnet-4-5", ResilienceSettings? r = null) =>
        new() { Model = model, Resilience = r ?? Fast() };

    public static AnthropicOracle NewAnthropic(FakeLlmServer s, LlmOracleOptions? o = null, IOracleEvents? events = null) =>
        new(o ?? Options(), AnthropicKey, s.Url, http: null, events);

    public static OpenAiOracle NewOpenAi(FakeLlmServer s, LlmOracleOptions? o = null, IOracleEvents? events = null) =>
        new(o ?? Options("gpt-4o-mini"), OpenAiKey, s.Url + "/v1", http: null, events);

    public static OracleResponse Answer(IReadOnlyList<OracleResult> results, int i = 0) =>
        Assert.IsType<OracleResponse>(results[i]);

    public static OracleError Error(IReadOnlyList<OracleResult> results, int i = 0) =>
        Assert.IsType<OracleError>(results[i]);
}
