using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Lmn.Debugging;
using Lmn.Net;
using Lmn.Oracles;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lmn.Debugger;

/// <summary>Options of `lmn debug`.</summary>
public sealed record DebugServerOptions
{
    /// <summary>0: a free port chosen by the system.</summary>
    public int Port { get; init; }
    /// <summary>Nodes drawn per picture; the rest is summarised.</summary>
    public int Limit { get; init; } = 150;
}

/// <summary>
/// The `lmn debug` web app: ASP.NET Core's Kestrel on 127.0.0.1, one <see cref="DebugSession"/> behind
/// a small JSON API, and a hand-written page (wwwroot, embedded) that draws the net as the SVG Graphviz
/// lays out, with zoom, pan, a node inspector, the step commands and their keys, the redex queue, the
/// counts by rule, the read-back beside the source, the sites with their requests, and the transcript.
/// </summary>
public sealed class DebugServer : IAsyncDisposable
{
    private readonly DebugSession _session;
    private readonly DebugServerOptions _options;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private WebApplication? _app;
    private string _message = "";

    public DebugServer(DebugSession session, DebugServerOptions options)
    {
        _session = session;
        _options = options;
    }

    public Uri? Address { get; private set; }

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, _options.Port));
        var app = builder.Build();
        app.MapGet("/", () => Asset("index.html", "text/html; charset=utf-8"));
        app.MapGet("/app.js", () => Asset("app.js", "text/javascript; charset=utf-8"));
        app.MapGet("/app.css", () => Asset("app.css", "text/css; charset=utf-8"));
        app.MapGet("/api/state", () => Locked(NoChange));
        app.MapPost("/api/step", (int? n) => Locked(() => Say($"{_session.StepMany(Math.Max(1, n ?? 1)):N0} step(s)")));
        app.MapPost("/api/pause", () => Locked(() => Say($"{_session.RunToPause():N0} step(s) to the pause")));
        app.MapPost("/api/end", () => LockedAsync(async () => Say($"{await _session.RunToEndAsync(CancellationToken.None):N0} step(s) to the end")));
        app.MapPost("/api/back", (int? n) => Locked(() =>
        {
            long k = Math.Min(_session.Steps, Math.Max(1, n ?? 1));
            _session.Back(k);
            Say($"back {k:N0} step(s)");
        }));
        app.MapPost("/api/goto", (long step) => Locked(() => _session.GoTo(Math.Max(0, step))));
        app.MapPost("/api/answer", async (HttpRequest req) =>
        {
            using var doc = await JsonDocument.ParseAsync(req.Body);
            int site = doc.RootElement.GetProperty("site").GetInt32();
            string text = doc.RootElement.GetProperty("text").GetString() ?? "";
            return await Locked(() => Say(_session.Answer(site, text) is { } err ? "error: " + err : $"site {site} answered by hand"));
        });
        // The oracle answers in the background (an LLM takes seconds): the site shows `asked`, the page
        // polls, and the answer is grafted when it comes, unless the run went back meanwhile.
        app.MapPost("/api/ask", (int site) => Locked(() =>
        {
            var ask = _session.StartAsk(site, CancellationToken.None, out string? err);
            if (ask == null)
            {
                Say("error: " + err);
                return;
            }
            Say($"site {site}: asking {_session.OracleName}");
            _ = Task.Run(async () =>
            {
                try { await ask.Answer; }
                catch (Exception) { /* FinishAsk reports it */ }
                await _lock.WaitAsync();
                try { _message = _session.FinishAsk(ask) is { } e ? "error: " + e : $"site {site} answered by {_session.OracleName}"; }
                finally { _lock.Release(); }
            });
        }));
        app.MapGet("/api/transcript", () => Results.Text(_session.Transcript, "application/x-ndjson", Encoding.UTF8));
        app.MapGet("/api/transcript.jsonl", (HttpResponse res) =>
        {
            res.Headers.ContentDisposition = "attachment; filename=\"transcript.jsonl\"";
            return Results.Text(_session.Transcript, "application/x-ndjson", Encoding.UTF8);
        });
        await app.StartAsync();
        _app = app;
        var addr = app.Urls.First();
        Address = new Uri(addr.Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/");
    }

    public Task WaitForShutdownAsync(CancellationToken ct) => _app!.WaitForShutdownAsync(ct);

    public async ValueTask DisposeAsync()
    {
        if (_app != null) await _app.DisposeAsync();
    }

    private void Say(string message) => _message = message;

    private static readonly Action NoChange = () => { };

    private static IResult Asset(string name, string type)
    {
        using var s = typeof(DebugServer).Assembly.GetManifestResourceStream("wwwroot/" + name);
        if (s == null) return Results.NotFound();
        using var r = new StreamReader(s, Encoding.UTF8);
        return Results.Text(r.ReadToEnd(), type, Encoding.UTF8);
    }

    private async Task<IResult> Locked(Action act)
    {
        await _lock.WaitAsync();
        try
        {
            if (act != NoChange) _message = "";
            act();
            return Results.Text(State(), "application/json", Encoding.UTF8);
        }
        finally { _lock.Release(); }
    }

    private async Task<IResult> LockedAsync(Func<Task> act)
    {
        await _lock.WaitAsync();
        try
        {
            _message = "";
            await act();
            return Results.Text(State(), "application/json", Encoding.UTF8);
        }
        finally { _lock.Release(); }
    }

    /// <summary>Everything the page shows, as one JSON object.</summary>
    public string State()
    {
        var s = _session;
        var sw = Stopwatch.StartNew();
        var pic = s.Picture(_options.Limit);
        string svg;
        try { svg = Graphviz.ToSvg(pic.ToDot()); }
        catch (GraphvizMissing e) { svg = "<p class=\"error\">" + WebUtility.HtmlEncode(e.Message) + "</p>"; }
        double drawMs = sw.Elapsed.TotalMilliseconds;
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("file", s.Program.Path);
            w.WriteString("source", s.Program.SourceText);
            w.WriteString("message", _message);
            w.WriteNumber("steps", s.Steps);
            w.WriteNumber("interactions", s.Net.Interactions);
            w.WriteStartObject("rules");
            foreach (string r in new[] { "ANNI", "COMM", "ERAS", "VOID", "CALL", "OPER", "SWIT", "LINK" })
                w.WriteNumber(r, s.Net.RuleCounts[Array.IndexOf(Rule.Names, r)]);
            w.WriteEndObject();
            w.WriteNumber("live_nodes", s.Net.LiveNodes);
            w.WriteNumber("live_vars", s.Net.LiveVars);
            w.WriteNumber("bytes_in_use", s.Net.BytesInUse);
            w.WriteNumber("peak_bytes", s.Net.PeakBytes);
            w.WriteNumber("pending_redexes", s.Net.PendingRedexes);
            w.WriteBoolean("paused", s.Paused);
            w.WriteBoolean("finished", s.Finished);
            if (s.Fault != null) w.WriteString("fault", s.Fault);
            if (s.Finished) w.WriteString("result", s.Result);
            w.WriteString("readback", s.ReadBackText());
            w.WriteString("oracle", s.OracleName);
            if (s.LastStep is { } last)
            {
                w.WriteStartObject("last_step");
                w.WriteString("rule", Rule.Names[last.Rule]);
                w.WriteString("a", Describe(last.A));
                w.WriteString("b", Describe(last.B));
                w.WriteNumber("links", last.Links);
                w.WriteEndObject();
            }
            w.WriteStartArray("redexes");
            int k = 0;
            foreach (var (a, b) in s.Net.Redexes())
            {
                if (k++ >= 50) break;
                w.WriteStartObject();
                w.WriteString("rule", Rule.Names[Port.RuleOf(a, b)]);
                w.WriteString("a", Describe(a));
                w.WriteString("b", Describe(b));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("sites");
            foreach (var site in s.Sites)
            {
                w.WriteStartObject();
                w.WriteNumber("index", site.Index);
                w.WriteString("id", site.Request?.AmbNodeId ?? "");
                w.WriteString("expression", site.Request?.Expression ?? site.Info.SourceText);
                w.WriteString("location", site.Info.Location);
                w.WriteNumber("offset", site.Info.Offset);
                w.WriteNumber("length", site.Info.SourceText.Length);
                w.WriteString("state", site.State);
                if (site.Request != null) w.WriteString("request", PrettyRequest(site.Request));
                if (site.Answer != null) w.WriteString("answer", site.Answer);
                if (site.Oracle != null) w.WriteString("oracle", site.Oracle);
                if (site.Confidence is { } c) w.WriteNumber("confidence", c);
                if (site.Tokens is { } t) w.WriteNumber("tokens", t);
                if (site.TimeMs is { } tm) w.WriteNumber("time_ms", Math.Round(tm, 2));
                if (site.Error != null) w.WriteString("error", site.Error);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteString("transcript", s.Transcript);
            w.WritePropertyName("picture");
            pic.WriteJson(w);
            w.WriteString("svg", svg);
            w.WriteNumber("draw_ms", Math.Round(drawMs, 1));
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static string PrettyRequest(OracleRequest r)
    {
        using var doc = JsonDocument.Parse(OracleJson.Serialize(r));
        return JsonSerializer.Serialize(doc.RootElement, new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    private string Describe(uint p)
    {
        uint v = p >> 3;
        return Port.TagOf(p) switch
        {
            Tag.VAR => "v" + v.ToString(CultureInfo.InvariantCulture),
            Tag.REF => "@" + _session.Program.Book.Defs[(int)(v & 0x0FFF_FFFF)].Name,
            Tag.ERA => "*",
            Tag.NUM => Numb.Show(v),
            _ => NetPicture.KindOf(p) + " @" + v.ToString(CultureInfo.InvariantCulture),
        };
    }
}
