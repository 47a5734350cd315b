using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Lmn.Oracles;
using static Lmn.Tests.Llm.LlmTestUtil;

namespace Lmn.Tests.Llm;

/// <summary>Spans and metrics of oracle calls under the "Lmn.Oracles" source and meter.</summary>
public class TelemetryTests
{
    [Fact]
    public async Task SpansAndCountersWithGenAiAttributes()
    {
        const string model = "telemetry-model-7f3a";
        await using var s = await FakeLlmServer.StartAsync();
        s.Enqueue(
            new Scripted(529, Wire.AnthropicError("overloaded_error", "Overloaded")),
            new Scripted(200, Wire.AnthropicMessage(Wire.Batch(("a", "joy", 0.9), ("b", "pai", 0.8)), 200, 50, model)));

        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = src => src.Name == OracleTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var measures = new ConcurrentQueue<(string Name, long Value, Dictionary<string, object?> Tags)>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (inst, l) => { if (inst.Meter.Name == OracleTelemetry.Name) l.EnableMeasurementEvents(inst); };
        meters.SetMeasurementEventCallback<long>((inst, value, tags, _) =>
        {
            var d = new Dictionary<string, object?>();
            foreach (var t in tags) d[t.Key] = t.Value;
            measures.Enqueue((inst.Name, value, d));
        });
        meters.Start();

        var oracle = NewAnthropic(s, Options(model) with { Batch = true });
        await oracle.AskAsync([Request("a"), Request("b")], CancellationToken.None);

        var mine = spans.Where(a => (a.GetTagItem(OracleTelemetry.RequestModel) as string) == model || (a.GetTagItem(OracleTelemetry.OracleName) as string) == oracle.Identity).ToList();
        var call = Assert.Single(mine, a => a.DisplayName == "oracle " + oracle.Identity);
        Assert.Equal(2, call.GetTagItem(OracleTelemetry.BatchSize));
        var chats = mine.Where(a => a.DisplayName == "chat " + model).ToList();
        Assert.Equal(2, chats.Count);
        Assert.Contains(chats, c => c.Status == ActivityStatusCode.Error && (string?)c.GetTagItem(OracleTelemetry.ErrorType) == "overloaded");
        var ok = Assert.Single(chats, c => c.Status != ActivityStatusCode.Error);
        Assert.Equal(200, ok.GetTagItem(OracleTelemetry.InputTokens));
        Assert.Equal(50, ok.GetTagItem(OracleTelemetry.OutputTokens));
        Assert.Equal("anthropic", ok.GetTagItem(OracleTelemetry.ProviderName));
        Assert.All(chats, c => Assert.Equal(call.TraceId, c.TraceId));

        bool Mine(Dictionary<string, object?> t) => Equals(t.GetValueOrDefault(OracleTelemetry.RequestModel), model) || Equals(t.GetValueOrDefault(OracleTelemetry.OracleName), oracle.Identity);
        var m = measures.Where(x => Mine(x.Tags)).ToList();
        Assert.Equal(2, m.Where(x => x.Name == "lmn.oracle.questions").Sum(x => x.Value));
        Assert.Equal(1, m.Where(x => x.Name == "lmn.oracle.batches").Sum(x => x.Value));
        Assert.Equal(1, m.Where(x => x.Name == "lmn.oracle.retries").Sum(x => x.Value));
        Assert.Equal(200, m.Where(x => x.Name == "lmn.oracle.tokens" && Equals(x.Tags[OracleTelemetry.TokenType], "input")).Sum(x => x.Value));
        Assert.Equal(50, m.Where(x => x.Name == "lmn.oracle.tokens" && Equals(x.Tags[OracleTelemetry.TokenType], "output")).Sum(x => x.Value));
    }
}
