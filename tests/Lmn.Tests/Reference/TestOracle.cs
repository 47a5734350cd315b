using System.Collections.Concurrent;
using System.Text;
using Lmn.Oracles;

namespace Lmn.Tests.Reference;

/// <summary>
/// The deterministic oracle of the reference tests: its answer is a function of the question's
/// expression and anchor bindings only (never of ids, order or location). A choice question gets the
/// candidate at index stable-hash % n; an open question gets the string "open". It records every
/// request it is asked (expression, bindings, location), so the compiled side's questions can be compared.
/// </summary>
public sealed class TestOracle : IOracle
{
    public string Identity => "reference-test";

    private readonly ConcurrentQueue<OracleRequest> _asked = new();

    public IReadOnlyList<OracleRequest> Asked => _asked.ToList();

    public const string OpenAnswer = "\"open\"";

    /// <summary>Sorted `@name=value` pairs joined by `;` (the same text as <see cref="RefQuestion.Bindings"/>).</summary>
    public static string BindingsText(IReadOnlyDictionary<string, string> bindings) =>
        string.Join(";", bindings.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value));

    /// <summary>FNV-1a over UTF-8: stable across runs and platforms (string.GetHashCode is not).</summary>
    public static uint StableHash(string s)
    {
        uint h = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(s)) h = (h ^ b) * 16777619;
        return h;
    }

    public static string Answer(string kind, string expression, IReadOnlyList<string> args, IReadOnlyDictionary<string, string> bindings)
    {
        if (kind != "choice" || args.Count == 0) return OpenAnswer;
        string key = CacheKey.NormaliseSpaces(expression) + "\u001f" + BindingsText(bindings);
        return args[(int)(StableHash(key) % (uint)args.Count)];
    }

    public Task<IReadOnlyList<OracleResult>> AskAsync(IReadOnlyList<OracleRequest> batch, CancellationToken cancellationToken)
    {
        var results = new List<OracleResult>();
        foreach (var r in batch)
        {
            _asked.Enqueue(r);
            results.Add(new OracleResponse(r.AmbNodeId, Answer(r.Kind, r.Expression, r.Args, r.LexicalBindings),
                new OracleMetadata { Confidence = 1.0, Model = Identity, Reasoning = "hash of the question" }));
        }
        return Task.FromResult<IReadOnlyList<OracleResult>>(results);
    }
}

/// <summary>Records every request another oracle is asked.</summary>
public sealed class RecordingOracle(IOracle inner) : IOracle
{
    private readonly ConcurrentQueue<OracleRequest> _asked = new();

    public string Identity => inner.Identity;

    public IReadOnlyList<OracleRequest> Asked => _asked.ToList();

    public Task<IReadOnlyList<OracleResult>> AskAsync(IReadOnlyList<OracleRequest> batch, CancellationToken cancellationToken)
    {
        foreach (var r in batch) _asked.Enqueue(r);
        return inner.AskAsync(batch, cancellationToken);
    }
}
