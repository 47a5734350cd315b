using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using Anthropic;
using Anthropic.Core;
using Anthropic.Exceptions;
using Lmn.Oracles;
using Microsoft.Extensions.AI;

namespace Lmn.Llm;

/// <summary>
/// The one LLM backend: a chat call through Microsoft.Extensions.AI's <see cref="IChatClient"/>, whatever
/// the provider. Each provider only supplies its SDK's IChatClient (<see cref="AnthropicBackend.Create"/>:
/// the Anthropic SDK's own adapter; <see cref="OpenAiBackend.Create"/>: the OpenAI SDK's ChatClient through
/// Microsoft.Extensions.AI.OpenAI) and a way to read the HTTP status out of its exceptions. The client is
/// composed with <see cref="ChatClientBuilder"/>: OpenTelemetry's GenAI spans and metrics
/// (<c>UseOpenTelemetry</c>, source and meter "Experimental.Microsoft.Extensions.AI") wrap every call,
/// inside LMN's own `chat {model}` span of the attempt. The SDKs' own retries are off: the resilience
/// pipeline is the one place that retries.
/// </summary>
public sealed class ChatBackend : ILlmBackend, IDisposable
{
    /// <summary>The source and meter name of the OpenTelemetry stage (Microsoft.Extensions.AI's default).</summary>
    public const string TelemetrySource = "Experimental.Microsoft.Extensions.AI";

    private readonly Func<string, IChatClient> _create;
    private readonly ConcurrentDictionary<string, IChatClient> _clients = new(StringComparer.Ordinal);
    private readonly Func<Exception, (int Status, string? Body)?> _statusOf;
    private readonly Func<LlmCall, ChatOptions, ChatOptions> _shape;
    private readonly Redactor _redactor;

    /// <param name="provider">gen_ai.provider.name.</param>
    /// <param name="create">The SDK's chat client for a model (called once per model; a client may serve every model).</param>
    /// <param name="statusOf">The HTTP status and body an SDK exception carries, for when the capture handler saw no response.</param>
    /// <param name="shape">Provider-specific request options (the OpenAI response format).</param>
    /// <param name="log">The logging stage's sink; null: <see cref="LlmLog.FromEnvironment"/> (LMN_LLM_LOG), usually off.</param>
    public ChatBackend(string provider, Func<string, IChatClient> create, Func<Exception, (int Status, string? Body)?> statusOf,
        Func<LlmCall, ChatOptions, ChatOptions>? shape, Redactor redactor, Microsoft.Extensions.Logging.ILoggerFactory? log = null)
    {
        Provider = provider;
        log ??= LlmLog.FromEnvironment(redactor);
        // Calls pass through the stages in turn: logging (outermost, when on), then OpenTelemetry, then the SDK.
        _create = model =>
        {
            var builder = new ChatClientBuilder(create(model));
            if (log != null) builder.UseLogging(log);
            return builder.UseOpenTelemetry(sourceName: TelemetrySource, configure: c => c.EnableSensitiveData = false).Build();
        };
        _statusOf = statusOf;
        _shape = shape ?? ((_, o) => o);
        _redactor = redactor;
    }

    public string Provider { get; }

    public async Task<LlmReply> CompleteAsync(LlmCall call, CancellationToken cancellationToken)
    {
        var chat = _clients.GetOrAdd(call.Model, _create);
        var cap = new ResponseCapture();
        CaptureHandler.Current.Value = cap;
        var options = _shape(call, new ChatOptions { ModelId = call.Model, MaxOutputTokens = call.MaxTokens, Temperature = 0 });
        ChatResponse resp;
        try
        {
            resp = await chat.GetResponseAsync([new ChatMessage(ChatRole.System, call.System), new ChatMessage(ChatRole.User, call.User)], options, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception e)
        {
            if (cap.Status == 0 && _statusOf(e) is { } s && s.Status > 0)
            {
                cap.Status = s.Status;
                cap.ErrorBody = s.Body;
            }
            throw FailureClassifier.Wrap(e, cap, Provider, _redactor);
        }
        string text;
        try { text = resp.Text; }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw FailureClassifier.Wrap(e, cap, Provider, _redactor);
        }
        if (string.IsNullOrWhiteSpace(text))
        {
            string refusal = resp.RawRepresentation is OpenAI.Chat.ChatCompletion { Refusal: { } r } ? ", refusal: " + r : "";
            throw new LlmFailure(LlmFailureKind.Malformed, $"{Provider} sent no text (finish reason: {resp.FinishReason?.Value ?? "none"}{refusal})", cap.Status);
        }
        return new LlmReply(text, resp.ModelId ?? call.Model, (int)(resp.Usage?.InputTokenCount ?? 0), (int)(resp.Usage?.OutputTokenCount ?? 0));
    }

    public void Dispose()
    {
        foreach (var c in _clients.Values) c.Dispose();
    }
}

/// <summary>The Anthropic Messages API: the official SDK's IChatClient. The base URL is the host without /v1 (the SDK appends /v1/messages).</summary>
public static class AnthropicBackend
{
    public const string DefaultModel = "claude-sonnet-4-5";
    public const string KeyVariable = "ANTHROPIC_API_KEY";

    /// <param name="http">The shared HttpClient (see <see cref="FailureClassifier.CreateHttpClient"/>).</param>
    /// <param name="apiKey">The key; never logged.</param>
    /// <param name="baseUrl">e.g. http://127.0.0.1:8080 (no /v1); null for the public API.</param>
    /// <param name="sdkTimeout">The SDK's own limit, set above the pipeline's per-call timeout so that ours acts first.</param>
    public static ChatBackend Create(HttpClient http, string apiKey, string? baseUrl, TimeSpan sdkTimeout, Redactor redactor)
    {
        var options = new ClientOptions { ApiKey = apiKey, HttpClient = http, MaxRetries = 0, Timeout = sdkTimeout };
        if (baseUrl != null) options = options with { BaseUrl = baseUrl.TrimEnd('/') };
        // One client serves every model: the model goes in each call's options.
        var chat = new AnthropicClient(options).AsIChatClient(defaultModelId: null, defaultMaxOutputTokens: 1024);
        return new ChatBackend("anthropic", _ => chat,
            e => e is AnthropicApiException api ? ((int)api.StatusCode, api.ResponseBody) : null,
            (call, o) =>
            {
                if (call.Schema is { } schema) o.ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, call.SchemaName);
                return o;
            },
            redactor);
    }
}

/// <summary>
/// OpenAI chat completions for api.openai.com and any compatible server (Ollama, llama.cpp, vLLM): the
/// official SDK's ChatClient as an IChatClient (Microsoft.Extensions.AI.OpenAI). The base URL includes /v1.
/// </summary>
public static class OpenAiBackend
{
    public const string DefaultModel = "gpt-4o-mini";
    public const string DefaultBaseUrl = "https://api.openai.com/v1";
    public const string KeyVariable = "OPENAI_API_KEY";

    /// <param name="apiKey">OPENAI_API_KEY; null for a local server that needs none (a placeholder is sent).</param>
    /// <param name="jsonSchema">Whether to ask for a strict JSON-schema response format (Ollama and vLLM support it; some servers do not).</param>
    public static ChatBackend Create(HttpClient http, string? apiKey, string? baseUrl, TimeSpan sdkTimeout, Redactor redactor, bool jsonSchema = true)
    {
        var key = new ApiKeyCredential(string.IsNullOrEmpty(apiKey) ? "no-key" : apiKey);
        var options = new OpenAI.OpenAIClientOptions
        {
            Endpoint = new Uri((baseUrl ?? DefaultBaseUrl).TrimEnd('/')),
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(0),
            NetworkTimeout = sdkTimeout,
        };
        return new ChatBackend("openai", model => new OpenAI.Chat.ChatClient(model, key, options).AsIChatClient(),
            e => e is ClientResultException cre && cre.Status > 0 ? (cre.Status, cre.GetRawResponse()?.Content?.ToString()) : null,
            (call, o) =>
            {
                // The response format exactly as the SDK writes it (strict schema): Microsoft.Extensions.AI
                // starts from these native options and fills in what they leave unset.
                if (call.Schema is { } schema && jsonSchema)
                {
                    var format = OpenAI.Chat.ChatResponseFormat.CreateJsonSchemaFormat(call.SchemaName, BinaryData.FromString(schema.GetRawText()), jsonSchemaIsStrict: true);
                    o.RawRepresentationFactory = _ => new OpenAI.Chat.ChatCompletionOptions { ResponseFormat = format };
                }
                return o;
            },
            redactor);
    }
}
