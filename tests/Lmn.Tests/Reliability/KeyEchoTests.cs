using Lmn.Tests.Llm;

namespace Lmn.Tests.Reliability;

/// <summary>Issue 11, item 5: whatever field a server echoes the API key in, no stored or printed text holds it.</summary>
public class KeyEchoTests
{
    private const string Key = "TESTKEY-5e1f0c9d8b7a6e5f";

    private static string Reply(string field, bool anthropic)
    {
        string answer = field switch
        {
            "substitution" => Wire.Answer(Key, 0.9, "fits"),
            "alternatives" => Wire.Answer("joy", 0.9, "fits", "pai", Key),
            "reasoning" => Wire.Answer("joy", 0.9, "the key is " + Key),
            _ => Wire.Answer("joy", 0.9, "fits"),
        };
        string model = field == "model" ? "model-" + Key : "m1";
        return anthropic ? Wire.AnthropicMessage(answer, model: model) : Wire.OpenAiCompletion(answer, model: model);
    }

    [Theory]
    [InlineData("model", false)]
    [InlineData("alternatives", false)]
    [InlineData("substitution", false)]
    [InlineData("reasoning", false)]
    [InlineData("model", true)]
    [InlineData("substitution", true)]
    public async Task NeverStoredOrShown(string field, bool anthropic)
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Responder = _ => new Scripted(200, Reply(field, anthropic));
        string dir = CliProcess.TempDir();
        try
        {
            string program = Path.Combine(dir, "p.lmn");
            File.WriteAllText(program, "∿lov[joy, pai]\n");
            string transcript = Path.Combine(dir, "t.jsonl"), cache = Path.Combine(dir, "cache");
            var env = new Dictionary<string, string> { [anthropic ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY"] = Key };
            var (code, stdout, stderr) = CliProcess.Run(["run", program, "--oracle", anthropic ? "anthropic" : "openai",
                "--base-url", anthropic ? s.Url : s.Url + "/v1", "--retries", "0", "--transcript", transcript, "--cache-dir", cache, "--trace", "-s"], env);
            Assert.True(s.Requests.Count > 0, stderr);
            Assert.True(field == "substitution" ? code == 1 : code == 0, stderr);
            Assert.DoesNotContain(Key, stdout);
            Assert.DoesNotContain(Key, stderr);
            Assert.DoesNotContain(Key, File.ReadAllText(transcript));
            if (Directory.Exists(cache))
                foreach (var f in Directory.GetFiles(cache, "*", SearchOption.AllDirectories))
                    Assert.DoesNotContain(Key, File.ReadAllText(f));
            Assert.Contains("[redacted]", File.ReadAllText(transcript));
        }
        finally { Directory.Delete(dir, true); }
    }
}
