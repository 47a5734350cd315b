using System.Collections.Concurrent;
using System.Text.Json;
using Lmn.Tests.Llm;

namespace Lmn.Tests;

/// <summary>One question of a prompt as a fake server reads it: its id, its candidates and the @msg it was asked about.</summary>
public sealed record AskedQuestion(string Id, IReadOnlyList<string> Candidates, string? Message);

/// <summary>
/// Fake LLM endpoints that answer the prompts the real SDKs send (either wire format): every question
/// of a call gets an answer, chosen from its @msg so that a wrong pairing of answers and inputs shows.
/// </summary>
public static class ScalingUtil
{
    /// <summary>The questions of a recorded call, read from its user message.</summary>
    public static List<AskedQuestion> Questions(Recorded r)
    {
        var root = r.Json;
        string user = "";
        foreach (var m in root.GetProperty("messages").EnumerateArray())
        {
            if (m.GetProperty("role").GetString() != "user") continue;
            var c = m.GetProperty("content");
            user = c.ValueKind == JsonValueKind.String ? c.GetString()!
                : string.Concat(c.EnumerateArray().Where(b => b.TryGetProperty("text", out _)).Select(b => b.GetProperty("text").GetString()));
        }
        var list = new List<AskedQuestion>();
        string? id = null, msg = null;
        List<string>? cands = null;
        void Flush()
        {
            if (id != null) list.Add(new AskedQuestion(id, cands ?? [], msg));
            id = null; msg = null; cands = null;
        }
        foreach (var raw in user.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (line.StartsWith("amb_node_id: ", StringComparison.Ordinal)) { Flush(); id = line["amb_node_id: ".Length..].Trim(); }
            else if (line.StartsWith("Candidates: ", StringComparison.Ordinal)) cands = line["Candidates: ".Length..].Split(", ").Select(s => s.Trim()).ToList();
            else if (line.StartsWith("  @msg = ", StringComparison.Ordinal)) msg = line["  @msg = ".Length..].Trim().Trim('"');
        }
        Flush();
        return list;
    }

    /// <summary>joy for a message with "happy" in it, else the last candidate.</summary>
    public static string Pick(AskedQuestion q) => q.Message != null && q.Message.Contains("happy") ? q.Candidates[0] : q.Candidates[^1];

    /// <summary>A responder for <see cref="FakeLlmServer"/>: answers every question of the call after the delay, in the server's wire format.</summary>
    public static Func<Recorded, Scripted> Answering(bool anthropic, TimeSpan delay = default, ConcurrentBag<string>? answered = null) => r =>
    {
        var qs = Questions(r);
        foreach (var q in qs) answered?.Add(q.Message ?? q.Id);
        string content = Wire.Batch(qs.Select(q => (q.Id, Pick(q), 0.9)).ToArray());
        if (qs.Count == 1) content = Wire.Answer(Pick(qs[0]), 0.9);
        return new Scripted(200, anthropic ? Wire.AnthropicMessage(content) : Wire.OpenAiCompletion(content), null, delay);
    };

    public static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "lmn-scale-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>A jsonl file of n inputs {"msg": "..."}; every third one is happy.</summary>
    public static string Inputs(string dir, int n, string tag, string name = "inputs.jsonl")
    {
        string path = Path.Combine(dir, name);
        File.WriteAllLines(path, Enumerable.Range(1, n).Select(k => JsonSerializer.Serialize(new { msg = $"{(k % 3 == 0 ? "happy" : "plain")} message {k} {tag}" })));
        return path;
    }

    /// <summary>The value an input's line must hold: the message and the answer the fake endpoints give for it.</summary>
    public static string Expected(int k, string tag)
    {
        string msg = $"{(k % 3 == 0 ? "happy" : "plain")} message {k} {tag}";
        return $"fir[\"{msg}\", {(msg.Contains("happy") ? "joy" : "pai")}]";
    }

    public const string Program = "fir[@msg, ∿lov[joy, pai]]\n";
}
