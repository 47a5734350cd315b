namespace Lmn.Net;

/// <summary>
/// Single-threaded engines kept between runs (a batch run makes one net per input): a returned engine is
/// <see cref="EngineCore{TSync}.Reset"/> and handed out again for the same book, memory limit and mode,
/// so its arrays are not allocated, mapped and faulted in again for every input. A run on a reused
/// engine equals a run on a new one (same value, same interaction count). An engine that touched more
/// than <see cref="MaxKeptBytes"/> is freed instead of kept, so one large input does not pin its memory
/// for the rest of the run; at most <see cref="Capacity"/> engines are kept, the least recently returned
/// freed first (engines of a book no longer run do not stay).
/// </summary>
public sealed class EnginePool(int capacity) : IDisposable
{
    // Most recently returned last. One lock, held for a few list operations: a batch run's engines are
    // all of one kind, so a rent finds its engine at the end.
    private readonly LinkedList<Engine> _free = new();
    private int _created, _reused, _large;
    private bool _disposed;

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
        lock (_free)
        {
            for (var n = _free.Last; n != null; n = n.Previous)
            {
                var e = n.Value;
                if (ReferenceEquals(e.Book, book) && e.MaxMemory == maxMemory && e.Mode == mode)
                {
                    _free.Remove(n);
                    _reused++;
                    return e;
                }
            }
            _created++;
        }
        return new Engine(book, maxMemory, mode);
    }

    /// <summary>Takes an engine back after its run (reset now, so that nothing of the run outlives it); frees it, or the least recently returned one, when the pool is full.</summary>
    public void Return(Engine e)
    {
        Engine? evicted = null;
        if (e.PeakBytes <= MaxKeptBytes && Capacity > 0)
        {
            e.Reset();
            lock (_free)
            {
                if (!_disposed)
                {
                    _free.AddLast(e);
                    e = null!;
                    if (_free.Count > Capacity)
                    {
                        evicted = _free.First!.Value;
                        _free.RemoveFirst();
                    }
                }
            }
        }
        else if (e.PeakBytes > MaxKeptBytes) Interlocked.Increment(ref _large);
        e?.Dispose();
        evicted?.Dispose();
    }

    public void Dispose()
    {
        List<Engine> all;
        lock (_free)
        {
            _disposed = true;
            all = [.. _free];
            _free.Clear();
        }
        foreach (var e in all) e.Dispose();
    }
}
