using Lmn.Oracles;

namespace Lmn.Cli;

/// <summary>`lmn cache stats|clear|purge --binding NAME [--dir DIR]`: the oracle answer cache (default `.lmn/cache`).</summary>
public static class CacheCommand
{
    public const string DefaultDirectory = ".lmn/cache";

    public static int Execute(string? action, string dir, string? binding, string? url, TextWriter stdout, TextWriter stderr)
    {
        if (action == null) throw new Commands.UsageException("cache: expected stats, clear or purge --binding NAME");
        url ??= Environment.GetEnvironmentVariable("LMN_CACHE_URL");
        if (!string.IsNullOrWhiteSpace(url)) return Shared(action, url, binding, stdout, stderr);
        var cache = new OracleCache(dir);
        try
        {
            return Act(action, cache, dir, binding, stdout);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"lmn: cache {action} --dir {dir}: {e.Message}");
            return 1;
        }
    }

    /// <summary>The same actions on the shared PostgreSQL tier (--cache-url or LMN_CACHE_URL).</summary>
    private static int Shared(string action, string url, string? binding, TextWriter stdout, TextWriter stderr)
    {
        if (action is not ("stats" or "clear" or "purge")) throw new Commands.UsageException($"cache: unknown action '{action}', expected stats, clear or purge");
        if (action == "purge" && binding == null) throw new Commands.UsageException("cache purge: expected --binding NAME (an anchor such as now)");
        Lmn.Postgres.PostgresCache db;
        try { db = Lmn.Postgres.PostgresCache.Open(url); }
        catch (Lmn.Postgres.PostgresCacheException e) { throw new Commands.UsageException(e.Message); }
        using (db)
        {
            try
            {
                switch (action)
                {
                    case "stats":
                    {
                        var (n, bytes) = db.Stats();
                        stdout.WriteLine($"shared: {db.Name}");
                        stdout.WriteLine($"schema_version: {Lmn.Postgres.PostgresCache.SchemaVersion}");
                        stdout.WriteLine($"entries: {n}");
                        stdout.WriteLine($"bytes: {bytes}");
                        return 0;
                    }
                    case "clear":
                        stdout.WriteLine($"removed: {db.Clear()}");
                        return 0;
                    default:
                        stdout.WriteLine($"removed: {db.PurgeBinding(binding!)}");
                        return 0;
                }
            }
            catch (Lmn.Postgres.PostgresCacheException e)
            {
                stderr.WriteLine($"lmn: cache {action}: {e.Message}");
                return 1;
            }
        }
    }

    private static int Act(string action, OracleCache cache, string dir, string? binding, TextWriter stdout)
    {
        switch (action)
        {
            case "stats":
            {
                var (n, bytes) = cache.Stats();
                stdout.WriteLine($"directory: {dir}");
                stdout.WriteLine($"entries: {n}");
                stdout.WriteLine($"bytes: {bytes}");
                return 0;
            }
            case "clear":
                stdout.WriteLine($"removed: {cache.Clear()}");
                return 0;
            case "purge":
                if (binding == null) throw new Commands.UsageException("cache purge: expected --binding NAME (an anchor such as now)");
                stdout.WriteLine($"removed: {cache.PurgeBinding(binding)}");
                return 0;
            default:
                throw new Commands.UsageException($"cache: unknown action '{action}', expected stats, clear or purge");
        }
    }
}
