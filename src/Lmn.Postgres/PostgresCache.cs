using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Lmn.Oracles;
using Npgsql;

namespace Lmn.Postgres;

/// <summary>A bad --cache-url: a usage error whose message never holds the password.</summary>
public sealed class PostgresCacheException(string message) : Exception(message);

/// <summary>
/// The shared answer cache in PostgreSQL (docs/scaling.md). Table `lmn_cache(key, entry, anchors,
/// created)` holds the file cache's entries under the same keys; `lmn_cache_meta` records the schema
/// version; both are created on first use. Claims are session advisory locks
/// (`pg_try_advisory_lock` on the first 64 bits of the key) held on this process's connection, so a
/// claim ends when it is released or when the process dies and its connection closes. All traffic goes
/// through one connection and one loop that sends whatever is queued together (one statement each for
/// the stores, releases, claims and look-ups of the moment), so thousands of concurrent inputs cost a
/// few round trips. A server failure turns the tier off with a warning (look-ups find nothing, claims are
/// granted here); a circuit breaker tries the server again every <see cref="RetryAfter"/> (a connection
/// and the schema check, off the operations' path) and turns the tier back on when it answers.
/// </summary>
public sealed class PostgresCache : ISharedCacheTier
{
    public const int SchemaVersion = 1;

    private abstract record Op;
    private sealed record GetOp(IReadOnlyCollection<string> Keys, TaskCompletionSource<IReadOnlyDictionary<string, string>> Done) : Op;
    private sealed record PutOp(string Key, string Entry, string Anchors) : Op;
    private sealed record ClaimOp(IReadOnlyCollection<string> Keys, TaskCompletionSource<IReadOnlySet<string>> Done) : Op;
    private sealed record ReleaseOp(IReadOnlyCollection<string> Keys) : Op;
    private sealed record FlushOp(TaskCompletionSource Done) : Op;

    private readonly string _connectionString;
    private readonly string? _password;
    private readonly object _lock = new();
    private List<Op> _queue = [];
    private readonly SemaphoreSlim _signal = new(0);
    private NpgsqlConnection? _conn;
    private volatile string? _warning;   // the first failure: the run's warning, kept after a recovery
    private bool _down;                  // under _lock: operations fall back until a probe reaches the server
    private DateTime _retryAt;           // under _lock: when the next probe may start
    private bool _probing;               // under _lock: a probe is under way
    private int _outages, _recoveries;
    private bool _disposed;
    private Task? _loop;
    private long _lookups, _hits, _stores, _claims, _claimsRefused, _roundTrips;

    private PostgresCache(string connectionString, string name, string? password)
    {
        _connectionString = connectionString;
        Name = name;
        _password = password;
    }

    public string Name { get; }
    public string? Warning
    {
        get
        {
            string? w = _warning;
            if (w == null) return null;
            int back = Volatile.Read(ref _recoveries), down = Volatile.Read(ref _outages);
            return back == 0 ? w : $"{w} (down {Times(down)}, back {Times(back)}; answers made while it was down are only in the local cache)";
        }
    }

    private static string Times(int n) => n == 1 ? "once" : n == 2 ? "twice" : $"{n} times";

    public TimeSpan ClaimWait { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>How long the tier stays off after a failure before the server is tried again (URL parameter retry_after=SECONDS).</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Parses postgres://user:password@host:port/database?sslmode=... (or postgresql://). Nothing is
    /// connected yet: the first use connects and creates the tables.
    /// </summary>
    public static PostgresCache Open(string url, TimeSpan? claimWait = null)
    {
        var (cs, name, password, retry) = Parse(url);
        return new PostgresCache(cs, name, password) { ClaimWait = claimWait ?? TimeSpan.FromSeconds(120), RetryAfter = retry };
    }

    /// <summary>The Npgsql connection string of a postgres:// URL (tools and tests).</summary>
    public static string ConnectionString(string url) => Parse(url).ConnectionString;

    private static (string ConnectionString, string Name, string? Password, TimeSpan RetryAfter) Parse(string url)
    {
        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var u) || u.Scheme is not ("postgres" or "postgresql") || u.Host.Length == 0)
            throw new PostgresCacheException("--cache-url: expected postgres://USER:PASSWORD@HOST:PORT/DATABASE (the password may also come from PGPASSWORD or ~/.pgpass)");
        var b = new NpgsqlConnectionStringBuilder
        {
            Host = u.Host,
            Port = u.Port > 0 ? u.Port : 5432,
            Database = u.AbsolutePath.Trim('/') is { Length: > 0 } db ? Uri.UnescapeDataString(db) : "postgres",
            Timeout = 5,
            CommandTimeout = 30,
            ApplicationName = "lmn",
            Pooling = true,
        };
        string? user = null, password = null;
        var retry = TimeSpan.FromSeconds(3);
        if (u.UserInfo.Length > 0)
        {
            int colon = u.UserInfo.IndexOf(':');
            user = Uri.UnescapeDataString(colon < 0 ? u.UserInfo : u.UserInfo[..colon]);
            if (colon >= 0) password = Uri.UnescapeDataString(u.UserInfo[(colon + 1)..]);
        }
        if (user != null) b.Username = user;
        if (password != null) b.Password = password;
        foreach (var part in u.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=');
            string k = Uri.UnescapeDataString(eq < 0 ? part : part[..eq]).ToLowerInvariant(), v = eq < 0 ? "" : Uri.UnescapeDataString(part[(eq + 1)..]);
            switch (k)
            {
                case "sslmode":
                    if (!Enum.TryParse<SslMode>(v.Replace("-", ""), ignoreCase: true, out var mode))
                        throw new PostgresCacheException($"--cache-url: sslmode={v}: expected disable, allow, prefer, require, verify-ca or verify-full");
                    b.SslMode = mode;
                    break;
                case "connect_timeout":
                    if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int t) || t < 1)
                        throw new PostgresCacheException($"--cache-url: connect_timeout={v}: expected a number of seconds");
                    b.Timeout = t;
                    break;
                case "retry_after":
                    if (!double.TryParse(v, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double r) || r <= 0 || r > 86_400)
                        throw new PostgresCacheException($"--cache-url: retry_after={v}: expected a number of seconds");
                    retry = TimeSpan.FromSeconds(r);
                    break;
                default:
                    throw new PostgresCacheException($"--cache-url: unknown parameter '{k}' (sslmode, connect_timeout and retry_after are known)");
            }
        }
        string name = $"postgres://{(user != null ? Uri.EscapeDataString(user) + "@" : "")}{b.Host}:{b.Port}/{b.Database}";
        return (b.ConnectionString, name, password, retry);
    }

    /// <summary>The advisory lock of a key: its first 64 bits (keys are SHA-256 hex); any other text is hashed first.</summary>
    public static long LockOf(string key)
    {
        if (key.Length >= 16 && long.TryParse(key.AsSpan(0, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long v)) return v;
        return BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes(key)), 0);
    }

    private string Redact(string message) =>
        string.IsNullOrEmpty(_password) ? message : message.Replace(_password, "***", StringComparison.Ordinal);

    private void Enqueue(Op op)
    {
        bool down, probe = false;
        lock (_lock)
        {
            down = _down || _disposed;
            if (!down)
            {
                _queue.Add(op);
                _loop ??= Task.Run(LoopAsync);
            }
            else if (!_disposed && !_probing && DateTime.UtcNow >= _retryAt)
            {
                _probing = true;
                probe = true;
            }
        }
        if (down) Fallback(op);
        else _signal.Release();
        if (probe) _ = Task.Run(ProbeAsync);
    }

    /// <summary>
    /// The breaker's half-open step: one connection and the schema check, while operations keep falling
    /// back (a server that does not answer would otherwise hold them for the connect timeout). On success
    /// the tier is on again: the loop's next batch opens its connection. Claims held on the lost
    /// connection ended with it; releasing them later is a no-op on the server.
    /// </summary>
    private async Task ProbeAsync()
    {
        bool up = false;
        try
        {
            await using var conn = new NpgsqlConnection(_connectionString);
            await conn.OpenAsync().ConfigureAwait(false);
            await EnsureSchemaAsync(conn).ConfigureAwait(false);
            up = true;
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException or IOException or InvalidOperationException or PostgresCacheException)
        {
        }
        lock (_lock)
        {
            _probing = false;
            if (up && _down && !_disposed)
            {
                _down = false;
                _recoveries++;
            }
            else if (!up) _retryAt = DateTime.UtcNow + RetryAfter;
        }
    }

    /// <summary>What an operation gets when the server cannot be used: nothing found, everything claimed here.</summary>
    private static void Fallback(Op op)
    {
        switch (op)
        {
            case GetOp g: g.Done.TrySetResult(new Dictionary<string, string>()); break;
            case ClaimOp c: c.Done.TrySetResult(new HashSet<string>(c.Keys, StringComparer.Ordinal)); break;
            case FlushOp f: f.Done.TrySetResult(); break;
        }
    }

    public Task<IReadOnlyDictionary<string, string>> GetAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        var tcs = new TaskCompletionSource<IReadOnlyDictionary<string, string>>(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(new GetOp(keys, tcs));
        return tcs.Task.WaitAsync(cancellationToken);
    }

    public void Put(string key, string entry, IReadOnlyCollection<string> anchors) =>
        Enqueue(new PutOp(key, entry, " " + string.Join(" ", anchors.Order(StringComparer.Ordinal)) + " "));

    public Task<IReadOnlySet<string>> ClaimAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        var tcs = new TaskCompletionSource<IReadOnlySet<string>>(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(new ClaimOp(keys, tcs));
        return tcs.Task.WaitAsync(cancellationToken);
    }

    public void Release(IReadOnlyCollection<string> keys) => Enqueue(new ReleaseOp(keys));

    public void Flush()
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(new FlushOp(tcs));
        tcs.Task.Wait(TimeSpan.FromSeconds(60));
    }

    private async Task LoopAsync()
    {
        while (true)
        {
            await _signal.WaitAsync().ConfigureAwait(false);
            List<Op> ops;
            lock (_lock)
            {
                if (_queue.Count == 0)
                {
                    if (_disposed) return;
                    continue;
                }
                ops = _queue;
                _queue = [];
            }
            try
            {
                await RunAsync(ops).ConfigureAwait(false);
            }
            catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException or IOException or InvalidOperationException or PostgresCacheException)
            {
                Fail(e);
                foreach (var op in ops) Fallback(op);
            }
        }
    }

    private void Fail(Exception e)
    {
        string msg = e is PostgresCacheException ? e.Message : Redact(e.Message);
        List<Op> rest;
        lock (_lock)
        {
            _warning ??= msg;
            if (!_down) _outages++;
            _down = true;
            _retryAt = DateTime.UtcNow + RetryAfter;
            rest = _queue;
            _queue = [];
        }
        foreach (var op in rest) Fallback(op);
        // Connections pooled before the failure may be dead (a restarted server ended them): the next one is new.
        if (_conn != null) NpgsqlConnection.ClearPool(_conn);
        try { _conn?.Dispose(); }
        catch (Exception x) when (x is NpgsqlException or SocketException or IOException or InvalidOperationException) { }
        _conn = null;
    }

    private async Task<NpgsqlConnection> ConnectionAsync()
    {
        if (_conn != null) return _conn;
        var conn = new NpgsqlConnection(_connectionString);
        await conn.OpenAsync().ConfigureAwait(false);
        await EnsureSchemaAsync(conn).ConfigureAwait(false);
        _conn = conn;
        return conn;
    }

    /// <summary>Creates the tables on first use (under a transaction lock, so that racing processes do not collide) and checks the schema version.</summary>
    private static async Task EnsureSchemaAsync(NpgsqlConnection conn)
    {
        await using var tx = await conn.BeginTransactionAsync().ConfigureAwait(false);
        await using (var cmd = new NpgsqlCommand("""
            SELECT pg_advisory_xact_lock(7305085161748312116);
            CREATE TABLE IF NOT EXISTS lmn_cache_meta (name text PRIMARY KEY, value text NOT NULL);
            INSERT INTO lmn_cache_meta (name, value) VALUES ('schema_version', @v) ON CONFLICT (name) DO NOTHING;
            CREATE TABLE IF NOT EXISTS lmn_cache (
              key text PRIMARY KEY,
              entry text NOT NULL,
              anchors text NOT NULL DEFAULT ' ',
              created timestamptz NOT NULL DEFAULT now());
            """, conn, tx))
        {
            cmd.Parameters.AddWithValue("v", SchemaVersion.ToString(CultureInfo.InvariantCulture));
            await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        await using (var check = new NpgsqlCommand("SELECT value FROM lmn_cache_meta WHERE name = 'schema_version'", conn, tx))
        {
            string? v = (string?)await check.ExecuteScalarAsync().ConfigureAwait(false);
            if (v != SchemaVersion.ToString(CultureInfo.InvariantCulture))
                throw new PostgresCacheException($"the table lmn_cache has schema version {v ?? "(none)"}, this lmn reads version {SchemaVersion}");
        }
        await tx.CommitAsync().ConfigureAwait(false);
    }

    private async Task RunAsync(List<Op> ops)
    {
        var conn = await ConnectionAsync().ConfigureAwait(false);
        // Stores first, then releases: an answer is in the table before its claim ends.
        var puts = new Dictionary<string, PutOp>(StringComparer.Ordinal);
        foreach (var p in ops.OfType<PutOp>()) puts[p.Key] = p;
        if (puts.Count > 0)
        {
            await using var cmd = new NpgsqlCommand("""
                INSERT INTO lmn_cache (key, entry, anchors) SELECT * FROM unnest(@k::text[], @e::text[], @a::text[])
                ON CONFLICT (key) DO UPDATE SET entry = excluded.entry, anchors = excluded.anchors
                """, conn);
            cmd.Parameters.AddWithValue("k", puts.Keys.ToArray());
            cmd.Parameters.AddWithValue("e", puts.Values.Select(p => p.Entry).ToArray());
            cmd.Parameters.AddWithValue("a", puts.Values.Select(p => p.Anchors).ToArray());
            await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
            _roundTrips++;
            Interlocked.Add(ref _stores, puts.Count);
        }
        var releases = ops.OfType<ReleaseOp>().SelectMany(r => r.Keys).Select(LockOf).ToArray();
        if (releases.Length > 0)
        {
            await using var cmd = new NpgsqlCommand("SELECT count(*) FROM unnest(@l::bigint[]) AS t(k) WHERE pg_advisory_unlock(k)", conn);
            cmd.Parameters.AddWithValue("l", releases);
            // An unlock of a lock not held is a server warning, not an error.
            await cmd.ExecuteScalarAsync().ConfigureAwait(false);
            _roundTrips++;
        }
        var claims = ops.OfType<ClaimOp>().ToList();
        if (claims.Count > 0)
        {
            var keys = claims.SelectMany(c => c.Keys).Distinct(StringComparer.Ordinal).ToList();
            var locks = keys.Select(LockOf).ToArray();
            var got = new HashSet<long>();
            await using (var cmd = new NpgsqlCommand("SELECT k FROM unnest(@l::bigint[]) AS t(k) WHERE pg_try_advisory_lock(k)", conn))
            {
                cmd.Parameters.AddWithValue("l", locks);
                await using var rd = await cmd.ExecuteReaderAsync().ConfigureAwait(false);
                while (await rd.ReadAsync().ConfigureAwait(false)) got.Add(rd.GetInt64(0));
            }
            _roundTrips++;
            foreach (var c in claims)
            {
                var owned = new HashSet<string>(c.Keys.Where(k => got.Contains(LockOf(k))), StringComparer.Ordinal);
                Interlocked.Add(ref _claims, owned.Count);
                Interlocked.Add(ref _claimsRefused, c.Keys.Count - owned.Count);
                c.Done.TrySetResult(owned);
            }
        }
        var gets = ops.OfType<GetOp>().ToList();
        if (gets.Count > 0)
        {
            var keys = gets.SelectMany(g => g.Keys).Distinct(StringComparer.Ordinal).ToArray();
            var found = new Dictionary<string, string>(StringComparer.Ordinal);
            await using (var cmd = new NpgsqlCommand("SELECT key, entry FROM lmn_cache WHERE key = ANY(@k)", conn))
            {
                cmd.Parameters.AddWithValue("k", keys);
                await using var rd = await cmd.ExecuteReaderAsync().ConfigureAwait(false);
                while (await rd.ReadAsync().ConfigureAwait(false)) found[rd.GetString(0)] = rd.GetString(1);
            }
            _roundTrips++;
            foreach (var g in gets)
            {
                var mine = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var k in g.Keys) if (found.TryGetValue(k, out var e)) mine[k] = e;
                Interlocked.Add(ref _lookups, g.Keys.Count);
                Interlocked.Add(ref _hits, mine.Count);
                g.Done.TrySetResult(mine);
            }
        }
        foreach (var f in ops.OfType<FlushOp>()) f.Done.TrySetResult();
    }

    private T Admin<T>(Func<NpgsqlConnection, T> act)
    {
        try
        {
            using var conn = new NpgsqlConnection(_connectionString);
            conn.Open();
            EnsureSchemaAsync(conn).GetAwaiter().GetResult();
            return act(conn);
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException or IOException)
        {
            throw new PostgresCacheException($"{Name}: {Redact(e.Message)}");
        }
    }

    /// <summary>Entries and the bytes of their text (lmn cache stats).</summary>
    public (int Entries, long Bytes) Stats() => Admin(conn =>
    {
        using var cmd = new NpgsqlCommand("SELECT count(*), coalesce(sum(octet_length(entry)), 0) FROM lmn_cache", conn);
        using var rd = cmd.ExecuteReader();
        rd.Read();
        return ((int)rd.GetInt64(0), Convert.ToInt64(rd.GetValue(1), CultureInfo.InvariantCulture));
    });

    public int Clear() => Admin(conn =>
    {
        using var cmd = new NpgsqlCommand("DELETE FROM lmn_cache", conn);
        return cmd.ExecuteNonQuery();
    });

    public int PurgeBinding(string anchor) => Admin(conn =>
    {
        string a = anchor.StartsWith('@') ? anchor : "@" + anchor;
        using var cmd = new NpgsqlCommand("DELETE FROM lmn_cache WHERE strpos(anchors, @a) > 0", conn);
        cmd.Parameters.AddWithValue("a", " " + a + " ");
        return cmd.ExecuteNonQuery();
    });

    public IEnumerable<string> StatsLines()
    {
        yield return $"shared_cache: {Name}";
        yield return $"shared_lookups: {Interlocked.Read(ref _lookups)}";
        yield return $"shared_hits: {Interlocked.Read(ref _hits)}";
        yield return $"shared_stores: {Interlocked.Read(ref _stores)}";
        yield return $"shared_claims: {Interlocked.Read(ref _claims)}";
        yield return $"shared_claims_waited: {Interlocked.Read(ref _claimsRefused)}";
        yield return $"shared_round_trips: {_roundTrips}";
        bool down;
        int outages, recoveries;
        lock (_lock) (down, outages, recoveries) = (_down, _outages, _recoveries);
        yield return $"shared_outages: {outages}";
        yield return $"shared_recoveries: {recoveries}";
        yield return $"shared_status: {(down ? "down" : "ok")}";
    }

    public void Dispose()
    {
        Task? loop;
        lock (_lock)
        {
            if (_disposed) return;
            loop = _loop;
        }
        bool down;
        lock (_lock) down = _down;
        if (loop != null && !down) Flush();
        lock (_lock) _disposed = true;
        _signal.Release();
        loop?.Wait(TimeSpan.FromSeconds(10));
        try { _conn?.Dispose(); }
        catch (Exception e) when (e is NpgsqlException or SocketException or IOException or InvalidOperationException) { }
    }
}
