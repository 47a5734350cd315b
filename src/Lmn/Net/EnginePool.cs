using System.Collections.Concurrent;

namespace Lmn.Net;

/// <summary>
/// Single-threaded engines kept between runs (a batch run makes one net per input): a returned engine is
/// <see cref="EngineCore{TSync}.Reset"/> and handed out again for the same book, memory limit and mode,
/// so its arrays are not allocated, mapped and faulted in again for every input. A run on a reused
/// engine equals a run on a new one (same value, same interaction count). An engine that touched more
/// than <see cref="MaxKeptBytes"/> is freed instead of kept, so one large input does not pin its memory
/// for the rest of the run; at most <see cref="Capacity"/> engines are kept: an engine of another kind
/// (a book no longer run) is freed to make room for a new one.
/// </summary>
public sealed class EnginePool(int capacity) : IDisposable
{
    private readonly record struct Key(Book Book, long MaxMemory, EngineMode Mode);

    // A lock-free stack per kind: the engine returned last (its pages warm) goes out first. (A lock or a
    // ConcurrentBag here was contended: engines come back on other threads than the ones that took them,
    // and on two busy cores a preempted lock holder keeps the others spinning.)
    private readonly ConcurrentDictionary<Key, ConcurrentStack<Engine>> _free = new();
    private int _kept, _created, _reused, _large;
    private volatile bool _disposed;

    /// <summary>Engines that touched more memory than this (nodes, variables, redex bags) are not kept.</summary>
    public const long MaxKeptBytes = 1L << 20;

    /// <summary>The most engines kept at once.</summary>
    public int Capacity { get; } = Math.Max(0, capacity);

    /// <summary>Engines made because none was free.</summary>
    public int Created => Volatile.Read(ref _created);

    /// <summary>Runs that got a reset engine.</summary>
    public int Reused => Volatile.Read(ref _reused);

    /// <summary>Engines freed on return because they had grown past <see cref="MaxKeptBytes"/>.</summary>
    public int Large => Volatile.Read(ref _large);

    /// <summary>An empty engine of the book: a kept one (reset when it was returned), or a new one.</summary>
    public Engine Rent(Book book, long maxMemory, EngineMode mode)
    {
        var key = new Key(book, maxMemory, mode);
        if (_free.TryGetValue(key, out var stack) && stack.TryPop(out var e))
        {
            Interlocked.Decrement(ref _kept);
            Interlocked.Increment(ref _reused);
            return e;
        }
        Interlocked.Increment(ref _created);
        // A new kind while the pool is full: free an engine of another kind, so that kinds no longer run do not keep the room.
        if (Volatile.Read(ref _kept) >= Capacity)
            foreach (var (k, other) in _free)
                if (k != key && other.TryPop(out var old))
                {
                    Interlocked.Decrement(ref _kept);
                    old.Dispose();
                    break;
                }
        return new Engine(book, maxMemory, mode);
    }

    /// <summary>Takes an engine back after its run (reset now, so that nothing of the run outlives it); frees it when the pool is full or it grew large.</summary>
    public void Return(Engine e)
    {
        if (_disposed || e.PeakBytes > MaxKeptBytes)
        {
            if (!_disposed) Interlocked.Increment(ref _large);
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
        // Lost a race with Dispose: the engine may have been pushed after the stacks were emptied.
        if (_disposed) DisposeKept();
    }

    public void Dispose()
    {
        _disposed = true;
        DisposeKept();
    }

    private void DisposeKept()
    {
        foreach (var stack in _free.Values)
            while (stack.TryPop(out var e))
            {
                Interlocked.Decrement(ref _kept);
                e.Dispose();
            }
    }
}
