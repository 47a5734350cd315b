using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Lmn.Cli;

/// <summary>
/// A fake OpenAI-compatible endpoint on 127.0.0.1 for `lmn bench batch`: POST /v1/chat/completions,
/// answers every question of the prompt with its first candidate after a fixed delay, and counts calls,
/// questions and the most calls in flight at once.
/// </summary>
public sealed class FakeEndpoint : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly TimeSpan _delay;
    private int _inFlight, _maxInFlight, _calls, _questions;

    public FakeEndpoint(TimeSpan delay)
    {
        _delay = delay;
        for (int attempt = 0; ; attempt++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            try
            {
                _listener.Prefixes.Clear();
                _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
                _listener.Start();
                Url = $"http://127.0.0.1:{port}/v1";
                break;
            }
            catch (HttpListenerException) when (attempt < 10) { }
        }
        _ = Task.Run(AcceptAsync);
    }

    public string Url { get; } = "";
    public int Calls => Volatile.Read(ref _calls);
    public int Questions => Volatile.Read(ref _questions);
    public int MaxInFlight => Volatile.Read(ref _maxInFlight);
    private readonly object _serviceLock = new();
    private long _serviceTicks, _served;
    /// <summary>Time from requests' arrival to their replies' end, as the fake saw it, and how many replies.</summary>
    public (long Ticks, long Served) Service { get { lock (_serviceLock) return (_serviceTicks, _served); } }

    /// <summary>The mean service time (ms) of the replies since the snapshot.</summary>
    public double ServiceMsSince((long Ticks, long Served) before)
    {
        var (ticks, served) = Service;
        return served == before.Served ? 0 : (ticks - before.Ticks) * 1000.0 / Stopwatch.Frequency / (served - before.Served);
    }

    private async Task AcceptAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync().ConfigureAwait(false); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            _ = Task.Run(() => HandleAsync(ctx));
        }
    }

    private async Task HandleAsync(HttpListenerContext ctx)
    {
        long began = Stopwatch.GetTimestamp();
        int n = Interlocked.Increment(ref _inFlight);
        int seen;
        while ((seen = Volatile.Read(ref _maxInFlight)) < n && Interlocked.CompareExchange(ref _maxInFlight, n, seen) != seen) { }
        try
        {
            string body;
            using (var rd = new StreamReader(ctx.Request.InputStream, Encoding.UTF8)) body = await rd.ReadToEndAsync().ConfigureAwait(false);
            string user = "";
            using (var doc = JsonDocument.Parse(body))
                foreach (var m in doc.RootElement.GetProperty("messages").EnumerateArray())
                    if (m.GetProperty("role").GetString() == "user") user = m.GetProperty("content").ValueKind == JsonValueKind.String ? m.GetProperty("content").GetString()! : m.GetProperty("content").GetRawText();
            var answers = new List<object>();
            string? id = null;
            foreach (var line in user.Split('\n'))
            {
                if (line.StartsWith("amb_node_id: ", StringComparison.Ordinal)) id = line["amb_node_id: ".Length..].Trim();
                else if (id != null && line.StartsWith("Candidates: ", StringComparison.Ordinal))
                {
                    answers.Add(new { amb_node_id = id, substitution = line["Candidates: ".Length..].Split(", ")[0].Trim(), confidence = 0.9, reasoning = "fake endpoint: the first candidate", alternatives_considered = Array.Empty<string>() });
                    id = null;
                }
            }
            Interlocked.Increment(ref _calls);
            Interlocked.Add(ref _questions, answers.Count);
            // The delay counts from the request's arrival: an endpoint that takes 100 ms per call, whatever
            // this fake's own parsing costs on the machine it shares with the run.
            var left = _delay - Stopwatch.GetElapsedTime(began);
            if (left > TimeSpan.Zero) await Task.Delay(left).ConfigureAwait(false);
            string content = JsonSerializer.Serialize(new { answers });
            string reply = JsonSerializer.Serialize(new
            {
                id = "chatcmpl-fake",
                @object = "chat.completion",
                created = 1741569952,
                model = "fake-model",
                choices = new[] { new { index = 0, message = new { role = "assistant", content }, finish_reason = "stop" } },
                usage = new { prompt_tokens = 60 * answers.Count, completion_tokens = 20 * answers.Count, total_tokens = 80 * answers.Count },
            });
            var bytes = Encoding.UTF8.GetBytes(reply);
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "application/json";
            ctx.Response.ContentLength64 = bytes.Length;
            await ctx.Response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
            ctx.Response.Close();
            lock (_serviceLock)
            {
                _serviceTicks += Stopwatch.GetTimestamp() - began;
                _served++;
            }
        }
        catch (Exception e) when (e is IOException or HttpListenerException or JsonException or KeyNotFoundException or InvalidOperationException or ObjectDisposedException)
        {
            try { ctx.Response.StatusCode = 400; ctx.Response.Close(); }
            catch (Exception x) when (x is HttpListenerException or ObjectDisposedException or InvalidOperationException) { }
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    public void Dispose()
    {
        try { _listener.Stop(); _listener.Close(); }
        catch (ObjectDisposedException) { }
    }
}

/// <summary>
/// `lmn bench batch [--inputs N] [--endpoints K] [--delay-ms D] [--batch-size B] [--cache-url URL]`:
/// N inputs with one ∿ each over K fake endpoints (D ms per call, B questions per call, one call at a
/// time each): wall time against the ideal N / B / K × D; the runtime's own cost per input (the same
/// inputs with an instant in-process oracle); then a cold and a warm run through the shared PostgreSQL
/// cache (a throwaway cluster from scripts/postgres.sh unless --cache-url is given).
/// </summary>
public static class BatchBench
{
    public static int Execute(int inputs, int endpoints, int delayMs, int batch, string? url, bool noPostgres, TextWriter stdout, TextWriter stderr)
    {
        string dir = Path.Combine(Path.GetTempPath(), "lmn-bench-batch-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        string? pgDir = null;
        var fakes = new List<FakeEndpoint>();
        try
        {
            string prog = Path.Combine(dir, "classify.lmn");
            File.WriteAllText(prog, "@msg ∿lov[joy, pai, hop]\n");
            string data = Path.Combine(dir, "inputs.jsonl");
            using (var w = new StreamWriter(data))
                for (int k = 0; k < inputs; k++) w.WriteLine($"{{\"msg\": \"message number {k} of the benchmark\"}}");
            for (int k = 0; k < endpoints; k++) fakes.Add(new FakeEndpoint(TimeSpan.FromMilliseconds(delayMs)));
            string epFile = Path.Combine(dir, "endpoints.jsonl");
            File.WriteAllLines(epFile, fakes.Select(f => $"{{\"url\": \"{f.Url}\", \"model\": \"fake-model\", \"max_concurrency\": 1}}"));
            double ideal = Math.Ceiling(inputs / (double)batch) / endpoints * delayMs / 1000.0;
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"batch run: {inputs} inputs, one ∿ each; {endpoints} fake endpoints, {delayMs} ms per call, {batch} questions per call, 1 call at a time each"));
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ideal wall time: {ideal:F2} s"));

            // Warm-up (JIT, sockets) on a few inputs, not timed.
            string small = Path.Combine(dir, "warm.jsonl");
            File.WriteAllLines(small, File.ReadLines(data).Take(200).Select(l => l.Replace("benchmark", "warm-up")));
            Run(prog, small, ["--oracle", "openai", "--endpoints", epFile, "--batch-size", batch.ToString(CultureInfo.InvariantCulture), "--no-cache"], dir, out _);
            int callsBefore = fakes.Sum(f => f.Calls);
            var serviceBefore = fakes.Select(f => f.Service).ToList();

            var (wall, cpu, err) = Run(prog, data, ["--oracle", "openai", "--endpoints", epFile, "--batch-size", batch.ToString(CultureInfo.InvariantCulture), "--no-cache"], dir, out string output1);
            if (err != null) { stderr.WriteLine("lmn bench batch: " + err); return 1; }
            int calls = fakes.Sum(f => f.Calls) - callsBefore;
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"endpoints, no cache:   wall {wall:F2} s = {wall / ideal:F2}x ideal (target <= 1.30x)   oracle calls {calls}   max in flight per endpoint {fakes.Max(f => f.MaxInFlight)}   cpu {cpu:F2} s"));
            // Each endpoint's call latency as the run saw it (the fake's delay plus HTTP and JSON on both sides).
            stdout.WriteLine("  fake service ms: " + string.Join(" ", fakes.Select((f, i) => f.ServiceMsSince(serviceBefore[i]).ToString("F1", CultureInfo.InvariantCulture))));
            foreach (var l in _lastStats.Split('\n').Where(l => l.StartsWith("endpoint_", StringComparison.Ordinal) && l.Contains(": calls ", StringComparison.Ordinal)))
                stdout.WriteLine("  " + l.Trim());

            // The runtime's own cost: the same inputs with an instant in-process oracle, five runs, medians (one
            // run on a shared machine moves by a third). The marginal cost (the slope between a tenth of the
            // inputs and all of them) leaves out what a process pays once, whatever its inputs (the JIT's
            // first compilations, the first pages of its heap).
            string tenth = Path.Combine(dir, "tenth.jsonl");
            int few = Math.Max(1, inputs / 10);
            File.WriteAllLines(tenth, File.ReadLines(data).Take(few));
            string[] instant = ["--oracle", "first", "--no-cache", "--batch-size", batch.ToString(CultureInfo.InvariantCulture)];
            var walls = new List<double>();
            var cpus = new List<double>();
            var fewWalls = new List<double>();
            for (int r = 0; r < 5; r++)
            {
                var (w, c, e) = Run(prog, data, instant, dir, out _);
                if (e != null) { stderr.WriteLine("lmn bench batch: " + e); return 1; }
                walls.Add(w);
                cpus.Add(c);
                var (wf, _, ef) = Run(prog, tenth, instant, dir, out _);
                if (ef != null) { stderr.WriteLine("lmn bench batch: " + ef); return 1; }
                fewWalls.Add(wf);
            }
            double wall0 = BenchMath.Median(walls), cpu0 = BenchMath.Median(cpus), wallFew = BenchMath.Median(fewWalls);
            double marginal = inputs > few ? (wall0 - wallFew) / (inputs - few) : wall0 / inputs;
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"runtime overhead:      {wall0 * 1e6 / inputs:F1} µs per input wall, {cpu0 * 1e6 / inputs:F1} µs per input cpu (instant oracle, {inputs} inputs, median of 5 runs; target <= 50 µs)"));
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  marginal:            {marginal * 1e6:F1} µs per input wall ({few} inputs: {wallFew:F3} s, {inputs}: {wall0:F3} s; runs: {string.Join(" ", walls.Select(w => (w * 1e6 / inputs).ToString("F1", CultureInfo.InvariantCulture)))} µs per input)"));

            if (!noPostgres)
            {
                if (url == null)
                {
                    var started = PostgresScript("start");
                    if (started == null) { stderr.WriteLine("lmn bench batch: scripts/postgres.sh start failed (or pass --cache-url, or --no-postgres)"); return 1; }
                    pgDir = started.Value.Dir;
                    url = started.Value.Url;
                }
                callsBefore = fakes.Sum(f => f.Calls);
                var (wall1, _, err1) = Run(prog, data, ["--oracle", "openai", "--endpoints", epFile, "--batch-size", batch.ToString(CultureInfo.InvariantCulture), "--cache-dir", Path.Combine(dir, "cache1"), "--cache-url", url], dir, out string output2);
                if (err1 != null) { stderr.WriteLine("lmn bench batch: " + err1); return 1; }
                int calls1 = fakes.Sum(f => f.Calls) - callsBefore;
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"cold PostgreSQL cache: wall {wall1:F2} s = {wall1 / ideal:F2}x ideal   oracle calls {calls1}"));
                callsBefore = fakes.Sum(f => f.Calls);
                var (wall2, _, err2) = Run(prog, data, ["--oracle", "openai", "--endpoints", epFile, "--batch-size", batch.ToString(CultureInfo.InvariantCulture), "--cache-dir", Path.Combine(dir, "cache2"), "--cache-url", url], dir, out string output3);
                if (err2 != null) { stderr.WriteLine("lmn bench batch: " + err2); return 1; }
                int calls2 = fakes.Sum(f => f.Calls) - callsBefore;
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"warm PostgreSQL cache: wall {wall2:F2} s   oracle calls {calls2} (a fresh file cache: every answer from PostgreSQL)"));
                stdout.WriteLine($"outputs identical: {(output1 == output2 && output2 == output3 ? "yes" : "NO")}");
            }
            return 0;
        }
        finally
        {
            foreach (var f in fakes) f.Dispose();
            if (pgDir != null) PostgresScript("stop", pgDir);
            try { Directory.Delete(dir, recursive: true); }
            catch (IOException) { }
        }
    }

    private static string _lastStats = "";

    /// <summary>One batch run in a child process (its own memory and CPU counters): wall and CPU seconds, or the error.</summary>
    private static (double Wall, double Cpu, string? Error) Run(string prog, string data, string[] extra, string dir, out string output)
    {
        string outFile = Path.Combine(dir, "out-" + Guid.NewGuid().ToString("N")[..6] + ".jsonl");
        var psi = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(psi.FileName) == "dotnet") psi.ArgumentList.Add(typeof(BatchBench).Assembly.Location);
        foreach (var a in new[] { "run", prog, "--inputs", data, "-q", "-s" }.Concat(extra)) psi.ArgumentList.Add(a);
        psi.WorkingDirectory = dir;
        // What `lmn run --inputs` starts with (the front sets the same, see RunCore.BatchRuntime).
        foreach (var (name, value) in RunCore.BatchRuntime)
            if (Environment.GetEnvironmentVariable(name) == null) psi.Environment[name] = value;
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stdoutTask = p.StandardOutput.ReadToEndAsync();
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        sw.Stop();
        output = stdoutTask.Result;
        _lastStats = err;
        File.WriteAllText(outFile, output);
        if (p.ExitCode != 0) return (0, 0, $"the batch run failed (exit {p.ExitCode}): {err.Trim()}");
        double cpu = err.Split('\n').Where(l => l.StartsWith("cpu: ", StringComparison.Ordinal))
            .Select(l => double.Parse(l["cpu: ".Length..].TrimEnd('s'), CultureInfo.InvariantCulture)).FirstOrDefault();
        // The run's own wall time (its `wall:` line): process start and JIT are not the batch's cost.
        double wall = err.Split('\n').Where(l => l.StartsWith("wall: ", StringComparison.Ordinal))
            .Select(l => double.Parse(l["wall: ".Length..].TrimEnd('s'), CultureInfo.InvariantCulture)).FirstOrDefault();
        return (wall > 0 ? wall : sw.Elapsed.TotalSeconds, cpu, null);
    }

    /// <summary>Runs scripts/postgres.sh (found above the tool's directory).</summary>
    public static (string Dir, string Url)? PostgresScript(string action, string? arg = null)
    {
        string? script = null;
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "scripts", "postgres.sh"))) { script = Path.Combine(d.FullName, "scripts", "postgres.sh"); break; }
        if (script == null) return null;
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(action);
        if (arg != null) psi.ArgumentList.Add(arg);
        using var p = Process.Start(psi)!;
        var errTask = p.StandardError.ReadToEndAsync();
        string o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) return null;
        var lines = o.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return lines.Length >= 2 ? (lines[0].Trim(), lines[1].Trim()) : (lines.Length == 1 ? (lines[0].Trim(), "") : ("", ""));
    }
}
