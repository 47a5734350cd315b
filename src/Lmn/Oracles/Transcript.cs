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

    public Transcript(string path, string runId)
    {
        Path = path;
        RunId = runId;
        string? dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (dir != null) Directory.CreateDirectory(dir);
        _file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
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
        lock (_lock)
        {
            _file.Write(buf.WrittenSpan);
            _file.WriteByte((byte)'\n');
            _file.Flush();
        }
    }

    /// <summary>Appends a resolver event (attempt, retry, error, escalation ...) as a line of its own.</summary>
    public void WriteEvent(OracleEvent e)
    {
        string json = e.ToJson();
        string kind = e.Kind switch { OracleEventKind.Retry => Retry, OracleEventKind.Error => Error, OracleEventKind.Escalation => Escalation, _ => "event" };
        string line = "{\"ts\":\"" + DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture) + "\",\"run\":" +
            JsonSerializer.Serialize(RunId) + ",\"type\":\"" + kind + "\",\"event\":" + json + "}";
        lock (_lock)
        {
            _file.Write(Encoding.UTF8.GetBytes(line));
            _file.WriteByte((byte)'\n');
            _file.Flush();
        }
    }

    public void Dispose() => _file.Dispose();

    /// <summary>Reads a transcript; a torn last line (the run was killed mid-write) is skipped.</summary>
    public static List<TranscriptEntry> Read(string path)
    {
        var list = new List<TranscriptEntry>();
        if (!File.Exists(path)) return list;
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(fs, Encoding.UTF8);
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
