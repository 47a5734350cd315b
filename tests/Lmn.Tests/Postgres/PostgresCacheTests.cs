using System.Diagnostics;
using System.Text.Json;
using Lmn.Tests.Llm;
using Lmn.Tests.Reliability;

namespace Lmn.Tests.Postgres;

/// <summary>
/// The shared cache tier against a real PostgreSQL server (a throwaway cluster from scripts/postgres.sh),
/// with `lmn` processes of their own and fake LLM endpoints on 127.0.0.1.
/// </summary>
public class PostgresCacheTests(PostgresFixture pg) : IClassFixture<PostgresFixture>
{
    private static string Tag() => Guid.NewGuid().ToString("N")[..8];

    private static string[] Llm(FakeLlmServer s) => ["--oracle", "openai", "--base-url", s.Url + "/v1", "--batch", "--model", "m1"];

    [Fact]
    public async Task TwoProcessesWithSeparateFileCachesShareAnswers()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Responder = ScalingUtil.Answering(false);
        string dir = ScalingUtil.TempDir(), tag = Tag();
        try
        {
            string prog = Path.Combine(dir, "p.lmn");
            File.WriteAllText(prog, ScalingUtil.Program);
            string inputs = ScalingUtil.Inputs(dir, 12, tag);
            var a = CliProcess.Run(["run", prog, "--inputs", inputs, .. Llm(s), "--cache-dir", Path.Combine(dir, "a"), "--cache-url", pg.Url, "-q"]);
            Assert.True(a.Code == 0, a.Err);
            int calls = s.Requests.Count;
            Assert.Equal(12, s.Requests.Sum(r => ScalingUtil.Questions(r).Count));
            var b = CliProcess.Run(["run", prog, "--inputs", inputs, .. Llm(s), "--cache-dir", Path.Combine(dir, "b"), "--cache-url", pg.Url, "-q", "-s"]);
            Assert.True(b.Code == 0, b.Err);
            Assert.Equal(calls, s.Requests.Count);
            Assert.Equal(a.Out, b.Out);
            Assert.Contains("cache_hits: 12", b.Err);
            Assert.Contains("shared_hits: 12", b.Err);
            Assert.False(Directory.Exists(Path.Combine(dir, "b")) && Directory.EnumerateFiles(Path.Combine(dir, "b"), "*.json", SearchOption.AllDirectories).Any(),
                "the second process's own file cache stays empty: its answers came from PostgreSQL");
            Assert.DoesNotContain(pg.Password, a.Err + a.Out + b.Err + b.Out);
            // Without the shared tier, the second file cache knows nothing: the answers really came from the server.
            var c = CliProcess.Run(["run", prog, "--inputs", inputs, .. Llm(s), "--cache-dir", Path.Combine(dir, "c"), "-q"]);
            Assert.True(c.Code == 0, c.Err);
            Assert.True(s.Requests.Count > calls);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task TwoProcessesRacingOnOneQuestionMakeOneCall()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Responder = ScalingUtil.Answering(false, TimeSpan.FromSeconds(4));
        string dir = ScalingUtil.TempDir(), tag = Tag();
        try
        {
            string prog = Path.Combine(dir, "p.lmn");
            File.WriteAllText(prog, ScalingUtil.Program);
            Process Start(string cache) => Process.Start(CliProcess.StartInfo(["run", prog, "--context", $"msg=happy race {tag}", .. Llm(s),
                "--cache-dir", Path.Combine(dir, cache), "--cache-url", pg.Url, "-q", "-s"]))!;
            using var a = Start("a");
            using var b = Start("b");
            a.StandardInput.Close();
            b.StandardInput.Close();
            var outs = await Task.WhenAll(a.StandardOutput.ReadToEndAsync(), b.StandardOutput.ReadToEndAsync());
            var errs = await Task.WhenAll(a.StandardError.ReadToEndAsync(), b.StandardError.ReadToEndAsync());
            await a.WaitForExitAsync();
            await b.WaitForExitAsync();
            Assert.True(a.ExitCode == 0, errs[0]);
            Assert.True(b.ExitCode == 0, errs[1]);
            Assert.Single(s.Requests);
            Assert.Equal($"fir[\"happy race {tag}\", joy]", outs[0].Trim());
            Assert.Equal(outs[0], outs[1]);
            // One asked; the other waited for its claim and read the answer (or, on a machine so loaded
            // that it started after the answer was stored, read it from the table at once).
            Assert.Contains(errs, e => e.Contains("shared_claims: 1"));
            Assert.Contains(errs, e => e.Contains("shared_claims_waited: 1") || e.Contains("shared_hits: 1"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task AClaimLeftByAKilledProcessExpires()
    {
        await using var hanging = await FakeLlmServer.StartAsync();
        await using var working = await FakeLlmServer.StartAsync();
        hanging.Responder = ScalingUtil.Answering(false, TimeSpan.FromSeconds(100));
        working.Responder = ScalingUtil.Answering(false);
        string dir = ScalingUtil.TempDir(), tag = Tag();
        try
        {
            string prog = Path.Combine(dir, "p.lmn");
            File.WriteAllText(prog, ScalingUtil.Program);
            string[] Args(FakeLlmServer s, string cache) => ["run", prog, "--context", $"msg=plain claim {tag}", .. Llm(s),
                "--cache-dir", Path.Combine(dir, cache), "--cache-url", pg.Url, "-q", "-s"];
            using var a = Process.Start(CliProcess.StartInfo(Args(hanging, "a")))!;
            a.StandardInput.Close();
            var sw = Stopwatch.StartNew();
            while (hanging.Requests.Count == 0 && sw.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(20);
            Assert.Single(hanging.Requests); // a holds the claim and waits for its endpoint

            using var b = Process.Start(CliProcess.StartInfo(Args(working, "b")))!;
            b.StandardInput.Close();
            var bOut = b.StandardOutput.ReadToEndAsync();
            var bErr = b.StandardError.ReadToEndAsync();
            await Task.Delay(1500);
            Assert.False(b.HasExited, "b waits for the claim of a");
            Assert.Empty(working.Requests);

            a.Kill(); // SIGKILL: its connection closes, and with it the claim
            await a.WaitForExitAsync();
            Assert.True(await Task.Run(() => b.WaitForExit(30_000)), "b went on after a died");
            Assert.True(b.ExitCode == 0, await bErr);
            Assert.Single(working.Requests);
            Assert.Equal($"fir[\"plain claim {tag}\", pai]", (await bOut).Trim());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task AServerStoppedMidRunIsAWarningAndTheRunGoesOn()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Responder = ScalingUtil.Answering(false, TimeSpan.FromMilliseconds(100));
        string dir = ScalingUtil.TempDir(), tag = Tag();
        try
        {
            string prog = Path.Combine(dir, "p.lmn");
            File.WriteAllText(prog, ScalingUtil.Program);
            string inputs = ScalingUtil.Inputs(dir, 24, tag);
            using var p = Process.Start(CliProcess.StartInfo(["run", prog, "--inputs", inputs, .. Llm(s), "--batch-size", "2", "--jobs", "2", "--concurrency", "1",
                "--cache-dir", Path.Combine(dir, "c"), "--cache-url", pg.Url, "-q", "-s"]))!;
            p.StandardInput.Close();
            var err = p.StandardError.ReadToEndAsync();
            var lines = new List<string>();
            string? line;
            bool paused = false;
            try
            {
                while ((line = await p.StandardOutput.ReadLineAsync()) != null)
                {
                    lines.Add(line);
                    if (lines.Count == 3) { pg.Pause(); paused = true; }
                }
                await p.WaitForExitAsync();
            }
            finally
            {
                if (paused) pg.Resume();
            }
            string stderr = await err;
            Assert.True(p.ExitCode == 0, stderr);
            Assert.True(paused);
            Assert.Equal(24, lines.Count);
            for (int k = 1; k <= 24; k++)
                Assert.Equal(ScalingUtil.Expected(k, tag), JsonDocument.Parse(lines[k - 1]).RootElement.GetProperty("value").GetString());
            var u = new Uri(pg.Url);
            Assert.Contains($"lmn: warning: shared cache postgres://lmn@127.0.0.1:{u.Port}/postgres: ", stderr);
            Assert.Contains("the run went on with the local cache", stderr);
            Assert.Contains("shared_status: down", stderr);
            Assert.DoesNotContain(pg.Password, stderr);
            CliProcess.AssertNoTrace(stderr);
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>
    /// The tier comes back: the server is stopped after 3 outputs and started again after 10; with
    /// retry_after=0.5 the breaker reconnects, and the answers of the inputs after that are stored in
    /// PostgreSQL again (more rows than the 10 outputs before the restart).
    /// </summary>
    [Fact]
    public async Task AServerThatComesBackIsUsedAgain()
    {
        await using var s = await FakeLlmServer.StartAsync();
        s.Responder = ScalingUtil.Answering(false, TimeSpan.FromMilliseconds(250));
        string dir = ScalingUtil.TempDir(), tag = Tag();
        string url = pg.Database("lmn_cache_recovery");
        try
        {
            string prog = Path.Combine(dir, "p.lmn");
            File.WriteAllText(prog, ScalingUtil.Program);
            string inputs = ScalingUtil.Inputs(dir, 60, tag);
            using var p = Process.Start(CliProcess.StartInfo(["run", prog, "--inputs", inputs, .. Llm(s), "--batch-size", "2", "--jobs", "2", "--concurrency", "1",
                "--cache-dir", Path.Combine(dir, "c"), "--cache-url", url + "?retry_after=0.5", "-q", "-s"]))!;
            p.StandardInput.Close();
            var err = p.StandardError.ReadToEndAsync();
            var lines = new List<string>();
            string? line;
            bool paused = false, resumed = false;
            try
            {
                while ((line = await p.StandardOutput.ReadLineAsync()) != null)
                {
                    lines.Add(line);
                    if (lines.Count == 3) { pg.Pause(); paused = true; }
                    if (lines.Count == 10) { pg.Resume(); resumed = true; }
                }
                await p.WaitForExitAsync();
            }
            finally
            {
                if (paused && !resumed) pg.Resume();
            }
            string stderr = await err;
            Assert.True(p.ExitCode == 0, stderr);
            Assert.Equal(60, lines.Count);
            for (int k = 1; k <= 60; k++)
                Assert.Equal(ScalingUtil.Expected(k, tag), JsonDocument.Parse(lines[k - 1]).RootElement.GetProperty("value").GetString());
            Assert.Contains("shared_outages: 1", stderr);
            Assert.Contains("shared_recoveries: 1", stderr);
            Assert.Contains("shared_status: ok", stderr);
            Assert.Contains("(down once, back once; answers made while it was down are only in the local cache); the run went on with the local cache", stderr);
            Assert.DoesNotContain(pg.Password, stderr);
            using var conn = new Npgsql.NpgsqlConnection(Lmn.Postgres.PostgresCache.ConnectionString(url));
            conn.Open();
            using var cmd = new Npgsql.NpgsqlCommand("SELECT count(*) FROM lmn_cache WHERE strpos(entry, @t) > 0", conn);
            cmd.Parameters.AddWithValue("t", tag);
            long rows = (long)cmd.ExecuteScalar()!;
            Assert.True(rows > 10, $"{rows} answers stored: none after the server came back\n{stderr}");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void CacheStatsClearAndPurgeWorkOnTheSharedTier()
    {
        string url = pg.Database("lmn_cache_commands");
        string dir = ScalingUtil.TempDir();
        try
        {
            string prog = Path.Combine(dir, "p.lmn");
            File.WriteAllText(prog, "fir[@who, ∿lov[joy, pai], ∿sol[lun, sol]]\n");
            string plain = Path.Combine(dir, "plain.lmn");
            File.WriteAllText(plain, "∿lov[joy, pai, hop]\n");
            File.WriteAllText(Path.Combine(dir, "who.jsonl"), "{\"who\": \"sol\"}\n{\"who\": \"lun\"}\n");
            var r2 = TestUtil.Cli("run", prog, "--inputs", Path.Combine(dir, "who.jsonl"), "--oracle", "first", "--cache-dir", Path.Combine(dir, "c"), "--cache-url", url, "-q");
            Assert.True(r2.Code == 0, r2.Err);
            var r3 = TestUtil.Cli("run", plain, "--oracle", "first", "--cache-dir", Path.Combine(dir, "c"), "--cache-url", url, "-q");
            Assert.True(r3.Code == 0, r3.Err);

            var stats = TestUtil.Cli("cache", "stats", "--cache-url", url);
            Assert.True(stats.Code == 0, stats.Err);
            Assert.Contains("entries: 5", stats.Out); // 2 inputs × 2 questions, and the one of plain.lmn
            Assert.Contains("schema_version: 1", stats.Out);
            Assert.Contains($"shared: postgres://lmn@127.0.0.1:{new Uri(url).Port}/lmn_cache_commands", stats.Out);
            Assert.DoesNotContain(pg.Password, stats.Out + stats.Err);

            var purge = TestUtil.Cli("cache", "purge", "--binding", "who", "--cache-url", url);
            Assert.Equal("removed: 4", purge.Out.Trim());
            Assert.Contains("entries: 1", TestUtil.Cli("cache", "stats", "--cache-url", url).Out);
            // LMN_CACHE_URL is the default.
            Environment.SetEnvironmentVariable("LMN_CACHE_URL", url);
            try
            {
                var clear = TestUtil.Cli("cache", "clear");
                Assert.Equal("removed: 1", clear.Out.Trim());
            }
            finally { Environment.SetEnvironmentVariable("LMN_CACHE_URL", null); }
            Assert.Contains("entries: 0", TestUtil.Cli("cache", "stats", "--cache-url", url).Out);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void TheTableIsCreatedWithASchemaVersionAndAnotherVersionIsRefused()
    {
        string url = pg.Database("lmn_schema_check");
        string dir = ScalingUtil.TempDir();
        try
        {
            string plain = Path.Combine(dir, "plain.lmn");
            File.WriteAllText(plain, "∿lov[joy, pai, hop]\n");
            var r = TestUtil.Cli("run", plain, "--oracle", "first", "--cache-dir", Path.Combine(dir, "c"), "--cache-url", url, "-q");
            Assert.True(r.Code == 0, r.Err);
            using var conn = new Npgsql.NpgsqlConnection(Lmn.Postgres.PostgresCache.ConnectionString(url));
            conn.Open();
            using (var cmd = new Npgsql.NpgsqlCommand("SELECT value FROM lmn_cache_meta WHERE name = 'schema_version'", conn))
                Assert.Equal("1", cmd.ExecuteScalar());
            using (var cmd = new Npgsql.NpgsqlCommand("SELECT count(*) FROM lmn_cache", conn))
                Assert.Equal(1L, cmd.ExecuteScalar());
            using (var cmd = new Npgsql.NpgsqlCommand("UPDATE lmn_cache_meta SET value = '99' WHERE name = 'schema_version'", conn))
                cmd.ExecuteNonQuery();
            var again = TestUtil.Cli("run", plain, "--oracle", "first", "--cache-dir", Path.Combine(dir, "d"), "--cache-url", url, "-q");
            Assert.True(again.Code == 0, again.Err);
            Assert.Contains("the table lmn_cache has schema version 99, this lmn reads version 1", again.Err);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ADatabaseThatIsDownIsAWarningAndABadUrlAUsageError()
    {
        string dir = ScalingUtil.TempDir();
        try
        {
            string plain = Path.Combine(dir, "plain.lmn");
            File.WriteAllText(plain, "∿lov[joy, pai, hop]\n");
            var r = TestUtil.Cli("run", plain, "--oracle", "first", "--cache-dir", Path.Combine(dir, "c"), "--cache-url", "postgres://lmn:s3cret-pw@127.0.0.1:1/postgres", "-q");
            Assert.True(r.Code == 0, r.Err);
            Assert.Equal("joy", r.Out.Trim());
            Assert.Contains("lmn: warning: shared cache postgres://lmn@127.0.0.1:1/postgres: ", r.Err);
            Assert.DoesNotContain("s3cret-pw", r.Err);
            var bad = TestUtil.Cli("run", plain, "--oracle", "first", "--cache-url", "mysql://x@y/z");
            Assert.Equal(2, bad.Code);
            Assert.Contains("--cache-url: expected postgres://USER:PASSWORD@HOST:PORT/DATABASE", bad.Err);
            var stats = TestUtil.Cli("cache", "stats", "--cache-url", "postgres://lmn:s3cret-pw@127.0.0.1:1/postgres");
            Assert.Equal(1, stats.Code);
            Assert.DoesNotContain("s3cret-pw", stats.Err + stats.Out);
        }
        finally { Directory.Delete(dir, true); }
    }
}
