using Lmn.Oracles;
using Lmn.Words;

namespace Lmn.Llm;

/// <summary>A missing key or a bad setting found while building an oracle: a user mistake, reported without a stack trace.</summary>
public sealed class OracleConfigurationException(string message) : Exception(message);

/// <summary>The one HttpClient every LLM call shares (no client-wide timeout: the pipeline sets one per call).</summary>
public static class LlmHttp
{
    private static readonly Lazy<HttpClient> _shared = new(FailureClassifier.CreateHttpClient);
    public static HttpClient Shared => _shared.Value;
}

/// <summary>
/// Claude through the Anthropic Messages API (official SDK, IChatClient adapter). The key comes from
/// ANTHROPIC_API_KEY unless given; --base-url replaces https://api.anthropic.com (the SDK appends
/// /v1/messages).
/// </summary>
public sealed class AnthropicOracle : LlmOracle
{
    public AnthropicOracle(LlmOracleOptions options, string apiKey, string? baseUrl = null, HttpClient? http = null, IOracleEvents? events = null)
        : base(AnthropicBackend.Create(http ?? LlmHttp.Shared, apiKey, baseUrl, SdkTimeout(options), new Redactor(apiKey)), options, events, new Redactor(apiKey))
    {
    }

    /// <summary>Reads ANTHROPIC_API_KEY; a clear error when it is not set.</summary>
    public static AnthropicOracle FromEnvironment(LlmOracleOptions options, string? baseUrl = null, HttpClient? http = null, IOracleEvents? events = null, Func<string, string?>? getEnv = null)
    {
        string? key = (getEnv ?? Environment.GetEnvironmentVariable)(AnthropicBackend.KeyVariable);
        if (string.IsNullOrWhiteSpace(key))
            throw new OracleConfigurationException($"--oracle anthropic needs an API key: set {AnthropicBackend.KeyVariable}");
        return new AnthropicOracle(options, key.Trim(), baseUrl, http, events);
    }

    internal static TimeSpan SdkTimeout(LlmOracleOptions o) => o.Resilience.Timeout + TimeSpan.FromSeconds(30);
}

/// <summary>
/// Any OpenAI-compatible chat completions endpoint (OpenAI, Ollama, llama.cpp, vLLM) through the
/// official `OpenAI` SDK. The base URL includes /v1; the key comes from OPENAI_API_KEY when it is set
/// (a local server needs none).
/// </summary>
public sealed class OpenAiOracle : LlmOracle
{
    public OpenAiOracle(LlmOracleOptions options, string? apiKey, string? baseUrl = null, HttpClient? http = null, IOracleEvents? events = null)
        : base(OpenAiBackend.Create(http ?? LlmHttp.Shared, apiKey, baseUrl, AnthropicOracle.SdkTimeout(options), new Redactor(apiKey), options.JsonSchema),
               options, events, new Redactor(apiKey))
    {
    }

    /// <summary>Reads OPENAI_API_KEY when set; without --base-url the public API needs it.</summary>
    public static OpenAiOracle FromEnvironment(LlmOracleOptions options, string? baseUrl = null, HttpClient? http = null, IOracleEvents? events = null, Func<string, string?>? getEnv = null)
    {
        string? key = (getEnv ?? Environment.GetEnvironmentVariable)(OpenAiBackend.KeyVariable);
        if (string.IsNullOrWhiteSpace(key) && baseUrl == null)
            throw new OracleConfigurationException($"--oracle openai needs an API key for {OpenAiBackend.DefaultBaseUrl}: set {OpenAiBackend.KeyVariable}, or point --base-url at a local server (e.g. http://localhost:11434/v1 for Ollama)");
        return new OpenAiOracle(options, string.IsNullOrWhiteSpace(key) ? null : key.Trim(), baseUrl, http, events);
    }
}

/// <summary>What the factory needs besides the options: where the human oracle reads and writes, where logs and events go.</summary>
public sealed record OracleEnvironment
{
    public TextReader HumanInput { get; init; } = Console.In;
    /// <summary>The human oracle's questions go here (stderr by default: stdout is the program's result).</summary>
    public TextWriter HumanOutput { get; init; } = Console.Error;
    /// <summary>The process oracle's stderr.</summary>
    public TextWriter Log { get; init; } = Console.Error;
    public IOracleEvents Events { get; init; } = OracleEvents.None;
    public HttpClient? Http { get; init; }
    /// <summary>Where API keys are read from (the process environment by default).</summary>
    public Func<string, string?> GetEnvironmentVariable { get; init; } = Environment.GetEnvironmentVariable;
    /// <summary>Tests: backoff delays and breaker settings.</summary>
    public Func<ResilienceSettings, ResilienceSettings>? TuneResilience { get; init; }
}

/// <summary>Builds the oracle chain for the CLI options: resolver, then the escalation stage.</summary>
public static class OracleFactory
{
    /// <summary>
    /// anthropic, openai, human and exec are built here; semantic, lexicon, script and replay are built
    /// by the oracle pipeline of `lmn run`, and are refused here with a clear error.
    /// </summary>
    public static IOracle Create(OracleOptions o, OracleEnvironment env)
    {
        IOracle resolver = o.Kind switch
        {
            OracleKind.Anthropic => AnthropicOracle.FromEnvironment(LlmOptions(o, AnthropicBackend.DefaultModel, env), o.BaseUrl, env.Http, env.Events, env.GetEnvironmentVariable),
            OracleKind.OpenAI => OpenAiOracle.FromEnvironment(LlmOptions(o, OpenAiBackend.DefaultModel, env), o.BaseUrl, env.Http, env.Events, env.GetEnvironmentVariable),
            OracleKind.Human => new HumanOracle(env.HumanInput, env.HumanOutput, env.Events),
            OracleKind.Exec => new ProcessOracle(o.Target!, env.Log, env.Events) { Timeout = o.Timeout, MaxReplyBytes = o.MaxReplyBytes },
            OracleKind.Semantic or OracleKind.Lexicon or OracleKind.Script or OracleKind.Replay =>
                throw new OracleConfigurationException($"--oracle {o.Kind.ToString().ToLowerInvariant()} is built by the oracle pipeline (lmn run), not by this factory; here use anthropic, openai, human or exec:PROGRAM"),
            _ => throw new System.Diagnostics.UnreachableException(o.Kind.ToString()),
        };
        if (o.Escalate == "human")
            resolver = new EscalatingOracle(resolver, new HumanOracle(env.HumanInput, env.HumanOutput, env.Events), o.MinConfidence, env.Events);
        return resolver;
    }

    public static LlmOracleOptions LlmOptions(OracleOptions o, string defaultModel, OracleEnvironment env)
    {
        var r = new ResilienceSettings { Timeout = o.Timeout, MaxRetries = o.Retries };
        if (env.TuneResilience != null) r = env.TuneResilience(r);
        return new LlmOracleOptions
        {
            Model = o.Model ?? defaultModel,
            SmallModel = o.SmallModel,
            Batch = o.Batch,
            Concurrency = o.Concurrency,
            Resilience = r,
        };
    }
}
