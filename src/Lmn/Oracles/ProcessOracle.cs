using System.Diagnostics;
using System.Text;

namespace Lmn.Oracles;

/// <summary>
/// The process oracle (`--oracle exec:PROGRAM ARGS`): starts the program once, writes one request or
/// batch per line on its stdin and reads one response or batch per line from its stdout. Its stderr goes
/// to the log. One message is in flight at a time. If the program dies, the call throws
/// <see cref="OracleProcessException"/> with the last request and the exit status; if it does not answer
/// within the timeout it is killed, the requests get timeout errors, and the next call starts it again.
/// </summary>
public sealed class ProcessOracle : IOracle, IAsyncDisposable
{
    private readonly string _program;
    private readonly IReadOnlyList<string> _args;
    private readonly TextWriter _log;
    private readonly IOracleEvents _events;
    private readonly SemaphoreSlim _one = new(1, 1);
    private readonly Lock _logGate = new();
    private Process? _process;
    private string? _lastRequest;

    /// <summary>How long one answer may take (default 120 s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>The default of <see cref="MaxReplyBytes"/>: 16 MiB.</summary>
    public const int DefaultMaxReplyBytes = 16 << 20;

    /// <summary>
    /// The longest reply line accepted, in bytes (`--max-reply-bytes`). A longer line is read to its end
    /// and thrown away, never held in memory, and the requests get a malformed-reply error.
    /// </summary>
    public int MaxReplyBytes { get; init; } = DefaultMaxReplyBytes;

    private ReplyReader? _reader;

    /// <param name="commandLine">"PROGRAM ARGS", split like a shell does (quotes group words, no expansion).</param>
    /// <param name="log">Where the program's stderr goes, line by line, prefixed with its name.</param>
    public ProcessOracle(string commandLine, TextWriter? log = null, IOracleEvents? events = null)
    {
        var words = SplitCommandLine(commandLine);
        if (words.Count == 0) throw new ArgumentException("the process oracle needs a program: exec:PROGRAM ARGS", nameof(commandLine));
        _program = words[0];
        _args = words.Skip(1).ToList();
        _log = log ?? TextWriter.Null;
        _events = events ?? OracleEvents.None;
    }

    public string Identity => "exec:" + string.Join(' ', new[] { _program }.Concat(_args));

    /// <summary>The line most recently written to the program.</summary>
    public string? LastRequest => _lastRequest;

    public async Task<IReadOnlyList<OracleResult>> AskAsync(IReadOnlyList<OracleRequest> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0) return [];
        using var span = OracleTelemetry.StartCall(Identity, batch);
        OracleTelemetry.CountQuestions(Identity, batch.Count);
        var ids = batch.Select(r => r.AmbNodeId).ToList();
        await _one.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var p = EnsureStarted();
            string line = OracleJson.Serialize(batch);
            _lastRequest = line;
            _events.Report(new OracleEvent { Kind = OracleEventKind.Attempt, Oracle = Identity, AmbNodeIds = ids, Attempt = 1 });
            var watch = Stopwatch.StartNew();
            try
            {
                await p.StandardInput.WriteLineAsync(line.AsMemory(), cancellationToken).ConfigureAwait(false);
                await p.StandardInput.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException)
            {
                throw await DiedAsync(p, span).ConfigureAwait(false);
            }

            ReplyLine reply;
            try
            {
                reply = await _reader!.ReadLineAsync(MaxReplyBytes, cancellationToken).WaitAsync(Timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Stop(p);
                string msg = $"the oracle process '{_program}' did not answer within {Timeout.TotalSeconds:0.###} s; it was stopped and will be started again";
                OracleTelemetry.Fail(span, "timeout", msg);
                return ErrorAll(batch, "timeout", msg);
            }
            if (reply.EndOfStream) throw await DiedAsync(p, span).ConfigureAwait(false);

            _events.Report(new OracleEvent { Kind = OracleEventKind.Response, Oracle = Identity, AmbNodeIds = ids, Attempt = 1, Duration = watch.Elapsed });
            if (reply.Text == null)
            {
                string msg = $"the oracle process '{_program}' sent a malformed reply: a line of {reply.Length} bytes, longer than the limit of {MaxReplyBytes} bytes (--max-reply-bytes)";
                OracleTelemetry.Fail(span, "invalid", msg);
                return ErrorAll(batch, "invalid", msg);
            }
            IReadOnlyList<OracleResult> parsed;
            try
            {
                parsed = OracleJson.ParseResults(reply.Text);
            }
            catch (ProtocolException e)
            {
                string msg = $"the oracle process '{_program}' sent a malformed reply ({e.Message}): {Clip(reply.Text)}";
                OracleTelemetry.Fail(span, "invalid", msg);
                return ErrorAll(batch, "invalid", msg);
            }
            return Match(batch, parsed);
        }
        finally
        {
            _one.Release();
        }
    }

    private IReadOnlyList<OracleResult> Match(IReadOnlyList<OracleRequest> batch, IReadOnlyList<OracleResult> parsed)
    {
        var byId = new Dictionary<string, OracleResult>(StringComparer.Ordinal);
        foreach (var r in parsed) byId.TryAdd(r.AmbNodeId, r);
        var results = new List<OracleResult>(batch.Count);
        foreach (var req in batch)
        {
            if (byId.TryGetValue(req.AmbNodeId, out var r)) { results.Add(r); continue; }
            string msg = $"the oracle process '{_program}' sent no answer for {req.AmbNodeId}";
            _events.Report(new OracleEvent { Kind = OracleEventKind.Missing, Oracle = Identity, AmbNodeIds = [req.AmbNodeId], Message = msg });
            results.Add(new OracleError(req.AmbNodeId, "invalid", msg));
        }
        return results;
    }

    private IReadOnlyList<OracleResult> ErrorAll(IReadOnlyList<OracleRequest> batch, string kind, string msg)
    {
        _events.Report(new OracleEvent { Kind = OracleEventKind.Error, Oracle = Identity, AmbNodeIds = batch.Select(r => r.AmbNodeId).ToList(), Reason = kind, Message = msg });
        OracleTelemetry.Errors.Add(batch.Count, new KeyValuePair<string, object?>(OracleTelemetry.OracleName, Identity));
        return batch.Select(r => (OracleResult)new OracleError(r.AmbNodeId, kind, msg)).ToList();
    }

    private async Task<OracleProcessException> DiedAsync(Process p, Activity? span)
    {
        // stdout closed: the process is gone or going; give it a moment to report its status.
        try { await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false); }
        catch (TimeoutException) { Stop(p); }
        int? status = p.HasExited ? p.ExitCode : null;
        _process = null;
        string msg = $"the oracle process '{_program}' exited{(status != null ? $" with status {status}" : "")} before answering; the last request it was sent: {Clip(_lastRequest ?? "(none)", 2000)}";
        _events.Report(new OracleEvent { Kind = OracleEventKind.Process, Oracle = Identity, Status = status, Reason = "exited", Message = msg });
        OracleTelemetry.Fail(span, "process_exited", msg);
        p.Dispose();
        return new OracleProcessException(msg, status, _lastRequest);
    }

    private Process EnsureStarted()
    {
        if (_process is { HasExited: false }) return _process;
        var psi = new ProcessStartInfo(_program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var a in _args) psi.ArgumentList.Add(a);
        var p = new Process { StartInfo = psi };
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data == null) return;
            lock (_logGate)
            {
                _log.WriteLine($"[{Path.GetFileName(_program)}] {e.Data}");
                _log.Flush();
            }
        };
        try
        {
            p.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new OracleProcessException($"cannot start the oracle process '{_program}': {e.Message}", null, null);
        }
        p.BeginErrorReadLine();
        _process = p;
        _reader = new ReplyReader(p.StandardOutput.BaseStream);
        _events.Report(new OracleEvent { Kind = OracleEventKind.Process, Oracle = Identity, Reason = "started", Message = $"started '{_program}' (pid {p.Id})" });
        return p;
    }

    private void Stop(Process p)
    {
        try { if (!p.HasExited) p.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        if (ReferenceEquals(_process, p)) _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        var p = _process;
        _process = null;
        if (p == null) return;
        try
        {
            p.StandardInput.Close();
            await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or IOException or InvalidOperationException)
        {
            Stop(p);
        }
        p.Dispose();
    }

    private static string Clip(string s, int max = 500) => s.Length > max ? s[..max] + "..." : s;

    /// <summary>Splits "prog 'a b' c" into words: single or double quotes group, backslash escapes in double quotes.</summary>
    public static IReadOnlyList<string> SplitCommandLine(string s)
    {
        var words = new List<string>();
        var cur = new StringBuilder();
        bool inWord = false;
        char quote = '\0';
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                else if (c == '\\' && quote == '"' && i + 1 < s.Length) cur.Append(s[++i]);
                else cur.Append(c);
            }
            else if (c is '\'' or '"') { quote = c; inWord = true; }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord) { words.Add(cur.ToString()); cur.Clear(); inWord = false; }
            }
            else if (c == '\\' && i + 1 < s.Length) { cur.Append(s[++i]); inWord = true; }
            else { cur.Append(c); inWord = true; }
        }
        if (quote != '\0') throw new ArgumentException($"unterminated {quote} quote in the command line, expected a closing {quote}");
        if (inWord) words.Add(cur.ToString());
        return words;
    }
}

/// <summary>One line from the oracle process: its text, or null (with its length) when it was too long; or the end of its output.</summary>
internal readonly record struct ReplyLine(string? Text, long Length, bool EndOfStream);

/// <summary>Reads newline-ended UTF-8 lines with a limit on their length; what is over the limit is skipped, not kept.</summary>
internal sealed class ReplyReader(Stream stream)
{
    private readonly byte[] _buf = new byte[64 * 1024];
    private int _start, _end;

    public async Task<ReplyLine> ReadLineAsync(int maxBytes, CancellationToken ct)
    {
        var line = new MemoryStream();
        long length = 0;
        while (true)
        {
            if (_start == _end)
            {
                _start = 0;
                _end = await stream.ReadAsync(_buf, ct).ConfigureAwait(false);
                if (_end == 0)
                {
                    if (length == 0) return new ReplyLine(null, 0, EndOfStream: true);
                    break; // a last line without a newline
                }
            }
            int nl = Array.IndexOf(_buf, (byte)'\n', _start, _end - _start);
            int stop = nl < 0 ? _end : nl;
            int n = stop - _start;
            if (length + n <= maxBytes) line.Write(_buf, _start, n);
            length += n;
            _start = nl < 0 ? _end : nl + 1;
            if (nl >= 0) break;
        }
        if (length > maxBytes) return new ReplyLine(null, length, false);
        var bytes = line.GetBuffer().AsSpan(0, (int)line.Length);
        if (bytes.Length > 0 && bytes[^1] == (byte)'\r') bytes = bytes[..^1];
        return new ReplyLine(Encoding.UTF8.GetString(bytes), length, false);
    }
}

/// <summary>The process oracle died or could not start: a runtime fault that ends the run.</summary>
public sealed class OracleProcessException(string message, int? exitStatus, string? lastRequest) : Exception(message)
{
    public int? ExitStatus { get; } = exitStatus;
    public string? LastRequest { get; } = lastRequest;
}
