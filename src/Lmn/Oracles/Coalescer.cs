using System.Threading.Channels;

namespace Lmn.Oracles;

/// <summary>
/// Gathers the questions of many concurrent runs (a batch run: one supervisor per input) into shared
/// oracle calls: requests wait in one queue and leave it in batches of at most <see cref="MaxBatch"/>,
/// as soon as a batch is full or <see cref="Linger"/> after its first request arrived. Each batch is
/// one call of the inner oracle; calls overlap (the inner oracle, e.g. an endpoint pool, bounds them).
/// A question already pending or in flight for another run (the same cache key) is not sent again: the
/// second run waits for the first one's answer. Ids are renamed on the way in (every run numbers its
/// questions from amb#1) and back on the way out.
/// </summary>
public sealed class CoalescingOracle : IOracle
{
    private sealed record Item(OracleRequest Request, string Key, TaskCompletionSource<OracleResult> Done);

    private readonly IOracle _inner;
    private readonly Channel<Item> _queue = Channel.CreateUnbounded<Item>(new UnboundedChannelOptions { SingleReader = false });
    private readonly Dictionary<string, TaskCompletionSource<OracleResult>> _inflight = new(StringComparer.Ordinal);
    private readonly object _lock = new();
    private long _nextId;
    private int _calls, _questions, _shared;

    /// <param name="capacity">Calls the inner oracle can make at once (an endpoint pool: the sum of its
    /// endpoints' concurrency); null for no limit. While every call is in flight a partial batch keeps
    /// filling instead of queueing behind them half empty.</param>
    public CoalescingOracle(IOracle inner, int maxBatch = 50, TimeSpan? linger = null, int? capacity = null)
    {
        _inner = inner;
        MaxBatch = Math.Max(1, maxBatch);
        Linger = linger ?? TimeSpan.FromMilliseconds(5);
        _limited = capacity is > 0;
        _free = capacity ?? 0;
        _ = Task.Run(LoopAsync);
    }

    // Call slots (capacity given): free ones in _free; a batch that found none waits in _ready, and
    // the call that ends first sends it from its own thread before it completes its own questions
    // (a wake-up of this loop through the thread pool cost a few ms per call on a busy machine, time
    // the endpoint spent idle).
    private readonly bool _limited;
    private readonly object _gate = new();
    private int _free;
    private List<Item>? _ready;
    private TaskCompletionSource? _readyTaken;

    public IOracle Inner => _inner;
    public int MaxBatch { get; }
    public TimeSpan Linger { get; }
    public string Identity => _inner.Identity;
    /// <summary>Calls made to the inner oracle.</summary>
    public int Calls => Volatile.Read(ref _calls);
    /// <summary>Questions sent to the inner oracle.</summary>
    public int Questions => Volatile.Read(ref _questions);
    /// <summary>Questions answered by another run's pending or in-flight question.</summary>
    public int Shared => Volatile.Read(ref _shared);

    public Task<IReadOnlyList<OracleResult>> AskAsync(IReadOnlyList<OracleRequest> batch, CancellationToken cancellationToken) =>
        AskAsync(batch, null, cancellationToken);

    /// <summary>
    /// As <see cref="AskAsync(IReadOnlyList{OracleRequest}, CancellationToken)"/>, with each request's key
    /// given (a pipeline's key of it, text or hash, or that key marked as a retry's: equal keys, equal
    /// questions) instead of made here.
    /// </summary>
    public async Task<IReadOnlyList<OracleResult>> AskAsync(IReadOnlyList<OracleRequest> batch, IReadOnlyList<string>? keys, CancellationToken cancellationToken)
    {
        if (keys != null && keys.Count != batch.Count)
            throw new ArgumentException($"{keys.Count} keys for {batch.Count} requests", nameof(keys));
        var waits = new Task<OracleResult>[batch.Count];
        for (int i = 0; i < batch.Count; i++)
        {
            var r = batch[i];
            // The identity in the key as in a pipeline's text key (a given hash or retry key never equals a
            // made text key: the text holds separators a hash does not, and a retry's ends with its mark).
            string key = keys?[i] ?? CacheKey.Text(r, _inner.Identity);
            TaskCompletionSource<OracleResult>? tcs;
            bool fresh = false;
            lock (_lock)
            {
                if (!_inflight.TryGetValue(key, out tcs))
                {
                    tcs = new TaskCompletionSource<OracleResult>(TaskCreationOptions.RunContinuationsAsynchronously);
                    _inflight[key] = tcs;
                    fresh = true;
                }
            }
            if (fresh)
            {
                var renamed = r with { AmbNodeId = "q" + Interlocked.Increment(ref _nextId), OtherAmbNodes = [] };
                _queue.Writer.TryWrite(new Item(renamed, key, tcs));
            }
            else Interlocked.Increment(ref _shared);
            waits[i] = tcs.Task;
        }
        var results = new OracleResult[batch.Count];
        for (int i = 0; i < batch.Count; i++)
        {
            var res = await waits[i].WaitAsync(cancellationToken).ConfigureAwait(false);
            results[i] = res switch
            {
                OracleResponse ok => ok with { AmbNodeId = batch[i].AmbNodeId },
                OracleError err => err with { AmbNodeId = batch[i].AmbNodeId },
                _ => res,
            };
        }
        return results;
    }

    private async Task LoopAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var items = new List<Item>(MaxBatch);
            var deadline = DateTime.UtcNow + Linger;
            while (items.Count < MaxBatch)
            {
                if (reader.TryRead(out var item))
                {
                    items.Add(item);
                    continue;
                }
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero) break;
                using var cts = new CancellationTokenSource(left);
                try
                {
                    if (!await reader.WaitToReadAsync(cts.Token).ConfigureAwait(false)) break;
                }
                catch (OperationCanceledException) { break; }
            }
            if (items.Count == 0) continue;
            if (_limited)
            {
                TaskCompletionSource? taken = null;
                lock (_gate)
                {
                    if (_free > 0) _free--;
                    else
                    {
                        _ready = items;
                        _readyTaken = taken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    }
                }
                if (taken != null)
                {
                    // Every call in flight: the first one to end tops this batch up with what arrived
                    // meanwhile and sends it (so that it leaves full); this loop reads no more until then.
                    await taken.Task.ConfigureAwait(false);
                    continue;
                }
            }
            // Off this loop's thread: a call runs synchronously up to its first await (on the first calls of a
            // process that is the JIT of the whole client stack, hundreds of ms), and the next batch waits here.
            _ = Task.Run(() => SendAsync(items));
        }
    }

    /// <summary>A call ended: its slot goes to the waiting batch, if any (sent from here, at once), or back to the free ones.</summary>
    private void HandOver()
    {
        List<Item>? next;
        TaskCompletionSource? taken;
        lock (_gate)
        {
            next = _ready;
            taken = _readyTaken;
            _ready = null;
            _readyTaken = null;
            if (next == null) _free++;
        }
        if (next == null) return;
        // The loop waits on `taken`: nothing else reads the queue until it is set.
        var reader = _queue.Reader;
        while (next.Count < MaxBatch && reader.TryRead(out var more)) next.Add(more);
        _ = SendAsync(next);
        taken!.TrySetResult();
    }

    private async Task SendAsync(List<Item> items)
    {
        Interlocked.Increment(ref _calls);
        Interlocked.Add(ref _questions, items.Count);
        IReadOnlyList<OracleResult> results;
        try
        {
            results = await _inner.AskAsync(items.Select(i => i.Request).ToList(), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            results = items.Select(i => (OracleResult)new OracleError(i.Request.AmbNodeId, "unavailable", e.Message)).ToList();
        }
        finally
        {
            if (_limited) HandOver();
        }
        var byId = new Dictionary<string, OracleResult>(StringComparer.Ordinal);
        foreach (var r in results) byId.TryAdd(r.AmbNodeId, r);
        foreach (var item in items)
        {
            lock (_lock) _inflight.Remove(item.Key);
            item.Done.TrySetResult(byId.TryGetValue(item.Request.AmbNodeId, out var res) ? res
                : new OracleError(item.Request.AmbNodeId, "invalid", "the oracle gave no answer for it"));
        }
    }
}
