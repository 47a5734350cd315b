using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Lmn.Oracles;

/// <summary>One line of a transcript.</summary>
public sealed record TranscriptEntry(DateTimeOffset Timestamp, string RunId, string Type, string? Key, OracleRequest? Request, OracleResult? Result, string? Note);

/// <summary>
/// The record of a run (ORACLE-PROTOCOL.md, "Transcript"): JSON lines, one per request, response, error,
/// retry, fallback or cache hit, each with a timestamp and the run id, appended and flushed at once, so
/// that an answer is on disk before it is grafted and a killed run resumes without asking again.
/// </summary>
public sealed class Transcript : IDisposable
{
    public const string Request = "request", Response = "response", Error = "error", Retry = "retry",
        CacheHit = "cache_hit", Fallback = "fallback", Escalation = "escalation", Invalid = "invalid";

    private readonly FileStream _file;
    private readonly object _lock = new();

    /// <summary>
    /// Opens (or creates) the transcript for appending, as its only writer: a second run that opens the
    /// same file gets <see cref="TranscriptInUseException"/>. A torn last line (a run killed in the middle
    /// of writing it) is cut off first, and a `repair` line says how many bytes went, so that what this
    /// run appends starts on a line of its own.
    /// </summary>
    public Transcript(string path, string runId)
    {
        Path = path;
        RunId = runId;
        string? dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (dir != null) Directory.CreateDirectory(dir);
        // Unbuffered: each line is one write(2), so nothing is left in a buffer to fail at Dispose and a
        // line reaches the operating system whole.
        _file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
        try
        {
            // An exclusive record lock (fcntl) over the whole file: advisory, so readers (replay, tail,
            // tests) are not disturbed, but a second lmn run writing the same transcript is refused.
            if (!OperatingSystem.IsMacOS()) _file.Lock(0, LockLength);
        }
        catch (IOException)
        {
            _file.Dispose();
            throw new TranscriptInUseException(path);
        }
        catch (PlatformNotSupportedException) { }
        try
        {
            TornBytes = RepairTail();
            _file.Seek(0, SeekOrigin.End);
        }
        catch
        {
            _file.Dispose();
            throw;
        }
        if (TornBytes > 0) Write("repair", null, null, null, $"cut a torn last line of {TornBytes} byte(s) left by an interrupted run");
    }

    private const long LockLength = long.MaxValue / 2;

    /// <summary>Bytes of a torn last line that were cut off when the transcript was opened.</summary>
    public long TornBytes { get; }

    private long RepairTail()
    {
        long len = _file.Length;
        if (len == 0 || !_file.CanSeek) return 0;
        var buf = new byte[Math.Min(len, 64 * 1024)];
        long end = len;
        while (end > 0)
        {
            int n = (int)Math.Min(buf.Length, end);
            _file.Seek(end - n, SeekOrigin.Begin);
            _file.ReadExactly(buf, 0, n);
            if (end == len && buf[n - 1] == (byte)'\n') return 0;
            int nl = Array.LastIndexOf(buf, (byte)'\n', n - 1);
            if (nl >= 0)
            {
                long keep = end - n + nl + 1;
                _file.SetLength(keep);
                return len - keep;
            }
            end -= n;
        }
        _file.SetLength(0);
        return len;
    }

    /// <summary>The entries already in the file (read through this writer's handle, so its lock holds).</summary>
    public List<TranscriptEntry> ReadExisting()
    {
        lock (_lock)
        {
            // Exactly Length bytes: a device such as /dev/full or /dev/zero reads as endless zeros.
            long len = _file.CanSeek ? _file.Length : 0;
            if (len == 0) return [];
            if (len > int.MaxValue) throw new IOException($"{Path}: a transcript of {len} bytes is too large to resume from");
            var bytes = new byte[len];
            _file.Seek(0, SeekOrigin.Begin);
            _file.ReadExactly(bytes);
            _file.Seek(0, SeekOrigin.End);
            using var reader = new StreamReader(new MemoryStream(bytes), Encoding.UTF8);
            return Parse(reader, Path);
        }
    }

    public string Path { get; }
    public string RunId { get; }

    /// <summary>Appends one line and flushes it to the operating system (it survives the process being killed).</summary>
    public void Write(string type, string? key, OracleRequest? request, OracleResult? result, string? note = null)
    {
        var buf = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buf, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("ts", DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("run", RunId);
            w.WriteString("type", type);
            if (key != null) w.WriteString("key", key);
            if (request != null)
            {
                w.WritePropertyName("request");
                OracleJson.WriteRequest(w, request);
            }
            if (result != null)
            {
                w.WritePropertyName("result");
                using var doc = JsonDocument.Parse(OracleJson.Serialize([result]));
                doc.RootElement.WriteTo(w);
            }
            if (note != null) w.WriteString("note", note);
            w.WriteEndObject();
        }
        buf.Write("\n"u8);
        Append(buf.WrittenSpan);
    }

    private void Append(ReadOnlySpan<byte> line)
    {
        lock (_lock)
        {
            try
            {
                _file.Write(line);
            }
            catch (IOException e)
            {
                throw new TranscriptWriteException(Path, e);
            }
        }
    }

    /// <summary>Appends a resolver event (attempt, retry, error, escalation ...) as a line of its own.</summary>
    public void WriteEvent(OracleEvent e)
    {
        string json = e.ToJson();
        string kind = e.Kind switch { OracleEventKind.Retry => Retry, OracleEventKind.Error => Error, OracleEventKind.Escalation => Escalation, _ => "event" };
        string line = "{\"ts\":\"" + DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture) + "\",\"run\":" +
            JsonSerializer.Serialize(RunId) + ",\"type\":\"" + kind + "\",\"event\":" + json + "}";
        Append(Encoding.UTF8.GetBytes(line + "\n"));
    }

    public void Dispose() => _file.Dispose();

    /// <summary>Reads a transcript; a torn last line (the run was killed mid-write) is skipped.</summary>
    public static List<TranscriptEntry> Read(string path)
    {
        var list = new List<TranscriptEntry>();
        if (!File.Exists(path)) return list;
        if ((File.GetAttributes(path) & FileAttributes.Directory) != 0) throw new IOException($"{path} is a directory, not a transcript");
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (!fs.CanSeek || fs.Length == 0) return list; // a device or a pipe has no transcript in it
        using var reader = new StreamReader(fs, Encoding.UTF8);
        return Parse(reader, path);
    }

    private static List<TranscriptEntry> Parse(StreamReader reader, string path)
    {
        var list = new List<TranscriptEntry>();
        int lineNo = 0;
        string? line;
        while ((line = reader.ReadLine()) != null)
        {
            lineNo++;
            if (line.Length == 0) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                var e = doc.RootElement;
                OracleRequest? req = e.TryGetProperty("request", out var r)
                    ? OracleJson.ParseRequests("{\"oracle_request\":" + r.GetRawText() + "}")[0] : null;
                OracleResult? res = e.TryGetProperty("result", out var x) ? OracleJson.ParseResults(x.GetRawText())[0] : null;
                list.Add(new TranscriptEntry(
                    DateTimeOffset.Parse(e.GetProperty("ts").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
                    e.GetProperty("run").GetString()!, e.GetProperty("type").GetString()!,
                    e.TryGetProperty("key", out var k) ? k.GetString() : null, req, res,
                    e.TryGetProperty("note", out var n) ? n.GetString() : null));
            }
            catch (Exception ex) when (ex is JsonException or ProtocolException or KeyNotFoundException or FormatException or InvalidOperationException)
            {
                if (reader.Peek() < 0) break; // a torn last line
                throw new ProtocolException($"{path}:{lineNo}: not a transcript line: {ex.Message}");
            }
        }
        return list;
    }
}

/// <summary>Another run holds the transcript open for writing.</summary>
public sealed class TranscriptInUseException(string path)
    : IOException($"another lmn run is writing this transcript; wait for it to finish or give another --transcript file")
{
    public string TranscriptPath { get; } = path;
}

/// <summary>A line could not be written to the transcript (a full disk, a device that refuses writes): the run stops.</summary>
public sealed class TranscriptWriteException(string path, IOException inner)
    : IOException($"cannot write the transcript {path}: {inner.Message}", inner)
{
    public string TranscriptPath { get; } = path;
}
