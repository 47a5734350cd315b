using System.Collections.Concurrent;

namespace Lmn.Net;

/// <summary>
/// Single-threaded engines kept between runs (a batch run makes one net per input): a returned engine is
/// <see cref="EngineCore{TSync}.Reset"/> and handed out again for the same book, memory limit and mode,
/// so its arrays are not allocated, mapped and faulted in again for every input. A run on a reused
/// engine equals a run on a new one (same value, same interaction count). An engine that touched more
/// than <see cref="MaxKeptBytes"/> is freed instead of kept, so one large input does not pin its memory
/// for the rest of the run; at most <see cref="Capacity"/> engines are kept.
/// </summary>
public sealed class EnginePool(int capacity) : IDisposable
{
    private readonly record struct Key(Book Book, long MaxMemory, EngineMode Mode);

    // A stack per key: the engine returned last (its pages warm) goes out first. (A ConcurrentBag took a lock
    // on most returns: engines come back on other threads than the ones that took them.)
    private readonly ConcurrentDictionary<Key, ConcurrentStack<Engine>> _free = new();
    private int _kept, _created, _reused;
    private volatile bool _disposed;

    /// <summary>Engines that touched more memory than this (nodes, variables, redex bags) are not kept.</summary>
    public const long MaxKeptBytes = 1L << 20;

    /// <summary>The most engines kept at once.</summary>
    public int Capacity { get; } = Math.Max(0, capacity);

    /// <summary>Engines made because none was free.</summary>
    public int Created => Volatile.Read(ref _created);

    /// <summary>Runs that got a reset engine.</summary>
    public int Reused => Volatile.Read(ref _reused);

    /// <summary>An empty engine of the book: a kept one, reset, or a new one.</summary>
    public Engine Rent(Book book, long maxMemory, EngineMode mode)
    {
        if (_free.TryGetValue(new Key(book, maxMemory, mode), out var bag) && bag.TryPop(out var e))
        {
            Interlocked.Decrement(ref _kept);
            Interlocked.Increment(ref _reused);
            return e;
        }
        Interlocked.Increment(ref _created);
        return new Engine(book, maxMemory, mode);
    }

    /// <summary>Takes an engine back after its run (reset now, so that nothing of the run outlives it); frees it when the pool is full.</summary>
    public void Return(Engine e)
    {
        if (_disposed || e.PeakBytes > MaxKeptBytes)
        {
            e.Dispose();
            return;
        }
        if (Interlocked.Increment(ref _kept) > Capacity)
        {
            Interlocked.Decrement(ref _kept);
            e.Dispose();
            return;
        }
        e.Reset();
        _free.GetOrAdd(new Key(e.Book, e.MaxMemory, e.Mode), _ => new ConcurrentStack<Engine>()).Push(e);
        // Lost a race with Dispose: the engine may have been added after the bags were emptied.
        if (_disposed) DisposeKept();
    }

    public void Dispose()
    {
        _disposed = true;
        DisposeKept();
    }

    private void DisposeKept()
    {
        foreach (var bag in _free.Values)
            while (bag.TryPop(out var e))
            {
                Interlocked.Decrement(ref _kept);
                e.Dispose();
            }
    }
}
