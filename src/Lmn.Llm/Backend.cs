using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Lmn.Llm;

/// <summary>One chat call: a system and a user message, and the JSON schema the answer should follow.</summary>
public sealed record LlmCall(string Model, string System, string User, JsonElement? Schema, string SchemaName, int MaxTokens);

/// <summary>What the model said, which model said it, and the tokens it cost.</summary>
public sealed record LlmReply(string Text, string Model, int InputTokens, int OutputTokens);

/// <summary>A chat API behind an SDK (Anthropic Messages, OpenAI chat completions). Throws <see cref="LlmFailure"/> on failure.</summary>
public interface ILlmBackend
{
    /// <summary>gen_ai.provider.name: "anthropic" or "openai".</summary>
    string Provider { get; }

    Task<LlmReply> CompleteAsync(LlmCall call, CancellationToken cancellationToken);
}

/// <summary>The kinds of failure the resilience pipeline tells apart.</summary>
public enum LlmFailureKind
{
    /// <summary>429 rate limit: retried after retry-after (or backoff).</summary>
    RateLimited,
    /// <summary>529 / overloaded_error: retried with backoff.</summary>
    Overloaded,
    /// <summary>500-599: retried with backoff.</summary>
    ServerError,
    /// <summary>The call took longer than --timeout (or 408): retried.</summary>
    Timeout,
    /// <summary>Connection refused, reset, DNS: retried.</summary>
    Network,
    /// <summary>The body or the model's answer could not be read: retried.</summary>
    Malformed,
    /// <summary>The prompt is too long for the model: retried once with reduced context.</summary>
    ContextLength,
    /// <summary>429 from a spend limit or an exhausted quota: never retried.</summary>
    Quota,
    /// <summary>401/403: never retried.</summary>
    Auth,
    /// <summary>Other 4xx (400, 404 unknown model, ...): never retried.</summary>
    BadRequest,
}

/// <summary>A failed LLM call, classified. The message is already redacted.</summary>
public sealed class LlmFailure(LlmFailureKind kind, string message, int? status = null, TimeSpan? retryAfter = null, Exception? inner = null)
    : Exception(message, inner)
{
    public LlmFailureKind Kind { get; } = kind;
    /// <summary>HTTP status when there was a response.</summary>
    public int? Status { get; } = status;
    /// <summary>What the server asked for in retry-after-ms or retry-after.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    public bool Retryable => Kind is not (LlmFailureKind.Quota or LlmFailureKind.Auth or LlmFailureKind.BadRequest);

    /// <summary>"rate_limited", "server_error", ... (events, spans, metrics).</summary>
    public string Reason => Kind switch
    {
        LlmFailureKind.RateLimited => "rate_limited",
        LlmFailureKind.Overloaded => "overloaded",
        LlmFailureKind.ServerError => "server_error",
        LlmFailureKind.Timeout => "timeout",
        LlmFailureKind.Network => "network",
        LlmFailureKind.Malformed => "malformed",
        LlmFailureKind.ContextLength => "context_length",
        LlmFailureKind.Quota => "quota",
        LlmFailureKind.Auth => "auth",
        LlmFailureKind.BadRequest => "bad_request",
        _ => throw new System.Diagnostics.UnreachableException(Kind.ToString()),
    };

    /// <summary>The protocol's oracle_error kind for a request that ends with this failure.</summary>
    public string ErrorKind => Kind switch
    {
        LlmFailureKind.Timeout => "timeout",
        LlmFailureKind.Malformed => "invalid",
        LlmFailureKind.Quota or LlmFailureKind.Auth or LlmFailureKind.BadRequest or LlmFailureKind.ContextLength => "refused",
        _ => "unavailable",
    };
}

/// <summary>What the last HTTP response of a call said: status, retry-after and the start of an error body.</summary>
internal sealed class ResponseCapture
{
    public int Status;
    public TimeSpan? RetryAfter;
    public string? ErrorBody;
}

/// <summary>
/// Sits under the SDKs in the shared HttpClient and records what they do not expose (Anthropic's
/// exceptions carry no headers): retry-after-ms / retry-after and the error body of a failed response,
/// into the capture of the current call (an AsyncLocal set by the backend).
/// </summary>
internal sealed class CaptureHandler : DelegatingHandler
{
    public static readonly AsyncLocal<ResponseCapture?> Current = new();

    public CaptureHandler(HttpMessageHandler inner) : base(inner) { }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var cap = Current.Value;
        if (cap != null)
        {
            cap.Status = (int)response.StatusCode;
            cap.RetryAfter = RetryAfter(response);
            if (!response.IsSuccessStatusCode)
            {
                // Buffered so that the SDK can still read the body after us.
                await response.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
                string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                cap.ErrorBody = body.Length > 4000 ? body[..4000] : body;
            }
        }
        return response;
    }

    /// <summary>retry-after-ms (milliseconds, Anthropic and OpenAI) wins over retry-after (seconds or an HTTP date).</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage r)
    {
        if (r.Headers.TryGetValues("retry-after-ms", out var ms) &&
            double.TryParse(ms.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out double m) && m >= 0)
            return TimeSpan.FromMilliseconds(m);
        var ra = r.Headers.RetryAfter;
        if (ra?.Delta is { } d) return d;
        if (ra?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }
        return null;
    }
}

/// <summary>Sorts a failed call into an <see cref="LlmFailureKind"/> from its status, error body and exception.</summary>
public static partial class FailureClassifier
{
    /// <summary>Classifies an HTTP error response (status and body as the server sent them).</summary>
    public static LlmFailureKind FromResponse(int status, string? body)
    {
        string type = "", code = "", message = "";
        if (!string.IsNullOrEmpty(body))
        {
            try
            {
                using var doc = JsonDocument.Parse(body);
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var err) && err.ValueKind == JsonValueKind.Object)
                {
                    type = Get(err, "type");
                    code = Get(err, "code");
                    message = Get(err, "message");
                    if (err.TryGetProperty("details", out var det) && det.ValueKind == JsonValueKind.Object) code += " " + Get(det, "error_code");
                }
            }
            catch (JsonException)
            {
                message = body;
            }
        }
        string all = (type + " " + code + " " + message).ToLowerInvariant();
        if (status == 429)
            return all.Contains("spend_limit") || all.Contains("spend limit") || all.Contains("quota") || all.Contains("credit balance") || all.Contains("billing")
                ? LlmFailureKind.Quota
                : LlmFailureKind.RateLimited;
        if (status == 529 || type == "overloaded_error") return LlmFailureKind.Overloaded;
        if (status >= 500) return LlmFailureKind.ServerError;
        if (status == 408) return LlmFailureKind.Timeout;
        if (status is 400 or 413 &&
            (all.Contains("context_length") || all.Contains("context length") || all.Contains("prompt is too long") || all.Contains("too many tokens") || all.Contains("request_too_large")))
            return LlmFailureKind.ContextLength;
        if (status is 401 or 403) return LlmFailureKind.Auth;
        return LlmFailureKind.BadRequest;
    }

    private static string Get(JsonElement e, string key) =>
        e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";

    /// <summary>The short message of an error body ("error.message"), or the body's start.</summary>
    public static string ApiMessage(string? body)
    {
        if (string.IsNullOrEmpty(body)) return "";
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var err))
            {
                if (err.ValueKind == JsonValueKind.Object) return Get(err, "message");
                if (err.ValueKind == JsonValueKind.String) return err.GetString()!;
            }
        }
        catch (JsonException) { }
        return body.Length > 200 ? body[..200] + "..." : body;
    }

    /// <summary>Turns whatever an SDK threw into an LlmFailure, using what the capture handler saw.</summary>
    internal static LlmFailure Wrap(Exception e, ResponseCapture cap, string provider, Lmn.Oracles.Redactor redactor)
    {
        if (cap.Status >= 400)
        {
            var kind = FromResponse(cap.Status, cap.ErrorBody);
            string api = ApiMessage(cap.ErrorBody);
            string msg = $"{provider} answered HTTP {cap.Status}{(api.Length > 0 ? ": " + api : "")}";
            return new LlmFailure(kind, redactor.Redact(msg), cap.Status, cap.RetryAfter, null);
        }
        // The SDKs wrap transport errors (AnthropicIOException, ClientResultException): look inside.
        for (var x = e; x != null; x = x.InnerException)
            if (x is HttpRequestException or IOException or System.Net.Sockets.SocketException && cap.Status == 0)
                return new LlmFailure(LlmFailureKind.Network, redactor.Redact($"cannot reach {provider}: {Innermost(x).Message}"), null, null, null);
        return e switch
        {
            _ when cap.Status is >= 200 and < 300 =>
                new LlmFailure(LlmFailureKind.Malformed, redactor.Redact($"{provider} sent a response that could not be read ({Describe(e)})"), cap.Status, null, null),
            _ => new LlmFailure(LlmFailureKind.Network, redactor.Redact($"the call to {provider} failed ({Describe(e)})"), null, null, null),
        };
    }

    /// <summary>What went wrong in words, never a .NET exception type name.</summary>
    internal static string Describe(Exception e)
    {
        for (var x = e; x != null; x = x.InnerException)
        {
            switch (x)
            {
                case System.Text.Json.JsonException j:
                    return "its body is not the JSON the API documents" + (j.LineNumber != null ? $" (at line {j.LineNumber + 1}, byte {j.BytePositionInLine + 1})" : "");
                case HttpIOException or EndOfStreamException:
                    return "the connection closed before the whole response arrived";
                case FormatException or InvalidCastException or InvalidOperationException or ArgumentException or KeyNotFoundException:
                    return "a field of the response is missing or has the wrong type";
            }
        }
        return TypeNames().Replace(e.Message, "");
    }

    // "System.Text.Json.JsonException: " and the like, should an SDK put a type name into its message.
    [System.Text.RegularExpressions.GeneratedRegex(@"\b(?:[A-Z][A-Za-z0-9]*\.)*[A-Z][A-Za-z0-9]*Exception:?\s*", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex TypeNames();

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException != null) e = e.InnerException;
        return e;
    }

    /// <summary>The shared HttpClient for every LLM call: no client-wide timeout (the pipeline sets one per call).</summary>
    public static HttpClient CreateHttpClient() =>
        new(new CaptureHandler(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AutomaticDecompression = DecompressionMethods.All }))
        {
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
        };
}
