using System.Security.Cryptography;
using System.Text;

namespace Lmn.Semantic;

/// <summary>
/// Embeddings of glosses by text: in memory, and in one file beside the answer cache
/// (`.lmn/cache/embeddings-MODEL.bin`). The file ends with a SHA-256 of what precedes it; a missing,
/// short, foreign or damaged file is ignored (and rewritten on the next save), never fatal.
/// </summary>
public sealed class EmbeddingCache
{
    private static readonly byte[] Magic = "LMNEMB1\n"u8.ToArray();
    private readonly Dictionary<string, float[]> _memory = new(StringComparer.Ordinal);
    private readonly object _lock = new();
    private bool _loaded;
    private int _unsaved;

    /// <param name="directory">The answer cache's directory; null for memory only.</param>
    public EmbeddingCache(string? directory, string modelName)
    {
        FilePath = directory == null ? null : Path.Combine(directory, $"embeddings-{modelName}.bin");
    }

    public string? FilePath { get; }

    /// <summary>What happened when the file was read: "", "missing", "loaded N", or "ignored: why".</summary>
    public string LoadNote { get; private set; } = "";

    public int Count
    {
        get { lock (_lock) { EnsureLoaded(); return _memory.Count; } }
    }

    public bool TryGet(string text, out float[] vector)
    {
        lock (_lock)
        {
            EnsureLoaded();
            return _memory.TryGetValue(text, out vector!);
        }
    }

    public void Put(string text, float[] vector)
    {
        lock (_lock)
        {
            EnsureLoaded();
            if (_memory.TryAdd(text, vector)) _unsaved++;
        }
    }

    /// <summary>Writes the file if anything was added (to a temporary file, then renamed). IO errors are ignored.</summary>
    public void Save()
    {
        if (FilePath == null) return;
        byte[] bytes;
        lock (_lock)
        {
            if (_unsaved == 0) return;
            bytes = Serialise();
            _unsaved = 0;
        }
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(FilePath))!);
            string tmp = FilePath + "." + Environment.ProcessId + ".tmp";
            File.WriteAllBytes(tmp, bytes);
            File.Move(tmp, FilePath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The cache is an optimisation: a read-only or full disk only costs time.
        }
    }

    private void EnsureLoaded()
    {
        if (_loaded) return;
        _loaded = true;
        if (FilePath == null) return;
        if (!File.Exists(FilePath))
        {
            LoadNote = "missing";
            return;
        }
        try
        {
            var entries = Deserialise(File.ReadAllBytes(FilePath));
            foreach (var (t, v) in entries) _memory.TryAdd(t, v);
            LoadNote = $"loaded {entries.Count}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or EndOfStreamException or ArgumentException)
        {
            LoadNote = "ignored: " + e.Message;
            _unsaved = Math.Max(_unsaved, 1); // rewrite it on the next save
        }
    }

    private byte[] Serialise()
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(_memory.Count);
            foreach (var (text, v) in _memory.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                w.Write(text);
                w.Write(v.Length);
                foreach (float x in v) w.Write(x);
            }
        }
        byte[] body = ms.ToArray();
        return [.. body, .. SHA256.HashData(body)];
    }

    private static List<(string, float[])> Deserialise(byte[] bytes)
    {
        if (bytes.Length < Magic.Length + 4 + 32 || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new InvalidDataException("not an embedding cache file");
        var body = bytes.AsSpan(0, bytes.Length - 32);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - 32)))
            throw new InvalidDataException("checksum mismatch");
        using var r = new BinaryReader(new MemoryStream(bytes, Magic.Length, body.Length - Magic.Length), Encoding.UTF8);
        int n = r.ReadInt32();
        if (n < 0) throw new InvalidDataException("negative count");
        var list = new List<(string, float[])>(Math.Min(n, 100_000));
        for (int i = 0; i < n; i++)
        {
            string text = r.ReadString();
            int dim = r.ReadInt32();
            if (dim is <= 0 or > 4096) throw new InvalidDataException("bad dimension");
            var v = new float[dim];
            for (int j = 0; j < dim; j++) v[j] = r.ReadSingle();
            list.Add((text, v));
        }
        return list;
    }
}
