using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

using Lmn.Tests.Llm;

namespace Lmn.Tests.Telemetry;

/// <summary>
/// `lmn run` with the OTEL_EXPORTER_OTLP_* variables set exports to an OTLP/HTTP receiver on 127.0.0.1
/// (an HttpListener here, decoding the protobuf by hand): spans nested round → oracle call → chat call,
/// the GenAI attribute names, and the gen_ai.client.* metrics; with the variables unset nothing is sent.
/// </summary>
public class OtlpExportTests
{
    /// <summary>A minimal OTLP/HTTP receiver: keeps the body of every POST by path, answers 200 with an empty message.</summary>
    private sealed class Receiver : IDisposable
    {
        private readonly HttpListener _listener = new();
        public ConcurrentQueue<(string Path, byte[] Body)> Posts { get; } = new();
        public string Url { get; }

        public Receiver()
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Url = $"http://127.0.0.1:{port}";
            _listener.Prefixes.Add(Url + "/");
            _listener.Start();
            _ = Task.Run(LoopAsync);
        }

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext ctx;
                try { ctx = await _listener.GetContextAsync(); }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
                using var ms = new MemoryStream();
                await ctx.Request.InputStream.CopyToAsync(ms);
                Posts.Enqueue((ctx.Request.Url!.AbsolutePath, ms.ToArray()));
                ctx.Response.StatusCode = 200;
                ctx.Response.ContentType = "application/x-protobuf";
                ctx.Response.Close();
            }
        }

        public void Dispose() => _listener.Close();
    }

    /// <summary>Protobuf wire format: the fields of one message as (number, wire type, value or bytes).</summary>
    private static List<(int Field, int Type, ulong Value, byte[] Bytes)> Fields(byte[] msg)
    {
        var list = new List<(int, int, ulong, byte[])>();
        int i = 0;
        ulong Varint()
        {
            ulong v = 0;
            for (int shift = 0; ; shift += 7)
            {
                byte b = msg[i++];
                v |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return v;
            }
        }
        while (i < msg.Length)
        {
            ulong key = Varint();
            int field = (int)(key >> 3), type = (int)(key & 7);
            switch (type)
            {
                case 0: list.Add((field, type, Varint(), [])); break;
                case 1: list.Add((field, type, BitConverter.ToUInt64(msg, i), [])); i += 8; break;
                case 2:
                {
                    int len = (int)Varint();
                    list.Add((field, type, 0, msg[i..(i + len)]));
                    i += len;
                    break;
                }
                case 5: list.Add((field, type, BitConverter.ToUInt32(msg, i), [])); i += 4; break;
                default: throw new InvalidDataException($"wire type {type} at byte {i}");
            }
        }
        return list;
    }

    private static IEnumerable<byte[]> Sub(byte[] msg, int field) => Fields(msg).Where(f => f.Field == field && f.Type == 2).Select(f => f.Bytes);

    private static string Str(byte[] msg, int field) => Sub(msg, field).Select(b => Encoding.UTF8.GetString(b)).FirstOrDefault() ?? "";

    private static string Hex(byte[] msg, int field) => Convert.ToHexString(Sub(msg, field).FirstOrDefault() ?? []);

    /// <summary>KeyValue (key = 1, value = 2: AnyValue with string_value = 1, int_value = 3) as text.</summary>
    private static Dictionary<string, string> Attrs(IEnumerable<byte[]> kvs)
    {
        var d = new Dictionary<string, string>();
        foreach (var kv in kvs)
        {
            string key = Str(kv, 1);
            var any = Sub(kv, 2).FirstOrDefault() ?? [];
            var f = Fields(any).FirstOrDefault();
            d[key] = f.Field switch { 1 => Encoding.UTF8.GetString(f.Bytes), 3 => ((long)f.Value).ToString(System.Globalization.CultureInfo.InvariantCulture), _ => "?" };
        }
        return d;
    }

    private sealed record Span(string Scope, string Name, string Id, string Parent, Dictionary<string, string> Attrs);

    /// <summary>ExportTraceServiceRequest: resource_spans(1) → scope_spans(2) (scope 1: name 1) → spans(2): span_id 2, parent 4, name 5, attributes 9.</summary>
    private static List<Span> Spans(byte[] body) =>
        (from rs in Sub(body, 1) from ss in Sub(rs, 2) from sp in Sub(ss, 2)
         select new Span(Str(Sub(ss, 1).FirstOrDefault() ?? [], 1), Str(sp, 5), Hex(sp, 2), Hex(sp, 4), Attrs(Sub(sp, 9)))).ToList();

    /// <summary>ExportMetricsServiceRequest: resource_metrics(1) → scope_metrics(2) → metrics(2): name 1; sum 7 / histogram 9 → data_points 1 → attributes 7 / 9.</summary>
    private static List<(string Name, Dictionary<string, string> Attrs)> Metrics(byte[] body)
    {
        var list = new List<(string, Dictionary<string, string>)>();
        foreach (var rm in Sub(body, 1))
            foreach (var sm in Sub(rm, 2))
                foreach (var m in Sub(sm, 2))
                {
                    string name = Str(m, 1);
                    foreach (var dp in Sub(m, 7).SelectMany(s => Sub(s, 1))) list.Add((name, Attrs(Sub(dp, 7))));
                    foreach (var dp in Sub(m, 9).SelectMany(h => Sub(h, 1))) list.Add((name, Attrs(Sub(dp, 9))));
                }
        return list;
    }

    private static Dictionary<string, string> ResourceAttrs(byte[] body) =>
        Sub(body, 1).Select(rs => Attrs(Sub(Sub(rs, 1).FirstOrDefault() ?? [], 1))).FirstOrDefault() ?? [];

    private static (int Code, string Out, string Err) RunLmn(IReadOnlyDictionary<string, string?> env, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Lmn.Cli.dll");
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var k in psi.Environment.Keys.Where(k => k.StartsWith("OTEL_", StringComparison.Ordinal)).ToList()) psi.Environment.Remove(k);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = System.Diagnostics.Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, o, err.Result);
    }

    [Fact]
    public async Task RunWithAnOracleExportsNestedGenAiSpansAndMetrics()
    {
        const string model = "otlp-model-5c1e";
        await using var llm = await FakeLlmServer.StartAsync();
        llm.Responder = r => new Scripted(200, Wire.OpenAiCompletion(Wire.Answer(r.Body.Contains("∿mov") ? "run" : "joy", 0.9), 130, 25, model));
        using var otlp = new Receiver();
        string program = TestUtil.TempFile("fir[∿lov[joy, pai], ∿mov[run, sit]]\n", ".lmn");
        try
        {
            var (code, stdout, stderr) = RunLmn(new Dictionary<string, string?>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp.Url,
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_SERVICE_NAME"] = "lmn-otlp-test",
            }, "run", program, "--oracle", "openai", "--base-url", llm.Url + "/v1", "--model", model, "--no-cache", "-q");
            Assert.True(code == 0, stderr);
            Assert.Equal("fir[joy, run]", stdout.Trim());

            var traces = otlp.Posts.Where(p => p.Path == "/v1/traces").ToList();
            var metrics = otlp.Posts.Where(p => p.Path == "/v1/metrics").ToList();
            Assert.NotEmpty(traces);
            Assert.NotEmpty(metrics);
            Assert.Equal("lmn-otlp-test", ResourceAttrs(traces[0].Body)["service.name"]);

            var spans = traces.SelectMany(t => Spans(t.Body)).ToList();
            var byId = spans.ToDictionary(s => s.Id);
            var chats = spans.Where(s => s.Scope == "Lmn.Oracles" && s.Name == "chat " + model).ToList();
            Assert.Equal(2, chats.Count);
            foreach (var chat in chats)
            {
                Assert.Equal("chat", chat.Attrs["gen_ai.operation.name"]);
                Assert.Equal("openai", chat.Attrs["gen_ai.provider.name"]);
                Assert.Equal(model, chat.Attrs["gen_ai.request.model"]);
                Assert.Equal("130", chat.Attrs["gen_ai.usage.input_tokens"]);
                Assert.Equal("25", chat.Attrs["gen_ai.usage.output_tokens"]);
                // chat → the oracle call that made it → the supervisor's round.
                var call = byId[chat.Parent];
                Assert.StartsWith("oracle ", call.Name);
                var round = byId[call.Parent];
                Assert.StartsWith("lmn round ", round.Name);
                Assert.Equal("2", round.Attrs["lmn.batch.size"]);
            }
            // Inside each attempt, the provider call as Microsoft.Extensions.AI's OpenTelemetry stage records it.
            var inner = spans.Where(s => s.Scope == "Experimental.Microsoft.Extensions.AI").ToList();
            Assert.Equal(2, inner.Count);
            Assert.All(inner, s => Assert.Contains(chats, c => c.Id == s.Parent));
            Assert.All(inner, s => Assert.Equal("openai", s.Attrs["gen_ai.provider.name"]));
            Assert.All(inner, s => Assert.Equal("130", s.Attrs["gen_ai.usage.input_tokens"]));

            var points = metrics.SelectMany(m => Metrics(m.Body)).ToList();
            var usage = points.Where(p => p.Name == "gen_ai.client.token.usage").ToList();
            Assert.Contains(usage, p => p.Attrs.GetValueOrDefault("gen_ai.token.type") == "input" && p.Attrs.GetValueOrDefault("gen_ai.request.model") == model);
            Assert.Contains(usage, p => p.Attrs.GetValueOrDefault("gen_ai.token.type") == "output");
            Assert.Contains(points, p => p.Name == "gen_ai.client.operation.duration" && p.Attrs.GetValueOrDefault("gen_ai.provider.name") == "openai");
        }
        finally { File.Delete(program); }
    }

    [Fact]
    public void ExportIsOnOnlyWhenAnEndpointIsSet()
    {
        Assert.False(Lmn.Cli.Telemetry.Configured(_ => null));
        Assert.False(Lmn.Cli.Telemetry.Configured(v => v == "OTEL_SERVICE_NAME" ? "lmn" : null));
        Assert.True(Lmn.Cli.Telemetry.Configured(v => v == "OTEL_EXPORTER_OTLP_ENDPOINT" ? "http://127.0.0.1:4318" : null));
        Assert.True(Lmn.Cli.Telemetry.Configured(v => v == "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" ? "http://127.0.0.1:4318/v1/traces" : null));
        Assert.False(Lmn.Cli.Telemetry.Configured(v => v switch { "OTEL_EXPORTER_OTLP_ENDPOINT" => "http://127.0.0.1:4318", "OTEL_SDK_DISABLED" => "true", _ => null }));
    }
}
