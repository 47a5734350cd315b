using System.Text;
using System.Text.Json;

namespace Lmn.Oracles;

/// <summary>
/// A cache tier shared by processes and machines (PostgreSQL, in src/Lmn.Postgres), behind the memory
/// and file tiers: the same keys and entry text as the file cache. Claims make processes that ask the
/// same question at once pay one oracle call: the first claims the key and the others wait for its
/// answer; a claim ends when it is released or its owner's connection closes (its process died). A
/// tier whose server is unreachable answers nothing, claims everything for the caller and sets
/// <see cref="Warning"/>: the run goes on with the local tiers. Nothing here throws for a server failure.
/// </summary>
public interface ISharedCacheTier : IDisposable
{
    /// <summary>Where it is, without credentials (for messages).</summary>
    string Name { get; }
    /// <summary>Why the tier stopped working, once it has; null while it works.</summary>
    string? Warning { get; }
    /// <summary>How long a question claimed by another process is waited for before it is asked here too.</summary>
    TimeSpan ClaimWait { get; }
    /// <summary>The entries found for the keys (key to entry text).</summary>
    Task<IReadOnlyDictionary<string, string>> GetAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken);
    /// <summary>Stores an entry (written before any later <see cref="Release"/> takes effect).</summary>
    void Put(string key, string entry, IReadOnlyCollection<string> anchors);
    /// <summary>Claims the keys no other process has claimed; returns the ones this process now holds.</summary>
    Task<IReadOnlySet<string>> ClaimAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken);
    void Release(IReadOnlyCollection<string> keys);
    /// <summary>Waits until every Put and Release so far has reached the server (or the tier failed).</summary>
    void Flush();
    (int Entries, long Bytes) Stats();
    int Clear();
    int PurgeBinding(string anchor);
    /// <summary>Counters for `--stats` as `key: value` lines.</summary>
    IEnumerable<string> StatsLines();
}

/// <summary>
/// Answers already given, by cache key (see <see cref="CacheKey"/>): in memory, and in files under a
/// directory (one JSON file per key, written to a temporary file and renamed, so a crash never leaves
/// half an entry). Each entry keeps the expression and anchor bindings it depended on, so that
/// `lmn cache purge --binding now` can remove exactly the answers that depended on @now.
/// </summary>
public sealed class OracleCache
{
    private readonly Dictionary<string, (OracleResponse Response, IReadOnlyDictionary<string, string> Bindings)> _memory = new(StringComparer.Ordinal);
    private readonly object _lock = new();

    /// <param name="directory">Where the file cache lives (e.g. `.lmn/cache`); null for memory only.</param>
    public OracleCache(string? directory)
    {
        Directory = directory;
    }

    public string? Directory { get; }

    /// <summary>The shared tier behind memory and files, if any.</summary>
    public ISharedCacheTier? Shared { get; init; }

    /// <summary>
    /// Looks keys up in the shared tier; what is found is parsed and copied into the memory
    /// tier. A damaged entry is a miss.
    /// </summary>
    public async Task<Dictionary<string, OracleResponse>> GetSharedAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, OracleResponse>(StringComparer.Ordinal);
        if (Shared == null || keys.Count == 0) return found;
        var entries = await Shared.GetAsync(keys, cancellationToken).ConfigureAwait(false);
        foreach (var (key, text) in entries)
        {
            try
            {
                var (res, bindings) = ReadEntry(text);
                // Into memory only: the shared tier is the copy that lasts (writing every hit to files too
                // would cost a warm run more than the look-up does).
                lock (_lock) _memory[key] = (res, bindings);
                found[key] = res;
            }
            catch (Exception e) when (e is JsonException or ProtocolException or KeyNotFoundException or InvalidOperationException)
            {
            }
        }
        return found;
    }

    public bool TryGet(string key, out OracleResponse response)
    {
        lock (_lock)
        {
            if (_memory.TryGetValue(key, out var hit))
            {
                response = hit.Response;
                return true;
            }
        }
        if (Directory != null)
        {
            string path = PathOf(key);
            if (File.Exists(path))
            {
                try
                {
                    var (res, bindings) = ReadEntry(File.ReadAllText(path));
                    lock (_lock) _memory[key] = (res, bindings);
                    response = res;
                    return true;
                }
                catch (Exception e) when (e is JsonException or ProtocolException or IOException or UnauthorizedAccessException or KeyNotFoundException or InvalidOperationException)
                {
                    // A damaged entry is a miss; it is rewritten when the question is answered again.
                }
            }
        }
        response = null!;
        return false;
    }

    public void Put(string key, OracleRequest request, OracleResponse response)
    {
        lock (_lock) _memory[key] = (response, request.LexicalBindings);
        if (Directory == null && Shared == null) return;
        string entry = WriteEntry(key, request, response);
        Shared?.Put(key, entry, request.LexicalBindings.Keys.ToList());
        WriteFile(key, entry);
    }

    private void WriteFile(string key, string entry)
    {
        if (Directory == null) return;
        string path = PathOf(key);
        string tmp = path + "." + Environment.ProcessId + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        try
        {
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(tmp, entry);
            File.Move(tmp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The cache is an optimisation: a directory that cannot be written (read-only, full, not a
            // directory) leaves the answer in memory only, and the first reason is kept for a warning.
            lock (_lock) WriteError ??= e.Message;
            try { File.Delete(tmp); }
            catch (Exception d) when (d is IOException or UnauthorizedAccessException) { }
        }
    }

    /// <summary>Why the first entry could not be written to <see cref="Directory"/>; null if all were.</summary>
    public string? WriteError { get; private set; }

    /// <summary>Entries on disk (or in memory for a memory-only cache) and their total size.</summary>
    public (int Entries, long Bytes) Stats()
    {
        if (Directory == null) lock (_lock) return (_memory.Count, 0);
        if (!System.IO.Directory.Exists(Directory)) return (0, 0);
        var files = System.IO.Directory.GetFiles(Directory, "*.json", SearchOption.AllDirectories);
        return (files.Length, files.Sum(f => new FileInfo(f).Length));
    }

    /// <summary>Removes every entry; returns how many.</summary>
    public int Clear()
    {
        int n;
        lock (_lock)
        {
            n = _memory.Count;
            _memory.Clear();
        }
        if (Directory == null || !System.IO.Directory.Exists(Directory)) return n;
        var files = System.IO.Directory.GetFiles(Directory, "*.json", SearchOption.AllDirectories);
        foreach (var f in files) File.Delete(f);
        return Math.Max(n, files.Length);
    }

    /// <summary>Removes the entries whose question depended on the anchor @name; returns how many.</summary>
    public int PurgeBinding(string name)
    {
        string anchor = name.StartsWith('@') ? name : "@" + name;
        int removed = 0;
        lock (_lock)
        {
            foreach (var key in _memory.Where(kv => kv.Value.Bindings.ContainsKey(anchor)).Select(kv => kv.Key).ToList())
            {
                _memory.Remove(key);
                if (Directory == null) removed++;
            }
        }
        if (Directory == null || !System.IO.Directory.Exists(Directory)) return removed;
        foreach (var f in System.IO.Directory.GetFiles(Directory, "*.json", SearchOption.AllDirectories))
        {
            try
            {
                var (_, bindings) = ReadEntry(File.ReadAllText(f));
                if (!bindings.ContainsKey(anchor)) continue;
            }
            catch (Exception e) when (e is JsonException or ProtocolException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                continue;
            }
            File.Delete(f);
            removed++;
        }
        return removed;
    }

    private string PathOf(string key) => Path.Combine(Directory!, key[..2], key + ".json");

    private static string WriteEntry(string key, OracleRequest request, OracleResponse response)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("key", key);
            w.WriteString("expression", request.Expression);
            w.WriteString("kind", request.Kind);
            if (request.TypeExpected != null) w.WriteString("type_expected", request.TypeExpected);
            w.WriteStartObject("lexical_bindings");
            foreach (var (k, v) in request.LexicalBindings.OrderBy(kv => kv.Key, StringComparer.Ordinal)) w.WriteString(k, v);
            w.WriteEndObject();
            w.WritePropertyName("result");
            using var doc = JsonDocument.Parse(OracleJson.Serialize([response]));
            doc.RootElement.WriteTo(w);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static (OracleResponse, IReadOnlyDictionary<string, string>) ReadEntry(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var e = doc.RootElement;
        var bindings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in e.GetProperty("lexical_bindings").EnumerateObject()) bindings[p.Name] = p.Value.GetString() ?? "";
        var res = OracleJson.ParseResults(e.GetProperty("result").GetRawText())[0] as OracleResponse
            ?? throw new ProtocolException("a cache entry must hold an oracle_response");
        return (res, bindings);
    }
}
