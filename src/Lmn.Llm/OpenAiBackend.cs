using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using Lmn.Oracles;
using OpenAI;
using OpenAI.Chat;

namespace Lmn.Llm;

/// <summary>
/// OpenAI chat completions through the official `OpenAI` SDK, for api.openai.com and any compatible
/// server (Ollama, llama.cpp, vLLM). The base URL includes /v1. The SDK's retries are off.
/// </summary>
public sealed class OpenAiBackend : ILlmBackend
{
    public const string DefaultModel = "gpt-4o-mini";
    public const string DefaultBaseUrl = "https://api.openai.com/v1";
    public const string KeyVariable = "OPENAI_API_KEY";

    private readonly ApiKeyCredential _key;
    private readonly OpenAIClientOptions _options;
    private readonly ConcurrentDictionary<string, ChatClient> _clients = new(StringComparer.Ordinal);
    private readonly Redactor _redactor;

    /// <summary>Whether to ask for a JSON-schema response format (Ollama and vLLM support it; some servers do not).</summary>
    public bool JsonSchema { get; init; } = true;

    /// <param name="apiKey">OPENAI_API_KEY; null for a local server that needs none (a placeholder is sent).</param>
    public OpenAiBackend(HttpClient http, string? apiKey, string? baseUrl, TimeSpan sdkTimeout, Redactor redactor)
    {
        _key = new ApiKeyCredential(string.IsNullOrEmpty(apiKey) ? "no-key" : apiKey);
        _options = new OpenAIClientOptions
        {
            Endpoint = new Uri((baseUrl ?? DefaultBaseUrl).TrimEnd('/')),
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(0),
            NetworkTimeout = sdkTimeout,
        };
        _redactor = redactor;
    }

    public string Provider => "openai";

    public async Task<LlmReply> CompleteAsync(LlmCall call, CancellationToken cancellationToken)
    {
        var client = _clients.GetOrAdd(call.Model, m => new ChatClient(m, _key, _options));
        var cap = new ResponseCapture();
        CaptureHandler.Current.Value = cap;
        var options = new ChatCompletionOptions { MaxOutputTokenCount = call.MaxTokens, Temperature = 0 };
        if (call.Schema is { } schema && JsonSchema)
            options.ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat(call.SchemaName, BinaryData.FromString(schema.GetRawText()), jsonSchemaIsStrict: true);
        ChatCompletion completion;
        try
        {
            ClientResult<ChatCompletion> result = await client.CompleteChatAsync(
                [new SystemChatMessage(call.System), new UserChatMessage(call.User)], options, cancellationToken).ConfigureAwait(false);
            completion = result.Value;
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception e)
        {
            if (cap.Status == 0 && e is ClientResultException cre && cre.Status > 0)
            {
                cap.Status = cre.Status;
                cap.ErrorBody = cre.GetRawResponse()?.Content?.ToString();
            }
            throw FailureClassifier.Wrap(e, cap, Provider, _redactor);
        }
        string text;
        try
        {
            text = string.Concat(completion.Content.Where(p => p.Kind == ChatMessageContentPartKind.Text).Select(p => p.Text));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw FailureClassifier.Wrap(e, cap, Provider, _redactor);
        }
        if (string.IsNullOrWhiteSpace(text))
            throw new LlmFailure(LlmFailureKind.Malformed, $"openai sent no text (finish reason: {completion.FinishReason}{(completion.Refusal != null ? ", refusal: " + completion.Refusal : "")})", cap.Status);
        return new LlmReply(text, completion.Model ?? call.Model, completion.Usage?.InputTokenCount ?? 0, completion.Usage?.OutputTokenCount ?? 0);
    }
}
