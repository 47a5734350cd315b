using System.Diagnostics;

namespace Lmn.Tests.Postgres;

/// <summary>
/// A throwaway PostgreSQL cluster for the tests of the shared cache: scripts/postgres.sh installs
/// Debian's postgresql if it is missing, creates the cluster in a temporary directory and starts it on a
/// free port of 127.0.0.1; Dispose stops it and removes the directory.
/// </summary>
public sealed class PostgresFixture : IDisposable
{
    public string Dir { get; }
    public string Url { get; }
    public string Password { get; }

    public PostgresFixture()
    {
        var (code, output, err) = Script("start");
        if (code != 0) throw new InvalidOperationException("scripts/postgres.sh start failed: " + err);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Dir = lines[0].Trim();
        Url = lines[1].Trim();
        Password = new Uri(Url).UserInfo.Split(':')[1];
    }

    /// <summary>The URL of another database of the same server (created on first use).</summary>
    public string Database(string name)
    {
        using var conn = new Npgsql.NpgsqlConnection(Lmn.Postgres.PostgresCache.ConnectionString(Url));
        conn.Open();
        using (var check = new Npgsql.NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @n", conn))
        {
            check.Parameters.AddWithValue("n", name);
            if (check.ExecuteScalar() == null)
                using (var create = new Npgsql.NpgsqlCommand($"CREATE DATABASE \"{name}\"", conn)) create.ExecuteNonQuery();
        }
        return Url[..Url.LastIndexOf('/')] + "/" + name;
    }

    /// <summary>Stops the server in place (its data stays); <see cref="Resume"/> starts it again on the same port.</summary>
    public void Pause() => Check(Script("pause", Dir), "pause");
    public void Resume()
    {
        Check(Script("resume", Dir), "resume");
        // The connections pooled before the pause were ended by the server ("terminating connection due to
        // administrator command"): the next test must not be handed one.
        Npgsql.NpgsqlConnection.ClearAllPools();
    }

    private static void Check((int Code, string Out, string Err) r, string what)
    {
        if (r.Code != 0) throw new InvalidOperationException($"scripts/postgres.sh {what} failed: {r.Err}");
    }

    public static (int Code, string Out, string Err) Script(params string[] args)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(TestUtil.RepoRoot, "scripts", "postgres.sh"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(600_000)) { p.Kill(true); throw new TimeoutException("scripts/postgres.sh " + string.Join(' ', args)); }
        return (p.ExitCode, output, err.Result);
    }

    public void Dispose() => Script("stop", Dir);
}
