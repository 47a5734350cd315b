using Lmn.Llm;
using Lmn.Oracles;
using Microsoft.Extensions.AI;

namespace Lmn.Tests.Llm;

/// <summary>The one LLM backend over IChatClient, alone with a fake inner client, and its logging stage end to end.</summary>
public class ChatBackendTests
{
    /// <summary>An inner chat client that answers or throws as told, and remembers the options it got.</summary>
    private sealed class FakeChat(Func<ChatOptions?, ChatResponse> answer) : IChatClient
    {
        public List<ChatOptions?> Seen { get; } = [];

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            Seen.Add(options);
            return Task.FromResult(answer(options));
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose() { }
    }

    private sealed class StatusException(int status, string body) : Exception("sdk failure")
    {
        public int Status { get; } = status;
        public string Body { get; } = body;
    }

    private static ChatBackend Backend(FakeChat inner, Redactor? redactor = null, LlmLog? log = null) =>
        new("fakeprov", _ => inner, e => e is StatusException s ? (s.Status, s.Body) : null, null, redactor ?? Redactor.None, log);

    private static LlmCall Call(string model = "m-1") => new(model, "system text", "user text", null, "schema", 77);

    [Fact]
    public async Task ReplyTextModelAndTokensComeFromTheChatResponse()
    {
        var inner = new FakeChat(o => new ChatResponse(new ChatMessage(ChatRole.Assistant, "the answer"))
        {
            ModelId = "m-1-2025",
            Usage = new UsageDetails { InputTokenCount = 12, OutputTokenCount = 3 },
        });
        using var b = Backend(inner);
        var r = await b.CompleteAsync(Call(), CancellationToken.None);
        Assert.Equal(new LlmReply("the answer", "m-1-2025", 12, 3), r);
        var o = Assert.Single(inner.Seen);
        Assert.Equal("m-1", o!.ModelId);
        Assert.Equal(77, o.MaxOutputTokens);
        Assert.Equal(0f, o.Temperature);
        Assert.Equal("fakeprov", b.Provider);
    }

    [Theory]
    [InlineData(429, "{\"error\":{\"type\":\"rate_limit_error\",\"message\":\"slow down\"}}", LlmFailureKind.RateLimited)]
    [InlineData(529, "{\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}", LlmFailureKind.Overloaded)]
    [InlineData(401, "{\"error\":{\"type\":\"authentication_error\",\"message\":\"bad key sk-live-abcdefghijkl\"}}", LlmFailureKind.Auth)]
    [InlineData(400, "{\"error\":{\"message\":\"prompt is too long\"}}", LlmFailureKind.ContextLength)]
    public async Task SdkFailuresAreClassifiedFromTheirStatusWhateverTheProvider(int status, string body, LlmFailureKind kind)
    {
        using var b = Backend(new FakeChat(_ => throw new StatusException(status, body)));
        var f = await Assert.ThrowsAsync<LlmFailure>(() => b.CompleteAsync(Call(), CancellationToken.None));
        Assert.Equal(kind, f.Kind);
        Assert.Equal(status, f.Status);
        Assert.StartsWith($"fakeprov answered HTTP {status}", f.Message);
        Assert.DoesNotContain("sk-live-abcdefghijkl", f.Message);
    }

    [Fact]
    public async Task AnEmptyReplyIsMalformed()
    {
        using var b = Backend(new FakeChat(_ => new ChatResponse(new ChatMessage(ChatRole.Assistant, "")) { FinishReason = ChatFinishReason.Length }));
        var f = await Assert.ThrowsAsync<LlmFailure>(() => b.CompleteAsync(Call(), CancellationToken.None));
        Assert.Equal(LlmFailureKind.Malformed, f.Kind);
        Assert.Equal("fakeprov sent no text (finish reason: length)", f.Message);
    }

    [Fact]
    public void TheLoggingStageWritesRedactedLinesOnlyWhenOn()
    {
        const string key = "sk-test-logging-key-0123456789";
        string Logged(Microsoft.Extensions.Logging.LogLevel level)
        {
            var lines = new StringWriter();
            var inner = new FakeChat(_ => new ChatResponse(new ChatMessage(ChatRole.Assistant, "echo " + key)));
            using (var b = Backend(inner, new Redactor(key), new LlmLog(level, lines, new Redactor(key))))
                b.CompleteAsync(Call() with { User = "my key is " + key }, CancellationToken.None).GetAwaiter().GetResult();
            return lines.ToString();
        }
        // Debug: that a call started and ended, no prompt text.
        string debug = Logged(Microsoft.Extensions.Logging.LogLevel.Debug);
        Assert.Contains("lmn: llm: debug: GetResponseAsync invoked", debug);
        Assert.Contains("lmn: llm: debug: GetResponseAsync completed", debug);
        Assert.DoesNotContain("my key is", debug);
        // Trace: the messages and the reply too, with the key redacted.
        string trace = Logged(Microsoft.Extensions.Logging.LogLevel.Trace);
        Assert.Contains("lmn: llm: trace:", trace);
        Assert.Contains("my key is [redacted]", trace);
        Assert.DoesNotContain(key, trace);
        Assert.DoesNotContain(key, debug);

        Assert.Null(LlmLog.FromEnvironment(Redactor.None, _ => null));
        Assert.Null(LlmLog.FromEnvironment(Redactor.None, _ => "off"));
        Assert.True(LlmLog.FromEnvironment(Redactor.None, _ => "debug")!.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Debug));
        Assert.False(LlmLog.FromEnvironment(Redactor.None, _ => "debug")!.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Trace));
    }
}
