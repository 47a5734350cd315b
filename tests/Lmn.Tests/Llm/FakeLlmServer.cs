using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Lmn.Tests.Llm;

/// <summary>A scripted reply: status, headers, body, and how long to wait before sending it.</summary>
public sealed record Scripted(int Status, string Body, IReadOnlyDictionary<string, string>? Headers = null, TimeSpan Delay = default);

/// <summary>A request the fake server received.</summary>
public sealed record Recorded(string Path, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
}

/// <summary>
/// A Kestrel server on 127.0.0.1 that speaks the Anthropic Messages API (POST /v1/messages) and OpenAI
/// chat completions (POST /v1/chat/completions) with scripted replies, one per request in order (or
/// from a responder function). It records every request, headers and body included.
/// </summary>
public sealed class FakeLlmServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Scripted> _script = new();
    private readonly ConcurrentQueue<Recorded> _requests = new();
    private int _inFlight, _maxInFlight;

    public string Url { get; }
    /// <summary>Used when the script is empty.</summary>
    public Func<Recorded, Scripted>? Responder { get; set; }
    public IReadOnlyList<Recorded> Requests => _requests.ToArray();
    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    private FakeLlmServer(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public static async Task<FakeLlmServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        FakeLlmServer? self = null;
        app.MapPost("/v1/messages", (HttpContext ctx) => self!.Handle(ctx));
        app.MapPost("/v1/chat/completions", (HttpContext ctx) => self!.Handle(ctx));
        await app.StartAsync();
        string url = app.Urls.First();
        self = new FakeLlmServer(app, url);
        return self;
    }

    public FakeLlmServer Enqueue(params Scripted[] replies)
    {
        foreach (var r in replies) _script.Enqueue(r);
        return this;
    }

    private async Task Handle(HttpContext ctx)
    {
        int n = Interlocked.Increment(ref _inFlight);
        int seen;
        while ((seen = Volatile.Read(ref _maxInFlight)) < n && Interlocked.CompareExchange(ref _maxInFlight, n, seen) != seen) { }
        try
        {
            string body;
            using (var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8)) body = await reader.ReadToEndAsync();
            var headers = ctx.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
            var rec = new Recorded(ctx.Request.Path, headers, body);
            _requests.Enqueue(rec);
            var reply = _script.TryDequeue(out var s) ? s
                : Responder?.Invoke(rec) ?? new Scripted(500, Wire.AnthropicError("api_error", "fake server: no scripted reply"));
            if (reply.Delay > TimeSpan.Zero)
            {
                try { await Task.Delay(reply.Delay, ctx.RequestAborted); }
                catch (OperationCanceledException) { return; }
            }
            ctx.Response.StatusCode = reply.Status;
            ctx.Response.ContentType = "application/json";
            ctx.Response.Headers["request-id"] = "req_011CTestFake" + _requests.Count;
            foreach (var (k, v) in reply.Headers ?? new Dictionary<string, string>()) ctx.Response.Headers[k] = v;
            await ctx.Response.WriteAsync(reply.Body, ctx.RequestAborted);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Bodies as the real APIs send them.</summary>
public static class Wire
{
    private static string J(object o) => JsonSerializer.Serialize(o);

    /// <summary>An Anthropic Messages API reply with one text block.</summary>
    public static string AnthropicMessage(string text, int input = 120, int output = 40, string model = "claude-sonnet-4-5-20250929") => J(new
    {
        id = "msg_01XFDUDYJgAACzvnptvVoYEL",
        type = "message",
        role = "assistant",
        model,
        content = new[] { new { type = "text", text } },
        stop_reason = "end_turn",
        stop_sequence = (string?)null,
        usage = new { input_tokens = input, output_tokens = output, cache_creation_input_tokens = 0, cache_read_input_tokens = 0, service_tier = "standard" },
    });

    /// <summary>An Anthropic error body: {"type":"error","error":{"type":...,"message":...},"request_id":...}.</summary>
    public static string AnthropicError(string type, string message, string? errorCode = null) => errorCode == null
        ? J(new { type = "error", error = new { type, message }, request_id = "req_011CErr" })
        : J(new { type = "error", error = new { type, message, details = new { error_code = errorCode } }, request_id = "req_011CErr" });

    /// <summary>An OpenAI chat completion with one choice.</summary>
    public static string OpenAiCompletion(string content, int prompt = 100, int completion = 20, string model = "gpt-4o-mini-2024-07-18") => J(new
    {
        id = "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        @object = "chat.completion",
        created = 1741569952,
        model,
        choices = new[] { new { index = 0, message = new { role = "assistant", content, refusal = (string?)null, annotations = Array.Empty<object>() }, logprobs = (object?)null, finish_reason = "stop" } },
        usage = new { prompt_tokens = prompt, completion_tokens = completion, total_tokens = prompt + completion, prompt_tokens_details = new { cached_tokens = 0, audio_tokens = 0 }, completion_tokens_details = new { reasoning_tokens = 0, audio_tokens = 0, accepted_prediction_tokens = 0, rejected_prediction_tokens = 0 } },
        service_tier = "default",
        system_fingerprint = "fp_06737a9306",
    });

    /// <summary>An OpenAI error body: {"error":{"message","type","param","code"}}.</summary>
    public static string OpenAiError(string message, string type, string? code) => J(new { error = new { message, type, param = (string?)null, code } });

    /// <summary>The JSON answer the prompt asks for.</summary>
    public static string Answer(string substitution, double confidence = 0.9, string reasoning = "fits the context", params string[] alternatives) =>
        J(new { substitution, confidence, reasoning, alternatives_considered = alternatives });

    public static string Batch(params (string Id, string Sub, double Conf)[] answers) =>
        J(new { answers = answers.Select(a => new { amb_node_id = a.Id, substitution = a.Sub, confidence = a.Conf, reasoning = "batch", alternatives_considered = Array.Empty<string>() }) });

    public static Dictionary<string, string> H(params (string, string)[] kv) => kv.ToDictionary(x => x.Item1, x => x.Item2);
}
