using Lmn.Oracles;

namespace Lmn.Llm;

/// <summary>
/// Routes easy questions to the cheaper model (`--small-model`). Easy means: a choice question with at
/// most <see cref="MaxCandidates"/> candidates (default 4) whose context (expression, candidates, anchors,
/// glosses and trace, in characters) is at most <see cref="MaxContextChars"/> (default 600). Open
/// questions always go to the main model.
/// </summary>
public sealed class ModelRouter(string model, string? smallModel)
{
    public string Model { get; } = model;
    public string? SmallModel { get; } = smallModel;
    public int MaxCandidates { get; init; } = 4;
    public int MaxContextChars { get; init; } = 600;

    public bool IsEasy(OracleRequest r) =>
        r.Kind == "choice" && r.Args.Count >= 1 && r.Args.Count <= MaxCandidates && ContextChars(r) <= MaxContextChars;

    /// <summary>The model that answers this request.</summary>
    public string Pick(OracleRequest r) => SmallModel != null && IsEasy(r) ? SmallModel : Model;

    /// <summary>How much context a request carries, in characters.</summary>
    public static int ContextChars(OracleRequest r)
    {
        int n = r.Expression.Length + (r.TypeExpected?.Length ?? 0);
        foreach (var a in r.Args) n += a.Length + 2;
        foreach (var (k, v) in r.LexicalBindings) n += k.Length + v.Length + 3;
        foreach (var (k, v) in r.TypeEnvironment) n += k.Length + v.Length + 2;
        foreach (var t in r.ReductionTrace) n += t.Length + 3;
        return n;
    }
}
