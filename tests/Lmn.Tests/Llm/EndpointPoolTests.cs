using System.Collections.Concurrent;
using Lmn.Llm;
using Lmn.Oracles;
using Lmn.Tests.Llm;

namespace Lmn.Tests.Llm;

/// <summary>
/// The endpoint pool over fake servers of both wire formats on 127.0.0.1 (the real OpenAI and Anthropic
/// SDKs talk to them): different latencies, one that fails, limits honoured, no question lost or asked twice.
/// </summary>
public class EndpointPoolTests
{
    private static OracleRequest Q(int k) => new()
    {
        AmbNodeId = "amb#" + k,
        Kind = "choice",
        Expression = "∿lov[joy, pai]",
        Args = ["joy", "pai"],
        LexicalBindings = new Dictionary<string, string> { ["@msg"] = $"\"{(k % 3 == 0 ? "happy" : "plain")} message {k}\"" },
    };

    private static OracleOptions Options(string oracle = "openai") => OracleOptions.Parse(["--oracle", oracle, "--retries", "0", "--timeout", "10s"], out _);

    private static OracleEnvironment Env() => new()
    {
        GetEnvironmentVariable = v => v == AnthropicBackend.KeyVariable ? "sk-ant-test-key-not-real" : v == "SECOND_KEY" ? "sk-second-not-real" : null,
    };

    /// <summary>The SDK sends the key as x-api-key or as a bearer token.</summary>
    private static bool HasKey(Recorded r, string key) =>
        r.Headers.TryGetValue("x-api-key", out var k) ? k == key : r.Headers.GetValueOrDefault("authorization") == "Bearer " + key;

    [Fact]
    public async Task QuestionsSpreadOverBothWireFormatsAndAFailingEndpointLosesNothing()
    {
        await using var fast = await FakeLlmServer.StartAsync();
        await using var slow = await FakeLlmServer.StartAsync();
        await using var claude = await FakeLlmServer.StartAsync();
        await using var broken = await FakeLlmServer.StartAsync();
        var answered = new ConcurrentBag<string>();
        fast.Responder = ScalingUtil.Answering(false, TimeSpan.FromMilliseconds(10), answered);
        slow.Responder = ScalingUtil.Answering(false, TimeSpan.FromMilliseconds(150), answered);
        claude.Responder = ScalingUtil.Answering(true, TimeSpan.FromMilliseconds(40), answered);
        broken.Responder = _ => new Scripted(500, Wire.OpenAiError("The server had an error", "server_error", null));
        var specs = new List<EndpointSpec>
        {
            new() { Url = fast.Url + "/v1", MaxConcurrency = 2 },
            new() { Url = slow.Url + "/v1", MaxConcurrency = 2 },
            new() { Url = claude.Url, Provider = "anthropic", MaxConcurrency = 1 },
            new() { Url = broken.Url + "/v1", MaxConcurrency = 1, Weight = 10 },
        };
        var pool = EndpointPool.Create(Options(), specs, Env(), batchSize: 5);
        // First one call at a time: the broken endpoint (heaviest weight) is tried first each time until its
        // breaker opens after 3 failures in a row; its questions are answered elsewhere at once.
        var results = new List<OracleResult>();
        for (int c = 0; c < 6; c++)
            results.AddRange(await pool.AskAsync(Enumerable.Range(5 * c + 1, 5).Select(Q).ToList(), CancellationToken.None));
        Assert.Equal(3, broken.Requests.Count);
        Assert.Equal(1, pool.Endpoints[3].BreakerOpened);
        // Then many at once through the coalescer: the limits hold under load.
        var coalescer = new CoalescingOracle(pool, 5, capacity: 9);
        var asks = Enumerable.Range(31, 30).Select(k => coalescer.AskAsync([Q(k)], CancellationToken.None)).ToList();
        results.AddRange((await Task.WhenAll(asks)).Select(r => Assert.Single(r)));

        // Nothing lost: every question answered, with the answer for its own message.
        for (int k = 1; k <= 60; k++)
        {
            var ok = Assert.IsType<OracleResponse>(results[k - 1]);
            Assert.Equal("amb#" + k, ok.AmbNodeId);
            Assert.Equal(k % 3 == 0 ? "joy" : "pai", ok.Substitution);
        }
        // Nothing answered twice: the working servers answered each message once.
        Assert.Equal(60, answered.Count);
        Assert.Equal(60, answered.Distinct().Count());
        // The open breaker kept the broken endpoint out of the second phase.
        Assert.Equal(3, broken.Requests.Count);
        Assert.Equal(3, pool.Endpoints[3].Errors);
        // Limits: never more calls in flight than an endpoint allows; all working endpoints used; the fast one most.
        Assert.InRange(fast.MaxInFlight, 1, 2);
        Assert.InRange(slow.MaxInFlight, 1, 2);
        Assert.Equal(1, claude.MaxInFlight);
        Assert.All(new[] { fast, slow, claude }, s => Assert.NotEmpty(s.Requests));
        Assert.True(fast.Requests.Count > slow.Requests.Count, $"fast {fast.Requests.Count} slow {slow.Requests.Count}");
        Assert.Equal("/v1/messages", Assert.Single(claude.Requests.Select(r => r.Path).Distinct()));
        Assert.True(HasKey(claude.Requests[0], "sk-ant-test-key-not-real"));
        var stats = string.Join("\n", pool.StatsLines());
        Assert.Contains("endpoint_4: calls 3 questions ", stats);
        Assert.Contains(" errors 3 tokens 0 ", stats);
        Assert.Contains("endpoint_1: calls ", stats);
    }

    [Fact]
    public async Task RequestsPerMinuteAndTokensPerMinuteAreHonoured()
    {
        await using var limited = await FakeLlmServer.StartAsync();
        await using var tokens = await FakeLlmServer.StartAsync();
        await using var open = await FakeLlmServer.StartAsync();
        limited.Responder = ScalingUtil.Answering(false);
        // It reports 500 tokens a call: with 1000 a minute, the second call (estimated at 600) would exceed the limit.
        tokens.Responder = r => ScalingUtil.Answering(false)(r) is var a ? a with { Body = a.Body.Replace("\"prompt_tokens\":100", "\"prompt_tokens\":480") } : a;
        open.Responder = ScalingUtil.Answering(false, TimeSpan.FromMilliseconds(30));
        var pool = EndpointPool.Create(Options(), [
            new EndpointSpec { Url = limited.Url + "/v1", RequestsPerMinute = 2, Weight = 100, MaxConcurrency = 4 },
            // 2 questions estimated at 300 tokens each per call: 1000 tokens a minute admit one call.
            new EndpointSpec { Url = tokens.Url + "/v1", TokensPerMinute = 1000, Weight = 50, MaxConcurrency = 4 },
            new EndpointSpec { Url = open.Url + "/v1", MaxConcurrency = 2 },
        ], Env());
        var calls = Enumerable.Range(0, 12).Select(c => pool.AskAsync([Q(2 * c + 1), Q(2 * c + 2)], CancellationToken.None)).ToList();
        var all = (await Task.WhenAll(calls)).SelectMany(x => x).ToList();
        Assert.Equal(24, all.Count);
        Assert.All(all, r => Assert.IsType<OracleResponse>(r));
        Assert.Equal(2, limited.Requests.Count);
        Assert.Single(tokens.Requests);
        Assert.Equal(9, open.Requests.Count);
        Assert.Equal(500, pool.Endpoints[1].Tokens);
        Assert.InRange(open.MaxInFlight, 1, 2);
    }

    [Fact]
    public async Task EveryEndpointDownGivesErrorsNotAHang()
    {
        await using var a = await FakeLlmServer.StartAsync();
        await using var b = await FakeLlmServer.StartAsync();
        a.Responder = _ => new Scripted(503, Wire.OpenAiError("overloaded", "server_error", null));
        b.Responder = _ => new Scripted(500, Wire.OpenAiError("broken", "server_error", null));
        var pool = EndpointPool.Create(Options(), [new EndpointSpec { Url = a.Url + "/v1" }, new EndpointSpec { Url = b.Url + "/v1" }], Env());
        var res = await pool.AskAsync([Q(1), Q(2)], CancellationToken.None);
        Assert.All(res, r => Assert.Equal("unavailable", Assert.IsType<OracleError>(r).Kind));
        Assert.Single(a.Requests);
        Assert.Single(b.Requests);
    }

    [Fact]
    public async Task RunWithRepeatedEndpointAndEndpointsFileShowsPerEndpointStats()
    {
        await using var one = await FakeLlmServer.StartAsync();
        await using var two = await FakeLlmServer.StartAsync();
        one.Responder = ScalingUtil.Answering(false, TimeSpan.FromMilliseconds(20));
        two.Responder = ScalingUtil.Answering(true, TimeSpan.FromMilliseconds(20));
        string dir = ScalingUtil.TempDir();
        try
        {
            string prog = Path.Combine(dir, "p.lmn");
            File.WriteAllText(prog, ScalingUtil.Program);
            string inputs = ScalingUtil.Inputs(dir, 30, "stats");
            string eps = Path.Combine(dir, "endpoints.jsonl");
            File.WriteAllText(eps, $"# a comment\n{{\"url\": \"{two.Url}\", \"provider\": \"anthropic\", \"model\": \"claude-x\", \"key_env\": \"LMN_TEST_SECOND_KEY\", \"max_concurrency\": 1, \"weight\": 2}}\n");
            Environment.SetEnvironmentVariable("LMN_TEST_SECOND_KEY", "sk-ant-second-secret-not-real");
            var (code, stdout, stderr) = TestUtil.Cli("run", prog, "--inputs", inputs, "--oracle", "openai", "--endpoint", one.Url + "/v1",
                "--endpoints", eps, "--batch-size", "3", "--no-cache", "-q", "-s");
            Assert.True(code == 0, stderr);
            Assert.Equal(30, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
            Assert.Contains("endpoints: 2", stderr);
            Assert.Contains($"endpoint_1_url: {one.Url}/v1", stderr);
            Assert.Contains($"endpoint_2_url: {two.Url}", stderr);
            Assert.Matches(@"endpoint_2: calls [1-9]\d* questions \d+ errors 0 tokens [1-9]\d* latency_ms_mean [\d.]+ latency_ms_p95 [\d.]+ max_in_flight 1", stderr);
            Assert.Equal(30, one.Requests.Concat(two.Requests).Sum(r => ScalingUtil.Questions(r).Count));
            Assert.True(HasKey(two.Requests[0], "sk-ant-second-secret-not-real"));
            Assert.Equal("claude-x", two.Requests[0].Json.GetProperty("model").GetString());
            Assert.DoesNotContain("sk-ant-second-secret-not-real", stderr + stdout);

            File.WriteAllText(eps, "{\"url\": \"ftp://x\"}\n");
            var (bad, _, err) = TestUtil.Cli("run", prog, "--inputs", inputs, "--oracle", "openai", "--endpoints", eps, "--no-cache");
            Assert.Equal(2, bad);
            Assert.Contains($"--endpoints {eps}:1: \"url\" must be an http or https URL", err);
            var (bad2, _, err2) = TestUtil.Cli("run", prog, "--oracle", "first", "--endpoint", one.Url, "--no-cache", "--context", "msg=x");
            Assert.Equal(2, bad2);
            Assert.Contains("--endpoint and --endpoints need --oracle anthropic or --oracle openai", err2);
        }
        finally
        {
            Environment.SetEnvironmentVariable("LMN_TEST_SECOND_KEY", null);
            Directory.Delete(dir, true);
        }
    }
}
