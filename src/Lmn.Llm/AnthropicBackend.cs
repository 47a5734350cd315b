using Anthropic;
using Anthropic.Core;
using Anthropic.Exceptions;
using Lmn.Oracles;
using Microsoft.Extensions.AI;

namespace Lmn.Llm;

/// <summary>
/// The Anthropic Messages API through the official SDK's IChatClient adapter. The SDK's own retries are
/// off (MaxRetries 0): the resilience pipeline is the one place that retries. The base URL is the host
/// without /v1 (the SDK appends /v1/messages).
/// </summary>
public sealed class AnthropicBackend : ILlmBackend, IDisposable
{
    public const string DefaultModel = "claude-sonnet-4-5";
    public const string KeyVariable = "ANTHROPIC_API_KEY";

    private readonly AnthropicClient _client;
    private readonly IChatClient _chat;
    private readonly Redactor _redactor;

    /// <param name="http">The shared HttpClient (see <see cref="FailureClassifier.CreateHttpClient"/>).</param>
    /// <param name="apiKey">The key; never logged.</param>
    /// <param name="baseUrl">e.g. http://127.0.0.1:8080 (no /v1); null for the public API.</param>
    /// <param name="sdkTimeout">The SDK's own limit, set above the pipeline's per-call timeout so that ours acts first.</param>
    public AnthropicBackend(HttpClient http, string apiKey, string? baseUrl, TimeSpan sdkTimeout, Redactor redactor)
    {
        var options = new ClientOptions
        {
            ApiKey = apiKey,
            HttpClient = http,
            MaxRetries = 0,
            Timeout = sdkTimeout,
        };
        if (baseUrl != null) options = options with { BaseUrl = baseUrl.TrimEnd('/') };
        _client = new AnthropicClient(options);
        _chat = _client.AsIChatClient(defaultModelId: null, defaultMaxOutputTokens: 1024);
        _redactor = redactor;
    }

    public string Provider => "anthropic";

    public async Task<LlmReply> CompleteAsync(LlmCall call, CancellationToken cancellationToken)
    {
        var cap = new ResponseCapture();
        CaptureHandler.Current.Value = cap;
        var options = new ChatOptions
        {
            ModelId = call.Model,
            MaxOutputTokens = call.MaxTokens,
            Temperature = 0,
        };
        if (call.Schema is { } schema) options.ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, call.SchemaName);
        ChatResponse resp;
        try
        {
            resp = await _chat.GetResponseAsync([new ChatMessage(ChatRole.System, call.System), new ChatMessage(ChatRole.User, call.User)], options, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception e)
        {
            if (cap.Status == 0 && e is AnthropicApiException api)
            {
                cap.Status = (int)api.StatusCode;
                cap.ErrorBody = api.ResponseBody;
            }
            throw FailureClassifier.Wrap(e, cap, Provider, _redactor);
        }
        string text = resp.Text;
        if (string.IsNullOrWhiteSpace(text))
            throw new LlmFailure(LlmFailureKind.Malformed, $"anthropic sent no text (finish reason: {resp.FinishReason?.Value ?? "none"})", cap.Status);
        return new LlmReply(text, resp.ModelId ?? call.Model, (int)(resp.Usage?.InputTokenCount ?? 0), (int)(resp.Usage?.OutputTokenCount ?? 0));
    }

    public void Dispose()
    {
        _chat.Dispose();
    }
}
