using Lmn.Oracles;
using Microsoft.Extensions.Logging;

namespace Lmn.Llm;

/// <summary>
/// The logging stage of the chat pipeline (Microsoft.Extensions.AI's <c>UseLogging</c>), switched on by
/// LMN_LLM_LOG: <c>debug</c> logs each call's start, end and failure; <c>trace</c> also logs the messages,
/// options and replies (prompt text: use it only where that is acceptable). Lines go to stderr as
/// <c>lmn: llm: LEVEL: text</c>, through the redactor, so the API key never appears.
/// </summary>
public sealed class LlmLog(LogLevel minimum, TextWriter output, Redactor redactor) : ILoggerFactory, ILogger
{
    public const string Variable = "LMN_LLM_LOG";

    private readonly Lock _gate = new();

    /// <summary>The factory LMN_LLM_LOG asks for, or null when it is unset or off.</summary>
    public static LlmLog? FromEnvironment(Redactor redactor, Func<string, string?>? getEnv = null)
    {
        string? v = (getEnv ?? Environment.GetEnvironmentVariable)(Variable)?.Trim().ToLowerInvariant();
        return v switch
        {
            null or "" or "0" or "off" or "none" => null,
            "trace" => new LlmLog(LogLevel.Trace, Console.Error, redactor),
            _ => new LlmLog(LogLevel.Debug, Console.Error, redactor),
        };
    }

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("LlmLog writes to stderr only");

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        string text = redactor.Redact(formatter(state, exception) + (exception != null ? " (" + exception.Message + ")" : ""));
        lock (_gate)
        {
            try { output.WriteLine($"lmn: llm: {logLevel.ToString().ToLowerInvariant()}: {text}"); }
            catch (IOException) { }
        }
    }

    public void Dispose() { }
}
