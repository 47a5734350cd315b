using Lmn.Oracles;

namespace Lmn.Cli;

/// <summary>`lmn cache stats|clear|purge --binding NAME [--dir DIR]`: the oracle answer cache (default `.lmn/cache`).</summary>
public static class CacheCommand
{
    public const string DefaultDirectory = ".lmn/cache";

    public static int Execute(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0) throw new Commands.UsageException("cache: expected stats, clear or purge --binding NAME");
        string dir = DefaultDirectory;
        string? binding = null;
        for (int i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--dir": dir = Commands.Next(args, ref i, "--dir"); break;
                case "--binding": binding = Commands.Next(args, ref i, "--binding"); break;
                default: throw new Commands.UsageException($"cache: unknown option '{args[i]}'");
            }
        }
        var cache = new OracleCache(dir);
        try
        {
            return Act(args[0], cache, dir, binding, stdout);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"lmn: cache {args[0]} --dir {dir}: {e.Message}");
            return 1;
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
